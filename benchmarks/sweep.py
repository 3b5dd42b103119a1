"""Which statement of a 1×1 layer is faster on this backend: matmul or convolution.

    KERAS_BACKEND=torch python -m benchmarks.sweep [--output FILE]

The measurement behind `Pointwise`'s choice of computation (see its `call`):
for each shape, the bare matmul and `Conv2D(1×1)` with the same weights, with
and without bias + ReLU, timed interleaved on the default path, forward (what
`predict` runs) and forward+backward (what `fit` runs). Each row gives the
matmul's time over the convolution's, with its 95% interval: above 1 the
convolution is the faster statement. Writes a Markdown table to
`results/<backend>-sweep.md`.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from benchmarks import cases
from benchmarks.harness import BACKEND, compile_step, interleaved, layer_fn
from benchmarks.stats import SpeedRatio

RESULTS = Path(__file__).parent / "results"

# (batch, height, width): from a late ResNet stage to NiN's first block.
POSITIONS = [(32, 14, 14), (32, 28, 28), (64, 32, 32), (32, 56, 56)]
# (C_in, C_out): widening, keeping, narrowing by less than half, halving or more.
CHANNELS = [
    (64, 256),
    (128, 512),
    (64, 128),
    (96, 96),
    (192, 192),
    (192, 160),
    (160, 96),
    (128, 64),
    (192, 64),
    (512, 128),
    (192, 10),
]
SMOKE_SHAPES = [(2, 4, 4, 8, 16), (2, 4, 4, 16, 4)]


def sweep(shapes, *, rounds: int = 7) -> list[dict]:
    """matmul time ÷ convolution time, per shape, kind and mode."""
    rows = []
    for comparison in cases.pointwise_comparisons(shapes):
        for backward in (False, True):
            steps = {}
            for name in ("matmul", "Conv2D(1×1)"):
                fn, params = layer_fn(comparison.models[name], training=backward)
                steps[name] = compile_step(fn, params, comparison.x, backward=backward)
            timings = interleaved(
                steps, rounds=rounds, number=1, warmup=2, min_round_seconds=0.05
            )
            ratio = SpeedRatio.paired(
                timings["Conv2D(1×1)"].rounds, timings["matmul"].rounds
            )
            rows.append(
                {
                    "case": comparison.name,
                    "mode": "forward+backward" if backward else "forward",
                    "matmul_over_conv": ratio,
                }
            )
            print(f"{comparison.name} {rows[-1]['mode']}: {ratio}", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        f"Backend: {BACKEND}. matmul time ÷ `Conv2D(1×1)` time, median of the "
        "interleaved rounds [95% interval]; above 1 the convolution is faster.",
        "",
        "| case | mode | matmul ÷ convolution |",
        "|---|---|---|",
    ]
    lines += [f"| {r['case']} | {r['mode']} | {r['matmul_over_conv']} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, for tests")
    parser.add_argument("--output", type=Path, help="Markdown file to write")
    args = parser.parse_args(argv)
    if args.smoke:
        shapes, rounds = SMOKE_SHAPES, 1
    else:
        shapes = [(*p, *c) for p, c in itertools.product(POSITIONS, CHANNELS)]
        rounds = 7
    output = args.output or RESULTS / f"{BACKEND}-sweep.md"
    output.write_text(table(sweep(shapes, rounds=rounds)))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
