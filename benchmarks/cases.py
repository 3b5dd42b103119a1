"""What the benchmarks compare: keras-nin against the limit and against plain Keras.

Each comparison is a dict of named models over the same input; the first entry
is the subject, the others its baselines. Plain-Keras twins are given the
subject's weights and checked to compute the same function, so a ratio compares
two ways of running one computation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

import keras_nin
from keras_nin.layers import Bottleneck, NiNBlock, Pointwise


@dataclass
class Comparison:
    """Models (subject first) over one input, and what one forward pass costs."""

    name: str
    models: dict[str, keras.Model]
    x: np.ndarray
    flops: int = 0  # floating-point operations of the subject's forward pass
    bytes_moved: int = 0  # input + weights + output, float32
    notes: dict[str, float] = field(default_factory=dict)


def _model(layer_or_fn: Callable, input_shape: tuple[int, ...], name: str):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer_or_fn(inputs), name=name)


class HandMatMul(keras.layers.Layer):
    """The per-position product written by hand: reshape, matmul, (bias, ReLU)."""

    def __init__(self, filters, use_bias, relu, name="hand_matmul"):
        super().__init__(name=name)
        self.filters, self.use_bias, self.relu = filters, use_bias, relu

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.filters))
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer="zeros")

    def call(self, x):
        shape = ops.shape(x)
        y = ops.matmul(ops.reshape(x, (-1, shape[-1])), self.kernel)
        if self.use_bias:
            y = y + self.bias
        if self.relu:
            y = ops.relu(y)
        return ops.reshape(y, (*shape[:-1], self.filters))


def copy_weights(source: keras.Model, target_layers: list[keras.Layer]) -> None:
    """Give `target_layers` (in creation order) the weights of `source`, in order.

    1×1 kernels are reshaped from Pointwise's `(C_in, C_out)` to Conv2D's.
    """
    targets = [weight for layer in target_layers for weight in layer.weights]
    assert len(source.weights) == len(targets), source.name
    for src, dst in zip(source.weights, targets, strict=True):
        dst.assign(ops.reshape(src, dst.shape))


class Recorder(list):
    """Calls a layer factory's result through, remembering the layer."""

    def __call__(self, layer: keras.Layer) -> keras.Layer:
        self.append(layer)
        return layer


def check_same_function(comparison: Comparison, atol: float = 1e-3) -> None:
    """Every model of a comparison computes the subject's function."""
    outputs = [
        ops.convert_to_numpy(model(comparison.x))
        for model in comparison.models.values()
    ]
    for name, output in zip(comparison.models, outputs, strict=True):
        np.testing.assert_allclose(output, outputs[0], atol=atol, err_msg=name)


def pointwise_comparisons(shapes) -> list[Comparison]:
    """Pointwise against the bare matmul (like for like) and Conv2D(k, 1)."""
    comparisons = []
    for batch, height, width, channels, filters in shapes:
        input_shape = (height, width, channels)
        x = np.random.default_rng(0).standard_normal((batch, *input_shape))
        x = x.astype("float32")
        positions = batch * height * width
        flops = 2 * positions * channels * filters
        bytes_moved = 4 * (positions * (channels + filters) + channels * filters)
        label = f"{batch}×{height}×{width}×{channels} → {filters}"
        for bare in (True, False):
            options = {"use_bias": not bare, "activation": None if bare else "relu"}
            matmul = HandMatMul(filters, not bare, not bare)
            conv = keras.layers.Conv2D(filters, 1, **options)
            models = {
                "Pointwise": _model(Pointwise(filters, **options), input_shape, "pw"),
                "matmul": _model(matmul, input_shape, "matmul"),
                "Conv2D(1×1)": _model(conv, input_shape, "conv"),
            }
            copy_weights(models["Pointwise"], [matmul])
            copy_weights(models["Pointwise"], [conv])
            kind = "linear, no bias" if bare else "bias + ReLU"
            comparisons.append(
                Comparison(f"{label} ({kind})", models, x, flops, bytes_moved)
            )
    return comparisons


def _plain_nin_block(filters, kernel_size, widths, make):
    def apply(x):
        x = make(keras.layers.Conv2D(filters, kernel_size, padding="same"))(x)
        x = keras.layers.ReLU()(x)
        for width in widths:
            x = make(keras.layers.Conv2D(width, 1, activation="relu"))(x)
        return x

    return apply


def _plain_bottleneck(filters, strides, projection, make):
    """Layers created in the order Bottleneck creates its sublayers."""
    inner = filters // 4

    def apply(inputs):
        def conv_bn(x, width, kernel_size, strides=1):
            x = make(
                keras.layers.Conv2D(
                    width, kernel_size, strides, padding="same", use_bias=False
                )
            )(x)
            return make(keras.layers.BatchNormalization())(x)

        x = keras.layers.ReLU()(conv_bn(inputs, inner, 1))
        x = keras.layers.ReLU()(conv_bn(x, inner, 3, strides))
        x = conv_bn(x, filters, 1)
        shortcut = conv_bn(inputs, filters, 1, strides) if projection else inputs
        return keras.layers.ReLU()(keras.layers.Add()([x, shortcut]))

    return apply


def plain_nin(input_shape, make, num_classes=10):
    """The NiN model written with plain Keras layers (1×1 = Conv2D(k, 1))."""
    inputs = keras.Input(input_shape)
    x = _plain_nin_block(192, 5, (160, 96), make)(inputs)
    x = keras.layers.MaxPooling2D(3, 2, padding="same")(x)
    x = keras.layers.Dropout(0.5)(x)
    x = _plain_nin_block(192, 5, (192, 192), make)(x)
    x = keras.layers.AveragePooling2D(3, 2, padding="same")(x)
    x = keras.layers.Dropout(0.5)(x)
    x = _plain_nin_block(192, 3, (192, num_classes), make)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Softmax()(x), name="plain_nin")


def block_comparisons(batch: int, size: int | None = None) -> list[Comparison]:
    """NiNBlock, Bottleneck and the NiN model against the same graphs in plain Keras.

    `size` replaces every spatial size (for a fast smoke run).
    """
    rng = np.random.default_rng(0)
    specs = [
        (
            "NiNBlock(192, 5, mlp_filters=(160, 96))",
            (32, 32, 3),
            NiNBlock(192, 5, mlp_filters=(160, 96)),
            lambda make: _plain_nin_block(192, 5, (160, 96), make),
        ),
        (
            "Bottleneck(256), identity shortcut",
            (56, 56, 256),
            Bottleneck(256),
            lambda make: _plain_bottleneck(256, 1, False, make),
        ),
        (
            "Bottleneck(512, strides=2), projection",
            (28, 28, 256),
            Bottleneck(512, strides=2),
            lambda make: _plain_bottleneck(512, 2, True, make),
        ),
    ]
    comparisons = []
    for name, input_shape, block, plain in specs:
        if size is not None:
            input_shape = (size, size, input_shape[-1])
        created = Recorder()
        models = {
            "keras-nin": _model(block, input_shape, "ours"),
            "plain Keras": _model(plain(created), input_shape, "plain"),
        }
        copy_weights(models["keras-nin"], created)
        x = rng.standard_normal((batch, *input_shape)).astype("float32")
        label = f"{name} on {'×'.join(map(str, input_shape))}"
        comparisons.append(Comparison(label, models, x))
    image_shape = (size or 32, size or 32, 3)
    nin, created = keras_nin.models.NiN(image_shape), Recorder()
    models = {"keras-nin": nin, "plain Keras": plain_nin(image_shape, created)}
    copy_weights(nin, created)
    x = rng.standard_normal((batch, *image_shape)).astype("float32")
    label = f"NiN model on {'×'.join(map(str, image_shape))}"
    comparisons.append(Comparison(label, models, x))
    return comparisons


def bottleneck_theory_comparison(batch: int, size: int = 28) -> Comparison:
    """The lecture's 5×5 convolution on 28×28×192, with and without a 1×1 reduce."""
    input_shape = (size, size, 192)

    def naive(x):
        return keras.layers.Conv2D(32, 5, padding="same")(x)

    def reduced(x):
        return keras.layers.Conv2D(32, 5, padding="same")(Pointwise(16)(x))

    x = np.random.default_rng(0).standard_normal((batch, *input_shape))
    models = {
        "1×1 reduce → 5×5": _model(reduced, input_shape, "reduced"),
        "5×5 directly": _model(naive, input_shape, "naive"),
    }
    return Comparison("28×28×192 → 5×5 conv → 28×28×32", models, x.astype("float32"))


def square_matmul(size: int) -> Comparison:
    """The best GEMM throughput the backend reaches: a large square matmul."""
    x = np.random.default_rng(0).standard_normal((size, size)).astype("float32")
    inputs = keras.Input((size,))
    model = keras.Model(inputs, HandMatMul(size, False, False)(inputs), name="gemm")
    return Comparison(f"{size}×{size} matmul", {"gemm": model}, x, 2 * size**3)
