"""Reference networks assembled from keras-nin blocks, for tests that check them.

`resnet50` is ResNet-50 as torchvision builds it ("v1.5": the stride on the
3×3 convolution), whose 25,557,032 trainable parameters are a public number to
check `Bottleneck` against; `mobilenet_v2` (3,504,872) and `squeezenet1_1`
(1,235,496) check `InvertedResidual` and `FireModule` the same way.
"""

from __future__ import annotations

import keras

from keras_nin.layers import Bottleneck, FireModule, InvertedResidual, Pointwise

RESNET50_STAGES = ((3, 256), (4, 512), (6, 1024), (3, 2048))
RESNET50_TRAINABLE_PARAMS = 25_557_032  # torchvision.models.resnet50()


def resnet50(input_shape=(224, 224, 3), num_classes=1000) -> keras.Model:
    """ResNet-50: 7×7/2 stem, 3×3/2 max pool, 3-4-6-3 Bottleneck stages, GAP."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for stage, (blocks, filters) in enumerate(RESNET50_STAGES):
        for index in range(blocks):
            strides = 2 if stage > 0 and index == 0 else 1
            x = Bottleneck(filters, strides=strides, name=f"stage{stage + 1}_{index}")(
                x
            )
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs, name="resnet50")


# MobileNetV2 as torchvision builds it: (expansion t, channels c, repeats n,
# first stride s) per stage, from the paper's table 2.
MOBILENET_V2_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
MOBILENET_V2_TRAINABLE_PARAMS = 3_504_872  # torchvision.models.mobilenet_v2()


def mobilenet_v2(input_shape=(224, 224, 3), num_classes=1000) -> keras.Model:
    """MobileNetV2: 3×3/2 stem, 17 InvertedResidual blocks, 1×1 to 1280, GAP."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu6")(x)
    for stage, (expansion, filters, repeats, stride) in enumerate(MOBILENET_V2_STAGES):
        for index in range(repeats):
            x = InvertedResidual(
                filters,
                expansion=expansion,
                strides=stride if index == 0 else 1,
                name=f"stage{stage + 1}_{index}",
            )(x)
    x = Pointwise(1280, activation=None, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu6")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")


# SqueezeNet 1.1 as torchvision builds it: (squeeze, expand1x1, expand3x3) per
# Fire module, a 3×3/2 max pooling before the modules marked True.
SQUEEZENET_1_1_FIRES = (
    (True, 16, 64, 64),
    (False, 16, 64, 64),
    (True, 32, 128, 128),
    (False, 32, 128, 128),
    (True, 48, 192, 192),
    (False, 48, 192, 192),
    (False, 64, 256, 256),
    (False, 64, 256, 256),
)
SQUEEZENET_1_1_PARAMS = 1_235_496  # torchvision.models.squeezenet1_1()


def squeezenet1_1(input_shape=(224, 224, 3), num_classes=1000) -> keras.Model:
    """SqueezeNet 1.1: 3×3/2 conv, 8 FireModules between max poolings, 1×1 conv.

    torchvision pools with `ceil_mode=True`; "valid" pooling gives the same
    sizes on a 224 input (111 → 55 → 27 → 13: every `n - 3` is even).
    """
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(64, 3, strides=2, activation="relu")(inputs)
    for index, (pool, squeeze, expand1x1, expand3x3) in enumerate(SQUEEZENET_1_1_FIRES):
        if pool:
            x = keras.layers.MaxPooling2D(3, strides=2)(x)
        x = FireModule(squeeze, expand1x1, expand3x3, name=f"fire{index + 2}")(x)
    x = keras.layers.Dropout(0.5)(x)
    x = Pointwise(num_classes, name="classifier")(x)  # 1×1 conv + ReLU
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs, name="squeezenet1_1")
