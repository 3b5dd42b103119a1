"""Pointwise: the 1×1 convolution, a fully connected layer at every position.

Lin, Chen & Yan, "Network In Network" (2013), https://arxiv.org/abs/1312.4400
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
from keras import activations, ops, regularizers

from keras_nin._validation import (
    channel_axis,
    check_choice,
    check_positive_int,
    check_real,
    get_channel_activation,
    standardize_data_format,
)
from keras_nin.layers._backend_fixes import (
    add_channel_bias,
    conv_channels_last,
    is_empty,
)
from keras_nin.layers._channels import (
    apply_activation,
    check_input_shape,
    round_channels,
)
from keras_nin.layers._registry import register_serializable
from keras_nin.layers._weights import serialize_weight_arguments, weight_arguments

MODES = ("preserve", "reduce", "expand")


def _check_mode_arguments(
    filters: int | None, mode: str | None, ratio: float | None
) -> None:
    """Reject argument combinations that are wrong whatever the input."""
    if filters is not None and ratio is not None:
        raise ValueError(
            "Arguments `filters` and `ratio` are mutually exclusive: give the "
            "output channel count either directly or as a ratio of the input "
            f"channels. Received: filters={filters}, ratio={ratio}."
        )
    if mode is None:
        if ratio is not None:
            raise ValueError(
                "Argument `ratio` needs `mode='reduce'` or `mode='expand'`. "
                f"Received: ratio={ratio}, mode=None."
            )
        if filters is None:
            raise ValueError(
                "Pointwise needs an output channel count: pass `filters=k`, or "
                "`mode='preserve'`, or `mode='reduce'`/`'expand'` with `filters` "
                "or `ratio`. Received: filters=None, mode=None."
            )
    elif mode == "preserve":
        if ratio is not None:
            raise ValueError(
                "Argument `ratio` is not allowed with mode='preserve' (the output "
                f"has exactly the input's channels). Received: ratio={ratio}."
            )
    elif filters is None and ratio is None:
        raise ValueError(
            f"mode='{mode}' needs `filters` or `ratio`. "
            "Received: filters=None, ratio=None."
        )
    elif mode == "reduce" and ratio is not None and not 0 < ratio < 1:
        raise ValueError(
            "Invalid value for argument `ratio` with mode='reduce'. Expected "
            f"0 < ratio < 1. Received: ratio={ratio}."
        )
    elif mode == "expand" and ratio is not None and not ratio > 1:
        raise ValueError(
            "Invalid value for argument `ratio` with mode='expand'. Expected "
            f"ratio > 1. Received: ratio={ratio}."
        )


def output_channels(
    input_channels: int,
    filters: int | None = None,
    *,
    mode: str | None = None,
    ratio: float | None = None,
) -> int:
    """The number of output channels of a `Pointwise` layer on this input.

    Args:
        input_channels: int, the channel count of the input.
        filters: int or `None`, the requested output channel count.
        mode: `None`, `"preserve"`, `"reduce"` or `"expand"`.
        ratio: float or `None`, output channels as a fraction of
            `input_channels`, rounded to the nearest integer (halves up), at
            least 1.

    Returns:
        The output channel count.

    Raises:
        ValueError: if the arguments contradict each other or the mode for
            this input (e.g. `mode="reduce"` with `filters >= input_channels`).
    """
    _check_mode_arguments(filters, mode, ratio)
    if mode is None:
        return filters
    if mode == "preserve":
        if filters is not None and filters != input_channels:
            raise ValueError(
                "Invalid value for argument `filters` with mode='preserve'. "
                f"Expected the input's channel count, {input_channels}. "
                f"Received: filters={filters}."
            )
        return input_channels
    if ratio is not None and not math.isfinite(input_channels * ratio):
        raise ValueError(
            f"Invalid value for argument `ratio`. Expected a ratio whose output "
            f"width {input_channels} × ratio is a finite channel count. "
            f"Received: ratio={ratio}."
        )
    resolved = filters if ratio is None else round_channels(input_channels * ratio)
    source = f"filters={filters}" if ratio is None else f"ratio={ratio}"
    if mode == "reduce" and not resolved < input_channels:
        raise ValueError(
            f"Cannot reduce {input_channels} input channels with {source}: "
            f"mode='reduce' needs fewer than {input_channels} output channels, "
            f"got {resolved}."
        )
    if mode == "expand" and not resolved > input_channels:
        raise ValueError(
            f"Cannot expand {input_channels} input channels with {source}: "
            f"mode='expand' needs more than {input_channels} output channels, "
            f"got {resolved}."
        )
    return resolved


@register_serializable
class Pointwise(keras.layers.Dense):
    """1×1 convolution: one fully connected layer applied at every position.

    At each spatial position (each pixel of an image, each step of a sequence,
    each voxel of a volume) the layer takes the vector of `C_in` channel values
    and applies the same fully connected layer to it: a `(C_in, C_out)` weight
    matrix, a bias and an activation. The weights are shared across positions,
    so the layer is exactly a convolution with a kernel of size 1 — and it is
    computed as one matrix product over the channel axis.

    The number of output channels is any positive `filters`, or follows a
    `mode` resolved from the real input in `build()`:

    - `"preserve"`: exactly `C_in` channels (the shape-preserving 1×1 layer
      that adds a nonlinearity, as in Network-in-Network).
    - `"reduce"`: fewer channels, `filters < C_in` or `ratio` in `(0, 1)`
      giving `round(C_in * ratio)` (at least 1, halves up).
    - `"expand"`: more channels, `filters > C_in` or `ratio > 1`.

    After `build()`, `layer.filters` is the resolved channel count, while
    `get_config()` keeps the arguments as given.

    `Pointwise` is a `keras.layers.Dense` whose "last axis" is the channel
    axis, and it does what `Dense` does: `enable_lora(rank)` freezes the
    kernel and trains a low-rank update `A·B` (the kernel then reads as
    `kernel + (lora_alpha / rank)·A·B`), and `quantize("int8")` (or the other
    modes `Dense` supports in the installed Keras) stores an 8-bit kernel;
    both save and load as `.keras` files.

    Args:
        filters: int or `None`, the number of output channels (filters).
        mode: `None`, `"preserve"`, `"reduce"` or `"expand"`.
        ratio: float or `None`, output channels as a fraction of the input
            channels; needs `mode="reduce"` (`0 < ratio < 1`) or
            `mode="expand"` (`ratio > 1`). Exclusive with `filters`.
        activation: activation function or its name. Defaults to `"relu"`,
            the Network-in-Network choice; `None` gives the linear layer.
        use_bias: bool, whether to add a bias vector.
        kernel_initializer: initializer for the `(C_in, C_out)` kernel.
        bias_initializer: initializer for the bias vector.
        kernel_regularizer: optional regularizer for the kernel.
        bias_regularizer: optional regularizer for the bias.
        activity_regularizer: optional regularizer for the output.
        kernel_constraint: optional constraint for the kernel.
        bias_constraint: optional constraint for the bias.
        lora_rank: optional int, enable LoRA of this rank when built (as
            `Dense`; reloaded files keep it).
        lora_alpha: optional float, the LoRA scale numerator (defaults to
            `lora_rank`).
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer arguments, such as `name` and `dtype`.

    Input shape:
        A tensor of rank 3, 4 or 5, `(batch, *spatial, channels)` for
        `"channels_last"` or `(batch, channels, *spatial)` for
        `"channels_first"`; the channel dimension must be known.

    Output shape:
        The input shape with the channel dimension replaced by the resolved
        `filters`; every other dimension is unchanged.

    Raises:
        ValueError: for an unknown `mode`, non-positive `filters`, a `ratio`
            outside the mode's range, `filters` given with `ratio`, `filters`
            that contradict the mode for the input, an unknown channel
            dimension or an input rank other than 3, 4 or 5.
        TypeError: for `filters` or `ratio` of the wrong type.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> import keras_nin
        >>> # 36 positions (6 × 6), each holding 32 channel values
        >>> x = np.random.rand(2, 6, 6, 32).astype("float32")
        >>> keras.ops.shape(keras_nin.layers.Pointwise(16)(x))
        (2, 6, 6, 16)
        >>> keras.ops.shape(keras_nin.layers.Pointwise(mode="preserve")(x))
        (2, 6, 6, 32)
        >>> layer = keras_nin.layers.Pointwise(mode="reduce", ratio=0.25)
        >>> keras.ops.shape(layer(x)), layer.filters, layer.count_params()
        ((2, 6, 6, 8), 8, 264)
    """

    def __init__(
        self,
        filters: int | None = None,
        *,
        mode: str | None = None,
        ratio: float | None = None,
        activation: str | Any | None = "relu",
        use_bias: bool = True,
        kernel_initializer: str | Any = "glorot_uniform",
        bias_initializer: str | Any = "zeros",
        kernel_regularizer: str | Any | None = None,
        bias_regularizer: str | Any | None = None,
        activity_regularizer: str | Any | None = None,
        kernel_constraint: str | Any | None = None,
        bias_constraint: str | Any | None = None,
        data_format: str | None = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        **kwargs: Any,
    ) -> None:
        if filters is not None:
            filters = check_positive_int("filters", filters)
        if mode is not None:
            mode = check_choice("mode", mode, MODES)
        if ratio is not None:
            ratio = check_real("ratio", ratio)
        _check_mode_arguments(filters, mode, ratio)
        if lora_rank is not None:
            lora_rank = check_positive_int("lora_rank", lora_rank)
        self._weight_arguments = weight_arguments(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        # `units` is known once the input's channels are (see `build`).
        super().__init__(
            units=filters or 1,
            use_bias=bool(use_bias),
            activity_regularizer=activity_regularizer,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            **self._weight_arguments,
            **kwargs,
        )
        self._requested_filters = filters
        self.filters = self.units = filters
        self.mode = mode
        self.ratio = ratio
        self.activation = get_channel_activation("activation", activation)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = keras.layers.InputSpec(min_ndim=3, max_ndim=5)

    def _output_channels(self, input_shape: Sequence[int | None]) -> int:
        input_channels = check_input_shape(
            type(self).__name__, input_shape, self.data_format
        )
        return output_channels(
            input_channels, self._requested_filters, mode=self.mode, ratio=self.ratio
        )

    def build(self, input_shape: Sequence[int | None]) -> None:
        self.filters = self.units = self._output_channels(input_shape)
        axis = channel_axis(self.data_format)
        input_channels = input_shape[axis]
        # Dense's weights (and its LoRA and quantized variables) for a
        # (C_in, C_out) kernel, then our own input spec.
        super().build((None, input_channels))
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={axis: input_channels}
        )
        # Which computation each path runs, from measurements on 2-D images
        # (benchmarks/, the Benchmarks page): see `call`. JAX keeps the matmul
        # on both; so do sequences and volumes, which were not measured.
        images = len(input_shape) == 4
        channels_last = self.data_format == "channels_last"
        backend = keras.backend.backend()
        self._convolve_in_training = images and backend == "torch"
        self._convolve_in_inference = self._convolve_in_training or (
            images and backend == "tensorflow" and channels_last
        )

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training:
            convolve = self._convolve_in_training
        else:
            convolve = self._convolve_in_inference
        # TensorFlow's convolution mishandles an empty batch (`_backend_fixes`).
        if convolve and not is_empty(inputs):
            # The same product as a 1×1 convolution, where measurement says
            # the backend's convolution is the faster kernel:
            # - TensorFlow, inference, on both of its paths. Without XLA (what
            #   `compile()` picks on a CPU) oneDNN fuses bias and ReLU into
            #   the convolution, not into the matmul: with bias + ReLU 1.31×
            #   the matmul's speed at 32×56×56×64 → 256, 1.07× at
            #   128×14×14×512 → 128, equal within noise at 32×28×28×192 → 64.
            #   Under XLA the convolution's bias and ReLU loop runs over the
            #   4-D output, the matmul's over a 2-D view that is then
            #   reshaped: 1.13× and 1.11×. In training the matmul's backward
            #   pass is the faster one: 1.07–1.72× the convolution's without
            #   XLA, 1.03–1.84× with (benchmarks/results/tensorflow.json).
            # - PyTorch, both paths. oneDNN's 1×1 convolution is the faster
            #   kernel once nothing is copied: `conv_channels_last` convolves
            #   a transposed view, where Keras's own `ops.conv` (and so
            #   `Conv2D(1×1)`) copies the input twice. Over 44 shapes
            #   (32×14×14 to 32×56×56 positions, 10 to 512 channels, widening
            #   to narrowing) with and without bias + ReLU (`make
            #   bench-sweep`, benchmarks/results/torch-sweep.md, AMD EPYC), it
            #   beat the matmul in all 88 forward rows, by 1.07–3.16×, and all
            #   88 forward+backward rows, by 1.19–3.88×. One caveat: timed
            #   alone, 32×28×28×64 → 256 with bias + ReLU ran at 0.36× the
            #   matmul's speed, because glibc's malloc handed the freed
            #   outputs back to the system and every call page-faulted them
            #   afresh (18,784 faults a call against 1,708); with tcmalloc,
            #   1.32×. channels_first needs no copy to begin with: against
            #   the batched matmul below, Keras's 1×1 convolution ran
            #   1.2–2.3× as fast forward and 0.94–1.71× forward+backward
            #   (one case within noise) at 4 NiN and ResNet shapes.
            kernel = ops.reshape(self.kernel, (1, 1, *self.kernel.shape))
            if self.data_format == "channels_last":
                outputs = conv_channels_last(inputs, kernel)
                if self.use_bias:
                    outputs = ops.add(outputs, self.bias)
            else:
                outputs = ops.conv(inputs, kernel, data_format="channels_first")
                if self.use_bias:
                    outputs = add_channel_bias(outputs, self.bias, self.data_format)
            return apply_activation(self.activation, outputs, self.data_format)
        # One matrix product over the channel axis, on a 2-D or 3-D view of the
        # input: TensorFlow's gradient of a broadcast N-D matmul is slower.
        # The number of positions is spelled out, not -1: a reshape cannot
        # infer -1 from an empty batch.
        shape = ops.shape(inputs)
        if self.data_format == "channels_last":
            # (positions, C_in) @ (C_in, C_out): the per-position dense layer.
            positions = ops.reshape(inputs, (math.prod(shape[:-1]), shape[-1]))
            outputs = ops.matmul(positions, self.kernel)
            if self.use_bias:
                outputs = ops.add(outputs, self.bias)
            outputs = apply_activation(self.activation, outputs, self.data_format)
            return ops.reshape(outputs, (*shape[:-1], self.filters))
        # (C_out, C_in) @ (N, C_in, positions): no transpose of the input.
        positions = ops.reshape(inputs, (shape[0], shape[1], math.prod(shape[2:])))
        outputs = ops.matmul(ops.transpose(self.kernel), positions)
        if self.use_bias:
            outputs = add_channel_bias(outputs, self.bias, self.data_format)
        outputs = apply_activation(self.activation, outputs, self.data_format)
        return ops.reshape(outputs, (shape[0], self.filters, *shape[2:]))

    def quantize(
        self, mode: str | None = None, type_check: bool = True, config: Any = None
    ) -> None:
        """Quantize the kernel as `keras.layers.Dense.quantize` does."""
        super().quantize(mode, type_check=False, config=config)

    def quantized_call(self, inputs: Any, training: bool | None = None) -> Any:
        # Dense's quantized products act on the last axis: a channels_first
        # input is moved to channels_last for them and back.
        if self.data_format == "channels_last":
            return super().quantized_call(inputs, training=training)
        outputs = super().quantized_call(ops.moveaxis(inputs, 1, -1), training=training)
        return ops.moveaxis(outputs, -1, 1)

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        output_shape = list(input_shape)
        output_shape[channel_axis(self.data_format)] = self._output_channels(
            input_shape
        )
        return tuple(output_shape)

    def get_config(self) -> dict[str, Any]:
        # The base layer's config, not Dense's: `filters`, not `units`.
        config = keras.layers.Layer.get_config(self)
        config.update(
            {
                "filters": self._requested_filters,
                "mode": self.mode,
                "ratio": self.ratio,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                **serialize_weight_arguments(self._weight_arguments),
                "activity_regularizer": regularizers.serialize(
                    self.activity_regularizer
                ),
                "data_format": self.data_format,
            }
        )
        if self.lora_rank:
            config.update(lora_rank=self.lora_rank, lora_alpha=self.lora_alpha)
        return config
