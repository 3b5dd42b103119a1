"""Argument checks (`keras_nin._validation`): what Keras accepts, we accept."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_nin._validation import check_int_or_tuple, from_array
from keras_nin.layers import NiNBlock, Pointwise


@pytest.mark.parametrize(
    ("value", "expected"), [(np.array([3, 3]), (3, 3)), ((1, 2), (1, 2)), (3, 3)]
)
def test_kernel_sizes_as_keras_accepts_them(value, expected):
    assert check_int_or_tuple("kernel_size", value) == expected
    # Keras's own convolution takes the same value: the oracle.
    keras.layers.Conv2D(2, value)


@pytest.mark.parametrize(("value", "expected"), [(np.int64(3), 3), (np.array(2), 2)])
def test_numpy_integers_are_integers(value, expected):
    """Any integer, NumPy's included (Keras's Conv2D refuses these two)."""
    assert check_int_or_tuple("kernel_size", value) == expected


def test_bad_arrays_name_the_argument():
    with pytest.raises(ValueError, match=r"`kernel_size`.*kernel_size=\[0, 3\]"):
        check_int_or_tuple("kernel_size", np.array([0, 3]))
    with pytest.raises(TypeError, match="`strides`"):
        check_int_or_tuple("strides", np.ones((2, 2), "int64"))
    with pytest.raises(TypeError, match="`strides`"):
        check_int_or_tuple("strides", np.array([1.5, 2.0]))


def test_from_array_leaves_other_values_alone():
    assert from_array([1, 2]) == [1, 2]
    matrix = np.ones((2, 2))
    assert from_array(matrix) is matrix
    assert type(from_array(np.array([3]))[0]) is int


def test_a_block_takes_numpy_arrays_like_tuples():
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype("float32")
    arrays = NiNBlock(6, np.array([3, 3]), mlp_filters=np.array([6, 4]))
    tuples = NiNBlock(6, (3, 3), mlp_filters=(6, 4))
    assert arrays(x).shape == tuples(x).shape == (2, 6, 6, 4)
    assert arrays.get_config()["kernel_size"] == (3, 3)
    assert list(arrays.get_config()["mlp_filters"]) == [6, 4]


def test_an_overflowing_ratio_names_the_argument():
    layer = Pointwise(mode="expand", ratio=1e308)
    with pytest.raises(ValueError, match=r"`ratio`.*1e\+308"):
        layer.build((None, 4, 4, 8))
