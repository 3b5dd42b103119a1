"""to_fully_convolutional: equal outputs, and each map position equals the
original model applied to its crop of a larger input."""

from __future__ import annotations

import itertools
import re

import keras
import numpy as np
import pytest

from keras_nin import layers, models
from keras_nin.transforms import to_fully_convolutional

RNG = np.random.default_rng(1)


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def assert_close(actual, expected, rtol=1e-5):
    error = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    assert error <= rtol, f"max relative error {error:.2e} > {rtol:.0e}"


def crops_oracle(model, big, size, stride, data_format):
    """The original model on every window of `big`: (batch, *positions, classes)."""
    spatial = big.shape[1:-1] if data_format == "channels_last" else big.shape[2:]
    counts = [(n - k) // stride + 1 for n, k in zip(spatial, size, strict=True)]
    crops = []
    for corner in itertools.product(*(range(c) for c in counts)):
        window = tuple(
            slice(stride * i, stride * i + k) for i, k in zip(corner, size, strict=True)
        )
        if data_format == "channels_last":
            crops.append(big[(slice(None), *window, slice(None))])
        else:
            crops.append(big[(slice(None), slice(None), *window)])
    outputs = predict(model, np.concatenate(crops))  # crop-major
    outputs = outputs.reshape(len(crops), big.shape[0], -1)
    return np.moveaxis(outputs, 0, 1).reshape(big.shape[0], *counts, -1)


def channels_last_map(scores, data_format):
    return scores if data_format == "channels_last" else np.moveaxis(scores, 1, -1)


def flatten_classifier(data_format, flatten_format):
    """A "valid" body of total stride 2, then Flatten and two Dense layers.

    The softmax is a layer of its own, or the last Dense layer's activation
    when the flattening is channels_first.
    """
    if flatten_format == "channels_first":
        softmax_head = [keras.layers.Dense(5, activation="softmax")]
    else:
        softmax_head = [keras.layers.Dense(5), keras.layers.Softmax()]
    shape = (10, 9, 2) if data_format == "channels_last" else (2, 10, 9)
    return keras.Sequential(
        [
            keras.Input(shape),
            layers.NiNBlock(
                4, 3, mlp_filters=(3,), padding="valid", data_format=data_format
            ),
            keras.layers.MaxPooling2D(2, data_format=data_format),
            keras.layers.Flatten(data_format=flatten_format),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(7, activation="relu"),
            *softmax_head,
        ]
    )


@pytest.mark.parametrize(
    ("data_format", "flatten_format"),
    [
        ("channels_last", "channels_last"),
        ("channels_first", "channels_first"),
        ("channels_first", "channels_last"),
    ],
)
def test_flatten_head_equals_the_model_crop_by_crop(data_format, flatten_format):
    model = flatten_classifier(data_format, flatten_format)
    converted = to_fully_convolutional(model)
    kinds = [type(layer).__name__ for layer in converted.layers]
    assert "Flatten" not in kinds and "Dense" not in kinds
    assert kinds[-3:] == ["Conv2D", "Pointwise", "Softmax"]
    expected_input = (
        (None, None, None, 2)
        if data_format == "channels_last"
        else (None, 2, None, None)
    )
    assert converted.input_shape == expected_input

    x = RNG.standard_normal((2, *model.input_shape[1:])).astype("float32")
    same_size = channels_last_map(predict(converted, x), data_format)
    assert same_size.shape == (2, 1, 1, 5)
    assert_close(same_size[:, 0, 0], predict(model, x))

    big_spatial = (14, 15)
    big_shape = (
        (2, *big_spatial, 2) if data_format == "channels_last" else (2, 2, *big_spatial)
    )
    big = RNG.standard_normal(big_shape).astype("float32")
    scores = channels_last_map(predict(converted, big), data_format)
    expected = crops_oracle(model, big, (10, 9), 2, data_format)
    assert scores.shape == expected.shape == (2, 3, 4, 5)
    assert_close(scores, expected)


@pytest.mark.parametrize(
    ("pooling", "data_format"),
    [
        ("average", "channels_last"),
        ("max", "channels_last"),
        ("average", "channels_first"),
    ],
)
def test_global_pooling_head_equals_the_model_crop_by_crop(pooling, data_format):
    pool = {
        "average": keras.layers.GlobalAveragePooling2D,
        "max": keras.layers.GlobalMaxPooling2D,
    }[pooling]
    last = data_format == "channels_last"
    inputs = keras.Input((8, 8, 3) if last else (3, 8, 8))
    # keras-nin's convolution runs channels_first on every CPU.
    x = layers.NiNBlock(
        6, 3, strides=2, padding="valid", mlp_filters=(5,), data_format=data_format
    )(inputs)
    x = pool(data_format=data_format, name="global_pool")(x)
    x = keras.layers.Dense(6, activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dense(4)(x)
    outputs = keras.layers.Activation("softmax")(x)
    model = keras.Model(inputs, outputs)
    for variable in model.weights:  # batch norm statistics away from (0, 1)
        if "moving" in variable.path:
            variable.assign(RNG.uniform(0.5, 1.5, variable.shape).astype("float32"))
    converted = to_fully_convolutional(model)
    window = converted.get_layer("global_pool")
    assert window.pool_size == (3, 3) and window.strides == (1, 1)

    x = RNG.standard_normal((2, *model.input_shape[1:])).astype("float32")
    same_size = channels_last_map(predict(converted, x), data_format)
    assert_close(same_size[:, 0, 0], predict(model, x))
    big = RNG.standard_normal((2, 12, 14, 3) if last else (2, 3, 12, 14))
    big = big.astype("float32")
    scores = channels_last_map(predict(converted, big), data_format)
    assert scores.shape == (2, 3, 4, 4)
    assert_close(scores, crops_oracle(model, big, (8, 8), 2, data_format))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_keepdims_pooling_then_1x1_convolution_head(data_format):
    # keras.applications.MobileNet's head: a global pooling keeping a 1×1 map,
    # a 1×1 convolution to the classes, a Reshape to a vector, a softmax.
    last = data_format == "channels_last"
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3) if last else (3, 8, 8)),
            keras.layers.Conv2D(
                6, 3, strides=2, activation="relu", data_format=data_format
            ),
            keras.layers.GlobalAveragePooling2D(keepdims=True, data_format=data_format),
            keras.layers.Dropout(0.5),
            keras.layers.Conv2D(5, 1, data_format=data_format, name="classes"),
            keras.layers.Reshape((5,), name="to_vector"),
            keras.layers.Activation("softmax"),
        ]
    )
    converted = to_fully_convolutional(model)
    assert "to_vector" not in [layer.name for layer in converted.layers]
    x = RNG.standard_normal((2, *model.input_shape[1:])).astype("float32")
    assert_close(
        channels_last_map(predict(converted, x), data_format)[:, 0, 0],
        predict(model, x),
    )
    big = RNG.standard_normal((2, 12, 14, 3) if last else (2, 3, 12, 14))
    scores = channels_last_map(predict(converted, big.astype("float32")), data_format)
    assert scores.shape == (2, 3, 4, 5)
    assert_close(
        scores, crops_oracle(model, big.astype("float32"), (8, 8), 2, data_format)
    )


def test_a_global_pooling_inside_the_body_stays_global():
    # Squeeze-and-excitation (EfficientNet, MobileNetV3): a pooling whose
    # output rescales the map it pooled is body, not head.
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu")(inputs)
    squeeze = keras.layers.GlobalAveragePooling2D(name="squeeze")(x)
    squeeze = keras.layers.Reshape((1, 1, 6))(squeeze)
    squeeze = keras.layers.Conv2D(6, 1, activation="sigmoid")(squeeze)
    x = keras.layers.Multiply()([x, squeeze])
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = keras.layers.Dense(4, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    converted = to_fully_convolutional(model)
    assert isinstance(
        converted.get_layer("squeeze"), keras.layers.GlobalAveragePooling2D
    )
    assert isinstance(converted.get_layer("head_pool"), keras.layers.AveragePooling2D)
    x = RNG.standard_normal((2, 8, 8, 3)).astype("float32")
    assert_close(predict(converted, x)[:, 0, 0], predict(model, x))
    big = RNG.standard_normal((1, 10, 12, 3)).astype("float32")
    assert predict(converted, big).shape == (1, 3, 5, 4)


def test_keras_applications_mobilenet():
    # Its head: GlobalAveragePooling2D(keepdims=True), Dropout, a 1×1 Conv2D
    # to the classes, Reshape((classes,)), softmax.
    model = keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=7
    )
    converted = to_fully_convolutional(model)
    x = RNG.random((2, 32, 32, 3)).astype("float32")
    assert_close(predict(converted, x)[:, 0, 0], predict(model, x))
    big = RNG.random((1, 64, 96, 3)).astype("float32")
    assert predict(converted, big).shape == (1, 2, 3, 7)


def test_keepdims_pooling_then_flatten_or_dense():
    for head in (
        [keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")],
        [keras.layers.Dense(4, activation="softmax"), keras.layers.Flatten()],
    ):
        model = keras.Sequential(
            [
                keras.Input((7, 7, 3)),
                keras.layers.Conv2D(6, 3, activation="relu"),
                keras.layers.GlobalMaxPooling2D(keepdims=True),
                *head,
            ]
        )
        converted = to_fully_convolutional(model)
        big = RNG.standard_normal((2, 9, 10, 3)).astype("float32")
        assert_close(
            predict(converted, big),
            crops_oracle(model, big, (7, 7), 1, "channels_last"),
        )


def test_a_lora_head_converts_with_its_merged_kernel_and_a_quantized_one_is_refused():
    def classifier():
        return keras.Sequential(
            [
                keras.Input((6, 6, 2)),
                keras.layers.Conv2D(3, 3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(4, name="head"),
            ]
        )

    model = classifier()
    head = model.get_layer("head")
    head.enable_lora(2)
    # LoRA's B starts at zero: make the low-rank update count.
    head.lora_kernel_b.assign(RNG.standard_normal((2, 4)).astype("float32"))
    merged = keras.ops.convert_to_numpy(head._kernel) + keras.ops.convert_to_numpy(
        head.lora_kernel_a
    ) @ keras.ops.convert_to_numpy(head.lora_kernel_b) * (head.lora_alpha / 2)
    converted = to_fully_convolutional(model)
    kernel = keras.ops.convert_to_numpy(converted.get_layer("head").kernel)
    np.testing.assert_allclose(kernel.reshape(-1, 4), merged, rtol=1e-5, atol=1e-6)
    x = RNG.standard_normal((2, 6, 6, 2)).astype("float32")
    assert_close(predict(converted, x)[:, 0, 0], predict(model, x))

    model = classifier()
    model.get_layer("head").quantize("int8")
    with pytest.raises(
        ValueError, match=r"'head' \(Dense\): it is quantized \('int8'\)"
    ):
        to_fully_convolutional(model)


def test_frozen_layers_regularizers_and_constraints_carry_over():
    l2 = keras.regularizers.L2(0.1)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(3, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(
                4,
                kernel_regularizer=l2,
                bias_regularizer=l2,
                kernel_constraint=keras.constraints.NonNeg(),
                name="flat_dense",
            ),
            keras.layers.Dense(
                2,
                kernel_constraint=keras.constraints.MaxNorm(1.0),
                trainable=False,
                name="frozen",
            ),
        ]
    )
    converted = to_fully_convolutional(model)
    # An L2 penalty is a sum over the weights: the reshaped kernel's is equal.
    np.testing.assert_allclose(
        [float(keras.ops.convert_to_numpy(loss)) for loss in converted.losses],
        [float(keras.ops.convert_to_numpy(loss)) for loss in model.losses],
        rtol=1e-6,
    )
    flat = converted.get_layer("flat_dense")
    assert isinstance(flat.kernel_constraint, keras.constraints.NonNeg)
    frozen = converted.get_layer("frozen")
    assert not frozen.trainable
    assert isinstance(frozen.kernel_constraint, keras.constraints.MaxNorm)

    model.trainable = False
    assert converted_trainable_count(to_fully_convolutional(model)) == 0

    orthogonal = keras.Sequential(
        [
            keras.Input((4, 4, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                3, kernel_regularizer=keras.regularizers.OrthogonalRegularizer()
            ),
        ]
    )
    with pytest.warns(UserWarning, match="left out the kernel_regularizer"):
        converted = to_fully_convolutional(orthogonal)
    assert converted.layers[-1].kernel_regularizer is None


def converted_trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_sequences_with_global_pooling_1d():
    model = keras.Sequential(
        [
            keras.Input((12, 3)),
            keras.layers.Conv1D(5, 3, activation="relu"),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    converted = to_fully_convolutional(model)
    big = RNG.standard_normal((2, 20, 3)).astype("float32")
    assert_close(
        predict(converted, big), crops_oracle(model, big, (12,), 1, "channels_last")
    )


def test_nin_saves_and_loads_and_the_input_model_is_unchanged(tmp_path):
    model = models.NiN((12, 12, 3), num_classes=4, normalization="batch")
    before = [w.copy() for w in model.get_weights()]
    converted = to_fully_convolutional(model)
    assert model.output_shape == (None, 4)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    # "same" padding: no crop-by-crop equality, but any size is accepted.
    assert converted.compute_output_shape((1, 20, 16, 3)) == (1, 3, 2, 4)
    path = tmp_path / "scores.keras"
    converted.save(path)
    loaded = keras.saving.load_model(path)
    for saved, kept in zip(loaded.get_weights(), converted.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, kept)
    x = RNG.random((2, 12, 12, 3)).astype("float32")
    assert_close(predict(loaded, x)[:, 0, 0], predict(model, x))


def test_layers_that_stop_the_conversion_are_named():
    def model_with(*head, input_shape=(6, 6, 2), body=()):
        return keras.Sequential([keras.Input(input_shape), *body, *head])

    flat = keras.layers.Flatten(name="flatten")
    cases = [
        (
            model_with(flat, keras.layers.Reshape((72,), name="reshape")),
            "'reshape' (Reshape)",
        ),
        (
            model_with(
                keras.layers.Flatten(), keras.layers.BatchNormalization(name="bn")
            ),
            "'bn' (BatchNormalization)",
        ),
        (
            model_with(
                keras.layers.Flatten(),
                keras.layers.Dense(3),
                keras.layers.Reshape((3, 1), name="to_sequence"),
            ),
            "'to_sequence' (Reshape)",
        ),
        (
            model_with(
                keras.layers.GlobalAveragePooling1D(),
                keras.layers.Dense(3),
                body=[keras.layers.Reshape((36, 2), name="fixed_size")],
            ),
            "'fixed_size' (Reshape)",
        ),
    ]
    for model, name in cases:
        with pytest.raises(ValueError, match=re.escape(f"cannot convert layer {name}")):
            to_fully_convolutional(model)


def test_bad_input():
    no_head = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3)])
    with pytest.raises(ValueError, match=r"argument `model`.*Flatten") as error:
        to_fully_convolutional(no_head)
    assert "<Sequential name=" in str(error.value)  # the user's model, not a copy
    with pytest.raises(TypeError, match=r"argument `model`.*Received: model='a'"):
        to_fully_convolutional("a")
    unknown = keras.Sequential(
        [keras.Input((None, None, 2)), keras.layers.GlobalAveragePooling2D(name="gap")]
    )
    with pytest.raises(ValueError, match=r"'gap'.*unknown spatial sizes"):
        to_fully_convolutional(unknown)
