"""Checks every keras-nin layer must pass, one helper per property.

Each layer's test module calls these with its own constructor arguments, in the
manner of keras-hub's `TestCase.run_serialization_test` and friends, so a
property is tested the same way for every layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

BACKEND = keras.backend.backend()


def random_input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def call_keras_layer(layer: keras.Layer, x: np.ndarray) -> np.ndarray:
    """`layer(x)` for one of Keras's own layers used as an oracle.

    On TensorFlow the call is compiled with XLA: TensorFlow's own CPU kernels
    run a channels_first `Conv1D`/`Conv2D` only where it uses oneDNN (not on
    an AVX2-only CPU, for one), XLA's on every CPU.
    """
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return keras.ops.convert_to_numpy(tf.function(layer, jit_compile=True)(x))
    return keras.ops.convert_to_numpy(layer(x))


def check_output_shapes(layer_factory: Callable[[], keras.Layer], x: np.ndarray):
    """Eager, symbolic and `compute_output_shape` shapes agree; return output."""
    eager_layer = layer_factory()
    eager = keras.ops.convert_to_numpy(eager_layer(x))
    assert eager_layer.compute_output_shape(x.shape) == eager.shape

    symbolic_input = keras.Input(batch_shape=(None, *x.shape[1:]))
    symbolic = layer_factory()(symbolic_input)
    assert tuple(symbolic.shape) == (None, *eager.shape[1:])
    return eager


def check_config_round_trip(layer: keras.Layer, x: np.ndarray) -> None:
    """`from_config(get_config())` rebuilds a layer with the same outputs."""
    expected = keras.ops.convert_to_numpy(layer(x))
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(clone(x)), expected, rtol=1e-6, atol=1e-6
    )
    # The generic Keras (de)serialization path finds the registered class.
    revived = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(revived) is type(layer)


def check_model_saving(
    layer_factory: Callable[[], keras.Layer], x: np.ndarray, tmp_path: Path
) -> None:
    """A model holding the layer survives a `.keras` round trip, outputs equal."""
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, layer_factory()(inputs))
    expected = keras.ops.convert_to_numpy(model(x))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), expected, rtol=1e-6, atol=1e-6
    )


def check_training(
    layer_factory: Callable[[], keras.Layer], x: np.ndarray, steps: int = 30
) -> tuple[float, float]:
    """A small regression through the layer: the loss must fall."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(x.shape[1:])
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(layer_factory()(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    target = np.sin(x.reshape(len(x), -1).sum(axis=1, keepdims=True))
    history = model.fit(x, target, epochs=steps, batch_size=len(x), verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    assert last < 0.5 * first, (first, last)
    return first, last


def check_mixed_precision(
    layer_factory: Callable[[], keras.Layer], x: np.ndarray, policy: str
) -> None:
    """Under a mixed policy: compute dtype on the output, variables in float32."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        layer = layer_factory()
        y = layer(x)
    finally:
        keras.config.set_dtype_policy(previous)
    compute_dtype = policy.removeprefix("mixed_")
    assert keras.backend.standardize_dtype(y.dtype) == compute_dtype
    assert layer.weights
    for weight in layer.weights:
        assert weight.dtype == "float32", weight.path


def randomize_weights(layer: keras.Layer, seed: int = 0) -> None:
    """Give every weight of a built layer random values, variances positive.

    Fresh layers have zero biases and unit norms, which would hide a bias or a
    norm applied along the wrong axis; random values expose it.
    """
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        values = rng.standard_normal(tuple(weight.shape)).astype("float32")
        if "variance" in weight.path:
            values = np.abs(values) + 0.5
        weight.assign(0.5 * values if "kernel" in weight.path else values)


def summary_text(model: keras.Model, expand_nested: bool = False) -> str:
    """The text of `model.summary()`, for asserting what a reader sees."""
    lines = []
    model.summary(
        expand_nested=expand_nested, print_fn=lambda *a, **k: lines.append(a[0])
    )
    return "\n".join(lines)


def to_channels_last(x: np.ndarray) -> np.ndarray:
    return np.moveaxis(x, 1, -1)


def to_channels_first(x: np.ndarray) -> np.ndarray:
    return np.moveaxis(x, -1, 1)


# --- Plain Keras stand-ins for a block's sublayers (the tests' oracles) ------


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """The zeros "same" padding adds before and after an axis (TensorFlow's
    rule, which Keras follows on every backend): enough for `ceil(size /
    stride)` outputs, the odd one after.
    """
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def reference_conv(ours: keras.Layer, y, strides=1):
    """`ours` (a `Pointwise`, convolution or depthwise convolution of a 2-D
    block) as a plain channels_last Keras layer with its weights, applied to
    the channels_last `y`, without activation.
    """
    weights = ours.get_weights()
    arguments = {"strides": strides, "padding": "same", "use_bias": len(weights) == 2}
    strides = (strides,) * 2 if isinstance(strides, int) else tuple(strides)
    if isinstance(ours, keras.layers.DepthwiseConv2D) and strides[0] != strides[1]:
        # TensorFlow's CPU depthwise kernel takes equal strides only (without
        # oneDNN): convolve at stride 1 over the input padded as "same" pads
        # for `strides`, then keep every stride-th position.
        kernel_size = weights[0].shape[:2]
        padding = [(0, 0), *map(same_padding, y.shape[1:3], kernel_size, strides)]
        y = keras.ops.pad(y, [*padding, (0, 0)])
        arguments.update(strides=1, padding="valid")
        plain = keras.layers.DepthwiseConv2D(kernel_size, **arguments)
        plain.build(y.shape)
        plain.set_weights(weights)
        return plain(y)[:, :: strides[0], :: strides[1], :]
    if isinstance(ours, keras.layers.DepthwiseConv2D):
        plain = keras.layers.DepthwiseConv2D(weights[0].shape[:2], **arguments)
    else:
        if weights[0].ndim == 2:  # Pointwise: (C_in, C_out) → (1, 1, C_in, C_out)
            weights[0] = weights[0].reshape((1, 1, *weights[0].shape))
        plain = keras.layers.Conv2D(
            weights[0].shape[-1], weights[0].shape[:2], **arguments
        )
    plain.build(y.shape)
    plain.set_weights(weights)
    return plain(y)


def reference_norm(ours: keras.Layer | None, y):
    """`ours` (a block's norm or `None`) as a plain channels_last Keras norm."""
    if ours is None:
        return y
    if isinstance(ours, keras.layers.BatchNormalization):
        plain = keras.layers.BatchNormalization(axis=-1)
    elif isinstance(ours, keras.layers.GroupNormalization):
        plain = keras.layers.GroupNormalization(groups=ours.groups, axis=-1)
    else:
        plain = keras.layers.LayerNormalization(axis=-1)
    plain.build(y.shape)
    plain.set_weights(ours.get_weights())
    return plain(y, training=False)


def run_reference(block: keras.Layer, x: np.ndarray, reference: Callable) -> np.ndarray:
    """Apply a channels_last `reference(block, x)` to `x` in the block's format."""
    if block.data_format == "channels_last":
        return keras.ops.convert_to_numpy(reference(block, x))
    y = keras.ops.convert_to_numpy(reference(block, to_channels_last(x)))
    return to_channels_first(y)


def check_numerics(
    block: keras.Layer, x: np.ndarray, reference: Callable, tolerance: float = 1e-4
) -> np.ndarray:
    """Randomized weights: the block's inference output equals the reference."""
    block.build(x.shape)
    randomize_weights(block)
    y = keras.ops.convert_to_numpy(block(x, training=False))
    expected = run_reference(block, x, reference)
    np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance)
    return y


def check_bad_arguments(layer_class, kwargs, shape, error, names) -> None:
    """Constructing (and building on `shape`, if given) raises `error`, whose
    message names each of `names`.
    """
    import pytest

    with pytest.raises(error) as info:
        layer = layer_class(**kwargs)
        if shape is not None:
            layer.build(shape)
    message = str(info.value)
    for name in names:
        assert name in message, (name, message)
