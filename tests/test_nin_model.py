"""NiN: the paper's CIFAR-10 network, its layout, counts, training and saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_checks import random_input, summary_text

import keras_nin
from keras_nin.layers import NiNBlock
from keras_nin.models import NiN

# Output channels of the nine convolutions, in order.
WIDTHS = (192, 160, 96, 192, 192, 192, 192, 192, 10)


def test_default_model_has_the_papers_966986_parameters():
    model = NiN()
    assert model.count_params() == 966_986
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 966_986
    # By hand: kernels plus one bias per output channel.
    kernels = 5 * 5 * 3 * 192 + 192 * 160 + 160 * 96
    kernels += 5 * 5 * 96 * 192 + 2 * 192 * 192
    kernels += 3 * 3 * 192 * 192 + 192 * 192 + 192 * 10
    assert kernels + sum(WIDTHS) == 966_986


def test_layout_and_resolutions_follow_the_released_model():
    model = NiN()
    assert [(layer.name, type(layer).__name__) for layer in model.layers] == [
        ("image", "InputLayer"),
        ("mlpconv1", "NiNBlock"),
        ("pool1", "MaxPooling2D"),
        ("dropout1", "Dropout"),
        ("mlpconv2", "NiNBlock"),
        ("pool2", "AveragePooling2D"),
        ("dropout2", "Dropout"),
        ("mlpconv3", "NiNBlock"),
        ("global_pool", "GlobalAveragePooling2D"),
        ("predictions", "Activation"),
    ]
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers[1:]}
    assert shapes["mlpconv1"] == (None, 32, 32, 96)
    assert shapes["pool1"] == (None, 16, 16, 96)
    assert shapes["mlpconv2"] == (None, 16, 16, 192)
    assert shapes["pool2"] == (None, 8, 8, 192)
    assert shapes["mlpconv3"] == (None, 8, 8, 10)
    assert model.output_shape == (None, 10)
    blocks = [model.get_layer(f"mlpconv{i}") for i in (1, 2, 3)]
    assert [(b.filters, b.kernel_size, b.widths) for b in blocks] == [
        (192, 5, (160, 96)),
        (192, 5, (192, 192)),
        (192, 3, (192, 10)),
    ]
    assert model.get_layer("dropout1").rate == 0.5


def test_predictions_are_class_probabilities():
    model = NiN((8, 8, 1), num_classes=4)
    y = keras.ops.convert_to_numpy(model(random_input((3, 8, 8, 1))))
    assert y.shape == (3, 4)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_head_is_global_average_pooling_of_class_maps():
    """No dense classifier: softmax of each class map's spatial mean."""
    model = NiN((8, 8, 3), num_classes=5)
    x = random_input((2, 8, 8, 3))
    maps = keras.Model(model.input, model.get_layer("mlpconv3").output)(x)
    maps = keras.ops.convert_to_numpy(maps)
    scores = maps.mean(axis=(1, 2))
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    ("input_shape", "features"),
    [((32, 32, 3), (8, 8, 192)), ((28, 28, 1), (7, 7, 192)), ((8, 8, 1), (2, 2, 192))],
)
def test_include_top_false_is_the_feature_extractor(input_shape, features):
    model = NiN(input_shape, include_top=False)
    assert model.output_shape == (None, *features)
    assert "mlpconv3" not in [layer.name for layer in model.layers]
    assert model.layers[-1].name == "dropout2"
    full = NiN(input_shape)
    assert (
        model.count_params()
        == full.count_params() - full.get_layer("mlpconv3").count_params()
    )


@pytest.mark.parametrize(
    "input_shape", [(28, 28, 1), (8, 8, 1), (4, 4, 1), (4, 6, 2), (None, None, 3)]
)
def test_any_input_shape_of_spatial_size_at_least_4(input_shape):
    model = NiN(input_shape, num_classes=7)
    # Only the first kernel (5·5·C·192) and the last layer (193 per class) change.
    channels = input_shape[-1]
    assert model.count_params() == 966_986 - 25 * 192 * (3 - channels) - 193 * 3
    spatial = [4 if d is None else d for d in input_shape[:2]]
    y = model.predict(random_input((2, *spatial, input_shape[-1])), verbose=0)
    assert y.shape == (2, 7)


def test_normalization_is_passed_to_every_block():
    model = NiN(normalization="batch")
    # Every conv drops its bias (-sum) and gains a norm's gamma and beta (+2·sum).
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 966_986 - sum(WIDTHS) + 2 * sum(WIDTHS)
    assert model.count_params() == trainable + 2 * sum(WIDTHS)  # moving stats
    for i in (1, 2, 3):
        assert model.get_layer(f"mlpconv{i}").normalization == "batch"


def test_channels_first_image_data_format():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        model = NiN((3, 16, 16))
        assert model.count_params() == 966_986
        assert model.get_layer("pool2").output.shape == (None, 192, 4, 4)
        y = keras.ops.convert_to_numpy(model(random_input((2, 3, 16, 16))))
    finally:
        keras.config.set_image_data_format(previous)
    assert y.shape == (2, 10)


def test_fit_lowers_the_loss():
    """A small random problem: 32 images of 8×8, 3 classes, memorized."""
    keras.utils.set_random_seed(0)
    model = NiN((8, 8, 1), num_classes=3, normalization="batch", dropout=0.0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x = random_input((32, 8, 8, 1))
    labels = np.random.default_rng(0).integers(0, 3, size=32)
    history = model.fit(x, labels, epochs=12, batch_size=32, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    assert last < 0.5 * first, (first, last)


def test_keras_file_round_trip_gives_the_same_predictions(tmp_path):
    model = NiN((8, 8, 1), num_classes=3, normalization="batch")
    x = random_input((4, 8, 8, 1))
    expected = model.predict(x, verbose=0)
    path = tmp_path / "nin.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("mlpconv2"), NiNBlock)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6)
    assert loaded.name == "nin"


def test_summary_names_the_blocks():
    text = summary_text(NiN())
    for row in ["mlpconv1 (NiNBlock)", "mlpconv3 (NiNBlock)", "pool1 (MaxPooling2D)"]:
        assert row in text, text
    assert "966,986" in text
    nested = summary_text(NiN(), expand_nested=True)
    assert "mlp_2 (Pointwise)" in nested and "conv (Conv2D)" in nested


def test_exported_as_keras_nin_models():
    assert keras_nin.models.NiN is NiN
    assert keras_nin.models.__all__ == ["NiN"]


BAD_ARGUMENTS = [
    ({"input_shape": (32, 32)}, ValueError, ["`input_shape`", "(32, 32)"]),
    ({"input_shape": (1, 32, 32, 3)}, ValueError, ["`input_shape`"]),
    ({"input_shape": (32, 0, 3)}, ValueError, ["`input_shape`", "(32, 0, 3)"]),
    ({"input_shape": (32, 32, None)}, ValueError, ["`input_shape`", "channels"]),
    ({"input_shape": (32, 32.0, 3)}, TypeError, ["`input_shape`"]),
    ({"input_shape": 32}, TypeError, ["`input_shape`", "input_shape=32"]),
    ({"num_classes": 0}, ValueError, ["`num_classes`", "num_classes=0"]),
    ({"num_classes": 2.0}, TypeError, ["`num_classes`"]),
    ({"dropout": 1.0}, ValueError, ["`dropout`", "dropout=1.0"]),
    ({"normalization": "instance"}, ValueError, ["`normalization`"]),
    ({"include_top": "no"}, TypeError, ["`include_top`", "'no'"]),
]


@pytest.mark.parametrize(("kwargs", "error", "names"), BAD_ARGUMENTS)
def test_bad_input_raises_a_clear_error(kwargs, error, names):
    with pytest.raises(error) as info:
        NiN(**kwargs)
    message = str(info.value)
    for name in names:
        assert name in message, (name, message)
