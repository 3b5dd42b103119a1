"""Bottleneck: numerics against plain Keras layers, shortcuts, ResNet-50, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from assemblies import RESNET50_TRAINABLE_PARAMS, resnet50
from layer_checks import (
    check_config_round_trip,
    check_mixed_precision,
    check_model_saving,
    check_output_shapes,
    check_training,
    random_input,
    randomize_weights,
    to_channels_first,
    to_channels_last,
)

from keras_nin.layers import Bottleneck, Pointwise


def plain_conv(ours, y, **kwargs):
    """A channels_last `keras.layers.Conv2D` holding `ours`'s weights, applied."""
    weights = ours.get_weights()
    if isinstance(ours, Pointwise):
        weights[0] = weights[0].reshape((1, 1, *weights[0].shape))
    conv = keras.layers.Conv2D(
        weights[0].shape[-1],
        weights[0].shape[:2],
        padding="same",
        use_bias=len(weights) == 2,
        **kwargs,
    )
    conv.build(y.shape)
    conv.set_weights(weights)
    return conv(y)


def plain_norm(ours, y):
    if ours is None:
        return y
    norm = keras.layers.BatchNormalization(axis=-1)
    norm.build(y.shape)
    norm.set_weights(ours.get_weights())
    return norm(y, training=False)


def reference_output(block, x):
    """The block recomputed from plain channels_last Keras layers, same weights.

    The projection is a real strided 1×1 `Conv2D`, not a subsampling: an
    independent check of how the block implements it.
    """
    channels_first = block.data_format == "channels_first"
    x = to_channels_last(x) if channels_first else x
    relu = keras.activations.relu
    y = relu(plain_norm(block.reduce_norm, plain_conv(block.reduce, x)))
    y = plain_conv(block.conv, y, strides=block.strides, groups=block.groups)
    y = relu(plain_norm(block.conv_norm, y))
    y = plain_norm(block.expand_norm, plain_conv(block.expand, y))
    if block.projection is None:
        shortcut = x
    else:
        shortcut = plain_conv(block.projection, x, strides=block.strides)
        shortcut = plain_norm(block.projection_norm, shortcut)
    y = keras.ops.convert_to_numpy(relu(keras.ops.add(y, shortcut)))
    return to_channels_first(y) if channels_first else y


@pytest.mark.parametrize(
    ("data_format", "filters", "channels", "kwargs"),
    [
        ("channels_last", 8, 8, {}),  # identity shortcut
        ("channels_first", 8, 8, {}),
        ("channels_last", 8, 8, {"shortcut": "projection"}),
        ("channels_first", 8, 4, {}),  # channel change: projection
        ("channels_last", 8, 8, {"strides": 2}),  # stride: projection
        ("channels_first", 12, 4, {"strides": 2, "kernel_size": 5, "groups": 3}),
        ("channels_last", 8, 8, {"normalization": None}),  # convs with a bias
        ("channels_first", 8, 3, {"normalization": None, "strides": (2, 1)}),
    ],
)
def test_numerics_match_plain_keras_layers(data_format, filters, channels, kwargs):
    # 7×7: odd sizes, so "same" padding with a stride is not symmetric.
    shape = (
        (2, 7, 7, channels) if data_format == "channels_last" else (2, channels, 7, 7)
    )
    x = random_input(shape)
    block = Bottleneck(filters, data_format=data_format, **kwargs)
    block.build(x.shape)
    randomize_weights(block)
    y = keras.ops.convert_to_numpy(block(x, training=False))
    np.testing.assert_allclose(y, reference_output(block, x), rtol=1e-4, atol=1e-4)
    assert (y > 0).any() and (y == 0).any()


def test_channels_first_when_last_spatial_size_equals_a_channel_count():
    """Sizes that fool Keras's TensorFlow bias-layout guess, without norms:
    the middle convolution outputs 4 channels over 3×4 positions.
    """
    x = random_input((2, 4, 3, 4))
    block = Bottleneck(
        4, bottleneck_ratio=1.0, normalization=None, data_format="channels_first"
    )
    block.build(x.shape)
    randomize_weights(block)
    y = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_allclose(y, reference_output(block, x), rtol=1e-4, atol=1e-4)


def numpy_identity_block(x, block):
    """A NumPy oracle for a norm-free identity block with 1×1 middle kernel."""
    w1, b1 = block.reduce.get_weights()
    w2, b2 = block.conv.get_weights()
    w3, b3 = block.expand.get_weights()
    h = np.maximum(x @ w1 + b1, 0)
    h = np.maximum(h @ w2[0, 0] + b2, 0)
    return np.maximum(h @ w3 + b3 + x, 0)


def test_numerics_match_numpy():
    x = random_input((2, 5, 5, 8))
    block = Bottleneck(8, kernel_size=1, normalization=None)
    block.build(x.shape)
    randomize_weights(block)
    y = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_allclose(y, numpy_identity_block(x, block), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("filters", "channels", "kwargs", "projects"),
    [
        (16, 16, {}, False),  # shape-preserving: identity
        (16, 8, {}, True),  # channel-changing: projection
        (16, 16, {"strides": 2}, True),
        (16, 16, {"strides": (1, 2)}, True),
        (16, 16, {"shortcut": "projection"}, True),
        (16, 16, {"shortcut": "identity"}, False),
    ],
)
def test_auto_shortcut_projects_exactly_when_shapes_change(
    filters, channels, kwargs, projects
):
    block = Bottleneck(filters, **kwargs)
    block.build((None, 8, 8, channels))
    assert (block.projection is not None) == projects
    names = [layer.name for layer in block.layers]
    assert ("projection" in names) == projects
    if projects:
        assert tuple(block.projection.kernel.shape) == (channels, filters)


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape"),
    [
        ({}, (2, 6, 6, 16), (2, 6, 6, 16)),
        ({}, (2, 6, 6, 3), (2, 6, 6, 16)),
        ({"strides": 2}, (2, 7, 6, 16), (2, 4, 3, 16)),
        ({"strides": (2, 1)}, (2, 7, 6, 16), (2, 4, 6, 16)),
        ({"strides": 3, "kernel_size": (3, 1)}, (2, 7, 6, 5), (2, 3, 2, 16)),
        ({"data_format": "channels_first", "strides": 2}, (2, 5, 7, 6), (2, 16, 4, 3)),
        ({"strides": 2}, (2, 9, 4), (2, 5, 16)),  # rank 3: Conv1D
        ({"strides": 2}, (2, 3, 4, 5, 8), (2, 2, 2, 3, 16)),  # rank 5: Conv3D
    ],
)
def test_output_shapes(kwargs, input_shape, output_shape):
    y = check_output_shapes(lambda: Bottleneck(16, **kwargs), random_input(input_shape))
    assert y.shape == output_shape


@pytest.mark.parametrize(
    ("filters", "ratio", "inner"),
    [(256, 0.25, 64), (2048, 0.25, 512), (10, 0.25, 3), (6, 0.25, 2), (8, 2.0, 16)],
)
def test_inner_width_rounds_halves_up(filters, ratio, inner):
    """`round(filters * ratio)`, halves up (2.5 → 3), as `Pointwise` rounds."""
    block = Bottleneck(filters, bottleneck_ratio=ratio)
    block.build((None, 4, 4, filters))
    assert block.inner_filters == inner
    assert tuple(block.reduce.kernel.shape) == (filters, inner)
    assert tuple(block.expand.kernel.shape) == (inner, filters)


def test_convolutions_carry_a_bias_only_without_normalization():
    normed = Bottleneck(8, groups=2, bottleneck_ratio=0.5)
    normed.build((None, 4, 4, 3))
    convs = [normed.reduce, normed.conv, normed.expand, normed.projection]
    assert all(conv.bias is None for conv in convs)
    assert tuple(normed.conv.kernel.shape) == (3, 3, 2, 4)  # 4 inner, 2 groups
    plain = Bottleneck(8, normalization=None)
    plain.build((None, 4, 4, 3))
    assert [layer.name for layer in plain.layers] == [
        "reduce", "conv", "expand", "projection"
    ]  # fmt: skip
    assert all(layer.bias is not None for layer in plain.layers)


@pytest.mark.parametrize("normalization", ["layer", "group"])
def test_other_normalizations(normalization):
    block = Bottleneck(64, normalization=normalization, strides=2)
    y = block(random_input((2, 4, 4, 32)))
    assert y.shape == (2, 2, 2, 64)
    norm_type = {
        "layer": keras.layers.LayerNormalization,
        "group": keras.layers.GroupNormalization,
    }[normalization]
    norms = [layer for layer in block.layers if "norm" in layer.name]
    assert len(norms) == 4 and all(isinstance(n, norm_type) for n in norms)
    if normalization == "group":
        assert [n.groups for n in norms] == [16, 16, 32, 32]  # 16 inner channels


def test_resnet50_has_torchvisions_parameter_count():
    """torchvision.models.resnet50() has 25,557,032 parameters (buffers apart)."""
    model = resnet50()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == RESNET50_TRAINABLE_PARAMS == 25_557_032
    blocks = [layer for layer in model.layers if isinstance(layer, Bottleneck)]
    assert len(blocks) == 16
    assert [b.projection is not None for b in blocks].count(True) == 4
    assert model.output_shape == (None, 1000)
    assert model.get_layer("stage4_2").output.shape == (None, 7, 7, 2048)


def test_config_keeps_the_arguments_as_given():
    block = Bottleneck(
        32,
        strides=(2, 1),
        bottleneck_ratio=0.5,
        kernel_size=5,
        groups=4,
        normalization="Layer",
        activation="gelu",
        shortcut="Projection",
        kernel_initializer="he_normal",
        data_format="channels_first",
    )
    config = block.get_config()
    assert config["filters"] == 32
    assert config["strides"] == (2, 1)
    assert config["bottleneck_ratio"] == 0.5
    assert config["kernel_size"] == 5
    assert config["groups"] == 4
    assert config["normalization"] == "layer"
    assert config["activation"] == "gelu"
    assert config["shortcut"] == "projection"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["data_format"] == "channels_first"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"strides": 2, "kernel_regularizer": "l2"},
        {"normalization": None, "shortcut": "projection", "activation": "gelu"},
        {"normalization": "group", "data_format": "channels_first"},
    ],
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(Bottleneck(8, **kwargs), random_input((2, 8, 5, 8)))


@pytest.mark.parametrize("strides", [1, 2])
def test_keras_file_round_trip(tmp_path, strides):
    check_model_saving(
        lambda: Bottleneck(8, strides=strides), random_input((2, 6, 6, 8)), tmp_path
    )


def test_training_lowers_the_loss():
    check_training(lambda: Bottleneck(8, strides=2), random_input((32, 4, 4, 3)))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policy(policy):
    check_mixed_precision(
        lambda: Bottleneck(8, strides=2), random_input((2, 4, 4, 4)), policy
    )


# Each case: constructor kwargs, the input shape to build on (None: the error
# comes from the constructor), the exception, and what its message must name.
BAD_ARGUMENTS = [
    ({"filters": 0}, None, ValueError, ["`filters`", "filters=0"]),
    ({"filters": "8"}, None, TypeError, ["`filters`", "filters='8'"]),
    ({"bottleneck_ratio": 0}, None, ValueError, ["`bottleneck_ratio`", "=0"]),
    ({"bottleneck_ratio": -0.25}, None, ValueError, ["`bottleneck_ratio`", "-0.25"]),
    ({"bottleneck_ratio": float("inf")}, None, ValueError, ["`bottleneck_ratio`"]),
    ({"bottleneck_ratio": "1/4"}, None, TypeError, ["`bottleneck_ratio`", "'1/4'"]),
    ({"strides": 0}, None, ValueError, ["`strides`", "strides=0"]),
    ({"strides": (2, 0)}, None, ValueError, ["`strides`", "(2, 0)"]),
    ({"kernel_size": -3}, None, ValueError, ["`kernel_size`", "kernel_size=-3"]),
    ({"groups": 0}, None, ValueError, ["`groups`", "groups=0"]),
    ({"groups": 3}, None, ValueError, ["`groups`", "groups=3", "= 8"]),
    ({"shortcut": "none"}, None, ValueError, ["`shortcut`", "'none'", "'auto'"]),
    ({"shortcut": None}, None, TypeError, ["`shortcut`", "shortcut=None"]),
    ({"normalization": "instance"}, None, ValueError, ["`normalization`"]),
    ({"data_format": "NHWC"}, None, ValueError, ["`data_format`"]),
    (
        {"shortcut": "identity"},
        (None, 8, 8, 16),
        ValueError,
        ["shortcut='identity'", "filters=32", "16 channels"],
    ),
    (
        {"shortcut": "identity", "strides": 2},
        (None, 8, 8, 32),
        ValueError,
        ["shortcut='identity'", "strides=2"],
    ),
    ({"strides": (1, 2, 2)}, (None, 8, 8, 32), ValueError, ["`strides`", "2 ints"]),
    ({}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    ({}, (None, 2, 2, 2, 2, 8), ValueError, ["received rank 6"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    kwargs = {"filters": 32, **kwargs}
    with pytest.raises(error) as info:
        layer = Bottleneck(**kwargs)
        if shape is not None:
            layer.build(shape)
    message = str(info.value)
    for name in names:
        assert name in message, (name, message)


def test_compute_output_shape_validates_like_build():
    with pytest.raises(ValueError) as from_build:
        Bottleneck(32, shortcut="identity").build((None, 8, 8, 16))
    with pytest.raises(ValueError) as from_shape:
        Bottleneck(32, shortcut="identity").compute_output_shape((None, 8, 8, 16))
    assert str(from_shape.value) == str(from_build.value)
