"""Run the benchmarks on the current Keras backend and write a result file.

    KERAS_BACKEND=tensorflow python -m benchmarks.run [--quick] [--output FILE]

Every figure is a ratio against a baseline timed in the same process,
interleaved with it, after warm-up, as the median of repeated rounds.
"""

from __future__ import annotations

import argparse
import ctypes.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np

import keras_nin
from benchmarks import cases
from benchmarks.harness import BACKEND, compile_step, interleaved, layer_fn
from keras_nin.theory import cost

RESULTS = Path(__file__).parent / "results"

FULL = {
    "pointwise_shapes": [
        (32, 28, 28, 192, 64),
        (32, 56, 56, 64, 256),
        (128, 14, 14, 512, 128),
    ],
    "gemm": 2048,
    "block_batch": 32,
    "train_batch": 64,
    "rounds": 15,
    "min_round_seconds": 0.25,
    "import_repeats": 5,
    "allocator_repeats": 3,
    "fresh_process_memory": True,
}
# Under two minutes on TensorFlow: no measurement that starts extra processes
# (training memory, allocators) but one timing of the import.
QUICK = {
    "pointwise_shapes": [(8, 28, 28, 192, 64), (8, 14, 14, 512, 128)],
    "gemm": 1024,
    "block_batch": 4,
    "train_batch": 16,
    "rounds": 7,
    "min_round_seconds": 0.05,
    "import_repeats": 1,
    "allocator_repeats": 0,
    "fresh_process_memory": False,
}

# For the test suite: proves the benchmark code runs, measures nothing.
SMOKE = {
    "pointwise_shapes": [(2, 4, 4, 8, 4)],
    "gemm": 64,
    "block_batch": 1,
    "train_batch": 2,
    "rounds": 1,
    "min_round_seconds": 0.0,
    "import_repeats": 1,
    "allocator_repeats": 1,
    "fresh_process_memory": True,
    "spatial_size": 8,
}


def time_comparison(
    comparison: cases.Comparison, rounds: int, min_round_seconds: float
) -> dict:
    """Forward and forward+backward round times of every model of a comparison."""
    result = {"name": comparison.name, "flops": comparison.flops}
    if comparison.bytes_moved:
        result["arithmetic_intensity"] = comparison.flops / comparison.bytes_moved
    for mode, backward in (("forward", False), ("forward+backward", True)):
        steps = {
            name: compile_step(
                *layer_fn(model, training=backward), comparison.x, backward=backward
            )
            for name, model in comparison.models.items()
        }
        timings = interleaved(steps, rounds=rounds, min_round_seconds=min_round_seconds)
        result[mode] = {
            name: {
                "median_s": t.median,
                "rounds_s": t.rounds,
                "page_faults": t.page_faults,
            }
            for name, t in timings.items()
        }
        print(
            f"  {mode:>16}: "
            + ", ".join(
                f"{name} {t.median * 1e3:.2f} ms" for name, t in timings.items()
            ),
            flush=True,
        )
    return result


def training_throughput(batch: int, rounds: int) -> dict:
    """Images per second of `train_on_batch` for NiN and its plain-Keras twin."""
    x = np.random.default_rng(0).standard_normal((batch, 32, 32, 3)).astype("float32")
    y = np.arange(batch) % 10
    models = {
        "keras-nin": keras_nin.models.NiN(),
        "plain Keras": cases.plain_nin((32, 32, 3), cases.Recorder()),
    }
    steps = {}
    for name, model in models.items():
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        steps[name] = lambda model=model: model.train_on_batch(x, y)
    timings = interleaved(steps, rounds=rounds, warmup=3)
    return {
        name: {"images_per_s": batch / t.median, "median_s": t.median}
        for name, t in timings.items()
    }


_MEMORY_SCRIPT = """
import sys, threading, time
import numpy as np, keras
sys.path.insert(0, {root!r})
from benchmarks import cases
import keras_nin

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

plain = cases.plain_nin((32, 32, 3), cases.Recorder())
model = keras_nin.models.NiN() if {ours} else plain
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
x = np.zeros(({batch}, 32, 32, 3), "float32"); y = np.zeros({batch}, "int32")
model.predict_on_batch(x[:1])
before, peak, done = rss_mib(), [0.0], threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss_mib())
        time.sleep(0.001)

sampler = threading.Thread(target=sample); sampler.start()
for _ in range(3):
    model.train_on_batch(x, y)
done.set(); sampler.join()
print(before, peak[0])
"""


def training_memory(batch: int) -> dict:
    """Resident memory (MiB) a NiN training step adds, each model in a fresh process.

    A sampling thread records the peak resident set size during three
    `train_on_batch` steps; the figure is that peak minus the size before them.
    """
    result = {}
    root = str(Path(__file__).resolve().parents[1])
    for name, ours in (("keras-nin", True), ("plain Keras", False)):
        script = _MEMORY_SCRIPT.format(root=root, ours=ours, batch=batch)
        output = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
        before, after = (float(value) for value in output[-2:])
        result[name] = {"peak_mib": after, "training_step_mib": after - before}
    return result


_ALLOCATOR_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {root!r})
from benchmarks.harness import compile_step, interleaved, layer_fn
from keras_nin.layers import Pointwise

x = np.random.default_rng(0).standard_normal({shape!r}).astype("float32")
layer = Pointwise({filters})
layer.build(x.shape)
result = {{}}
for mode, backward in (("forward", False), ("forward+backward", True)):
    step = compile_step(*layer_fn(layer, backward), x, backward=backward)
    (timing,) = interleaved({{"step": step}}, rounds={rounds}).values()
    result[mode] = {{"median_s": timing.median, "page_faults": timing.page_faults}}
print(json.dumps(result))
"""


def allocator_comparison(shape: tuple[int, ...], rounds: int, repeats: int) -> dict:
    """One Pointwise (bias + ReLU) step with the C library's malloc and with
    tcmalloc preloaded, in fresh processes taken in turn `repeats` times each.

    Backends whose runtime allocates each output afresh (XLA on JAX, eager
    PyTorch on the CPU) page-fault on every 4 KiB of a large output with glibc
    malloc, which returns big blocks to the system; tcmalloc keeps them.
    Returns `{}` if tcmalloc is not installed (`libtcmalloc-minimal4` on Debian)
    or `repeats` is 0.
    """
    tcmalloc = ctypes.util.find_library("tcmalloc_minimal")
    if tcmalloc is None or repeats == 0:
        return {}
    *input_shape, filters = shape
    script = _ALLOCATOR_SCRIPT.format(
        root=str(Path(__file__).resolve().parents[1]),
        shape=tuple(input_shape),
        filters=filters,
        rounds=rounds,
    )
    preloads = {"glibc malloc": None, "tcmalloc": tcmalloc}
    runs: dict[str, list[dict]] = {name: [] for name in preloads}
    for _ in range(repeats):
        for name, preload in preloads.items():
            env = dict(os.environ)
            env.pop("LD_PRELOAD", None)
            if preload:
                env["LD_PRELOAD"] = preload
            output = subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
            runs[name].append(json.loads(output.splitlines()[-1]))
    label = "×".join(map(str, input_shape)) + f" → {filters} (bias + ReLU)"
    return {
        "name": label,
        "library": tcmalloc,
        **{
            name: {
                mode: {
                    key: statistics.median(run[mode][key] for run in results)
                    for key in ("median_s", "page_faults")
                }
                for mode in ("forward", "forward+backward")
            }
            for name, results in runs.items()
        },
    }


def import_time_ms(repeats: int = 5) -> float:
    """Median time of `import keras_nin` in a fresh process that imported keras."""
    script = (
        "import time, keras; start = time.perf_counter(); import keras_nin; "
        "print(time.perf_counter() - start)"
    )
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(repeats)
    ]
    return 1e3 * statistics.median(samples)


def _output_size(shape: tuple[int, ...]) -> int:
    """Elements of a Pointwise case's output: (batch, height, width, _, filters)."""
    batch, height, width, _, filters = shape
    return batch * height * width * filters


def machine() -> dict:
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": BACKEND,
        "backend_version": _backend_version(),
    }


def _backend_version() -> str:
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[BACKEND]
    return __import__(module).__version__


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="small shapes, < 2 min on TensorFlow"
    )
    size.add_argument("--smoke", action="store_true", help="tiny shapes, for tests")
    parser.add_argument("--output", type=Path, help="result file (JSON)")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    config = {"quick": QUICK, "smoke": SMOKE, "full": FULL}[mode]
    rounds = config["rounds"]
    timing = (rounds, config["min_round_seconds"])
    started = time.perf_counter()
    keras.utils.set_random_seed(0)

    print(f"== {BACKEND}: best GEMM throughput", flush=True)
    gemm = time_comparison(cases.square_matmul(config["gemm"]), *timing)
    print(f"== {BACKEND}: Pointwise against the matmul limit and Conv2D", flush=True)
    pointwise = []
    for comparison in cases.pointwise_comparisons(config["pointwise_shapes"]):
        cases.check_same_function(comparison)
        print(comparison.name, flush=True)
        pointwise.append(time_comparison(comparison, *timing))
    print(f"== {BACKEND}: blocks against the same graph in plain Keras", flush=True)
    blocks = []
    for comparison in cases.block_comparisons(
        config["block_batch"], config.get("spatial_size")
    ):
        cases.check_same_function(comparison)
        print(comparison.name, flush=True)
        blocks.append(time_comparison(comparison, *timing))
    print(f"== {BACKEND}: theory against measurement", flush=True)
    reduce_first = cases.bottleneck_theory_comparison(
        config["block_batch"], config.get("spatial_size") or 28
    )
    print(reduce_first.name, flush=True)
    theory = time_comparison(reduce_first, *timing)
    reduced, naive = reduce_first.models.values()
    theory["multiply_ratio"] = cost(naive).compare(cost(reduced))
    print(f"== {BACKEND}: NiN training throughput, memory, import time", flush=True)
    throughput = training_throughput(config["train_batch"], rounds)
    print(throughput, flush=True)
    result = {
        "machine": machine(),
        "mode": mode,
        "gemm": gemm,
        "pointwise": pointwise,
        "blocks": blocks,
        "theory": theory,
        "training_throughput": throughput,
        "training_memory": (
            training_memory(config["train_batch"])
            if config["fresh_process_memory"]
            else {}
        ),
        "allocator": allocator_comparison(
            max(config["pointwise_shapes"], key=_output_size),
            rounds,
            config["allocator_repeats"],
        ),
        "import_ms": import_time_ms(config["import_repeats"]),
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(result["training_memory"]), f"import {result['import_ms']:.1f} ms")
    print("allocator:", json.dumps(result["allocator"]))
    suffix = "" if mode == "full" else f"-{mode}"
    output = args.output or RESULTS / f"{BACKEND}{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output} in {result['seconds']:.0f} s")
    return result


if __name__ == "__main__":
    main()
