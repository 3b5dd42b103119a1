"""The distribution: version, typed marker, and a wheel holding the package only."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import pytest

import keras_nin

ROOT = Path(__file__).resolve().parents[1]

backend_independent = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="backend-independent packaging check: runs once, in the TensorFlow run",
)


def test_version_matches_installed_metadata():
    assert keras_nin.__version__ == importlib.metadata.version("keras-nin")


def test_public_api():
    assert keras_nin.layers.__all__ == [
        "Block",
        "Bottleneck",
        "FireModule",
        "InceptionBlock",
        "InvertedResidual",
        "NiNBlock",
        "Pointwise",
        "SqueezeExcite",
    ]
    for name in keras_nin.layers.__all__[1:]:  # every layer but the base
        assert keras.saving.get_registered_object(f"keras_nin>{name}") is getattr(
            keras_nin.layers, name
        )
    assert keras_nin.models.__all__ == ["NiN"]


@backend_independent
def test_sdist_and_wheel_build_and_the_wheel_holds_only_the_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("keras_nin-*.whl")
    assert len(list(tmp_path.glob("keras_nin-*.tar.gz"))) == 1
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {name.split("/")[0] for name in names}
    assert top_levels == {"keras_nin", f"keras_nin-{keras_nin.__version__}.dist-info"}
    assert "keras_nin/py.typed" in names
    assert "keras_nin/layers/pointwise.py" in names
