"""One table: every public constructor and `build` on invalid values.

Each row must raise `ValueError` or `TypeError` whose message names the
argument; nothing else may escape (no backend crash, no `AttributeError`).
"""

from __future__ import annotations

import math

import pytest
from public_layers import BY_NAME, LAYER_NAMES, LAYERS

from keras_nin.models import NiN

NAN = math.nan
SHAPE = (None, 5, 5, 4)

# (layer name, constructor overrides, build shape or None, named argument)
ROWS = [
    # Pointwise
    ("Pointwise", {"filters": 0}, None, "filters"),
    ("Pointwise", {"filters": -3}, None, "filters"),
    ("Pointwise", {"filters": 2.5}, None, "filters"),
    ("Pointwise", {"filters": "8"}, None, "filters"),
    ("Pointwise", {"filters": True}, None, "filters"),
    ("Pointwise", {"filters": None, "mode": "shrink"}, None, "mode"),
    ("Pointwise", {"filters": None, "mode": 3}, None, "mode"),
    ("Pointwise", {"filters": None, "mode": "reduce", "ratio": NAN}, None, "ratio"),
    ("Pointwise", {"filters": None, "mode": "reduce", "ratio": "0.5"}, None, "ratio"),
    ("Pointwise", {"filters": None, "mode": "reduce", "ratio": 1.5}, None, "ratio"),
    ("Pointwise", {"filters": None, "mode": "expand", "ratio": -2.0}, None, "ratio"),
    ("Pointwise", {"filters": None}, None, "filters"),
    ("Pointwise", {"filters": 8, "mode": "reduce"}, SHAPE, "filters"),
    ("Pointwise", {"activation": "no_such_activation"}, None, "activation"),
    ("Pointwise", {"kernel_initializer": "no_such_init"}, None, "kernel_initializer"),
    ("Pointwise", {"data_format": "NHWC"}, None, "data_format"),
    ("Pointwise", {}, (None, 4), "input_shape"),
    ("Pointwise", {}, (None, 2, 2, 2, 2, 4), "input_shape"),
    ("Pointwise", {}, (None, 5, 5, None), "input_shape"),
    ("Pointwise", {}, (None, 5, 5, 0), "input_shape"),
    # NiNBlock
    ("NiNBlock", {"filters": 0}, None, "filters"),
    ("NiNBlock", {"filters": "6"}, None, "filters"),
    ("NiNBlock", {"kernel_size": 0}, None, "kernel_size"),
    ("NiNBlock", {"kernel_size": (3, -1)}, None, "kernel_size"),
    ("NiNBlock", {"kernel_size": "3"}, None, "kernel_size"),
    ("NiNBlock", {"kernel_size": (3, 3, 3)}, SHAPE, "kernel_size"),
    ("NiNBlock", {"strides": ()}, None, "strides"),
    ("NiNBlock", {"strides": (2, 2.0)}, None, "strides"),
    ("NiNBlock", {"mlp_filters": ()}, None, "mlp_filters"),
    ("NiNBlock", {"mlp_filters": (4, 0)}, None, "mlp_filters"),
    ("NiNBlock", {"mlp_filters": "43"}, None, "mlp_filters"),
    ("NiNBlock", {"mlp_filters": None, "mlp_depth": 0}, None, "mlp_depth"),
    ("NiNBlock", {"padding": "full"}, None, "padding"),
    ("NiNBlock", {"normalization": "instance"}, None, "normalization"),
    ("NiNBlock", {"normalization": 1}, None, "normalization"),
    ("NiNBlock", {"dropout": 1.0}, None, "dropout"),
    ("NiNBlock", {"dropout": NAN}, None, "dropout"),
    ("NiNBlock", {"dropout": "0.1"}, None, "dropout"),
    ("NiNBlock", {"padding": "valid", "kernel_size": 7}, SHAPE, "input_shape"),
    ("NiNBlock", {}, (None, 4), "input_shape"),
    ("NiNBlock", {}, (None, 5, 5, None), "input_shape"),
    # Bottleneck
    ("Bottleneck", {"filters": -8}, None, "filters"),
    ("Bottleneck", {"bottleneck_ratio": 0}, None, "bottleneck_ratio"),
    ("Bottleneck", {"bottleneck_ratio": NAN}, None, "bottleneck_ratio"),
    ("Bottleneck", {"bottleneck_ratio": "1/4"}, None, "bottleneck_ratio"),
    ("Bottleneck", {"groups": 3}, None, "groups"),
    ("Bottleneck", {"groups": 0}, None, "groups"),
    ("Bottleneck", {"shortcut": "none"}, None, "shortcut"),
    ("Bottleneck", {"shortcut": "identity"}, SHAPE, "shortcut"),
    ("Bottleneck", {"strides": (2, 2, 2)}, SHAPE, "strides"),
    ("Bottleneck", {"activation": 3}, None, "activation"),
    ("Bottleneck", {}, (None, 5, 5, None), "input_shape"),
    ("Bottleneck", {}, (None, 2, 2, 2, 2, 4), "input_shape"),
    # InceptionBlock
    ("InceptionBlock", {"branch1x1": 0}, None, "branch1x1"),
    ("InceptionBlock", {"branch3x3": "3"}, None, "branch3x3"),
    ("InceptionBlock", {"branch5x5": -1}, None, "branch5x5"),
    ("InceptionBlock", {"pool_proj": 0}, None, "pool_proj"),
    ("InceptionBlock", {"reduce3x3": 1.5}, None, "reduce3x3"),
    ("InceptionBlock", {"reduce5x5": -2}, None, "reduce5x5"),
    ("InceptionBlock", {"normalization": "batchnorm"}, None, "normalization"),
    ("InceptionBlock", {}, (None, 4), "input_shape"),
    ("InceptionBlock", {}, (None, 5, 5, None), "input_shape"),
    # InvertedResidual
    ("InvertedResidual", {"filters": 0}, None, "filters"),
    ("InvertedResidual", {"expansion": 0}, None, "expansion"),
    ("InvertedResidual", {"expansion": NAN}, None, "expansion"),
    ("InvertedResidual", {"expansion": "6"}, None, "expansion"),
    ("InvertedResidual", {"kernel_size": (3,)}, SHAPE, "kernel_size"),
    ("InvertedResidual", {"strides": -1}, None, "strides"),
    ("InvertedResidual", {}, (None, 5, 5, None), "input_shape"),
    ("InvertedResidual", {}, (None, 4), "input_shape"),
    # FireModule
    ("FireModule", {"squeeze": 0}, None, "squeeze"),
    ("FireModule", {"expand1x1": "3"}, None, "expand1x1"),
    ("FireModule", {"expand3x3": None}, None, "expand3x3"),
    ("FireModule", {"data_format": "channels_middle"}, None, "data_format"),
    ("FireModule", {}, (None, 5, 5, None), "input_shape"),
    # SqueezeExcite
    ("SqueezeExcite", {"ratio": 0}, None, "ratio"),
    ("SqueezeExcite", {"ratio": 1.5}, None, "ratio"),
    ("SqueezeExcite", {"ratio": NAN}, None, "ratio"),
    ("SqueezeExcite", {"ratio": "1/16"}, None, "ratio"),
    ("SqueezeExcite", {"divisor": 0}, None, "divisor"),
    ("SqueezeExcite", {"gate_activation": "no_such_gate"}, None, "gate_activation"),
    ("SqueezeExcite", {"bias_regularizer": "l7"}, None, "bias_regularizer"),
    ("SqueezeExcite", {}, (None, 4), "input_shape"),
    ("SqueezeExcite", {}, (None, 5, 5, None), "input_shape"),
]
# Every block's norm settings.
for _block in sorted(set(LAYER_NAMES) - {"Pointwise"}):
    ROWS += [
        (_block, {"norm_momentum": 1.0}, None, "norm_momentum"),
        (_block, {"norm_momentum": -0.1}, None, "norm_momentum"),
        (_block, {"norm_epsilon": 0.0}, None, "norm_epsilon"),
    ]
ROWS += [
    ("NiNBlock", {"norm_momentum": "0.9"}, None, "norm_momentum"),
    ("NiNBlock", {"norm_epsilon": NAN}, None, "norm_epsilon"),
    ("NiNBlock", {"norm_epsilon": None}, None, "norm_epsilon"),
]

MODEL_ROWS = [
    ({"input_shape": (32, 32)}, "input_shape"),
    ({"input_shape": "32x32x3"}, "input_shape"),
    ({"input_shape": (32, 32, None)}, "input_shape"),
    ({"input_shape": (0, 32, 3)}, "input_shape"),
    ({"input_shape": (32.0, 32, 3)}, "input_shape"),
    ({"num_classes": 0}, "num_classes"),
    ({"num_classes": "10"}, "num_classes"),
    ({"dropout": 1.0}, "dropout"),
    ({"dropout": NAN}, "dropout"),
    ({"normalization": "instance"}, "normalization"),
    ({"norm_momentum": 1.5}, "norm_momentum"),
    ({"norm_epsilon": -1e-5}, "norm_epsilon"),
    ({"include_top": "yes"}, "include_top"),
]


def rejection_problem(make, argument: str) -> str | None:
    """None if `make()` raises ValueError/TypeError naming `argument`."""
    try:
        make()
    except (ValueError, TypeError) as error:
        message = str(error)
        if f"`{argument}`" in message or f"{argument}=" in message:
            return None
        return f"message does not name `{argument}`: {message}"
    return "no error raised"


def build_row(row) -> None:
    name, overrides, shape, _ = row
    case = BY_NAME[name]
    layer = case.cls(**{**case.kwargs, **overrides})
    if shape is not None:
        layer.build(shape)


def test_every_public_layer_is_registered():
    """A new public layer must join the registry, and so every table here."""
    assert {case.name for case in LAYERS} == set(LAYER_NAMES)
    assert {row[0] for row in ROWS} == set(LAYER_NAMES)


# One test per layer, not per row: the suite pays a Keras session reset per test.
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_rejects_invalid_values_naming_the_argument(name):
    problems = []
    for row in (row for row in ROWS if row[0] == name):
        problem = rejection_problem(lambda row=row: build_row(row), row[3])
        if problem is not None:
            problems.append(f"{row[1]}, build {row[2]}: {problem}")
    assert problems == []


def test_nin_rejects_invalid_values_naming_the_argument():
    problems = []
    for kwargs, argument in MODEL_ROWS:
        problem = rejection_problem(lambda kwargs=kwargs: NiN(**kwargs), argument)
        if problem is not None:
            problems.append(f"{kwargs}: {problem}")
    assert problems == []
