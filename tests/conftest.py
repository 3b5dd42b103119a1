"""Shared pytest setup: every test starts from the same seed and dtype policy.

Property tests (hypothesis) use one profile, loaded always: a fixed number of
examples, derandomized so every run tries the same inputs, no deadline (a
backend's first call compiles), and a reproduction blob on failure.
"""

import keras
import pytest
from hypothesis import settings

settings.register_profile(
    "ci", max_examples=20, derandomize=True, deadline=None, print_blob=True
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()
