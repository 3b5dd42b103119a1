"""The public `cost()`: the multiplies and parameters of a layer or model.

`cost(model)` walks a layer, a functional `keras.Model`, a `keras.Sequential`
or a subclassed model (`walk.py`), expands every block into its sublayers, and
applies one counting rule per layer type (`rules.py`); the result is a
`CostReport` (`report.py`). The multiplies are multiply–accumulate operations
for one example, the convention of the deeplearning.ai lecture "Inception
network motivation": a 5×5 convolution to 32 channels on a 28×28×192 input
costs `28·28 · 5·5·192 · 32 = 120,422,400`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras

from keras_nin.theory.report import CostReport, CostRow
from keras_nin.theory.shapes import check_input_shape, fully_known
from keras_nin.theory.walk import (
    Walker,
    build_on,
    copy_unbuilt,
    model_input_shapes,
    original_names,
    shapes_only,
)

__all__ = ["CostReport", "CostRow", "cost"]


def cost(obj: keras.Layer, input_shape: Sequence[int] | None = None) -> CostReport:
    """Count the multiplies and parameters of a layer or model.

    Every layer call becomes one row of the report, blocks (layers whose
    weights live in sublayers, such as `NiNBlock`) and nested models
    expanded into their sublayers. Multiplies are multiply–accumulates for one
    example, counted by the rules of the "Counting rules" table in the API
    documentation; parameters are all weights, each counted once.

    `obj` is left as it was: an object that is not built is counted on a copy
    (`type(obj).from_config(obj.get_config())`) built on `input_shape`, whose
    weights get shapes but no values, so counting allocates no weights and
    any size answers at once.

    Args:
        obj: a layer, a functional `keras.Model` or a `keras.Sequential`.
        input_shape: the shape of one input example without the batch
            dimension, e.g. `(28, 28, 192)`; a list of shapes for a model with
            several inputs. Needed when `obj` is not built, or was built with
            unknown sizes (e.g. `keras.Input((None, None, 3))`); when given
            for a built object, it replaces the shape it was built on. Sizes
            are integers (NumPy's included).

    Returns:
        A `CostReport`.

    Raises:
        TypeError: if `obj` is not a Keras layer or model.
        ValueError: if `input_shape` is needed but missing, has unknown or
            non-positive sizes, or does not match the number of inputs; or
            if `obj` is not built and cannot be copied from its config.

    Examples:
        >>> import keras
        >>> from keras_nin.layers import Pointwise
        >>> from keras_nin.theory import cost
        >>> naive = keras.Sequential([keras.layers.Conv2D(32, 5, padding="same")])
        >>> bottleneck = keras.Sequential(
        ...     [Pointwise(16), keras.layers.Conv2D(32, 5, padding="same")]
        ... )
        >>> naive_cost = cost(naive, input_shape=(28, 28, 192))
        >>> f"{naive_cost.multiplies:,}"
        '120,422,400'
        >>> bottleneck_cost = cost(bottleneck, input_shape=(28, 28, 192))
        >>> f"{bottleneck_cost.multiplies:,}"
        '12,443,648'
        >>> round(naive_cost.compare(bottleneck_cost), 2)
        9.68
    """
    if not isinstance(obj, keras.Layer):
        raise TypeError(
            "Invalid value for argument `obj`. Expected a Keras layer, a "
            f"functional keras.Model or a keras.Sequential. Received: obj={obj!r} "
            f"of type {type(obj).__name__}."
        )
    if input_shape is not None:
        shapes = check_input_shape(input_shape)
    else:
        known = model_input_shapes(obj) if obj.built else None
        if known is None or not fully_known(known):
            state = "is not built" if known is None else f"has input shape {known}"
            raise ValueError(
                f"'{obj.name}' ({type(obj).__name__}) {state}, so its cost is "
                "undefined. Pass the shape of one example without the batch "
                "dimension, e.g. `cost(model, input_shape=(28, 28, 192))`."
            )
        shapes = known
    if isinstance(obj, keras.Function):
        expected = len(keras.tree.flatten(obj.inputs))
        if len(shapes) != expected:
            raise ValueError(
                f"Invalid value for argument `input_shape`. '{obj.name}' has "
                f"{expected} inputs, received {len(shapes)} shapes: "
                f"input_shape={input_shape!r}."
            )
        dtypes = [x.dtype for x in keras.tree.flatten(obj.inputs)]
    else:
        dtypes = [obj.compute_dtype] * len(shapes)
    inputs = [
        keras.KerasTensor((None, *shape), dtype=dtype)
        for shape, dtype in zip(shapes, dtypes, strict=True)
    ]
    with shapes_only():
        target, names = obj, {}
        if not obj.built:
            target = copy_unbuilt(obj)
            names = original_names(obj, target)
            build_on(target, inputs)
        walker = Walker(names)
        walker.call(target, (inputs[0] if len(inputs) == 1 else inputs,), {}, obj.name)
    # Rows are named from the costed object down: drop its own name.
    prefix = obj.name + "/"
    rows = tuple(
        dataclasses.replace(row, name=row.name.removeprefix(prefix))
        for row in walker.rows
    )
    return CostReport(
        name=obj.name,
        input_shape=shapes[0] if len(shapes) == 1 else shapes,
        rows=rows,
    )
