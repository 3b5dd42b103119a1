"""The real-digits example runs end to end on this backend and learns.

A short run only (one seed, a few epochs): the full bar, ≥ 98.5% over 5 seeds,
is measured by `make digits` and reported on the docs page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import digits  # noqa: E402


def test_quick_run_writes_its_outputs_and_learns(tmp_path):
    digits.main(["--quick", "--verbose", "0", "--output", str(tmp_path)])
    backend = keras.backend.backend()
    results = json.loads((tmp_path / "results.json").read_text())
    (experiment,) = results["experiments"]
    assert experiment["backend"] == backend
    assert experiment["variant"] == "nin"
    for key in ("mean_accuracy", "std_accuracy", "params", "multiplies", "runs"):
        assert key in experiment
    (run,) = experiment["runs"]
    assert run["fit_seconds"] > 0
    # Chance is 10%; a NiN that learns nothing scores it exactly.
    assert run["test_accuracy"] >= 0.90
    assert experiment["params"] == 961_640
    assert (tmp_path / "results.md.txt").read_text().startswith("| Backend |")
    for plot in ("learning-curves", "confidence-maps"):
        assert (tmp_path / f"{plot}-{backend}-batch.png").stat().st_size > 10_000

    model = keras.saving.load_model(tmp_path / f"nin-digits-{backend}-batch.keras")
    _, x_test, _, y_test = digits.load_split(0)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=-1)
    # The reloaded model predicts as the trained one did.
    assert np.mean(predicted == y_test) == pytest.approx(run["test_accuracy"], abs=1e-6)


def test_the_ablation_builds_the_variants_it_names():
    linear = digits.build_ablation("linear-micro", "batch")
    no_pointwise = digits.build_ablation("no-1x1", "batch")
    full = digits.build_model("nin", "batch")
    # Removing the activations keeps every weight; removing the layers does not.
    assert linear.count_params() == full.count_params()
    pointwise = [
        layer for layer in linear.layers if isinstance(layer, digits.Pointwise)
    ]
    assert len(pointwise) == 6
    assert all(layer.activation is keras.activations.linear for layer in pointwise)
    assert not any(isinstance(layer, digits.Pointwise) for layer in no_pointwise.layers)
    assert no_pointwise.output_shape == (None, 10)
