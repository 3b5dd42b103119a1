"""A `.keras` file saved by keras-nin 0.1.0 loads, on every backend.

`tests/fixtures/keras_nin-0.1.0.keras` was saved (on TensorFlow) by the
release before the `Block` refactor, from `make_legacy_fixture.py`: every
public layer, batch/layer/group norms with moved statistics, and a
`SqueezeExcite` on 5 channels, whose reduced width the 0.1.0 rule made 2
(plain rounding, today's default, would make it 1). Registration names and
weight paths must not change, and its output must be what 0.1.0 computed.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_file_saved_by_0_1_0_loads_and_computes_the_same():
    saved = np.load(FIXTURES / "keras_nin-0.1.0.npz")
    model = keras.saving.load_model(FIXTURES / "keras_nin-0.1.0.keras")
    assert [w.path for w in model.weights] == list(saved["weights"])
    assert model.get_layer("se_small").reduced_filters == 2
    y = model.predict(saved["x"], verbose=0)
    np.testing.assert_allclose(y, saved["y"], rtol=1e-4, atol=1e-5)
