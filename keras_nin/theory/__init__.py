"""Tools that prove the lecture's claims on the reader's machine.

- Equivalence: a 1×1 convolution is a fully connected layer at every position
  (`as_positions`, `from_positions`, `to_dense`, `from_dense`).
- Cost: multiplies and parameters per layer and in total (`cost`,
  `CostReport`).
"""

from keras_nin.theory.cost import CostReport, CostRow, cost
from keras_nin.theory.equivalence import (
    as_positions,
    from_dense,
    from_positions,
    to_dense,
)

__all__ = [
    "CostReport",
    "CostRow",
    "as_positions",
    "cost",
    "from_dense",
    "from_positions",
    "to_dense",
]
