"""The one home for what every keras-nin layer shares.

Argument validation that raises our clear errors, the channel axis of a
`data_format`, channel rounding, the decorator that registers a layer as
Keras-serializable, normalization chosen by name, the weight arguments every
convolution of a block receives, and the spatial convolution by input rank.
Layers import these instead of re-deriving them.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeVar

import keras
from keras import constraints, initializers, ops, regularizers

from keras_nin._validation import (  # noqa: F401
    DATA_FORMATS,
    NORMALIZATIONS,
    _invalid,
    channel_axis,
    check_choice,
    check_int_or_tuple,
    check_norm_epsilon,
    check_norm_momentum,
    check_normalization,
    check_positive_int,
    check_rate,
    check_real,
    expand_to_rank,
    get_activation,
    get_keras_object,
    standardize_data_format,
)

PACKAGE = "keras_nin"

T = TypeVar("T")


def register_serializable(cls: type[T]) -> type[T]:
    """Register `cls` with Keras under the `keras_nin>` package prefix."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


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


def round_channels(value: float) -> int:
    """Round a fractional channel count to the nearest integer, at least 1.

    Halves round up (`2.5 -> 3`), unlike Python's `round`, which rounds halves
    to even: a channel count should not depend on the parity of its neighbour.
    """
    return max(1, math.floor(value + 0.5))


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of `divisor`, as MobileNet does.

    The nearest multiple of `divisor` (halves up), at least `divisor`, and
    raised by one `divisor` if rounding down lost more than 10% of `value`:
    the `_make_divisible` rule of TensorFlow's and torchvision's MobileNets
    (`make_divisible(0.25 * 72, 8) == 24`, `make_divisible(20, 8) == 24`). With
    `divisor=1` it is `round_channels`.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


# --- Normalization chosen by name -------------------------------------------

MAX_GROUPS = 32
# Keras's defaults: `BatchNormalization`'s momentum, and every norm's epsilon.
NORM_MOMENTUM = 0.99
NORM_EPSILON = 1e-3


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


@register_serializable
class LayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` that normalizes axis 1 on every backend.

    On the PyTorch backend Keras hands any contiguous list of axes to
    `torch.nn.functional.layer_norm`, which normalizes the *trailing*
    dimensions: `axis=1` of a `(N, C, H, W)` input raises, and `axis=1` of a
    `(N, C, L)` input with `L == C` silently normalizes the last axis. A single
    non-last axis is moved last, normalized there, and moved back.
    """

    def call(self, inputs: Any) -> Any:
        rank = len(inputs.shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if len(axes) != 1 or axes[0] % rank == rank - 1:
            return super().call(inputs)
        axis = axes[0]
        outputs = ops.layer_normalization(
            ops.moveaxis(inputs, axis, -1),
            self.gamma,
            self.beta,
            axis=-1,
            epsilon=self.epsilon,
            rms_scaling=self.rms_scaling,
        )
        return ops.cast(ops.moveaxis(outputs, -1, axis), self.compute_dtype)


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


# --- The weight arguments every convolution of a block receives -------------

_WEIGHT_ARGUMENTS = {
    "kernel_initializer": initializers,
    "bias_initializer": initializers,
    "kernel_regularizer": regularizers,
    "bias_regularizer": regularizers,
    "kernel_constraint": constraints,
    "bias_constraint": constraints,
}


def weight_arguments(
    kernel_initializer: str | Any = "glorot_uniform",
    bias_initializer: str | Any = "zeros",
    kernel_regularizer: str | Any | None = None,
    bias_regularizer: str | Any | None = None,
    kernel_constraint: str | Any | None = None,
    bias_constraint: str | Any | None = None,
) -> dict[str, Any]:
    """Validate a block's weight arguments and return them as Keras objects.

    The block passes the result, as `**kwargs`, to every convolution inside,
    and reports it in `get_config()` through `serialize_weight_arguments`.
    Serializing only there matters: Keras's serializer imports TensorFlow,
    which costs about half a gigabyte and a second on the JAX and PyTorch
    backends, so it must not run when a block is merely constructed.

    Raises:
        ValueError: for an unknown initializer, regularizer or constraint.
    """
    given = {
        "kernel_initializer": kernel_initializer,
        "bias_initializer": bias_initializer,
        "kernel_regularizer": kernel_regularizer,
        "bias_regularizer": bias_regularizer,
        "kernel_constraint": kernel_constraint,
        "bias_constraint": bias_constraint,
    }
    return {
        name: get_keras_object(name, module, given[name])
        for name, module in _WEIGHT_ARGUMENTS.items()
    }


def serialize_weight_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The `get_config()` form of what `weight_arguments` returned."""
    return {
        name: _WEIGHT_ARGUMENTS[name].serialize(value)
        for name, value in arguments.items()
    }


def conv_bias_and_activation(
    normalization: str | None, activation: Any
) -> dict[str, Any]:
    """`use_bias` and `activation` of a convolution that a norm may follow.

    Without a norm the convolution keeps its bias and applies `activation`
    itself. With a norm the bias is dropped (the norm's own offset replaces
    it) and the convolution stays linear: the caller applies `activation`
    after the norm.
    """
    if normalization is None:
        return {"use_bias": True, "activation": activation}
    return {"use_bias": False, "activation": None}


# --- Spatial convolutions ----------------------------------------------------


@functools.cache
def _tensorflow_cpu_only() -> bool:
    """Whether this is the TensorFlow backend with no device but CPUs."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return all(d.device_type == "CPU" for d in tf.config.list_logical_devices())


class _ChannelsFirstConvolution:
    """Two fixes to Keras's channels_first convolutions.

    Where: TensorFlow's CPU kernel for `Conv2D` runs only channels_last
    (NHWC) unless TensorFlow was built to use oneDNN on this CPU (on by default
    only on some CPUs: an AVX2-only AMD EPYC refuses with "The Conv2D op
    currently only supports the NHWC tensor format on the CPU", and so does
    `keras.layers.Conv1D`/`Conv2D` with `data_format="channels_first"`). On a
    TensorFlow backend with CPUs only, the convolution is computed channels_last
    between two transposes, as Keras already does for its depthwise and pooling
    ops; on a GPU the native NCHW kernel is kept.

    How the bias is added: Keras's TensorFlow `ops.add(outputs, bias)` treats a
    bias that squeezes to a vector as `tf.nn.bias_add` and guesses
    channels_last whenever the last axis of `outputs` has `filters` entries: a
    channels_first output whose last spatial size equals `filters` got its
    bias added along the wrong axis. Adding `outputs` to the reshaped bias,
    bias first, avoids the guess (as `Pointwise.call` does).
    """

    def convolution_op(self, inputs: Any, kernel: Any) -> Any:
        if self.data_format == "channels_last" or not _tensorflow_cpu_only():
            return super().convolution_op(inputs, kernel)
        outputs = ops.conv(
            ops.moveaxis(inputs, 1, -1),
            kernel,
            strides=list(self.strides),
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format="channels_last",
        )
        return ops.moveaxis(outputs, -1, 1)

    def call(self, inputs: Any) -> Any:
        if self.data_format == "channels_last":
            return super().call(inputs)
        # Not Keras's `call`: `keras.layers.Conv1D.call` skips `convolution_op`.
        outputs = self.convolution_op(inputs, self.kernel)
        if self.use_bias:
            bias = ops.reshape(self.bias, (1, self.filters) + (1,) * self.rank)
            outputs = ops.add(bias, outputs)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@register_serializable
class Conv1D(_ChannelsFirstConvolution, keras.layers.Conv1D):
    """`keras.layers.Conv1D` with the fixes above."""


@register_serializable
class Conv2D(_ChannelsFirstConvolution, keras.layers.Conv2D):
    """`keras.layers.Conv2D` with the fixes above."""


@register_serializable
class Conv3D(_ChannelsFirstConvolution, keras.layers.Conv3D):
    """`keras.layers.Conv3D` with the fixes above."""


_CONVOLUTIONS = {1: Conv1D, 2: Conv2D, 3: Conv3D}


class _DepthwiseConvolution:
    """Two fixes to Keras's depthwise convolutions.

    Unequal strides: TensorFlow's CPU kernel for a depthwise convolution takes
    equal strides only unless TensorFlow uses oneDNN on this CPU ("Current
    implementation only supports equal length strides in the row and column
    dimensions"). With strides such as `(2, 1)` on a TensorFlow backend with
    CPUs only, the same computation runs as a grouped convolution (one group
    per input channel, the same kernel reshaped), which Keras compiles with
    XLA.

    The bias: `keras.layers.DepthwiseConv2D` adds it like `Conv2D`, so on the
    TensorFlow backend a channels_first output whose last spatial size equals
    its channel count got it along the wrong axis; it is added bias first
    along the channel axis, as in `_ChannelsFirstConvolution`.
    """

    def call(self, inputs: Any) -> Any:
        arguments = {
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "data_format": self.data_format,
        }
        if len(set(self.strides)) > 1 and _tensorflow_cpu_only():
            grouped = ops.reshape(self.kernel, (*self.kernel_size, 1, -1))
            outputs = ops.conv(inputs, grouped, **arguments)
        else:
            outputs = ops.depthwise_conv(inputs, self.kernel, **arguments)
        if self.use_bias:
            axis = channel_axis(self.data_format)
            bias_shape = [1] * (self.rank + 2)
            bias_shape[axis] = -1
            outputs = ops.add(ops.reshape(self.bias, bias_shape), outputs)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@register_serializable
class DepthwiseConv1D(_DepthwiseConvolution, keras.layers.DepthwiseConv1D):
    """`keras.layers.DepthwiseConv1D` with the fixes above."""


@register_serializable
class DepthwiseConv2D(_DepthwiseConvolution, keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D` with the fixes above."""


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
    layer = DepthwiseConv1D if spatial_rank == 1 else DepthwiseConv2D
    return layer(*args, **renamed)


def subsample(inputs: Any, strides: Sequence[int], data_format: str) -> Any:
    """Keep every `strides[i]`-th position along each spatial axis.

    This is what a strided 1×1 convolution sees of its input (with "same" or
    "valid" padding alike), so `Pointwise` after `subsample` is a 1×1
    convolution with a stride. A spatial size `n` becomes `ceil(n / s)`.
    """
    if all(s == 1 for s in strides):
        return inputs
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


class Block(keras.layers.Layer):
    """Base of the composite blocks: lists their sublayers as `layers`.

    `model.summary(expand_nested=True)` expands a layer that has a non-empty
    `layers` attribute, so a model's summary shows each block's convolutions
    and norms under it. Sublayers appear in the order the block assigned them
    in `build()`, which is the order of the computation.

    A subclass may set `default_name`: unnamed instances are then called
    `default_name`, `default_name_1`, ... (Keras would snake-case the class
    name, turning `NiNBlock` into `ni_n_block`).
    """

    default_name: str | None = None

    def __init__(self, **kwargs: Any) -> None:
        if self.default_name is not None and kwargs.get("name") is None:
            uid = keras.backend.get_uid(self.default_name)
            kwargs["name"] = (
                self.default_name if uid == 1 else f"{self.default_name}_{uid - 1}"
            )
        super().__init__(**kwargs)

    @property
    def layers(self) -> list[keras.layers.Layer]:
        return list(self._flatten_layers(include_self=False, recursive=False))

    # Helpers for subclasses that set `data_format`, `activation` and
    # `weight_arguments`, and call `_set_normalization`, in `__init__`.

    def _set_normalization(
        self, normalization: object, norm_momentum: object, norm_epsilon: object
    ) -> None:
        """Check and keep the block's `normalization` and its two settings."""
        self.normalization = check_normalization(normalization)
        self.norm_momentum = check_norm_momentum(norm_momentum)
        self.norm_epsilon = check_norm_epsilon(norm_epsilon)

    def _normalization_config(self) -> dict[str, Any]:
        return {
            "normalization": self.normalization,
            "norm_momentum": self.norm_momentum,
            "norm_epsilon": self.norm_epsilon,
        }

    def _norm_layer(
        self, name: str, shape: tuple[int | None, ...]
    ) -> keras.layers.Layer | None:
        """The block's norm (or `None`) for an output of `shape`, built."""
        norm = normalization_layer(
            self.normalization,
            shape[channel_axis(self.data_format)],
            self.data_format,
            momentum=self.norm_momentum,
            epsilon=self.norm_epsilon,
            name=name,
            dtype=self.dtype_policy,
        )
        if norm is not None:
            norm.build(shape)
        return norm

    def _pin_input_spec(self, input_shape: Sequence[int | None]) -> None:
        """Fix the input's rank and channel count to those built on."""
        axis = channel_axis(self.data_format)
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={axis: input_shape[axis]}
        )

    def _conv_arguments(self) -> dict[str, Any]:
        """Keyword arguments of a convolution of this block.

        The block's weight arguments, data format and dtype policy; a bias
        only without a norm; and no activation: `_norm_act` applies the norm
        and then the activation after the convolution.
        """
        return {
            **self.weight_arguments,
            **conv_bias_and_activation(self.normalization, None),
            "data_format": self.data_format,
            "dtype": self.dtype_policy,
        }

    def _conv_unit(
        self, name: str, conv: keras.layers.Layer, shape: tuple[int | None, ...]
    ) -> tuple[int | None, ...]:
        """Build `conv` and its norm on `shape`; return the output shape.

        The convolution is stored as `self.<name>`, the norm (or `None`) as
        `self.<name>_norm`, where `_norm_act` finds it.
        """
        conv.build(shape)
        shape = conv.compute_output_shape(shape)
        setattr(self, name, conv)
        setattr(self, f"{name}_norm", self._norm_layer(f"{name}_norm", shape))
        return shape

    def _norm_act(
        self, outputs: Any, name: str, training: bool | None, activate: bool = True
    ) -> Any:
        """The norm of convolution `name` (if any), then the activation.

        `activate=False` leaves the output linear, e.g. for a projection.
        """
        norm = getattr(self, f"{name}_norm")
        if norm is not None:
            outputs = norm(outputs, training=training)
        return self.activation(outputs) if activate else outputs
