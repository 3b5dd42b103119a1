"""The six weight arguments of `Pointwise` and of every block.

`kernel_initializer`, `bias_initializer`, `kernel_regularizer`,
`bias_regularizer`, `kernel_constraint`, `bias_constraint`: validated once
(errors name the argument), serialized only in `get_config()`, and copied for
each sublayer so that no two sublayers start from the same random numbers.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import constraints, initializers, regularizers

from keras_nin._validation import get_keras_object

WEIGHT_ARGUMENTS = {
    "kernel_initializer": initializers,
    "bias_initializer": initializers,
    "kernel_regularizer": regularizers,
    "bias_regularizer": regularizers,
    "kernel_constraint": constraints,
    "bias_constraint": constraints,
}


# Keras's defaults, as in `keras.layers.Dense` and `Conv2D`.
DEFAULTS = {
    "kernel_initializer": "glorot_uniform",
    "bias_initializer": "zeros",
    "kernel_regularizer": None,
    "bias_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
}


def weight_arguments(**given: Any) -> dict[str, Any]:
    """Validate the weight arguments and return them as Keras objects.

    `given` holds some of the six arguments by name; the others take Keras's
    defaults. Serializing happens only in `get_config()`
    (`serialize_weight_arguments`): Keras's serializer imports TensorFlow,
    which costs about half a gigabyte and a second on the JAX and PyTorch
    backends, so it must not run when a layer is merely constructed.

    Raises:
        ValueError, TypeError: for an unknown initializer, regularizer or
            constraint, naming the argument.
    """
    return {
        name: get_keras_object(name, module, given.get(name, DEFAULTS[name]))
        for name, module in WEIGHT_ARGUMENTS.items()
    }


def serialize_weight_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The `get_config()` form of what `weight_arguments` returned."""
    return {
        name: WEIGHT_ARGUMENTS[name].serialize(value)
        for name, value in arguments.items()
    }


def clone_initializer(initializer: Any, offset: int = 0) -> Any:
    """A fresh copy of `initializer` for one sublayer.

    A Keras 3 initializer returns the same values at every call, so one
    instance handed to two sublayers starts them identical (keras-hub's
    `clone_initializer` exists for the same reason). An unseeded copy draws
    its own seed from Python's `random` (so `keras.utils.set_random_seed`
    still makes a model reproducible); a seeded one gets `seed + offset`, so
    the sublayers of a seeded block differ from each other and stay
    reproducible. A plain callable is returned as it is.
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    config = initializer.get_config()
    if isinstance(config.get("seed"), int):
        config["seed"] += offset
    return type(initializer).from_config(config)


def sublayer_weight_arguments(arguments: dict[str, Any], offset: int) -> dict[str, Any]:
    """`arguments` with both initializers cloned for the sublayer `offset`."""
    cloned = dict(arguments)
    for name in ("kernel_initializer", "bias_initializer"):
        cloned[name] = clone_initializer(arguments[name], offset)
    return cloned
