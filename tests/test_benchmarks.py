"""The benchmark code runs end to end on this backend (it measures nothing here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import cases, report, run, sweep  # noqa: E402


def test_smoke_run_writes_every_section(tmp_path, monkeypatch):
    # The measurements in fresh processes are backend-neutral code, and cost
    # the most (a model compiled in each process): the TensorFlow run has them.
    fresh_processes = run.BACKEND == "tensorflow"
    monkeypatch.setitem(run.SMOKE, "fresh_process_memory", fresh_processes)
    monkeypatch.setitem(run.SMOKE, "allocator_repeats", int(fresh_processes))
    output = tmp_path / "result.json"
    run.main(["--smoke", "--output", str(output)])
    result = json.loads(output.read_text())
    assert result["mode"] == "smoke"
    (pointwise_case, *_) = result["pointwise"]
    for mode in ("forward", "forward+backward"):
        timings = pointwise_case[mode]
        assert set(timings) == {"Pointwise", "matmul", "Conv2D(1×1)"}
        assert all(t["median_s"] > 0 for t in timings.values())
    # 2·positions·C_in·C_out for the smoke shape (2, 4, 4, 8) → 4 filters.
    assert pointwise_case["flops"] == 2 * (2 * 4 * 4) * 8 * 4
    # Each plain-Keras twin was checked to compute the same function on the way.
    assert len(result["blocks"]) == 4
    # The main column is the default path; the compiled one is timed or says why not.
    assert set(result["paths"]) == {"default", "compiled"}
    if run.BACKEND == "tensorflow":  # XLA: a different program on the CPU
        assert len(result["compiled"]["pointwise"]) == len(result["pointwise"])
    else:  # JAX: the same jit; PyTorch: torch.compile only in the full run
        assert result["compiled"]["skipped"]
    # The native PyTorch NiN got keras-nin's weights and was checked equal.
    assert set(result["training_throughput"]) == {
        "keras-nin",
        "plain Keras",
        "native PyTorch (NCHW)",
        "native PyTorch (channels_last)",
    }
    assert "native PyTorch (NCHW)" in result["inference_latency"]["1"]
    # fold_batch_norm's model was checked equal to the original, then both timed.
    fold = result["fold_batch_norm"]
    assert set(fold["default"]) == {"batch norm folded", "with batch norm"}
    assert ("skipped" in fold["compiled"]) == ("skipped" in result["compiled"])
    assert "fold_batch_norm" in report.summary([result])
    assert len(result["scaling"]["nin"]) == 2
    assert len(result["scaling"]["pointwise"]) == 2 * 2
    assert result["device"] == "cpu"
    if not result["accelerators"]:
        assert "skipped" in result["accelerator_skipped"]
    assert result["import_ms"] > 0
    if fresh_processes:
        assert result["training_memory"]["keras-nin"]["peak_mib"] > 0
    for mode in ("forward", "forward+backward"):
        assert all(len(t["rounds_s"]) == 1 for t in pointwise_case[mode].values())
    if result["allocator"]:  # tcmalloc installed: both allocators were timed
        assert result["allocator"]["tcmalloc"]["forward"]["median_s"] > 0
    # The report renders the new file next to the committed ones, and a file of
    # the previous method (no paths, compiled column, anchor, fold or scaling).
    committed = [
        json.loads(path.read_text())
        for path in sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    ]
    new_keys = (
        "paths compiled native_torch scaling training_throughput_compiled "
        "inference_latency fold_batch_norm device accelerators accelerator_skipped"
    )
    previous = {k: v for k, v in result.items() if k not in new_keys.split()}
    previous["training_throughput"] = {
        name: timing
        for name, timing in result["training_throughput"].items()
        if not name.startswith("native")
    }
    files = [result, *committed, previous]
    text = report.summary(files) + report.render(files)
    assert "native PyTorch" in text and "previous method" in text


def test_a_case_that_fails_to_compile_is_reported_not_fatal():
    # torch.compile (2.13, CPU) cannot differentiate Keras's "same" pooling:
    # such a mode is recorded with its error and counted, not timed.
    error = AssertionError(
        "backend='inductor' raised:\nAssertionError: expected size 192==192\n"
    )
    assert run.compile_failure(error) == (
        "AssertionError: AssertionError: expected size 192==192"
    )
    failed = {"failed": "AssertionError: x"}
    case = {"name": "NiN", "forward": failed, "forward+backward": failed}
    assert "| NiN | forward+backward | AssertionError: x |" in report.blocks_table(
        {}, {"blocks": [case]}
    )
    assert report._bar_cell({"blocks": [case]}, 1, "forward+backward") == (
        "1 failed to compile"
    )


def test_the_same_function_check_catches_a_difference():
    (comparison, *_) = cases.pointwise_comparisons([(1, 2, 2, 3, 2)])
    other = comparison.models["matmul"]
    other.set_weights([np.zeros_like(w) for w in other.get_weights()])
    try:
        cases.check_same_function(comparison)
    except AssertionError:
        return
    raise AssertionError("a model with zeroed weights passed as the same function")


def test_an_accelerator_gets_its_own_result_file(tmp_path, monkeypatch):
    """The accelerator branch of `make bench`, with the CPU standing in for a
    GPU (this machine has none): the CPU run inside its own device scope, then
    every case again inside the accelerator's, written next to the CPU file."""
    monkeypatch.setitem(run.SMOKE, "fresh_process_memory", False)
    monkeypatch.setitem(run.SMOKE, "allocator_repeats", 0)
    monkeypatch.setattr(run, "accelerators", lambda: ["cpu"])
    output = tmp_path / "result.json"
    run.main(["--smoke", "--output", str(output)])
    on_cpu = json.loads(output.read_text())
    on_accelerator = json.loads((tmp_path / "result-gpu.json").read_text())
    assert on_cpu["device"] == "cpu"
    assert on_accelerator["device"] == "cpu"
    for result in (on_cpu, on_accelerator):
        assert result["accelerators"] == ["cpu"]
        assert "accelerator_skipped" not in result
        assert len(result["blocks"]) == 4
    assert on_accelerator["training_throughput"]["keras-nin"]["images_per_s"] > 0
    assert run._torch_device("gpu:1") == "cuda:1"
    assert run._torch_device("cuda:0") == "cuda:0"
    assert run._torch_device("cpu:0") == "cpu"


def test_the_sweep_times_pointwise_against_both_statements(tmp_path):
    output = tmp_path / "sweep.md"
    sweep.main(["--smoke", "--output", str(output)])
    text = output.read_text()
    rows = [line for line in text.splitlines() if "→" in line]
    # Two shapes, with and without bias + ReLU, forward and forward+backward.
    assert len(rows) == len(sweep.SMOKE_SHAPES) * 2 * 2
    # Against the matmul and Conv2D(1×1): two medians, each with its interval.
    assert all(row.count("[") == 2 for row in rows)
    # The machine and the versions head the table, as in run.py's results.
    about = run.machine()
    assert about["cpu"] in text and about["keras"] in text
    assert f"{about['cores']} cores" in text


def test_the_scaling_section_can_be_measured_again_on_its_own(tmp_path):
    output = tmp_path / "result.json"
    before = {
        "mode": "smoke",
        "paths": {"default": "the default path"},
        "pointwise": ["kept"],
        "scaling": {"gemm_gflops": 50.0},
    }
    output.write_text(json.dumps(before))
    run.main(["--smoke", "--only-scaling", "--output", str(output)])
    after = json.loads(output.read_text())
    # Only the scaling section changed, against the same run's GEMM limit.
    assert after["pointwise"] == ["kept"]
    assert after["scaling"]["gemm_gflops"] == 50.0
    assert after["scaling"]["separate_run_s"] > 0
    assert len(after["scaling"]["nin"]) == len(run.SMOKE["scaling_batches"]) * len(
        run.SMOKE["scaling_sizes"]
    )
    nin = after["scaling"]["nin"][0]
    assert nin["of_gemm"] == nin["gflops"] / 50.0
    assert "each case timed on its own" in report.scaling_table(after)


def test_the_site_s_tables_are_the_report_of_the_committed_results():
    # The site includes these files (the Benchmarks page, the tools guide): a
    # hand edit, or a result file committed without its report, shows here.
    results = [json.loads(p.read_text()) for p in report.committed_result_files()]
    for name, text in report.markdown_files(results).items():
        assert (report.RESULTS / name).read_text() == text, name
    lines = (report.RESULTS / "fold.md").read_text().splitlines()
    fold_rows = [line for line in lines if line.startswith("|")][2:]
    assert lines[-1].startswith("Measured by `make bench` on ")
    timed = [
        (result["machine"]["backend"], path)
        for result in results
        for path, timings in result["fold_batch_norm"].items()
        if "skipped" not in timings
    ]
    assert [row.split(",")[0].lstrip("| ") for row in fold_rows] == [
        backend for backend, _ in timed
    ]
