"""Registration of keras-nin layers with Keras's serialization."""

from __future__ import annotations

from typing import TypeVar

import keras

PACKAGE = "keras_nin"

T = TypeVar("T")


def register_serializable(cls: type[T]) -> type[T]:
    """Register `cls` with Keras as `keras_nin>ClassName`.

    The registered name is what a `.keras` file stores: it must not change
    between releases, or files saved by an earlier release stop loading.
    """
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)
