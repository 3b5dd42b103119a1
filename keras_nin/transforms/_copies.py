"""What the transforms share: copying built layers and models with their weights."""

from __future__ import annotations

from typing import Any

import keras

from keras_nin._validation import _invalid


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


def copy_any(layer: keras.layers.Layer) -> keras.layers.Layer:
    """A copy of any layer or nested model, with its weights."""
    if isinstance(layer, keras.Model):
        new = keras.models.clone_model(layer)
        new.set_weights(layer.get_weights())
        return new
    if not layer.weights:
        return type(layer).from_config(layer.get_config())
    return copy_layer(layer)


def check_built_model(name: str, model: keras.Model) -> None:
    """Raise unless a `Sequential` `model` is built and has an input."""
    if isinstance(model, keras.Sequential) and (not model.built or not model.inputs):
        raise ValueError(
            _invalid(
                name,
                model,
                "a built model (call it once, or start it with a keras.Input)",
            )
        )


def check_graph_model(name: str, model: object) -> None:
    """Raise unless `model` is a functional or a built `Sequential` model."""
    if not isinstance(model, keras.Model) or not (
        isinstance(model, keras.Sequential) or hasattr(model, "_nodes_by_depth")
    ):
        raise TypeError(
            _invalid(
                name,
                model,
                "a functional or Sequential keras.Model (a subclassed model has "
                "no graph to read)",
            )
        )
    check_built_model(name, model)


def as_functional(model: keras.Sequential) -> keras.Model:
    """A functional copy (new layers, same weights) of a built `Sequential`."""
    (tensor,) = model.inputs
    inputs = keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype)
    outputs = inputs
    for layer in model.layers:
        outputs = copy_any(layer)(outputs)
    return keras.Model(inputs, outputs, name=model.name)


def keep_frozen(original: keras.Model, new: keras.Model) -> keras.Model:
    """`new`, frozen as a whole if `original` was (`model.trainable = False`).

    Each copied layer keeps its own `trainable`; this carries the model's.
    """
    if not original.trainable:
        new.trainable = False
    return new
