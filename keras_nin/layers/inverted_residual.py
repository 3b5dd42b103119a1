"""InvertedResidual: MobileNetV2's 1×1 expand → depthwise k×k → 1×1 linear project.

Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks" (2018), https://arxiv.org/abs/1801.04381
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras_nin._validation import (
    channel_axis,
    check_int_or_tuple,
    check_positive_int,
    check_rate,
    check_real,
)
from keras_nin.layers._block import Block
from keras_nin.layers._channels import round_channels
from keras_nin.layers._registry import register_serializable


@register_serializable
class InvertedResidual(Block):
    """MobileNetV2's inverted residual block with a linear bottleneck.

    The opposite of the ResNet `Bottleneck`: thin at the ends, wide inside.
    A 1×1 `Pointwise` layer *expands* the `C_in` input channels to
    `round(C_in * expansion)`, a depthwise `kernel_size` convolution (one
    filter per channel, `"same"` padding, the block's `strides`) filters each
    channel spatially, and a 1×1 `Pointwise` layer *projects* to `filters`
    channels. Each convolution is followed by a norm; the activation follows
    the first two, but not the projection: the "linear bottleneck" (a ReLU on
    the thin tensor zeroes whole directions of it; the Bottlenecks page of the
    documentation reproduces the paper's spiral experiment). When the output has
    the input's shape (`strides` 1 and `filters == C_in`), the input is added
    to it (no activation after the sum):

        y = x + norm3(project(act(norm2(depthwise(act(norm1(expand(x))))))))

    With `expansion=1` there is no expand layer (the first block of
    MobileNetV2, as in the paper and torchvision).

    The two 1×1 layers carry almost all the weights and multiplies: the
    depthwise convolution costs `k·k` per channel instead of `k·k·C`.

    Sublayers are created in `build()` and listed by `layers`, in order:
    `expand` (unless `expansion=1`), `expand_norm`, `depthwise` (a Keras
    `DepthwiseConv1D` or `DepthwiseConv2D`, or a `Conv3D` with one group per
    channel for 3 spatial dimensions), `depthwise_norm`, `project`,
    `project_norm` (norms only when `normalization` is set).

    Args:
        filters: int, the output channel count.
        expansion: positive float, the inner width as a multiple of the input
            channels, rounded to the nearest integer (halves up). Defaults to
            6, MobileNetV2's expansion factor `t`.
        strides: int or tuple of ints, the strides of the depthwise
            convolution.
        kernel_size: int or tuple of ints, the window of the depthwise
            convolution.
        drop_path_rate: float in `[0, 1)`, stochastic depth on the residual
            branch in training (see `DropPath`); unused without a residual.
        normalization: `"batch"` (default), `"layer"`, `"group"` or `None`:
            the norm over the channel axis after each convolution. Without a
            norm every convolution has a bias.
        activation: activation function or its name, after the expand and
            depthwise convolutions. Defaults to `"relu6"`; `None` means
            linear.
        **kwargs: the other arguments every block shares, listed by
            `Block`.

    Input shape:
        Rank 3, 4 or 5, channels known, laid out as `Block` describes.

    Output shape:
        `filters` channels; each spatial size `n` becomes `ceil(n / s)` for
        a stride `s`.

    Raises:
        ValueError: for non-positive `filters`, `expansion`, `strides` or
            `kernel_size`, and the errors every block raises (`Block`).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> import keras_nin
        >>> x = np.random.rand(2, 56, 56, 24).astype("float32")
        >>> block = keras_nin.layers.InvertedResidual(24)  # residual: same shape
        >>> keras.ops.shape(block(x))
        (2, 56, 56, 24)
        >>> block.inner_filters, block.residual
        (144, True)
        >>> down = keras_nin.layers.InvertedResidual(32, strides=2)
        >>> keras.ops.shape(down(x)), down.residual
        ((2, 28, 28, 32), False)
        >>> down.count_params()  # 24·144 + 9·144 + 144·32 weights, 4·320 norm values
        10640
    """

    default_name = "inverted_residual"
    config_arguments = (
        "filters",
        "expansion",
        "strides",
        "kernel_size",
        "drop_path_rate",
    )

    def __init__(
        self,
        filters: int,
        *,
        expansion: float = 6,
        strides: int | Sequence[int] = 1,
        kernel_size: int | Sequence[int] = 3,
        drop_path_rate: float = 0.0,
        normalization: str | None = "batch",
        activation: str | Any | None = "relu6",
        **kwargs: Any,
    ) -> None:
        super().__init__(normalization=normalization, activation=activation, **kwargs)
        self.filters = check_positive_int("filters", filters)
        self.expansion = check_real("expansion", expansion)
        if not self.expansion > 0:
            raise ValueError(
                "Invalid value for argument `expansion`. Expected a strictly "
                f"positive number. Received: expansion={expansion!r}."
            )
        self.strides = check_int_or_tuple("strides", strides)
        self.kernel_size = check_int_or_tuple("kernel_size", kernel_size)
        self.drop_path_rate = check_rate("drop_path_rate", drop_path_rate)
        # Known once the input channels are, in `build()`.
        self.inner_filters = None
        self.residual = None

    def build(self, input_shape: Sequence[int | None]) -> None:
        kernel_size, strides = self._kernel_and_strides(input_shape)
        channels = input_shape[channel_axis(self.data_format)]
        self._pin_input_spec(input_shape)
        self.residual = channels == self.filters and set(strides) == {1}
        shape = tuple(input_shape)
        self.expand = self.expand_norm = None
        if self.expansion != 1:
            self.inner_filters = round_channels(channels * self.expansion)
            shape = self._pointwise_unit("expand", self.inner_filters, shape)
        else:
            # torchvision's rule: no expand layer at all, even if rounding
            # would keep the width for an expansion near 1.
            self.inner_filters = channels
        shape = self._depthwise_unit(
            "depthwise", kernel_size, shape, strides=strides, padding="same"
        )
        shape = self._pointwise_unit("project", self.filters, shape)
        # Only a residual block has a branch to drop.
        self._add_drop_path(self.drop_path_rate * self.residual, shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = inputs
        if self.expand is not None:
            outputs = self._unit("expand", outputs, training)
        outputs = self._unit("depthwise", outputs, training)
        # The linear bottleneck: no activation after the projection.
        outputs = self._unit("project", outputs, training, activate=False)
        return self._residual(outputs, inputs, training) if self.residual else outputs

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        return self._strided_output_shape(input_shape, self.filters)
