"""InvertedResidual: numerics against plain Keras layers, MobileNetV2, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from assemblies import MOBILENET_V2_TRAINABLE_PARAMS, mobilenet_v2
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

from keras_nin.layers import InvertedResidual
from keras_nin.theory import cost


def reference(block, x):
    """expand → depthwise → linear project (+ x when the shapes match),
    from plain channels_last Conv2D, DepthwiseConv2D and BatchNormalization.
    """
    relu6 = keras.activations.get(block.get_config()["activation"])
    y = x
    if block.expand is not None:
        y = relu6(reference_norm(block.expand_norm, reference_conv(block.expand, y)))
    y = reference_conv(block.depthwise, y, strides=block.strides)
    y = relu6(reference_norm(block.depthwise_norm, y))
    y = reference_norm(block.project_norm, reference_conv(block.project, y))
    return keras.layers.Add()([x, y]) if y.shape == x.shape else y


@pytest.mark.parametrize(
    ("data_format", "filters", "channels", "kwargs"),
    [
        ("channels_last", 4, 4, {}),  # residual
        ("channels_first", 4, 4, {}),
        ("channels_last", 6, 4, {"strides": 2}),  # 7 → 4: no residual
        ("channels_first", 6, 4, {"strides": (2, 1), "kernel_size": 5}),
        ("channels_last", 6, 4, {"strides": (1, 2)}),  # unequal strides
        ("channels_last", 4, 4, {"expansion": 1}),  # no expand layer
        ("channels_last", 5, 4, {"normalization": "group", "expansion": 2.5}),
        # Without norms every convolution has a bias. The depthwise output,
        # channels_first, has 6 channels and 6 positions on its last axis:
        # Keras's TensorFlow DepthwiseConv2D would add the bias on that axis.
        ("channels_first", 3, 3, {"normalization": None, "expansion": 2}),
    ],
)
def test_numerics_match_plain_keras_layers(data_format, filters, channels, kwargs):
    spatial = (7, 6)
    shape = (2, *spatial, channels)
    if data_format == "channels_first":
        shape = (2, channels, *spatial)
    block = InvertedResidual(filters, data_format=data_format, **kwargs)
    y = check_numerics(block, random_input(shape), reference)
    assert (y < 0).any()  # the linear bottleneck: no ReLU6 at the end
    assert block.residual == (filters == channels and "strides" not in kwargs)


def test_residual_adds_the_input():
    """Zero projection weights: the block is the identity when residual."""
    x = random_input((2, 5, 5, 8))
    block = InvertedResidual(8, normalization=None)
    block.build(x.shape)
    block.project.kernel.assign(np.zeros((48, 8), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(x)), x, atol=1e-6)


@pytest.mark.parametrize(
    ("channels", "expansion", "inner", "names"),
    [
        (24, 6, 144, ["expand", "depthwise", "project"]),
        (32, 1, 32, ["depthwise", "project"]),  # MobileNetV2's first block
        (10, 2.25, 23, ["expand", "depthwise", "project"]),  # 22.5 rounds up
        (8, 0.5, 4, ["expand", "depthwise", "project"]),
    ],
)
def test_inner_width_and_sublayers(channels, expansion, inner, names):
    block = InvertedResidual(16, expansion=expansion, normalization=None)
    block.build((None, 6, 6, channels))
    assert block.inner_filters == inner
    assert [layer.name for layer in block.layers] == names
    assert tuple(block.depthwise.kernel.shape) == (3, 3, inner, 1)
    assert all(layer.bias is not None for layer in block.layers)
    normed = InvertedResidual(16, expansion=expansion)
    normed.build((None, 6, 6, channels))
    assert len(normed.layers) == 2 * len(names)
    assert normed.depthwise.bias is None and normed.project.bias is None


def test_mobilenet_v2_has_torchvisions_parameter_count():
    """torchvision.models.mobilenet_v2() has 3,504,872 parameters (buffers
    apart); its multiply–accumulates, 300,774,272, are the paper's "300M".
    """
    model = mobilenet_v2()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == MOBILENET_V2_TRAINABLE_PARAMS == 3_504_872
    blocks = [layer for layer in model.layers if isinstance(layer, InvertedResidual)]
    assert len(blocks) == 17
    assert sum(block.residual for block in blocks) == 10
    assert blocks[0].expand is None
    assert model.get_layer("stage7_0").output.shape == (None, 7, 7, 320)
    assert model.output_shape == (None, 1000)
    assert cost(model).multiplies == 300_774_272


def test_depthwise_costs_far_less_than_a_full_convolution():
    block = InvertedResidual(24, expansion=6)
    report = {row.name: row for row in cost(block, input_shape=(56, 56, 24)).rows}
    depthwise = report["depthwise"].multiplies
    assert depthwise == 56 * 56 * 9 * 144
    full = keras.layers.Conv2D(144, 3, padding="same")
    assert cost(full, input_shape=(56, 56, 144)).multiplies == 144 * depthwise


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape"),
    [
        ({}, (2, 6, 5, 8), (2, 6, 5, 8)),
        ({"strides": 2}, (2, 7, 6, 4), (2, 4, 3, 8)),
        ({"strides": 2, "data_format": "channels_first"}, (2, 4, 7, 6), (2, 8, 4, 3)),
        ({"strides": 2}, (2, 9, 4), (2, 5, 8)),  # rank 3: DepthwiseConv1D
        # Rank 5: a Conv3D with one group per channel.
        ({"data_format": "channels_first"}, (2, 3, 3, 4, 5), (2, 8, 3, 4, 5)),
    ],
)
def test_output_shapes(kwargs, input_shape, output_shape):
    y = check_output_shapes(
        lambda: InvertedResidual(8, expansion=2, **kwargs), random_input(input_shape)
    )
    assert y.shape == output_shape


def test_config_keeps_the_arguments_as_given():
    config = InvertedResidual(
        32,
        expansion=4,
        strides=(2, 1),
        kernel_size=5,
        normalization="Group",
        activation="hard_silu",
        kernel_initializer="he_normal",
        data_format="channels_first",
    ).get_config()
    assert config["filters"] == 32
    assert config["expansion"] == 4
    assert config["strides"] == (2, 1)
    assert config["kernel_size"] == 5
    assert config["normalization"] == "group"
    assert config["activation"] == "hard_silu"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["data_format"] == "channels_first"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expansion": 2},
        {"strides": 2, "expansion": 1, "kernel_regularizer": "l2"},
        {"expansion": 2, "normalization": None, "data_format": "channels_first"},
    ],
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(InvertedResidual(8, **kwargs), random_input((2, 6, 5, 8)))


def test_keras_file_round_trip(tmp_path):
    check_model_saving(
        lambda: InvertedResidual(8, expansion=2), random_input((2, 6, 5, 8)), tmp_path
    )


def test_training_lowers_the_loss():
    check_training(
        lambda: InvertedResidual(4, expansion=2, strides=2),
        random_input((32, 4, 4, 3)),
    )


def test_mixed_precision_policy():
    check_mixed_precision(
        lambda: InvertedResidual(4, expansion=2),
        random_input((2, 4, 4, 4)),
        "mixed_float16",
    )


BAD_ARGUMENTS = [
    ({"filters": 0}, None, ValueError, ["`filters`", "filters=0"]),
    ({"expansion": 0}, None, ValueError, ["`expansion`", "expansion=0"]),
    ({"expansion": "6"}, None, TypeError, ["`expansion`", "expansion='6'"]),
    ({"strides": (2, 0)}, None, ValueError, ["`strides`", "(2, 0)"]),
    ({"kernel_size": 0}, None, ValueError, ["`kernel_size`", "kernel_size=0"]),
    ({"normalization": "instance"}, None, ValueError, ["`normalization`"]),
    ({"activation": "no_such_activation"}, None, ValueError, ["no_such_activation"]),
    ({"data_format": "NHWC"}, None, ValueError, ["`data_format`"]),
    ({"strides": (1, 2, 2)}, (None, 8, 8, 16), ValueError, ["`strides`", "2 ints"]),
    ({}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    ({}, (None, 2, 2, 2, 2, 8), ValueError, ["received rank 6"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    kwargs = {"filters": 16, **kwargs}
    check_bad_arguments(InvertedResidual, kwargs, shape, error, names)
