"""The one home for what every keras-nin layer shares.

Argument validation that raises our clear errors, the channel axis of a
`data_format`, channel rounding, and the decorator that registers a layer as
Keras-serializable. Layers import these instead of re-deriving them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TypeVar

import keras

PACKAGE = "keras_nin"
DATA_FORMATS = ("channels_last", "channels_first")

T = TypeVar("T")


def register_serializable(cls: type[T]) -> type[T]:
    """Register `cls` with Keras under the `keras_nin>` package prefix."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


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


def standardize_data_format(data_format: str | None) -> str:
    """Return `data_format`, or Keras's configured default when it is `None`."""
    if data_format is None:
        return keras.config.image_data_format()
    return check_choice("data_format", data_format, DATA_FORMATS)


def channel_axis(data_format: str) -> int:
    """The channel axis of an input in `data_format`: -1 or 1."""
    return -1 if data_format == "channels_last" else 1


def check_input_shape(
    layer_name: str,
    input_shape: Sequence[int | None],
    data_format: str,
    ranks: Sequence[int] = (3, 4, 5),
) -> int:
    """Validate the rank of `input_shape` and return its (known) channel count.

    Raises:
        ValueError: if the rank is not in `ranks` or the channel dimension is
            `None`.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"Invalid input shape for `{layer_name}`. Expected an input of rank "
            f"{expected} (batch, spatial dimensions..., channels), "
            f"received rank {len(input_shape)}: input_shape={input_shape}."
        )
    channels = input_shape[channel_axis(data_format)]
    if channels is None:
        raise ValueError(
            f"Invalid input shape for `{layer_name}`. The channel dimension "
            f"(axis {channel_axis(data_format)} for data_format="
            f"'{data_format}') must be known, received None: "
            f"input_shape={input_shape}."
        )
    return int(channels)


def round_channels(value: float) -> int:
    """Round a fractional channel count to the nearest integer, at least 1.

    Halves round up (`2.5 -> 3`), unlike Python's `round`, which rounds halves
    to even: a channel count should not depend on the parity of its neighbour.
    """
    return max(1, math.floor(value + 0.5))
