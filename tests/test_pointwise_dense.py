"""Pointwise does what keras.layers.Dense does: LoRA and quantization.

The oracle is Keras's own `Dense`, given the same weights: a 1×1
convolution is a dense layer applied at every position, so on a
channels_last input both must give the same numbers, LoRA-adapted or
quantized; channels_first must equal channels_last up to the transpose.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_nin.layers import Pointwise
from keras_nin.theory import to_dense

SHAPE = (2, 4, 3, 5)  # 12 positions, 5 channels


def _x(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(SHAPE).astype("float32")


def _pair(**kwargs) -> tuple[Pointwise, keras.layers.Dense]:
    """A built Pointwise and a Dense with the same random kernel and bias."""
    pointwise = Pointwise(6, activation="relu", **kwargs)
    pointwise.build(SHAPE)
    dense = keras.layers.Dense(6, activation="relu")
    dense.build((None, SHAPE[-1]))
    rng = np.random.default_rng(1)
    for a, b in zip(pointwise.weights, dense.weights, strict=True):
        values = rng.standard_normal(tuple(a.shape)).astype("float32")
        a.assign(values)
        b.assign(values)
    return pointwise, dense


def _numpy(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def _enable_lora(layer, rank: int = 2) -> None:
    layer.enable_lora(rank)
    rng = np.random.default_rng(2)
    layer.lora_kernel_a.assign(rng.standard_normal(layer.lora_kernel_a.shape))
    layer.lora_kernel_b.assign(rng.standard_normal(layer.lora_kernel_b.shape))


def test_lora_matches_dense_and_freezes_the_kernel():
    pointwise, dense = _pair()
    _enable_lora(pointwise)
    _enable_lora(dense)
    assert [w.path.split("/")[-1] for w in pointwise.trainable_weights] == [
        w.path.split("/")[-1] for w in dense.trainable_weights
    ]
    assert not pointwise._kernel.trainable
    x = _x()
    np.testing.assert_allclose(
        _numpy(pointwise(x)), _numpy(dense(x)), rtol=1e-5, atol=1e-5
    )
    # to_dense reads the adapted kernel: still the same function.
    np.testing.assert_allclose(
        _numpy(to_dense(pointwise)(x)), _numpy(dense(x)), rtol=1e-5, atol=1e-5
    )


def test_lora_fit_moves_only_the_adapter_and_saves(tmp_path):
    inputs = keras.Input(SHAPE[1:])
    layer = Pointwise(6, activation=None)
    model = keras.Model(inputs, layer(inputs))
    layer.enable_lora(2)
    kernel = _numpy(layer._kernel).copy()
    b_before = _numpy(layer.lora_kernel_b).copy()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(_x(), np.ones((2, 4, 3, 6), "float32"), epochs=1, verbose=0)
    np.testing.assert_array_equal(_numpy(layer._kernel), kernel)
    assert not np.array_equal(_numpy(layer.lora_kernel_b), b_before)
    model.save(tmp_path / "lora.keras")
    reloaded = keras.saving.load_model(tmp_path / "lora.keras")
    np.testing.assert_allclose(
        reloaded.predict(_x(3), verbose=0),
        model.predict(_x(3), verbose=0),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("mode", ["int8", "int4", "float8"])
def test_quantize_matches_dense(mode):
    pointwise, dense = _pair()
    pointwise.quantize(mode)
    dense.quantize(mode)
    x = _x()
    np.testing.assert_allclose(
        _numpy(pointwise(x)), _numpy(dense(x)), rtol=1e-5, atol=1e-5
    )


def test_to_dense_refuses_a_quantized_layer():
    pointwise, _ = _pair()
    pointwise.quantize("int8")
    with pytest.raises(ValueError, match="quantized"):
        to_dense(pointwise)


@pytest.mark.parametrize("mode", ["int8", "int4"])
def test_quantized_channels_first_equals_channels_last(mode):
    last, _ = _pair()
    first = Pointwise(6, activation="softmax", data_format="channels_first")
    first.build((SHAPE[0], SHAPE[-1], *SHAPE[1:-1]))
    last.activation = keras.activations.softmax
    first.set_weights(last.get_weights())
    last.quantize(mode)
    first.quantize(mode)
    x = _x()
    y_first = np.moveaxis(_numpy(first(np.moveaxis(x, -1, 1))), 1, -1)
    np.testing.assert_allclose(y_first, _numpy(last(x)), rtol=1e-5, atol=1e-5)


def test_a_quantized_model_saves_and_loads(tmp_path):
    inputs = keras.Input(SHAPE[1:])
    model = keras.Model(inputs, Pointwise(6)(inputs))
    model.quantize("int8")
    expected = model.predict(_x(), verbose=0)
    model.save(tmp_path / "int8.keras")
    reloaded = keras.saving.load_model(tmp_path / "int8.keras")
    assert reloaded.layers[1].quantization_mode == "int8"
    np.testing.assert_allclose(reloaded.predict(_x(), verbose=0), expected, rtol=1e-6)
