"""theory.cost leaves the caller's object alone and never allocates weights.

An object that is not built is counted on a copy whose weights have shapes
but no values (issue 19, items 6, 7 and 9): the caller's layer stays unbuilt,
Keras raises no warning, NumPy integers are sizes, and a network whose weights
would need hundreds of gigabytes is counted at once. Expected numbers are
written out from the counting rules, not taken from the code.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from keras_nin.layers import NiNBlock, Pointwise
from keras_nin.theory import cost

L = keras.layers


def no_warnings(function, *args, **kwargs):
    """`function(*args, **kwargs)`, failing on any warning it raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    assert [str(w.message) for w in caught] == []
    return result


def all_layers(layer):
    found = [layer]
    for sublayer in getattr(layer, "layers", []) or []:
        found += all_layers(sublayer)
    return found


@pytest.mark.parametrize("integer", [np.int64, np.int32, np.uint16])
def test_numpy_integer_input_shapes(integer):
    layer = Pointwise(4)
    report = cost(layer, input_shape=(integer(8), 8, integer(3)))
    assert report.multiplies == 8 * 8 * 3 * 4
    assert report.params == 3 * 4 + 4
    assert report.input_shape == (8, 8, 3)
    assert all(type(size) is int for size in report.input_shape)
    assert report.rows[0].output_shape == (8, 8, 4)


@pytest.mark.parametrize(
    "input_shape", [(8.0, 8, 3), (True, 8, 3), (np.bool_(True), 8, 3), ("8", 8, 3)]
)
def test_non_integer_sizes_are_refused(input_shape):
    with pytest.raises(ValueError, match="Invalid value for argument `input_shape`"):
        cost(Pointwise(4), input_shape=input_shape)


def test_an_unbuilt_layer_stays_unbuilt_and_unchanged():
    layer = Pointwise(4, name="pw")
    config = layer.get_config()
    report = no_warnings(cost, layer, input_shape=(6, 6, 3))
    assert report.multiplies == 6 * 6 * 3 * 4
    assert not layer.built and layer.weights == []
    assert layer.get_config() == config
    # Its channels are not pinned: it still builds on another width.
    assert layer(np.zeros((1, 2, 2, 7), "float32")).shape == (1, 2, 2, 4)


def test_an_unbuilt_block_stays_unbuilt():
    block = NiNBlock(8, 3, mlp_filters=(6, 4), name="mlpconv")
    report = no_warnings(cost, block, input_shape=(10, 10, 3))
    assert [row.name for row in report.rows] == ["conv", "mlp_1", "mlp_2"]
    assert report.multiplies == 10 * 10 * (9 * 3 * 8 + 8 * 6 + 6 * 4)
    assert report.params == (9 * 3 * 8 + 8) + (8 * 6 + 6) + (6 * 4 + 4)
    assert not block.built and block.weights == []


class TwoStep(keras.Model):
    """A subclassed model: sublayers created in __init__, no build()."""

    def __init__(self, filters=4, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.conv = L.Conv2D(filters, 3, padding="same")
        self.block = NiNBlock(filters, 1, mlp_filters=(filters,))
        self.head = L.Dense(2)

    def call(self, x):
        return self.head(self.block(self.conv(x)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


def two_step_multiplies(height, width, channels, filters):
    per_position = 9 * channels * filters + filters * filters + filters * filters
    return height * width * (per_position + filters * 2)


def test_an_unbuilt_subclassed_model_stays_unbuilt_without_a_warning():
    """Building it would make Keras warn it is "marked as built despite not
    being actually built"; cost() builds nothing of the caller's."""
    model = TwoStep(5, name="two_step")
    names = [layer.name for layer in model.layers]
    report = no_warnings(cost, model, input_shape=(6, 6, 3))
    assert report.multiplies == two_step_multiplies(6, 6, 3, 5)
    assert report.params == (9 * 3 * 5 + 5) + 2 * (5 * 5 + 5) + (5 * 2 + 2)
    # Rows carry the caller's layer names, not the copy's.
    block = names[1]
    assert [row.name for row in report.rows] == [
        names[0],
        f"{block}/conv",
        f"{block}/mlp_1",
        names[2],
    ]
    assert not model.built
    assert not any(layer.built for layer in all_layers(model)[1:])
    assert model.weights == []


def test_a_copy_keras_cannot_make_faithfully_is_refused_clearly():
    """Keras's automatic config of a subclassed model holds the constructor's
    defaults, not the arguments passed: its copy would be another network."""

    class NoConfig(keras.Model):
        def __init__(self, filters=4, **kwargs):
            super().__init__(**kwargs)
            self.conv = L.Conv2D(filters, 3)

        def call(self, x):
            return self.conv(x)

    model = NoConfig(64, name="no_config")
    with pytest.raises(ValueError) as info:
        cost(model, input_shape=(6, 6, 3))
    message = str(info.value)
    assert "'no_config' (NoConfig) is not built" in message
    assert "filters=4, not 64" in message
    assert "keras.Input" in message and "get_config()" in message
    assert not model.built
    # Built by the caller, it is counted as it is.
    model(keras.Input((6, 6, 3)))
    assert cost(model).multiplies == 4 * 4 * 9 * 3 * 64


def test_a_built_model_is_costed_on_another_shape_without_change():
    inputs = keras.Input((None, None, 3))
    block = NiNBlock(4, 3, padding="same", name="block")
    model = keras.Model(inputs, block(inputs))
    weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
    build_config = block.get_build_config()
    report = cost(model, input_shape=(12, 10, 3))
    assert report.multiplies == 12 * 10 * (9 * 3 * 4 + 4 * 4 + 4 * 4)
    assert block.get_build_config() == build_config
    for before, after in zip(weights, model.weights, strict=True):
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(after))


# A 5×5 convolution from 65,536 to 65,536 channels holds 107 billion weights:
# 430 GB in float32. Were any of them allocated, these tests would fail with an
# out-of-memory error instead of printing the count.
HUGE = 65_536


def test_weights_of_any_size_are_counted_without_allocating_them():
    network = keras.Sequential(
        [Pointwise(HUGE, name="reduce"), L.Conv2D(HUGE, 5, padding="same", name="conv")]
    )
    report = cost(network, input_shape=(28, 28, HUGE))
    reduce_, conv = report.rows
    assert reduce_.multiplies == 28 * 28 * HUGE * HUGE
    assert conv.multiplies == 28 * 28 * 5 * 5 * HUGE * HUGE
    assert report.params == (HUGE * HUGE + HUGE) + (5 * 5 * HUGE * HUGE + HUGE)
    assert not network.built


def test_huge_blocks_are_counted_too():
    report = cost(NiNBlock(HUGE, 5), input_shape=(28, 28, HUGE))
    assert report.params == (25 * HUGE * HUGE + HUGE) + 2 * (HUGE * HUGE + HUGE)


def test_the_copy_leaves_nothing_for_keras_to_initialize_later():
    """Keras gives values to weights created in a StatelessScope when the
    next one closes; the copy's weights must not be among them."""
    cost(L.Conv2D(HUGE, 5), input_shape=(8, 8, HUGE))
    with keras.StatelessScope():  # would allocate 430 GB if the copy's were left
        pass
    layer = L.Dense(3)
    layer.build((None, 2))  # ordinary layers still get their values
    assert keras.ops.convert_to_numpy(layer.kernel).shape == (2, 3)
