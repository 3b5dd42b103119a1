"""The public keras-nin layers, and `Block`, the base to write a block of your own."""

from keras_nin.layers._block import Block
from keras_nin.layers.bottleneck import Bottleneck
from keras_nin.layers.drop_path import DropPath
from keras_nin.layers.fire import FireModule
from keras_nin.layers.inception import InceptionBlock
from keras_nin.layers.inverted_residual import InvertedResidual
from keras_nin.layers.nin_block import NiNBlock
from keras_nin.layers.pointwise import Pointwise
from keras_nin.layers.squeeze_excite import SqueezeExcite

__all__ = [
    "Block",
    "Bottleneck",
    "DropPath",
    "FireModule",
    "InceptionBlock",
    "InvertedResidual",
    "NiNBlock",
    "Pointwise",
    "SqueezeExcite",
]
