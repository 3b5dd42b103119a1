"""Reference networks assembled from keras-nin blocks, for tests that check them.

`resnet50` is ResNet-50 as torchvision builds it ("v1.5": the stride on the
3×3 convolution), whose 25,557,032 trainable parameters are a public number to
check `Bottleneck` against.
"""

from __future__ import annotations

import keras

from keras_nin.layers import Bottleneck

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
