"""SqueezeExcite: channel attention from two 1×1 layers on the pooled input.

Hu, Shen, Albanie, Sun & Wu, "Squeeze-and-Excitation Networks" (2017),
https://arxiv.org/abs/1709.01507
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import activations, ops

from keras_nin.layers._common import (
    Block,
    check_input_shape,
    check_positive_int,
    check_real,
    get_activation,
    make_divisible,
    register_serializable,
    serialize_weight_arguments,
    standardize_data_format,
    weight_arguments,
)
from keras_nin.layers.pointwise import Pointwise


@register_serializable
class SqueezeExcite(Block):
    """Squeeze-and-excitation: rescale each channel by a gate computed from all.

    *Squeeze*: global average pooling turns the `(…, C)` input into one value
    per channel, kept as a `(batch, 1, …, 1, C)` tensor. *Excite*: a 1×1
    `Pointwise` layer reduces the `C` channels to `round(C * ratio)`, the
    activation follows, a second 1×1 `Pointwise` layer expands back to `C`,
    and `gate_activation` (a sigmoid) turns the result into a weight in
    `(0, 1)` per channel. The input is multiplied by those weights,
    broadcast over every position:

        y = x * gate(expand(act(reduce(mean(x)))))

    The two 1×1 layers see a single position, so they are exactly the two
    fully connected layers of the paper: a 1×1 convolution *is* a fully
    connected layer applied at every position, and here there is one.

    The reduced width is `round(C * ratio)` (halves up, at least 1), as in
    `Pointwise(mode="reduce", ratio=...)`; with `divisor > 1` it is rounded to
    a multiple of `divisor` by `make_divisible` instead (MobileNetV3 uses
    `ratio=0.25, divisor=8`). The paper's reduction ratio `r = 16` is
    `ratio=1/16`.

    Sublayers are created in `build()` and listed by `layers`, in order:
    `reduce` (then `reduce_norm` when `normalization` is set) and `expand`.

    Args:
        ratio: float in `(0, 1]`, the reduced width as a fraction of the input
            channels. Defaults to 0.25 (MobileNetV3, EfficientNet).
        divisor: int, round the reduced width to a multiple of it. Defaults
            to 1 (plain rounding).
        normalization: `None` (default, as in the paper), `"batch"`,
            `"layer"` or `"group"`: a norm after the reduce layer, before its
            activation (timm's `SEModule` option); the reduce layer then has
            no bias.
        norm_momentum: float in `[0, 1)`, the momentum of batch norm's
            moving mean and variance (Keras's default, 0.99; PyTorch's
            `momentum=0.1` is 0.9 here). Ignored by the other norms.
        norm_epsilon: float > 0, added to the variance by every norm
            (Keras's default, 1e-3; PyTorch's is 1e-5).
        activation: activation function or its name, after the reduce layer.
            Defaults to `"relu"`.
        gate_activation: activation function or its name that turns the
            expand layer's output into the channel weights. Defaults to
            `"sigmoid"`; MobileNetV3 uses `"hard_sigmoid"`.
        kernel_initializer: initializer for both 1×1 kernels.
        bias_initializer: initializer for both biases.
        kernel_regularizer: optional regularizer for both kernels.
        bias_regularizer: optional regularizer for both biases.
        kernel_constraint: optional constraint for both kernels.
        bias_constraint: optional constraint for both biases.
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
        The input shape.

    Raises:
        ValueError: for a `ratio` outside `(0, 1]`, a non-positive `divisor`,
            an unknown `normalization` or `data_format`; and, on build, an
            unknown channel dimension or an input rank other than 3, 4 or 5.
        TypeError: for arguments of the wrong type.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> import keras_nin
        >>> x = np.random.rand(2, 7, 7, 64).astype("float32")
        >>> se = keras_nin.layers.SqueezeExcite(ratio=0.25)
        >>> keras.ops.shape(se(x))
        (2, 7, 7, 64)
        >>> se.reduced_filters, se.count_params()  # 64·16 + 16 + 16·64 + 64
        (16, 2128)
    """

    default_name = "squeeze_excite"

    def __init__(
        self,
        ratio: float = 0.25,
        *,
        divisor: int = 1,
        normalization: str | None = None,
        norm_momentum: float = 0.99,
        norm_epsilon: float = 1e-3,
        activation: str | Any | None = "relu",
        gate_activation: str | Any | None = "sigmoid",
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
        self.ratio = check_real("ratio", ratio)
        if not 0 < self.ratio <= 1:
            raise ValueError(
                "Invalid value for argument `ratio`. Expected a fraction of the "
                f"input channels in (0, 1]. Received: ratio={ratio!r}."
            )
        self.divisor = check_positive_int("divisor", divisor)
        self._set_normalization(normalization, norm_momentum, norm_epsilon)
        self.activation = get_activation("activation", activation)
        self.gate_activation = get_activation("gate_activation", gate_activation)
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
        self.reduced_filters = None  # known once the input channels are

    def build(self, input_shape: Sequence[int | None]) -> None:
        channels = check_input_shape(type(self).__name__, input_shape, self.data_format)
        self._pin_input_spec(input_shape)
        self.reduced_filters = make_divisible(channels * self.ratio, self.divisor)
        rank = len(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        self._spatial_axes = tuple(range(first, first + rank - 2))
        # The squeezed input: one position, the reduce layer's real input.
        pooled = tuple(
            1 if axis in self._spatial_axes else size
            for axis, size in enumerate(input_shape)
        )
        arguments = self._conv_arguments()
        reduce = Pointwise(self.reduced_filters, name="reduce", **arguments)
        shape = self._conv_unit("reduce", reduce, pooled)
        # The expand layer is followed by the gate, never by a norm.
        arguments.update(use_bias=True, activation=self.gate_activation)
        self.expand = Pointwise(channels, name="expand", **arguments)
        self.expand.build(shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        pooled = ops.mean(inputs, axis=self._spatial_axes, keepdims=True)
        scale = self.expand(self._norm_act(self.reduce(pooled), "reduce", training))
        return ops.multiply(inputs, scale)

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "divisor": self.divisor,
                **self._normalization_config(),
                "activation": activations.serialize(self.activation),
                "gate_activation": activations.serialize(self.gate_activation),
                **serialize_weight_arguments(self.weight_arguments),
                "data_format": self.data_format,
            }
        )
        return config
