"""Channel arithmetic: the channel axis of a shape, channel rounding, output shapes.

One home for what every layer computes about channels and positions, so no
layer re-derives the rounding of a width or the output size of a convolution.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import ops

from keras_nin._validation import channel_axis
from keras_nin.layers._backend_fixes import is_empty

MAX_GROUPS = 32


def check_input_shape(
    layer_name: str,
    input_shape: Sequence[int | None],
    data_format: str,
    ranks: Sequence[int] = (3, 4, 5),
) -> int:
    """Validate the rank of `input_shape` and return its (known) channel count.

    Raises:
        ValueError: if the rank is not in `ranks` or the channel dimension is
            `None` or not positive.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"Invalid input shape for `{layer_name}`. Expected an input of rank "
            f"{expected} (batch, spatial dimensions..., channels), "
            f"received rank {len(input_shape)}: input_shape={input_shape}."
        )
    channels = input_shape[channel_axis(data_format)]
    if isinstance(channels, numbers.Integral) and channels <= 0:
        raise ValueError(
            f"Invalid input shape for `{layer_name}`. The channel dimension "
            f"(axis {channel_axis(data_format)}) must be strictly positive, "
            f"received {channels}: input_shape={input_shape}."
        )
    if channels is None:
        raise ValueError(
            f"Invalid input shape for `{layer_name}`. The channel dimension "
            f"(axis {channel_axis(data_format)} for data_format="
            f"'{data_format}') must be known, received None: "
            f"input_shape={input_shape}."
        )
    return int(channels)


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The spatial axes of a tensor of `rank` dimensions in `data_format`."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank - 2))


def round_channels(value: float) -> int:
    """Round a fractional channel count to the nearest integer, at least 1.

    Halves round up (`2.5 -> 3`), unlike Python's `round`, which rounds halves
    to even: a channel count should not depend on the parity of its neighbour.
    """
    return max(1, math.floor(value + 0.5))


def make_divisible(value: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """Round a channel count to a multiple of `divisor`, as MobileNet does.

    The nearest multiple of `divisor` (halves up), at least `divisor`, raised
    by one `divisor` if rounding down kept less than `round_limit` of `value`:
    the `_make_divisible` rule of TensorFlow's and torchvision's MobileNets
    with the default 0.9 (`make_divisible(0.25 * 72, 8) == 24`,
    `make_divisible(20, 8) == 24`). `round_limit=0` is plain rounding to the
    nearest multiple, as timm's squeeze-excite uses; with `divisor=1` and
    `round_limit=0` it is `round_channels`.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < round_limit * value:
        rounded += divisor
    return rounded


def group_count(channels: int, max_groups: int = MAX_GROUPS) -> int:
    """The number of groups `normalization="group"` uses for `channels`.

    The largest divisor of `channels` that is at most `max_groups` (32, the
    default of Wu & He, "Group Normalization", 2018): 32 for 64, 96, 160 or
    192 channels, 24 for 48, 25 for 100, and `channels` itself below 33
    channels (one channel per group).
    """
    for groups in range(min(max_groups, channels), 0, -1):
        if channels % groups == 0:
            return groups
    raise AssertionError("unreachable: 1 divides every channel count")


def subsample(inputs: Any, strides: Sequence[int], data_format: str) -> Any:
    """Keep every `strides[i]`-th position along each spatial axis.

    This is what a strided 1×1 convolution sees of its input (with "same" or
    "valid" padding alike), so `Pointwise` after `subsample` is a 1×1
    convolution with a stride. A spatial size `n` becomes `ceil(n / s)`.
    """
    if all(s == 1 for s in strides):
        return inputs
    if (
        keras.backend.backend() == "tensorflow"
        and data_format == "channels_last"
        and not is_empty(inputs)
    ):
        # The same positions, taken by a pooling of size 1: TensorFlow's
        # strided slice and its gradient are slow on the CPU. Measured on
        # 32×28×28×256 with stride 2 then the (256, 512) product (benchmarks/
        # harness, no XLA): forward 4.3 ms instead of 10.4, forward+backward
        # 12.2 ms instead of 22.4; under XLA 4.8 ms against 4.6 (one program
        # either way). Its pooling has no channels_first kernel on the CPU
        # (Keras transposes), and an empty batch is left to the slice.
        return ops.average_pool(
            inputs, 1, tuple(strides), padding="valid", data_format=data_format
        )
    spatial = tuple(slice(None, None, s) for s in strides)
    if data_format == "channels_last":
        return inputs[(slice(None), *spatial, slice(None))]
    return inputs[(slice(None), slice(None), *spatial)]


def conv_output_shape(
    input_shape: Sequence[int | None],
    filters: int,
    kernel_size: Sequence[int],
    strides: Sequence[int],
    padding: str,
    data_format: str,
) -> tuple[int | None, ...]:
    """The output shape of a convolution (dilation 1), as Keras computes it.

    Each spatial size `n` becomes `ceil(n / s)` with `"same"` padding and
    `ceil((n - k + 1) / s)` with `"valid"` padding; unknown sizes stay `None`.

    Raises:
        ValueError: if `"valid"` padding leaves no position (`n < k`).
    """
    input_shape = tuple(input_shape)
    last = data_format == "channels_last"
    spatial = input_shape[1:-1] if last else input_shape[2:]
    sizes = []
    for size, kernel, stride in zip(spatial, kernel_size, strides, strict=True):
        if size is None:
            sizes.append(None)
            continue
        if padding == "valid":
            if size < kernel:
                raise ValueError(
                    f"A {tuple(kernel_size)} convolution with padding='valid' "
                    f"needs spatial sizes of at least the kernel size. "
                    f"Received: input_shape={input_shape}."
                )
            size = size - kernel + 1
        sizes.append(-(-size // stride))
    if data_format == "channels_last":
        return (input_shape[0], *sizes, filters)
    return (input_shape[0], filters, *sizes)


# Keras activations that act on each value alone; every other activation
# (softmax, log_softmax, sparsemax, a user's function) acts along the last
# axis, which must be the channel axis.
_ELEMENTWISE = frozenset(
    {
        "celu",
        "elu",
        "exponential",
        "gelu",
        "hard_shrink",
        "hard_sigmoid",
        "hard_silu",
        "hard_swish",
        "hard_tanh",
        "leaky_relu",
        "linear",
        "log_sigmoid",
        "mish",
        "relu",
        "relu6",
        "selu",
        "sigmoid",
        "silu",
        "soft_shrink",
        "softplus",
        "softsign",
        "sparse_plus",
        "sparse_sigmoid",
        "squareplus",
        "swish",
        "tanh",
        "tanh_shrink",
    }
)


# The functions themselves, looked up once: `apply_activation` runs at every
# call of every layer, so the test must be one set lookup.
_ELEMENTWISE_FUNCTIONS = frozenset(
    getattr(keras.activations, name)
    for name in _ELEMENTWISE
    if hasattr(keras.activations, name)  # some exist only in newer Keras
)


def _is_elementwise(activation: Callable[[Any], Any]) -> bool:
    try:
        return activation in _ELEMENTWISE_FUNCTIONS
    except TypeError:  # an unhashable callable: not one of Keras's functions
        return False


def apply_activation(
    activation: Callable[[Any], Any] | None, outputs: Any, data_format: str
) -> Any:
    """Apply `activation` to the channel vector of every position.

    An activation that acts on each value alone runs as it is. Any other
    (softmax over the channels, say) acts along the last axis, so a
    channels_first tensor gets its channel axis moved last for it and back:
    otherwise a channels_first softmax would normalize over the positions.
    """
    if activation is None:
        return outputs
    if data_format == "channels_last" or _is_elementwise(activation):
        return activation(outputs)
    return ops.moveaxis(activation(ops.moveaxis(outputs, 1, -1)), -1, 1)
