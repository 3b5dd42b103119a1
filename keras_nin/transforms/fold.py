"""Fold batch normalization into the convolution or dense layer before it.

In inference a batch normalization is an affine map per channel,
`y = gamma * (x - mean) / sqrt(variance + epsilon) + beta = scale * x + shift`.
After a linear layer `x = W·u + b` it folds into that layer:
`W' = W * scale` (each output channel's kernel scaled) and
`b' = b * scale + shift`, one layer and one pass over memory less.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from keras_nin._validation import _invalid
from keras_nin.layers import Pointwise
from keras_nin.transforms._copies import (
    built_input_shape,
    check_graph_model,
    copy_layer,
    keep_frozen,
)

_CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
FOLDABLE = (*_CONVOLUTIONS, *_DEPTHWISE, keras.layers.Dense, Pointwise)


def _numpy(variable: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(variable.value), dtype=np.float64)


def batch_norm_affine(bn: keras.layers.BatchNormalization) -> tuple[np.ndarray, ...]:
    """`(scale, shift)` of a batch normalization in inference, in float64."""
    variance = _numpy(bn.moving_variance)
    scale = 1.0 / np.sqrt(variance + bn.epsilon)
    if bn.scale:
        scale = scale * _numpy(bn.gamma)
    shift = -_numpy(bn.moving_mean) * scale
    if bn.center:
        shift = shift + _numpy(bn.beta)
    return scale, shift


def _output_channel_axis(layer: keras.layers.Layer, rank: int) -> int:
    data_format = getattr(layer, "data_format", "channels_last")
    # A Pointwise is a Dense over its channel axis, which follows data_format.
    plain_dense = isinstance(layer, keras.layers.Dense) and not isinstance(
        layer, Pointwise
    )
    return rank - 1 if plain_dense or data_format == "channels_last" else 1


def _why_not_foldable(
    layer: keras.layers.Layer, bn: keras.layers.Layer, rank: int | None
) -> str | None:
    """`None` if `bn` (fed by `layer` alone) folds into `layer`, else why not."""
    kind = type(layer).__name__
    if not isinstance(bn, keras.layers.BatchNormalization):
        return f"{type(bn).__name__} is not a batch normalization"
    if not isinstance(layer, FOLDABLE):
        return (
            f"follows {kind} '{layer.name}'; only Conv1D/2D/3D, "
            "DepthwiseConv1D/2D, Dense and Pointwise layers take a folded norm"
        )
    if getattr(layer, "quantization_mode", None) or getattr(
        layer, "lora_enabled", False
    ):
        return f"follows {kind} '{layer.name}', which is quantized or has LoRA"
    activation = getattr(layer, "activation", None)
    if activation not in (None, keras.activations.linear):
        return f"follows {kind} '{layer.name}', which has a nonlinear activation"
    if rank is None or bn.axis % rank != _output_channel_axis(layer, rank):
        return f"normalizes axis {bn.axis}, not the channel axis of '{layer.name}'"
    return None


def folded_weights(
    layer: keras.layers.Layer, bn: keras.layers.BatchNormalization
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel and bias of `layer` with `bn` folded in, in float64."""
    scale, shift = batch_norm_affine(bn)
    kernel = _numpy(layer.kernel)
    bias = _numpy(layer.bias) if layer.use_bias else np.zeros_like(scale)
    if isinstance(layer, _DEPTHWISE):
        # Output channel c * depth_multiplier + m comes from kernel[..., c, m].
        kernel = kernel * scale.reshape(kernel.shape[-2:])
    else:
        kernel = kernel * scale
    return kernel, bias * scale + shift


def _without_constraints(config: dict) -> tuple[dict, list[str]]:
    """`config` with no weight constraint, and the names of those removed.

    The folded weights need not meet a constraint of the original's: a
    `NonNeg` bias, say, would clip a folded bias (which takes the norm's
    shift) at the first training step.
    """
    dropped = sorted(
        key for key, value in config.items() if key.endswith("_constraint") and value
    )
    return {**config, **dict.fromkeys(dropped)}, dropped


def _fold_layer(
    layer: keras.layers.Layer, bn: keras.layers.BatchNormalization, log: _Log
) -> keras.layers.Layer:
    """A new layer, built, computing `bn(layer(x))` in inference."""
    kernel, bias = folded_weights(layer, bn)
    config, dropped = _without_constraints(layer.get_config())
    log.dropped(layer.name, dropped)
    new = type(layer).from_config({**config, "use_bias": True})
    new.build(built_input_shape(layer))
    new.kernel.assign(kernel.astype(new.kernel.dtype))
    new.bias.assign(bias.astype(new.bias.dtype))
    return new


# --- keras-nin blocks --------------------------------------------------------


def _is_block(layer: keras.layers.Layer) -> bool:
    """A keras-nin block: a `normalization` argument and sublayers."""
    try:
        config = layer.get_config()
    except NotImplementedError:
        return False
    return "normalization" in config and bool(getattr(layer, "layers", None))


def _sublayer_attributes(block: keras.layers.Layer) -> dict[str, keras.layers.Layer]:
    """The block's sublayers by the attribute name they are stored under."""
    sublayers = {id(layer) for layer in block.layers}
    # On PyTorch, Keras layers are torch modules: sublayers live in `_modules`.
    names = {
        *vars(block),
        *getattr(block, "_modules", {}),
        *(s.name for s in block.layers),
    }
    attributes = {}
    for name in sorted(names):
        if name.startswith("_"):
            continue
        value = getattr(block, name, None)
        if id(value) in sublayers:
            attributes[name] = value
    return attributes


def _fold_block(block: keras.layers.Layer, log: _Log) -> keras.layers.Layer:
    """`block` rebuilt with `normalization=None` and its norms folded.

    The convention of every keras-nin block: the norm after convolution
    `block.<name>` is `block.<name>_norm`, and the block rebuilt from its config
    with `normalization=None` has the same convolutions, with biases, and
    applies their activations where the norms were.
    """
    config = block.get_config()
    if config["normalization"] is None:
        return copy_layer(block)
    if config["normalization"] != "batch":
        log.unfolded.append(
            f"'{block.name}' ({type(block).__name__} with "
            f"normalization={config['normalization']!r}: only batch norm folds)"
        )
        return copy_layer(block)
    attributes = _sublayer_attributes(block)
    config, dropped = _without_constraints(config)
    new = type(block).from_config({**config, "normalization": None})
    new.build(built_input_shape(block))
    new_attributes = _sublayer_attributes(new)
    assigned = set()
    try:
        for name, sublayer in new_attributes.items():
            original = attributes.get(name)
            norm = attributes.get(f"{name}_norm")
            if isinstance(norm, keras.layers.BatchNormalization):
                kernel, bias = folded_weights(original, norm)
                sublayer.kernel.assign(kernel.astype(sublayer.kernel.dtype))
                sublayer.bias.assign(bias.astype(sublayer.bias.dtype))
            elif original is not None:
                sublayer.set_weights(original.get_weights())
            else:
                continue
            if isinstance(norm, keras.layers.BatchNormalization):
                log.folded.append(f"'{block.name}/{name}_norm' into '{name}'")
            assigned.update(v.path for v in sublayer.weights)
        missing = [v.path for v in new.weights if v.path not in assigned]
        if missing:
            raise ValueError(f"no folded value for {missing}")
    except (ValueError, AttributeError, TypeError) as error:
        log.unfolded.append(
            f"'{block.name}' ({type(block).__name__}: its sublayers do not follow "
            f"the `<name>` / `<name>_norm` convention: {error})"
        )
        return copy_layer(block)
    log.dropped(block.name, dropped)
    return new


# --- Models ------------------------------------------------------------------


class _Log:
    """What was folded, and each norm left as it is with the reason."""

    def __init__(self) -> None:
        self.folded: list[str] = []
        self.unfolded: list[str] = []
        self.constraints: list[str] = []
        self.reasons: dict[int, str] = {}

    def dropped(self, name: str, constraints: list[str]) -> None:
        """Record the weight constraints a folded layer no longer has."""
        if constraints:
            self.constraints.append(f"'{name}' ({', '.join(constraints)})")


def _clone(layer: keras.layers.Layer, log: _Log) -> keras.layers.Layer:
    """A copy of a layer that is not folded into another (built, same weights)."""
    if isinstance(layer, keras.Model):
        return _fold_model(layer, log)
    if _is_block(layer):
        return _fold_block(layer, log)
    if isinstance(layer, keras.layers.BatchNormalization):
        reason = log.reasons.get(id(layer), "does not follow a foldable layer")
        log.unfolded.append(f"'{layer.name}' ({reason})")
    if not layer.built or not layer.weights:
        return type(layer).from_config(layer.get_config())
    return copy_layer(layer)


def _fold_pair(
    layer: keras.layers.Layer, bn: keras.layers.BatchNormalization, log: _Log
) -> keras.layers.Layer:
    log.folded.append(f"'{bn.name}' into '{layer.name}'")
    return _fold_layer(layer, bn, log)


def _output_rank(layer: keras.layers.Layer) -> int | None:
    """The rank of `layer`'s output, from the shape it was built on."""
    try:
        return len(layer.compute_output_shape(built_input_shape(layer)))
    except Exception:
        return None


def _fold_sequential(model: keras.Sequential, log: _Log) -> keras.Model:
    layers = model.layers
    new_layers = []
    index = 0
    while index < len(layers):
        layer = layers[index]
        following = layers[index + 1] if index + 1 < len(layers) else None
        if isinstance(following, keras.layers.BatchNormalization):
            reason = _why_not_foldable(layer, following, _output_rank(layer))
            if reason is None:
                new_layers.append(_fold_pair(layer, following, log))
                index += 2
                continue
            log.reasons[id(following)] = reason
        new_layers.append(_clone(layer, log))
        index += 1
    (inputs,) = model.inputs
    return keras.Sequential(
        [keras.Input(batch_shape=inputs.shape, dtype=inputs.dtype), *new_layers],
        name=model.name,
    )


def _foldable_pairs(model: keras.Model, log: _Log) -> dict[int, Any]:
    """`{id(layer): bn}` for every batch norm of `model` that folds into `layer`."""
    nodes = [node for group in model._nodes_by_depth.values() for node in group]
    calls: dict[int, int] = {}
    consumers: dict[int, int] = {}
    for node in nodes:
        calls[id(node.operation)] = calls.get(id(node.operation), 0) + 1
        for tensor in node.input_tensors:
            consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
    for tensor in keras.tree.flatten(model.outputs):
        consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
    pairs = {}
    for node in nodes:
        bn = node.operation
        if not isinstance(bn, keras.layers.BatchNormalization):
            continue
        inputs = node.input_tensors
        producer = inputs[0]._keras_history.operation if len(inputs) == 1 else None
        if calls[id(bn)] > 1:
            reason = "called more than once"
        elif producer is None:
            reason = "not fed by one layer"
        elif calls.get(id(producer), 0) != 1:
            reason = f"follows '{producer.name}', which is called more than once"
        elif consumers[id(inputs[0])] != 1:
            reason = f"the output of '{producer.name}' is also used elsewhere"
        else:
            reason = _why_not_foldable(producer, bn, len(inputs[0].shape))
        if reason is None:
            pairs[id(producer)] = bn
        else:
            log.reasons[id(bn)] = reason
    return pairs


def _fold_functional(model: keras.Model, log: _Log) -> keras.Model:
    pairs = _foldable_pairs(model, log)
    folded_norms = {id(bn) for bn in pairs.values()}
    skipped = set()

    def clone_function(layer: keras.layers.Layer) -> keras.layers.Layer:
        if id(layer) in folded_norms:
            # Never called: `call_function` passes its input through.
            marker = keras.layers.Identity(name=layer.name)
            skipped.add(id(marker))
            return marker
        if id(layer) in pairs:
            return _fold_pair(layer, pairs[id(layer)], log)
        return _clone(layer, log)

    def call_function(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
        if id(layer) in skipped:
            return args[0]
        return layer(*args, **kwargs)

    return keras.models.clone_model(
        model, clone_function=clone_function, call_function=call_function
    )


def _fold_model(model: keras.Model, log: _Log) -> keras.Model:
    check_graph_model("model", model)
    if isinstance(model, keras.Sequential):
        return _fold_sequential(model, log)
    return _fold_functional(model, log)


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """Fold every batch normalization into the linear layer before it.

    A new model (the input model is not changed) in which each
    `BatchNormalization` that directly follows a `Conv1D`/`Conv2D`/`Conv3D`,
    a `DepthwiseConv1D`/`DepthwiseConv2D`, a `Dense` or a `Pointwise` layer
    with a linear activation, and is the only consumer of its output, is
    removed and folded into that layer's kernel and bias (the layer gets
    `use_bias=True`). In inference the batch norm is the affine map
    `scale * x + shift` per channel, with
    `scale = gamma / sqrt(moving_variance + epsilon)` and
    `shift = beta - moving_mean * scale`; the folded layer has kernel
    `W * scale` (per output channel; per channel and multiplier for a
    depthwise kernel) and bias `b * scale + shift`.

    Inside keras-nin's blocks (`NiNBlock`, `Bottleneck`, `InceptionBlock`,
    `InvertedResidual`, `FireModule`, `SqueezeExcite`) built with
    `normalization="batch"`, each norm folds into its convolution: the block
    is replaced by the same block with `normalization=None`. Nested
    functional and `Sequential` models are folded too.

    The outputs equal the original model's in inference (`training=False`)
    up to float rounding. In training the folded model differs: there is no
    batch statistic left to compute.

    The folded layers have no weight constraint (a `NonNeg` bias, say), since
    their new weights need not meet it; each one dropped is listed in a
    `UserWarning`. A model frozen as a whole (`trainable=False`) stays frozen.

    Batch norms it cannot fold (after a pooling or an activation, on another
    axis, after a layer whose output is used elsewhere or that has LoRA or
    is quantized) and blocks with
    `normalization="layer"` or `"group"` are kept unchanged and listed in a
    `UserWarning`; so is a model with nothing to fold.

    Args:
        model: a built functional or `Sequential` Keras model.

    Returns:
        A new model of the same kind with the same inputs and outputs.

    Raises:
        TypeError: if `model` is not a functional or `Sequential` model.
        ValueError: if `model` is a `Sequential` model that is not built.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> from keras_nin.transforms import fold_batch_norm
        >>> model = keras.Sequential([
        ...     keras.Input((8, 8, 3)),
        ...     keras.layers.Conv2D(4, 3, use_bias=False),
        ...     keras.layers.BatchNormalization(),
        ...     keras.layers.ReLU(),
        ... ])
        >>> folded = fold_batch_norm(model)
        >>> [type(layer).__name__ for layer in folded.layers]
        ['Conv2D', 'ReLU']
        >>> x = np.random.rand(2, 8, 8, 3).astype("float32")
        >>> bool(np.allclose(model.predict(x, verbose=0),
        ...                  folded.predict(x, verbose=0), atol=1e-5))
        True
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            _invalid("model", model, "a functional or Sequential keras.Model")
        )
    log = _Log()
    folded = keep_frozen(model, _fold_model(model, log))
    if log.constraints:
        warnings.warn(
            "fold_batch_norm dropped the weight constraints of the layers it "
            "folded a norm into, which the folded weights need not meet: "
            + "; ".join(log.constraints)
            + ".",
            stacklevel=2,
        )
    if log.unfolded:
        warnings.warn(
            f"fold_batch_norm left {len(log.unfolded)} normalization layer(s) of "
            f"model '{model.name}' unchanged: " + "; ".join(log.unfolded) + ".",
            stacklevel=2,
        )
    elif not log.folded:
        warnings.warn(
            f"fold_batch_norm found no batch normalization to fold in model "
            f"'{model.name}': the result is an equal copy.",
            stacklevel=2,
        )
    return folded
