"""Turn result files into the tables and the plot of the Benchmarks page.

    python -m benchmarks.report [--print-only] [RESULT.json ...]

Without arguments it reads `benchmarks/results/{tensorflow,jax,torch}.json`.
It prints the tables, writes them as Markdown to `benchmarks/results/summary.md`
(the bars and headline figures) and `benchmarks/results/tables.md` (every
figure), both included by `docs/benchmarks.md`, and draws
`docs/assets/benchmarks/pointwise.svg`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.stats import SpeedRatio

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / "docs" / "assets" / "benchmarks" / "pointwise.svg"
BACKENDS = ("tensorflow", "jax", "torch")
MODES = ("forward", "forward+backward")
# The bars of the performance issue, checked on the TensorFlow backend.
BAR_MATMUL, BAR_CONV, BAR_BLOCKS = 0.95, 1.0, 1.03
THEORY_MODELS = ("1×1 reduce → 5×5", "5×5 directly")


def _median(case: dict, mode: str, name: str) -> float:
    return case[mode][name]["median_s"]


def speed_ratio(case: dict, mode: str, subject: str, baseline: str) -> SpeedRatio:
    """Throughput of `subject` relative to `baseline` (> 1: subject is faster),
    compared round by round."""
    return SpeedRatio.paired(
        case[mode][subject]["rounds_s"], case[mode][baseline]["rounds_s"]
    )


def gflops(case: dict, mode: str, name: str) -> float:
    """GFLOP/s; a backward pass costs two forward products (input and weights)."""
    flops = case["flops"] * (3 if mode == "forward+backward" else 1)
    return flops / _median(case, mode, name) / 1e9


def _checked(ratio: SpeedRatio, bar: float, checked: bool, at_most=False) -> str:
    """The ratio, its 95% interval and, on the checked backend, the verdict."""
    verdict = f" ({ratio.verdict(bar, at_most=at_most)})" if checked else ""
    return f"{ratio}{verdict}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def pointwise_table(result: dict) -> str:
    checked = result["machine"]["backend"] == "tensorflow"
    peak = {mode: gflops(result["gemm"], mode, "gemm") for mode in MODES}
    rows = []
    for case in result["pointwise"]:
        for mode in MODES:
            vs_matmul = speed_ratio(case, mode, "Pointwise", "matmul")
            vs_conv = speed_ratio(case, mode, "Pointwise", "Conv2D(1×1)")
            throughput = gflops(case, mode, "Pointwise")
            rows.append(
                [
                    case["name"],
                    mode,
                    f"{_median(case, mode, 'Pointwise') * 1e3:.2f}",
                    _checked(vs_matmul, BAR_MATMUL, checked),
                    _checked(vs_conv, BAR_CONV, checked),
                    f"{throughput:.1f}",
                    f"{throughput / peak[mode]:.0%}",
                    f"{case['arithmetic_intensity']:.1f}",
                    f"{case[mode]['Pointwise']['page_faults']:.0f}",
                ]
            )
    header = [
        "case",
        "mode",
        "Pointwise ms",
        "× matmul speed",
        "× Conv2D(1×1) speed",
        "GFLOP/s",
        "of peak GEMM",
        "FLOP/byte",
        "page faults/step",
    ]
    peak_line = (
        f"Peak GEMM ({result['gemm']['name']}): {peak['forward']:.1f} GFLOP/s "
        f"forward, {peak['forward+backward']:.1f} GFLOP/s forward+backward."
    )
    return _table(header, rows) + "\n\n" + peak_line


def blocks_table(result: dict) -> str:
    checked = result["machine"]["backend"] == "tensorflow"
    rows = []
    for case in result["blocks"]:
        for mode in MODES:
            ratio = speed_ratio(case, mode, "keras-nin", "plain Keras").inverse()
            rows.append(
                [
                    case["name"],
                    mode,
                    f"{_median(case, mode, 'keras-nin') * 1e3:.2f}",
                    f"{_median(case, mode, 'plain Keras') * 1e3:.2f}",
                    _checked(ratio, BAR_BLOCKS, checked, at_most=True),
                ]
            )
    header = ["block", "mode", "keras-nin ms", "plain Keras ms", "time ratio"]
    return _table(header, rows)


def theory_table(result: dict) -> str:
    case = result["theory"]
    rows = [
        [
            mode,
            f"{case['multiply_ratio']:.2f}×",
            f"{speed_ratio(case, mode, *THEORY_MODELS).median:.2f}×",
        ]
        for mode in MODES
    ]
    return f"{case['name']}\n\n" + _table(
        ["mode", "fewer multiplies (theory)", "measured speed-up"], rows
    )


def extras_table(result: dict) -> str:
    throughput = result["training_throughput"]
    memory = result["training_memory"]  # {} in a quick run
    rows = [
        [
            name,
            f"{throughput[name]['images_per_s']:.0f}",
            f"{memory[name]['training_step_mib']:.0f}" if memory else "–",
            f"{memory[name]['peak_mib']:.0f}" if memory else "–",
        ]
        for name in ("keras-nin", "plain Keras")
    ]
    table = _table(
        ["NiN", "training images/s", "training step MiB", "peak RSS MiB"], rows
    )
    return (
        table
        + f"\n\n`import keras_nin` after `import keras`: {result['import_ms']:.0f} ms."
    )


def allocator_table(result: dict) -> str:
    """The same Pointwise step with glibc malloc and with tcmalloc preloaded."""
    allocator = result.get("allocator")
    if result["mode"] == "quick":
        return "Not measured in a quick run (it starts fresh processes)."
    if not allocator:
        return "tcmalloc was not installed for this run."
    glibc, tcmalloc = allocator["glibc malloc"], allocator["tcmalloc"]
    rows = [
        [
            mode,
            *(
                f"{step[mode]['median_s'] * 1e3:.2f} ms, "
                f"{step[mode]['page_faults']:.0f} faults"
                for step in (glibc, tcmalloc)
            ),
            f"{glibc[mode]['median_s'] / tcmalloc[mode]['median_s']:.2f}×",
        ]
        for mode in MODES
    ]
    header = ["mode", "glibc malloc", "tcmalloc preloaded", "speed-up"]
    return f"Pointwise, {allocator['name']}, per step\n\n" + _table(header, rows)


# The bars: description, section of the results, subject, baseline, bar.
# Pointwise's are on speed (≥ bar), the blocks' on time (≤ bar).
BARS = (
    (
        "`Pointwise` ≥ 0.95× matmul speed",
        "pointwise",
        "Pointwise",
        "matmul",
        BAR_MATMUL,
    ),
    (
        "`Pointwise` ≥ 1.0× `Conv2D(1×1)` speed",
        "pointwise",
        "Pointwise",
        "Conv2D(1×1)",
        BAR_CONV,
    ),
    (
        "blocks ≤ 1.03× plain-Keras time",
        "blocks",
        "keras-nin",
        "plain Keras",
        BAR_BLOCKS,
    ),
)


def _bar_cell(result: dict, bar_index: int, mode: str) -> str:
    """'0.97–1.33×: 5 pass, 1 within noise' for one bar, backend and mode."""
    _, section, subject, baseline, bar = BARS[bar_index]
    at_most = section == "blocks"
    ratios = [speed_ratio(case, mode, subject, baseline) for case in result[section]]
    if at_most:
        ratios = [ratio.inverse() for ratio in ratios]
    verdicts = [ratio.verdict(bar, at_most=at_most) for ratio in ratios]
    counts = ", ".join(
        f"{verdicts.count(v)} {v}"
        for v in ("pass", "within noise", "miss")
        if verdicts.count(v)
    )
    medians = [ratio.median for ratio in ratios]
    return f"{min(medians):.2f}–{max(medians):.2f}×: {counts}"


def summary(results: list[dict]) -> str:
    """The bars per backend and mode, and the headline figures of every backend."""
    backends = [result["machine"]["backend"] for result in results]
    rows = [
        [f"{BARS[index][0]}, {mode}", *(_bar_cell(r, index, mode) for r in results)]
        for index in range(len(BARS))
        for mode in MODES
    ]
    bars = _table(["bar", *backends], rows)
    rows = []
    for result in results:
        throughput = result["training_throughput"]
        theory = result["theory"]
        allocator = result.get("allocator") or {}
        speedups = [speed_ratio(theory, mode, *THEORY_MODELS).median for mode in MODES]
        if allocator:
            glibc, tcmalloc = allocator["glibc malloc"], allocator["tcmalloc"]
            allocation = " / ".join(
                f"{glibc[mode]['median_s'] / tcmalloc[mode]['median_s']:.2f}×"
                for mode in MODES
            )
        else:
            allocation = "not measured"
        rows.append(
            [
                result["machine"]["backend"],
                f"{throughput['keras-nin']['images_per_s']:.0f} / "
                f"{throughput['plain Keras']['images_per_s']:.0f}",
                f"{theory['multiply_ratio']:.2f}× / "
                + " / ".join(f"{value:.2f}×" for value in speedups),
                allocation,
                f"{result['import_ms']:.0f} ms",
            ]
        )
    header = [
        "backend",
        "NiN training images/s (keras-nin / plain Keras)",
        "1×1 bottleneck: fewer multiplies / forward / f+b speed-up",
        "tcmalloc speed-up, forward / f+b",
        "`import keras_nin`",
    ]
    return (
        "Each cell: the lowest and highest median ratio over the cases, and how "
        "many cases pass the bar, lie within noise of it (the bar is inside the "
        "case's 95% interval) or miss it.\n\n" + bars + "\n\n" + _table(header, rows)
    )


def render(results: list[dict]) -> str:
    parts = []
    for result in results:
        machine = result["machine"]
        sections = {
            "Pointwise against the matrix-multiply limit": pointwise_table(result),
            "Blocks against the same graph in plain Keras": blocks_table(result),
            "Theory against measurement": theory_table(result),
            "Training a NiN model": extras_table(result),
            "Memory allocator": allocator_table(result),
        }
        parts.append(
            f"### {machine['backend']} {machine['backend_version']}\n\n"
            f"Keras {machine['keras']}, Python {machine['python']}, {machine['cpu']} "
            f"({machine['cores']} cores, {machine['memory_gib']} GiB), "
            f"{result['mode']} run, {result['seconds']:.0f} s.\n\n"
            + "".join(f"#### {title}\n\n{body}\n\n" for title, body in sections.items())
        )
    return "\n".join(parts)


def _short(name: str) -> str:
    """'32×28×28×192 → 64 (bias + ReLU)' -> '28²×192→64, bias+ReLU'."""
    shape, kind = name.split(" (")
    _, height, _, rest = shape.split("×", 3)
    kind = "bias+ReLU" if "ReLU" in kind else "linear"
    return f"{height}²×{rest.replace(' ', '')}, {kind}"


def plot(results: list[dict], path: Path = PLOT) -> None:
    """Pointwise throughput relative to the bare matmul and to Conv2D(1×1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for axis, baseline, bar in zip(
        axes, ("matmul", "Conv2D(1×1)"), (BAR_MATMUL, BAR_CONV), strict=True
    ):
        labels, width = [], 0.8 / (len(results) * len(MODES))
        for index, result in enumerate(results):
            backend = result["machine"]["backend"]
            for offset, mode in enumerate(MODES):
                ratios = [
                    speed_ratio(case, mode, "Pointwise", baseline)
                    for case in result["pointwise"]
                ]
                values = [ratio.median for ratio in ratios]
                errors = [
                    [r.median - r.low for r in ratios],
                    [r.high - r.median for r in ratios],
                ]
                position = index * len(MODES) + offset
                axis.bar(
                    [i + position * width for i in range(len(values))],
                    values,
                    width,
                    yerr=errors,
                    capsize=1.5,
                    error_kw={"linewidth": 0.6},
                    label=f"{backend}, {mode}",
                )
            labels = [_short(case["name"]) for case in result["pointwise"]]
        axis.axhline(bar, color="black", linestyle="--", linewidth=1)
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))])
        axis.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
        axis.set_title(f"Pointwise speed ÷ {baseline} speed (bar {bar})")
    axes[0].set_ylabel("throughput ratio")
    axes[1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        format=path.suffix.lstrip(".") or "svg",
        metadata={"Date": None} if path.suffix == ".svg" else None,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", type=Path, help="result files (JSON)")
    parser.add_argument(
        "--print-only",
        action="store_true",
        help="print the tables; leave the page's tables and plot alone",
    )
    args = parser.parse_args(argv)
    paths = args.results or [
        RESULTS / f"{b}.json" for b in BACKENDS if (RESULTS / f"{b}.json").exists()
    ]
    results = [json.loads(path.read_text()) for path in paths]
    text = render(results)
    print(summary(results), text, sep="\n\n")
    if args.print_only:
        return
    (RESULTS / "summary.md").write_text(summary(results) + "\n")
    (RESULTS / "tables.md").write_text(text)
    plot(results)


if __name__ == "__main__":
    main()
