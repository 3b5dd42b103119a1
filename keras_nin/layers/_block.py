"""Block: the base every keras-nin block extends.

It owns the contract all blocks share, so each block's module says only what
is specific to it: the shared constructor arguments and their validation and
config; creating each sublayer with its own copy of the initializers, the
block's dtype policy and its `trainable` flag, and building it; applying a
convolution's norm and the activation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import activations, ops

from keras_nin._validation import (
    channel_axis,
    check_norm_epsilon,
    check_norm_momentum,
    check_normalization,
    expand_to_rank,
    get_channel_activation,
    standardize_data_format,
)
from keras_nin.layers._channels import (
    apply_activation,
    check_input_shape,
    conv_output_shape,
)
from keras_nin.layers._sublayers import (
    NORM_EPSILON,
    NORM_MOMENTUM,
    depthwise_conv,
    normalization_layer,
    spatial_conv,
)
from keras_nin.layers._weights import (
    serialize_weight_arguments,
    sublayer_weight_arguments,
    weight_arguments,
)
from keras_nin.layers.drop_path import DropPath
from keras_nin.layers.pointwise import Pointwise

Shape = tuple[int | None, ...]


class Block(keras.layers.Layer):
    """Base class of the keras-nin blocks: the arguments every block shares.

    A block is a composite layer: its sublayers (convolutions, norms, pooling)
    are created in `build()`, once the input's rank and channels are known,
    and are listed by `layers` in the order they compute, so
    `model.summary(expand_nested=True)` shows them under the block. Every
    sublayer gets its own copy of the initializers (no two start from the
    same random numbers), the block's dtype policy and its `trainable` flag:
    a frozen block (`trainable=False` at construction, or set before or after
    building) has no trainable weights, and its batch norms run in inference
    mode.

    Subclass it to write a block of your own: call the `_*_unit` helpers in
    `build()` and `_unit` in `call()`.

    Args:
        activation: activation function or its name, applied after every
            convolution that the block does not keep linear (after its norm,
            if any), on the channel vector of each position. `None` means
            linear.
        normalization: `None`, `"batch"`, `"layer"` or `"group"`: a norm over
            the channel axis after every convolution, before its activation;
            the convolutions then have no bias. `"layer"` normalizes each
            position's channel vector; `"group"` uses the largest divisor of
            the channel count that is at most 32 as the number of groups.
        norm_momentum: float in `[0, 1)`, the momentum of batch norm's moving
            mean and variance (Keras's default, 0.99; PyTorch's
            `momentum=0.1` is 0.9 here). Ignored by the other norms.
        norm_epsilon: float > 0, added to the variance by every norm (Keras's
            default, 1e-3; PyTorch's is 1e-5).
        kernel_initializer: initializer for every convolution's kernel; each
            sublayer gets its own copy (a seeded one gets `seed + i` for the
            `i`-th sublayer).
        bias_initializer: initializer for every convolution's bias.
        kernel_regularizer: optional regularizer for every kernel.
        bias_regularizer: optional regularizer for every bias.
        kernel_constraint: optional constraint for every kernel.
        bias_constraint: optional constraint for every bias.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer arguments, such as `name`, `dtype`, `trainable`
            and `activity_regularizer` (on the block's output).

    Input shape:
        A tensor of rank 3, 4 or 5:
        if `data_format="channels_last"`, `(batch, *spatial, channels)`;
        if `data_format="channels_first"`, `(batch, channels, *spatial)`.
        The channel dimension must be known.

    Raises:
        ValueError: for an unknown `normalization` or `data_format`, a
            `norm_momentum` outside `[0, 1)`, a `norm_epsilon` that is not
            positive, an unknown initializer, regularizer, constraint or
            activation (or `glu`, which halves the channels); on build, a
            `kernel_size` or `strides` tuple whose length is not the input's
            spatial rank, an unknown channel dimension or an input rank other
            than 3, 4 or 5. Every message names the argument and the value
            received.
        TypeError: for arguments of the wrong type.
    """

    # Unnamed instances are called `default_name`, `default_name_1`, ...
    # (Keras would snake-case the class name, `NiNBlock` into `ni_n_block`).
    default_name: str | None = None
    # The block's own constructor arguments, reported by `get_config()`: each
    # read from the attribute of the same name, or the one `config_attributes`
    # names.
    config_arguments: tuple[str, ...] = ()
    config_attributes: dict[str, str] = {}  # noqa: RUF012 (read-only)

    def __init__(
        self,
        *,
        activation: str | Any | None = "relu",
        normalization: str | None = None,
        norm_momentum: float = NORM_MOMENTUM,
        norm_epsilon: float = NORM_EPSILON,
        kernel_initializer: str | Any = "glorot_uniform",
        bias_initializer: str | Any = "zeros",
        kernel_regularizer: str | Any | None = None,
        bias_regularizer: str | Any | None = None,
        kernel_constraint: str | Any | None = None,
        bias_constraint: str | Any | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        if self.default_name is not None and kwargs.get("name") is None:
            uid = keras.backend.get_uid(self.default_name)
            kwargs["name"] = (
                self.default_name if uid == 1 else f"{self.default_name}_{uid - 1}"
            )
        super().__init__(**kwargs)
        self.activation = get_channel_activation("activation", activation)
        self.normalization = check_normalization(normalization)
        self.norm_momentum = check_norm_momentum(norm_momentum)
        self.norm_epsilon = check_norm_epsilon(norm_epsilon)
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
        self._sublayers_made = 0

    @property
    def layers(self) -> list[keras.layers.Layer]:
        """The sublayers, in the order the block computes them."""
        return list(self._flatten_layers(include_self=False, recursive=False))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
            "normalization": self.normalization,
            "norm_momentum": self.norm_momentum,
            "norm_epsilon": self.norm_epsilon,
            **serialize_weight_arguments(self.weight_arguments),
            "data_format": self.data_format,
            **{
                name: getattr(self, self.config_attributes.get(name, name))
                for name in self.config_arguments
            },
        }

    # --- building ------------------------------------------------------------

    def _pin_input_spec(self, input_shape: Sequence[int | None]) -> None:
        """Fix the input's rank and channel count to those built on."""
        axis = channel_axis(self.data_format)
        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={axis: input_shape[axis]}
        )

    def _add_sublayer(
        self, name: str, layer: keras.layers.Layer, input_shape: Sequence[int | None]
    ) -> Shape:
        """Keep `layer` as `self.<name>`, frozen if the block is, and build it.

        Returns:
            The sublayer's output shape.
        """
        layer.trainable = self.trainable
        layer.build(tuple(input_shape))
        setattr(self, name, layer)
        return tuple(layer.compute_output_shape(tuple(input_shape)))

    def _sublayer_arguments(self, normalize: bool = True) -> dict[str, Any]:
        """Keyword arguments of the block's next convolution.

        Fresh copies of the initializers, the block's other weight arguments,
        data format and dtype policy; a bias unless a norm follows; no
        activation (`_unit` applies the norm and then the activation).
        """
        self._sublayers_made += 1
        return {
            **sublayer_weight_arguments(self.weight_arguments, self._sublayers_made),
            "use_bias": not (normalize and self.normalization),
            "activation": None,
            "data_format": self.data_format,
            "dtype": self.dtype_policy,
        }

    def _conv_unit(
        self,
        name: str,
        conv: keras.layers.Layer,
        input_shape: Sequence[int | None],
        normalize: bool = True,
    ) -> Shape:
        """Add `conv` as `self.<name>` and its norm (or `None`) as `<name>_norm`."""
        shape = self._add_sublayer(name, conv, input_shape)
        norm = None
        if normalize:
            norm = normalization_layer(
                self.normalization,
                shape[channel_axis(self.data_format)],
                self.data_format,
                momentum=self.norm_momentum,
                epsilon=self.norm_epsilon,
                name=f"{name}_norm",
                dtype=self.dtype_policy,
            )
        if norm is None:
            setattr(self, f"{name}_norm", None)
        else:
            self._add_sublayer(f"{name}_norm", norm, shape)
        return shape

    def _pointwise_unit(
        self,
        name: str,
        filters: int,
        input_shape: Sequence[int | None],
        normalize: bool = True,
        **overrides: Any,
    ) -> Shape:
        """A `Pointwise` layer of `filters` channels, then its norm."""
        arguments = {**self._sublayer_arguments(normalize), **overrides}
        conv = Pointwise(filters, name=name, **arguments)
        return self._conv_unit(name, conv, input_shape, normalize)

    def _spatial_unit(
        self,
        name: str,
        filters: int,
        kernel_size: Sequence[int],
        input_shape: Sequence[int | None],
        **conv_arguments: Any,
    ) -> Shape:
        """A Keras convolution of the input's spatial rank, then its norm."""
        return self._keras_conv_unit(
            name, spatial_conv, input_shape, filters, kernel_size, **conv_arguments
        )

    def _depthwise_unit(
        self,
        name: str,
        kernel_size: Sequence[int],
        input_shape: Sequence[int | None],
        **conv_arguments: Any,
    ) -> Shape:
        """A depthwise convolution (one filter per channel), then its norm."""
        channels = input_shape[channel_axis(self.data_format)]
        return self._keras_conv_unit(
            name, depthwise_conv, input_shape, channels, kernel_size, **conv_arguments
        )

    def _keras_conv_unit(
        self,
        name: str,
        make: Callable[..., keras.layers.Layer],
        input_shape: Sequence[int | None],
        *args: Any,
        **conv_arguments: Any,
    ) -> Shape:
        conv = make(
            len(input_shape) - 2,
            *args,
            name=name,
            **self._sublayer_arguments(),
            **conv_arguments,
        )
        return self._conv_unit(name, conv, input_shape)

    def _kernel_and_strides(
        self, input_shape: Sequence[int | None]
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """`kernel_size` and `strides` per spatial axis of a valid input."""
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        spatial_rank = len(input_shape) - 2
        return (
            expand_to_rank("kernel_size", self.kernel_size, spatial_rank),
            expand_to_rank("strides", self.strides, spatial_rank),
        )

    def _strided_output_shape(
        self, input_shape: Sequence[int | None], filters: int, padding: str = "same"
    ) -> Shape:
        """The output shape of the block's `kernel_size`/`strides` convolution."""
        kernel_size, strides = self._kernel_and_strides(input_shape)
        return conv_output_shape(
            input_shape, filters, kernel_size, strides, padding, self.data_format
        )

    def _add_drop_path(self, rate: float, input_shape: Sequence[int | None]) -> None:
        """`self.drop_path`: stochastic depth on the residual branch, or None."""
        self.drop_path = None
        if rate > 0:
            layer = DropPath(rate, name="drop_path", dtype=self.dtype_policy)
            self._add_sublayer("drop_path", layer, input_shape)

    # --- calling -------------------------------------------------------------

    def _residual(self, branch: Any, shortcut: Any, training: bool | None) -> Any:
        """`shortcut + branch`, the branch dropped per sample in training."""
        if self.drop_path is not None:
            branch = self.drop_path(branch, training=training)
        # Two full tensors: no bias-layout guess on any backend.
        return ops.add(shortcut, branch)

    def _activate(self, outputs: Any) -> Any:
        """The block's activation on the channel vector of every position."""
        return apply_activation(self.activation, outputs, self.data_format)

    def _unit(
        self, name: str, inputs: Any, training: bool | None, activate: bool = True
    ) -> Any:
        """Convolution `name`, its norm (if any), then the activation.

        `activate=False` leaves the output linear, e.g. for a projection.
        """
        outputs = getattr(self, name)(inputs)
        norm = getattr(self, f"{name}_norm")
        if norm is not None:
            outputs = norm(outputs, training=training)
        return self._activate(outputs) if activate else outputs
