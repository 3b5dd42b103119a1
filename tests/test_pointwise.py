"""Pointwise: numerics against NumPy, shapes, modes, serialization, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import (
    call_keras_layer,
    check_config_round_trip,
    check_mixed_precision,
    check_model_saving,
    check_output_shapes,
    check_training,
    random_input,
)

from keras_nin.layers import Pointwise

SPATIAL = {3: (7,), 4: (5, 6), 5: (3, 4, 5)}


def numpy_pointwise(x, kernel, bias, relu, data_format):
    """The oracle: a dense layer on the channel vector at every position."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    y = np.einsum("...c,cf->...f", x, kernel)
    if bias is not None:
        y = y + bias
    if relu:
        y = np.maximum(y, 0.0)
    if data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
    return y


def input_shape(rank, channels, data_format, batch=2):
    spatial = SPATIAL[rank]
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


@pytest.mark.parametrize("rank", [3, 4, 5])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    ("activation", "use_bias"), [("relu", True), (None, True), ("relu", False)]
)
def test_numerics_match_numpy_einsum(rank, data_format, activation, use_bias):
    x = random_input(input_shape(rank, 8, data_format))
    layer = Pointwise(
        5,
        activation=activation,
        use_bias=use_bias,
        bias_initializer="random_normal",
        data_format=data_format,
    )
    y = keras.ops.convert_to_numpy(layer(x))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    bias = keras.ops.convert_to_numpy(layer.bias) if use_bias else None
    assert kernel.shape == (8, 5)
    expected = numpy_pointwise(x, kernel, bias, activation == "relu", data_format)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    if activation is None:
        assert (y < 0).any(), "a linear layer must be able to output negatives"


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_equals_keras_conv2d_with_1x1_kernel(data_format):
    """Keras's own Conv2D with a 1×1 kernel is a second, independent oracle."""
    x = random_input(input_shape(4, 6, data_format))
    layer = Pointwise(4, data_format=data_format, bias_initializer="random_normal")
    y = keras.ops.convert_to_numpy(layer(x))
    conv = keras.layers.Conv2D(4, 1, activation="relu", data_format=data_format)
    conv.build(x.shape)
    kernel, bias = layer.get_weights()
    conv.set_weights([kernel.reshape(1, 1, 6, 4), bias])
    np.testing.assert_allclose(y, call_keras_layer(conv, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rank", [3, 4, 5])
def test_channels_first_bias_when_last_spatial_size_equals_filters(rank):
    """Regression: the bias must follow the channel axis, not the last axis.

    Keras's TensorFlow `ops.add` guesses a bias layout from the shapes, and a
    channels_first output whose last spatial size equals `filters` fooled it.
    """
    x = random_input((2, 3) + (4,) * (rank - 2))
    layer = Pointwise(
        4,
        activation=None,
        bias_initializer="random_normal",
        data_format="channels_first",
    )
    y = keras.ops.convert_to_numpy(layer(x))
    kernel, bias = layer.get_weights()
    expected = numpy_pointwise(x, kernel, bias, False, "channels_first")
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "channels", "expected"),
    [
        ({"mode": "preserve"}, 192, 192),
        ({"mode": "reduce", "ratio": 1 / 6}, 192, 32),
        ({"filters": 32}, 192, 32),
        ({"mode": "expand", "filters": 384}, 192, 384),
        ({"mode": "preserve", "filters": 192}, 192, 192),
        ({"mode": "reduce", "filters": 16}, 192, 16),
        ({"mode": "expand", "ratio": 2.0}, 192, 384),
        ({"mode": "reduce", "ratio": 0.25}, 10, 3),  # 2.5 rounds half up
        ({"mode": "reduce", "ratio": 0.01}, 10, 1),  # never below one channel
        ({"mode": "expand", "ratio": 1.5}, 3, 5),  # 4.5 rounds half up
        ({"filters": 1}, 7, 1),
        ({"filters": 500}, 1, 500),
        ({"mode": "REDUCE", "filters": 2}, 4, 2),  # modes are case-insensitive
    ],
)
def test_output_channels_per_mode(kwargs, channels, expected):
    """The issue's examples on a 28×28×192 input, and hand-computed roundings."""
    symbolic = Pointwise(**kwargs)(keras.Input((28, 28, channels)))
    assert tuple(symbolic.shape) == (None, 28, 28, expected)
    layer = Pointwise(**kwargs)
    layer.build((None, 28, 28, channels))
    assert layer.filters == expected
    assert tuple(layer.kernel.shape) == (channels, expected)


@pytest.mark.parametrize("rank", [3, 4, 5])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_eager_symbolic_and_computed_shapes_agree(rank, data_format):
    x = random_input(input_shape(rank, 6, data_format, batch=3))
    y = check_output_shapes(
        lambda: Pointwise(mode="expand", ratio=1.5, data_format=data_format), x
    )
    expected = list(x.shape)
    expected[-1 if data_format == "channels_last" else 1] = 9
    assert y.shape == tuple(expected)


def test_spatial_size_one_and_unknown_spatial_dims():
    assert Pointwise(3)(random_input((2, 1, 1, 4))).shape == (2, 1, 1, 3)
    symbolic = Pointwise(3)(keras.Input((None, None, 4)))
    assert tuple(symbolic.shape) == (None, None, None, 3)


def test_weights_are_shared_across_positions():
    """Moving a channel vector to another position moves its output with it."""
    layer = Pointwise(3, activation=None)
    x = np.zeros((1, 4, 4, 5), "float32")
    vector = random_input((5,))
    x[0, 0, 0] = vector
    y1 = keras.ops.convert_to_numpy(layer(x))[0, 0, 0]
    x = np.zeros_like(x)
    x[0, 3, 2] = vector
    y2 = keras.ops.convert_to_numpy(layer(x))[0, 3, 2]
    np.testing.assert_allclose(y1, y2, rtol=1e-6)
    assert layer.count_params() == 5 * 3 + 3  # C_in·F weights + F biases


def test_config_keeps_the_arguments_as_given():
    layer = Pointwise(mode="reduce", ratio=0.5, activation=None, use_bias=False)
    layer.build((None, 4, 4, 8))
    config = layer.get_config()
    assert layer.filters == 4
    assert config["filters"] is None
    assert config["mode"] == "reduce"
    assert config["ratio"] == 0.5
    assert config["activation"] == "linear"
    assert config["use_bias"] is False
    # The same config on a different input resolves again from that input.
    clone = Pointwise.from_config(config)
    clone.build((None, 4, 4, 20))
    assert clone.filters == 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": 4, "kernel_regularizer": "l2", "bias_constraint": "non_neg"},
        {"mode": "preserve", "activation": "gelu"},
        {"mode": "reduce", "ratio": 0.5, "data_format": "channels_first"},
    ],
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(Pointwise(**kwargs), random_input((2, 8, 3, 3)))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_keras_file_round_trip(tmp_path, data_format):
    check_model_saving(
        lambda: Pointwise(mode="reduce", ratio=0.5, data_format=data_format),
        random_input((2, 6, 6, 6)),
        tmp_path,
    )


def test_training_lowers_the_loss():
    check_training(lambda: Pointwise(mode="preserve"), random_input((32, 4, 4, 3)))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policy(policy):
    check_mixed_precision(lambda: Pointwise(6), random_input((2, 4, 4, 8)), policy)


@pytest.mark.parametrize(
    "dtype",
    [
        "float16",
        "bfloat16",
        pytest.param(
            "float64",
            marks=pytest.mark.skipif(
                keras.backend.backend() == "jax",
                reason="JAX truncates float64 to float32 unless x64 mode is "
                "enabled before import; nothing of ours is under test there.",
            ),
        ),
    ],
)
def test_dtype_argument_sets_variables_and_outputs(dtype):
    layer = Pointwise(3, dtype=dtype)
    y = layer(keras.ops.cast(random_input((2, 4, 4, 5)), dtype))
    assert keras.backend.standardize_dtype(y.dtype) == dtype
    assert layer.kernel.dtype == dtype


def test_kernel_regularizer_adds_its_loss():
    layer = Pointwise(3, kernel_regularizer=keras.regularizers.L2(0.1))
    layer(random_input((2, 4, 4, 5)))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    (loss,) = layer.losses
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loss), 0.1 * np.sum(kernel**2), rtol=1e-5
    )


def test_input_spec_rejects_other_channel_counts_after_build():
    layer = Pointwise(3)
    layer(random_input((2, 4, 4, 5)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape"):
        layer(random_input((2, 4, 4, 6)))


# Each case: constructor kwargs, the input shape to build on (None: the error
# comes from the constructor), the exception, and what its message must name.
BAD_ARGUMENTS = [
    ({"mode": "squeeze", "filters": 3}, None, ValueError, ["`mode`", "'squeeze'"]),
    ({"mode": 3}, None, TypeError, ["`mode`", "3"]),
    ({"filters": 0}, None, ValueError, ["`filters`", "filters=0"]),
    ({"filters": -4}, None, ValueError, ["`filters`", "filters=-4"]),
    ({"filters": 2.5}, None, TypeError, ["`filters`", "filters=2.5"]),
    ({"filters": "8"}, None, TypeError, ["`filters`", "filters='8'"]),
    ({"filters": True}, None, TypeError, ["`filters`", "filters=True"]),
    ({}, None, ValueError, ["filters=None", "mode=None"]),
    ({"ratio": 0.5}, None, ValueError, ["`ratio`", "ratio=0.5", "mode"]),
    ({"mode": "reduce"}, None, ValueError, ["mode='reduce'", "`filters` or `ratio`"]),
    ({"mode": "reduce", "ratio": 1.5}, None, ValueError, ["`ratio`", "0 < ratio < 1"]),
    ({"mode": "reduce", "ratio": 0.0}, None, ValueError, ["`ratio`", "ratio=0.0"]),
    ({"mode": "expand", "ratio": 0.5}, None, ValueError, ["`ratio`", "ratio > 1"]),
    ({"mode": "expand", "ratio": 1.0}, None, ValueError, ["`ratio`", "ratio=1.0"]),
    ({"mode": "expand", "ratio": float("nan")}, None, ValueError, ["`ratio`", "nan"]),
    ({"mode": "expand", "ratio": "2"}, None, TypeError, ["`ratio`", "'2'"]),
    ({"mode": "preserve", "ratio": 0.5}, None, ValueError, ["`ratio`", "preserve"]),
    (
        {"mode": "reduce", "filters": 4, "ratio": 0.5},
        None,
        ValueError,
        ["`filters`", "`ratio`", "filters=4", "ratio=0.5"],
    ),
    ({"filters": 3, "data_format": "NHWC"}, None, ValueError, ["`data_format`"]),
    (
        {"mode": "preserve", "filters": 16},
        (None, 8, 8, 32),
        ValueError,
        ["`filters`", "filters=16", "32"],
    ),
    (
        {"mode": "reduce", "filters": 32},
        (None, 8, 8, 32),
        ValueError,
        ["filters=32", "fewer than 32"],
    ),
    (
        {"mode": "expand", "filters": 16},
        (None, 8, 8, 32),
        ValueError,
        ["filters=16", "more than 32"],
    ),
    # One channel cannot be reduced; two channels at 0.9 round back to two.
    ({"mode": "reduce", "ratio": 0.5}, (None, 8, 8, 1), ValueError, ["ratio=0.5"]),
    ({"mode": "reduce", "ratio": 0.9}, (None, 8, 8, 2), ValueError, ["got 2"]),
    ({"mode": "expand", "ratio": 1.2}, (None, 8, 8, 1), ValueError, ["got 1"]),
    ({"filters": 3}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    (
        {"filters": 3, "data_format": "channels_first"},
        (None, None, 8, 8),
        ValueError,
        ["channels_first", "None"],
    ),
    ({"filters": 3}, (None, 8), ValueError, ["rank", "received rank 2"]),
    ({"filters": 3}, (None, 2, 2, 2, 2, 8), ValueError, ["received rank 6"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    with pytest.raises(error) as info:
        layer = Pointwise(**kwargs)
        if shape is not None:
            layer.build(shape)
    message = str(info.value)
    for name in names:
        assert name in message, (name, message)


@pytest.mark.parametrize("shape", [(None, 8, 8, 32), (None, 8), (None, 8, 8, None)])
def test_compute_output_shape_validates_like_build(shape):
    with pytest.raises(ValueError) as from_build:
        Pointwise(mode="expand", filters=16).build(shape)
    with pytest.raises(ValueError) as from_shape:
        Pointwise(mode="expand", filters=16).compute_output_shape(shape)
    assert str(from_shape.value) == str(from_build.value)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("filters", [4, 5, 16, 32])
@pytest.mark.parametrize("activation", ["relu", "softmax", None])
def test_inference_and_training_paths_agree(activation, filters, data_format):
    """TensorFlow runs channels_last inference as a 1×1 convolution and the
    rest as a matmul; PyTorch runs both as a convolution (of a transposed view
    for channels_last); JAX, both as the matmul. Narrowing, keeping and
    widening (8 → 4, 5, 16, 32) match NumPy."""
    x = random_input((2, 5, 6, 8) if data_format == "channels_last" else (2, 8, 5, 6))
    layer = Pointwise(
        filters,
        activation=activation,
        bias_initializer="random_normal",
        data_format=data_format,
    )
    inference = keras.ops.convert_to_numpy(layer(x, training=False))
    training = keras.ops.convert_to_numpy(layer(x, training=True))
    kernel, bias = layer.get_weights()
    expected = numpy_pointwise(x, kernel, bias, activation == "relu", data_format)
    if activation == "softmax":  # over the channels, wherever they are
        axis = -1 if data_format == "channels_last" else 1
        exponentials = np.exp(expected - expected.max(axis=axis, keepdims=True))
        expected = exponentials / exponentials.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(inference, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(training, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("filters", [4, 16, 32])
def test_an_empty_batch_on_either_path(filters, training, data_format):
    """The convolution paths (TensorFlow inference, PyTorch both) and the
    matmul give the same empty output."""
    layer = Pointwise(filters, data_format=data_format)
    last = data_format == "channels_last"
    y = layer(
        np.zeros((0, 5, 6, 8) if last else (0, 8, 5, 6), "float32"), training=training
    )
    assert tuple(y.shape) == ((0, 5, 6, filters) if last else (0, filters, 5, 6))
