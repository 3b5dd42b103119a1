"""channels_first and channels_last give the same numbers, up to a transpose.

For every registered layer and every input rank, on every backend, on the CPU:
the same (randomized) weights in both layouts, inference outputs compared.
All layers sit in one model per rank: JAX compiles once per model.

TensorFlow's own CPU kernels refuse a channels_first `Conv1D`/`Conv2D` and a
depthwise convolution with unequal strides unless oneDNN serves them, which
TensorFlow turns on by default on some CPUs only (keras issues 20414, 23650,
23031); our convolutions work around both. The last test runs the
channels_first tests again with oneDNN off, so they fail without the
workarounds on every machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from layer_checks import (
    BACKEND,
    randomize_weights,
    to_channels_first,
    to_channels_last,
)
from public_layers import (
    LAYERS,
    NIN_CLASSES,
    NIN_INPUT,
    RANKS,
    all_layers_input,
    all_layers_model,
    make_nin,
    nin_input,
)

from keras_nin.models import NiN


@pytest.mark.parametrize("rank", RANKS)
def test_channels_first_equals_channels_last_for_every_layer(rank):
    x_last = all_layers_input(rank)
    last = all_layers_model(rank, "channels_last")
    randomize_weights(last)
    first = all_layers_model(rank, "channels_first")
    first.set_weights(last.get_weights())

    y_last = last.predict(x_last, verbose=0)
    y_first = first.predict(to_channels_first(x_last), verbose=0)
    for case, a, b, shape in zip(
        LAYERS, y_last, y_first, first.output_shape, strict=True
    ):
        assert b.shape[1:] == tuple(shape[1:]), case.name
        # The two layouts run different kernels that sum in different orders:
        # up to 1.3e-5 apart (PyTorch's 3-D convolutions on an AVX2 CPU).
        np.testing.assert_allclose(
            to_channels_last(b), a, rtol=1e-4, atol=1e-4, err_msg=case.name
        )


def test_nin_model_channels_first_equals_channels_last():
    x_last = nin_input()
    last = make_nin()
    keras.config.set_image_data_format("channels_first")
    try:
        first = NiN((NIN_INPUT[-1], *NIN_INPUT[:-1]), NIN_CLASSES, dropout=0.0)
    finally:
        keras.config.set_image_data_format("channels_last")
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(
        first.predict(to_channels_first(x_last), verbose=0),
        last.predict(x_last, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


KERAS_CONV2D_CHANNELS_FIRST = """
import numpy as np, keras
keras.layers.Conv2D(2, 3, data_format="channels_first")(np.ones((1, 3, 5, 5), "f"))
"""
# Every layer channels_first at every rank (graph mode, `predict`), and eager
# calls checked against plain Keras, depthwise strides of (2, 1) included.
ONEDNN_SENSITIVE_TESTS = [
    "test_data_formats.py::test_channels_first_equals_channels_last_for_every_layer",
    "test_data_formats.py::test_nin_model_channels_first_equals_channels_last",
    "test_nin_block.py::test_numerics_match_plain_keras_layers",
    "test_inverted_residual.py::test_numerics_match_plain_keras_layers",
]


@pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TensorFlow's own kernels: the TensorFlow run"
)
def test_channels_first_on_tensorflow_cpu_kernels_without_onednn():
    env = {
        **os.environ,
        "KERAS_BACKEND": "tensorflow",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    keras_conv = subprocess.run(
        [sys.executable, "-c", KERAS_CONV2D_CHANNELS_FIRST],
        env=env,
        capture_output=True,
        text=True,
    )
    # The limitation is real in such a process: Keras's own layer refuses.
    assert "only supports the NHWC tensor format" in keras_conv.stderr
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    ours = subprocess.run(
        [*pytest_command, *ONEDNN_SENSITIVE_TESTS],
        cwd=Path(__file__).parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ours.returncode == 0, ours.stdout[-4000:]
    assert " passed" in ours.stdout and "failed" not in ours.stdout
