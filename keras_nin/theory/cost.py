"""What a network costs: multiplies and parameters, per layer and in total.

`cost(model)` walks a layer, a functional `keras.Model` or a
`keras.Sequential`, expands every block into its sublayers, and applies one
counting rule per layer type (the `_RULES` table below). The multiplies are
multiply–accumulate operations for one example, the convention of the
deeplearning.ai lecture "Inception network motivation": a 5×5 convolution to
32 channels on a 28×28×192 input costs `28·28 · 5·5·192 · 32 = 120,422,400`.

How shapes are found, the same two ways `model.summary()` uses:

- Layers of a functional model are visited by running Keras's own graph
  runner on symbolic inputs of the requested shape, so each call of a layer
  is counted with its real input and output shapes (a layer used twice is
  counted twice; its weights once).
- Sublayers of a custom block are created and built by the block, and Keras
  records the shape each was built on; their output shape is then
  `compute_output_shape` of that. When the block is costed on a different
  input shape than it was built on, a fresh copy of the block
  (`from_config`) is built on the requested shape to read its sublayers'
  shapes; the weights counted are always the original's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import keras

from keras_nin.layers import Pointwise

Shape = tuple[int | None, ...]

# --------------------------------------------------------------------------
# Counting rules. A rule maps (layer, input shape, output shape) — shapes
# without the batch dimension, a list of shapes for merge layers — to the
# multiply–accumulates of one example.
# --------------------------------------------------------------------------


def _spatial(shape: Shape, data_format: str) -> Shape:
    return shape[:-1] if data_format == "channels_last" else shape[1:]


def _channels(shape: Shape, data_format: str) -> int:
    return shape[-1] if data_format == "channels_last" else shape[0]


def _conv(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """out_positions × kernel_volume × C_in/groups × C_out."""
    positions = math.prod(_spatial(output_shape, layer.data_format))
    input_channels = _channels(input_shape, layer.data_format)
    groups = getattr(layer, "groups", 1)
    kernel_volume = math.prod(getattr(layer, "kernel_size", (1,)))
    return positions * kernel_volume * (input_channels // groups) * layer.filters


def _conv_transpose(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """in_positions × kernel_volume × C_in × C_out: each input scatters a kernel."""
    positions = math.prod(_spatial(input_shape, layer.data_format))
    input_channels = _channels(input_shape, layer.data_format)
    return positions * math.prod(layer.kernel_size) * input_channels * layer.filters


def _depthwise(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """out_positions × kernel_volume × C_in × depth_multiplier."""
    positions = math.prod(_spatial(output_shape, layer.data_format))
    input_channels = _channels(input_shape, layer.data_format)
    return (
        positions
        * math.prod(layer.kernel_size)
        * input_channels
        * layer.depth_multiplier
    )


def _separable(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """The depthwise part plus the 1×1 part, both at the output positions."""
    positions = math.prod(_spatial(output_shape, layer.data_format))
    middle = _channels(input_shape, layer.data_format) * layer.depth_multiplier
    depthwise = positions * math.prod(layer.kernel_size) * middle
    return depthwise + positions * middle * layer.filters


def _dense(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """C_in × C_out at every position (every index but the last)."""
    return math.prod(input_shape[:-1]) * input_shape[-1] * layer.units


def _zero(layer: Any, input_shape: Any, output_shape: Any) -> int:
    """Normalization, pooling, activations, element-wise merges, reshaping: 0."""
    return 0


_ZERO_COST_LAYERS = (
    # Normalization: a scale and shift per element, not a product of weights
    # with a window of inputs.
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "RMSNormalization",
    "Normalization",
    "Rescaling",
    # Pooling.
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    # Activations.
    "Activation",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    # Element-wise merges and concatenation.
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    # Regularization, reshaping, padding, lookups: no arithmetic on weights.
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Identity",
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "Embedding",
)

Rule = Callable[[Any, Any, Any], int]

#: One counting rule per layer type; the most specific class in a layer's MRO
#: wins, so a subclass of `Conv2D` is counted as a `Conv2D`.
_RULES: dict[type, Rule] = {
    Pointwise: _conv,
    keras.layers.Conv1D: _conv,
    keras.layers.Conv2D: _conv,
    keras.layers.Conv3D: _conv,
    keras.layers.Conv1DTranspose: _conv_transpose,
    keras.layers.Conv2DTranspose: _conv_transpose,
    keras.layers.Conv3DTranspose: _conv_transpose,
    keras.layers.DepthwiseConv1D: _depthwise,
    keras.layers.DepthwiseConv2D: _depthwise,
    keras.layers.SeparableConv1D: _separable,
    keras.layers.SeparableConv2D: _separable,
    keras.layers.Dense: _dense,
    keras.layers.InputLayer: _zero,
    **{
        getattr(keras.layers, name): _zero
        for name in _ZERO_COST_LAYERS
        if hasattr(keras.layers, name)  # some exist only in newer Keras
    },
}

# Operations (not layers) of a functional graph, e.g. `keras.ops.add(x, y)`,
# count 0 like the element-wise layers, except these products of tensors.
_PRODUCT_OPS = {"Matmul", "Einsum", "Tensordot", "Dot", "Inner", "Outer"}

NO_RULE = "no counting rule"
SHAPE_UNKNOWN = "shape unknown"


def _rule_for(layer: Any) -> Rule | None:
    for cls in type(layer).__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return None


# --------------------------------------------------------------------------
# The report.
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CostRow:
    """One layer call in a `CostReport`.

    Attributes:
        name: the layer's path from the costed object, blocks and nested
            models joined by `/`, e.g. `"bottleneck/reduce"`.
        layer_class: the class name, e.g. `"Conv2D"`.
        output_shape: the output shape without the batch dimension (a list
            of shapes for several outputs), or `None` when unknown.
        multiplies: multiply–accumulates for one example, or `None` when they
            cannot be counted (see `note`).
        params: weights first seen at this row (a shared layer's weights are
            counted at its first call only).
        trainable_params: the trainable part of `params`.
        note: empty, or why `multiplies` is `None` or assumed 0.
    """

    name: str
    layer_class: str
    output_shape: Any
    multiplies: int | None
    params: int
    trainable_params: int
    note: str = ""


def _format_int(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if _is_shape(shape):
        dims = ["?" if d is None else str(d) for d in shape]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    return "[" + ", ".join(_format_shape(s) for s in shape) + "]"


@dataclasses.dataclass(frozen=True)
class CostReport:
    """Multiplies and parameters of a network, per layer and in total.

    Made by `cost`. `str(report)` is a text table; `report.to_markdown()` the
    same table in Markdown. The totals sum the rows:
    `report.multiplies == sum(row.multiplies for row in report.rows)` when no
    layer is unknown, and `report.params == sum(row.params ...)`.

    Attributes:
        name: the name of the costed layer or model.
        input_shape: the input shape without the batch dimension (a list of
            shapes for several inputs).
        rows: one `CostRow` per layer call, blocks expanded into their
            sublayers, in call order.
    """

    name: str
    input_shape: Any
    rows: tuple[CostRow, ...]

    @property
    def multiplies(self) -> int:
        """Multiply–accumulates for one example, summed over the rows.

        A lower bound when `unknown_layers` is not empty.
        """
        return sum(row.multiplies or 0 for row in self.rows)

    @property
    def params(self) -> int:
        """All weights, trainable or not, each counted once."""
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self) -> int:
        """The trainable weights, each counted once."""
        return sum(row.trainable_params for row in self.rows)

    @property
    def unknown_layers(self) -> tuple[str, ...]:
        """Names of the rows whose multiplies could not be counted."""
        return tuple(row.name for row in self.rows if row.multiplies is None)

    def compare(self, other: CostReport) -> float:
        """How many times more multiplies this network needs than `other`.

        `a.compare(b) == a.multiplies / b.multiplies`: above 1 when `a` is the
        more expensive one. Compare the naive 5×5 convolution with its
        bottleneck version to get the lecture's "about ten times fewer".

        Args:
            other: the `CostReport` to divide by.

        Returns:
            The ratio of multiplies, a float.

        Raises:
            TypeError: if `other` is not a `CostReport`.
            ValueError: if `other` counts 0 multiplies.
        """
        if not isinstance(other, CostReport):
            raise TypeError(
                "Invalid value for argument `other`. Expected a CostReport, "
                f"e.g. cost(model). Received: other={other!r}."
            )
        if other.multiplies == 0:
            raise ValueError(
                f"Cannot compare with '{other.name}': it counts 0 multiplies, "
                "so the ratio is undefined."
            )
        return self.multiplies / other.multiplies

    def _table(self) -> tuple[list[str], list[list[str]], list[str]]:
        header = ["Layer", "Class", "Output shape", "Multiplies", "Params"]
        body = [
            [
                row.name,
                row.layer_class,
                _format_shape(row.output_shape),
                _format_int(row.multiplies) + (f" ({row.note})" if row.note else ""),
                _format_int(row.params),
            ]
            for row in self.rows
        ]
        total = [
            "Total",
            "",
            "",
            _format_int(self.multiplies) + ("+?" if self.unknown_layers else ""),
            _format_int(self.params),
        ]
        return header, body, total

    def _footer(self) -> list[str]:
        lines = [
            f"Input shape {_format_shape(self.input_shape)}, one example; "
            f"trainable params: {self.trainable_params:,}."
        ]
        if self.unknown_layers:
            lines.append(
                "Multiplies not counted (total is a lower bound): "
                + ", ".join(self.unknown_layers)
                + "."
            )
        return lines

    def __str__(self) -> str:
        header, body, total = self._table()
        widths = [
            max(len(line[i]) for line in [header, *body, total])
            for i in range(len(header))
        ]
        right = {3, 4}  # numbers align right

        def render(cells: list[str]) -> str:
            return "  ".join(
                cell.rjust(width) if i in right else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "-" * len(render(["-" * w for w in widths]))
        lines = [f"Cost of '{self.name}'", render(header), rule]
        lines += [render(cells) for cells in body]
        lines += [rule, render(total), *self._footer()]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The table in Markdown, for documentation pages.

        Returns:
            A Markdown table with a bold total row, then the footer lines.
        """
        header, body, total = self._table()

        def render(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        lines = [render(header), "|" + "---|" * 2 + "---|" + "---:|" * 2]
        lines += [render([f"`{cells[0]}`", *cells[1:]]) for cells in body]
        lines.append(render([f"**{cell}**" if cell else "" for cell in total]))
        lines += ["", *self._footer()]
        return "\n".join(lines)


# --------------------------------------------------------------------------
# The walk.
# --------------------------------------------------------------------------


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value
    )


def _shapes_of(structure: Any) -> Any:
    """The shapes, batch dimension dropped, of a structure of KerasTensors."""
    return keras.tree.map_structure(lambda t: tuple(t.shape)[1:], structure)


def _drop_batch(shapes: Any) -> Any:
    if _is_shape(shapes):
        return tuple(shapes)[1:]
    if isinstance(shapes, dict):
        return {key: _drop_batch(value) for key, value in shapes.items()}
    return [_drop_batch(shape) for shape in shapes]


def _fully_known(shapes: Any) -> bool:
    if shapes is None:
        return False
    if _is_shape(shapes):
        return None not in shapes
    values = shapes.values() if isinstance(shapes, dict) else shapes
    return all(_fully_known(shape) for shape in values)


def _single(shapes: Any) -> Any:
    """The one shape of a single-tensor structure, else the structure."""
    while not _is_shape(shapes) and isinstance(shapes, (list, tuple)):
        if len(shapes) != 1:
            break
        shapes = shapes[0]
    return shapes


def _sublayers(layer: keras.Layer) -> list[keras.Layer]:
    # Keras's own list of directly tracked sublayers, duplicates removed, in
    # the order they were assigned (what `model.summary()` walks too).
    return layer._flatten_layers(include_self=False, recursive=False)


def _built_input_shapes(layer: keras.Layer) -> Any:
    """The input shape(s), with batch, that Keras recorded when building."""
    config = layer.get_build_config()
    if not config:
        return None
    if "input_shape" in config:
        return config["input_shape"]
    shapes = list(config.get("shapes_dict", {}).values())
    return shapes[0] if len(shapes) == 1 else shapes


class _Walker:
    def __init__(self) -> None:
        self.rows: list[CostRow] = []
        self._seen: set[int] = set()

    # Each visit returns the call's output as a structure of KerasTensors.

    def call(self, op: Any, args: tuple, kwargs: dict, name: str) -> Any:
        if isinstance(op, keras.Sequential):
            (outputs,) = args[:1]
            for layer in op.layers:
                outputs = self.call(layer, (outputs,), {}, f"{name}/{layer.name}")
            return outputs
        if isinstance(op, keras.Function):  # a functional model
            inputs = keras.tree.flatten(args[0] if args else kwargs)

            def operation_fn(inner: Any) -> Callable[..., Any]:
                return lambda *a, **k: self.call(inner, a, k, f"{name}/{inner.name}")

            return op._run_through_graph(inputs, operation_fn=operation_fn)
        outputs = op.compute_output_spec(*args, **kwargs)
        input_shapes = _shapes_of(args[0] if len(args) == 1 else list(args))
        output_shapes = _shapes_of(outputs)
        if isinstance(op, keras.Layer):
            self.layer(op, input_shapes, output_shapes, name, shaped=None)
        else:  # an operation such as keras.ops.add in a functional graph
            product = type(op).__name__ in _PRODUCT_OPS
            self._add(
                name, op, output_shapes, None if product else 0, [], NO_RULE * product
            )
        return outputs

    def layer(
        self,
        layer: keras.Layer,
        input_shapes: Any,
        output_shapes: Any,
        name: str,
        shaped: keras.Layer | None,
    ) -> None:
        rule = _rule_for(layer)
        sublayers = _sublayers(layer)
        if rule is None and sublayers:
            self._block(layer, input_shapes, output_shapes, name, shaped, sublayers)
            return
        input_shapes, output_shapes = _single(input_shapes), _single(output_shapes)
        if rule is _zero:
            multiplies, note = 0, ""
        elif rule is None:
            # No rule: weightless layers (a custom activation, a Lambda) are
            # assumed free; a layer with weights multiplies them somehow.
            multiplies, note = (None, NO_RULE) if layer.weights else (0, "")
        elif not (_fully_known(input_shapes) and _fully_known(output_shapes)):
            multiplies, note = None, SHAPE_UNKNOWN
        else:
            multiplies, note = rule(layer, input_shapes, output_shapes), ""
        self._add(name, layer, output_shapes, multiplies, layer, note)

    def _block(self, layer, input_shapes, output_shapes, name, shaped, sublayers):
        shaped = shaped or _shaped_twin(layer, _single(input_shapes))
        shaped_sublayers = _sublayers(shaped)
        if len(shaped_sublayers) != len(sublayers):
            shaped_sublayers = sublayers
        for sublayer, shaped_sublayer in zip(sublayers, shaped_sublayers, strict=True):
            self.built(sublayer, shaped_sublayer, f"{name}/{sublayer.name}")
        own_weights = {id(w) for w in layer.weights} - {
            id(w) for sublayer in sublayers for w in sublayer.weights
        }
        if own_weights:  # weights used by the block's own call: no rule for it
            own = [w for w in layer.weights if id(w) in own_weights]
            self._add(name, layer, _single(output_shapes), None, own, NO_RULE)

    def built(self, layer: keras.Layer, shaped: keras.Layer, name: str) -> None:
        """Visit a block's sublayer from the shape it was built on."""
        if isinstance(shaped, keras.Function) or (
            isinstance(shaped, keras.Sequential) and shaped.built
        ):
            try:
                inputs = shaped.inputs
            except (AttributeError, ValueError):
                inputs = None
            if inputs is not None:
                self.call(layer, (inputs,), {}, name)
                return
        input_shapes = _built_input_shapes(shaped)
        if input_shapes is None:
            note = "not built" if not layer.weights else NO_RULE
            self._add(name, layer, None, 0 if not layer.weights else None, layer, note)
            return
        try:
            output_shapes = shaped.compute_output_shape(input_shapes)
        except Exception:  # shape inference is optional for custom layers
            output_shapes = None
        self.layer(
            layer,
            _drop_batch(input_shapes),
            None if output_shapes is None else _drop_batch(output_shapes),
            name,
            shaped=shaped,
        )

    def _add(self, name, op, output_shapes, multiplies, weights, note) -> None:
        if isinstance(weights, keras.Layer):
            trainable = {id(w) for w in weights.trainable_weights}
            weights = weights.weights
        else:
            trainable = {id(w) for w in weights if w.trainable}
        new = [w for w in weights if id(w) not in self._seen]
        self._seen.update(id(w) for w in new)
        self.rows.append(
            CostRow(
                name=name,
                layer_class=type(op).__name__,
                output_shape=output_shapes,
                multiplies=multiplies,
                params=sum(math.prod(w.shape) for w in new),
                trainable_params=sum(
                    math.prod(w.shape) for w in new if id(w) in trainable
                ),
                note=note,
            )
        )


def _shaped_twin(layer: keras.Layer, input_shape: Any) -> keras.Layer:
    """`layer`, or a fresh copy built on `input_shape` if it was built on another.

    A block built on `(None, None, 64)` and costed on `(56, 56, 64)` recorded
    unknown sizes in its sublayers; a copy built on the real shape knows them.
    """
    built_shape = _built_input_shapes(layer)
    if built_shape is None or not _is_shape(built_shape) or not _is_shape(input_shape):
        return layer
    if tuple(built_shape)[1:] == tuple(input_shape):
        return layer
    try:
        twin = type(layer).from_config(layer.get_config())
        twin.build((None, *input_shape))
    except Exception:  # not every layer can be rebuilt from its config
        return layer
    return twin


def _check_input_shape(input_shape: Any) -> list[Shape]:
    shapes = [input_shape] if _is_shape(input_shape) else input_shape
    if not isinstance(shapes, (list, tuple)) or not all(
        _is_shape(shape) and shape and all(d is not None and d > 0 for d in shape)
        for shape in shapes
    ):
        raise ValueError(
            "Invalid value for argument `input_shape`. Expected the shape of one "
            "example without the batch dimension, all sizes known and positive, "
            "e.g. (28, 28, 192) (or a list of such shapes for several inputs). "
            f"Received: input_shape={input_shape!r}."
        )
    return [tuple(shape) for shape in shapes]


def _model_input_shapes(obj: keras.Layer) -> list[Shape] | None:
    """The input shapes, without batch, a built object already knows."""
    if isinstance(obj, (keras.Function, keras.Sequential)):
        try:
            return [tuple(x.shape)[1:] for x in keras.tree.flatten(obj.inputs)]
        except (AttributeError, ValueError):
            return None
    shapes = _built_input_shapes(obj)
    if shapes is None:
        return None
    shapes = _drop_batch(shapes)
    return [shapes] if _is_shape(shapes) else list(shapes)


def cost(obj: keras.Layer, input_shape: Sequence[int] | None = None) -> CostReport:
    """Count the multiplies and parameters of a layer or model.

    Every layer call becomes one row of the report, blocks (layers whose
    weights live in sublayers, such as `NiNBlock`) and nested models
    expanded into their sublayers. Multiplies are multiply–accumulates for one
    example, counted by the rules of the "Counting rules" table in the API
    documentation; parameters are all weights, each counted once.

    Args:
        obj: a layer, a functional `keras.Model` or a `keras.Sequential`.
        input_shape: the shape of one input example without the batch
            dimension, e.g. `(28, 28, 192)`; a list of shapes for a model with
            several inputs. Needed when `obj` is not built, or was built with
            unknown sizes (e.g. `keras.Input((None, None, 3))`); when given
            for a built object, it replaces the shape it was built on.

    Returns:
        A `CostReport`.

    Raises:
        TypeError: if `obj` is not a Keras layer or model.
        ValueError: if `input_shape` is needed but missing, has unknown or
            non-positive sizes, or does not match the number of inputs.

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
        shapes = _check_input_shape(input_shape)
    else:
        known = _model_input_shapes(obj) if obj.built else None
        if known is None or not _fully_known(known):
            state = "is not built" if known is None else f"has input shape {known}"
            raise ValueError(
                f"'{obj.name}' ({type(obj).__name__}) {state}, so its cost is "
                "undefined. Pass the shape of one example without the batch "
                "dimension, e.g. `cost(model, input_shape=(28, 28, 192))`."
            )
        shapes = known
    if not obj.built:
        batch_shapes = [(None, *shape) for shape in shapes]
        obj.build(batch_shapes[0] if len(batch_shapes) == 1 else batch_shapes)
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
    walker = _Walker()
    walker.call(obj, (inputs[0] if len(inputs) == 1 else inputs,), {}, obj.name)
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
