"""InceptionBlock: numerics against plain Keras layers, GoogLeNet figures, errors."""

from __future__ import annotations

import keras
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
    reference_conv,
    reference_norm,
)

from keras_nin.layers import InceptionBlock
from keras_nin.theory import cost

INCEPTION_3A = {"branch1x1": 64, "branch3x3": 128, "branch5x5": 32, "pool_proj": 32}
INCEPTION_3A_REDUCES = {"reduce3x3": 96, "reduce5x5": 16}
INCEPTION_3B = {"branch1x1": 128, "branch3x3": 192, "branch5x5": 96, "pool_proj": 64}
INCEPTION_3B_REDUCES = {"reduce3x3": 128, "reduce5x5": 32}


def reference(block, x):
    """Four branches of plain channels_last layers, then `Concatenate`."""
    relu = keras.activations.relu

    def unit(name, y):
        ours = getattr(block, name, None)
        if ours is None:  # an omitted reduce or projection
            return y
        return relu(
            reference_norm(getattr(block, f"{name}_norm"), reference_conv(ours, y))
        )

    pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same")(x)
    return keras.layers.Concatenate(axis=-1)(
        [
            unit("branch1x1", x),
            unit("branch3x3", unit("reduce3x3", x)),
            unit("branch5x5", unit("reduce5x5", x)),
            unit("pool_proj", pooled),
        ]
    )


@pytest.mark.parametrize(
    ("data_format", "kwargs"),
    [
        ("channels_last", {"reduce3x3": 3, "reduce5x5": 2}),
        ("channels_first", {"reduce3x3": 3, "reduce5x5": 2}),
        ("channels_last", {"pool_proj": None}),  # the naive module
        ("channels_first", {"reduce5x5": 2, "normalization": "batch"}),
        ("channels_last", {"reduce3x3": 3, "normalization": "group"}),
    ],
)
def test_numerics_match_plain_keras_layers(data_format, kwargs):
    # channels_first: 5 positions on the last axis, the 5×5 branch's width.
    shape = (2, 6, 5, 4) if data_format == "channels_last" else (2, 4, 6, 5)
    arguments = {"branch1x1": 2, "branch3x3": 4, "branch5x5": 5, "pool_proj": 3}
    block = InceptionBlock(**{**arguments, **kwargs}, data_format=data_format)
    y = check_numerics(block, random_input(shape), reference)
    assert (y > 0).any() and (y == 0).any()


def test_googlenet_inception_3a_and_3b():
    """GoogLeNet's table 1: (3a) 28×28×256, 128M ops; (3b) 28×28×480, 304M."""
    inputs = keras.Input((28, 28, 192))
    block_3a = InceptionBlock(**INCEPTION_3A, **INCEPTION_3A_REDUCES)
    block_3b = InceptionBlock(**INCEPTION_3B, **INCEPTION_3B_REDUCES)
    x = block_3a(inputs)
    assert x.shape == (None, 28, 28, 256)
    y = block_3b(x)
    assert y.shape == (None, 28, 28, 480)
    cost_3a = cost(block_3a, input_shape=(28, 28, 192))
    cost_3b = cost(block_3b, input_shape=(28, 28, 256))
    assert cost_3a.multiplies == 128_049_152
    assert cost_3b.multiplies == 304_267_264
    assert cost_3a.params == 163_696  # weights and biases of six convolutions
    names = [row.name for row in cost_3a.rows]
    assert names == [
        "branch1x1", "reduce3x3", "branch3x3", "reduce5x5", "branch5x5", "pool",
        "pool_proj",
    ]  # fmt: skip


def test_the_naive_module_costs_more_and_grows_the_channels():
    naive = InceptionBlock(64, 128, 32, None)
    naive_cost = cost(naive, input_shape=(28, 28, 192))
    assert naive.compute_output_shape((None, 28, 28, 192)) == (None, 28, 28, 416)
    assert naive_cost.multiplies == 28 * 28 * 192 * (64 + 9 * 128 + 25 * 32)
    reduced = InceptionBlock(**INCEPTION_3A, **INCEPTION_3A_REDUCES)
    assert naive_cost.compare(cost(reduced, input_shape=(28, 28, 192))) > 2.3
    # cost() leaves the block unbuilt (issue 19): read the sublayers' names
    # from the rows it counted.
    assert [row.name for row in naive_cost.rows] == [
        "branch1x1", "branch3x3", "branch5x5", "pool"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape"),
    [
        ({}, (2, 6, 5, 8), (2, 6, 5, 10)),
        ({"pool_proj": None}, (2, 6, 5, 8), (2, 6, 5, 15)),
        ({"data_format": "channels_first"}, (2, 8, 6, 5), (2, 10, 6, 5)),
        ({}, (2, 9, 8), (2, 9, 10)),  # rank 3: Conv1D, MaxPooling1D
        ({"normalization": "batch"}, (2, 3, 4, 5, 8), (2, 3, 4, 5, 10)),  # rank 5
    ],
)
def test_output_shapes(kwargs, input_shape, output_shape):
    arguments = {"pool_proj": 3, "reduce3x3": 2, **kwargs}
    y = check_output_shapes(
        lambda: InceptionBlock(2, 3, 2, **arguments), random_input(input_shape)
    )
    assert y.shape == output_shape


def test_convolutions_carry_a_bias_only_without_normalization():
    plain = InceptionBlock(2, 3, 2, 3, reduce3x3=2, reduce5x5=2)
    plain.build((None, 6, 6, 4))
    convs = [layer for layer in plain.layers if layer.name != "pool"]
    assert len(convs) == 6 and all(conv.bias is not None for conv in convs)
    normed = InceptionBlock(2, 3, 2, 3, reduce3x3=2, normalization="batch")
    normed.build((None, 6, 6, 4))
    assert len(normed.layers) == 2 * 5 + 1
    assert normed.branch3x3.bias is None and normed.reduce3x3.bias is None


def test_config_keeps_the_arguments_as_given():
    config = InceptionBlock(
        64,
        128,
        32,
        None,
        reduce3x3=96,
        normalization="Batch",
        activation="gelu",
        kernel_initializer="he_normal",
        data_format="channels_first",
    ).get_config()
    assert (config["branch1x1"], config["branch3x3"], config["branch5x5"]) == (
        64,
        128,
        32,
    )
    assert (config["pool_proj"], config["reduce3x3"], config["reduce5x5"]) == (
        None,
        96,
        None,
    )
    assert config["normalization"] == "batch"
    assert config["activation"] == "gelu"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["data_format"] == "channels_first"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reduce3x3": 2, "reduce5x5": 2},
        {"normalization": "batch", "data_format": "channels_first"},
    ],
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(
        InceptionBlock(2, 3, 2, 3, **kwargs), random_input((2, 6, 5, 8))
    )


def test_keras_file_round_trip(tmp_path):
    check_model_saving(
        lambda: InceptionBlock(2, 3, 2, 3, reduce3x3=2, normalization="batch"),
        random_input((2, 6, 5, 8)),
        tmp_path,
    )


def test_training_lowers_the_loss():
    check_training(
        lambda: InceptionBlock(2, 2, 2, 2, reduce3x3=2, reduce5x5=2),
        random_input((32, 4, 4, 3)),
    )


def test_mixed_precision_policy():
    check_mixed_precision(
        lambda: InceptionBlock(2, 2, 2, 2, reduce3x3=2),
        random_input((2, 4, 4, 4)),
        "mixed_bfloat16",
    )


BAD_ARGUMENTS = [
    ({"branch1x1": 0}, None, ValueError, ["`branch1x1`", "branch1x1=0"]),
    ({"branch3x3": None}, None, TypeError, ["`branch3x3`", "branch3x3=None"]),
    ({"branch5x5": -2}, None, ValueError, ["`branch5x5`", "branch5x5=-2"]),
    ({"pool_proj": 0}, None, ValueError, ["`pool_proj`", "pool_proj=0"]),
    ({"reduce3x3": 1.5}, None, TypeError, ["`reduce3x3`", "reduce3x3=1.5"]),
    ({"reduce5x5": 0}, None, ValueError, ["`reduce5x5`", "reduce5x5=0"]),
    ({"normalization": "instance"}, None, ValueError, ["`normalization`"]),
    ({"data_format": "NHWC"}, None, ValueError, ["`data_format`"]),
    ({}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    ({}, (None, 2, 2, 2, 2, 8), ValueError, ["received rank 6"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    kwargs = {"branch1x1": 2, "branch3x3": 2, "branch5x5": 2, "pool_proj": 2, **kwargs}
    check_bad_arguments(InceptionBlock, kwargs, shape, error, names)
