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
# The bars of issue 17, on every backend's default path and on the compiled one:
# Pointwise ≥ 0.97× the faster of matmul and Conv2D(1×1); blocks and NiN at most
# the time of plain Keras (median ≤ 1.00, upper end of the 95% interval ≤ 1.03).
BAR_FASTEST, BAR_BLOCKS, BAR_BLOCKS_HIGH = 0.97, 1.0, 1.03
BASELINES = ("matmul", "Conv2D(1×1)")
# A result file without "paths" was measured with the previous method: XLA
# (jit_compile=True) on TensorFlow even on a CPU, jax.jit, eager PyTorch.
PREVIOUS_METHOD = {
    "tensorflow": "XLA (jit_compile=True), previous method",
    "jax": "jax.jit, previous method",
    "torch": "eager, previous method",
}
THEORY_MODELS = ("1×1 reduce → 5×5", "5×5 directly")


def _median(case: dict, mode: str, name: str) -> float:
    return case[mode][name]["median_s"]


def speed_ratio(case: dict, mode: str, subject: str, baseline: str) -> SpeedRatio:
    """Throughput of `subject` relative to `baseline` (> 1: subject is faster),
    compared round by round."""
    return SpeedRatio.paired(
        case[mode][subject]["rounds_s"], case[mode][baseline]["rounds_s"]
    )


def fastest_ratio(case: dict, mode: str, subject: str = "Pointwise") -> SpeedRatio:
    """Speed of `subject` relative to the faster of matmul and Conv2D(1×1),
    round by round (each round's baseline is the faster of the two there)."""
    fastest = [
        min(times)
        for times in zip(*(case[mode][b]["rounds_s"] for b in BASELINES), strict=True)
    ]
    return SpeedRatio.paired(case[mode][subject]["rounds_s"], fastest)


def blocks_verdict(ratio: SpeedRatio) -> str:
    """A time ratio against plain Keras: `pass` if the median is ≤ 1.00 and the
    interval's upper end ≤ 1.03, `miss` if the whole interval is above 1.00,
    else `within noise`."""
    if ratio.median <= BAR_BLOCKS and ratio.high <= BAR_BLOCKS_HIGH:
        return "pass"
    return "miss" if ratio.low > BAR_BLOCKS else "within noise"


def path_label(result: dict, path: str = "default") -> str:
    """How the cases of `path` ran (old result files: the previous method)."""
    if "paths" not in result:
        backend = result["machine"]["backend"]
        return PREVIOUS_METHOD[backend] if path == "default" else "not measured"
    return result["paths"][path]


def section(result: dict, path: str) -> dict | None:
    """The gemm/pointwise/blocks results of `path`, or `None` if not timed."""
    if path == "default":
        return result
    compiled = result.get("compiled")
    if not compiled or "skipped" in compiled:
        return None
    return compiled


def skipped_reason(result: dict) -> str:
    compiled = result.get("compiled")
    if compiled is None:
        return "not measured (result file of the previous method)"
    return f"not timed separately: {compiled['skipped']}"


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


def pointwise_table(result: dict, cases: dict | None = None) -> str:
    cases = result if cases is None else cases
    peak = {mode: gflops(cases["gemm"], mode, "gemm") for mode in MODES}
    rows = []
    for case in cases["pointwise"]:
        for mode in MODES:
            if "failed" in case[mode]:
                rows.append([case["name"], mode, case[mode]["failed"], *["–"] * 7])
                continue
            fastest = fastest_ratio(case, mode)
            throughput = gflops(case, mode, "Pointwise")
            rows.append(
                [
                    case["name"],
                    mode,
                    f"{_median(case, mode, 'Pointwise') * 1e3:.2f}",
                    str(speed_ratio(case, mode, "Pointwise", "matmul")),
                    str(speed_ratio(case, mode, "Pointwise", "Conv2D(1×1)")),
                    f"{fastest} ({fastest.verdict(BAR_FASTEST)})",
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
        f"× the faster (bar {BAR_FASTEST})",
        "GFLOP/s",
        "of peak GEMM",
        "FLOP/byte",
        "page faults/step",
    ]
    peak_line = (
        f"Peak GEMM ({cases['gemm']['name']}): {peak['forward']:.1f} GFLOP/s "
        f"forward, {peak['forward+backward']:.1f} GFLOP/s forward+backward."
    )
    return _table(header, rows) + "\n\n" + peak_line


def blocks_table(result: dict, cases: dict | None = None) -> str:
    cases = result if cases is None else cases
    rows = []
    for case in cases["blocks"]:
        for mode in MODES:
            if "failed" in case[mode]:
                rows.append([case["name"], mode, case[mode]["failed"], "–", "–"])
                continue
            ratio = speed_ratio(case, mode, "keras-nin", "plain Keras").inverse()
            rows.append(
                [
                    case["name"],
                    mode,
                    f"{_median(case, mode, 'keras-nin') * 1e3:.2f}",
                    f"{_median(case, mode, 'plain Keras') * 1e3:.2f}",
                    f"{ratio} ({blocks_verdict(ratio)})",
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


NATIVE = ("native PyTorch (NCHW)", "native PyTorch (channels_last)")


def _native_anchor(timings: dict) -> str | None:
    """The faster native PyTorch layout in `timings` (`None` if not timed)."""
    native = [name for name in NATIVE if name in timings]
    if not native:
        return None
    return min(native, key=lambda name: timings[name]["median_s"])


def _paired(timings: dict, subject: str, baseline: str) -> SpeedRatio:
    return SpeedRatio.paired(
        timings[subject]["rounds_s"], timings[baseline]["rounds_s"]
    )


def extras_table(result: dict) -> str:
    throughput = result["training_throughput"]
    memory = result["training_memory"]  # {} in a quick run
    anchor = _native_anchor(throughput)
    rows = []
    for name in throughput:
        ratios = [
            str(_paired(throughput, name, base))
            if base and "rounds_s" in throughput[name]
            else "–"
            for base in ("plain Keras", anchor)
        ]
        rows.append(
            [
                name,
                f"{throughput[name]['images_per_s']:.0f}",
                *ratios,
                f"{memory[name]['training_step_mib']:.0f}" if name in memory else "–",
                f"{memory[name]['peak_mib']:.0f}" if name in memory else "–",
            ]
        )
    table = _table(
        [
            f"NiN, `train_on_batch`, {path_label(result)}",
            "training images/s",
            "× plain Keras speed",
            f"× {anchor or 'native PyTorch'} speed",
            "training step MiB",
            "peak RSS MiB",
        ],
        rows,
    )
    compiled = result.get("training_throughput_compiled")
    if compiled and "failed" in compiled:
        table += (
            f"\n\n{path_label(result, 'compiled')}: training failed to compile "
            f"({compiled['failed']})."
        )
    elif compiled and "skipped" not in compiled:
        rows = [
            [
                name,
                f"{compiled[name]['images_per_s']:.0f}",
                str(_paired(compiled, name, "plain Keras")),
            ]
            for name in compiled
        ]
        table += "\n\n" + _table(
            [
                f"NiN, `train_on_batch`, {path_label(result, 'compiled')}",
                "training images/s",
                "× plain Keras speed",
            ],
            rows,
        )
    elif compiled:
        table += f"\n\nCompiled path: {compiled['skipped']}."
    if anchor is None:
        table += (
            "\n\nNative PyTorch: not in this result file (previous method)."
            if "native_torch" not in result
            else f"\n\nNative PyTorch: {result['native_torch']}."
        )
    latency = result.get("inference_latency")
    if latency:
        rows = []
        for batch, timings in latency.items():
            anchor = _native_anchor(timings)
            for name in timings:
                rows.append(
                    [
                        batch,
                        name,
                        f"{timings[name]['median_s'] * 1e3:.2f}",
                        str(_paired(timings, name, anchor)) if anchor else "–",
                    ]
                )
        table += "\n\n" + _table(
            [
                "batch",
                f"NiN inference, `predict_on_batch`, {path_label(result)}",
                "ms",
                "× native speed (faster layout)",
            ],
            rows,
        )
    return (
        table
        + f"\n\n`import keras_nin` after `import keras`: {result['import_ms']:.0f} ms."
    )


FOLDED, UNFOLDED = "batch norm folded", "with batch norm"


def fold_cell(result: dict, path: str) -> str:
    """The inference speed-up `fold_batch_norm` gives on one path, with its
    95% interval, or why it was not timed."""
    timings = (result.get("fold_batch_norm") or {}).get(path)
    if timings is None:
        return "not measured"
    if "skipped" in timings:
        return "not timed: same program as the default path"
    return str(_paired(timings, FOLDED, UNFOLDED))


def fold_table(result: dict) -> str:
    """NiN with batch normalization, before and after `fold_batch_norm`."""
    fold = result.get("fold_batch_norm")
    if not fold:
        return "Not in this result file (previous method)."
    rows = []
    for path, timings in fold.items():
        if "skipped" in timings:
            continue
        for name, timing in timings.items():
            rows.append(
                [
                    path_label(result, path),
                    name,
                    f"{timing['median_s'] * 1e3:.2f}",
                    f"{timing['images_per_s']:.0f}",
                    fold_cell(result, path) if name == FOLDED else "1 (baseline)",
                ]
            )
    return _table(
        [
            "path",
            'NiN(normalization="batch"), `predict_on_batch`',
            "ms",
            "images/s",
            "× speed of the unfolded model",
        ],
        rows,
    )


def fold_overview(results: list[dict]) -> str:
    """`fold_batch_norm`'s inference speed-up on every backend and path, for
    the tools guide (narrow enough for a phone)."""
    rows = []
    for result in results:
        for path, timings in (result.get("fold_batch_norm") or {}).items():
            if "skipped" in timings:
                continue
            rows.append(
                [
                    f"{_where(result)}, {path_label(result, path)}",
                    fold_cell(result, path),
                    f"{timings[UNFOLDED]['median_s'] * 1e3:.1f} → "
                    f"{timings[FOLDED]['median_s'] * 1e3:.1f}",
                ]
            )
    if not rows:
        return "No result file has the fold measurement yet: run `make bench`."
    machines = sorted(
        {
            f"{r['machine']['cpu']} ({r['machine']['cores']} cores)"
            for r in results
            if r.get("fold_batch_norm")
        }
    )
    table = _table(["backend, path", "speed-up [95% interval]", "ms per batch"], rows)
    return table + f"\n\nMeasured by `make bench` on {'; '.join(machines)}."


def scaling_table(result: dict) -> str:
    """NiN training over batch and image size; Pointwise over channel counts."""
    scale = result.get("scaling")
    if not scale:
        return "Not in this result file (previous method)."
    separately = (
        f"Measured again after the run, in {scale['separate_run_s']:.0f} s, with "
        "each case timed on its own (`--only-scaling`), against the run's GEMM limit."
        if "separate_run_s" in scale
        else ""
    )
    rows = [
        [
            case["name"],
            f"{case['images_per_s']:.1f}",
            f"{case['gflops']:.1f}",
            f"{case['of_gemm']:.0%}",
        ]
        for case in scale["nin"]
    ]
    nin = _table(
        ["NiN training, batch×image", "images/s", "GFLOP/s", "of GEMM limit"], rows
    )
    rows = [
        [
            f"{case['channels']} → {case['channels']}",
            case["mode"],
            f"{case['median_s'] * 1e3:.2f}",
            f"{case['gflops']:.1f}",
            f"{case['of_gemm']:.0%}",
            f"{case['arithmetic_intensity']:.1f}",
        ]
        for case in scale["pointwise"]
    ]
    positions = "×".join(map(str, scale["positions"]))
    pointwise = _table(
        [
            f"Pointwise on {positions}×C (bias + ReLU)",
            "mode",
            "ms",
            "GFLOP/s",
            "of GEMM limit",
            "FLOP/byte",
        ],
        rows,
    )
    return (
        f"{path_label(result)}; GEMM limit {scale['gemm_gflops']:.1f} GFLOP/s (the "
        "best throughput of this run's square matmul, either mode, either path). "
        "Training FLOPs: 3 × the forward "
        "pass's 2 × multiplies."
        + (" " + separately if separately else "")
        + "\n\n"
        + nin
        + "\n\n"
        + pointwise
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


# The bars: description and the verdicts of one result's section.
BARS = (
    "`Pointwise` ≥ 0.97× the faster of matmul and `Conv2D(1×1)`",
    "blocks and NiN ≤ 1.00× plain-Keras time (upper end ≤ 1.03)",
)


def _bar_cell(cases: dict | None, bar_index: int, mode: str) -> str:
    """'0.97–1.33×: 5 pass, 1 within noise' for one bar, section and mode."""
    if cases is None:
        return "–"
    timed = cases["pointwise"] if bar_index == 0 else cases["blocks"]
    failed = sum("failed" in case[mode] for case in timed)
    timed = [case for case in timed if "failed" not in case[mode]]
    if bar_index == 0:
        ratios = [fastest_ratio(case, mode) for case in timed]
        verdicts = [ratio.verdict(BAR_FASTEST) for ratio in ratios]
    else:
        ratios = [
            speed_ratio(case, mode, "keras-nin", "plain Keras").inverse()
            for case in timed
        ]
        verdicts = [blocks_verdict(ratio) for ratio in ratios]
    verdicts += ["failed to compile"] * failed
    if not verdicts:
        return "–"
    counts = ", ".join(
        f"{verdicts.count(v)} {v}"
        for v in ("pass", "within noise", "miss", "failed to compile")
        if verdicts.count(v)
    )
    if not ratios:
        return counts
    medians = [ratio.median for ratio in ratios]
    return f"{min(medians):.2f}–{max(medians):.2f}×: {counts}"


def _where(result: dict) -> str:
    """The backend, and the device unless it is the CPU."""
    backend = result["machine"]["backend"]
    device = result.get("device", "cpu")
    return backend if device == "cpu" else f"{backend} on {device}"


def _columns(results: list[dict]) -> list[tuple[str, dict | None]]:
    """(heading, section) per backend and path; an untimed compiled path that
    is the default one is left out."""
    columns = []
    for result in results:
        where = _where(result)
        columns.append((f"{where}: {path_label(result)}", section(result, "default")))
        compiled = section(result, "compiled")
        if compiled is not None:
            columns.append((f"{where}: {path_label(result, 'compiled')}", compiled))
    return columns


def summary(results: list[dict]) -> str:
    """The bars per backend, path and mode, and the headline figures."""
    columns = _columns(results)
    rows = [
        [f"{BARS[index]}, {mode}", *(_bar_cell(c, index, mode) for _, c in columns)]
        for index in range(len(BARS))
        for mode in MODES
    ]
    bars = _table(["bar", *(heading for heading, _ in columns)], rows)
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
        anchor = _native_anchor(throughput)
        native = (
            f"{throughput[anchor]['images_per_s']:.0f} "
            f"({anchor.split('(')[1].rstrip(')')}); keras-nin "
            + str(_paired(throughput, "keras-nin", anchor))
            if anchor
            else "not measured"
        )
        rows.append(
            [
                result["machine"]["backend"],
                f"{throughput['keras-nin']['images_per_s']:.0f} / "
                f"{throughput['plain Keras']['images_per_s']:.0f}",
                native,
                f"{theory['multiply_ratio']:.2f}× / "
                + " / ".join(f"{value:.2f}×" for value in speedups),
                " / ".join(fold_cell(result, path) for path in ("default", "compiled")),
                allocation,
                f"{result['import_ms']:.0f} ms",
            ]
        )
    header = [
        "backend",
        "NiN training images/s, default path (keras-nin / plain Keras)",
        "native PyTorch images/s (layout); keras-nin × its speed",
        "1×1 bottleneck: fewer multiplies / forward / f+b speed-up",
        "`fold_batch_norm` inference speed-up, default / compiled path",
        "tcmalloc speed-up, forward / f+b",
        "`import keras_nin`",
    ]
    accelerators = sorted(
        {
            result.get("accelerator_skipped", "")
            for result in results
            if result.get("accelerator_skipped")
        }
    )
    skipped = (
        "\n\nAccelerators: " + "; ".join(accelerators) + "." if accelerators else ""
    )
    return (
        "Each cell: the lowest and highest median ratio over the cases, and how "
        "many cases pass the bar, lie within noise of it (the bar is inside the "
        "case's 95% interval) or miss it.\n\n"
        + bars
        + "\n\n"
        + _table(header, rows)
        + skipped
    )


def render(results: list[dict]) -> str:
    parts = []
    for result in results:
        machine = result["machine"]
        compiled = section(result, "compiled")
        sections = {
            f"Pointwise against the matrix-multiply limit — {path_label(result)}": (
                pointwise_table(result)
            ),
            f"Blocks against the same graph in plain Keras — {path_label(result)}": (
                blocks_table(result)
            ),
        }
        label = path_label(result, "compiled")
        if compiled is not None:
            sections[f"Pointwise — {label}"] = pointwise_table(result, compiled)
            if compiled["blocks"]:
                sections[f"Blocks — {label}"] = blocks_table(result, compiled)
        else:
            sections["Compiled path"] = skipped_reason(result).capitalize() + "."
        sections.update(
            {
                "Theory against measurement": theory_table(result),
                "Training a NiN model, and native PyTorch": extras_table(result),
                "Inference after `fold_batch_norm`": fold_table(result),
                "Where the work grows": scaling_table(result),
                "Memory allocator": allocator_table(result),
            }
        )
        device = result.get("device", "cpu")
        parts.append(
            f"### {machine['backend']} {machine['backend_version']}"
            + ("" if device == "cpu" else f" on {device}")
            + "\n\n"
            f"Keras {machine['keras']}, Python {machine['python']}, {machine['cpu']} "
            f"({machine['cores']} cores, {machine['memory_gib']} GiB), device "
            f"{device}, {result['mode']} run, {result['seconds']:.0f} s.\n\n"
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
    """Pointwise throughput relative to the faster of matmul and Conv2D(1×1), on
    each backend's default path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 4.6))
    labels, width = [], 0.8 / (len(results) * len(MODES))
    for index, result in enumerate(results):
        backend = result["machine"]["backend"]
        for offset, mode in enumerate(MODES):
            ratios = [fastest_ratio(case, mode) for case in result["pointwise"]]
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
                label=f"{backend} ({path_label(result)}), {mode}",
            )
        labels = [_short(case["name"]) for case in result["pointwise"]]
    axis.axhline(BAR_FASTEST, color="black", linestyle="--", linewidth=1)
    axis.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))])
    axis.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    axis.set_title(
        f"Pointwise speed ÷ the faster of matmul and Conv2D(1×1) (bar {BAR_FASTEST})"
    )
    axis.set_ylabel("throughput ratio")
    axis.legend(fontsize=6, loc="upper right")
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
    paths = args.results or committed_result_files()
    results = [json.loads(path.read_text()) for path in paths]
    pages = markdown_files(results)
    print(pages["summary.md"], pages["tables.md"], sep="\n\n")
    if args.print_only:
        return
    for name, text in pages.items():
        (RESULTS / name).write_text(text)
    plot(results)


def committed_result_files() -> list[Path]:
    """The result files under `benchmarks/results/`, CPU runs first."""
    names = [f"{b}{gpu}.json" for gpu in ("", "-gpu") for b in BACKENDS]
    return [RESULTS / name for name in names if (RESULTS / name).exists()]


def markdown_files(results: list[dict]) -> dict[str, str]:
    """`{file name: text}` of the Markdown the site includes from the results."""
    return {
        "summary.md": summary(results) + "\n",
        "tables.md": render(results),
        "fold.md": fold_overview(results) + "\n",
    }


if __name__ == "__main__":
    main()
