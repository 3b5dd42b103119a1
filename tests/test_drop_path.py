"""DropPath (stochastic depth), alone and on the residual blocks.

Oracles: Keras's own layer test; counting the dropped samples of a large
batch against the binomial distribution; and, for the blocks, the same block
without drop path (same weights, linear), whose output minus the input is the
residual branch.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase

from keras_nin.layers import Bottleneck, DropPath, InvertedResidual


def test_keras_layer_test():
    TestCase().run_layer_test(
        DropPath,
        init_kwargs={"rate": 0.5, "seed": 1},
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 3, 4),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=1,
        expected_num_losses=0,
        supports_masking=True,
        run_training_check=False,
    )


def test_each_sample_is_dropped_or_scaled_at_the_rate():
    rate, batch = 0.3, 4000
    x = np.ones((batch, 2, 3), "float32")
    y = keras.ops.convert_to_numpy(DropPath(rate, seed=0)(x, training=True))
    per_sample = y.reshape(batch, -1)
    # Every value of a sample is the same: the whole sample is dropped or kept.
    assert np.all(per_sample == per_sample[:, :1])
    values = per_sample[:, 0]
    assert np.all((values == 0) | np.isclose(values, 1 / (1 - rate)))
    dropped = np.mean(values == 0)
    sigma = np.sqrt(rate * (1 - rate) / batch)
    assert abs(dropped - rate) < 4 * sigma


def test_inference_is_the_identity_and_seeds_reproduce():
    x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(DropPath(0.9)(x)), x)
    a = DropPath(0.5, seed=3)(x, training=True)
    b = DropPath(0.5, seed=3)(x, training=True)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
    )


@pytest.mark.parametrize("rate", [1.0, -0.1, float("nan")])
def test_a_bad_rate_names_the_argument(rate):
    with pytest.raises(ValueError, match="`rate`"):
        DropPath(rate)
    with pytest.raises(ValueError, match="`drop_path_rate`"):
        Bottleneck(8, drop_path_rate=rate)


@pytest.mark.parametrize(
    "make",
    [
        lambda rate: Bottleneck(
            6, activation=None, normalization=None, drop_path_rate=rate
        ),
        lambda rate: InvertedResidual(
            6, activation=None, normalization=None, drop_path_rate=rate
        ),
    ],
    ids=["Bottleneck", "InvertedResidual"],
)
def test_a_block_drops_its_residual_branch_per_sample(make):
    rate = 0.5
    x = np.random.default_rng(0).standard_normal((64, 4, 4, 6)).astype("float32")
    plain, dropping = make(0.0), make(rate)
    plain.build(x.shape)
    dropping.build(x.shape)
    dropping.set_weights(plain.get_weights())
    branch = keras.ops.convert_to_numpy(plain(x)) - x
    y = keras.ops.convert_to_numpy(dropping(x, training=True))
    kept = np.isclose(y, x + branch / (1 - rate), atol=1e-4).all(axis=(1, 2, 3))
    dropped = np.isclose(y, x, atol=1e-6).all(axis=(1, 2, 3))
    assert np.all(kept | dropped)
    assert 0 < dropped.sum() < len(x)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dropping(x)), x + branch, rtol=1e-5, atol=1e-5
    )
    config = dropping.get_config()
    assert config["drop_path_rate"] == rate
    assert type(dropping).from_config(config).drop_path_rate == rate
