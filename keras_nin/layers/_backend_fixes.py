"""Workarounds for Keras and backend bugs, each in one place with its reason.

- `add_channel_bias`: Keras's TensorFlow `ops.add(x, b)` treats a bias that
  squeezes to a vector as `tf.nn.bias_add` and guesses channels_last whenever
  the last axis of `x` has `len(b)` entries, so a channels_first output whose
  last spatial size equals its channel count got its bias along the wrong
  axis (Keras's own Conv1D/2D/3D and DepthwiseConv channels_first layers are
  silently wrong in that corner). Adding the reshaped bias *first* avoids the
  guess.
- `LayerNormalization`: on the PyTorch backend `keras.layers.
  LayerNormalization(axis=1)` normalizes the trailing axes.
- `Conv1D`/`Conv2D`/`Conv3D`: TensorFlow's CPU kernels run channels_first
  convolutions only when oneDNN is on for this CPU, and
  `keras.layers.Conv1D.call` bypasses `convolution_op`.
- `conv_channels_last` (used by `Conv2D`, `DepthwiseConv2D` and
  `Pointwise`): Keras's PyTorch `conv` copies a channels_last image batch
  twice before convolving it.
- `DepthwiseConv1D`/`DepthwiseConv2D`: TensorFlow's CPU kernel takes unequal
  depthwise strides only with oneDNN.
- `empty_output`: on TensorFlow, `keras.ops.conv` returns its *input* for an
  empty batch (a `(0, 1, 1, 4)` input convolved to 2 channels stays
  `(0, 1, 1, 4)`), so `keras.layers.Conv2D` fails on a batch of 0.

Not yet reported upstream (found offline) but for the PyTorch copies; each is
guarded by a regression test in `tests/test_backend_fixes.py`.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
from keras import ops

from keras_nin._validation import channel_axis
from keras_nin.layers._registry import register_serializable


def is_empty(tensor: Any) -> bool:
    """Whether `tensor` has no element (a batch of 0): TensorFlow's convolution
    and pooling kernels mishandle it, and its bias guess misreads it."""
    return 0 in tuple(tensor.shape)


def add_channel_bias(outputs: Any, bias: Any, data_format: str) -> Any:
    """`outputs + bias` along the channel axis, bias first (see module doc).

    An empty `outputs` (a batch of 0) is returned as it is: there is nothing
    to add to, and TensorFlow's guess would take the empty tensor, whose
    zero-sized axes it squeezes away, for the bias.
    """
    if is_empty(outputs):
        return outputs
    shape = [1] * len(outputs.shape)
    shape[channel_axis(data_format)] = -1
    return ops.add(ops.reshape(bias, shape), outputs)


def empty_output(layer: keras.layers.Layer, inputs: Any) -> Any | None:
    """The correctly shaped empty output of `layer` for an empty batch, else None."""
    if not is_empty(inputs):
        return None
    shape = layer.compute_output_shape(tuple(inputs.shape))
    return ops.zeros(shape, dtype=layer.compute_dtype)


def conv_channels_last(inputs: Any, kernel: Any, **arguments: Any) -> Any:
    """`ops.conv(inputs, kernel, **arguments)` of a channels_last input.

    On PyTorch, Keras turns a channels_last image batch into a contiguous
    channels_first copy, then copies that into channels_last memory for
    oneDNN. The transposed *view* of the input already is that tensor: it is
    convolved as channels_first without a copy, and the output (channels_last
    memory) transposed back is a view too. Same kernel, same result, two
    copies and their page faults fewer: 1.05–7.5× the speed of
    `keras.layers.Conv2D` for a 1×1 convolution on the benchmark's shapes
    (`Pointwise.call`). Other backends and ranks run `ops.conv` as it is.
    Keras fixed the first copy upstream after 3.15.1 (keras-team/keras#23279,
    #23199); with that fix this is a view of a view, still correct.
    """
    if keras.backend.backend() != "torch" or len(inputs.shape) != 4:
        return ops.conv(inputs, kernel, data_format="channels_last", **arguments)
    outputs = ops.conv(
        ops.transpose(inputs, (0, 3, 1, 2)),
        kernel,
        data_format="channels_first",
        **arguments,
    )
    return ops.transpose(outputs, (0, 2, 3, 1))


@functools.cache
def tensorflow_cpu_only() -> bool:
    """Whether this is the TensorFlow backend with no device but CPUs."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return all(d.device_type == "CPU" for d in tf.config.list_logical_devices())


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


class _FixedConvolution:
    """What every fixed convolution's `call` shares.

    An empty batch gets its empty output (`empty_output`); where Keras's own
    `call` is right it runs (it keeps TensorFlow's fused bias add); otherwise
    the subclass's `_convolve`, the bias by `add_channel_bias` and the
    activation.
    """

    def _keras_call_is_right(self) -> bool:
        return self.data_format == "channels_last"

    def call(self, inputs: Any) -> Any:
        empty = empty_output(self, inputs)
        if empty is not None:
            return empty
        if self._keras_call_is_right():
            return super().call(inputs)
        outputs = self._convolve(inputs)
        if self.use_bias:
            outputs = add_channel_bias(outputs, self.bias, self.data_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class _ChannelsFirstConvolution(_FixedConvolution):
    """Keras's convolutions, channels_first on TensorFlow's CPU kernels, and
    channels_last without PyTorch's copies (`conv_channels_last`).

    TensorFlow's CPU kernel for `Conv2D` runs only channels_last (NHWC) unless
    TensorFlow uses oneDNN on this CPU (on by default only on some CPUs: an
    AVX2-only AMD EPYC refuses with "The Conv2D op currently only supports the
    NHWC tensor format on the CPU", and so does `keras.layers.Conv2D` with
    `data_format="channels_first"`). On a TensorFlow backend with CPUs only,
    the convolution runs channels_last between two transposes, as Keras does
    for its depthwise and pooling ops; a GPU keeps its NCHW kernel.
    """

    def convolution_op(self, inputs: Any, kernel: Any) -> Any:
        arguments = {
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
        }
        if self.data_format == "channels_last":
            return conv_channels_last(inputs, kernel, **arguments)
        if not tensorflow_cpu_only():
            return super().convolution_op(inputs, kernel)
        outputs = conv_channels_last(ops.moveaxis(inputs, 1, -1), kernel, **arguments)
        return ops.moveaxis(outputs, -1, 1)

    def _convolve(self, inputs: Any) -> Any:
        # Not Keras's `call`: `keras.layers.Conv1D.call` skips `convolution_op`.
        return self.convolution_op(inputs, self.kernel)


@register_serializable
class Conv1D(_ChannelsFirstConvolution, keras.layers.Conv1D):
    """`keras.layers.Conv1D` with the fixes above."""


@register_serializable
class Conv2D(_ChannelsFirstConvolution, keras.layers.Conv2D):
    """`keras.layers.Conv2D` with the fixes above."""


@register_serializable
class Conv3D(_ChannelsFirstConvolution, keras.layers.Conv3D):
    """`keras.layers.Conv3D` with the fixes above."""


class _DepthwiseConvolution(_FixedConvolution):
    """Keras's depthwise convolutions with unequal strides on TensorFlow CPUs,
    and on channels_last images without PyTorch's copies.

    TensorFlow's CPU kernel for a depthwise convolution takes equal strides
    only unless TensorFlow uses oneDNN on this CPU ("Current implementation
    only supports equal length strides in the row and column dimensions").
    With strides such as `(2, 1)` on a TensorFlow backend with CPUs only, the
    same computation runs as a grouped convolution (one group per input
    channel, the same kernel reshaped), which Keras compiles with XLA. On
    PyTorch, Keras's depthwise convolution is that grouped convolution, with
    its two copies of a channels_last input (`conv_channels_last`).
    """

    def _unequal_strides_on_tensorflow_cpu(self) -> bool:
        return len(set(self.strides)) > 1 and tensorflow_cpu_only()

    def _grouped(self) -> bool:
        """Whether to convolve in groups here rather than call Keras's op."""
        images_on_torch = (
            keras.backend.backend() == "torch"
            and self.data_format == "channels_last"
            and self.rank == 2
        )
        return images_on_torch or self._unequal_strides_on_tensorflow_cpu()

    def _keras_call_is_right(self) -> bool:
        return self.data_format == "channels_last" and not self._grouped()

    def _convolve(self, inputs: Any) -> Any:
        arguments = {
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
        }
        if not self._grouped():
            return ops.depthwise_conv(
                inputs, self.kernel, data_format=self.data_format, **arguments
            )
        grouped = ops.reshape(self.kernel, (*self.kernel_size, 1, -1))
        if self.data_format == "channels_last":
            return conv_channels_last(inputs, grouped, **arguments)
        return ops.conv(inputs, grouped, data_format=self.data_format, **arguments)


@register_serializable
class DepthwiseConv1D(_DepthwiseConvolution, keras.layers.DepthwiseConv1D):
    """`keras.layers.DepthwiseConv1D` with the fixes above."""


@register_serializable
class DepthwiseConv2D(_DepthwiseConvolution, keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D` with the fixes above."""
