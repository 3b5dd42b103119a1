"""How fast `Pointwise` is against the two other statements of a 1×1 layer.

    KERAS_BACKEND=torch python -m benchmarks.sweep [--output FILE]

The measurement behind `Pointwise`'s choice of computation (see its `call`):
for each shape, `Pointwise`, the bare matmul and `Conv2D(1×1)` with the same
weights, with and without bias + ReLU, timed interleaved on the default path,
forward (what `predict` runs) and forward+backward (what `fit` runs). Each row
gives `Pointwise`'s speed against each of the two (the other's time over
`Pointwise`'s) with its 95% interval: above 1 `Pointwise` is faster. Writes a
Markdown table, headed by the machine, to `results/<backend>-sweep.md`.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
from pathlib import Path

from benchmarks import cases
from benchmarks.harness import BACKEND, compile_step, interleaved, layer_fn
from benchmarks.run import machine
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


RIVALS = ("matmul", "Conv2D(1×1)")


def sweep(shapes, *, rounds: int = 7) -> list[dict]:
    """`Pointwise`'s speed against each rival, per shape, kind and mode."""
    rows = []
    for comparison in cases.pointwise_comparisons(shapes):
        for backward in (False, True):
            steps = {
                name: compile_step(
                    *layer_fn(model, training=backward), comparison.x, backward=backward
                )
                for name, model in comparison.models.items()
            }
            timings = interleaved(
                steps, rounds=rounds, number=1, warmup=2, min_round_seconds=0.05
            )
            ours = timings["Pointwise"].rounds
            rows.append(
                {
                    "case": comparison.name,
                    "mode": "forward+backward" if backward else "forward",
                    **{
                        rival: SpeedRatio.paired(ours, timings[rival].rounds)
                        for rival in RIVALS
                    },
                }
            )
            print(f"{comparison.name} {rows[-1]['mode']}:", flush=True)
            for rival in RIVALS:
                print(f"  against {rival}: {rows[-1][rival]}", flush=True)
    return rows


def table(rows: list[dict], about: dict) -> str:
    lines = [
        f"Backend: {about['backend']} {about['backend_version']}, Keras "
        f"{about['keras']}, Python {about['python']}; {about['cpu']}, "
        f"{about['cores']} cores, {about['memory_gib']} GiB; {about['date']}.",
        "",
        "`Pointwise`'s speed against each statement (its time over "
        "`Pointwise`'s), median of the interleaved rounds [95% interval]; above "
        "1 `Pointwise` is faster.",
        "",
        "| case | mode | against the matmul | against `Conv2D(1×1)` |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['case']} | {r['mode']} | {r['matmul']} | {r['Conv2D(1×1)']} |"
        for r in rows
    ]
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
    about = {**machine(), "date": datetime.date.today().isoformat()}
    output.write_text(table(sweep(shapes, rounds=rounds), about))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
