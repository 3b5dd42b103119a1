"""Bottleneck: the ResNet residual block, 1×1 reduce → k×k → 1×1 expand.

He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition" (2015),
https://arxiv.org/abs/1512.03385
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras_nin._validation import (
    channel_axis,
    check_choice,
    check_int_or_tuple,
    check_positive_int,
    check_rate,
    check_real,
)
from keras_nin.layers._block import Block
from keras_nin.layers._channels import (
    check_input_shape,
    conv_output_shape,
    round_channels,
    subsample,
)
from keras_nin.layers._registry import register_serializable

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
        shortcut: `"auto"`, `"projection"` or `"identity"`.
        drop_path_rate: float in `[0, 1)`, stochastic depth: in training,
            the probability of dropping a sample's residual branch (the
            survivors scaled by `1 / (1 - rate)`; see `DropPath`).
        **kwargs: `activation` (default `"relu"`) and the other arguments
            every block shares, listed by `Block`.

    Input shape:
        Rank 3, 4 or 5, channels known, laid out as `Block` describes.

    Output shape:
        The input shape with `filters` channels and each spatial size `n`
        divided by its stride, rounded up: `ceil(n / s)`.

    Raises:
        ValueError: for non-positive `filters`, `strides`, `kernel_size`,
            `groups` or `bottleneck_ratio`; `groups` that do not divide the
            inner width; an unknown `shortcut`; on build, `shortcut="identity"`
            on an input whose shape differs from the output's; and the errors
            every block raises (`Block`).

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

    config_arguments = (
        "filters",
        "strides",
        "bottleneck_ratio",
        "kernel_size",
        "groups",
        "shortcut",
        "drop_path_rate",
    )

    def __init__(
        self,
        filters: int,
        *,
        strides: int | Sequence[int] = 1,
        bottleneck_ratio: float = 0.25,
        kernel_size: int | Sequence[int] = 3,
        groups: int = 1,
        shortcut: str = "auto",
        drop_path_rate: float = 0.0,
        normalization: str | None = "batch",
        **kwargs: Any,
    ) -> None:
        super().__init__(normalization=normalization, **kwargs)
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
        self.shortcut = check_choice("shortcut", shortcut, SHORTCUTS)
        self.drop_path_rate = check_rate("drop_path_rate", drop_path_rate)

    def _resolve(
        self, input_shape: Sequence[int | None]
    ) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
        """Kernel size and strides per spatial axis, and whether to project."""
        input_channels = check_input_shape(
            type(self).__name__, input_shape, self.data_format
        )
        kernel_size, strides = self._kernel_and_strides(input_shape)
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
        self._strides = strides
        shape = self._pointwise_unit("reduce", self.inner_filters, input_shape)
        shape = self._spatial_unit(
            "conv",
            self.inner_filters,
            kernel_size,
            shape,
            strides=strides,
            padding="same",
            groups=self.groups,
        )
        shape = self._pointwise_unit("expand", self.filters, shape)
        self._add_drop_path(self.drop_path_rate, shape)
        self.projection = self.projection_norm = None
        if project:
            # The projection sees every `strides`-th position of the input.
            channels = input_shape[channel_axis(self.data_format)]
            shortcut_shape = conv_output_shape(
                input_shape,
                channels,
                (1,) * len(strides),
                strides,
                "same",
                self.data_format,
            )
            self._pointwise_unit("projection", self.filters, shortcut_shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = self._unit("reduce", inputs, training)
        outputs = self._unit("conv", outputs, training)
        outputs = self._unit("expand", outputs, training, activate=False)
        shortcut = inputs
        if self.projection is not None:
            strided = subsample(inputs, self._strides, self.data_format)
            shortcut = self._unit("projection", strided, training, activate=False)
        return self._activate(self._residual(outputs, shortcut, training))

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        self._resolve(input_shape)  # our error for an impossible identity
        return self._strided_output_shape(input_shape, self.filters)
