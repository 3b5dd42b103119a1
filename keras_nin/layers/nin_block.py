"""NiNBlock: the "mlpconv" layer, a convolution followed by a micro-network.

Lin, Chen & Yan, "Network In Network" (2013), https://arxiv.org/abs/1312.4400
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras

from keras_nin._validation import (
    check_choice,
    check_int_or_tuple,
    check_positive_int,
    check_rate,
    from_array,
)
from keras_nin.layers._block import Block
from keras_nin.layers._registry import register_serializable

PADDINGS = ("same", "valid")


def _check_mlp_filters(value: object) -> tuple[int, ...]:
    expected = "a non-empty sequence of strictly positive integers"
    message = (
        f"Invalid value for argument `mlp_filters`. Expected {expected}. "
        f"Received: mlp_filters={value!r}."
    )
    value = from_array(value)
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
        dropout: float in `[0, 1)`, the dropout rate on the block's output.
        normalization: `None` (the paper, default), `"batch"`, `"layer"` or
            `"group"`: a norm after every convolution, before its activation.
        **kwargs: the arguments every block shares (`activation`, default
            `"relu"`; `norm_momentum`, `norm_epsilon`, the six weight
            arguments, `data_format`; see `Block`), and base layer arguments
            such as `name`, `dtype` and `trainable`.

    Input shape:
        Rank 3, 4 or 5, channels known, laid out as `Block` describes.

    Output shape:
        The spatial convolution's output shape with `mlp_filters[-1]` channels
        (`filters` when `mlp_filters` is `None`).

    Raises:
        ValueError: for non-positive `filters`, `kernel_size`, `strides` or
            `mlp_depth`; an empty `mlp_filters` or one with a non-positive
            entry; an unknown `padding`; a `dropout` outside `[0, 1)`; on
            build, a "valid" window larger than the input; and the errors
            every block raises (`Block`).

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
    config_arguments = (
        "filters",
        "kernel_size",
        "mlp_filters",
        "mlp_depth",
        "strides",
        "padding",
        "dropout",
    )

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *,
        mlp_filters: Sequence[int] | None = None,
        mlp_depth: int = 2,
        strides: int | Sequence[int] = 1,
        padding: str = "same",
        dropout: float = 0.0,
        normalization: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(normalization=normalization, **kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_or_tuple("kernel_size", kernel_size)
        self.mlp_depth = check_positive_int("mlp_depth", mlp_depth)
        self.mlp_filters = (
            None if mlp_filters is None else _check_mlp_filters(mlp_filters)
        )
        self.strides = check_int_or_tuple("strides", strides)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.dropout = check_rate("dropout", dropout)

    @property
    def widths(self) -> tuple[int, ...]:
        """The output channels of each micro-network layer, in order."""
        if self.mlp_filters is None:
            return (self.filters,) * self.mlp_depth
        return self.mlp_filters

    @property
    def _conv_names(self) -> list[str]:
        """The convolutions, in the order `call` runs them."""
        return ["conv"] + [f"mlp_{i}" for i in range(1, len(self.widths) + 1)]

    def build(self, input_shape: Sequence[int | None]) -> None:
        kernel_size, strides = self._kernel_and_strides(input_shape)
        # Our error for an input smaller than a "valid" kernel, before Keras's.
        self.compute_output_shape(input_shape)
        self._pin_input_spec(input_shape)
        shape = self._spatial_unit(
            "conv",
            self.filters,
            kernel_size,
            input_shape,
            strides=strides,
            padding=self.padding,
        )
        for name, width in zip(self._conv_names[1:], self.widths, strict=True):
            shape = self._pointwise_unit(name, width, shape)
        self.dropout_layer = None
        if self.dropout > 0:
            layer = keras.layers.Dropout(
                self.dropout, name="dropout", dtype=self.dtype_policy
            )
            self._add_sublayer("dropout_layer", layer, shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = inputs
        for name in self._conv_names:
            outputs = self._unit(name, outputs, training)
        if self.dropout_layer is not None:
            outputs = self.dropout_layer(outputs, training=training)
        return outputs

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        return self._strided_output_shape(input_shape, self.widths[-1], self.padding)
