"""Saving: `.keras` files (safe mode), JSON configs, and loading on another backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
from layer_checks import BACKEND, randomize_weights
from public_layers import all_layers_input, all_layers_model, make_nin, nin_input

# Each run saves and the next backend in the cycle loads: tf→jax→torch→tf.
NEXT_BACKEND = {"tensorflow": "jax", "jax": "torch", "torch": "tensorflow"}


def predictions(model, x) -> list[np.ndarray]:
    outputs = model.predict(x, verbose=0)
    return outputs if isinstance(outputs, list) else [outputs]


def assert_same(a: list, b: list, tolerance: float = 1e-6) -> None:
    for left, right in zip(a, b, strict=True):
        np.testing.assert_allclose(left, right, rtol=tolerance, atol=tolerance)


def saved_models(tmp_path):
    """Every layer (weights randomized, norms with statistics) and NiN."""
    layers = all_layers_model()
    randomize_weights(layers)
    cases = [(layers, all_layers_input()), (make_nin(), nin_input())]
    for index, (model, x) in enumerate(cases):
        path = tmp_path / f"model_{index}.keras"
        model.save(path)
        yield model, x, path


def test_keras_file_round_trip_in_safe_mode(tmp_path):
    for model, x, path in saved_models(tmp_path):
        loaded = keras.saving.load_model(path, safe_mode=True)
        assert_same(predictions(loaded, x), predictions(model, x))


def test_json_round_trip():
    for model, x in [
        (all_layers_model(), all_layers_input()),
        (make_nin(), nin_input()),
    ]:
        text = model.to_json()
        json.loads(text)  # plain JSON: no pickled code
        clone = keras.models.model_from_json(text)
        assert clone.to_json() == text
        clone.set_weights(model.get_weights())
        assert_same(predictions(clone, x), predictions(model, x))


# Loads each (model, input, output) triple of file names given on the command line.
LOAD_ON_OTHER_BACKEND = """
import sys
import keras
import numpy as np
import keras_nin  # registers the layers, as a reader must before loading
for model_path, x_path, out_path in zip(*[iter(sys.argv[1:])] * 3):
    model = keras.saving.load_model(model_path, safe_mode=True)
    outputs = model.predict(np.load(x_path), verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    np.savez(out_path, *outputs)
"""


def test_file_saved_here_loads_on_the_next_backend(tmp_path):
    other = NEXT_BACKEND[BACKEND]
    arguments, expected = [], []
    for index, (model, x, path) in enumerate(saved_models(tmp_path)):
        np.save(tmp_path / f"x_{index}.npy", x)
        arguments += [str(path), str(tmp_path / f"x_{index}.npy")]
        arguments.append(str(tmp_path / f"y_{index}.npz"))
        expected.append(predictions(model, x))
    # One interpreter loads both files: importing a backend takes seconds.
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_ON_OTHER_BACKEND, *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for index, outputs in enumerate(expected):
        loaded = np.load(tmp_path / f"y_{index}.npz")
        got = [loaded[f"arr_{i}"] for i in range(len(loaded.files))]
        # Another backend's convolution kernels (oneDNN, XLA, PyTorch) sum the
        # 4,800 terms of a 5×5×192 window in another order, nine convolutions
        # deep in NiN: softmax outputs near 0.25 differed by up to 3.5e-5.
        assert_same(got, outputs, tolerance=1e-4)
