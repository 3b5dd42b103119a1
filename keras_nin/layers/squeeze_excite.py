"""SqueezeExcite: channel attention from two 1×1 layers on the pooled input.

Hu, Shen, Albanie, Sun & Wu, "Squeeze-and-Excitation Networks" (2017),
https://arxiv.org/abs/1709.01507
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import activations, ops

from keras_nin._validation import (
    _invalid,
    check_positive_int,
    check_real,
    get_channel_activation,
)
from keras_nin.layers._block import Block
from keras_nin.layers._channels import (
    check_input_shape,
    make_divisible,
    spatial_axes,
)
from keras_nin.layers._registry import register_serializable

# MobileNet's rounding: add one divisor when rounding down kept < 90%.
MOBILENET_ROUND_LIMIT = 0.9


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
    `Pointwise(mode="reduce", ratio=...)`: 5 channels at `ratio=0.25` give 1,
    9 give 2. With `divisor > 1` it is rounded to a multiple of `divisor` by
    MobileNet's rule instead (the nearest multiple, raised by one `divisor`
    when that keeps less than `round_limit` of `C * ratio`; MobileNetV3 uses
    `ratio=0.25, divisor=8`). The paper's reduction ratio `r = 16` is
    `ratio=1/16`.

    Sublayers are created in `build()` and listed by `layers`, in order:
    `reduce` (then `reduce_norm` when `normalization` is set) and `expand`.

    Args:
        ratio: float in `(0, 1]`, the reduced width as a fraction of the input
            channels. Defaults to 0.25 (MobileNetV3, EfficientNet).
        divisor: int, round the reduced width to a multiple of it. Defaults
            to 1 (plain rounding).
        round_limit: float in `[0, 1)` or `None`: with `divisor > 1`, add one
            `divisor` when rounding kept less than this fraction of
            `C * ratio`. `None` (default) means 0.9 (MobileNet's rule) with
            `divisor > 1` and 0 (plain rounding) with `divisor=1`. Files saved
            by keras-nin 0.1.0, which applied 0.9 for every divisor, load
            with 0.9.
        normalization: `None` (default, as in the paper), `"batch"`,
            `"layer"` or `"group"`: a norm after the reduce layer, before its
            activation (timm's `SEModule` option); the reduce layer then has
            no bias.
        gate_activation: activation function or its name that turns the
            expand layer's output into the channel weights. Defaults to
            `"sigmoid"`; MobileNetV3 uses `"hard_sigmoid"`.
        **kwargs: `activation` (default `"relu"`) and the other arguments
            every block shares, listed by `Block`.

    Input shape:
        Rank 3, 4 or 5, channels known, laid out as `Block` describes.

    Output shape:
        The input shape.

    Raises:
        ValueError: for a `ratio` outside `(0, 1]`, a non-positive `divisor`,
            a `round_limit` outside `[0, 1)`, and the errors every block
            raises (`Block`).

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
    config_arguments = ("ratio", "divisor", "round_limit")

    def __init__(
        self,
        ratio: float = 0.25,
        *,
        divisor: int = 1,
        round_limit: float | None = None,
        gate_activation: str | Any | None = "sigmoid",
        normalization: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(normalization=normalization, **kwargs)
        self.ratio = check_real("ratio", ratio)
        if not 0 < self.ratio <= 1:
            raise ValueError(
                "Invalid value for argument `ratio`. Expected a fraction of the "
                f"input channels in (0, 1]. Received: ratio={ratio!r}."
            )
        self.divisor = check_positive_int("divisor", divisor)
        if round_limit is not None:
            round_limit = check_real("round_limit", round_limit)
            if not 0 <= round_limit < 1:
                raise ValueError(_invalid("round_limit", round_limit, "[0, 1)"))
        self.round_limit = round_limit
        self.gate_activation = get_channel_activation(
            "gate_activation", gate_activation
        )
        self.reduced_filters = None  # known once the input channels are

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SqueezeExcite:
        # keras-nin 0.1.0 rounded with MobileNet's 0.9 rule for every divisor
        # and stored no `round_limit`: its files keep their widths.
        config = dict(config)
        config.setdefault("round_limit", MOBILENET_ROUND_LIMIT)
        return super().from_config(config)

    def reduced_width(self, channels: int) -> int:
        """The width of the reduce layer for an input of `channels` channels."""
        round_limit = self.round_limit
        if round_limit is None:
            round_limit = MOBILENET_ROUND_LIMIT if self.divisor > 1 else 0.0
        return make_divisible(channels * self.ratio, self.divisor, round_limit)

    def build(self, input_shape: Sequence[int | None]) -> None:
        channels = check_input_shape(type(self).__name__, input_shape, self.data_format)
        self._pin_input_spec(input_shape)
        self.reduced_filters = self.reduced_width(channels)
        self._spatial_axes = spatial_axes(len(input_shape), self.data_format)
        # The squeezed input: one position, the reduce layer's real input.
        pooled = tuple(
            1 if axis in self._spatial_axes else size
            for axis, size in enumerate(input_shape)
        )
        shape = self._pointwise_unit("reduce", self.reduced_filters, pooled)
        # The expand layer is followed by the gate, never by a norm.
        self._pointwise_unit(
            "expand",
            channels,
            shape,
            normalize=False,
            activation=self.gate_activation,
        )

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        pooled = ops.mean(inputs, axis=self._spatial_axes, keepdims=True)
        excited = self._unit("reduce", pooled, training)
        scale = self._unit("expand", excited, training, activate=False)
        return ops.multiply(inputs, scale)

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["gate_activation"] = activations.serialize(self.gate_activation)
        return config
