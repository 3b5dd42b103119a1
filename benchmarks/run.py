"""Run the benchmarks on the current Keras backend and write a result file.

    KERAS_BACKEND=tensorflow python -m benchmarks.run [--quick] [--output FILE]

Every figure is a ratio against a baseline timed in the same process,
interleaved with it, after warm-up, as the median of repeated rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

import keras_nin
from benchmarks import cases, native_torch
from benchmarks.harness import (
    BACKEND,
    accelerators,
    compile_step,
    compiled_is_default,
    interleaved,
    layer_fn,
    path_description,
)
from keras_nin.theory import cost
from keras_nin.transforms import fold_batch_norm

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
    "torch_compile": True,
    "latency_batches": (1, 64),
    "scaling_batches": (16, 64, 256),
    "scaling_sizes": (32, 64),
    "scaling_channels": (64, 128, 256, 512, 1024, 2048),
    "scaling_positions": (16, 14, 14),
    "scaling_rounds": 5,
}
# A few minutes on TensorFlow: no measurement that starts extra processes
# (training memory, allocators) but one timing of the import, no torch.compile.
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
    "torch_compile": False,
    "latency_batches": (1, 16),
    "scaling_batches": (4, 16),
    "scaling_sizes": (32, 64),
    "scaling_channels": (64, 256, 1024, 2048),
    "scaling_positions": (2, 14, 14),
    "scaling_rounds": 3,
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
    "torch_compile": False,
    "compiled_blocks": False,
    "latency_batches": (1,),
    "scaling_batches": (1, 2),
    "scaling_sizes": (8,),
    "scaling_channels": (8, 16),
    "scaling_positions": (1, 2, 2),
    "scaling_rounds": 1,
}


def compile_failure(error: Exception) -> str:
    """Why a case failed to compile, in one line (its error's last line that
    says something: compilers wrap the cause in several layers)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    cause = next(
        (line for line in lines if line.startswith(("Assertion", "Error"))), None
    )
    return f"{type(error).__name__}: {cause or (lines[0] if lines else '')}"[:300]


def time_comparison(
    comparison: cases.Comparison,
    rounds: int,
    min_round_seconds: float,
    path: str = "default",
) -> dict:
    """Forward and forward+backward round times of every model of a comparison,
    on one path of the harness (`"default"` or `"compiled"`)."""
    result = {"name": comparison.name, "flops": comparison.flops}
    if comparison.bytes_moved:
        result["arithmetic_intensity"] = comparison.flops / comparison.bytes_moved
    for mode, backward in (("forward", False), ("forward+backward", True)):
        steps = {
            name: compile_step(
                *layer_fn(model, training=backward),
                comparison.x,
                backward=backward,
                path=path,
            )
            for name, model in comparison.models.items()
        }
        try:
            timings = interleaved(
                steps, rounds=rounds, min_round_seconds=min_round_seconds
            )
        except Exception as error:  # a compiler's bug, recorded, not fatal
            if path != "compiled":
                raise
            result[mode] = {"failed": compile_failure(error)}
            print(f"  {path:>8} {mode:>16}: {result[mode]['failed']}", flush=True)
            continue
        result[mode] = {
            name: {
                "median_s": t.median,
                "rounds_s": t.rounds,
                "page_faults": t.page_faults,
            }
            for name, t in timings.items()
        }
        print(
            f"  {path:>8} {mode:>16}: "
            + ", ".join(
                f"{name} {t.median * 1e3:.2f} ms" for name, t in timings.items()
            ),
            flush=True,
        )
    return result


def _compiled_nin(models: dict, path: str) -> None:
    """`compile()` every model as a user would: no options on the default path,
    `jit_compile=True` on the compiled one."""
    options = {} if path == "default" else {"jit_compile": True}
    for model in models.values():
        model.compile(
            optimizer="sgd", loss="sparse_categorical_crossentropy", **options
        )


def _timings(timings: dict, images: int) -> dict:
    return {
        name: {
            "images_per_s": images / t.median,
            "median_s": t.median,
            "rounds_s": t.rounds,
        }
        for name, t in timings.items()
    }


def training_throughput(
    batch: int,
    rounds: int,
    path: str = "default",
    native: bool = True,
    device: str = "cpu",
    size: int = 32,
) -> dict:
    """Images per second of `train_on_batch` for NiN, its plain-Keras twin and,
    on the default path, the same network in native PyTorch (same weights).

    keras-nin and plain Keras are `compile()`d with no options on the default
    path (what `fit` runs), with `jit_compile=True` on the compiled one.
    """
    shape = (size, size, 3)
    x = np.random.default_rng(0).standard_normal((batch, *shape)).astype("float32")
    y = np.arange(batch) % 10
    # The twins keep their own weights: on JAX `train_on_batch` donates its
    # weight buffers, which a copy that reshapes nothing would share.
    nin, twin = keras_nin.models.NiN(shape), cases.plain_nin(shape, cases.Recorder())
    models = {"keras-nin": nin, "plain Keras": twin}
    _compiled_nin(models, path)
    steps = {
        name: lambda model=model: model.train_on_batch(x, y)
        for name, model in models.items()
    }
    if native and native_torch.available() is None:
        train, _ = native_torch.steps(models["keras-nin"], x, y, _torch_device(device))
        steps.update(train)
    timings = interleaved(steps, rounds=rounds, warmup=3)
    return _timings(timings, batch)


def inference_latency(
    batches: tuple[int, ...],
    rounds: int,
    native: bool = True,
    device: str = "cpu",
    size: int = 32,
) -> dict:
    """Seconds per `predict_on_batch` (default path) of NiN, plain Keras and
    native PyTorch, at each batch size."""
    rng = np.random.default_rng(0)
    result = {}
    shape = (size, size, 3)
    nin, twin = keras_nin.models.NiN(shape), cases.plain_nin(shape, cases.Recorder())
    models = {"keras-nin": nin, "plain Keras": twin}
    _compiled_nin(models, "default")
    for batch in batches:
        x = rng.standard_normal((batch, size, size, 3)).astype("float32")
        steps = {
            name: lambda model=model, x=x: model.predict_on_batch(x)
            for name, model in models.items()
        }
        if native and native_torch.available() is None:
            _, infer = native_torch.steps(
                nin, x, np.zeros(batch, "int64"), _torch_device(device)
            )
            steps.update(infer)
        result[str(batch)] = _timings(interleaved(steps, rounds=rounds), batch)
    return result


def fold_speedup(
    batch: int, rounds: int, path: str = "default", size: int = 32
) -> dict:
    """Seconds per `predict_on_batch` of a NiN with batch normalization and of
    the same network after `fold_batch_norm`, both `compile()`d as a user would
    on `path`. The moving statistics are set away from their initial values
    (mean 0, variance 1) so the fold changes every kernel, and the two models
    are checked to compute the same function first."""
    rng = np.random.default_rng(0)
    model = keras_nin.models.NiN((size, size, 3), normalization="batch")
    for weight in model.non_trainable_weights:
        low, high = (0.5, 2.0) if "variance" in weight.path else (-0.5, 0.5)
        weight.assign(rng.uniform(low, high, weight.shape).astype("float32"))
    folded = fold_batch_norm(model)
    x = rng.standard_normal((batch, size, size, 3)).astype("float32")
    models = {"batch norm folded": folded, "with batch norm": model}
    _compiled_nin(models, path)
    outputs = [ops.convert_to_numpy(m.predict_on_batch(x)) for m in models.values()]
    np.testing.assert_allclose(*outputs, rtol=1e-4, atol=1e-6)
    steps = {
        name: lambda model=model: model.predict_on_batch(x)
        for name, model in models.items()
    }
    return _timings(interleaved(steps, rounds=rounds, warmup=3), batch)


def _torch_device(device: str) -> str:
    """The PyTorch device of a Keras device name: `"gpu:1"` → `"cuda:1"`."""
    kind, _, index = device.partition(":")
    if kind == "cpu":
        return "cpu"
    return f"cuda:{index or 0}"


def gemm_limit(sections: list[dict]) -> float:
    """The machine's GEMM limit in GFLOP/s: the best throughput of the square
    matmul in this run, over both modes (a backward pass is two products) and
    both paths."""
    best = 0.0
    for section in sections:
        if "gemm" not in section:
            continue
        gemm = section["gemm"]
        for mode, products in (("forward", 1), ("forward+backward", 3)):
            seconds = gemm[mode]["gemm"]["median_s"]
            best = max(best, products * gemm["flops"] / seconds / 1e9)
    return best


def nin_training_flops(image_size: int) -> int:
    """FLOPs of one NiN training step per image: forward multiplies × 2 (a
    multiply–accumulate is two operations) × 3 (the backward pass computes
    two products per forward product)."""
    return 6 * cost(keras_nin.models.NiN(), (image_size, image_size, 3)).multiplies


def _each_alone(steps: dict, rounds: int) -> dict:
    """Each step's rounds timed on their own, one case after the other.

    The scaling cases are not compared with each other round by round, and
    their sizes differ up to 100×: interleaved, a small step ran after the
    large ones and paid for their memory (JAX, NiN at batch 16: 0.12 s per
    step alone or next to batch 64, 0.23 s next to batch 256, 0.63 s next to
    the 64×64 images as well).
    """
    return {
        name: interleaved({name: step}, rounds=rounds, number=1, warmup=1)[name]
        for name, step in steps.items()
    }


def scaling(config: dict, gemm_gflops: float) -> dict:
    """Where the work grows: NiN training throughput over batch and image size,
    and Pointwise (bias + ReLU, C → C) over channel counts, on the default
    path, each with its fraction of the GEMM limit measured in the same run."""
    rounds = config["scaling_rounds"]
    nin = []
    steps = {}
    for size in config["scaling_sizes"]:
        for batch in config["scaling_batches"]:
            model = keras_nin.models.NiN((size, size, 3))
            _compiled_nin({"nin": model}, "default")
            x = np.random.default_rng(0).standard_normal((batch, size, size, 3))
            x, y = x.astype("float32"), np.arange(batch) % 10
            steps[f"{batch}×{size}×{size}"] = lambda model=model, x=x, y=y: (
                model.train_on_batch(x, y)
            )
            nin.append({"name": f"{batch}×{size}×{size}", "batch": batch, "size": size})
    timings = _each_alone(steps, rounds)
    for case in nin:
        timing = timings[case["name"]]
        flops = case["batch"] * nin_training_flops(case["size"])
        case["images_per_s"] = case["batch"] / timing.median
        case["rounds_s"] = timing.rounds
        case["gflops"] = flops / timing.median / 1e9
        case["of_gemm"] = case["gflops"] / gemm_gflops
        print(
            f"  NiN {case['name']}: {case['images_per_s']:.1f} images/s, "
            f"{case['of_gemm']:.0%} of GEMM",
            flush=True,
        )
    pointwise = []
    positions = config["scaling_positions"]
    for mode, backward in (("forward", False), ("forward+backward", True)):
        steps = {}
        for channels in config["scaling_channels"]:
            x = np.random.default_rng(0).standard_normal((*positions, channels))
            layer = keras_nin.layers.Pointwise(channels)
            layer.build(x.shape)
            steps[channels] = compile_step(
                *layer_fn(layer, backward), x.astype("float32"), backward=backward
            )
        timings = _each_alone(steps, rounds)
        for channels, timing in timings.items():
            count = math.prod(positions)
            flops = 2 * count * channels * channels * (3 if backward else 1)
            bytes_moved = 4 * (2 * count * channels + channels * channels)
            gflops = flops / timing.median / 1e9
            pointwise.append(
                {
                    "channels": channels,
                    "mode": mode,
                    "median_s": timing.median,
                    "rounds_s": timing.rounds,
                    "gflops": gflops,
                    "of_gemm": gflops / gemm_gflops,
                    "arithmetic_intensity": 2 * count * channels**2 / bytes_moved,
                    "page_faults": timing.page_faults,
                }
            )
            print(
                f"  Pointwise {channels}→{channels} {mode}: {gflops:.1f} GFLOP/s, "
                f"{gflops / gemm_gflops:.0%} of GEMM",
                flush=True,
            )
    return {
        "gemm_gflops": gemm_gflops,
        "positions": list(positions),
        "nin": nin,
        "pointwise": pointwise,
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


def run_cases(config: dict, path: str, blocks: bool = True) -> dict:
    """GEMM limit, Pointwise and (if `blocks`) the blocks on one path."""
    timing = (config["rounds"], config["min_round_seconds"], path)
    keras.utils.set_random_seed(0)
    print(f"== {BACKEND}, {path} path: best GEMM throughput", flush=True)
    gemm = time_comparison(cases.square_matmul(config["gemm"]), *timing)
    print(f"== {BACKEND}, {path} path: Pointwise, matmul, Conv2D", flush=True)
    pointwise = []
    for comparison in cases.pointwise_comparisons(config["pointwise_shapes"]):
        cases.check_same_function(comparison)
        print(comparison.name, flush=True)
        pointwise.append(time_comparison(comparison, *timing))
    print(f"== {BACKEND}, {path} path: blocks against plain Keras", flush=True)
    if not blocks:
        return {"gemm": gemm, "pointwise": pointwise, "blocks": []}
    timed = []
    for comparison in cases.block_comparisons(
        config["block_batch"], config.get("spatial_size")
    ):
        cases.check_same_function(comparison)
        print(comparison.name, flush=True)
        timed.append(time_comparison(comparison, *timing))
    return {"gemm": gemm, "pointwise": pointwise, "blocks": timed}


def compiled_skipped(config: dict) -> str | None:
    """Why the compiled path is not timed in this run, or `None`."""
    if compiled_is_default():
        return f"the same program as the default path ({path_description('default')})"
    if BACKEND == "torch" and not config["torch_compile"]:
        return (
            "torch.compile is timed in the full run only: compiling all the cases "
            "takes minutes on a small CPU"
        )
    return None


def run_on(device: str, config: dict, mode: str) -> dict:
    """Every measurement on one device (`"cpu"` or an accelerator)."""
    rounds = config["rounds"]
    started = time.perf_counter()
    main = run_cases(config, "default")
    skipped = compiled_skipped(config)
    if skipped:
        compiled = {"skipped": skipped}
    else:
        compiled = run_cases(config, "compiled", config.get("compiled_blocks", True))
    print(f"== {BACKEND}: theory against measurement", flush=True)
    reduce_first = cases.bottleneck_theory_comparison(
        config["block_batch"], config.get("spatial_size") or 28
    )
    print(reduce_first.name, flush=True)
    theory = time_comparison(reduce_first, rounds, config["min_round_seconds"])
    reduced, naive = reduce_first.models.values()
    theory["multiply_ratio"] = cost(naive).compare(cost(reduced))
    print(f"== {BACKEND}: NiN training, inference, native PyTorch", flush=True)
    native = native_torch.available() is None
    size = config.get("spatial_size") or 32
    throughput = training_throughput(
        config["train_batch"], rounds, native=native, device=device, size=size
    )
    print({k: round(v["images_per_s"], 1) for k, v in throughput.items()}, flush=True)
    if skipped:
        throughput_compiled = {"skipped": skipped}
    else:
        try:
            throughput_compiled = training_throughput(
                config["train_batch"], rounds, "compiled", False, device, size
            )
        except Exception as error:  # a compiler's bug, recorded, not fatal
            throughput_compiled = {"failed": compile_failure(error)}
        print(
            throughput_compiled.get("failed")
            or {k: round(v["images_per_s"], 1) for k, v in throughput_compiled.items()},
            flush=True,
        )
    latency = inference_latency(
        config["latency_batches"], rounds, native=native, device=device, size=size
    )
    print(f"== {BACKEND}: fold_batch_norm, inference", flush=True)
    fold = {"default": fold_speedup(config["train_batch"], rounds, size=size)}
    fold["compiled"] = (
        {"skipped": skipped}
        if skipped
        else fold_speedup(config["train_batch"], rounds, "compiled", size)
    )
    print(
        {
            path: {k: round(v["images_per_s"], 1) for k, v in timings.items()}
            for path, timings in fold.items()
            if "skipped" not in timings
        },
        flush=True,
    )
    print(f"== {BACKEND}: scaling", flush=True)
    scale = scaling(config, gemm_limit([main, compiled]))
    on_cpu = device == "cpu"
    result = {
        "machine": machine(),
        "mode": mode,
        "device": device,
        "paths": {
            "default": path_description("default"),
            "compiled": path_description("compiled"),
        },
        **main,
        "compiled": compiled,
        "theory": theory,
        "training_throughput": throughput,
        "training_throughput_compiled": throughput_compiled,
        "inference_latency": latency,
        "fold_batch_norm": fold,
        "native_torch": ("timed" if native else native_torch.available()),
        "scaling": scale,
        "training_memory": (
            training_memory(config["train_batch"])
            if config["fresh_process_memory"] and on_cpu
            else {}
        ),
        "allocator": (
            allocator_comparison(
                max(config["pointwise_shapes"], key=_output_size),
                rounds,
                config["allocator_repeats"],
            )
            if on_cpu
            else {}
        ),
        "import_ms": import_time_ms(config["import_repeats"]),
    }
    result["seconds"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="small shapes, a few minutes"
    )
    size.add_argument("--smoke", action="store_true", help="tiny shapes, for tests")
    parser.add_argument("--output", type=Path, help="result file (JSON), CPU run")
    parser.add_argument(
        "--only-scaling",
        action="store_true",
        help="measure the scaling section again into an existing result file, "
        "against the GEMM limit that file's run measured",
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    config = {"quick": QUICK, "smoke": SMOKE, "full": FULL}[mode]
    suffix = "" if mode == "full" else f"-{mode}"
    if args.only_scaling:
        output = args.output or RESULTS / f"{BACKEND}{suffix}.json"
        result = json.loads(output.read_text())
        started = time.perf_counter()
        result["scaling"] = scaling(config, result["scaling"]["gemm_gflops"])
        result["scaling"]["separate_run_s"] = time.perf_counter() - started
        output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote the scaling section of {output}")
        return result
    found = accelerators()
    print(f"== {BACKEND}: accelerators: {', '.join(found) or 'none'}", flush=True)
    # (device, result file): the CPU first, then the first accelerator.
    runs = [("cpu", args.output or RESULTS / f"{BACKEND}{suffix}.json")]
    if found:
        gpu_output = RESULTS / f"{BACKEND}-gpu{suffix}.json"
        if args.output:
            gpu_output = args.output.with_name(
                f"{args.output.stem}-gpu{args.output.suffix}"
            )
        runs.append((found[0], gpu_output))
    results = []
    for device, output in runs:
        # Without an accelerator everything runs on the CPU already. The CPU
        # is named "cpu", not "cpu:0": on PyTorch, Keras moves each new
        # variable `.to("cpu:0")`, which copies it into a plain tensor, and
        # Dropout's integer seed variable then fails as a parameter.
        scope = keras.device(device)
        with scope if found else contextlib.nullcontext():
            result = run_on(device, config, mode)
        result["accelerators"] = found
        if not found:
            result["accelerator_skipped"] = (
                f"no GPU visible to {BACKEND}: the accelerator columns were skipped"
            )
        print(f"import {result['import_ms']:.1f} ms")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {output} ({device}) in {result['seconds']:.0f} s")
        results.append(result)
    return results[0]


if __name__ == "__main__":
    main()
