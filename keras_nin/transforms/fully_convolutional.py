"""Turn a classifier's dense head into convolutions that slide over any input.

A `Dense` layer on a flattened `H×W×C` map is an `H×W` convolution with
`"valid"` padding evaluated at one position; a `Dense` layer on a vector of
channels is a 1×1 convolution (`Pointwise`) evaluated at one position; a global
pooling is a pooling whose window is the whole map. Written as convolutions
and poolings, the same head slides over a larger map and gives one class-score
vector per window.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from keras_nin._validation import _invalid
from keras_nin.layers import Pointwise, spatial_conv
from keras_nin.transforms._copies import (
    as_functional,
    check_graph_model,
    copy_any,
    keep_frozen,
)

_HEAD_STARTS = (
    keras.layers.Flatten,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
)
_AVERAGE_POOLINGS = {
    1: keras.layers.AveragePooling1D,
    2: keras.layers.AveragePooling2D,
    3: keras.layers.AveragePooling3D,
}
_MAX_POOLINGS = {
    1: keras.layers.MaxPooling1D,
    2: keras.layers.MaxPooling2D,
    3: keras.layers.MaxPooling3D,
}
# Layers that act on each value (or each vector of channels, on the last axis
# of a channels_last map) the same way: kept as they are.
_ELEMENTWISE = (
    keras.layers.Dropout,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    keras.layers.Identity,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
)
_MERGES = (
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
)
_CHANNEL_ACTIVATIONS = ("softmax", "log_softmax")
_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
# Penalties and constraints that act on each weight alone, so they mean the
# same on a Dense kernel and on that kernel reshaped to a convolution's.
_PER_WEIGHT = (keras.regularizers.L1, keras.regularizers.L2, keras.regularizers.L1L2)
_PER_WEIGHT_CONSTRAINTS = (keras.constraints.NonNeg,)


class _Flat:
    """A flattened map: the input of the first `Dense`, as a map."""

    def __init__(self, flatten: keras.layers.Flatten, shape: tuple, data_format: str):
        self.flatten = flatten
        self.shape = shape  # the map's shape without batch, as flattened
        self.data_format = data_format


class _Map:
    """A map of vectors where the original model had one vector."""

    def __init__(self, data_format: str, rank: int):
        self.data_format = data_format
        self.rank = rank  # of the map, batch included


def _data_format_before(tensor: Any) -> str:
    """The layout of the map `tensor`: the closest layer that says."""
    seen = set()
    while tensor is not None and id(tensor) not in seen:
        seen.add(id(tensor))
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            break
        layer = history.operation
        data_format = getattr(layer, "data_format", None)
        if data_format in ("channels_last", "channels_first"):
            return data_format
        node = layer._inbound_nodes[history.node_index]
        tensor = node.input_tensors[0] if node.input_tensors else None
    return keras.config.image_data_format()


def _stops(layer: keras.layers.Layer, why: str) -> ValueError:
    return ValueError(
        f"to_fully_convolutional cannot convert layer '{layer.name}' "
        f"({type(layer).__name__}): {why}."
    )


class _Plan:
    """What becomes of each layer: kept, skipped or replaced."""

    def __init__(self, head_starts: set[int]) -> None:
        self.head_starts = head_starts  # ids of the layers that start a head
        self.replacements: dict[int, Any] = {}
        self.skipped: set[int] = set()
        # A layer applied after the replacement of a layer (by original id).
        self.after: dict[int, keras.layers.Layer] = {}

    def visit(
        self, layer: keras.layers.Layer, states: list[Any], inputs: list[Any]
    ) -> Any:
        """Record what to do with `layer`; return the state of its output."""
        head = [state for state in states if state is not None]
        if not head:
            if id(layer) in self.head_starts:
                return self._start(layer, inputs[0])
            if isinstance(layer, keras.layers.Reshape) and len(inputs[0].shape) > 2:
                raise _stops(
                    layer,
                    f"it reshapes to the fixed shape {layer.target_shape}, so "
                    "the model cannot take inputs of other sizes",
                )
            return None
        if len(head) != len(states):
            raise _stops(layer, "it mixes the head's vectors with the body's maps")
        state = head[0]
        if isinstance(layer, keras.layers.Dense) and not isinstance(layer, Pointwise):
            return self._dense(layer, state, inputs[0])
        if isinstance(layer, keras.layers.Flatten) and len(inputs[0].shape) == 2:
            self.skipped.add(id(layer))  # flattening a vector: nothing to do
            return state
        if isinstance(state, _Flat):
            if isinstance(layer, (*_ELEMENTWISE, *_MERGES)) or (
                isinstance(layer, keras.layers.Activation)
                and _activation_name(layer) not in _CHANNEL_ACTIVATIONS
            ):
                return state
            raise _stops(
                layer,
                f"it acts on the flattened output of '{state.flatten.name}'; "
                "only Dense, dropout, noise and element-wise activations may "
                "come between Flatten and the first Dense",
            )
        return self._on_map(layer, state, inputs[0])

    def _start(self, layer: keras.layers.Layer, tensor: Any) -> Any:
        shape = tuple(tensor.shape[1:])
        if isinstance(layer, keras.layers.Flatten):
            if len(shape) < 2 or None in shape:
                raise _stops(
                    layer,
                    f"it flattens an input of shape {shape}; expected a map of "
                    "1 to 3 known spatial sizes and channels",
                )
            self.skipped.add(id(layer))
            data_format = _data_format_before(tensor)
            return _Flat(layer, shape, data_format)
        data_format = layer.data_format
        spatial = shape[:-1] if data_format == "channels_last" else shape[1:]
        if None in spatial:
            raise _stops(
                layer,
                f"the map it pools has unknown spatial sizes, shape {shape}: the "
                "window of the equivalent pooling is the map the model was "
                "built for; give the model an input of fixed size",
            )
        poolings = _MAX_POOLINGS if "Max" in type(layer).__name__ else _AVERAGE_POOLINGS
        self.replacements[id(layer)] = poolings[len(spatial)](
            pool_size=spatial,
            strides=1,
            padding="valid",
            data_format=data_format,
            name=layer.name,
        )
        return _Map(data_format, len(tensor.shape))

    def _dense(self, layer: keras.layers.Dense, state: Any, tensor: Any) -> Any:
        if len(tensor.shape) != 2 and not (
            isinstance(state, _Map)
            and state.data_format == "channels_last"
            and _one_position(tensor, state.data_format)
        ):
            raise _stops(
                layer, f"its input has shape {tuple(tensor.shape)}, not a vector"
            )
        quantized = getattr(layer, "quantization_mode", None)
        if quantized:
            raise _stops(
                layer,
                f"it is quantized ({quantized!r}); convert the float model, then "
                "quantize the result",
            )
        # With LoRA, `kernel` is the merged kernel: the conversion keeps it.
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        weights = [kernel]
        if layer.use_bias:
            weights.append(keras.ops.convert_to_numpy(layer.bias.value))
        activation = layer.activation
        if state.data_format == "channels_first" and (
            getattr(activation, "__name__", "") in _CHANNEL_ACTIVATIONS
        ):
            # Applied by a layer of its own, over the channel axis: Keras's
            # convolutions apply an activation along the last axis.
            if activation.__name__ == "log_softmax":
                raise _stops(layer, "log_softmax over channels_first maps")
            activation = None
            self.after[id(layer)] = keras.layers.Softmax(
                axis=1, name=f"{layer.name}_softmax"
            )
        arguments = {
            "activation": activation,
            "use_bias": layer.use_bias,
            "data_format": state.data_format,
            "name": layer.name,
            "dtype": layer.dtype_policy,
            "trainable": layer.trainable,
            **_penalties(layer, reshaped=isinstance(state, _Flat)),
        }
        if isinstance(state, _Flat):
            weights[0] = _flat_kernel(kernel, state)
            spatial = weights[0].shape[:-2]
            new = spatial_conv(
                len(spatial), layer.units, spatial, padding="valid", **arguments
            )
        else:
            new = Pointwise(layer.units, **arguments)
        rank = len(state.shape) + 1 if isinstance(state, _Flat) else state.rank
        new.build(_map_shape(weights[0].shape[-2], rank, state.data_format))
        new.set_weights(weights)
        self.replacements[id(layer)] = new
        return _Map(state.data_format, rank)

    def _on_map(self, layer: keras.layers.Layer, state: _Map, tensor: Any) -> Any:
        axis = -1 if state.data_format == "channels_last" else 1
        if isinstance(layer, (*_ELEMENTWISE, *_MERGES)):
            return state
        if _is_one_by_one(layer, state):
            return state  # already a convolution over the channels
        if _flattens_channels(layer, tensor, state):
            # The original flattened a 1×1 map (a pooling with keepdims=True)
            # to its channels: on the map, nothing to do.
            self.skipped.add(id(layer))
            return state
        if isinstance(layer, keras.layers.Activation):
            name = _activation_name(layer)
            if name == "log_softmax" and axis == 1:
                raise _stops(layer, "log_softmax over channels_first maps")
            if name == "softmax" and axis == 1:
                self.replacements[id(layer)] = keras.layers.Softmax(
                    axis=1, name=layer.name
                )
            return state
        if isinstance(layer, keras.layers.Softmax):
            self.replacements[id(layer)] = keras.layers.Softmax(
                axis=axis, name=layer.name
            )
            return state
        if isinstance(layer, keras.layers.BatchNormalization) and layer.axis in (
            -1,
            1,
        ):
            config = {**layer.get_config(), "axis": axis}
            new = keras.layers.BatchNormalization.from_config(config)
            channels = layer.moving_mean.shape[0]
            new.build(_map_shape(channels, state.rank, state.data_format))
            new.set_weights(layer.get_weights())
            self.replacements[id(layer)] = new
            return state
        if isinstance(layer, keras.layers.Concatenate) and layer.axis in (-1, 1):
            self.replacements[id(layer)] = keras.layers.Concatenate(
                axis=axis, name=layer.name
            )
            return state
        raise _stops(
            layer,
            "it follows the classifier head; expected Dense, 1×1 convolutions, "
            "dropout, noise, activations, Softmax, BatchNormalization, "
            "element-wise merges, or a Flatten of a 1×1 map",
        )


def _one_position(tensor: Any, data_format: str) -> bool:
    """Whether `tensor` is a map of spatial size 1 (a pooling's keepdims)."""
    shape = tuple(tensor.shape[1:])
    spatial = shape[:-1] if data_format == "channels_last" else shape[1:]
    return len(spatial) > 0 and all(size == 1 for size in spatial)


def _is_one_by_one(layer: keras.layers.Layer, state: _Map) -> bool:
    """A `Pointwise`, or a 1×1 stride-1 convolution, over the map's channels."""
    if isinstance(layer, Pointwise):
        return layer.data_format == state.data_format
    return (
        isinstance(layer, _CONVOLUTIONS)
        and set(layer.kernel_size) == {1}
        and set(layer.strides) == {1}
        and layer.data_format == state.data_format
        and len(layer.kernel_size) == state.rank - 2
    )


def _flattens_channels(layer: keras.layers.Layer, tensor: Any, state: _Map) -> bool:
    """A `Flatten`, or a `Reshape` to `(channels,)`, of a 1×1 map."""
    if not _one_position(tensor, state.data_format):
        return False
    if isinstance(layer, keras.layers.Flatten):
        return True
    channels = tensor.shape[-1 if state.data_format == "channels_last" else 1]
    return isinstance(layer, keras.layers.Reshape) and tuple(layer.target_shape) in (
        (channels,),
        (-1,),
    )


def _penalties(layer: keras.layers.Dense, reshaped: bool) -> dict[str, Any]:
    """The Dense layer's regularizers and constraints, for its convolution.

    A kernel reshaped to `(*window, C, units)` keeps the penalties and
    constraints that act on each weight alone; the others (an orthogonality
    penalty, a max-norm over an axis) would mean something else, and are left
    out with a warning.
    """
    kept = {
        "bias_regularizer": layer.bias_regularizer,
        "activity_regularizer": layer.activity_regularizer,
        "bias_constraint": layer.bias_constraint,
    }
    kernel = {
        "kernel_regularizer": (layer.kernel_regularizer, _PER_WEIGHT),
        "kernel_constraint": (layer.kernel_constraint, _PER_WEIGHT_CONSTRAINTS),
    }
    for name, (value, per_weight) in kernel.items():
        if value is None or not reshaped or isinstance(value, per_weight):
            kept[name] = value
        else:
            warnings.warn(
                f"to_fully_convolutional left out the {name} of layer "
                f"'{layer.name}' ({type(value).__name__}): on the kernel reshaped "
                "to a convolution's it would not mean the same.",
                stacklevel=6,
            )
    return kept


def _activation_name(layer: keras.layers.Activation) -> str:
    return getattr(layer.activation, "__name__", "")


def _map_shape(channels: int, rank: int, data_format: str) -> tuple:
    spatial = (None,) * (rank - 2)
    if data_format == "channels_last":
        return (None, *spatial, channels)
    return (None, channels, *spatial)


def _flat_kernel(kernel: np.ndarray, state: _Flat) -> np.ndarray:
    """The Dense kernel over a flattened map as a `(*window, C, units)` kernel."""
    shape = state.shape
    axes = list(range(len(shape)))
    if state.flatten.data_format == "channels_first":
        # Keras's Flatten moves channels last before flattening.
        axes = axes[1:] + axes[:1]
    kernel = kernel.reshape(*(shape[a] for a in axes), kernel.shape[-1])
    # Back to the map's own axis order, then channels before the units.
    kernel = np.transpose(kernel, [*np.argsort(axes), len(shape)])
    if state.data_format == "channels_first":
        kernel = np.moveaxis(kernel, 0, -2)
    return kernel


def _new_input(tensor: Any, data_format: str) -> Any:
    shape = list(tensor.shape[1:])
    channel = len(shape) - 1 if data_format == "channels_last" else 0
    spatial = [None if axis != channel else size for axis, size in enumerate(shape)]
    return keras.Input(shape=tuple(spatial), dtype=tensor.dtype, name=tensor.name)


def _call(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
    try:
        return layer(*args, **kwargs)
    except Exception as error:
        raise ValueError(
            f"to_fully_convolutional cannot convert layer '{layer.name}' "
            f"({type(layer).__name__}): it does not accept inputs of any "
            f"spatial size ({type(error).__name__}: {error})"
        ) from error


def _nodes_in_order(model: keras.Model) -> list[Any]:
    return [
        node
        for depth in sorted(model._nodes_by_depth, reverse=True)
        for node in model._nodes_by_depth[depth]
    ]


def _head_starts(nodes: list[Any]) -> set[int]:
    """The `Flatten` and global-pooling layers that start a classifier head.

    One starts a head when all that is computed from its output reaches the
    outputs without meeting a tensor computed otherwise. A global pooling
    whose output rescales the map it pooled (squeeze-and-excitation) is part
    of the body: it stays a global pooling.
    """
    starts = set()
    for index, start in enumerate(nodes):
        if not isinstance(start.operation, _HEAD_STARTS):
            continue
        downstream = {id(tensor) for tensor in start.output_tensors}
        closed = True
        for node in nodes[index + 1 :]:
            inputs = [id(tensor) for tensor in node.input_tensors]
            if not any(tensor in downstream for tensor in inputs):
                continue
            if not all(tensor in downstream for tensor in inputs):
                closed = False
                break
            downstream.update(id(tensor) for tensor in node.output_tensors)
        if closed:
            starts.add(id(start.operation))
    return starts


def _convert_functional(model: keras.Model, original: keras.Model) -> keras.Model:
    nodes = _nodes_in_order(model)
    plan = _Plan(_head_starts(nodes))
    states: dict[int, Any] = {}
    for node in nodes:
        layer = node.operation
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inputs = list(node.input_tensors)
        state = plan.visit(layer, [states.get(id(t)) for t in inputs], inputs)
        for tensor in node.output_tensors:
            states[id(tensor)] = state
    if not any(states.get(id(t)) for t in keras.tree.flatten(model.outputs)):
        raise ValueError(
            _invalid(
                "model",
                original,
                "a classifier whose output comes from a Flatten, "
                "GlobalAveragePooling or GlobalMaxPooling layer followed by "
                "Dense layers",
            )
        )
    data_format = next(
        s.data_format for s in states.values() if isinstance(s, _Flat | _Map)
    )
    new_inputs = keras.tree.map_structure(
        lambda t: _new_input(t, data_format), model.input
    )
    skipped = {}
    replaced = {id(layer) for layer in plan.replacements.values()}
    after = {
        id(plan.replacements[original]): layer for original, layer in plan.after.items()
    }

    def clone_function(layer: keras.layers.Layer) -> keras.layers.Layer:
        if id(layer) in plan.skipped:
            marker = keras.layers.Identity(name=layer.name)
            skipped[id(marker)] = layer
            return marker
        if id(layer) in plan.replacements:
            return plan.replacements[id(layer)]
        return copy_any(layer)

    def call_function(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
        if id(layer) in skipped:
            return args[0]
        if id(layer) in replaced:
            # The original's call arguments (a `mask`, ...) are not theirs.
            outputs = _call(layer, args[0])
            if id(layer) in after:
                outputs = after[id(layer)](outputs)
            return outputs
        return _call(layer, *args, **kwargs)

    return keras.models.clone_model(
        model,
        input_tensors=new_inputs,
        clone_function=clone_function,
        call_function=call_function,
    )


def to_fully_convolutional(model: keras.Model) -> keras.Model:
    """Replace a classifier head by convolutions, for inputs of any size.

    The head — a `Flatten`, `GlobalAveragePooling1D/2D/3D` or
    `GlobalMaxPooling1D/2D/3D` layer and the `Dense` layers after it — is
    rewritten as the equivalent convolutions:

    - `Flatten` then `Dense(units)` on an `H×W×C` map becomes one
      `H×W` convolution with `units` filters and `"valid"` padding, its kernel
      the Dense kernel reshaped;
    - a global pooling over an `H×W` map becomes a pooling with an `H×W`
      window and stride 1 (the average or the maximum over each window), and
      each `Dense` after it a `Pointwise` (1×1) layer with the same kernel;
    - dropout, noise, activations, `Softmax` and `BatchNormalization` act on
      the channel axis of the maps (softmax over the channels at each
      position);
    - after a global pooling with `keepdims=True` (the head of
      `keras.applications.MobileNet`), 1×1 convolutions and `Pointwise`
      layers are kept, and a `Flatten` (or a `Reshape` to the channels) of the
      1×1 map is dropped.

    Each new convolution keeps its `Dense` layer's activation, dtype policy,
    `trainable` flag, bias and activity penalties and bias constraint, and
    its kernel penalty and constraint where they act on each weight alone
    (`L1`, `L2`, `NonNeg`; others are left out with a `UserWarning`). A
    `Dense` layer with LoRA becomes a plain convolution with the merged
    kernel; a quantized one stops the conversion (convert, then quantize).

    The new model's spatial input sizes are `None`. On the original input
    size its output is a map with one position holding the original output:
    `(batch, 1, 1, classes)` instead of `(batch, classes)` for images. On a
    larger input, each position of the map is the original model applied to
    one window of the input, the window moving by the body's total stride:
    the map is a sliding-window classifier computed in one pass, sharing the
    body's computation between overlapping windows. This is exact for a body
    with `"valid"` padding; with `"same"` padding the body sees real
    neighbours instead of zeros near a window's border, and a global pooling
    inside the body (squeeze-and-excitation, as in EfficientNet) stays global:
    it pools the whole larger map, not each window.

    Args:
        model: a built functional or `Sequential` Keras model whose output
            comes from such a head; its inputs' sizes must be known up to
            the head.

    Returns:
        A new functional model (the input model is not changed).

    Raises:
        TypeError: if `model` is not a functional or `Sequential` model.
        ValueError: if `model` has no such head, or a layer stops the
            conversion (the message names the layer): a layer after the head
            that is not listed above, a layer between `Flatten` and the first
            `Dense` that mixes the flattened values, or a layer of the body
            that needs a fixed input size.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> from keras_nin.transforms import to_fully_convolutional
        >>> model = keras.Sequential([
        ...     keras.Input((8, 8, 1)),
        ...     keras.layers.Conv2D(4, 3, activation="relu"),
        ...     keras.layers.Flatten(),
        ...     keras.layers.Dense(10, activation="softmax"),
        ... ])
        >>> scores = to_fully_convolutional(model)
        >>> scores.input_shape, scores.output_shape
        ((None, None, None, 1), (None, None, None, 10))
        >>> x = np.random.rand(2, 8, 8, 1).astype("float32")
        >>> bool(np.allclose(model.predict(x, verbose=0),
        ...                  scores.predict(x, verbose=0)[:, 0, 0], atol=1e-6))
        True
        >>> big = np.random.rand(1, 12, 20, 1).astype("float32")
        >>> scores.predict(big, verbose=0).shape  # one score vector per window
        (1, 5, 13, 10)
    """
    check_graph_model("model", model)
    functional = as_functional(model) if isinstance(model, keras.Sequential) else model
    return keep_frozen(model, _convert_functional(functional, model))
