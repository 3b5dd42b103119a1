"""FireModule: SqueezeNet's 1×1 squeeze, then parallel 1×1 and 3×3 expands.

Iandola, Han, Moskewicz, Ashraf, Dally & Keutzer, "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size" (2016),
https://arxiv.org/abs/1602.07360
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import ops

from keras_nin._validation import channel_axis, check_positive_int
from keras_nin.layers._block import Block
from keras_nin.layers._channels import check_input_shape
from keras_nin.layers._registry import register_serializable


@register_serializable
class FireModule(Block):
    """The Fire module of SqueezeNet: squeeze with 1×1, expand with 1×1 and 3×3.

    A 1×1 `Pointwise` "squeeze" layer cuts the channels to `squeeze`, so the
    3×3 convolution after it sees few input channels. The squeezed tensor
    then feeds two parallel "expand" convolutions, a 1×1 `Pointwise` with
    `expand1x1` channels and a 3×3 convolution (`"same"` padding) with
    `expand3x3` channels, whose outputs are concatenated on the channel axis
    (1×1 first, as in the paper and torchvision). Each convolution is followed
    by the activation (after its norm, if any); the spatial size is kept.

    Of the three convolutions, two are 1×1: SqueezeNet's strategies 1 ("replace
    3×3 filters with 1×1 filters") and 2 ("decrease the number of input
    channels to 3×3 filters").

    Sublayers are created in `build()` and listed by `layers`, in order:
    `squeeze`, `expand1x1`, `expand3x3` (a Keras `Conv1D`/`Conv2D`/`Conv3D`
    chosen by input rank), each followed by its norm (`squeeze_norm`, ...)
    when `normalization` is set.

    Args:
        squeeze: int, the output channels of the 1×1 squeeze layer.
        expand1x1: int, the output channels of the 1×1 expand layer.
        expand3x3: int, the output channels of the 3×3 expand layer.
        **kwargs: `normalization` (default `None`: the paper has none, so
            every convolution has a bias), `activation` (default `"relu"`)
            and the other arguments every block shares, listed by `Block`.

    Input shape:
        Rank 3, 4 or 5, channels known, laid out as `Block` describes.

    Output shape:
        The input shape with `expand1x1 + expand3x3` channels.

    Raises:
        ValueError: for non-positive `squeeze`, `expand1x1` or `expand3x3`,
            and the errors every block raises (`Block`).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> import keras_nin
        >>> x = np.random.rand(2, 55, 55, 64).astype("float32")
        >>> fire = keras_nin.layers.FireModule(16, 64, 64)  # SqueezeNet's fire2
        >>> keras.ops.shape(fire(x))
        (2, 55, 55, 128)
        >>> fire.count_params()  # 64·16 + 16·64 + 3·3·16·64 weights, 144 biases
        11408
    """

    default_name = "fire"
    config_arguments = ("squeeze", "expand1x1", "expand3x3")
    config_attributes = {  # noqa: RUF012
        "squeeze": "squeeze_filters",
        "expand1x1": "expand1x1_filters",
        "expand3x3": "expand3x3_filters",
    }

    def __init__(
        self,
        squeeze: int,
        expand1x1: int,
        expand3x3: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.squeeze_filters = check_positive_int("squeeze", squeeze)
        self.expand1x1_filters = check_positive_int("expand1x1", expand1x1)
        self.expand3x3_filters = check_positive_int("expand3x3", expand3x3)

    def build(self, input_shape: Sequence[int | None]) -> None:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        self._pin_input_spec(input_shape)
        shape = self._pointwise_unit("squeeze", self.squeeze_filters, input_shape)
        self._pointwise_unit("expand1x1", self.expand1x1_filters, shape)
        self._spatial_unit(
            "expand3x3", self.expand3x3_filters, 3, shape, padding="same"
        )

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        squeezed = self._unit("squeeze", inputs, training)
        branches = [
            self._unit(name, squeezed, training) for name in ("expand1x1", "expand3x3")
        ]
        return ops.concatenate(branches, axis=channel_axis(self.data_format))

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        output_shape = list(input_shape)
        output_shape[channel_axis(self.data_format)] = (
            self.expand1x1_filters + self.expand3x3_filters
        )
        return tuple(output_shape)
