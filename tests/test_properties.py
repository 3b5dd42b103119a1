"""Property tests (hypothesis): random ranks, sizes, channels, modes, formats.

The profile of `conftest.py` fixes the examples (derandomized): Pointwise 25
examples per property, the blocks 15. Every example checks that the eager
output shape equals `compute_output_shape` and the symbolic shape, and that
`from_config(get_config())` with the same weights gives the same output;
Pointwise also against the NumPy einsum oracle.
"""

from __future__ import annotations

import keras
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_checks import check_config_round_trip, check_output_shapes
from public_layers import BY_NAME, LAYERS
from test_pointwise import numpy_pointwise

from keras_nin.layers import Pointwise

DATA_FORMATS = st.sampled_from(["channels_last", "channels_first"])


def shape_of(batch, spatial, channels, data_format) -> tuple[int, ...]:
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


@st.composite
def pointwise_cases(draw):
    """A valid Pointwise configuration and an input shape for it."""
    channels = draw(st.integers(1, 256))
    modes = ["filters", "preserve", "expand"] + (["reduce"] if channels > 1 else [])
    mode = draw(st.sampled_from(modes))
    if mode == "filters":
        kwargs = {"filters": draw(st.integers(1, 64))}
    elif mode == "preserve":
        kwargs = {"mode": "preserve"}
    elif mode == "reduce":
        kwargs = draw(
            st.one_of(
                st.builds(dict, filters=st.integers(1, channels - 1)),
                st.builds(dict, ratio=st.floats(0.01, 0.99)),
            )
        )
        if "ratio" in kwargs and not channels * kwargs["ratio"] + 0.5 < channels:
            kwargs = {"filters": channels - 1}
        kwargs["mode"] = "reduce"
    else:
        kwargs = draw(
            st.one_of(
                st.builds(dict, filters=st.integers(channels + 1, channels + 64)),
                st.builds(dict, ratio=st.floats(1.01, 4.0)),
            )
        )
        if "ratio" in kwargs and not round(channels * kwargs["ratio"]) > channels:
            kwargs = {"filters": channels + 1}
        kwargs["mode"] = "expand"
    kwargs["activation"] = draw(st.sampled_from(["relu", None]))
    kwargs["use_bias"] = draw(st.booleans())
    kwargs["data_format"] = draw(DATA_FORMATS)
    rank = draw(st.integers(3, 5))
    spatial = draw(st.lists(st.integers(1, 4), min_size=rank - 2, max_size=rank - 2))
    batch = draw(st.integers(1, 3))
    return kwargs, shape_of(batch, spatial, channels, kwargs["data_format"])


@settings(max_examples=25)
@given(pointwise_cases(), st.integers(0, 2**16))
def test_pointwise_shapes_numerics_and_config(case, seed):
    kwargs, shape = case
    x = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    check_output_shapes(lambda: Pointwise(**kwargs, bias_initializer="ones"), x)
    layer = Pointwise(**kwargs, bias_initializer="random_normal")
    y = keras.ops.convert_to_numpy(layer(x))
    weights = layer.get_weights()
    bias = weights[1] if kwargs["use_bias"] else None
    expected = numpy_pointwise(
        x, weights[0], bias, kwargs["activation"] == "relu", kwargs["data_format"]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    check_config_round_trip(layer, x)


# What each block may vary beyond the registry's configuration.
BLOCK_VARIATIONS = {
    "Pointwise": {},
    "NiNBlock": {"strides": st.integers(1, 2)},
    "Bottleneck": {"strides": st.integers(1, 2)},
    "InceptionBlock": {"normalization": st.sampled_from([None, "batch", "group"])},
    "InvertedResidual": {"strides": st.integers(1, 2)},
    "FireModule": {"normalization": st.sampled_from([None, "layer"])},
    "SqueezeExcite": {"ratio": st.floats(0.05, 1.0)},
}


def test_every_layer_has_its_variations():
    assert set(BLOCK_VARIATIONS) == set(BY_NAME)


@st.composite
def block_cases(draw):
    case = draw(st.sampled_from(LAYERS))
    overrides = {name: draw(s) for name, s in BLOCK_VARIATIONS[case.name].items()}
    data_format = draw(DATA_FORMATS)
    rank = draw(st.integers(3, 5))
    spatial = draw(st.lists(st.integers(1, 4), min_size=rank - 2, max_size=rank - 2))
    shape = shape_of(
        draw(st.integers(1, 2)), spatial, draw(st.integers(1, 8)), data_format
    )
    return case, overrides, data_format, shape


@settings(max_examples=15)
@given(block_cases())
def test_blocks_shapes_and_config(block_case):
    case, overrides, data_format, shape = block_case
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    check_output_shapes(lambda: case.make(data_format, **overrides), x)
    check_config_round_trip(case.make(data_format, **overrides), x)
