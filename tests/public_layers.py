"""Every public keras-nin layer, with a valid small configuration: the registry.

The per-concern test modules (properties, serialization, dtypes, data formats,
gradients, bad input, determinism) are driven from `LAYERS`, so a new public
layer is covered everywhere by adding one entry here; `test_every_public_layer_
is_registered` (in `test_bad_input.py`) fails until it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

import keras_nin
from keras_nin.layers import (
    Bottleneck,
    FireModule,
    InceptionBlock,
    InvertedResidual,
    NiNBlock,
    Pointwise,
    SqueezeExcite,
)
from keras_nin.models import NiN

RANKS = (3, 4, 5)
DATA_FORMATS = ("channels_last", "channels_first")
# Small, unequal, odd spatial sizes: "same" padding with a stride is
# asymmetric, and no size equals a channel count by accident.
SPATIAL = {3: (7,), 4: (5, 3), 5: (3, 5, 2)}


@dataclass(frozen=True)
class LayerCase:
    """A public layer class, a small valid configuration and its input."""

    cls: type[keras.layers.Layer]
    kwargs: dict
    # Weight counts by hand (kernels, biases, norm parameters and statistics):
    # the oracle of the conformance suite.
    trainable: int
    non_trainable: int = 0
    channels: int = 4

    @property
    def name(self) -> str:
        return self.cls.__name__

    def make(self, data_format: str = "channels_last", **overrides) -> keras.Layer:
        return self.cls(**{**self.kwargs, "data_format": data_format, **overrides})

    def input_shape(
        self, rank: int = 4, data_format: str = "channels_last", batch: int = 2
    ) -> tuple[int, ...]:
        spatial = SPATIAL[rank]
        if data_format == "channels_last":
            return (batch, *spatial, self.channels)
        return (batch, self.channels, *spatial)

    def input(self, rank: int = 4, data_format: str = "channels_last", seed=0):
        shape = self.input_shape(rank, data_format)
        return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# Every sublayer kind is exercised: norms (batch, layer, group), strides,
# grouped and depthwise convolutions, projection shortcuts, pooling branches.
LAYERS: tuple[LayerCase, ...] = (
    # kernel, bias
    LayerCase(Pointwise, {"filters": 5, "bias_initializer": "random_normal"}, 2),
    LayerCase(
        NiNBlock,
        {"filters": 6, "kernel_size": 3, "mlp_filters": (5, 3), "strides": 2},
        6,  # conv, mlp_1, mlp_2: kernel and bias each
    ),
    # reduce, conv, expand, projection: a kernel and a batch norm's gamma and
    # beta each (trainable), moving mean and variance (not)
    LayerCase(Bottleneck, {"filters": 8, "strides": 2, "groups": 2}, 12, 8),
    LayerCase(
        InceptionBlock,
        {
            "branch1x1": 2,
            "branch3x3": 3,
            "branch5x5": 2,
            "pool_proj": 2,
            "reduce3x3": 2,
            "reduce5x5": 2,
            "normalization": "group",
        },
        18,  # 6 convolutions: a kernel and a group norm's gamma and beta each
    ),
    # expand, depthwise, project: kernel, gamma, beta; moving mean and variance
    LayerCase(InvertedResidual, {"filters": 4, "expansion": 2}, 9, 6),
    LayerCase(FireModule, {"squeeze": 2, "expand1x1": 3, "expand3x3": 3}, 6),
    # reduce kernel, layer norm gamma and beta, expand kernel and bias
    LayerCase(SqueezeExcite, {"ratio": 0.5, "normalization": "layer"}, 5),
)

BY_NAME = {case.name: case for case in LAYERS}
# The public channel layers: every name of `keras_nin.layers` but the base
# and DropPath (no channels, no data format: tests/test_drop_path.py).
LAYER_NAMES = sorted(set(keras_nin.layers.__all__) - {"Block", "DropPath"})
# One input feeds every layer in `all_layers_model`.
assert len({case.channels for case in LAYERS}) == 1


def layer_id(case: LayerCase) -> str:
    return case.name


# The NiN model on a small image: every pooling stays meaningful at 8×8.
NIN_INPUT = (8, 8, 1)
NIN_CLASSES = 4


def make_nin(**kwargs) -> keras.Model:
    """A small NiN, without dropout randomness unless asked for."""
    return NiN(NIN_INPUT, NIN_CLASSES, **{"dropout": 0.0, **kwargs})


def nin_input(batch: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, *NIN_INPUT)).astype("float32")


def layer_model(case: LayerCase, rank: int = 4, data_format="channels_last"):
    """A functional model around one layer of `case`, for saving and fitting."""
    inputs = keras.Input(case.input_shape(rank, data_format)[1:])
    return keras.Model(inputs, case.make(data_format)(inputs), name=case.name)


def all_layers_model(
    rank: int = 4, data_format="channels_last", **overrides
) -> keras.Model:
    """One model with every registered layer applied to the same input.

    One output per entry of `LAYERS`, in order. JAX compiles per function and
    shape, so one model for all layers costs one compilation instead of seven.
    """
    inputs = keras.Input(LAYERS[0].input_shape(rank, data_format)[1:])
    outputs = [case.make(data_format, **overrides)(inputs) for case in LAYERS]
    return keras.Model(inputs, outputs, name="all_layers")


def all_layers_input(rank: int = 4, data_format="channels_last", batch=2, seed=0):
    shape = LAYERS[0].input_shape(rank, data_format, batch)
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


LayerFactory = Callable[[], keras.Layer]
