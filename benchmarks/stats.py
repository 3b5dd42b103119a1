"""Speed ratios of two interleaved cases, with the noise they carry.

Two cases timed in the same rounds are compared round by round (the rounds ran
seconds apart, so slow drift of the machine cancels), and the median of the
per-round ratios is reported with a distribution-free 95% confidence interval:
the order statistics of the ratios that bracket their median with at least 95%
probability (the sign-test interval, no assumption about the noise's shape).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SpeedRatio:
    """How many times faster the subject ran than the baseline (> 1: faster)."""

    median: float
    low: float
    high: float

    @classmethod
    def paired(cls, subject: Sequence[float], baseline: Sequence[float]) -> SpeedRatio:
        """From the seconds per step of each round of two interleaved cases."""
        ratios = sorted(b / s for s, b in zip(subject, baseline, strict=True))
        rank = _interval_rank(len(ratios))
        return cls(statistics.median(ratios), ratios[rank], ratios[-1 - rank])

    def inverse(self) -> SpeedRatio:
        """The same comparison as a time ratio (subject time ÷ baseline time)."""
        return SpeedRatio(1 / self.median, 1 / self.high, 1 / self.low)

    def verdict(self, bar: float, *, at_most: bool = False) -> str:
        """`pass` if the median meets the bar, `miss` if the whole interval
        misses it, `within noise` if the bar lies inside the interval."""
        low, median, high = self.low, self.median, self.high
        if at_most:  # compare negated values: "≤ bar" becomes "≥ -bar"
            low, median, high, bar = -high, -median, -low, -bar
        if median >= bar:
            return "pass"
        return "within noise" if high >= bar else "miss"

    def __str__(self) -> str:
        return f"{self.median:.3f} [{self.low:.3f}–{self.high:.3f}]"


def _interval_rank(n: int, confidence: float = 0.95) -> int:
    """The 0-based rank k such that [x_k, x_(n-1-k)] of n sorted values covers
    their population median with probability ≥ `confidence`: the largest k with
    P(Binomial(n, ½) ≤ k) ≤ (1 - confidence) / 2, or 0 (min to max) if none."""
    rank, tail = 0, 0.0
    for k in range(n // 2):
        tail += math.comb(n, k) / 2**n
        if tail > (1 - confidence) / 2:
            break
        rank = k
    return rank
