"""The Keras layers a block is made of, chosen by name or input rank.

Normalization by name (`None`, "batch", "layer", "group"), the spatial and
depthwise convolutions by spatial rank (with the fixes of `_backend_fixes`).
"""

from __future__ import annotations

from typing import Any

import keras

from keras_nin._validation import channel_axis, check_normalization
from keras_nin.layers._backend_fixes import (
    Conv1D,
    Conv2D,
    Conv3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    LayerNormalization,
)
from keras_nin.layers._channels import group_count

# Keras's defaults: `BatchNormalization`'s momentum, and every norm's epsilon.
NORM_MOMENTUM = 0.99
NORM_EPSILON = 1e-3

_CONVOLUTIONS = {1: Conv1D, 2: Conv2D, 3: Conv3D}
_DEPTHWISE = {1: DepthwiseConv1D, 2: DepthwiseConv2D}


def normalization_layer(
    normalization: str | None,
    channels: int,
    data_format: str,
    *,
    momentum: float = NORM_MOMENTUM,
    epsilon: float = NORM_EPSILON,
    **kwargs: Any,
) -> keras.layers.Layer | None:
    """A fresh normalization layer over the channel axis, chosen by name.

    Every block accepts the same spellings with the same meaning:

    - `None`: no normalization; returns `None`.
    - `"batch"`: `keras.layers.BatchNormalization` over the channel axis
      (statistics over the batch and every position, per channel).
    - `"layer"`: `keras.layers.LayerNormalization` over the channel axis only:
      each position's channel vector is normalized on its own, as in ConvNeXt
      and timm's `LayerNorm2d` (subclassed to be correct for channels_first
      on PyTorch).
    - `"group"`: `keras.layers.GroupNormalization` with
      `group_count(channels)` groups.

    Args:
        normalization: `None`, `"batch"`, `"layer"` or `"group"`.
        channels: int, the channel count of the tensor to normalize.
        data_format: `"channels_last"` or `"channels_first"`.
        momentum: float, the momentum of batch norm's moving statistics
            (ignored by the other norms). Keras's default, 0.99.
        epsilon: float, added to the variance. Keras's default, 1e-3.
        **kwargs: passed to the layer, e.g. `name` and `dtype`.

    Returns:
        An unbuilt Keras layer, or `None` for `normalization=None`.
    """
    normalization = check_normalization(normalization)
    axis = channel_axis(data_format)
    if normalization is None:
        return None
    if normalization == "batch":
        return keras.layers.BatchNormalization(
            axis=axis, momentum=momentum, epsilon=epsilon, **kwargs
        )
    if normalization == "layer":
        return LayerNormalization(axis=axis, epsilon=epsilon, **kwargs)
    return keras.layers.GroupNormalization(
        groups=group_count(channels), axis=axis, epsilon=epsilon, **kwargs
    )


def spatial_conv(spatial_rank: int, *args: Any, **kwargs: Any) -> keras.layers.Layer:
    """A Keras convolution for inputs of `spatial_rank` spatial dimensions.

    `keras.layers.Conv1D`, `Conv2D` or `Conv3D`, subclassed to run
    channels_first on TensorFlow's CPU kernels and to add a channels_first bias
    along the channel axis on every backend; `args` and `kwargs` are theirs.
    """
    return _CONVOLUTIONS[spatial_rank](*args, **kwargs)


def depthwise_conv(
    spatial_rank: int, channels: int, *args: Any, **kwargs: Any
) -> keras.layers.Layer:
    """A depthwise convolution (one filter per channel) by spatial rank.

    `DepthwiseConv1D` or `DepthwiseConv2D` (subclassed for unequal strides on
    TensorFlow's CPU kernel and the channels_first bias); Keras has no
    `DepthwiseConv3D`, so 3 spatial dimensions get a `Conv3D` with
    `groups=channels`, the same computation and weight count.
    `args` and `kwargs` (`kernel_size`, `strides`, ...) are Keras's;
    `kernel_*` arguments apply to the depthwise kernel.
    """
    if spatial_rank == 3:
        return Conv3D(channels, *args, groups=channels, **kwargs)
    # Keras names a depthwise layer's kernel arguments `depthwise_*`.
    renamed = {
        name.replace("kernel_", "depthwise_", 1): value
        for name, value in kwargs.items()
    }
    return _DEPTHWISE[spatial_rank](*args, **renamed)
