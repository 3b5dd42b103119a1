"""NiN: the Network-in-Network CIFAR-10 classifier, as a functional model.

Lin, Chen & Yan, "Network In Network" (2013), https://arxiv.org/abs/1312.4400,
with the layout of the authors' released Caffe model for CIFAR-10.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras

from keras_nin._validation import (
    channel_axis,
    check_norm_epsilon,
    check_norm_momentum,
    check_normalization,
    check_positive_int,
    check_rate,
)
from keras_nin.layers import NiNBlock


def _check_input_shape(input_shape: object) -> tuple[int | None, ...]:
    message = (
        "Invalid value for argument `input_shape`. Expected a tuple of 3 "
        "dimensions (height, width, channels) in the order of "
        "`keras.config.image_data_format()`, each a positive int (spatial "
        "dimensions may be None), the channels known. "
        f"Received: input_shape={input_shape!r}."
    )
    if not isinstance(input_shape, Sequence) or isinstance(input_shape, str):
        raise TypeError(message)
    if len(input_shape) != 3:
        raise ValueError(message)
    for dim in input_shape:
        if dim is None:
            continue
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(message)
        if dim <= 0:
            raise ValueError(message)
    if input_shape[channel_axis(keras.config.image_data_format())] is None:
        raise ValueError(message)
    return tuple(input_shape)


def NiN(
    input_shape: Sequence[int | None] = (32, 32, 3),
    num_classes: int = 10,
    *,
    normalization: str | None = None,
    norm_momentum: float = 0.99,
    norm_epsilon: float = 1e-3,
    dropout: float = 0.5,
    include_top: bool = True,
    name: str = "nin",
) -> keras.Model:
    """The Network-in-Network classifier of the paper's CIFAR-10 experiments.

    Three mlpconv blocks (`NiNBlock`) separated by pooling and dropout, and no
    fully connected classifier: the last block has one channel per class, a
    confidence map that global average pooling turns into the class score.

    | Layer            | Operation                                      |
    | ---------------- | ---------------------------------------------- |
    | `mlpconv1`       | `NiNBlock(192, 5, mlp_filters=(160, 96))`      |
    | `pool1`          | 3×3 max pooling, stride 2, `"same"` padding    |
    | `dropout1`       | `Dropout(dropout)`                             |
    | `mlpconv2`       | `NiNBlock(192, 5, mlp_filters=(192, 192))`     |
    | `pool2`          | 3×3 average pooling, stride 2, `"same"`        |
    | `dropout2`       | `Dropout(dropout)`                             |
    | `mlpconv3`       | `NiNBlock(192, 3, mlp_filters=(192, classes))` |
    | `global_pool`    | global average pooling                         |
    | `predictions`    | softmax                                        |

    A 32×32 input shrinks 32 → 16 → 8, as in the authors' released Caffe
    model, and with the defaults the model has exactly 966,986 parameters.
    Every convolution is followed by a ReLU (after its norm, if any) —
    including the class maps, as in the released model.

    Args:
        input_shape: tuple of 3 ints, the image shape without the batch
            dimension, in the order of `keras.config.image_data_format()`.
            Spatial sizes may be `None` (any size); any size of at least 4
            keeps every pooling meaningful, e.g. `(28, 28, 1)` or
            `(8, 8, 1)`.
        num_classes: int, the number of classes (channels of the last block).
        normalization: `None` (the paper), `"batch"`, `"layer"` or `"group"`,
            passed to every block.
        norm_momentum: float in `[0, 1)`, batch norm's momentum, passed to
            every block (Keras's default, 0.99; a small data set may need a
            shorter memory, e.g. 0.9).
        norm_epsilon: float > 0, every norm's epsilon, passed to every block.
        dropout: float in `[0, 1)`, the rate of the two dropout layers.
        include_top: bool. `False` returns the feature extractor, which stops
            after `dropout2` (no `mlpconv3`, pooling or softmax) and outputs
            192 channels at a quarter of the input's resolution.
        name: str, the model's name.

    Returns:
        A functional `keras.Model` of the class probabilities, shape
        `(batch, num_classes)`, or of the features when `include_top=False`.

    Raises:
        ValueError: for an `input_shape` that is not 3 positive dimensions
            with known channels, non-positive `num_classes`, a `dropout`
            outside `[0, 1)`, an unknown `normalization`, a `norm_momentum`
            outside `[0, 1)` or a non-positive `norm_epsilon`.
        TypeError: for arguments of the wrong type.

    Examples:
        >>> import keras_nin
        >>> model = keras_nin.models.NiN()
        >>> model.count_params()
        966986
        >>> model.output_shape
        (None, 10)
        >>> keras_nin.models.NiN((28, 28, 1), include_top=False).output_shape
        (None, 7, 7, 192)
    """
    input_shape = _check_input_shape(input_shape)
    num_classes = check_positive_int("num_classes", num_classes)
    normalization = check_normalization(normalization)
    norm_momentum = check_norm_momentum(norm_momentum)
    norm_epsilon = check_norm_epsilon(norm_epsilon)
    dropout = check_rate("dropout", dropout)
    if not isinstance(include_top, bool):
        raise TypeError(
            "Invalid value for argument `include_top`. Expected a bool. "
            f"Received: include_top={include_top!r}."
        )

    def block(filters: int, kernel_size: int, widths: tuple[int, ...], index: int):
        return NiNBlock(
            filters,
            kernel_size,
            mlp_filters=widths,
            normalization=normalization,
            norm_momentum=norm_momentum,
            norm_epsilon=norm_epsilon,
            name=f"mlpconv{index}",
        )

    inputs = keras.Input(input_shape, name="image")
    x = block(192, 5, (160, 96), 1)(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = keras.layers.Dropout(dropout, name="dropout1")(x)
    x = block(192, 5, (192, 192), 2)(x)
    x = keras.layers.AveragePooling2D(3, strides=2, padding="same", name="pool2")(x)
    x = keras.layers.Dropout(dropout, name="dropout2")(x)
    if include_top:
        x = block(192, 3, (192, num_classes), 3)(x)
        x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
        x = keras.layers.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name)
