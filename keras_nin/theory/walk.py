"""Walking a layer or model: one `CostRow` per layer call, blocks expanded.

How shapes are found, the same two ways `model.summary()` uses:

- Layers of a functional model are visited by running Keras's own graph runner
  on symbolic inputs of the requested shape, so each call of a layer is counted
  with its real input and output shapes (a layer used twice is counted twice;
  its weights once).
- Sublayers of a block are created and built by the block, and Keras records
  the shape each was built on; their output shape is then
  `compute_output_shape` of that.

Nothing here builds or changes the caller's object. What needs building — an
object that is not built, or a block costed on another shape than it was built
on — is counted on a copy (`from_config`) built inside `shapes_only()`, where
Keras creates its weights with their shapes but without values: counting any
size allocates nothing.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import keras

from keras_nin.theory.report import CostRow
from keras_nin.theory.rules import PRODUCT_OPS, rule_for, zero
from keras_nin.theory.shapes import (
    Shape,
    drop_batch,
    fully_known,
    is_shape,
    shapes_of,
    single,
)

NO_RULE = "no counting rule"
SHAPE_UNKNOWN = "shape unknown"


def _keras_global_state() -> Any:
    # Keras keeps the variables created in a StatelessScope in a global list
    # and gives them values on leaving the outermost scope, or in the next
    # scope that does. There is no public way to drop ours from that list.
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - a Keras that moved it
        return None
    return global_state


@contextlib.contextmanager
def shapes_only() -> Iterator[None]:
    """Create layers' weights with shapes and no values while inside.

    `keras.StatelessScope(initialize_variables=False)` defers giving values to
    the weights created inside; on leaving, the deferred weights are dropped
    from Keras's list so that no later scope gives them values either. The
    layers built inside have shapes and parameter counts, and must not be
    called on real data.
    """
    state = _keras_global_state()
    key = "uninitialized_variables"
    pending = list(state.get_global_attribute(key, None) or []) if state else None
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        if state is not None:
            state.set_global_attribute(key, pending)


def _config_without_name(layer: keras.Layer) -> dict[str, Any] | None:
    try:
        config = dict(layer.get_config())
    except Exception:  # a custom layer without a config: nothing to compare
        return None
    config.pop("name", None)
    return config


def _differences(original: keras.Layer, copy: keras.Layer) -> list[str]:
    """Where the copy's sublayers differ from the original's, configs compared."""
    differences = []
    pairs = [(original, copy)]
    while pairs:
        first, second = pairs.pop()
        mine, theirs = _sublayers(first), _sublayers(second)
        if [type(x) for x in mine] != [type(x) for x in theirs]:
            differences.append(f"'{first.name}' holds other sublayers")
            continue
        for a, b in zip(mine, theirs, strict=True):
            config_a, config_b = _config_without_name(a), _config_without_name(b)
            if config_a is not None and config_b is not None and config_a != config_b:
                changed = sorted(
                    key for key in config_a if config_a[key] != config_b.get(key)
                )
                differences.append(
                    f"'{a.name}': "
                    + ", ".join(
                        f"{k}={config_b.get(k)!r}, not {config_a[k]!r}" for k in changed
                    )
                )
            pairs.append((a, b))
    return differences


def copy_unbuilt(obj: keras.Layer) -> keras.Layer:
    """A fresh, unbuilt copy of `obj` from its configuration.

    The copy's sublayers (those its constructor creates) must have the same
    configurations as `obj`'s: Keras's automatic `get_config()` of a subclassed
    `keras.Model` holds the constructor's default arguments, not the ones
    passed, and a copy made from it would be another network.

    Raises:
        ValueError: if `obj` cannot be copied from its configuration, or the
            copy differs from it.
    """

    def refuse(reason: str) -> ValueError:
        return ValueError(
            f"'{obj.name}' ({type(obj).__name__}) is not built, and cost() "
            "leaves the caller's object as it is: it counts a copy made with "
            f"`type(obj).from_config(obj.get_config())`, but {reason}. Build "
            "the object first, e.g. by calling it on `keras.Input(...)`, or "
            "give its class a `get_config()` that returns its constructor's "
            "arguments."
        )

    try:
        if isinstance(obj, keras.Sequential):
            # Layer by layer: custom layer classes need no registration.
            copy = keras.Sequential(
                [copy_unbuilt(layer) for layer in obj.layers],
                trainable=obj.trainable,
                name=obj.name,
            )
        else:
            copy = type(obj).from_config(obj.get_config())
    except Exception as error:
        raise refuse(f"that failed ({type(error).__name__}: {error})") from error
    differences = _differences(obj, copy)
    if differences:
        raise refuse("the copy differs: " + "; ".join(differences))
    return copy


def build_on(layer: keras.Layer, inputs: list[keras.KerasTensor]) -> None:
    """Build `layer` as a first call on `inputs` would (inside `shapes_only`)."""
    layer(inputs[0] if len(inputs) == 1 else inputs)


def _sublayers(layer: keras.Layer) -> list[keras.Layer]:
    # The directly tracked sublayers, duplicates removed, in the order they
    # were assigned: a model's and a keras-nin block's `layers`; for another
    # custom layer, Keras's own list (what `model.summary()` walks too).
    layers = getattr(layer, "layers", None)
    if isinstance(layers, list) and all(isinstance(x, keras.Layer) for x in layers):
        return layers
    return layer._flatten_layers(include_self=False, recursive=False)


def built_input_shapes(layer: keras.Layer) -> Any:
    """The input shape(s), with batch, that Keras recorded when building."""
    config = layer.get_build_config()
    if not config:
        return None
    if "input_shape" in config:
        return config["input_shape"]
    shapes = list(config.get("shapes_dict", {}).values())
    return shapes[0] if len(shapes) == 1 else shapes


def _shaped_twin(layer: keras.Layer, input_shape: Any) -> keras.Layer:
    """`layer`, or a copy built on `input_shape` if it was built on another.

    A block built on `(None, None, 64)` and costed on `(56, 56, 64)` recorded
    unknown sizes in its sublayers; a copy built on the real shape knows them.
    """
    built_shape = built_input_shapes(layer)
    if built_shape is None or not is_shape(built_shape) or not is_shape(input_shape):
        return layer
    if tuple(built_shape)[1:] == tuple(input_shape):
        return layer
    try:
        twin = type(layer).from_config(layer.get_config())
        with shapes_only():
            twin.build((None, *input_shape))
    except Exception:  # not every layer can be rebuilt from its config
        return layer
    return twin


def original_names(original: keras.Layer, copy: keras.Layer) -> dict[int, str]:
    """The caller's sublayer names for the sublayers of its copy, by `id`.

    A copy's sublayers created in `__init__` get fresh automatic names
    (`conv2d_1` for the caller's `conv2d`); rows keep the caller's names.
    """
    names = {}
    pairs = [(original, copy)]
    while pairs:
        first, second = pairs.pop()
        names[id(second)] = first.name
        mine, theirs = _sublayers(first), _sublayers(second)
        if len(mine) == len(theirs) and all(
            type(a) is type(b) for a, b in zip(mine, theirs, strict=True)
        ):
            pairs += zip(mine, theirs, strict=True)
    return names


class Walker:
    """Collects the rows of one `cost` call; `call` visits one layer call.

    Args:
        names: layer names to show instead of a layer's own, by `id` (see
            `original_names`).
    """

    def __init__(self, names: dict[int, str] | None = None) -> None:
        self.rows: list[CostRow] = []
        self._seen: set[int] = set()
        self._names = names or {}

    def _path(self, parent: str, layer: Any) -> str:
        return f"{parent}/{self._names.get(id(layer), layer.name)}"

    # Each visit returns the call's output as a structure of KerasTensors.

    def call(self, op: Any, args: tuple, kwargs: dict, name: str) -> Any:
        if isinstance(op, keras.Sequential):
            (outputs,) = args[:1]
            for layer in op.layers:
                outputs = self.call(layer, (outputs,), {}, self._path(name, layer))
            return outputs
        if isinstance(op, keras.Function):  # a functional model
            inputs = keras.tree.flatten(args[0] if args else kwargs)

            def operation_fn(inner: Any) -> Callable[..., Any]:
                return lambda *a, **k: self.call(inner, a, k, self._path(name, inner))

            return op._run_through_graph(inputs, operation_fn=operation_fn)
        outputs = op.compute_output_spec(*args, **kwargs)
        input_shapes = shapes_of(args[0] if len(args) == 1 else list(args))
        output_shapes = shapes_of(outputs)
        if isinstance(op, keras.Layer):
            self.layer(op, input_shapes, output_shapes, name, shaped=None)
        else:  # an operation such as keras.ops.add in a functional graph
            product = type(op).__name__ in PRODUCT_OPS
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
        rule = rule_for(layer)
        sublayers = _sublayers(layer)
        if rule is None and sublayers:
            self._block(layer, input_shapes, output_shapes, name, shaped, sublayers)
            return
        input_shapes, output_shapes = single(input_shapes), single(output_shapes)
        if rule is zero:
            multiplies, note = 0, ""
        elif rule is None:
            # No rule: weightless layers (a custom activation, a Lambda) are
            # assumed free; a layer with weights multiplies them somehow.
            multiplies, note = (None, NO_RULE) if layer.weights else (0, "")
        elif not (fully_known(input_shapes) and fully_known(output_shapes)):
            multiplies, note = None, SHAPE_UNKNOWN
        else:
            multiplies, note = rule(layer, input_shapes, output_shapes), ""
        self._add(name, layer, output_shapes, multiplies, layer, note)

    def _block(self, layer, input_shapes, output_shapes, name, shaped, sublayers):
        shaped = shaped or _shaped_twin(layer, single(input_shapes))
        shaped_sublayers = _sublayers(shaped)
        if len(shaped_sublayers) != len(sublayers):
            shaped_sublayers = sublayers
        for sublayer, shaped_sublayer in zip(sublayers, shaped_sublayers, strict=True):
            self.built(sublayer, shaped_sublayer, self._path(name, sublayer))
        own_weights = {id(w) for w in layer.weights} - {
            id(w) for sublayer in sublayers for w in sublayer.weights
        }
        if own_weights:  # weights used by the block's own call: no rule for it
            own = [w for w in layer.weights if id(w) in own_weights]
            self._add(name, layer, single(output_shapes), None, own, NO_RULE)

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
        input_shapes = built_input_shapes(shaped)
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
            drop_batch(input_shapes),
            None if output_shapes is None else drop_batch(output_shapes),
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


def model_input_shapes(obj: keras.Layer) -> list[Shape] | None:
    """The input shapes, without batch, a built object already knows."""
    if isinstance(obj, (keras.Function, keras.Sequential)):
        try:
            return [tuple(x.shape)[1:] for x in keras.tree.flatten(obj.inputs)]
        except (AttributeError, ValueError):
            return None
    shapes = built_input_shapes(obj)
    if shapes is None:
        return None
    shapes = drop_batch(shapes)
    return [shapes] if is_shape(shapes) else list(shapes)
