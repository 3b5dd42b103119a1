"""NiNBlock: the "mlpconv" layer, a convolution followed by a micro-network.

Lin, Chen & Yan, "Network In Network" (2013), https://arxiv.org/abs/1312.4400
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras
from keras import activations

from keras_nin.layers._common import (
    Block,
    channel_axis,
    check_choice,
    check_input_shape,
    check_int_or_tuple,
    check_positive_int,
    check_rate,
    conv_bias_and_activation,
    conv_output_shape,
    expand_to_rank,
    get_activation,
    register_serializable,
    serialize_weight_arguments,
    spatial_conv,
    standardize_data_format,
    weight_arguments,
)
from keras_nin.layers.pointwise import Pointwise

PADDINGS = ("same", "valid")


def _check_mlp_filters(value: object) -> tuple[int, ...]:
    expected = "a non-empty sequence of strictly positive integers"
    message = (
        f"Invalid value for argument `mlp_filters`. Expected {expected}. "
        f"Received: mlp_filters={value!r}."
    )
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(message)
    if not value:
        raise ValueError(message)
    for width in value:
        if isinstance(width, bool) or not isinstance(width, numbers.Integral):
            raise TypeError(message)
        if width <= 0:
            raise ValueError(message)
    return tuple(int(width) for width in value)


@register_serializable
class NiNBlock(Block):
    """The "mlpconv" layer of Network-in-Network: a convolution, then a micro-MLP.

    A spatial `kernel_size` convolution with `filters` channels is followed by
    a micro-network: a stack of `Pointwise` (1×1) layers, i.e. a small
    multilayer perceptron applied to the channel vector at every position.
    Each convolution is followed by its activation (and, optionally, by a
    normalization before the activation).

    The micro-network is either

    - shape-preserving: `mlp_filters=None` gives `mlp_depth` Pointwise layers
      of `filters` channels each (the paper's 192-192-192 block); or
    - channel-reducing (or any widths): `mlp_filters=(160, 96)` gives one
      Pointwise layer per entry with those channels (the paper's 192-160-96
      block). The sequence then sets the depth and `mlp_depth` is not used.

    The output has the last micro-network layer's channels, and the spatial
    size of the convolution (`strides`, `padding`). `dropout`, if any, is
    applied to the block's output during training.

    Sublayers are created in `build()` and listed by `layers`, in order:
    `conv` (a Keras `Conv1D`/`Conv2D`/`Conv3D` chosen by input rank), then
    `mlp_1`, `mlp_2`, ... (`Pointwise`), each followed by its norm
    (`conv_norm`, `mlp_1_norm`, ...) when `normalization` is set, and
    `dropout` when `dropout > 0`.

    Args:
        filters: int, the output channels of the spatial convolution (and of
            every micro-network layer when `mlp_filters` is `None`).
        kernel_size: int or tuple of ints, the spatial convolution's window.
        mlp_filters: `None` or a non-empty sequence of positive ints, the
            output channels of each micro-network layer.
        mlp_depth: int, the number of micro-network layers when `mlp_filters`
            is `None`.
        strides: int or tuple of ints, the spatial convolution's strides.
        padding: `"same"` or `"valid"`, the spatial convolution's padding.
        activation: activation function or its name, applied after every
            convolution (after its norm, if any). `None` means linear.
        normalization: `None` (the paper), `"batch"`, `"layer"` or `"group"`:
            a norm over the channel axis after every convolution, before its
            activation; the convolutions then have no bias. `"group"` uses
            the largest divisor of the channel count that is at most 32 as
            the number of groups.
        norm_momentum: float in `[0, 1)`, the momentum of batch norm's
            moving mean and variance (Keras's default, 0.99; PyTorch's
            `momentum=0.1` is 0.9 here). Ignored by the other norms.
        norm_epsilon: float > 0, added to the variance by every norm
            (Keras's default, 1e-3; PyTorch's is 1e-5).
        dropout: float in `[0, 1)`, the dropout rate on the block's output.
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
        The spatial convolution's output shape with `mlp_filters[-1]` channels
        (`filters` when `mlp_filters` is `None`).

    Raises:
        ValueError: for non-positive `filters`, `kernel_size`, `strides` or
            `mlp_depth`; an empty `mlp_filters` or one with a non-positive
            entry; an unknown `padding`, `normalization` or `data_format`; a
            `dropout` outside `[0, 1)`; and, on build, a `kernel_size` or
            `strides` tuple whose length is not the input's spatial rank, an
            unknown channel dimension or an input rank other than 3, 4 or 5.
        TypeError: for arguments of the wrong type.

    Examples:
        >>> import numpy as np
        >>> import keras_nin
        >>> x = np.random.rand(2, 32, 32, 3).astype("float32")
        >>> block = keras_nin.layers.NiNBlock(192, 5, mlp_filters=(160, 96))
        >>> tuple(block(x).shape)
        (2, 32, 32, 96)
        >>> tuple(layer.name for layer in block.layers)
        ('conv', 'mlp_1', 'mlp_2')
        >>> block.count_params()  # 5·5·3·192 + 192·160 + 160·96 weights, biases
        60928
        >>> strided = keras_nin.layers.NiNBlock(64, 3, strides=2, normalization="batch")
        >>> tuple(strided(x).shape)
        (2, 16, 16, 64)
    """

    default_name = "nin_block"

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *,
        mlp_filters: Sequence[int] | None = None,
        mlp_depth: int = 2,
        strides: int | Sequence[int] = 1,
        padding: str = "same",
        activation: str | Any | None = "relu",
        normalization: str | None = None,
        norm_momentum: float = 0.99,
        norm_epsilon: float = 1e-3,
        dropout: float = 0.0,
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
        self.kernel_size = check_int_or_tuple("kernel_size", kernel_size)
        self.mlp_depth = check_positive_int("mlp_depth", mlp_depth)
        self.mlp_filters = (
            None if mlp_filters is None else _check_mlp_filters(mlp_filters)
        )
        self.strides = check_int_or_tuple("strides", strides)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.activation = get_activation("activation", activation)
        self._set_normalization(normalization, norm_momentum, norm_epsilon)
        self.dropout = check_rate("dropout", dropout)
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

    @property
    def widths(self) -> tuple[int, ...]:
        """The output channels of each micro-network layer, in order."""
        if self.mlp_filters is None:
            return (self.filters,) * self.mlp_depth
        return self.mlp_filters

    def _spatial_arguments(
        self, input_shape: Sequence[int | None]
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        spatial_rank = len(input_shape) - 2
        return (
            expand_to_rank("kernel_size", self.kernel_size, spatial_rank),
            expand_to_rank("strides", self.strides, spatial_rank),
        )

    def build(self, input_shape: Sequence[int | None]) -> None:
        kernel_size, strides = self._spatial_arguments(input_shape)
        # Our error for an input smaller than a "valid" kernel, before Keras's.
        self.compute_output_shape(input_shape)
        axis = channel_axis(self.data_format)
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={axis: input_shape[axis]}
        )
        conv_arguments = {
            **self.weight_arguments,
            **conv_bias_and_activation(self.normalization, self.activation),
            "data_format": self.data_format,
            "dtype": self.dtype_policy,
        }
        # The names of the convolutions, in the order `call` runs them.
        self._conv_names = []
        shape = tuple(input_shape)
        names = ["conv"] + [f"mlp_{i}" for i in range(1, len(self.widths) + 1)]
        for index, (name, width) in enumerate(
            zip(names, (self.filters, *self.widths), strict=True)
        ):
            if index == 0:
                conv = spatial_conv(
                    len(kernel_size),
                    width,
                    kernel_size,
                    strides=strides,
                    padding=self.padding,
                    name=name,
                    **conv_arguments,
                )
            else:
                conv = Pointwise(width, name=name, **conv_arguments)
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            setattr(self, name, conv)
            setattr(self, f"{name}_norm", self._norm_layer(f"{name}_norm", shape))
            self._conv_names.append(name)
        if self.dropout > 0:
            self.dropout_layer = keras.layers.Dropout(
                self.dropout, name="dropout", dtype=self.dtype_policy
            )
            self.dropout_layer.build(shape)
        else:
            self.dropout_layer = None

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = inputs
        for name in self._conv_names:
            outputs = getattr(self, name)(outputs)
            norm = getattr(self, f"{name}_norm")
            if norm is not None:
                outputs = self.activation(norm(outputs, training=training))
        if self.dropout_layer is not None:
            outputs = self.dropout_layer(outputs, training=training)
        return outputs

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        kernel_size, strides = self._spatial_arguments(input_shape)
        return conv_output_shape(
            input_shape,
            self.widths[-1],
            kernel_size,
            strides,
            self.padding,
            self.data_format,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "mlp_filters": (
                    None if self.mlp_filters is None else list(self.mlp_filters)
                ),
                "mlp_depth": self.mlp_depth,
                "strides": self.strides,
                "padding": self.padding,
                "activation": activations.serialize(self.activation),
                **self._normalization_config(),
                "dropout": self.dropout,
                **serialize_weight_arguments(self.weight_arguments),
                "data_format": self.data_format,
            }
        )
        return config
