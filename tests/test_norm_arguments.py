"""`norm_momentum` and `norm_epsilon`: every block hands them to each of its norms.

The oracles are NumPy: batch norm's moving mean after one training step is
`momentum · old + (1 − momentum) · batch mean`, and its inference output uses
the epsilon given, not Keras's default.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import check_config_round_trip
from public_layers import LAYERS, layer_id, make_nin, nin_input

from keras_nin.layers import Bottleneck, FireModule

BLOCKS = [case for case in LAYERS if case.name != "Pointwise"]
NORMS = {
    "batch": keras.layers.BatchNormalization,
    "layer": keras.layers.LayerNormalization,
    "group": keras.layers.GroupNormalization,
}
# torchvision's: PyTorch's momentum=0.1 is Keras's 0.9; eps=1e-5.
SETTINGS = {"norm_momentum": 0.9, "norm_epsilon": 1e-5}


def norms_of(layer: keras.Layer) -> list[keras.Layer]:
    """Every normalization layer inside `layer`, however deeply nested."""
    found = []
    for sublayer in layer._flatten_layers(include_self=False, recursive=True):
        if isinstance(sublayer, tuple(NORMS.values())):
            found.append(sublayer)
    return found


@pytest.mark.parametrize("normalization", sorted(NORMS))
@pytest.mark.parametrize("case", BLOCKS, ids=layer_id)
def test_every_norm_of_every_block_gets_the_settings(case, normalization):
    x = case.input()
    block = case.make(normalization=normalization, **SETTINGS)
    block.build(x.shape)
    norms = norms_of(block)
    assert norms, "the block has no norm to configure"
    for norm in norms:
        assert isinstance(norm, NORMS[normalization]), norm.name
        assert norm.epsilon == pytest.approx(1e-5), norm.name
        if normalization == "batch":
            assert norm.momentum == pytest.approx(0.9), norm.name
    config = block.get_config()
    assert config["norm_momentum"] == 0.9 and config["norm_epsilon"] == 1e-5
    check_config_round_trip(block, x)


@pytest.mark.parametrize("case", BLOCKS, ids=layer_id)
def test_defaults_are_keras_defaults(case):
    block = case.make(normalization="batch")
    block.build(case.input().shape)
    reference = keras.layers.BatchNormalization()
    for norm in norms_of(block):
        assert (norm.momentum, norm.epsilon) == (reference.momentum, reference.epsilon)


def test_moving_mean_follows_the_momentum():
    """One training step of a Bottleneck: NumPy recomputes its first norm's
    moving mean from the batch statistics of the first convolution's output."""
    x = np.random.default_rng(0).standard_normal((4, 5, 5, 8)).astype("float32")
    block = Bottleneck(8, normalization="batch", norm_momentum=0.6)
    block.build(x.shape)
    norm = block.reduce_norm
    norm.moving_mean.assign(np.full(norm.moving_mean.shape, 3.0, "float32"))
    batch = keras.ops.convert_to_numpy(block.reduce(x))
    block(x, training=True)
    expected = 0.6 * 3.0 + 0.4 * batch.mean(axis=(0, 1, 2))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(norm.moving_mean), expected, rtol=1e-5, atol=1e-5
    )


def test_epsilon_reaches_the_numbers():
    """Inference with a variance of zero: the output is
    `gamma · (x − mean) / sqrt(epsilon) + beta`, so epsilon scales it."""
    x = np.random.default_rng(1).standard_normal((2, 5, 5, 4)).astype("float32")
    for epsilon in (1e-2, 1e-4):
        block = FireModule(
            2, 3, 3, normalization="batch", norm_epsilon=epsilon, activation=None
        )
        block.build(x.shape)
        block.squeeze_norm.moving_variance.assign(np.zeros(2, "float32"))
        squeezed = keras.ops.convert_to_numpy(block.squeeze(x))
        normalized = block.squeeze_norm(squeezed, training=False)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(normalized),
            squeezed / np.sqrt(epsilon),
            rtol=1e-4,
            atol=1e-4,
        )


def test_nin_passes_the_settings_to_every_block():
    model = make_nin(normalization="batch", **SETTINGS)
    norms = [norm for block in model.layers for norm in norms_of(block)]
    assert len(norms) == 9  # three blocks of three convolutions
    assert {(norm.momentum, norm.epsilon) for norm in norms} == {(0.9, 1e-5)}
    model(nin_input())
