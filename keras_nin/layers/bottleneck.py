"""Bottleneck: the ResNet residual block, 1×1 reduce → k×k → 1×1 expand.

He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition" (2015),
https://arxiv.org/abs/1512.03385
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import activations, ops

from keras_nin.layers._common import (
    Block,
    channel_axis,
    check_choice,
    check_input_shape,
    check_int_or_tuple,
    check_positive_int,
    check_real,
    conv_output_shape,
    expand_to_rank,
    get_activation,
    register_serializable,
    round_channels,
    serialize_weight_arguments,
    spatial_conv,
    standardize_data_format,
    subsample,
    weight_arguments,
)
from keras_nin.layers.pointwise import Pointwise

SHORTCUTS = ("auto", "projection", "identity")


@register_serializable
class Bottleneck(Block):
    """The ResNet bottleneck residual block.

    Three convolutions, each followed by a normalization: a 1×1 `Pointwise`
    reduces the channels to the inner width `round(filters *
    bottleneck_ratio)` (halves up, at least 1), a `kernel_size` convolution
    works at that width, and a 1×1 `Pointwise` expands to `filters`. The
    activation follows the first two norms; the third norm's output is added
    to the shortcut, and the activation is applied to the sum:

        y = act(norm3(expand(act(norm2(conv(act(norm1(reduce(x)))))))) + s(x))

    `strides` applies on the `kernel_size` convolution (ResNet "v1.5", as in
    torchvision), which uses `"same"` padding.

    The shortcut `s(x)` is

    - `"identity"`: `x` itself; the input must already have `filters`
      channels and `strides` must be 1 (the shape-preserving case);
    - `"projection"`: a 1×1 `Pointwise` with the block's stride (it sees every
      `strides`-th position), then a norm — the channel-changing case;
    - `"auto"` (default): identity when the input has `filters` channels and
      `strides` is 1, a projection otherwise.

    A convolution followed by a norm has no bias; with `normalization=None`
    every convolution has one.

    Sublayers are created in `build()` and listed by `layers`, in order:
    `reduce`, `reduce_norm`, `conv`, `conv_norm`, `expand`, `expand_norm`,
    then `projection` and `projection_norm` when the shortcut projects
    (norms only when `normalization` is set).

    Args:
        filters: int, the output channel count.
        strides: int or tuple of ints, the strides of the `kernel_size`
            convolution (and of the projection shortcut).
        bottleneck_ratio: positive float, the inner width as a fraction of
            `filters`. Defaults to 0.25, ResNet's 4× bottleneck.
        kernel_size: int or tuple of ints, the window of the middle
            convolution.
        groups: int, the groups of the middle convolution (32 in ResNeXt); must
            divide the inner width.
        normalization: `"batch"` (default), `"layer"`, `"group"` or `None`: the
            norm over the channel axis after each convolution. `"group"` uses
            the largest divisor of the channel count that is at most 32 as the
            number of groups.
        norm_momentum: float in `[0, 1)`, the momentum of batch norm's
            moving mean and variance (Keras's default, 0.99; PyTorch's
            `momentum=0.1` is 0.9 here). Ignored by the other norms.
        norm_epsilon: float > 0, added to the variance by every norm
            (Keras's default, 1e-3; PyTorch's is 1e-5).
        activation: activation function or its name. `None` means linear.
        shortcut: `"auto"`, `"projection"` or `"identity"`.
        kernel_initializer: initializer for every convolution's kernel.
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
        ValueError: for non-positive `filters`, `strides`, `kernel_size`,
            `groups` or `bottleneck_ratio`; `groups` that do not divide the
            inner width; an unknown `shortcut`, `normalization` or
            `data_format`; and, on build, `shortcut="identity"` on an input
            whose shape differs from the output's, a tuple argument whose
            length is not the input's spatial rank, an unknown channel
            dimension or an input rank other than 3, 4 or 5.
        TypeError: for arguments of the wrong type.

    Examples:
        >>> import numpy as np
        >>> import keras_nin
        >>> x = np.random.rand(2, 8, 8, 256).astype("float32")
        >>> block = keras_nin.layers.Bottleneck(256)  # identity shortcut
        >>> tuple(block(x).shape)
        (2, 8, 8, 256)
        >>> block.count_params()  # 69,632 conv weights, 4 × 384 norm values
        71168
        >>> down = keras_nin.layers.Bottleneck(512, strides=2)  # projection
        >>> tuple(down(x).shape)
        (2, 4, 4, 512)
        >>> tuple(layer.name for layer in down.layers if "norm" not in layer.name)
        ('reduce', 'conv', 'expand', 'projection')
    """

    def __init__(
        self,
        filters: int,
        *,
        strides: int | Sequence[int] = 1,
        bottleneck_ratio: float = 0.25,
        kernel_size: int | Sequence[int] = 3,
        groups: int = 1,
        normalization: str | None = "batch",
        norm_momentum: float = 0.99,
        norm_epsilon: float = 1e-3,
        activation: str | Any | None = "relu",
        shortcut: str = "auto",
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
        self.strides = check_int_or_tuple("strides", strides)
        self.bottleneck_ratio = check_real("bottleneck_ratio", bottleneck_ratio)
        if not self.bottleneck_ratio > 0:
            raise ValueError(
                "Invalid value for argument `bottleneck_ratio`. Expected a "
                "strictly positive number. "
                f"Received: bottleneck_ratio={bottleneck_ratio!r}."
            )
        self.kernel_size = check_int_or_tuple("kernel_size", kernel_size)
        self.groups = check_positive_int("groups", groups)
        self.inner_filters = round_channels(self.filters * self.bottleneck_ratio)
        if self.inner_filters % self.groups:
            raise ValueError(
                "Invalid value for argument `groups`. Expected a divisor of the "
                f"inner width round(filters * bottleneck_ratio) = "
                f"{self.inner_filters}. Received: groups={groups}."
            )
        self._set_normalization(normalization, norm_momentum, norm_epsilon)
        self.activation = get_activation("activation", activation)
        self.shortcut = check_choice("shortcut", shortcut, SHORTCUTS)
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

    def _resolve(
        self, input_shape: Sequence[int | None]
    ) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
        """Kernel size and strides per spatial axis, and whether to project."""
        input_channels = check_input_shape(
            type(self).__name__, input_shape, self.data_format
        )
        spatial_rank = len(input_shape) - 2
        kernel_size = expand_to_rank("kernel_size", self.kernel_size, spatial_rank)
        strides = expand_to_rank("strides", self.strides, spatial_rank)
        shapes_match = input_channels == self.filters and set(strides) == {1}
        if self.shortcut == "identity" and not shapes_match:
            raise ValueError(
                "Argument shortcut='identity' needs the output shape to equal "
                f"the input shape: an input of filters={self.filters} channels "
                f"and strides=1. Received: input_shape={tuple(input_shape)} "
                f"({input_channels} channels), strides={self.strides}. Use "
                "shortcut='projection' or 'auto' to project the shortcut."
            )
        project = self.shortcut == "projection" or not shapes_match
        return kernel_size, strides, project

    def build(self, input_shape: Sequence[int | None]) -> None:
        kernel_size, strides, project = self._resolve(input_shape)
        self._pin_input_spec(input_shape)
        axis = channel_axis(self.data_format)
        self._strides = strides
        inner = self._conv_arguments()
        shape = tuple(input_shape)
        shape = self._conv_unit(
            "reduce", Pointwise(self.inner_filters, name="reduce", **inner), shape
        )
        middle = spatial_conv(
            len(kernel_size),
            self.inner_filters,
            kernel_size,
            strides=strides,
            padding="same",
            groups=self.groups,
            name="conv",
            **inner,
        )
        shape = self._conv_unit("conv", middle, shape)
        self._conv_unit(
            "expand", Pointwise(self.filters, name="expand", **inner), shape
        )
        if project:
            shortcut_shape = conv_output_shape(
                input_shape,
                input_shape[axis],
                (1,) * len(strides),
                strides,
                "same",
                self.data_format,
            )
            self._conv_unit(
                "projection",
                Pointwise(self.filters, name="projection", **inner),
                shortcut_shape,
            )
        else:
            self.projection = None
            self.projection_norm = None

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = self._norm_act(self.reduce(inputs), "reduce", training, True)
        outputs = self._norm_act(self.conv(outputs), "conv", training, True)
        outputs = self._norm_act(self.expand(outputs), "expand", training, False)
        if self.projection is None:
            shortcut = inputs
        else:
            shortcut = self.projection(
                subsample(inputs, self._strides, self.data_format)
            )
            shortcut = self._norm_act(shortcut, "projection", training, False)
        # Two full tensors: no bias-layout guess on any backend.
        return self.activation(ops.add(outputs, shortcut))

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        kernel_size, strides, _ = self._resolve(input_shape)
        return conv_output_shape(
            input_shape, self.filters, kernel_size, strides, "same", self.data_format
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "strides": self.strides,
                "bottleneck_ratio": self.bottleneck_ratio,
                "kernel_size": self.kernel_size,
                "groups": self.groups,
                **self._normalization_config(),
                "activation": activations.serialize(self.activation),
                "shortcut": self.shortcut,
                **serialize_weight_arguments(self.weight_arguments),
                "data_format": self.data_format,
            }
        )
        return config
