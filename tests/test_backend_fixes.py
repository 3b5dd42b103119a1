"""The Keras/backend workarounds (`keras_nin.layers._backend_fixes`).

Each test hits the exact corner where Keras's own layer is wrong or fails,
and checks ours against NumPy.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_nin.layers._backend_fixes import (
    Conv2D,
    DepthwiseConv2D,
    LayerNormalization,
    add_channel_bias,
)


def test_channels_first_bias_where_the_last_size_equals_the_channels():
    """TensorFlow's `ops.add` would guess channels_last for (N, 5, 4, 5)."""
    outputs = np.zeros((2, 5, 4, 5), "float32")
    bias = np.arange(5, dtype="float32")
    y = keras.ops.convert_to_numpy(add_channel_bias(outputs, bias, "channels_first"))
    np.testing.assert_array_equal(y, np.broadcast_to(bias.reshape(1, 5, 1, 1), y.shape))


def test_conv_channels_first_bias_matches_numpy():
    x = np.random.default_rng(0).standard_normal((1, 4, 5, 5)).astype("float32")
    conv = Conv2D(5, 1, data_format="channels_first", bias_initializer="random_normal")
    y = keras.ops.convert_to_numpy(conv(x))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    expected = np.einsum("nchw,cf->nfhw", x, kernel[0, 0]) + bias.reshape(1, 5, 1, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rank", [3, 4])
def test_layer_norm_over_axis_1(rank):
    """Each position's channel vector normalized (Keras's PyTorch backend
    normalizes the trailing axis instead, or raises)."""
    shape = (2, 3) + (3,) * (rank - 2)
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    norm = LayerNormalization(axis=1, epsilon=1e-3)
    y = keras.ops.convert_to_numpy(norm(x))
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(
        y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_an_empty_batch_convolves_to_the_right_shape(data_format):
    """TensorFlow's `ops.conv` returns its input for a batch of 0."""
    shape = (0, 1, 1, 4) if data_format == "channels_last" else (0, 4, 1, 1)
    x = keras.ops.zeros(shape)
    conv = Conv2D(2, 1, data_format=data_format)
    depthwise = DepthwiseConv2D(
        3, strides=(2, 1), padding="same", data_format=data_format
    )
    assert tuple(conv(x).shape) == tuple(conv.compute_output_shape(shape))
    assert tuple(depthwise(x).shape) == tuple(depthwise.compute_output_shape(shape))


@pytest.mark.parametrize(
    "ours, theirs, arguments",
    [
        (Conv2D, keras.layers.Conv2D, {"filters": 6, "kernel_size": 1}),
        (Conv2D, keras.layers.Conv2D, {"filters": 6, "kernel_size": 3}),
        (
            Conv2D,
            keras.layers.Conv2D,
            {"filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"},
        ),
        (
            Conv2D,
            keras.layers.Conv2D,
            {"filters": 4, "kernel_size": (3, 2), "dilation_rate": 2},
        ),
        (DepthwiseConv2D, keras.layers.DepthwiseConv2D, {"kernel_size": 3}),
        (
            DepthwiseConv2D,
            keras.layers.DepthwiseConv2D,
            {"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2},
        ),
    ],
)
def test_channels_last_convolutions_train_as_keras_own(ours, theirs, arguments):
    """On PyTorch ours convolve a transposed view where Keras copies the input:
    the same outputs, and one SGD step leaves the same weights."""
    x = np.random.default_rng(2).standard_normal((3, 9, 8, 4)).astype("float32")
    models = []
    for layer_class in (ours, theirs):
        layer = layer_class(
            activation="relu", bias_initializer="random_normal", **arguments
        )
        model = keras.Sequential([keras.Input(x.shape[1:]), layer])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        models.append(model)
    models[0].set_weights(models[1].get_weights())
    target_shape = (len(x), *models[1].output_shape[1:])
    y = np.random.default_rng(3).standard_normal(target_shape).astype("float32")
    ours_out, theirs_out = (m.predict_on_batch(x) for m in models)
    np.testing.assert_allclose(ours_out, theirs_out, rtol=1e-5, atol=1e-5)
    for model in models:
        model.train_on_batch(x, y)
    for mine, keras_own in zip(
        models[0].get_weights(), models[1].get_weights(), strict=True
    ):
        np.testing.assert_allclose(mine, keras_own, rtol=1e-5, atol=1e-5)
