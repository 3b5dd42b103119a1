"""InceptionBlock: GoogLeNet's module, four parallel branches with 1×1 reduces.

Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke & Rabinovich,
"Going Deeper with Convolutions" (2014), https://arxiv.org/abs/1409.4842
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_nin._validation import channel_axis, check_positive_int
from keras_nin.layers._block import Block
from keras_nin.layers._channels import check_input_shape
from keras_nin.layers._registry import register_serializable

_MAX_POOLINGS = {
    1: keras.layers.MaxPooling1D,
    2: keras.layers.MaxPooling2D,
    3: keras.layers.MaxPooling3D,
}


def _optional_width(name: str, value: object) -> int | None:
    return None if value is None else check_positive_int(name, value)


@register_serializable
class InceptionBlock(Block):
    """The Inception module of GoogLeNet: 1×1, 3×3, 5×5 and pooling in parallel.

    Four branches see the same input, keep its spatial size (`"same"`
    padding, stride 1), and are concatenated on the channel axis in this
    order:

    1. a 1×1 `Pointwise` layer with `branch1x1` channels;
    2. a 1×1 `Pointwise` *reduce* to `reduce3x3` channels, then a 3×3
       convolution with `branch3x3` channels;
    3. a 1×1 `Pointwise` *reduce* to `reduce5x5` channels, then a 5×5
       convolution with `branch5x5` channels;
    4. a 3×3 max pooling (stride 1), then a 1×1 `Pointwise` *projection* to
       `pool_proj` channels.

    The output has `branch1x1 + branch3x3 + branch5x5 + pool_proj` channels.
    Every convolution is followed by the activation (after its norm, if
    any).

    The 1×1 layers are what make the module affordable: without them
    (`reduce3x3=None`, `reduce5x5=None`, `pool_proj=None`) it is the paper's
    "naive" module (its figure 2a), whose 3×3 and 5×5 convolutions see every
    input channel and whose pooling branch passes all `C_in` input channels
    through, so the output grows with every module. Each of the three can be
    left out on its own.

    Sublayers are created in `build()` and listed by `layers`, in order:
    `branch1x1`, `reduce3x3`, `branch3x3`, `reduce5x5`, `branch5x5`, `pool`,
    `pool_proj` (the reduces and `pool_proj` only when given; the 3×3 and
    5×5 convolutions are Keras `Conv1D`/`Conv2D`/`Conv3D` chosen by input
    rank), each convolution followed by its norm (`branch1x1_norm`, ...) when
    `normalization` is set.

    Args:
        branch1x1: int, the channels of the 1×1 branch.
        branch3x3: int, the channels of the 3×3 convolution.
        branch5x5: int, the channels of the 5×5 convolution.
        pool_proj: int or `None`, the channels of the 1×1 projection after the
            max pooling; `None` passes the pooled input through.
        reduce3x3: int or `None`, the channels of the 1×1 reduce before the
            3×3 convolution; `None` for none.
        reduce5x5: int or `None`, the channels of the 1×1 reduce before the
            5×5 convolution; `None` for none.
        **kwargs: `normalization` (default `None`, as in the paper: every
            convolution has a bias; `"batch"` is torchvision's GoogLeNet),
            `activation` (default `"relu"`) and the other arguments every
            block shares, listed by `Block`.

    Input shape:
        Rank 3, 4 or 5, channels known, laid out as `Block` describes.

    Output shape:
        The input shape with `branch1x1 + branch3x3 + branch5x5 + pool_proj`
        channels (`C_in` in place of `pool_proj` when it is `None`).

    Raises:
        ValueError: for a non-positive channel count, and the errors every
            block raises (`Block`).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> import keras_nin
        >>> x = np.random.rand(1, 28, 28, 192).astype("float32")
        >>> block = keras_nin.layers.InceptionBlock(  # GoogLeNet's inception (3a)
        ...     64, 128, 32, 32, reduce3x3=96, reduce5x5=16
        ... )
        >>> keras.ops.shape(block(x))
        (1, 28, 28, 256)
        >>> block.count_params()
        163696
    """

    default_name = "inception"
    config_arguments = (
        "branch1x1",
        "branch3x3",
        "branch5x5",
        "pool_proj",
        "reduce3x3",
        "reduce5x5",
    )
    # The `*_filters` attributes leave `branch1x1` etc. to the sublayers.
    config_attributes = {name: f"{name}_filters" for name in config_arguments}  # noqa: RUF012

    def __init__(
        self,
        branch1x1: int,
        branch3x3: int,
        branch5x5: int,
        pool_proj: int | None,
        *,
        reduce3x3: int | None = None,
        reduce5x5: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.branch1x1_filters = check_positive_int("branch1x1", branch1x1)
        self.branch3x3_filters = check_positive_int("branch3x3", branch3x3)
        self.branch5x5_filters = check_positive_int("branch5x5", branch5x5)
        self.pool_proj_filters = _optional_width("pool_proj", pool_proj)
        self.reduce3x3_filters = _optional_width("reduce3x3", reduce3x3)
        self.reduce5x5_filters = _optional_width("reduce5x5", reduce5x5)

    def _branches(self) -> list[list[tuple[str, int | None, int]]]:
        """Each branch as its steps `(name, channels, kernel size)`.

        The pooling step has no channels; a step whose channels are `None`
        (an omitted reduce or projection) is left out.
        """
        branches = [
            [("branch1x1", self.branch1x1_filters, 1)],
            [
                ("reduce3x3", self.reduce3x3_filters, 1),
                ("branch3x3", self.branch3x3_filters, 3),
            ],
            [
                ("reduce5x5", self.reduce5x5_filters, 1),
                ("branch5x5", self.branch5x5_filters, 5),
            ],
            [("pool", 0, 3), ("pool_proj", self.pool_proj_filters, 1)],
        ]
        return [[step for step in branch if step[1] is not None] for branch in branches]

    def build(self, input_shape: Sequence[int | None]) -> None:
        check_input_shape(type(self).__name__, input_shape, self.data_format)
        self._pin_input_spec(input_shape)
        for branch in self._branches():
            shape = tuple(input_shape)
            for name, filters, kernel_size in branch:
                if name == "pool":
                    pool = _MAX_POOLINGS[len(shape) - 2](
                        3,
                        strides=1,
                        padding="same",
                        data_format=self.data_format,
                        name="pool",
                        dtype=self.dtype_policy,
                    )
                    shape = self._add_sublayer("pool", pool, shape)
                elif kernel_size == 1:
                    shape = self._pointwise_unit(name, filters, shape)
                else:
                    shape = self._spatial_unit(
                        name, filters, kernel_size, shape, padding="same"
                    )

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        outputs = []
        for branch in self._branches():
            branch_outputs = inputs
            for name, _, _ in branch:
                if name == "pool":
                    branch_outputs = self.pool(branch_outputs)
                else:
                    branch_outputs = self._unit(name, branch_outputs, training)
            outputs.append(branch_outputs)
        return ops.concatenate(outputs, axis=channel_axis(self.data_format))

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        channels = check_input_shape(type(self).__name__, input_shape, self.data_format)
        axis = channel_axis(self.data_format)
        output_shape = list(input_shape)
        output_shape[axis] = (
            self.branch1x1_filters
            + self.branch3x3_filters
            + self.branch5x5_filters
            + (self.pool_proj_filters or channels)
        )
        return tuple(output_shape)
