"""A 1×1 convolution is a fully connected layer applied at every position.

These functions show the claim instead of asserting it: `as_positions` views an
image batch as a `(positions, channels)` matrix, `to_dense` turns a 1×1
convolution into the `keras.layers.Dense` layer it is at each position, and
`from_dense` goes back. Applying the Dense layer to the matrix and the
convolution to the image give the same numbers.

Lin, Chen & Yan, "Network In Network" (2013), https://arxiv.org/abs/1312.4400
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_nin._validation import standardize_data_format
from keras_nin.layers import Pointwise
from keras_nin.theory.shapes import is_size

# The Keras convolutions that `to_dense` accepts when their kernel is 1×…×1.
_KERAS_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def _check_rank(x: Any, argument: str, minimum: int) -> int:
    rank = len(ops.shape(x))
    if rank < minimum:
        raise ValueError(
            f"Invalid value for argument `{argument}`. Expected a tensor of rank "
            f"{minimum} or more, received rank {rank}: shape={tuple(ops.shape(x))}."
        )
    return rank


def as_positions(x: Any, data_format: str | None = None) -> Any:
    """View a batch of feature maps as a `(positions, channels)` matrix.

    Every spatial position of every example becomes one row holding that
    position's channel vector: a `(N, 6, 6, 32)` batch becomes a `(N·36, 32)`
    matrix — 36 positions per example, each a 32-number input to the same
    fully connected layer. This is the reshaping behind "a 1×1 convolution is
    a fully connected layer at every position". Rows are ordered example by
    example, then position by position in row-major order.

    Args:
        x: tensor or array of rank 3 or more, `(N, *spatial, C)` for
            `"channels_last"` or `(N, C, *spatial)` for `"channels_first"`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.

    Returns:
        A backend tensor of shape `(N · prod(spatial), C)`.

    Raises:
        ValueError: if `x` has rank below 3 or `data_format` is unknown.

    Examples:
        >>> import numpy as np
        >>> from keras_nin.theory import as_positions
        >>> x = np.zeros((2, 6, 6, 32), "float32")
        >>> tuple(as_positions(x, "channels_last").shape)
        (72, 32)
    """
    data_format = standardize_data_format(data_format)
    _check_rank(x, "x", 3)
    x = ops.convert_to_tensor(x)
    if data_format == "channels_first":
        x = ops.moveaxis(x, 1, -1)
    channels = ops.shape(x)[-1]
    return ops.reshape(x, (-1, channels))


def from_positions(
    positions: Any, spatial_shape: Sequence[int], data_format: str | None = None
) -> Any:
    """Undo `as_positions`: fold a `(positions, channels)` matrix into maps.

    Args:
        positions: tensor or array of shape `(N · prod(spatial_shape), C)`.
        spatial_shape: the spatial sizes of one example, e.g. `(6, 6)`
            (integers of any type, NumPy's too).
        data_format: layout of the result, `"channels_last"` or
            `"channels_first"`. Defaults to `keras.config.image_data_format()`.

    Returns:
        A backend tensor of shape `(N, *spatial_shape, C)` or
        `(N, C, *spatial_shape)`.

    Raises:
        ValueError: if `positions` is not a matrix, `spatial_shape` is empty
            or holds a non-positive size, or the number of rows is not a
            multiple of the number of positions per example.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> from keras_nin.theory import as_positions, from_positions
        >>> x = np.arange(2 * 3 * 4 * 5, dtype="float32").reshape(2, 3, 4, 5)
        >>> matrix = as_positions(x, "channels_first")
        >>> tuple(matrix.shape)
        (40, 3)
        >>> back = from_positions(matrix, (4, 5), "channels_first")
        >>> bool(np.array_equal(keras.ops.convert_to_numpy(back), x))
        True
    """
    data_format = standardize_data_format(data_format)
    positions = ops.convert_to_tensor(positions)
    if len(ops.shape(positions)) != 2:
        raise ValueError(
            "Invalid value for argument `positions`. Expected a "
            "(positions, channels) matrix of rank 2. Received: "
            f"shape={tuple(ops.shape(positions))}."
        )
    spatial_shape = tuple(spatial_shape)
    if not spatial_shape or any(
        not is_size(size) or size <= 0 for size in spatial_shape
    ):
        raise ValueError(
            "Invalid value for argument `spatial_shape`. Expected one or more "
            f"positive integers, e.g. (6, 6). Received: spatial_shape={spatial_shape}."
        )
    spatial_shape = tuple(int(size) for size in spatial_shape)
    rows, channels = ops.shape(positions)
    per_example = 1
    for size in spatial_shape:
        per_example *= size
    if rows is not None and rows % per_example:
        raise ValueError(
            f"Cannot fold {rows} rows into examples of spatial_shape="
            f"{spatial_shape}: {rows} is not a multiple of {per_example} positions."
        )
    x = ops.reshape(positions, (-1, *spatial_shape, channels))
    if data_format == "channels_first":
        x = ops.moveaxis(x, -1, 1)
    return x


def _check_built(layer: keras.Layer) -> None:
    if not layer.built:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) is not built, so it "
            "has no weights to copy. Build it first, e.g. `layer.build("
            "(None, 6, 6, 32))`, or call it on an input."
        )


def _check_per_position(conv: keras.Layer) -> None:
    """Raise unless `conv` is a plain 1×…×1, stride-1, ungrouped convolution."""
    where = f"Layer '{conv.name}' ({type(conv).__name__})"
    kernel_size = tuple(conv.kernel_size)
    window = "×".join(str(size) for size in kernel_size)
    # (argument, value, why a value other than 1 is not per position)
    checks = [
        (
            "kernel_size",
            kernel_size,
            f"each output position mixes a {window} window of neighbouring input "
            "positions, so it is not a fully connected layer applied to one "
            "position at a time. Only a convolution with kernel size 1 is.",
        ),
        (
            "strides",
            tuple(conv.strides),
            "it skips input positions and produces fewer output positions than "
            "input positions, so it is not the same fully connected layer at "
            "*every* position. Only stride 1 is.",
        ),
        (
            "dilation_rate",
            tuple(conv.dilation_rate),
            "dilation spreads a kernel's taps over distant positions, which a "
            "per-position fully connected layer never reads. (A 1×1 kernel has "
            "a single tap, so dilation changes nothing there, but the "
            "equivalence is only claimed for the plain convolution: rebuild the "
            "layer with dilation_rate=1.)",
        ),
    ]
    for argument, value, why in checks:
        if any(entry != 1 for entry in value):
            raise ValueError(f"{where} has {argument}={value}: {why}")
    groups = getattr(conv, "groups", 1)
    if groups != 1:
        raise ValueError(
            f"{where} has groups={groups}: each output channel sees only "
            f"1/{groups} of the input channels, so its weight matrix is "
            "block-diagonal — not the full channels-to-channels matrix of a "
            "fully connected layer. Only groups=1 is."
        )


def to_dense(layer: keras.Layer) -> keras.layers.Dense:
    """The fully connected layer that a 1×1 convolution applies at each position.

    The result is a built `keras.layers.Dense` holding the same kernel (as a
    `(C_in, C_out)` matrix), bias and activation. For any input `x`,
    `dense(as_positions(x))` equals `as_positions(layer(x))` to float
    rounding, for `"channels_last"` and `"channels_first"` alike: the two
    layers do the same multiplications.

    Args:
        layer: a built `keras_nin.layers.Pointwise`, or a built
            `keras.layers.Conv1D`, `Conv2D` or `Conv3D` with kernel size 1,
            stride 1, dilation 1 and `groups=1`.

    Returns:
        A new, built `keras.layers.Dense` named `"<layer name>_dense"`, with the
        layer's dtype policy. Weights are copied, not shared. Regularizers and
        constraints are not carried over.

    Raises:
        TypeError: if `layer` is not a Pointwise or Keras Conv1D/2D/3D layer.
        ValueError: if `layer` is not built, or its kernel size, strides,
            dilation or groups make it something other than a per-position
            fully connected layer (the message says which and why).

    Examples:
        >>> import numpy as np
        >>> import keras
        >>> from keras_nin.theory import as_positions, to_dense
        >>> conv = keras.layers.Conv2D(16, 1, data_format="channels_last")
        >>> x = np.random.rand(2, 6, 6, 32).astype("float32")
        >>> y = conv(x)
        >>> dense = to_dense(conv)
        >>> tuple(dense.kernel.shape)
        (32, 16)
        >>> by_position = dense(as_positions(x, "channels_last"))
        >>> same = as_positions(y, "channels_last")
        >>> to_numpy = keras.ops.convert_to_numpy
        >>> bool(np.allclose(to_numpy(by_position), to_numpy(same), atol=1e-5))
        True
    """
    if not isinstance(layer, (Pointwise, *_KERAS_CONVS)):
        raise TypeError(
            "Invalid value for argument `layer`. Expected a keras_nin Pointwise "
            "layer or a keras.layers.Conv1D/Conv2D/Conv3D layer. Received: "
            f"layer={layer!r} of type {type(layer).__name__}."
        )
    _check_built(layer)
    if isinstance(layer, _KERAS_CONVS):
        _check_per_position(layer)
    weights = layer.get_weights()
    kernel = weights[0]
    input_channels, output_channels = kernel.shape[-2], kernel.shape[-1]
    weights[0] = kernel.reshape(input_channels, output_channels)
    dense = keras.layers.Dense(
        output_channels,
        activation=layer.activation,
        use_bias=layer.use_bias,
        dtype=layer.dtype_policy,
        name=f"{layer.name}_dense",
    )
    dense.build((None, input_channels))
    dense.set_weights(weights)
    return dense


def from_dense(
    layer: keras.layers.Dense, rank: int = 2, data_format: str | None = None
) -> Pointwise:
    """The 1×1 convolution that applies a fully connected layer at every position.

    The reverse of `to_dense`: a built `Pointwise` layer with the Dense
    layer's kernel, bias and activation, for inputs with `rank` spatial
    dimensions.

    Args:
        layer: a built `keras.layers.Dense`.
        rank: int (any integer type, NumPy's too), the number of spatial
            dimensions of the inputs: 1 for sequences, 2 for images, 3 for
            volumes.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.

    Returns:
        A new, built `keras_nin.layers.Pointwise` named
        `"<layer name>_pointwise"`, with the Dense layer's dtype policy.
        Weights are copied, not shared.

    Raises:
        TypeError: if `layer` is not a `keras.layers.Dense`, or `rank` is not
            an integer.
        ValueError: if `layer` is not built, `rank` is not 1, 2 or 3, or
            `data_format` is unknown.

    Examples:
        >>> import numpy as np
        >>> import keras
        >>> from keras_nin.theory import as_positions, from_dense
        >>> dense = keras.layers.Dense(8, activation="relu")
        >>> dense.build((None, 3))
        >>> pointwise = from_dense(dense, rank=2, data_format="channels_first")
        >>> x = np.random.rand(2, 3, 5, 5).astype("float32")
        >>> y = pointwise(x)
        >>> tuple(y.shape)
        (2, 8, 5, 5)
        >>> expected = dense(as_positions(x, "channels_first"))
        >>> same = as_positions(y, "channels_first")
        >>> to_numpy = keras.ops.convert_to_numpy
        >>> bool(np.allclose(to_numpy(same), to_numpy(expected), atol=1e-5))
        True
    """
    if not isinstance(layer, keras.layers.Dense):
        raise TypeError(
            "Invalid value for argument `layer`. Expected a keras.layers.Dense "
            f"layer. Received: layer={layer!r} of type {type(layer).__name__}."
        )
    if not is_size(rank):
        raise TypeError(
            "Invalid value for argument `rank`. Expected the number of spatial "
            f"dimensions, 1, 2 or 3. Received: rank={rank!r}."
        )
    if rank not in (1, 2, 3):
        raise ValueError(
            "Invalid value for argument `rank`. Expected the number of spatial "
            f"dimensions, 1, 2 or 3. Received: rank={rank}."
        )
    rank = int(rank)
    data_format = standardize_data_format(data_format)
    _check_built(layer)
    weights = layer.get_weights()
    input_channels, output_channels = weights[0].shape
    pointwise = Pointwise(
        output_channels,
        activation=layer.activation,
        use_bias=layer.use_bias,
        data_format=data_format,
        dtype=layer.dtype_policy,
        name=f"{layer.name}_pointwise",
    )
    spatial = (None,) * rank
    if data_format == "channels_last":
        pointwise.build((None, *spatial, input_channels))
    else:
        pointwise.build((None, input_channels, *spatial))
    pointwise.set_weights(weights)
    return pointwise
