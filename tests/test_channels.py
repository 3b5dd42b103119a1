"""Channel arithmetic (`keras_nin.layers._channels`) against hand-worked values."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_nin.layers._channels import (
    apply_activation,
    conv_output_shape,
    group_count,
    make_divisible,
    round_channels,
    spatial_axes,
    subsample,
)


@pytest.mark.parametrize(
    ("value", "divisor", "expected"),
    [(32, 8, 32), (20, 8, 24), (18, 8, 24), (30, 8, 32), (3, 8, 8), (2.5, 1, 3)],
)
def test_make_divisible_is_torchvisions_rule(value, divisor, expected):
    """torchvision's `_make_divisible`, worked by hand: 18 → 16 keeps < 90%."""
    assert make_divisible(value, divisor) == expected


@pytest.mark.parametrize(
    ("value", "divisor", "round_limit", "expected"),
    [(1.25, 1, 0.0, 1), (1.25, 1, 0.9, 2), (18, 8, 0.0, 16), (2.25, 1, 0.0, 2)],
)
def test_round_limit_zero_is_plain_rounding(value, divisor, round_limit, expected):
    """timm's `round_limit`: 0 means the nearest multiple, never raised."""
    assert make_divisible(value, divisor, round_limit) == expected


@pytest.mark.parametrize(("value", "expected"), [(2.5, 3), (3.5, 4), (0.2, 1), (7, 7)])
def test_round_channels_rounds_halves_up(value, expected):
    assert round_channels(value) == expected


@pytest.mark.parametrize(
    ("channels", "groups"),
    [(192, 32), (160, 32), (96, 32), (64, 32), (48, 24), (100, 25), (10, 10), (1, 1)],
)
def test_group_count_is_the_largest_divisor_up_to_32(channels, groups):
    assert group_count(channels) == groups


def test_conv_output_shape_same_and_valid():
    assert conv_output_shape(
        (None, 7, 5, 3), 8, (3, 3), (2, 2), "same", "channels_last"
    ) == (None, 4, 3, 8)
    assert conv_output_shape(
        (2, 3, 7, 5), 8, (3, 3), (1, 2), "valid", "channels_first"
    ) == (2, 8, 5, 2)
    with pytest.raises(ValueError, match="at least the kernel size"):
        conv_output_shape((1, 2, 2, 3), 8, (3, 3), (1, 1), "valid", "channels_last")


def test_spatial_axes():
    assert spatial_axes(4, "channels_last") == (1, 2)
    assert spatial_axes(5, "channels_first") == (2, 3, 4)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_softmax_acts_on_each_positions_channels(data_format):
    """NumPy's softmax over the channel axis, in both layouts."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype("float32")
    axis = -1 if data_format == "channels_last" else 1
    y = apply_activation(keras.activations.softmax, x, data_format)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(y), _softmax(x, axis), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    ("shape", "strides"),
    [
        ((2, 7, 3), (2,)),  # 1-D, odd length: ceil(7 / 2) = 4 positions
        ((2, 7, 6, 3), (2, 3)),
        ((0, 5, 5, 3), (2, 2)),  # an empty batch keeps its shape
        ((1, 5, 4, 3, 2), (2, 1, 3)),  # 3-D
    ],
)
def test_subsample_keeps_every_strides_th_position(data_format, shape, strides):
    # NumPy's slicing is the oracle, whatever subsample runs on this backend.
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    spatial = tuple(slice(None, None, s) for s in strides)
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
        expected = x[(slice(None), slice(None), *spatial)]
    else:
        expected = x[(slice(None), *spatial, slice(None))]
    result = keras.ops.convert_to_numpy(subsample(x, strides, data_format))
    np.testing.assert_array_equal(result, expected)
    # Inside a compiled function the batch size is unknown when it is traced.
    compiled = keras.ops.convert_to_numpy(
        _traced(lambda t: subsample(t, strides, data_format), x)
    )
    np.testing.assert_array_equal(compiled, expected)


def _traced(fn, x):
    """`fn(x)` in a Keras functional model: traced with an unknown batch."""
    inputs = keras.Input(x.shape[1:])
    outputs = keras.layers.Lambda(fn)(inputs)
    return keras.Model(inputs, outputs).predict_on_batch(x)
