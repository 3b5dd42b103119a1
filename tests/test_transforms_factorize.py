"""factorize: numpy.linalg.svd as the oracle for kernels, errors and ranks."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest

from keras_nin.layers import Pointwise
from keras_nin.transforms import break_even_rank, factorize

RNG = np.random.default_rng(2)


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def built(layer, shape):
    layer.build(shape)
    weights = [RNG.standard_normal(w.shape).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    return layer


def truncated(kernel, rank):
    """The rank-`rank` SVD truncation of a (C_in, C_out) kernel, and the σ's."""
    u, s, vt = np.linalg.svd(kernel.astype(np.float64), full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank], s


LAYERS = {
    "pointwise": (
        (2, 5, 5, 12),
        lambda: Pointwise(10, activation=None),
    ),
    "pointwise_channels_first": (
        (2, 12, 4, 3),
        lambda: Pointwise(10, activation=None, data_format="channels_first"),
    ),
    "conv2d_1x1_strided": (
        (2, 6, 6, 12),
        lambda: keras.layers.Conv2D(10, 1, strides=2),
    ),
    "conv1d_1x1": ((2, 7, 12), lambda: keras.layers.Conv1D(10, 1)),
    "dense": ((3, 12), lambda: keras.layers.Dense(10)),
    "dense_on_sequences": ((3, 4, 12), lambda: keras.layers.Dense(10, use_bias=False)),
}


def numpy_reference(layer, kernel, x):
    """The layer's output with `kernel` (C_in, C_out), written in NumPy."""
    x = x.astype(np.float64)
    first = getattr(layer, "data_format", "channels_last") == "channels_first"
    if first:
        x = np.moveaxis(x, 1, -1)
    strides = getattr(layer, "strides", (1,))
    if max(strides) > 1:
        x = x[:, :: strides[0], :: strides[1]]
    y = x @ kernel
    if layer.use_bias:
        y = y + keras.ops.convert_to_numpy(layer.bias)
    return np.moveaxis(y, -1, 1) if first else y


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_pair_is_the_truncated_svd(kind):
    shape, factory = LAYERS[kind]
    layer = built(factory(), shape)
    kernel = keras.ops.convert_to_numpy(layer.kernel).reshape(12, 10)
    largest = math.ceil(12 * 10 / 22) - 1  # break-even 5.45: rank 5
    assert largest == 5
    for rank in range(1, largest + 1):
        pair = factorize(layer, rank)
        reduce, expand = pair.layers
        assert (reduce.name, expand.name) == (
            f"{layer.name}_reduce",
            f"{layer.name}_expand",
        )
        assert type(reduce) is type(layer) and not reduce.use_bias
        a = keras.ops.convert_to_numpy(reduce.kernel).reshape(12, rank)
        b = keras.ops.convert_to_numpy(expand.kernel).reshape(rank, 10)
        expected, s = truncated(kernel, rank)
        np.testing.assert_allclose(a @ b, expected, atol=1e-5)
        # Eckart–Young: the Frobenius error is the norm of the dropped σ's.
        np.testing.assert_allclose(
            np.linalg.norm(kernel - a @ b), np.sqrt(np.sum(s[rank:] ** 2)), rtol=1e-5
        )
        assert pair.count_params() == rank * 22 + 10 * layer.use_bias
    # The outputs at the largest rank allowed (the full rank is refused).
    pair = factorize(layer, largest)
    expected, _ = truncated(kernel, largest)
    x = RNG.standard_normal(shape).astype("float32")
    actual = predict(pair, x)
    np.testing.assert_allclose(actual, numpy_reference(layer, expected, x), atol=1e-4)
    # The output error is the SVD's prediction, x·(W − W_r).
    error = actual - predict(layer, x)
    predicted = numpy_reference(layer, expected - kernel, x)
    if layer.use_bias:
        predicted = predicted - numpy_reference(layer, np.zeros_like(kernel), x)
    np.testing.assert_allclose(error, predicted, atol=1e-4)


def test_a_low_rank_kernel_is_recovered_exactly_with_the_activation():
    layer = built(Pointwise(16, activation="relu"), (2, 3, 3, 24))
    low_rank = RNG.standard_normal((24, 4)) @ RNG.standard_normal((4, 16))
    layer.kernel.assign(low_rank.astype("float32"))
    pair = factorize(layer, 4)
    x = RNG.standard_normal((2, 3, 3, 24)).astype("float32")
    expected = predict(layer, x)
    error = np.max(np.abs(predict(pair, x) - expected)) / np.max(np.abs(expected))
    assert error <= 1e-5


@pytest.mark.parametrize("energy", [0.3, 0.6, 0.75])
def test_energy_picks_the_smallest_rank_keeping_that_fraction(energy):
    layer = built(keras.layers.Dense(40), (None, 48))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    s = np.linalg.svd(kernel, compute_uv=False)
    kept = np.cumsum(s**2) / np.sum(s**2)
    expected = next(r for r in range(1, 41) if kept[r - 1] >= energy)
    reduce, _ = factorize(layer, energy=energy).layers
    assert reduce.units == expected
    assert kept[expected - 1] >= energy and (
        expected == 1 or kept[expected - 2] < energy
    )


def functional_model():
    inputs = keras.Input((5, 5, 12))
    x = Pointwise(10, name="first")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", name="spatial")(x)
    outputs = Pointwise(12, activation=None, name="last")(x)
    return keras.Model(inputs, outputs)


def test_model_with_a_rank_mapping_saves_and_loads(tmp_path):
    model = functional_model()
    before = [w.copy() for w in model.get_weights()]
    new = factorize(model, {"first": 3, "last": 2})
    names = [layer.name for layer in new.layers[1:]]
    assert names == [
        "first_reduce",
        "first_expand",
        "spatial",
        "last_reduce",
        "last_expand",
    ]
    for old, now in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, now)
    x = RNG.standard_normal((2, 5, 5, 12)).astype("float32")
    # The NumPy oracle: both kernels replaced by their truncations.
    reference = functional_model()
    reference.set_weights(model.get_weights())
    for name, rank in (("first", 3), ("last", 2)):
        kernel = reference.get_layer(name).kernel
        kernel.assign(
            truncated(keras.ops.convert_to_numpy(kernel), rank)[0].astype("float32")
        )
    np.testing.assert_allclose(predict(new, x), predict(reference, x), atol=1e-4)
    path = tmp_path / "factorized.keras"
    new.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(predict(loaded, x), predict(new, x), atol=1e-6)


def test_sequential_model_with_energy():
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(30, name="a"),
            keras.layers.Dense(2, name="b"),
        ]
    )
    # "a": a rank-3 kernel plus a little noise; "b": 2 outputs, never worth it.
    layer = model.get_layer("a")
    low_rank = RNG.standard_normal((30, 3)) @ RNG.standard_normal((3, 30))
    layer.kernel.assign(
        (low_rank + 1e-3 * RNG.standard_normal((30, 30))).astype("float32")
    )
    with pytest.warns(UserWarning, match=r"left 1 layer.*\['b'\]"):
        new = factorize(model, energy=0.999)
    assert isinstance(new, keras.Sequential)
    assert [layer.name for layer in new.layers] == ["a_reduce", "a_expand", "b"]
    assert new.get_layer("a_reduce").units == 3


def test_constraints_penalties_and_frozen_models():
    inputs = keras.Input((5, 5, 12))
    outputs = Pointwise(
        10,
        kernel_constraint=keras.constraints.NonNeg(),
        bias_constraint=keras.constraints.NonNeg(),
        activity_regularizer=keras.regularizers.L2(0.1),
        name="first",
    )(inputs)
    model = keras.Model(inputs, outputs)
    # The SVD factors of a non-negative kernel have negative entries.
    with pytest.warns(
        UserWarning, match="left out the kernel_constraint of layer 'first'"
    ):
        factorized = factorize(model, {"first": 3})
    reduce, expand = (
        factorized.get_layer("first_reduce"),
        factorized.get_layer("first_expand"),
    )
    assert reduce.kernel_constraint is None and expand.kernel_constraint is None
    assert isinstance(expand.bias_constraint, keras.constraints.NonNeg)
    # The penalty on the layer's output stays on the output.
    assert reduce.activity_regularizer is None
    assert isinstance(expand.activity_regularizer, keras.regularizers.L2)

    model = functional_model()
    model.trainable = False
    factorized = factorize(model, {"first": 3})
    assert not factorized.trainable and not factorized.trainable_weights


def test_break_even_rank():
    assert break_even_rank(96, 64) == pytest.approx(38.4)
    assert break_even_rank(16, 16) == 8


def test_bad_input():
    layer = built(Pointwise(10), (None, 4, 4, 12))
    # rank ≤ 0, of the wrong type, ≥ min(C_in, C_out), ≥ break-even.
    with pytest.raises(ValueError, match=r"argument `rank`.*Received: rank=0"):
        factorize(layer, 0)
    with pytest.raises(ValueError, match=r"argument `rank`.*Received: rank=-2"):
        factorize(layer, -2)
    with pytest.raises(TypeError, match=r"argument `rank`.*Received: rank=2.5"):
        factorize(layer, 2.5)
    with pytest.raises(ValueError, match=r"rank < min\(C_in, C_out\) = 10.*rank=10"):
        factorize(layer, 10)
    message = "break-even rank C_in·C_out/(C_in + C_out) = 5.45"
    with pytest.raises(ValueError, match=re.escape(message) + r".*Received: rank=6"):
        factorize(layer, 6)
    for energy in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match=rf"argument `energy`.*energy={energy}"):
            factorize(layer, energy=energy)
    with pytest.raises(TypeError, match="argument `energy`"):
        factorize(layer, energy="high")
    with pytest.raises(ValueError, match=r"argument `energy`.*needs rank"):
        factorize(layer, energy=1.0)
    with pytest.raises(ValueError, match="exactly one of `rank` and `energy`"):
        factorize(layer)
    with pytest.raises(ValueError, match="exactly one of `rank` and `energy`"):
        factorize(layer, 2, energy=0.9)
    conv = built(keras.layers.Conv2D(10, 3), (None, 6, 6, 12))
    with pytest.raises(TypeError, match=r"argument `target`.*1×1"):
        factorize(conv, 2)
    with pytest.raises(ValueError, match=r"argument `rank`.*unknown: \['nope'\]"):
        factorize(functional_model(), {"nope": 2})
    with pytest.raises(TypeError, match=r"argument `rank\['spatial'\]`.*1×1"):
        factorize(functional_model(), {"spatial": 2})
    with pytest.raises(ValueError, match=r"argument `rank`.*every layer"):
        factorize(functional_model(), ["first"])
