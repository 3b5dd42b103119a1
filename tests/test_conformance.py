"""The Keras layer contract, for every public layer (the registry in public_layers).

Keras's own harness first (`keras.src.testing.TestCase.run_layer_test`, the
test every Keras layer passes: weight counts, building, serialization, a
training step, mixed precision), against hand-counted weights. Then the
properties a user relies on without thinking of them:

- frozen means frozen: a layer made with `trainable=False`, or frozen before
  or after building, or frozen and reloaded, has no trainable weights and
  `fit` changes none of its weights (batch-norm statistics included);
- no two sublayers start alike: no two kernels equal or perfectly correlated
  at initialization, and `keras.utils.set_random_seed` reproduces them;
- an activation acts on the channel vector of each position: channels_first
  equals channels_last for every activation Keras ships;
- an empty batch keeps its shape, in both layouts.
"""

from __future__ import annotations

import inspect
import itertools

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase
from layer_checks import randomize_weights, to_channels_first
from public_layers import LAYERS, all_layers_input, all_layers_model, layer_id

BLOCKS = [case for case in LAYERS if case.name != "Pointwise"]


@pytest.mark.parametrize("case", LAYERS, ids=layer_id)
def test_keras_layer_test(case):
    """Keras's own layer test, with our hand-counted weights."""
    shape = case.input_shape()
    TestCase().run_layer_test(
        case.cls,
        init_kwargs={**case.kwargs, "data_format": "channels_last"},
        input_shape=shape,
        expected_output_shape=tuple(case.make().compute_output_shape(shape)),
        expected_num_trainable_weights=case.trainable,
        expected_num_non_trainable_weights=case.non_trainable,
        expected_num_seed_generators=0,
        expected_num_losses=0,
        supports_masking=False,
    )


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _fit_once(model: keras.Model) -> None:
    x = all_layers_input(batch=4)
    targets = [np.ones((4, *s[1:]), "float32") for s in model.output_shape]
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=["mse"] * len(targets))
    model.fit(x, targets, epochs=1, batch_size=4, verbose=0)


def _frozen_model(when: str, tmp_path) -> keras.Model:
    if when == "construction":
        return all_layers_model(trainable=False)
    inputs = keras.Input(LAYERS[0].input_shape()[1:])
    layers = [case.make() for case in LAYERS]
    if when == "before build":
        for layer in layers:
            layer.trainable = False
    model = keras.Model(inputs, [layer(inputs) for layer in layers])
    for layer in layers:
        layer.trainable = False
    if when == "reload":
        model.save(tmp_path / "frozen.keras")
        model = keras.saving.load_model(tmp_path / "frozen.keras")
    return model


@pytest.mark.parametrize(
    "when", ["construction", "before build", "after build", "reload"]
)
def test_a_frozen_layer_trains_nothing(when, tmp_path):
    model = _frozen_model(when, tmp_path)
    assert model.trainable_weights == []
    for layer in model.layers[1:]:
        assert layer.trainable_weights == [], layer.name
        assert all(not w.trainable for w in layer.weights), layer.name
    before = _weights(model)
    _fit_once(model)
    for weight, old, new in zip(model.weights, before, _weights(model), strict=True):
        np.testing.assert_array_equal(new, old, err_msg=weight.path)


def test_unfreezing_trains_again():
    model = all_layers_model(trainable=False)
    for layer in model.layers[1:]:
        layer.trainable = True
    expected = sum(case.trainable for case in LAYERS)
    assert len(model.trainable_weights) == expected
    before = _weights(model)
    _fit_once(model)
    moved = [
        w.path
        for w, old, new in zip(model.weights, before, _weights(model), strict=True)
        if w.trainable and not np.array_equal(old, new)
    ]
    assert len(moved) == expected


def _kernels(layer: keras.Layer) -> dict[str, np.ndarray]:
    return {
        w.path.split("/", 1)[1]: keras.ops.convert_to_numpy(w).ravel()
        for w in layer.weights
        if w.path.endswith("kernel")
    }


def _built(case, **overrides) -> keras.Layer:
    layer = case.make(**overrides)
    layer.build(case.input_shape())
    return layer


@pytest.mark.parametrize("case", BLOCKS, ids=layer_id)
@pytest.mark.parametrize(
    "initializer",
    ["glorot_uniform", "he_normal", keras.initializers.GlorotUniform(seed=3)],
    ids=["glorot_uniform", "he_normal", "seeded"],
)
def test_no_two_sublayers_start_alike(case, initializer):
    kernels = _kernels(_built(case, kernel_initializer=initializer))
    assert len(kernels) >= 2
    for (a, x), (b, y) in itertools.combinations(kernels.items(), 2):
        n = min(len(x), len(y))
        assert not np.array_equal(x[:n], y[:n]), (a, b)
        correlation = np.corrcoef(x[:n], y[:n])[0, 1]
        assert abs(correlation) < 0.99, (a, b, correlation)


@pytest.mark.parametrize("case", BLOCKS, ids=layer_id)
def test_initialization_is_reproducible(case):
    keras.utils.set_random_seed(5)
    first = _kernels(_built(case))
    keras.utils.set_random_seed(5)
    again = _kernels(_built(case))
    seeded = keras.initializers.GlorotUniform(seed=3)
    assert _kernels(_built(case, kernel_initializer=seeded)).keys() == first.keys()
    for path in first:
        np.testing.assert_array_equal(first[path], again[path])
    a = _kernels(_built(case, kernel_initializer=seeded))
    b = _kernels(_built(case, kernel_initializer=seeded))
    for path in a:
        np.testing.assert_array_equal(a[path], b[path])


def _one_argument_activations() -> list[str]:
    """Every activation Keras ships that takes only the tensor (not glu)."""
    names = []
    for name in sorted(keras.src.activations.ALL_OBJECTS_DICT):
        function = keras.activations.get(name)
        required = [
            p
            for p in inspect.signature(function).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind != p.VAR_KEYWORD
        ]
        if len(required) == 1 and name != "glu":
            names.append(name)
    return names


ACTIVATIONS = _one_argument_activations()


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_channels_first_equals_channels_last_for_every_activation(activation):
    """The activation acts on each position's channels, whatever the layout."""
    last = all_layers_model(activation=activation)
    randomize_weights(last)
    first = all_layers_model(data_format="channels_first", activation=activation)
    first.set_weights(last.get_weights())
    x = all_layers_input()
    y_last = last(x, training=False)
    y_first = first(to_channels_first(x), training=False)
    for case, a, b in zip(LAYERS, y_last, y_first, strict=True):
        a = keras.ops.convert_to_numpy(a)
        b = np.moveaxis(keras.ops.convert_to_numpy(b), 1, -1)
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4, err_msg=case.name)


def test_glu_is_refused_naming_the_argument():
    """glu halves the channel axis: the declared output shape would be wrong."""
    for case in LAYERS:
        with pytest.raises(ValueError, match=r"`activation`.*glu"):
            case.make(activation="glu")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_an_empty_batch_keeps_its_shape(data_format):
    model = all_layers_model(data_format=data_format)
    x = all_layers_input(data_format=data_format, batch=0)
    for case, y, shape in zip(LAYERS, model(x), model.output_shape, strict=True):
        assert tuple(y.shape) == (0, *shape[1:]), case.name
