"""SqueezeExcite: the fully connected oracle, reduced widths, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import (
    check_bad_arguments,
    check_config_round_trip,
    check_mixed_precision,
    check_model_saving,
    check_numerics,
    check_output_shapes,
    check_training,
    random_input,
    reference_norm,
)

from keras_nin.layers import SqueezeExcite
from keras_nin.layers._channels import make_divisible
from keras_nin.theory import cost


def dense(ours, units, activation, h):
    """`ours` (a `Pointwise`) as a `keras.layers.Dense` on the pooled vectors."""
    weights = ours.get_weights()
    layer = keras.layers.Dense(units, activation=activation, use_bias=len(weights) == 2)
    layer.build(h.shape)
    layer.set_weights(weights)
    return layer(h)


def reference(block, x):
    """The paper's form: global pooling, two Dense layers, a channel rescale."""
    channels = x.shape[-1]
    h = keras.layers.GlobalAveragePooling2D()(x)  # (batch, C): no 1×1 anywhere
    h = dense(block.reduce, block.reduced_filters, None, h)
    h = keras.activations.relu(reference_norm(block.reduce_norm, h))
    h = dense(block.expand, channels, "sigmoid", h)
    return keras.layers.Multiply()([x, keras.layers.Reshape((1, 1, channels))(h)])


@pytest.mark.parametrize(
    ("data_format", "kwargs"),
    [
        ("channels_last", {}),
        ("channels_first", {}),
        ("channels_last", {"ratio": 1 / 3, "normalization": "batch"}),
        ("channels_first", {"ratio": 1.0, "normalization": "layer"}),
    ],
)
def test_numerics_match_dense_layers_on_pooled_vectors(data_format, kwargs):
    shape = (2, 5, 6, 12) if data_format == "channels_last" else (2, 12, 5, 6)
    block = SqueezeExcite(data_format=data_format, **kwargs)
    y = check_numerics(block, random_input(shape), reference)
    x = random_input(shape)
    scale = keras.ops.convert_to_numpy(block(x)) / x  # one gate per channel
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    spread = scale.max(axis=axes) - scale.min(axis=axes)
    np.testing.assert_allclose(spread, 0, atol=1e-4)
    assert scale.min() > 0 and scale.max() < 1 and y.shape == shape


def test_numerics_match_numpy():
    x = random_input((2, 4, 3, 8))
    block = SqueezeExcite(ratio=0.5, activation="tanh")
    block.build(x.shape)
    (w1, b1), (w2, b2) = block.reduce.get_weights(), block.expand.get_weights()
    pooled = x.mean(axis=(1, 2))
    gate = 1 / (1 + np.exp(-(np.tanh(pooled @ w1 + b1) @ w2 + b2)))
    y = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_allclose(y, x * gate[:, None, None, :], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("channels", "ratio", "divisor", "reduced"),
    [
        (64, 0.25, 1, 16),
        (64, 1 / 16, 1, 4),  # the paper's r = 16
        (10, 0.25, 1, 3),  # 2.5 rounds up, like Pointwise
        (3, 0.1, 1, 1),  # at least one channel
        (12, 1.0, 1, 12),
        (72, 0.25, 8, 24),  # MobileNetV3: 18 → 24 (16 would lose > 10%)
        (120, 0.25, 8, 32),  # MobileNetV3: 30 → 32
        (16, 0.25, 8, 8),  # at least the divisor
        (5, 0.25, 1, 1),  # 1.25 rounds to 1: plain rounding, as documented
        (9, 0.25, 1, 2),  # 2.25 rounds to 2
    ],
)
def test_reduced_width(channels, ratio, divisor, reduced):
    block = SqueezeExcite(ratio, divisor=divisor)
    block.build((None, 4, 4, channels))
    assert block.reduced_filters == reduced
    assert tuple(block.reduce.kernel.shape) == (channels, reduced)
    assert tuple(block.expand.kernel.shape) == (reduced, channels)


@pytest.mark.parametrize(
    ("channels", "round_limit", "reduced"), [(5, 0.9, 2), (5, 0.0, 1), (9, 0.9, 3)]
)
def test_round_limit_is_a_named_knob(channels, round_limit, reduced):
    """MobileNet's 0.9 rule on request; keras-nin 0.1.0's files load with it."""
    block = SqueezeExcite(0.25, round_limit=round_limit)
    block.build((None, 4, 4, channels))
    assert block.reduced_filters == reduced
    legacy = {k: v for k, v in block.get_config().items() if k != "round_limit"}
    reloaded = SqueezeExcite.from_config(legacy)
    reloaded.build((None, 4, 4, channels))
    assert reloaded.reduced_filters == make_divisible(channels * 0.25, 1, 0.9)


def test_the_two_steps_are_1x1_layers_on_one_position():
    block = SqueezeExcite(0.25)
    report = cost(block, input_shape=(14, 14, 64))
    rows = {row.name: row for row in report.rows}
    assert rows["reduce"].output_shape == (1, 1, 16)
    assert rows["reduce"].multiplies == 64 * 16  # one position: a Dense layer
    assert rows["expand"].multiplies == 16 * 64
    assert report.params == 64 * 16 + 16 + 16 * 64 + 64


@pytest.mark.parametrize(
    ("kwargs", "input_shape"),
    [
        ({}, (2, 6, 5, 8)),
        ({"data_format": "channels_first"}, (2, 8, 6, 5)),
        ({}, (2, 9, 8)),
        ({"data_format": "channels_first"}, (2, 8, 3, 4, 5)),
    ],
)
def test_output_shapes(kwargs, input_shape):
    y = check_output_shapes(lambda: SqueezeExcite(**kwargs), random_input(input_shape))
    assert y.shape == input_shape


def test_config_keeps_the_arguments_as_given():
    config = SqueezeExcite(
        0.125,
        divisor=8,
        normalization="Batch",
        activation="silu",
        gate_activation="hard_sigmoid",
        data_format="channels_first",
    ).get_config()
    assert (config["ratio"], config["divisor"]) == (0.125, 8)
    assert config["normalization"] == "batch"
    assert config["activation"] == "silu"
    assert config["gate_activation"] == "hard_sigmoid"
    assert config["data_format"] == "channels_first"


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"gate_activation": "hard_sigmoid", "normalization": "batch", "divisor": 4}],
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(SqueezeExcite(**kwargs), random_input((2, 6, 5, 8)))


def test_keras_file_round_trip(tmp_path):
    check_model_saving(
        lambda: SqueezeExcite(normalization="batch"),
        random_input((2, 6, 5, 8)),
        tmp_path,
    )


def test_training_lowers_the_loss():
    check_training(lambda: SqueezeExcite(0.5), random_input((32, 4, 4, 3)))


def test_mixed_precision_policy():
    check_mixed_precision(
        lambda: SqueezeExcite(), random_input((2, 4, 4, 4)), "mixed_float16"
    )


BAD_ARGUMENTS = [
    ({"ratio": 0}, None, ValueError, ["`ratio`", "(0, 1]", "ratio=0"]),
    ({"ratio": 1.5}, None, ValueError, ["`ratio`", "ratio=1.5"]),
    ({"ratio": -0.25}, None, ValueError, ["`ratio`", "ratio=-0.25"]),
    ({"ratio": "1/4"}, None, TypeError, ["`ratio`", "'1/4'"]),
    ({"ratio": float("nan")}, None, ValueError, ["`ratio`"]),
    ({"divisor": 0}, None, ValueError, ["`divisor`", "divisor=0"]),
    ({"normalization": "instance"}, None, ValueError, ["`normalization`"]),
    ({"data_format": "NHWC"}, None, ValueError, ["`data_format`"]),
    ({}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    ({}, (None, 2, 2, 2, 2, 8), ValueError, ["received rank 6"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    check_bad_arguments(SqueezeExcite, kwargs, shape, error, names)
