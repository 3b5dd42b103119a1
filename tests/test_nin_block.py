"""NiNBlock: numerics against plain Keras layers, shapes, config, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import (
    check_config_round_trip,
    check_mixed_precision,
    check_model_saving,
    check_output_shapes,
    check_training,
    random_input,
    randomize_weights,
    summary_text,
    to_channels_first,
    to_channels_last,
)

from keras_nin.layers import NiNBlock, Pointwise
from keras_nin.layers._channels import group_count


def reference_norm(normalization, channels):
    """The norm a block should use, spelled out with plain channels_last layers."""
    if normalization == "batch":
        return keras.layers.BatchNormalization(axis=-1)
    if normalization == "layer":
        return keras.layers.LayerNormalization(axis=-1)
    return keras.layers.GroupNormalization(groups=group_count(channels), axis=-1)


def reference_output(block, x):
    """The block recomputed with plain channels_last Keras layers, same weights.

    Inputs and outputs are moved to channels_last for a channels_first block, so
    the reference never takes Keras's channels_first bias path.
    """
    channels_first = block.data_format == "channels_first"
    y = to_channels_last(x) if channels_first else x
    names = ["conv"] + [f"mlp_{i}" for i in range(1, len(block.widths) + 1)]
    for index, name in enumerate(names):
        ours = getattr(block, name)
        weights = ours.get_weights()
        if index == 0:
            conv = keras.layers.Conv2D(
                ours.filters,
                ours.kernel_size,
                strides=ours.strides,
                padding=ours.padding,
                use_bias=len(weights) == 2,
            )
        else:
            conv = keras.layers.Conv2D(ours.filters, 1, use_bias=len(weights) == 2)
            weights[0] = weights[0].reshape((1, 1, *weights[0].shape))
        conv.build(y.shape)
        conv.set_weights(weights)
        y = conv(y)
        if block.normalization is not None:
            norm = reference_norm(block.normalization, ours.filters)
            norm.build(y.shape)
            norm.set_weights(getattr(block, f"{name}_norm").get_weights())
            y = norm(y, training=False)
        y = keras.activations.relu(y)
    y = keras.ops.convert_to_numpy(y)
    return to_channels_first(y) if channels_first else y


@pytest.mark.parametrize(
    ("data_format", "normalization", "kwargs"),
    [
        ("channels_last", None, {"mlp_depth": 2}),  # shape-preserving
        ("channels_first", None, {"mlp_filters": (6, 5)}),  # channel-reducing
        ("channels_last", "batch", {"mlp_filters": (6, 5)}),
        ("channels_first", "batch", {"mlp_depth": 2}),
        ("channels_last", "layer", {"mlp_filters": (3,), "strides": 2}),
        ("channels_first", "layer", {"mlp_filters": (6, 5)}),
        ("channels_last", "group", {"mlp_depth": 3}),
        ("channels_first", "group", {"mlp_filters": (3,), "padding": "valid"}),
        ("channels_last", None, {"strides": 2, "padding": "valid"}),
    ],
)
def test_numerics_match_plain_keras_layers(data_format, normalization, kwargs):
    shape = (2, 7, 9, 3) if data_format == "channels_last" else (2, 3, 7, 9)
    x = random_input(shape)
    block = NiNBlock(
        8, 3, normalization=normalization, data_format=data_format, **kwargs
    )
    block.build(x.shape)
    randomize_weights(block)
    y = keras.ops.convert_to_numpy(block(x, training=False))
    np.testing.assert_allclose(y, reference_output(block, x), rtol=1e-4, atol=1e-4)
    assert (y > 0).any() and (y == 0).any()  # ReLU at the end, not the identity


@pytest.mark.parametrize("rank", [3, 4, 5])
def test_channels_first_when_last_spatial_size_equals_filters(rank):
    """Plain Keras convolutions add a channels_first bias along the last axis
    when that axis has `filters` entries (TensorFlow backend); ours must not.
    """
    x = random_input((2, 3) + (4,) * (rank - 2))
    block = NiNBlock(4, 3, mlp_filters=(4,), data_format="channels_first")
    block.build(x.shape)
    randomize_weights(block)
    y = keras.ops.convert_to_numpy(block(x))
    # NumPy: move to channels_last, where the bias layout is unambiguous.
    conv_kernel, conv_bias = block.conv.get_weights()
    mlp_kernel, mlp_bias = block.mlp_1.get_weights()
    xl = to_channels_last(x)
    plain = {3: keras.layers.Conv1D, 4: keras.layers.Conv2D, 5: keras.layers.Conv3D}
    conv = plain[rank](4, 3, padding="same", use_bias=False)
    conv.build(xl.shape)
    conv.set_weights([conv_kernel])
    h = np.maximum(keras.ops.convert_to_numpy(conv(xl)) + conv_bias, 0)
    expected = np.maximum(h @ mlp_kernel + mlp_bias, 0)
    np.testing.assert_allclose(y, to_channels_first(expected), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape", "widths"),
    [
        # Shape-preserving micro-network: mlp_depth layers of `filters`.
        ({}, (2, 8, 8, 3), (2, 8, 8, 6), (6, 6)),
        ({"mlp_depth": 3}, (2, 8, 8, 3), (2, 8, 8, 6), (6, 6, 6)),
        # Channel-reducing micro-network: the given widths.
        ({"mlp_filters": (5, 2)}, (2, 8, 8, 3), (2, 8, 8, 2), (5, 2)),
        ({"mlp_filters": [4, 9, 1]}, (2, 8, 8, 3), (2, 8, 8, 1), (4, 9, 1)),
        # Strides and padding act on the spatial convolution.
        ({"strides": 2}, (2, 8, 7, 3), (2, 4, 4, 6), (6, 6)),
        ({"strides": (1, 2)}, (2, 8, 7, 3), (2, 8, 4, 6), (6, 6)),
        ({"padding": "valid"}, (2, 8, 7, 3), (2, 6, 5, 6), (6, 6)),
        ({"kernel_size": (3, 1), "padding": "valid"}, (2, 8, 7, 3), (2, 6, 7, 6), ()),
        ({"data_format": "channels_first"}, (2, 3, 8, 5), (2, 6, 8, 5), (6, 6)),
        ({"strides": 2}, (2, 9, 3), (2, 5, 6), (6, 6)),  # rank 3: Conv1D
        ({"strides": 2}, (2, 4, 5, 3, 3), (2, 2, 3, 2, 6), (6, 6)),  # Conv3D
    ],
)
def test_output_shapes(kwargs, input_shape, output_shape, widths):
    kwargs = {"kernel_size": 3, **kwargs}
    x = random_input(input_shape)
    y = check_output_shapes(lambda: NiNBlock(6, **kwargs), x)
    assert y.shape == output_shape
    if widths:
        assert NiNBlock(6, **kwargs).widths == widths


def test_paper_blocks_have_the_papers_weights():
    """192-160-96 on a CIFAR image and 192-192-192 after it, biases included."""
    block = NiNBlock(192, 5, mlp_filters=(160, 96))
    block.build((None, 32, 32, 3))
    assert [tuple(w.shape) for w in block.weights] == [
        (5, 5, 3, 192), (192,), (192, 160), (160,), (160, 96), (96,)
    ]  # fmt: skip
    assert isinstance(block.mlp_1, Pointwise)
    assert isinstance(block.conv, keras.layers.Conv2D)
    preserving = NiNBlock(192, 5)
    preserving.build((None, 16, 16, 96))
    assert preserving.count_params() == 5 * 5 * 96 * 192 + 192 + 2 * (192 * 192 + 192)


def test_normalization_drops_the_biases_and_sits_before_the_activation():
    block = NiNBlock(4, 3, normalization="batch")
    block.build((None, 6, 6, 3))
    assert [layer.name for layer in block.layers] == [
        "conv", "conv_norm", "mlp_1", "mlp_1_norm", "mlp_2", "mlp_2_norm"
    ]  # fmt: skip
    assert block.conv.bias is None and block.mlp_1.bias is None
    assert block.conv.activation is not keras.activations.relu
    # A norm then ReLU: in training mode each channel has zero mean before the
    # ReLU, so a good part of the outputs (about half) is zero.
    y = keras.ops.convert_to_numpy(block(random_input((8, 6, 6, 3)), training=True))
    assert 0.2 < (y == 0).mean() < 0.8


@pytest.mark.parametrize(("channels", "groups"), [(192, 32), (48, 24), (10, 10)])
def test_group_norm_uses_group_count(channels, groups):
    block = NiNBlock(channels, 1, mlp_depth=1, normalization="group")
    block.build((None, 4, 4, 2))
    assert block.conv_norm.groups == groups


def test_dropout_applies_to_the_output_in_training_only():
    x = random_input((4, 6, 6, 3))
    block = NiNBlock(8, 3, dropout=0.5)
    inference = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_array_equal(
        inference, keras.ops.convert_to_numpy(block(x, training=False))
    )
    training = keras.ops.convert_to_numpy(block(x, training=True))
    kept = training != 0
    np.testing.assert_allclose(training[kept], 2 * inference[kept], rtol=1e-5)
    assert (inference[~kept] != 0).any()  # some nonzero outputs were dropped
    assert block.layers[-1].name == "dropout"


def test_summary_shows_the_sublayers():
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, NiNBlock(4, 3, normalization="batch")(inputs))
    text = summary_text(model, expand_nested=True)
    for row in ["nin_block (NiNBlock)", "conv (Conv2D)", "mlp_1 (Pointwise)"]:
        assert row in text, text
    assert "conv_norm" in text and "BatchNormalization" in text


def test_config_keeps_the_arguments_as_given():
    block = NiNBlock(
        16,
        (3, 5),
        mlp_filters=(8, 4),
        strides=2,
        padding="VALID",
        activation="gelu",
        normalization="Group",
        dropout=0.25,
        kernel_regularizer="l2",
        data_format="channels_first",
    )
    config = block.get_config()
    assert config["filters"] == 16
    assert config["kernel_size"] == (3, 5)
    assert list(config["mlp_filters"]) == [8, 4]
    assert config["mlp_depth"] == 2
    assert config["strides"] == 2
    assert config["padding"] == "valid"
    assert config["activation"] == "gelu"
    assert config["normalization"] == "group"
    assert config["dropout"] == 0.25
    assert config["kernel_regularizer"]["class_name"] == "L2"
    assert config["bias_regularizer"] is None
    assert config["data_format"] == "channels_first"


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "mlp_filters": (5, 3),
            "kernel_regularizer": "l2",
            "bias_constraint": "non_neg",
        },
        {"mlp_depth": 1, "normalization": "batch", "activation": "gelu"},
        {"strides": 2, "normalization": "group", "data_format": "channels_first"},
        {"mlp_filters": [4], "normalization": "layer", "dropout": 0.3},
    ],
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(NiNBlock(6, 3, **kwargs), random_input((2, 6, 5, 5)))


@pytest.mark.parametrize("normalization", [None, "batch"])
def test_keras_file_round_trip(tmp_path, normalization):
    check_model_saving(
        lambda: NiNBlock(6, 3, mlp_filters=(5, 4), normalization=normalization),
        random_input((2, 6, 6, 3)),
        tmp_path,
    )


def test_weights_reach_every_convolution():
    """Initializers and regularizers given to the block reach each conv."""
    block = NiNBlock(
        4,
        3,
        mlp_depth=2,
        kernel_initializer="ones",
        bias_initializer="ones",
        kernel_regularizer=keras.regularizers.L2(0.1),
    )
    block.build((None, 5, 5, 2))
    for weight in block.weights:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), 1.0)
    assert len(block.losses) == 3  # one kernel penalty per convolution


def test_training_lowers_the_loss():
    check_training(
        lambda: NiNBlock(4, 3, mlp_filters=(4, 2), normalization="batch"),
        random_input((32, 5, 5, 2)),
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policy(policy):
    check_mixed_precision(
        lambda: NiNBlock(4, 3, normalization="batch"),
        random_input((2, 5, 5, 3)),
        policy,
    )


# Each case: constructor kwargs, the input shape to build on (None: the error
# comes from the constructor), the exception, and what its message must name.
BAD_ARGUMENTS = [
    ({"filters": 0}, None, ValueError, ["`filters`", "filters=0"]),
    ({"filters": 2.0}, None, TypeError, ["`filters`", "filters=2.0"]),
    ({"kernel_size": 0}, None, ValueError, ["`kernel_size`", "kernel_size=0"]),
    ({"kernel_size": (3, -1)}, None, ValueError, ["`kernel_size`", "(3, -1)"]),
    ({"kernel_size": ()}, None, ValueError, ["`kernel_size`", "()"]),
    ({"kernel_size": "3"}, None, TypeError, ["`kernel_size`", "'3'"]),
    ({"kernel_size": (3, 1.5)}, None, TypeError, ["`kernel_size`", "1.5"]),
    ({"mlp_filters": ()}, None, ValueError, ["`mlp_filters`", "non-empty", "()"]),
    ({"mlp_filters": []}, None, ValueError, ["`mlp_filters`", "[]"]),
    ({"mlp_filters": (8, 0)}, None, ValueError, ["`mlp_filters`", "(8, 0)"]),
    ({"mlp_filters": (8, -2)}, None, ValueError, ["`mlp_filters`", "positive"]),
    ({"mlp_filters": 8}, None, TypeError, ["`mlp_filters`", "sequence"]),
    ({"mlp_filters": "96"}, None, TypeError, ["`mlp_filters`", "'96'"]),
    ({"mlp_filters": (8, 2.5)}, None, TypeError, ["`mlp_filters`", "2.5"]),
    ({"mlp_filters": (8, True)}, None, TypeError, ["`mlp_filters`", "True"]),
    ({"mlp_depth": 0}, None, ValueError, ["`mlp_depth`", "mlp_depth=0"]),
    ({"strides": 0}, None, ValueError, ["`strides`", "strides=0"]),
    ({"padding": "causal"}, None, ValueError, ["`padding`", "'causal'"]),
    ({"normalization": "instance"}, None, ValueError, ["`normalization`", "'batch'"]),
    ({"normalization": True}, None, TypeError, ["`normalization`", "True"]),
    ({"dropout": 1.0}, None, ValueError, ["`dropout`", "[0, 1)", "dropout=1.0"]),
    ({"dropout": -0.1}, None, ValueError, ["`dropout`", "dropout=-0.1"]),
    ({"dropout": "0.5"}, None, TypeError, ["`dropout`"]),
    ({"data_format": "NCHW"}, None, ValueError, ["`data_format`", "'NCHW'"]),
    ({"activation": "nope"}, None, ValueError, ["nope"]),
    ({"kernel_initializer": "nope"}, None, ValueError, ["nope"]),
    ({"kernel_size": (3, 3)}, (None, 8, 4), ValueError, ["`kernel_size`", "1 ints"]),
    ({"strides": (1, 2, 2)}, (None, 8, 8, 4), ValueError, ["`strides`", "2 ints"]),
    ({}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    ({}, (None, 8), ValueError, ["rank", "received rank 2"]),
    ({"padding": "valid"}, (None, 2, 8, 4), ValueError, ["padding='valid'"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    kwargs = {"filters": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(error) as info:
        layer = NiNBlock(**kwargs)
        if shape is not None:
            layer.compute_output_shape(shape)
            layer.build(shape)
    message = str(info.value)
    for name in names:
        assert name in message, (name, message)
