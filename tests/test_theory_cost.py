"""theory.cost: multiplies and parameters against hand-computed numbers.

Every expected count is written out as arithmetic from the counting rules
(`positions × kernel volume × C_in/groups × C_out`), not taken from the code.
"""

from __future__ import annotations

import doctest
import importlib

import keras
import pytest
from assemblies import resnet50

import keras_nin
from keras_nin.layers import Bottleneck, NiNBlock, Pointwise
from keras_nin.models import NiN
from keras_nin.theory import CostReport, cost

L = keras.layers


def one_layer(layer, input_shape):
    """The report of one layer on `input_shape`, and its single row."""
    report = cost(layer, input_shape=input_shape)
    (row,) = report.rows
    return report, row


# Each case: the layer, the input shape of one example, expected multiplies,
# expected params, expected output shape.
SUPPORTED = {
    "conv1d_valid_strided": (
        L.Conv1D(6, 3, strides=2),
        (50, 8),
        24 * 3 * 8 * 6,
        3 * 8 * 6 + 6,
        (24, 6),
    ),
    "conv1d_groups": (
        L.Conv1D(6, 3, padding="same", groups=2),
        (10, 8),
        10 * 3 * (8 // 2) * 6,
        3 * 4 * 6 + 6,
        (10, 6),
    ),
    "conv2d_groups_strides": (
        L.Conv2D(12, 3, strides=2, padding="same", groups=4),
        (16, 16, 8),
        8 * 8 * 3 * 3 * (8 // 4) * 12,
        3 * 3 * 2 * 12 + 12,
        (8, 8, 12),
    ),
    "conv2d_channels_first": (
        L.Conv2D(4, 3, data_format="channels_first", use_bias=False),
        (8, 10, 10),
        8 * 8 * 3 * 3 * 8 * 4,
        3 * 3 * 8 * 4,
        (4, 8, 8),
    ),
    "conv2d_dilated": (
        L.Conv2D(4, 3, dilation_rate=2),
        (10, 10, 3),
        6 * 6 * 3 * 3 * 3 * 4,
        3 * 3 * 3 * 4 + 4,
        (6, 6, 4),
    ),
    "conv3d": (
        L.Conv3D(5, 3),
        (6, 8, 8, 4),
        4 * 6 * 6 * 27 * 4 * 5,
        27 * 4 * 5 + 5,
        (4, 6, 6, 5),
    ),
    "pointwise_rank4": (
        Pointwise(16),
        (28, 28, 192),
        28 * 28 * 192 * 16,
        192 * 16 + 16,
        (28, 28, 16),
    ),
    "pointwise_rank5_channels_first": (
        Pointwise(10, data_format="channels_first", use_bias=False),
        (6, 2, 3, 4),
        2 * 3 * 4 * 6 * 10,
        6 * 10,
        (10, 2, 3, 4),
    ),
    "pointwise_rank3": (
        Pointwise(mode="preserve"),
        (9, 5),
        9 * 5 * 5,
        5 * 5 + 5,
        (9, 5),
    ),
    "dense_rank2": (L.Dense(7), (20,), 20 * 7, 20 * 7 + 7, (7,)),
    "dense_rank3": (L.Dense(7), (5, 20), 5 * 20 * 7, 20 * 7 + 7, (5, 7)),
    "dense_rank4": (L.Dense(3), (4, 5, 6), 4 * 5 * 6 * 3, 6 * 3 + 3, (4, 5, 3)),
    "depthwise_conv2d": (
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        (10, 10, 4),
        10 * 10 * 3 * 3 * 4 * 2,
        3 * 3 * 4 * 2 + 8,
        (10, 10, 8),
    ),
    "depthwise_conv1d": (
        L.DepthwiseConv1D(5, strides=2),
        (21, 3),
        9 * 5 * 3,
        5 * 3 + 3,
        (9, 3),
    ),
    "separable_conv2d": (
        L.SeparableConv2D(16, 3, strides=2, padding="same"),
        (10, 10, 4),
        5 * 5 * 3 * 3 * 4 + 5 * 5 * 4 * 16,
        3 * 3 * 4 + 4 * 16 + 16,
        (5, 5, 16),
    ),
    "separable_conv1d_multiplier": (
        L.SeparableConv1D(6, 3, depth_multiplier=2),
        (12, 4),
        10 * 3 * 4 * 2 + 10 * 8 * 6,
        3 * 4 * 2 + 8 * 6 + 6,
        (10, 6),
    ),
    "conv2d_transpose": (
        L.Conv2DTranspose(3, 3, strides=2, padding="same"),
        (4, 4, 5),
        4 * 4 * 3 * 3 * 5 * 3,
        3 * 3 * 3 * 5 + 3,
        (8, 8, 3),
    ),
}


@pytest.mark.parametrize(
    ("layer", "shape", "multiplies", "params", "output_shape"),
    list(SUPPORTED.values()),
    ids=list(SUPPORTED),
)
def test_each_supported_layer_type(layer, shape, multiplies, params, output_shape):
    report, row = one_layer(layer, shape)
    assert row.multiplies == report.multiplies == multiplies
    assert row.params == report.params == params
    assert row.output_shape == output_shape
    assert row.layer_class == type(layer).__name__
    assert report.unknown_layers == ()
    # Counted on a copy: the layer is left unbuilt. Keras's own count, once
    # built, agrees.
    assert not layer.built
    layer.build((None, *shape))
    assert layer.count_params() == params


ZERO_COST = {
    "batch_norm": (L.BatchNormalization(), (6, 6, 8), 4 * 8, 2 * 8),
    "layer_norm": (L.LayerNormalization(), (6, 6, 8), 2 * 8, 2 * 8),
    "group_norm": (L.GroupNormalization(groups=2), (6, 6, 8), 2 * 8, 2 * 8),
    "max_pool": (L.MaxPooling2D(), (6, 6, 8), 0, 0),
    "average_pool": (L.AveragePooling1D(2), (6, 8), 0, 0),
    "global_average_pool": (L.GlobalAveragePooling2D(), (6, 6, 8), 0, 0),
    "global_max_pool": (L.GlobalMaxPooling3D(), (2, 6, 6, 8), 0, 0),
    "relu": (L.ReLU(), (6, 6, 8), 0, 0),
    "activation": (L.Activation("gelu"), (6, 6, 8), 0, 0),
    "softmax": (L.Softmax(), (10,), 0, 0),
    "prelu": (L.PReLU(), (4, 3), 4 * 3, 4 * 3),
    "dropout": (L.Dropout(0.5), (6, 6, 8), 0, 0),
    "flatten": (L.Flatten(), (6, 6, 8), 0, 0),
    "zero_padding": (L.ZeroPadding2D(1), (6, 6, 8), 0, 0),
    "upsampling": (L.UpSampling2D(), (6, 6, 8), 0, 0),
    "embedding": (L.Embedding(100, 4), (5,), 100 * 4, 100 * 4),
}


@pytest.mark.parametrize(
    ("layer", "shape", "params", "trainable"),
    list(ZERO_COST.values()),
    ids=list(ZERO_COST),
)
def test_zero_cost_layers_are_reported_as_zero(layer, shape, params, trainable):
    report, row = one_layer(layer, shape)
    assert row.multiplies == 0
    assert row.note == ""
    assert (report.params, report.trainable_params) == (params, trainable)


@pytest.mark.parametrize("merge", [L.Add, L.Multiply, L.Subtract, L.Concatenate])
def test_merge_layers_count_zero_and_are_listed(merge):
    a, b = keras.Input((4, 4, 3)), keras.Input((4, 4, 3))
    model = keras.Model([a, b], merge(name="merge")([a, b]))
    report = cost(model)
    (row,) = report.rows
    assert (row.name, row.multiplies) == ("merge", 0)
    assert row.output_shape == ((4, 4, 6) if merge is L.Concatenate else (4, 4, 3))


def test_the_lecture_figures():
    """deeplearning.ai, "Inception network motivation", on 28×28×192."""
    naive = keras.Sequential([L.Conv2D(32, 5, padding="same")])
    bottleneck = keras.Sequential([Pointwise(16), L.Conv2D(32, 5, padding="same")])
    naive_cost = cost(naive, input_shape=(28, 28, 192))
    bottleneck_cost = cost(bottleneck, input_shape=(28, 28, 192))
    assert naive_cost.multiplies == 28 * 28 * 5 * 5 * 192 * 32 == 120_422_400
    assert (
        bottleneck_cost.multiplies
        == 28 * 28 * 192 * 16 + 28 * 28 * 5 * 5 * 16 * 32
        == 12_443_648
    )
    # compare(): this report's multiplies divided by the other's.
    assert naive_cost.compare(bottleneck_cost) == pytest.approx(
        120_422_400 / 12_443_648
    )
    assert bottleneck_cost.compare(naive_cost) == pytest.approx(
        12_443_648 / 120_422_400
    )
    assert round(naive_cost.compare(bottleneck_cost), 1) == 9.7


def test_functional_model_totals_are_the_sum_of_rows_and_match_keras():
    inputs = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", name="conv")(inputs)
    x = L.BatchNormalization(name="norm")(x)
    x = L.ReLU(name="relu")(x)
    y = Pointwise(8, name="pw")(x)
    x = L.Add(name="add")([x, y])
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(10, name="head")(x)
    model = keras.Model(inputs, outputs)
    report = cost(model)
    assert [row.name for row in report.rows] == [
        "conv",
        "norm",
        "relu",
        "pw",
        "add",
        "gap",
        "head",
    ]
    expected = 12 * 12 * 3 * 3 * 3 * 8 + 12 * 12 * 8 * 8 + 8 * 10
    assert report.multiplies == expected
    assert report.multiplies == sum(row.multiplies for row in report.rows)
    assert report.params == model.count_params() == sum(r.params for r in report.rows)
    assert report.trainable_params == (3 * 3 * 3 * 8 + 8) + 2 * 8 + (8 * 8 + 8) + (
        8 * 10 + 10
    )
    assert report.input_shape == (12, 12, 3)


def test_shared_layer_multiplies_per_call_params_once():
    shared = L.Dense(4, name="shared")
    a, b = keras.Input((6,)), keras.Input((3, 6))
    model = keras.Model([a, b], [shared(a), shared(b)])
    report = cost(model)
    # Rows follow the graph's depth order, which Keras leaves open for calls
    # at the same depth: compare without order.
    assert sorted(row.multiplies for row in report.rows) == [6 * 4, 3 * 6 * 4]
    assert sorted(row.params for row in report.rows) == [0, 6 * 4 + 4]
    assert report.params == model.count_params()


def test_nested_models_expand_with_their_path():
    inner = keras.Sequential([L.Conv2D(4, 3, name="c1"), L.ReLU(name="r")], name="seq")
    sub_in = keras.Input((6, 6, 4))
    sub = keras.Model(sub_in, Pointwise(2, name="pw")(sub_in), name="sub")
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, sub(inner(inputs)))
    report = cost(model)
    assert [row.name for row in report.rows] == ["seq/c1", "seq/r", "sub/pw"]
    assert report.multiplies == 6 * 6 * 9 * 3 * 4 + 6 * 6 * 4 * 2
    assert report.params == model.count_params()


def test_unbuilt_sequential_needs_input_shape_and_stays_unbuilt():
    model = keras.Sequential([L.Dense(3)])
    with pytest.raises(ValueError, match="is not built") as info:
        cost(model)
    assert "input_shape=" in str(info.value)
    assert cost(model, input_shape=(5,)).multiplies == 5 * 3
    assert not model.built and not model.layers[0].built


def test_input_shape_replaces_unknown_sizes_of_a_built_model():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, L.Conv2D(4, 3, padding="same")(inputs))
    with pytest.raises(ValueError, match=r"has input shape \[\(None, None, 3\)\]"):
        cost(model)
    assert cost(model, input_shape=(10, 10, 3)).multiplies == 10 * 10 * 9 * 3 * 4
    assert cost(model, input_shape=(20, 20, 3)).multiplies == 20 * 20 * 9 * 3 * 4


class TinyBlock(keras.layers.Layer):
    """A block in the house style: sublayers created and built in build()."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters

    def build(self, input_shape):
        self.conv = L.Conv2D(self.filters, 3, padding="same", name="conv")
        self.conv.build(input_shape)
        shape = self.conv.compute_output_shape(input_shape)
        self.norm = L.BatchNormalization(name="norm")
        self.norm.build(shape)
        self.pw = Pointwise(self.filters, name="pw")
        self.pw.build(shape)

    def call(self, x):
        return self.pw(self.norm(self.conv(x)))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


def tiny_block_multiplies(height, width, channels, filters):
    return height * width * 3 * 3 * channels * filters + height * width * filters**2


def test_custom_block_expands_into_its_sublayers():
    report = cost(TinyBlock(4, name="tiny"), input_shape=(6, 6, 3))
    assert [row.name for row in report.rows] == ["conv", "norm", "pw"]
    assert [row.layer_class for row in report.rows] == [
        "Conv2D",
        "BatchNormalization",
        "Pointwise",
    ]
    assert report.multiplies == tiny_block_multiplies(6, 6, 3, 4)
    assert report.params == (9 * 3 * 4 + 4) + 4 * 4 + (4 * 4 + 4)


def test_block_built_on_unknown_sizes_is_costed_on_the_requested_shape():
    """A block built on (None, None, 3) learns the real sizes from a fresh copy."""
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, TinyBlock(4, name="tiny")(inputs))
    report = cost(model, input_shape=(10, 8, 3))
    assert report.multiplies == tiny_block_multiplies(10, 8, 3, 4)
    assert [row.name for row in report.rows] == ["tiny/conv", "tiny/norm", "tiny/pw"]
    assert report.rows[0].output_shape == (10, 8, 4)
    assert report.params == model.count_params()


def test_block_used_inside_a_model_gets_its_path():
    inputs = keras.Input((6, 6, 3))
    x = TinyBlock(4, name="b1")(inputs)
    model = keras.Model(inputs, TinyBlock(2, name="b2")(x))
    report = cost(model)
    assert [row.name for row in report.rows][:4] == [
        "b1/conv",
        "b1/norm",
        "b1/pw",
        "b2/conv",
    ]
    assert report.multiplies == tiny_block_multiplies(
        6, 6, 3, 4
    ) + tiny_block_multiplies(6, 6, 4, 2)


class Scale(keras.layers.Layer):
    """A custom layer with weights and no counting rule."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.scale


class Double(keras.layers.Layer):
    """A custom layer without weights and without a counting rule."""

    def call(self, x):
        return x * 2.0


def test_unknown_layer_with_weights_is_flagged_not_skipped():
    inputs = keras.Input((4, 4, 3))
    x = L.Conv2D(2, 1, name="conv")(inputs)
    x = Scale(name="scale")(x)
    model = keras.Model(inputs, Double(name="double")(x))
    report = cost(model)
    conv, scale, double = report.rows
    assert conv.multiplies == 4 * 4 * 3 * 2
    assert scale.multiplies is None and scale.note == "no counting rule"
    assert scale.params == 2
    assert double.multiplies == 0  # no weights: assumed free
    assert report.unknown_layers == ("scale",)
    assert report.multiplies == 4 * 4 * 3 * 2  # the known part, a lower bound
    assert report.params == model.count_params()
    text = str(report)
    assert "? (no counting rule)" in text
    assert "lower bound" in text and "scale" in text.splitlines()[-1]
    assert "+?" in text


def test_block_with_own_weights_flags_them():
    class Gated(TinyBlock):
        def build(self, input_shape):
            super().build(input_shape)
            self.gate = self.add_weight(shape=(self.filters,), initializer="ones")

    report = cost(Gated(3, name="gated"), input_shape=(5, 5, 2))
    assert report.unknown_layers == ("gated",)
    assert report.rows[-1].params == 3
    assert report.multiplies == tiny_block_multiplies(5, 5, 2, 3)


def test_functional_matmul_operation_is_flagged():
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, keras.ops.matmul(inputs, keras.ops.ones((3, 2))))
    report = cost(model)
    assert report.unknown_layers == (report.rows[0].name,)


def test_nin_block_and_bottleneck():
    report = cost(NiNBlock(8, 3, mlp_filters=(6, 4)), input_shape=(10, 10, 3))
    assert report.multiplies == 10 * 10 * (9 * 3 * 8 + 8 * 6 + 6 * 4)
    assert report.params == (9 * 3 * 8 + 8) + (8 * 6 + 6) + (6 * 4 + 4)

    report = cost(Bottleneck(256, strides=2), input_shape=(56, 56, 128))
    # reduce 1×1 to 64 at 56×56, 3×3 stride 2 at 28×28, expand 1×1 to 256,
    # projection 1×1 from 128 to 256 on the subsampled 28×28 input.
    assert report.multiplies == (
        56 * 56 * 128 * 64
        + 28 * 28 * 3 * 3 * 64 * 64
        + 28 * 28 * 64 * 256
        + 28 * 28 * 128 * 256
    )
    assert report.rows[-2].name == "projection"
    assert report.rows[-2].output_shape == (28, 28, 256)


def test_nin_model_parameter_count():
    report = cost(NiN())
    assert report.params == report.trainable_params == 966_986
    assert report.unknown_layers == ()
    assert report.multiplies == (
        32 * 32 * (5 * 5 * 3 * 192 + 192 * 160 + 160 * 96)
        + 16 * 16 * (5 * 5 * 96 * 192 + 192 * 192 + 192 * 192)
        + 8 * 8 * (3 * 3 * 192 * 192 + 192 * 192 + 192 * 10)
    )


def test_resnet50_matches_torchvision():
    """4,089,184,256 MACs: torchvision's 4.09 GFLOPS, which are MACs."""
    model = resnet50()
    report = cost(model)
    assert report.unknown_layers == ()
    assert report.params == model.count_params()
    assert report.trainable_params == 25_557_032
    fully_connected = 2048 * 1000
    assert report.multiplies == 4_087_136_256 + fully_connected == 4_089_184_256


def test_text_and_markdown_tables():
    model = keras.Sequential(
        [keras.Input((28, 28, 192)), Pointwise(16, name="reduce")], name="demo"
    )
    report = cost(model)
    text = str(report)
    assert text.splitlines()[0] == "Cost of 'demo'"
    assert "reduce" in text and "Pointwise" in text and "(28, 28, 16)" in text
    assert "2,408,448" in text and "3,088" in text
    markdown = report.to_markdown()
    lines = markdown.splitlines()
    assert lines[0] == "| Layer | Class | Output shape | Multiplies | Params |"
    assert lines[1] == "|---|---|---|---:|---:|"
    assert lines[2] == "| `reduce` | Pointwise | (28, 28, 16) | 2,408,448 | 3,088 |"
    assert lines[3] == "| **Total** |  |  | **2,408,448** | **3,088** |"


def test_one_tuple_shapes_render_as_tuples():
    report = cost(L.Dense(10), input_shape=(4,))
    assert "(10,)" in str(report)


def one_input_model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, L.Dense(2)(inputs))


BAD_CALLS = [
    (lambda: cost("model"), TypeError, ["`obj`", "'model'"]),
    (lambda: cost(L.Dense(2)), ValueError, ["is not built", "input_shape="]),
    (
        lambda: cost(L.Dense(2), input_shape=(None, 3)),
        ValueError,
        ["`input_shape`", "(None, 3)"],
    ),
    (lambda: cost(L.Dense(2), input_shape=(0,)), ValueError, ["input_shape=(0,)"]),
    (lambda: cost(L.Dense(2), input_shape="28x28"), ValueError, ["'28x28'"]),
    (
        lambda: cost(one_input_model(), input_shape=[(3,), (3,)]),
        ValueError,
        ["1 inputs", "2 shapes"],
    ),
]


@pytest.mark.parametrize(("call", "error", "names"), BAD_CALLS)
def test_bad_arguments_raise_clear_errors(call, error, names):
    with pytest.raises(error) as info:
        call()
    for name in names:
        assert name in str(info.value), (name, str(info.value))


def test_compare_refuses_non_reports_and_zero():
    report = cost(L.Dense(2), input_shape=(3,))
    with pytest.raises(TypeError, match="Expected a CostReport"):
        report.compare(6)
    free = cost(L.ReLU(), input_shape=(3,))
    with pytest.raises(ValueError, match="0 multiplies"):
        report.compare(free)
    assert isinstance(report, CostReport)


def test_exported_from_the_package():
    assert keras_nin.theory.cost is cost
    assert set(keras_nin.theory.__all__) >= {
        "to_dense",
        "from_dense",
        "as_positions",
        "from_positions",
        "cost",
        "CostReport",
    }


@pytest.mark.parametrize("module", ["cost", "equivalence"])
def test_docstring_examples_run(module):
    # `keras_nin.theory.cost` is the function: import the module by its path.
    module = importlib.import_module(f"keras_nin.theory.{module}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
