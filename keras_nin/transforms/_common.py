"""Helpers shared by the transforms: copying a built layer with its weights."""

from __future__ import annotations

from typing import Any

import keras


def built_input_shape(layer: keras.layers.Layer) -> Any:
    """The input shape (with batch) Keras recorded when `layer` was built."""
    config = layer.get_build_config() or {}
    if "input_shape" in config:
        return config["input_shape"]
    shapes = list(config.get("shapes_dict", {}).values())
    if len(shapes) != 1:
        raise ValueError(f"Layer '{layer.name}' was not built on one input.")
    return shapes[0]


def copy_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    """A new layer of the same config, built on the same shape, same weights."""
    new = type(layer).from_config(layer.get_config())
    new.build(built_input_shape(layer))
    new.set_weights(layer.get_weights())
    return new
