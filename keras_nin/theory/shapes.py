"""Shapes as `cost` handles them: tuples of sizes without the batch dimension."""

from __future__ import annotations

import numbers
from typing import Any

import keras

Shape = tuple[int | None, ...]


def is_size(value: object) -> bool:
    """An integer size: any `numbers.Integral` (NumPy's too), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_shape(value: Any) -> bool:
    """A tuple or list of sizes, `None` for unknown ones."""
    return isinstance(value, (tuple, list)) and all(
        d is None or is_size(d) for d in value
    )


def shapes_of(structure: Any) -> Any:
    """The shapes, batch dimension dropped, of a structure of KerasTensors."""
    return keras.tree.map_structure(lambda t: tuple(t.shape)[1:], structure)


def drop_batch(shapes: Any) -> Any:
    """Drop the first size of a shape, or of every shape of a structure."""
    if is_shape(shapes):
        return tuple(shapes)[1:]
    if isinstance(shapes, dict):
        return {key: drop_batch(value) for key, value in shapes.items()}
    return [drop_batch(shape) for shape in shapes]


def fully_known(shapes: Any) -> bool:
    """Whether every size of a shape (or structure of shapes) is known."""
    if shapes is None:
        return False
    if is_shape(shapes):
        return None not in shapes
    values = shapes.values() if isinstance(shapes, dict) else shapes
    return all(fully_known(shape) for shape in values)


def single(shapes: Any) -> Any:
    """The one shape of a single-tensor structure, else the structure."""
    while not is_shape(shapes) and isinstance(shapes, (list, tuple)):
        if len(shapes) != 1:
            break
        shapes = shapes[0]
    return shapes


def check_input_shape(input_shape: Any) -> list[tuple[int, ...]]:
    """`input_shape` of `cost` as a list of shapes of Python ints.

    Raises:
        ValueError: unless it is one shape, or a list of shapes, of known
            positive integer sizes (NumPy integers included).
    """
    shapes = [input_shape] if is_shape(input_shape) else input_shape
    if not isinstance(shapes, (list, tuple)) or not all(
        is_shape(shape) and shape and all(d is not None and d > 0 for d in shape)
        for shape in shapes
    ):
        raise ValueError(
            "Invalid value for argument `input_shape`. Expected the shape of one "
            "example without the batch dimension, all sizes known and positive, "
            "e.g. (28, 28, 192) (or a list of such shapes for several inputs). "
            f"Received: input_shape={input_shape!r}."
        )
    return [tuple(int(d) for d in shape) for shape in shapes]
