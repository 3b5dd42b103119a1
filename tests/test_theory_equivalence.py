"""theory.equivalence: a 1×1 convolution is a Dense layer at every position.

The oracle is NumPy: the position matrix is built with `moveaxis` and
`reshape`, the dense layer with `@`, independently of the code under test.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import call_keras_layer, random_input

from keras_nin.layers import Pointwise
from keras_nin.theory import as_positions, from_dense, from_positions, to_dense

SPATIAL = {3: (7,), 4: (5, 6), 5: (3, 4, 5)}
CONVS = {3: keras.layers.Conv1D, 4: keras.layers.Conv2D, 5: keras.layers.Conv3D}
DATA_FORMATS = ["channels_last", "channels_first"]


def input_shape(rank, channels, data_format, batch=2):
    if data_format == "channels_last":
        return (batch, *SPATIAL[rank], channels)
    return (batch, channels, *SPATIAL[rank])


def numpy_positions(x, data_format):
    """The oracle's reshaping: channels last, then one row per position."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    return x.reshape(-1, x.shape[-1])


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("rank", [3, 4, 5])
@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_as_positions_and_back(rank, data_format):
    x = random_input(input_shape(rank, 4, data_format))
    matrix = numpy(as_positions(x, data_format))
    positions = int(np.prod(SPATIAL[rank]))
    assert matrix.shape == (2 * positions, 4)
    np.testing.assert_array_equal(matrix, numpy_positions(x, data_format))
    back = numpy(from_positions(matrix, SPATIAL[rank], data_format))
    np.testing.assert_array_equal(back, x)


def test_the_issue_example_36_positions_of_32_numbers():
    x = random_input((3, 6, 6, 32))
    matrix = numpy(as_positions(x, "channels_last"))
    assert matrix.shape == (3 * 36, 32)
    # Row 36·n + 6·i + j holds the 32 channels of example n at pixel (i, j).
    np.testing.assert_array_equal(matrix[36 * 2 + 6 * 4 + 5], x[2, 4, 5])


def test_default_data_format_follows_keras_config():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        x = random_input((2, 3, 4, 5))
        assert tuple(as_positions(x).shape) == (40, 3)
        assert tuple(from_positions(as_positions(x), (4, 5)).shape) == x.shape
    finally:
        keras.config.set_image_data_format(previous)


@pytest.mark.parametrize("rank", [3, 4, 5])
@pytest.mark.parametrize("data_format", DATA_FORMATS)
@pytest.mark.parametrize(
    ("activation", "use_bias"), [("relu", True), (None, True), ("tanh", False)]
)
def test_pointwise_to_dense_is_exact(rank, data_format, activation, use_bias):
    x = random_input(input_shape(rank, 8, data_format))
    layer = Pointwise(
        5,
        activation=activation,
        use_bias=use_bias,
        bias_initializer="random_normal",
        data_format=data_format,
    )
    y = numpy(layer(x))
    dense = to_dense(layer)
    assert isinstance(dense, keras.layers.Dense) and dense.built
    assert dense.units == 5 and dense.use_bias == use_bias
    kernel = numpy(dense.kernel)
    np.testing.assert_array_equal(kernel, numpy(layer.kernel))
    # NumPy's dense layer on the position matrix is the convolution's output.
    expected = numpy_positions(x, data_format) @ kernel
    if use_bias:
        expected = expected + numpy(dense.bias)
    if activation == "relu":
        expected = np.maximum(expected, 0)
    elif activation == "tanh":
        expected = np.tanh(expected)
    np.testing.assert_allclose(
        numpy_positions(y, data_format), expected, rtol=1e-5, atol=1e-5
    )
    # And so is Keras's Dense layer on the matrix.
    np.testing.assert_allclose(
        numpy(dense(as_positions(x, data_format))),
        numpy_positions(y, data_format),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("rank", [3, 4, 5])
@pytest.mark.parametrize("data_format", DATA_FORMATS)
def test_keras_conv_to_dense_is_exact(rank, data_format):
    x = random_input(input_shape(rank, 6, data_format))
    conv = CONVS[rank](
        4,
        1,
        activation="relu",
        bias_initializer="random_normal",
        data_format=data_format,
    )
    y = call_keras_layer(conv, x)
    dense = to_dense(conv)
    kernel = numpy(conv.kernel).reshape(6, 4)
    np.testing.assert_array_equal(numpy(dense.kernel), kernel)
    expected = np.maximum(
        numpy_positions(x, data_format) @ kernel + numpy(conv.bias), 0
    )
    np.testing.assert_allclose(
        numpy_positions(y, data_format), expected, rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        numpy(dense(as_positions(x, data_format))), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("data_format", DATA_FORMATS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_from_dense_is_exact(rank, data_format, use_bias):
    dense = keras.layers.Dense(
        5, activation="relu", use_bias=use_bias, bias_initializer="random_normal"
    )
    dense.build((None, 7))
    pointwise = from_dense(dense, rank=rank, data_format=data_format)
    assert isinstance(pointwise, Pointwise) and pointwise.built
    assert pointwise.data_format == data_format
    x = random_input(input_shape(rank + 2, 7, data_format))
    y = numpy(pointwise(x))
    assert y.shape == input_shape(rank + 2, 5, data_format)
    expected = numpy_positions(x, data_format) @ numpy(dense.kernel)
    if use_bias:
        expected = expected + numpy(dense.bias)
    expected = np.maximum(expected, 0)
    np.testing.assert_allclose(
        numpy_positions(y, data_format), expected, rtol=1e-5, atol=1e-5
    )


def test_round_trip_keeps_weights_and_copies_them():
    layer = Pointwise(3, activation="gelu", bias_initializer="random_normal")
    layer.build((None, 4, 4, 6))
    dense = to_dense(layer)
    back = from_dense(dense, rank=2, data_format="channels_last")
    for original, returned in zip(layer.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(original, returned)
    assert back.activation is layer.activation
    # Copies, not shared variables: changing one leaves the other alone.
    dense.kernel.assign(np.zeros((6, 3), "float32"))
    assert np.any(numpy(layer.kernel) != 0)


def test_dtype_policy_is_carried_over():
    layer = Pointwise(3, dtype="float16")
    layer.build((None, 4, 4, 6))
    dense = to_dense(layer)
    assert dense.kernel.dtype == "float16"
    assert from_dense(dense).kernel.dtype == "float16"


# The refusals: each names the argument and says why it is not a per-position
# fully connected layer.
REFUSALS = [
    ({"kernel_size": 3}, ["kernel_size=(3, 3)", "3×3 window", "neighbouring"]),
    ({"kernel_size": (1, 2)}, ["kernel_size=(1, 2)"]),
    ({"kernel_size": 1, "strides": 2}, ["strides=(2, 2)", "skips input positions"]),
    ({"kernel_size": 1, "dilation_rate": 2}, ["dilation_rate=(2, 2)", "dilation"]),
    ({"kernel_size": 1, "groups": 2}, ["groups=2", "block-diagonal"]),
]


@pytest.mark.parametrize(("kwargs", "names"), REFUSALS)
def test_to_dense_refuses_what_is_not_per_position(kwargs, names):
    conv = keras.layers.Conv2D(4, **kwargs)
    conv.build((None, 8, 8, 4))
    with pytest.raises(ValueError) as info:
        to_dense(conv)
    message = str(info.value)
    for name in [*names, conv.name, "Conv2D"]:
        assert name in message, (name, message)


@pytest.mark.parametrize(
    "layer",
    [Pointwise(3), keras.layers.Conv2D(3, 1), keras.layers.Dense(3)],
    ids=["pointwise", "conv2d", "dense"],
)
def test_unbuilt_layers_are_refused(layer):
    convert = from_dense if isinstance(layer, keras.layers.Dense) else to_dense
    with pytest.raises(ValueError, match="is not built"):
        convert(layer)


@pytest.mark.parametrize(
    "layer",
    [
        keras.layers.Dense(3),
        keras.layers.DepthwiseConv2D(1),
        keras.layers.Conv2DTranspose(3, 1),
        "conv",
    ],
)
def test_to_dense_refuses_other_types(layer):
    with pytest.raises(TypeError, match="Expected a keras_nin Pointwise"):
        to_dense(layer)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"rank": 4}, ValueError, "rank=4"),
        ({"rank": 0}, ValueError, "rank=0"),
        ({"rank": 2.0}, TypeError, "rank=2.0"),
        ({"rank": True}, TypeError, "rank=True"),
        ({"data_format": "NCHW"}, ValueError, "`data_format`"),
    ],
)
def test_from_dense_bad_arguments(kwargs, error, text):
    dense = keras.layers.Dense(3)
    dense.build((None, 4))
    with pytest.raises(error, match=text):
        from_dense(dense, **kwargs)


def test_from_dense_refuses_other_types():
    with pytest.raises(TypeError, match=r"Expected a keras\.layers\.Dense"):
        from_dense(Pointwise(3))


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: as_positions(np.zeros((4, 3))), "rank 3 or more"),
        (lambda: as_positions(np.zeros((1, 2, 2, 3)), "NHWC"), "`data_format`"),
        (lambda: from_positions(np.zeros((2, 6, 3)), (6,)), "rank 2"),
        (lambda: from_positions(np.zeros((10, 3)), (2, 2)), "not a multiple of 4"),
        (lambda: from_positions(np.zeros((8, 3)), ()), "`spatial_shape`"),
        (lambda: from_positions(np.zeros((8, 3)), (2, 0)), "spatial_shape=(2, 0)"),
    ],
)
def test_reshaping_bad_arguments(call, text):
    with pytest.raises(ValueError) as info:
        call()
    assert text in str(info.value)


@pytest.mark.parametrize("integer", [np.int64, np.int32, np.uint8])
def test_numpy_integers_are_sizes_like_python_ints(integer):
    """Layers accept NumPy integers; so do the equivalence helpers."""
    x = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
    matrix = as_positions(x, "channels_last")
    back = from_positions(matrix, (integer(3), integer(4)), "channels_last")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(back), x)

    dense = keras.layers.Dense(3)
    dense.build((None, 5))
    pointwise = from_dense(dense, rank=integer(2), data_format="channels_last")
    y = keras.ops.convert_to_numpy(pointwise(x))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in dense.weights)
    expected = x @ kernel + bias
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [np.float64(3.0), np.bool_(True), True, "3"])
def test_non_integer_sizes_are_still_refused(size):
    with pytest.raises(ValueError, match="`spatial_shape`"):
        from_positions(np.zeros((12, 5)), (size, 4))
