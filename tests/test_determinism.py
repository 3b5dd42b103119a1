"""`keras.utils.set_random_seed` makes building and initializing reproducible."""

from __future__ import annotations

import keras
import numpy as np
from public_layers import LAYERS, all_layers_model, make_nin


def initial_weights(seed: int) -> list[np.ndarray]:
    keras.utils.set_random_seed(seed)
    return make_nin().get_weights() + all_layers_model().get_weights()


def test_same_seed_same_weights_for_nin_and_every_layer():
    first, second = initial_weights(7), initial_weights(7)
    assert len(first) == len(second) > len(LAYERS)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    different = initial_weights(8)
    assert any(not np.array_equal(a, b) for a, b in zip(first, different, strict=True))
