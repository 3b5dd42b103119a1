"""NiN on two CPU devices equals NiN on one: MirroredStrategy and DataParallel.

Both run `examples/train_distributed.py` (the script of the guide page) in a
fresh interpreter: the device count must be set before TensorFlow or JAX
starts, which the test process has already done.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from layer_checks import BACKEND

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "train_distributed.py"


def run_script(engine: str, backend: str) -> str:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), engine],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


def check_output(stdout: str) -> None:
    difference = float(re.search(r"2 devices vs 1: (\S+)", stdout)[1])
    moved = float(re.search(r"change in training: (\S+)", stdout)[1])
    # Training moved the weights by ~1e-3; two devices agree to float32 rounding.
    assert moved > 1e-4
    assert difference <= 1e-5


@pytest.mark.skipif(
    BACKEND != "tensorflow", reason="tf.distribute runs in the TensorFlow run only"
)
def test_mirrored_strategy_matches_one_device():
    stdout = run_script("mirrored", "tensorflow")
    assert "replicas: 2" in stdout
    check_output(stdout)


@pytest.mark.skipif(
    BACKEND != "jax", reason="keras.distribution runs in the JAX run only"
)
def test_jax_data_parallel_matches_one_device():
    stdout = run_script("data-parallel", "jax")
    assert "devices: ['cpu:0', 'cpu:1']" in stdout
    check_output(stdout)
