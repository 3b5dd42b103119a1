"""The public keras-nin layers."""

from keras_nin.layers.pointwise import Pointwise

__all__ = ["Pointwise"]
