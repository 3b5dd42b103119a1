"""InvertedResidual: MobileNetV2's 1×1 expand → depthwise k×k → 1×1 linear project.

Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks" (2018), https://arxiv.org/abs/1801.04381
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import activations, ops

from keras_nin.layers._common import (
    Block,
    check_input_shape,
    check_int_or_tuple,
    check_positive_int,
    check_real,
    conv_output_shape,
    depthwise_conv,
    expand_to_rank,
    get_activation,
    register_serializable,
    round_channels,
    serialize_weight_arguments,
    standardize_data_format,
    weight_arguments,
)
from keras_nin.layers.pointwise import Pointwise


@register_serializable
class InvertedResidual(Block):
    """MobileNetV2's inverted residual block with a linear bottleneck.

    The opposite of the ResNet `Bottleneck`: thin at the ends, wide inside.
    A 1×1 `Pointwise` layer *expands* the `C_in` input channels to
    `round(C_in * expansion)`, a depthwise `kernel_size` convolution (one
    filter per channel, `"same"` padding, the block's `strides`) filters each
    channel spatially, and a 1×1 `Pointwise` layer *projects* to `filters`
    channels. Each convolution is followed by a norm; the activation follows
    the first two, but not the projection: the "linear bottleneck", since a
    ReLU on the thin tensor would destroy information. When the output has
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
        normalization: `"batch"` (default), `"layer"`, `"group"` or `None`:
            the norm over the channel axis after each convolution. Without a
            norm every convolution has a bias.
        norm_momentum: float in `[0, 1)`, the momentum of batch norm's
            moving mean and variance (Keras's default, 0.99; PyTorch's
            `momentum=0.1` is 0.9 here). Ignored by the other norms.
        norm_epsilon: float > 0, added to the variance by every norm
            (Keras's default, 1e-3; PyTorch's is 1e-5).
        activation: activation function or its name, after the expand and
            depthwise convolutions. Defaults to `"relu6"`; `None` means
            linear.
        kernel_initializer: initializer for every convolution's kernel
            (the depthwise kernel included).
        bias_initializer: initializer for every convolution's bias.
        kernel_regularizer: optional regularizer for every kernel.
        bias_regularizer: optional regularizer for every bias.
        kernel_constraint: optional constraint for every kernel.
        bias_constraint: optional constraint for every bias.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer arguments, such as `name`, `dtype` and
            `activity_regularizer` (on the block's output).

    Input shape:
        A tensor of rank 3, 4 or 5:
        if `data_format="channels_last"`, `(batch, *spatial, channels)`;
        if `data_format="channels_first"`, `(batch, channels, *spatial)`.
        The channel dimension must be known.

    Output shape:
        The input shape with `filters` channels and each spatial size `n`
        divided by its stride, rounded up: `ceil(n / s)`.

    Raises:
        ValueError: for non-positive `filters`, `expansion`, `strides` or
            `kernel_size`; an unknown `normalization` or `data_format`; and,
            on build, a tuple argument whose length is not the input's
            spatial rank, an unknown channel dimension or an input rank other
            than 3, 4 or 5.
        TypeError: for arguments of the wrong type.

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

    def __init__(
        self,
        filters: int,
        *,
        expansion: float = 6,
        strides: int | Sequence[int] = 1,
        kernel_size: int | Sequence[int] = 3,
        normalization: str | None = "batch",
        norm_momentum: float = 0.99,
        norm_epsilon: float = 1e-3,
        activation: str | Any | None = "relu6",
        kernel_initializer: str | Any = "glorot_uniform",
        bias_initializer: str | Any = "zeros",
        kernel_regularizer: str | Any | None = None,
        bias_regularizer: str | Any | None = None,
        kernel_constraint: str | Any | None = None,
        bias_constraint: str | Any | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.expansion = check_real("expansion", expansion)
        if not self.expansion > 0:
            raise ValueError(
                "Invalid value for argument `expansion`. Expected a strictly "
                f"positive number. Received: expansion={expansion!r}."
            )
        self.strides = check_int_or_tuple("strides", strides)
        self.kernel_size = check_int_or_tuple("kernel_size", kernel_size)
        self._set_normalization(normalization, norm_momentum, norm_epsilon)
        self.activation = get_activation("activation", activation)
        self.weight_arguments = weight_arguments(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self.data_format = standardize_data_format(data_format)
        self.input_spec = keras.layers.InputSpec(min_ndim=3, max_ndim=5)
        # Known once the input channels are, in `build()`.
        self.inner_filters = None
        self.residual = None

    def _resolve(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
        """Input channels, and kernel size and strides per spatial axis."""
        channels = check_input_shape(type(self).__name__, input_shape, self.data_format)
        spatial_rank = len(input_shape) - 2
        return (
            channels,
            expand_to_rank("kernel_size", self.kernel_size, spatial_rank),
            expand_to_rank("strides", self.strides, spatial_rank),
        )

    def build(self, input_shape: Sequence[int | None]) -> None:
        channels, kernel_size, strides = self._resolve(input_shape)
        self._pin_input_spec(input_shape)
        self.inner_filters = round_channels(channels * self.expansion)
        self.residual = channels == self.filters and set(strides) == {1}
        arguments = self._conv_arguments()
        shape = tuple(input_shape)
        if self.expansion != 1:
            expand = Pointwise(self.inner_filters, name="expand", **arguments)
            shape = self._conv_unit("expand", expand, shape)
        else:
            # torchvision's rule: no expand layer at all, even if rounding
            # would keep the width for an expansion near 1.
            self.inner_filters = channels
            self.expand = None
        depthwise = depthwise_conv(
            len(kernel_size),
            self.inner_filters,
            kernel_size,
            strides=strides,
            padding="same",
            name="depthwise",
            **arguments,
        )
        shape = self._conv_unit("depthwise", depthwise, shape)
        project = Pointwise(self.filters, name="project", **arguments)
        self._conv_unit("project", project, shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = inputs
        if self.expand is not None:
            outputs = self._norm_act(self.expand(outputs), "expand", training)
        outputs = self._norm_act(self.depthwise(outputs), "depthwise", training)
        # The linear bottleneck: no activation after the projection.
        outputs = self._norm_act(self.project(outputs), "project", training, False)
        return ops.add(inputs, outputs) if self.residual else outputs

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        _, kernel_size, strides = self._resolve(input_shape)
        return conv_output_shape(
            input_shape, self.filters, kernel_size, strides, "same", self.data_format
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "expansion": self.expansion,
                "strides": self.strides,
                "kernel_size": self.kernel_size,
                **self._normalization_config(),
                "activation": activations.serialize(self.activation),
                **serialize_weight_arguments(self.weight_arguments),
                "data_format": self.data_format,
            }
        )
        return config
