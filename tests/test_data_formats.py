"""channels_first and channels_last give the same numbers, up to a transpose.

For every registered layer and every input rank, on every backend, on the CPU:
the same (randomized) weights in both layouts, inference outputs compared.
TensorFlow's CPU kernels refuse some channels_first convolutions (keras issues
20414, 23650, 23031); Keras's TensorFlow backend routes those through XLA, so
no layer needs to transpose internally, and this test would fail if one did
refuse. All layers sit in one model per rank: JAX compiles once per model.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import randomize_weights, to_channels_first, to_channels_last
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
        np.testing.assert_allclose(
            to_channels_last(b), a, rtol=1e-5, atol=1e-5, err_msg=case.name
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
