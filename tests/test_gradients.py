"""Gradients reach every trainable weight, finite and non-zero; XLA training.

Backend-neutral: one plain SGD step (no momentum) moves each weight by
`-learning_rate * gradient`, so the step's change *is* the gradient.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import BACKEND
from public_layers import (
    LAYERS,
    all_layers_input,
    all_layers_model,
    make_nin,
    nin_input,
)


def one_sgd_step_changes(model: keras.Model, x, y, **compile_kwargs) -> dict:
    """Each trainable weight's change in one SGD step: its gradient, scaled."""
    # Rate 0.1: the step is `0.1 * gradient`, never zero where the gradient is not.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", **compile_kwargs)
    before = {w.path: keras.ops.convert_to_numpy(w) for w in model.trainable_weights}
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0, shuffle=False)
    return {
        w.path: before[w.path] - keras.ops.convert_to_numpy(w)
        for w in model.trainable_weights
    }


def assert_finite_and_non_zero(gradients: dict) -> None:
    assert gradients
    for path, gradient in gradients.items():
        assert np.isfinite(gradient).all(), path
        assert np.abs(gradient).max() > 0, f"no gradient reaches {path}"


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_every_trainable_weight_of_every_layer_gets_a_gradient(data_format):
    """Every layer in one model (one compilation on JAX), one loss per output."""
    model = all_layers_model(4, data_format)
    x = all_layers_input(4, data_format, batch=4)
    rng = np.random.default_rng(1)
    y = [
        rng.standard_normal((len(x), *s[1:])).astype("float32")
        for s in model.output_shape
    ]
    gradients = one_sgd_step_changes(model, x, y)
    for case, layer in zip(LAYERS, model.layers[1:], strict=True):
        assert isinstance(layer, case.cls)
        assert {w.path for w in layer.trainable_weights} <= set(gradients)
    assert_finite_and_non_zero(gradients)


def test_nin_model_weights_all_get_gradients():
    model = make_nin()
    x = nin_input(4)
    y = np.eye(4, dtype="float32")
    gradients = one_sgd_step_changes(model, x, y)
    assert len(gradients) == 18  # 3 blocks × 3 convolutions × (kernel, bias)
    assert_finite_and_non_zero(gradients)


@pytest.mark.skipif(
    BACKEND == "torch",
    reason="Keras's torch backend compiles `jit_compile=True` with torch.compile "
    "(dynamo), which fails on NiN's backward pass with torch 2.13 CPU: "
    "'expected size 192==192, stride 1==16 ... Error in op: "
    "aten.replication_pad2d_backward' (a fake-kernel stride mismatch inside "
    "torch); eager training is tested everywhere else",
)
def test_nin_trains_under_jit_compile():
    """XLA on TensorFlow (jit_compile=True) and JAX (always jitted): same step."""
    x = nin_input(8)
    y = (np.arange(8) % 4).astype("int32")
    losses = {}
    # JAX always jits `fit`; its `jit_compile=False` is a slow eager loop.
    for jit_compile in (False, True) if BACKEND == "tensorflow" else (True,):
        keras.utils.set_random_seed(3)
        model = make_nin()
        model.compile(
            optimizer=keras.optimizers.SGD(0.05),
            loss="sparse_categorical_crossentropy",
            jit_compile=jit_compile,
        )
        history = model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False)
        losses[jit_compile] = history.history["loss"]
        if jit_compile and BACKEND == "tensorflow":
            assert model.jit_compile
    assert np.isfinite(losses[True]).all()
    assert losses[True][-1] < losses[True][0]
    if False in losses:
        # XLA may fuse and reorder float32 sums: equal to about 1e-4 relative.
        np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
