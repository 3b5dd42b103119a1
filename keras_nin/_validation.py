"""Argument checks and the messages they raise.

Every public constructor and helper of keras-nin (layers, models, theory)
validates its arguments here, so every error names the argument, says what was
expected and shows what was received, in Keras's own words:
"Invalid value for argument `filters`. Expected a strictly positive integer.
Received: filters=0."
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import activations

DATA_FORMATS = ("channels_last", "channels_first")
NORMALIZATIONS = ("batch", "layer", "group")


def _invalid(name: str, value: object, expected: str) -> str:
    return (
        f"Invalid value for argument `{name}`. Expected {expected}. "
        f"Received: {name}={value!r}."
    )


def check_positive_int(name: str, value: object) -> int:
    """Return `value` as an `int` if it is a strictly positive integer.

    Raises:
        TypeError: if `value` is not an integer (booleans included).
        ValueError: if `value` is zero or negative.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_invalid(name, value, "a strictly positive integer"))
    if value <= 0:
        raise ValueError(_invalid(name, value, "a strictly positive integer"))
    return int(value)


def check_real(name: str, value: object) -> float:
    """Return `value` as a finite `float`, raising if it is not a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_invalid(name, value, "a real number"))
    if not math.isfinite(value):
        raise ValueError(_invalid(name, value, "a finite number"))
    return float(value)


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return `value` if it is one of `choices` (case-insensitive for strings)."""
    expected = "one of " + ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(_invalid(name, value, expected))
    if value.lower() not in choices:
        raise ValueError(_invalid(name, value, expected))
    return value.lower()


def get_keras_object(name: str, module: Any, value: object) -> Any:
    """`module.get(value)` (an activation, initializer, ...) naming `name` on error.

    Keras's own message ("Could not interpret activation function identifier:
    3") does not say which argument was wrong; ours does, and keeps Keras's.

    Raises:
        ValueError, TypeError: for a value `module` does not know.
    """
    try:
        return module.get(value)
    except (ValueError, TypeError) as error:
        kind = module.__name__.rsplit(".", 1)[-1]
        raise type(error)(
            _invalid(name, value, f"a callable or a name known to keras.{kind}")
            + f" ({error})"
        ) from error


def get_activation(name: str, value: object) -> Any:
    """`keras.activations.get(value)`, raising an error that names `name`."""
    return get_keras_object(name, activations, value)


def standardize_data_format(data_format: str | None) -> str:
    """Return `data_format`, or Keras's configured default when it is `None`."""
    if data_format is None:
        return keras.config.image_data_format()
    return check_choice("data_format", data_format, DATA_FORMATS)


def channel_axis(data_format: str) -> int:
    """The channel axis of an input in `data_format`: -1 or 1."""
    return -1 if data_format == "channels_last" else 1


def check_rate(name: str, value: object) -> float:
    """Return `value` as a `float` if it is a probability in `[0, 1)`.

    Raises:
        TypeError: if `value` is not a real number.
        ValueError: if `value` is not in `[0, 1)`.
    """
    value = check_real(name, value)
    if not 0 <= value < 1:
        raise ValueError(_invalid(name, value, "a rate in [0, 1)"))
    return value


def from_array(value: object) -> object:
    """A 0-D or 1-D NumPy array as Keras reads it: its item, or its list.

    `keras.layers.Conv2D(8, np.array([3, 3]))` works; so must ours.
    """
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return value.tolist()
    return value


def check_int_or_tuple(name: str, value: object) -> int | tuple[int, ...]:
    """Return a kernel size or stride: a positive int or a tuple of them.

    The length of a tuple is checked against the input's spatial rank later,
    by `expand_to_rank` in `build()`.

    Raises:
        TypeError: if `value` is neither an integer nor a sequence of integers.
        ValueError: if an entry is zero or negative, or the sequence is empty.
    """
    expected = "a strictly positive integer or a tuple of them"
    value = from_array(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(_invalid(name, value, expected))
        return int(value)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(_invalid(name, value, expected))
    if not value:
        raise ValueError(_invalid(name, value, expected))
    for entry in value:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
            raise TypeError(_invalid(name, value, expected))
        if entry <= 0:
            raise ValueError(_invalid(name, value, expected))
    return tuple(int(entry) for entry in value)


def expand_to_rank(
    name: str, value: int | Sequence[int], spatial_rank: int
) -> tuple[int, ...]:
    """Broadcast an int to `spatial_rank` entries; check a tuple's length.

    Raises:
        ValueError: if a tuple's length is not `spatial_rank`.
    """
    if isinstance(value, numbers.Integral):
        return (int(value),) * spatial_rank
    value = tuple(value)
    if len(value) != spatial_rank:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected an int or a tuple "
            f"of {spatial_rank} ints, one per spatial dimension of the input. "
            f"Received: {name}={value!r}."
        )
    return value


def check_normalization(value: object) -> str | None:
    """Return `None` or one of `NORMALIZATIONS` (case-insensitive).

    Raises:
        TypeError: if `value` is neither `None` nor a string.
        ValueError: for an unknown name.
    """
    if value is None:
        return None
    expected = "None or one of " + ", ".join(repr(c) for c in NORMALIZATIONS)
    if not isinstance(value, str):
        raise TypeError(_invalid("normalization", value, expected))
    if value.lower() not in NORMALIZATIONS:
        raise ValueError(_invalid("normalization", value, expected))
    return value.lower()


def check_norm_momentum(value: object) -> float:
    """Return `value` as a `float` if it is a momentum in `[0, 1)`."""
    value = check_real("norm_momentum", value)
    if not 0 <= value < 1:
        raise ValueError(_invalid("norm_momentum", value, "a momentum in [0, 1)"))
    return value


def check_norm_epsilon(value: object) -> float:
    """Return `value` as a `float` if it is strictly positive."""
    value = check_real("norm_epsilon", value)
    if not value > 0:
        raise ValueError(_invalid("norm_epsilon", value, "a positive number"))
    return value


def get_channel_activation(name: str, value: object) -> Any:
    """`get_activation` for a layer's output, which must keep its channels.

    Raises:
        ValueError: for `glu`, which halves the channel axis (the layer's
            output shape would no longer be what it declares).
    """
    activation = get_activation(name, value)
    if activation is getattr(keras.activations, "glu", None):
        raise ValueError(
            _invalid(
                name,
                value,
                "an activation that keeps the channel count (glu halves it: "
                "use twice the filters and apply keras.activations.glu after)",
            )
        )
    return activation
