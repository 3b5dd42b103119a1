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
    with pytest.raises(ValueError, match=r"argument `model`.*Flatten"):
        to_fully_convolutional(no_head)
    with pytest.raises(TypeError, match=r"argument `model`.*Received: model='a'"):
        to_fully_convolutional("a")
    unknown = keras.Sequential(
        [keras.Input((None, None, 2)), keras.layers.GlobalAveragePooling2D(name="gap")]
    )
    with pytest.raises(ValueError, match=r"'gap'.*unknown spatial sizes"):
        to_fully_convolutional(unknown)
