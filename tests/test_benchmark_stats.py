"""Paired speed ratios and their sign-test intervals (benchmarks/stats.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.stats import SpeedRatio


# Published 95% confidence intervals for a median by the sign test (1-based
# order statistics; e.g. Conover, Practical Nonparametric Statistics, table A3).
@pytest.mark.parametrize(
    "n, low, high", [(6, 1, 6), (9, 2, 8), (15, 4, 12), (20, 6, 15)]
)
def test_interval_is_the_sign_test_interval(n, low, high):
    subject = [1.0] * n
    baseline = [float(i) for i in range(1, n + 1)]  # ratios 1, 2, ..., n
    ratio = SpeedRatio.paired(subject, baseline)
    assert (ratio.low, ratio.high) == (low, high)
    assert ratio.median == (n + 1) / 2


def test_ratios_pair_rounds_so_drift_cancels():
    # The machine slows down 3× over the run; each round both ran 1.1× apart.
    slowdown = [1 + 0.2 * i for i in range(11)]
    subject = [s * 1.0 for s in slowdown]
    baseline = [s * 1.1 for s in slowdown]
    ratio = SpeedRatio.paired(subject, baseline)
    assert ratio.median == pytest.approx(1.1)
    assert ratio.high - ratio.low == pytest.approx(0)


def test_verdicts():
    ratio = SpeedRatio(median=0.97, low=0.93, high=1.01)
    assert ratio.verdict(0.95) == "pass"
    assert ratio.verdict(1.0) == "within noise"
    assert ratio.verdict(1.02) == "miss"


def test_time_ratio_bar_is_checked_from_above():
    time_ratio = SpeedRatio(median=1 / 0.97, low=1 / 1.01, high=1 / 0.93)
    assert time_ratio.inverse().median == pytest.approx(0.97)
    assert time_ratio.verdict(1.05, at_most=True) == "pass"
    assert time_ratio.verdict(1.03, at_most=True) == "within noise"
    assert time_ratio.verdict(0.98, at_most=True) == "miss"
