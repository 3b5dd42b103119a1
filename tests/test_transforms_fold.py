"""fold_batch_norm: NumPy oracle for the folded weights, equal outputs, reports."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from keras_nin import layers, models
from keras_nin.transforms import fold_batch_norm

RNG = np.random.default_rng(0)


def randomize_norms(model: keras.Model) -> None:
    """Give every batch norm statistics far from the identity (0, 1)."""
    for variable in model.weights:
        name = variable.path.rsplit("/", 1)[-1]
        shape = tuple(variable.shape)
        if name in ("moving_variance", "gamma"):
            variable.assign(RNG.uniform(0.3, 2.0, shape).astype("float32"))
        elif name in ("moving_mean", "beta"):
            variable.assign(RNG.normal(0.0, 0.5, shape).astype("float32"))


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-5):
    """Max abs. difference relative to the largest output value."""
    error = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    assert error <= rtol, f"max relative error {error:.2e} > {rtol:.0e}"


def fold_quietly(model: keras.Model) -> keras.Model:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing left unfolded
        return fold_batch_norm(model)


def all_layers(layer):
    yield layer
    for sub in getattr(layer, "layers", None) or []:
        yield from all_layers(sub)


def batch_norm_count(model: keras.Model) -> int:
    return sum(
        isinstance(layer, keras.layers.BatchNormalization)
        for layer in all_layers(model)
    )


LINEAR_LAYERS = {
    "conv1d": ((9, 3), lambda: keras.layers.Conv1D(4, 3)),
    "conv2d": ((6, 6, 3), lambda: keras.layers.Conv2D(4, 3, use_bias=False)),
    "conv2d_grouped": ((6, 6, 4), lambda: keras.layers.Conv2D(6, 3, groups=2)),
    # Not 4 columns out: Keras's TensorFlow bias add would guess channels_last.
    "conv2d_channels_first": (
        (3, 7, 8),
        lambda: keras.layers.Conv2D(4, 3, data_format="channels_first"),
    ),
    "conv3d": ((4, 4, 4, 2), lambda: keras.layers.Conv3D(3, 2)),
    "depthwise1d": ((9, 3), lambda: keras.layers.DepthwiseConv1D(3)),
    "depthwise2d": (
        (6, 6, 3),
        lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False),
    ),
    "dense": ((5,), lambda: keras.layers.Dense(4)),
    "pointwise": ((5, 5, 3), lambda: layers.Pointwise(4, activation=None)),
    "pointwise_channels_first": (
        (3, 5, 5),
        lambda: layers.Pointwise(4, activation=None, data_format="channels_first"),
    ),
}


def numpy_fold(kernel, bias, bn_weights, epsilon, depthwise):
    """The folded kernel and bias written out in NumPy, per output channel."""
    gamma, beta, mean, variance = (w.astype(np.float64) for w in bn_weights)
    kernel = kernel.astype(np.float64).copy()
    out = np.zeros_like(mean) if bias is None else bias.astype(np.float64)
    new_bias = np.empty_like(mean)
    for channel in range(mean.shape[0]):
        factor = gamma[channel] / np.sqrt(variance[channel] + epsilon)
        if depthwise:
            multiplier = kernel.shape[-1]
            index = (..., channel // multiplier, channel % multiplier)
        else:
            index = (..., channel)
        kernel[index] = kernel[index] * factor
        new_bias[channel] = (out[channel] - mean[channel]) * factor + beta[channel]
    return kernel, new_bias


@pytest.mark.parametrize("kind", sorted(LINEAR_LAYERS))
def test_folded_weights_match_numpy_and_outputs_match(kind):
    shape, factory = LINEAR_LAYERS[kind]
    layer = factory()
    channels_first = getattr(layer, "data_format", None) == "channels_first"
    model = keras.Sequential(
        [
            keras.Input(shape),
            layer,
            keras.layers.BatchNormalization(axis=1 if channels_first else -1),
            keras.layers.Activation("relu"),
        ]
    )
    randomize_norms(model)
    folded = fold_quietly(model)
    assert [type(layer).__name__ for layer in folded.layers] == [
        type(layer).__name__,
        "Activation",
    ]
    original = model.layers[0].get_weights()
    bias = original[1] if len(original) == 2 else None
    norm = model.layers[1]
    expected_kernel, expected_bias = numpy_fold(
        original[0],
        bias,
        norm.get_weights(),
        norm.epsilon,
        depthwise=isinstance(
            layer, keras.layers.DepthwiseConv1D | keras.layers.DepthwiseConv2D
        ),
    )
    kernel, new_bias = folded.layers[0].get_weights()
    np.testing.assert_allclose(kernel, expected_kernel, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(new_bias, expected_bias, rtol=1e-6, atol=1e-6)
    x = RNG.standard_normal((3, *shape)).astype("float32")
    assert_close(predict(folded, x), predict(model, x))


BLOCKS = {
    "nin_block": lambda f: layers.NiNBlock(6, 3, mlp_filters=(5, 4), **f),
    "bottleneck": lambda f: layers.Bottleneck(8, strides=2, **f),
    "inception": lambda f: layers.InceptionBlock(3, 4, 2, pool_proj=2, **f),
    "inverted_residual": lambda f: layers.InvertedResidual(6, expansion=3, **f),
    "inverted_residual_3d": lambda f: layers.InvertedResidual(6, expansion=2, **f),
    "fire": lambda f: layers.FireModule(3, 4, 4, **f),
    "squeeze_excite": lambda f: layers.SqueezeExcite(**f),
}


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_blocks_fold_with_equal_outputs(name, data_format):
    spatial = (4, 4, 4) if name.endswith("3d") else (6, 6)
    shape = (*spatial, 6) if data_format == "channels_last" else (6, *spatial)
    block = BLOCKS[name]({"normalization": "batch", "data_format": data_format})
    inputs = keras.Input(shape)
    outputs = keras.layers.Activation("linear")(block(inputs))
    model = keras.Model(inputs, outputs)
    randomize_norms(model)
    assert batch_norm_count(model) > 0
    folded = fold_quietly(model)
    assert batch_norm_count(folded) == 0
    new_block = folded.get_layer(block.name)
    assert new_block.normalization is None
    assert new_block.count_params() < block.count_params()
    x = RNG.standard_normal((2, *shape)).astype("float32")
    assert_close(predict(folded, x), predict(model, x))


def test_nin_model_folds_saves_and_loads(tmp_path):
    model = models.NiN((8, 8, 3), num_classes=5, normalization="batch")
    randomize_norms(model)
    before = [w.copy() for w in model.get_weights()]
    folded = fold_quietly(model)
    assert batch_norm_count(folded) == 0
    # The input model is untouched.
    assert batch_norm_count(model) == 9
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    path = tmp_path / "folded.keras"
    folded.save(path)
    loaded = keras.saving.load_model(path)
    for saved, kept in zip(loaded.get_weights(), folded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, kept)
    # The logits of the loaded folded model: the softmax would hide errors.
    x = RNG.random((2, 8, 8, 3)).astype("float32")
    logits = [
        keras.Model(m.input, m.get_layer("global_pool").output) for m in (model, loaded)
    ]
    assert_close(predict(logits[1], x), predict(logits[0], x))


def test_functional_graph_and_nested_sequential():
    inner = keras.Sequential(
        [
            keras.Input((6, 6, 4)),
            keras.layers.Conv2D(4, 1),
            keras.layers.BatchNormalization(),
        ]
    )
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = inner(x)
    y = keras.layers.Dense(2, name="dense")(keras.layers.Flatten()(x))
    y = keras.layers.BatchNormalization(name="dense_bn")(y)
    model = keras.Model(inputs, y)
    randomize_norms(model)
    folded = fold_quietly(model)
    assert batch_norm_count(folded) == 0
    x = RNG.standard_normal((2, 6, 6, 3)).astype("float32")
    assert_close(predict(folded, x), predict(model, x))


def test_unfoldable_norms_are_kept_and_listed():
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.BatchNormalization(name="after_pool")(x)
    x = layers.Pointwise(4, name="relu_pointwise")(x)  # activation="relu"
    x = keras.layers.BatchNormalization(name="after_relu")(x)
    branch = keras.layers.Conv2D(4, 1, name="shared_output")(x)
    x = keras.layers.Add()(
        [keras.layers.BatchNormalization(name="after_shared")(branch), branch]
    )
    x = layers.NiNBlock(4, 1, normalization="layer", name="layer_norm_block")(x)
    x = layers.NiNBlock(4, 1, normalization="batch", name="batch_norm_block")(x)
    model = keras.Model(inputs, x)
    randomize_norms(model)
    with pytest.warns(UserWarning) as record:
        folded = fold_batch_norm(model)
    (message,) = [str(w.message) for w in record if "fold_batch_norm" in str(w.message)]
    assert "left 4 normalization layer(s)" in message
    for name, reason in [
        ("after_pool", "MaxPooling2D 'pool'"),
        ("after_relu", "nonlinear activation"),
        ("after_shared", "also used elsewhere"),
        ("layer_norm_block", "normalization='layer'"),
    ]:
        assert f"'{name}' (" in message and reason in message
    assert "batch_norm_block" not in message
    for name in ("after_pool", "after_relu", "after_shared"):
        assert isinstance(folded.get_layer(name), keras.layers.BatchNormalization)
    assert folded.get_layer("batch_norm_block").normalization is None
    x = RNG.standard_normal((2, 6, 6, 3)).astype("float32")
    assert_close(predict(folded, x), predict(model, x))


def test_constraints_are_dropped_and_said_and_a_frozen_model_stays_frozen():
    # A NonNeg bias would clip the folded bias (the norm's shift, negative
    # here) at the first training step, and change the model.
    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Conv2D(
                4, 3, bias_constraint=keras.constraints.NonNeg(), name="conv"
            ),
            keras.layers.BatchNormalization(
                beta_initializer=keras.initializers.Constant(-1.0)
            ),
            layers.NiNBlock(
                4,
                3,
                normalization="batch",
                kernel_constraint=keras.constraints.MaxNorm(2.0),
                name="block",
            ),
        ]
    )
    randomize_norms(model)
    with pytest.warns(UserWarning, match="dropped the weight constraints") as record:
        folded = fold_batch_norm(model)
    (message,) = [str(w.message) for w in record if "constraints" in str(w.message)]
    assert "'conv' (bias_constraint)" in message
    assert "'block' (kernel_constraint)" in message
    conv = folded.get_layer("conv")
    assert conv.bias_constraint is None
    assert np.min(keras.ops.convert_to_numpy(conv.bias)) < 0
    assert folded.get_layer("block").get_config()["kernel_constraint"] is None
    x = RNG.standard_normal((2, 6, 6, 3)).astype("float32")
    assert_close(predict(folded, x), predict(model, x))

    model.trainable = False
    with pytest.warns(UserWarning):
        folded = fold_batch_norm(model)
    assert not folded.trainable and not folded.trainable_weights


def test_model_without_batch_norm_is_copied_and_says_so():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.warns(UserWarning, match="no batch normalization to fold"):
        folded = fold_batch_norm(model)
    assert folded is not model
    assert folded.layers[0] is not model.layers[0]
    x = RNG.standard_normal((2, 4)).astype("float32")
    np.testing.assert_array_equal(predict(folded, x), predict(model, x))


class Subclassed(keras.Model):
    def call(self, inputs):
        return inputs


def test_bad_input():
    with pytest.raises(TypeError, match=r"argument `model`.*Received: model=3"):
        fold_batch_norm(3)
    with pytest.raises(TypeError, match=r"argument `model`.*subclassed"):
        fold_batch_norm(Subclassed())
    with pytest.raises(ValueError, match=r"argument `model`.*built"):
        fold_batch_norm(keras.Sequential([keras.layers.Dense(2)]))
