"""keras-nin: Network-in-Network and 1×1-convolution blocks for Keras 3."""

from keras_nin import layers, models, theory, transforms

__version__ = "0.1.0"

__all__ = ["__version__", "layers", "models", "theory", "transforms"]
