"""DropPath: stochastic depth, dropping a residual branch per sample.

Huang, Sun, Liu, Sedra & Weinberger, "Deep Networks with Stochastic Depth"
(2016), https://arxiv.org/abs/1603.09382
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_nin._validation import check_rate
from keras_nin.layers._registry import register_serializable


@register_serializable
class DropPath(keras.layers.Layer):
    """Stochastic depth: drop a sample's whole input with probability `rate`.

    Put it on the residual branch of a block, before the branch is added to
    the shortcut: in training each sample's branch is either zeroed (with
    probability `rate`: the block is then the identity for that sample) or
    kept and scaled by `1 / (1 - rate)`, so its expected value is unchanged;
    in inference it is the identity. This is stochastic depth (Huang et al.,
    2016) in the per-sample form timm calls `DropPath`; Keras's `Dropout`
    with `noise_shape=(batch, 1, 1, 1)` draws the same mask. `Bottleneck`
    and `InvertedResidual` take it as `drop_path_rate`; the guide "From
    theory to tools" trains with it.

    Args:
        rate: float in `[0, 1)`, the probability of dropping a sample's input.
        seed: optional int, the seed of the random masks.
        **kwargs: base layer arguments, such as `name` and `dtype`.

    Input shape:
        Any shape with a leading batch axis.

    Output shape:
        The input shape.

    Raises:
        ValueError: for a `rate` outside `[0, 1)`.
        TypeError: for a `rate` that is not a real number.

    Examples:
        >>> import numpy as np
        >>> import keras_nin
        >>> drop = keras_nin.layers.DropPath(0.5, seed=1)
        >>> x = np.ones((8, 2, 2, 3), "float32")
        >>> kept = np.asarray(drop(x, training=True))[:, 0, 0, 0]
        >>> sorted(set(kept.tolist()))  # each sample dropped, or kept × 2
        [0.0, 2.0]
        >>> bool(np.all(np.asarray(drop(x)) == x))  # inference: identity
        True
    """

    def __init__(self, rate: float = 0.0, *, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0:
            return inputs
        rank = len(inputs.shape)
        noise_shape = (ops.shape(inputs)[0],) + (1,) * (rank - 1)
        return keras.random.dropout(
            inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator
        )

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
