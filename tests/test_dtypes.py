"""float16 and bfloat16: inputs, pure policies and mixed precision.

Every registered layer (in one model) and the NiN model are run with the same
weights as in float32. Tolerance, relative to the largest float32 output:
float16 keeps 11 significant bits (unit roundoff 2**-11 ≈ 4.9e-4), bfloat16
keeps 8 (2**-8 ≈ 3.9e-3); a block rounds after each of a few convolutions and
norms, and the measured worst errors were 9e-4 and 5.9e-3 on every backend.
We allow about ten unit roundoffs: 5e-3 and 4e-2.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import randomize_weights
from public_layers import (
    LAYERS,
    all_layers_input,
    all_layers_model,
    make_nin,
    nin_input,
)

TOLERANCE = {"float16": 5e-3, "bfloat16": 4e-2, "float32": 1e-6}
# The pure "float16"/"bfloat16" policies behave like the mixed ones minus the
# float32 variables; left out to keep the JAX run (one compilation each) short.
POLICIES = ["mixed_float16", "mixed_bfloat16"]


def as_float32(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(keras.ops.cast(tensor, "float32"))


def assert_close(y, reference, dtype: str, what: str) -> None:
    error = np.abs(y - reference).max() / np.abs(reference).max()
    assert error <= TOLERANCE[dtype], (what, dtype, error)


@pytest.fixture(scope="module")
def float32_reference():
    keras.utils.set_random_seed(0)
    model = all_layers_model()
    randomize_weights(model)
    x = all_layers_input()
    outputs = model.predict(x, verbose=0)
    return model.get_weights(), x, outputs


@pytest.mark.parametrize("policy", POLICIES)
def test_every_layer_under_a_dtype_policy(policy, float32_reference):
    weights, x, expected = float32_reference
    policy = keras.DTypePolicy(policy)
    keras.config.set_dtype_policy(policy)
    model = all_layers_model()
    model.set_weights(weights)
    # predict: one compiled function (JAX compiles eager ops one by one).
    outputs = model.predict(x, verbose=0)
    for case, layer, y, reference in zip(
        LAYERS, model.layers[1:], outputs, expected, strict=True
    ):
        assert keras.backend.standardize_dtype(y.dtype) == policy.compute_dtype
        assert layer.weights, case.name
        for weight in layer.weights:
            assert weight.dtype == policy.variable_dtype, weight.path
        assert_close(as_float32(y), reference, policy.compute_dtype, case.name)


@pytest.mark.parametrize("input_dtype", ["float16", "bfloat16"])
def test_float32_layers_take_half_precision_inputs(input_dtype, float32_reference):
    """Inputs are cast to the compute dtype: float32 out, close to float32."""
    weights, x, expected = float32_reference
    model = all_layers_model()
    model.set_weights(weights)
    x = keras.ops.convert_to_numpy(keras.ops.cast(x, input_dtype))
    outputs = model.predict(x, verbose=0)
    for case, y, reference in zip(LAYERS, outputs, expected, strict=True):
        assert keras.backend.standardize_dtype(y.dtype) == "float32", case.name
        # Only the input was rounded: the error is that of one rounding.
        assert_close(as_float32(y), reference, input_dtype, case.name)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_nin_model_under_mixed_precision(policy):
    x = nin_input()
    reference = make_nin()
    expected = reference.predict(x, verbose=0)
    keras.config.set_dtype_policy(policy)
    model = make_nin()
    model.set_weights(reference.get_weights())
    y = model.predict(x, verbose=0)
    compute_dtype = policy.removeprefix("mixed_")
    # The softmax output keeps the compute dtype too: Keras does not upcast it.
    assert keras.backend.standardize_dtype(y.dtype) == compute_dtype
    assert {w.dtype for w in model.weights} == {"float32"}
    assert_close(as_float32(y), expected, compute_dtype, "NiN")
