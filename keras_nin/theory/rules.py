"""The counting rules: multiply–accumulates of one layer call, from shapes.

A rule maps (layer, input shape, output shape) — shapes without the batch
dimension, a list of shapes for merge layers — to the multiply–accumulates of
one example. It reads only the layer's configuration (`filters`,
`kernel_size`, `groups`, ...), never its weights, so a rule applies to a layer
that is not built as well. `RULES` holds one rule per layer type; the most
specific class in a layer's MRO wins, so a subclass of `Conv2D` is counted as a
`Conv2D`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras

from keras_nin.layers import Pointwise
from keras_nin.theory.shapes import Shape


def spatial(shape: Shape, data_format: str) -> Shape:
    return shape[:-1] if data_format == "channels_last" else shape[1:]


def channels(shape: Shape, data_format: str) -> int:
    return shape[-1] if data_format == "channels_last" else shape[0]


def _conv(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """out_positions × kernel_volume × C_in/groups × C_out."""
    positions = math.prod(spatial(output_shape, layer.data_format))
    input_channels = channels(input_shape, layer.data_format)
    groups = getattr(layer, "groups", 1)
    kernel_volume = math.prod(getattr(layer, "kernel_size", (1,)))
    return positions * kernel_volume * (input_channels // groups) * layer.filters


def _conv_transpose(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """in_positions × kernel_volume × C_in × C_out: each input scatters a kernel."""
    positions = math.prod(spatial(input_shape, layer.data_format))
    input_channels = channels(input_shape, layer.data_format)
    return positions * math.prod(layer.kernel_size) * input_channels * layer.filters


def _depthwise(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """out_positions × kernel_volume × C_in × depth_multiplier."""
    positions = math.prod(spatial(output_shape, layer.data_format))
    input_channels = channels(input_shape, layer.data_format)
    return (
        positions
        * math.prod(layer.kernel_size)
        * input_channels
        * layer.depth_multiplier
    )


def _separable(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """The depthwise part plus the 1×1 part, both at the output positions."""
    positions = math.prod(spatial(output_shape, layer.data_format))
    middle = channels(input_shape, layer.data_format) * layer.depth_multiplier
    depthwise = positions * math.prod(layer.kernel_size) * middle
    return depthwise + positions * middle * layer.filters


def _dense(layer: Any, input_shape: Shape, output_shape: Shape) -> int:
    """C_in × C_out at every position (every index but the last)."""
    return math.prod(input_shape[:-1]) * input_shape[-1] * layer.units


def zero(layer: Any, input_shape: Any, output_shape: Any) -> int:
    """Normalization, pooling, activations, element-wise merges, reshaping: 0."""
    return 0


ZERO_COST_LAYERS = (
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
RULES: dict[type, Rule] = {
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
    keras.layers.InputLayer: zero,
    **{
        getattr(keras.layers, name): zero
        for name in ZERO_COST_LAYERS
        if hasattr(keras.layers, name)  # some exist only in newer Keras
    },
}

# Operations (not layers) of a functional graph, e.g. `keras.ops.add(x, y)`,
# count 0 like the element-wise layers, except these products of tensors.
PRODUCT_OPS = {"Matmul", "Einsum", "Tensordot", "Dot", "Inner", "Outer"}


def rule_for(layer: Any) -> Rule | None:
    """The rule of `layer`'s most specific class in `RULES`, or `None`."""
    for cls in type(layer).__mro__:
        if cls in RULES:
            return RULES[cls]
    return None
