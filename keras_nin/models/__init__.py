"""The public keras-nin models: functional `keras.Model`s built from the layers."""

from keras_nin.models.nin import NiN

__all__ = ["NiN"]
