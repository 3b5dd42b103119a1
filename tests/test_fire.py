"""FireModule: numerics against plain Keras layers, SqueezeNet 1.1, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from assemblies import SQUEEZENET_1_1_PARAMS, squeezenet1_1
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

from keras_nin.layers import FireModule
from keras_nin.theory import cost


def reference(block, x):
    """squeeze → (1×1 expand ‖ 3×3 expand), from plain channels_last layers."""
    relu = keras.activations.relu
    s = relu(reference_norm(block.squeeze_norm, reference_conv(block.squeeze, x)))
    e1 = relu(reference_norm(block.expand1x1_norm, reference_conv(block.expand1x1, s)))
    e3 = relu(reference_norm(block.expand3x3_norm, reference_conv(block.expand3x3, s)))
    return keras.layers.Concatenate(axis=-1)([e1, e3])


@pytest.mark.parametrize(
    ("data_format", "normalization"),
    [
        ("channels_last", None),
        # 6 positions on the last axis and 6 channels out of the 3×3 expand:
        # the sizes that fool Keras's TensorFlow channels_first bias guess.
        ("channels_first", None),
        ("channels_last", "batch"),
        ("channels_first", "group"),
    ],
)
def test_numerics_match_plain_keras_layers(data_format, normalization):
    shape = (2, 5, 6, 5) if data_format == "channels_last" else (2, 5, 5, 6)
    block = FireModule(3, 4, 6, normalization=normalization, data_format=data_format)
    y = check_numerics(block, random_input(shape), reference)
    assert (y > 0).any() and (y == 0).any()


def test_numerics_match_numpy_with_1x1_kernels_in_the_3x3_centre():
    """A 3×3 kernel that is zero but for its centre is a 1×1 layer: NumPy."""
    x = random_input((2, 4, 4, 5))
    block = FireModule(3, 2, 4)
    block.build(x.shape)
    kernel = np.zeros((3, 3, 3, 4), "float32")
    kernel[1, 1] = np.random.default_rng(1).standard_normal((3, 4))
    block.expand3x3.kernel.assign(kernel)
    s = np.maximum(x @ block.squeeze.get_weights()[0], 0)
    expected = np.concatenate(
        [
            np.maximum(s @ block.expand1x1.get_weights()[0], 0),
            np.maximum(s @ kernel[1, 1], 0),
        ],
        axis=-1,
    )
    y = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape"),
    [
        ({}, (2, 6, 5, 8), (2, 6, 5, 20)),
        ({"data_format": "channels_first"}, (2, 8, 6, 5), (2, 20, 6, 5)),
        ({}, (2, 9, 8), (2, 9, 20)),  # rank 3: Conv1D
        ({"normalization": "layer"}, (2, 3, 4, 5, 8), (2, 3, 4, 5, 20)),  # Conv3D
    ],
)
def test_output_shapes(kwargs, input_shape, output_shape):
    y = check_output_shapes(
        lambda: FireModule(4, 8, 12, **kwargs), random_input(input_shape)
    )
    assert y.shape == output_shape


def test_sublayers_and_biases():
    plain = FireModule(16, 64, 64)
    plain.build((None, 8, 8, 96))
    assert [layer.name for layer in plain.layers] == [
        "squeeze", "expand1x1", "expand3x3"
    ]  # fmt: skip
    assert all(layer.bias is not None for layer in plain.layers)
    assert tuple(plain.expand3x3.kernel.shape) == (3, 3, 16, 64)
    normed = FireModule(16, 64, 64, normalization="batch")
    normed.build((None, 8, 8, 96))
    assert len(normed.layers) == 6
    assert normed.squeeze.bias is None and normed.expand3x3.bias is None


def test_squeezenet_1_1_has_torchvisions_parameter_count():
    """torchvision.models.squeezenet1_1() has 1,235,496 parameters; its
    multiply–accumulates, 349,151,936, are the "0.35 GFLOPS" it publishes.
    """
    model = squeezenet1_1()
    assert model.count_params() == SQUEEZENET_1_1_PARAMS == 1_235_496
    assert model.get_layer("fire2").output.shape == (None, 55, 55, 128)
    assert model.get_layer("fire9").output.shape == (None, 13, 13, 512)
    assert model.output_shape == (None, 1000)
    assert cost(model).multiplies == 349_151_936


def test_fire_costs_less_than_a_3x3_convolution_of_the_same_width():
    fire = FireModule(16, 64, 64)
    plain = keras.layers.Conv2D(128, 3, padding="same")
    fire_cost = cost(fire, input_shape=(55, 55, 128))
    plain_cost = cost(plain, input_shape=(55, 55, 128))
    assert fire_cost.params == 128 * 16 + 16 + 16 * 64 + 64 + 9 * 16 * 64 + 64
    assert plain_cost.params == 9 * 128 * 128 + 128
    # 9·128·128 = 147,456 against 128·16 + 16·64 + 9·16·64 = 12,288 per position.
    assert plain_cost.compare(fire_cost) == 12.0


def test_config_keeps_the_arguments_as_given():
    config = FireModule(
        16,
        64,
        32,
        normalization="Batch",
        activation="gelu",
        kernel_initializer="he_normal",
        data_format="channels_first",
    ).get_config()
    assert (config["squeeze"], config["expand1x1"], config["expand3x3"]) == (16, 64, 32)
    assert config["normalization"] == "batch"
    assert config["activation"] == "gelu"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["data_format"] == "channels_first"


@pytest.mark.parametrize(
    "kwargs", [{}, {"normalization": "batch", "data_format": "channels_first"}]
)
def test_config_round_trip_reproduces_outputs(kwargs):
    check_config_round_trip(FireModule(3, 4, 6, **kwargs), random_input((2, 6, 5, 6)))


def test_keras_file_round_trip(tmp_path):
    check_model_saving(
        lambda: FireModule(3, 4, 6, normalization="batch"),
        random_input((2, 6, 5, 6)),
        tmp_path,
    )


def test_training_lowers_the_loss():
    check_training(lambda: FireModule(3, 4, 4), random_input((32, 4, 4, 3)))


def test_mixed_precision_policy():
    check_mixed_precision(
        lambda: FireModule(3, 4, 4), random_input((2, 4, 4, 4)), "mixed_bfloat16"
    )


BAD_ARGUMENTS = [
    ({"squeeze": 0}, None, ValueError, ["`squeeze`", "squeeze=0"]),
    ({"expand1x1": -1}, None, ValueError, ["`expand1x1`", "expand1x1=-1"]),
    ({"expand3x3": 2.5}, None, TypeError, ["`expand3x3`", "expand3x3=2.5"]),
    ({"normalization": "instance"}, None, ValueError, ["`normalization`"]),
    ({"data_format": "NCHW"}, None, ValueError, ["`data_format`"]),
    ({}, (None, 8, 8, None), ValueError, ["channel", "None"]),
    ({}, (None, 8), ValueError, ["received rank 2"]),
]


@pytest.mark.parametrize(("kwargs", "shape", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, shape, error, names):
    kwargs = {"squeeze": 2, "expand1x1": 4, "expand3x3": 4, **kwargs}
    check_bad_arguments(FireModule, kwargs, shape, error, names)
