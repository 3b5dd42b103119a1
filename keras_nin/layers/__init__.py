"""The public keras-nin layers."""

from keras_nin.layers.bottleneck import Bottleneck
from keras_nin.layers.nin_block import NiNBlock
from keras_nin.layers.pointwise import Pointwise

__all__ = ["Bottleneck", "NiNBlock", "Pointwise"]
