"""Model transformations that put the 1×1-convolution theory to work.

- `fold_batch_norm`: fold each batch normalization into the layer before it.
- `to_fully_convolutional`: turn a classifier head into convolutions, so the
  model slides over larger inputs and returns a map of class scores.
- `factorize`: replace a 1×1 convolution or dense layer by a low-rank pair.
"""

from keras_nin.transforms.factorization import break_even_rank, factorize
from keras_nin.transforms.fold import fold_batch_norm
from keras_nin.transforms.fully_convolutional import to_fully_convolutional

__all__ = [
    "break_even_rank",
    "factorize",
    "fold_batch_norm",
    "to_fully_convolutional",
]
