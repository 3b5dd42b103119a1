"""Timing that survives a noisy machine: the steps users run, interleaved, medians.

Every case is a pure function `fn(params, x) -> y` of a list of backend arrays
`params`. `compile_step` turns it into a step, forward only or forward and
backward (gradients with respect to the parameters and the input, as for a
layer inside a network), on one of two paths:

- `"default"`: what `model.compile()` with no options then `fit` / `predict`
  run on this machine. Keras resolves `jit_compile="auto"` itself
  (`default_jit_compile` asks it): on TensorFlow that is a `tf.function`
  *without* XLA on a CPU-only machine (Keras disables XLA there, and under
  `tf.distribute`) and with XLA when a GPU is present; `jax.jit` on JAX;
  eager on PyTorch (Keras's default there).
- `"compiled"`: what `compile(jit_compile=True)` runs — XLA on TensorFlow,
  `jax.jit` on JAX (the same program as the default path, so it is not timed
  twice), `torch.compile` on PyTorch.

`interleaved` then times several cases in turn, round after round (starting
each round at the next case, so none always follows another), so a burst of
load on the machine hits all of them alike, and keeps every round's time
(`benchmarks.stats` compares two cases round by round). It also counts the
minor page faults per step: a runtime that maps every large output afresh pays
one per 4 KiB page, which on the CPU can cost more than the product itself.
"""

from __future__ import annotations

import functools
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras

BACKEND = keras.backend.backend()
PATHS = ("default", "compiled")

Step = Callable[[], Any]


@functools.cache
def default_jit_compile() -> bool:
    """What `jit_compile="auto"` resolves to here: Keras's own decision."""
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(loss="mse")
    return bool(model.jit_compile)


def path_description(path: str) -> str:
    """How a path runs on this backend and machine, for the result file."""
    if path == "default":
        return {
            "tensorflow": "tf.function, "
            + ("XLA" if default_jit_compile() else "no XLA (Keras's choice here)"),
            "jax": "jax.jit",
            "torch": "eager",
        }[BACKEND]
    return {
        "tensorflow": "tf.function, XLA (jit_compile=True)",
        "jax": "jax.jit (the default path)",
        "torch": "torch.compile",
    }[BACKEND]


def compiled_is_default() -> bool:
    """Whether the compiled path is the very same program as the default one."""
    return BACKEND == "jax" or (BACKEND == "tensorflow" and default_jit_compile())


def _tensorflow_step(fn, params, x, backward: bool, path: str) -> Step:
    import tensorflow as tf

    if backward:

        def step(params, x):
            with tf.GradientTape() as tape:
                tape.watch([*params, x])
                loss = tf.reduce_sum(fn(params, x))
            return tape.gradient(loss, [*params, x])

    else:
        step = fn
    xla = default_jit_compile() if path == "default" else True
    compiled = tf.function(step, jit_compile=xla)
    if not tf.config.list_logical_devices("GPU"):
        # On the CPU TensorFlow's executor is synchronous: the call returns when done.
        return lambda: compiled(params, x)

    def synchronized():
        outputs = compiled(params, x)
        tf.test.experimental.sync_devices()
        return outputs

    return synchronized


def _jax_step(fn, params, x, backward: bool, path: str) -> Step:
    import jax
    import jax.numpy as jnp

    def total(params, x):
        return jnp.sum(fn(params, x))

    step = jax.grad(total, argnums=(0, 1)) if backward else fn
    compiled = jax.jit(step)
    return lambda: jax.block_until_ready(compiled(params, x))


def _torch_step(fn, params, x, backward: bool, path: str) -> Step:
    import torch

    if path == "compiled":
        # Every case is the same Python function (`layer_fn`'s `fn`) over
        # another layer, and Dynamo caches per function: past its recompile
        # limit (8) it would silently run the remaining cases eagerly, and
        # from the second shape on it would compile shape-generic kernels
        # (automatic dynamic shapes). Each case gets static shapes, as the
        # first case of a process would.
        torch._dynamo.config.cache_size_limit = 1024  # recompile_limit in torch ≥ 2.6
        fn = torch.compile(fn, dynamic=False)
    synchronize = torch.cuda.synchronize if x.is_cuda else lambda: None
    if backward:
        params = [p.detach().requires_grad_(True) for p in params]
        x = x.detach().requires_grad_(True)

        def step():
            grads = torch.autograd.grad(fn(params, x).sum(), [*params, x])
            synchronize()
            return grads

        return step

    def step():
        with torch.no_grad():
            outputs = fn(params, x)
        synchronize()
        return outputs

    return step


_COMPILERS = {"tensorflow": _tensorflow_step, "jax": _jax_step, "torch": _torch_step}


def compile_step(
    fn: Callable[[list[Any], Any], Any],
    params: Sequence[Any],
    x: Any,
    *,
    backward: bool,
    path: str = "default",
) -> Step:
    """A zero-argument callable running one (forward[+backward]) step on `path`."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, not {path!r}")
    params = [keras.ops.convert_to_tensor(p) for p in params]
    x = keras.ops.convert_to_tensor(x)
    return _COMPILERS[BACKEND](fn, list(params), x, backward, path)


def layer_fn(layer: keras.Layer, training: bool = False) -> tuple[Callable, list[Any]]:
    """A built layer as a pure function of its trainable weights, and those weights.

    Non-trainable weights (e.g. batch-norm statistics) are passed as they are.
    `training` is what Keras passes: `True` in `fit`'s train step, `False` in
    `predict`.
    """
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def fn(params, x):
        outputs, _ = layer.stateless_call(params, non_trainable, x, training=training)
        return outputs

    return fn, [v.value for v in layer.trainable_variables]


@dataclass
class Timing:
    """Seconds per step of every round, in round order, and page faults per step."""

    rounds: list[float]
    page_faults: float

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)


def interleaved(
    steps: dict[str, Step],
    *,
    rounds: int = 7,
    number: int = 5,
    warmup: int = 3,
    min_round_seconds: float = 0.05,
) -> dict[str, Timing]:
    """Time `steps` round-robin; each round times `number` calls of every step.

    `number` grows so one round of the slowest step lasts at least
    `min_round_seconds`, which keeps timer resolution out of the figures.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    slowest = max(_time_calls(step, 1)[0] for step in steps.values())
    number = max(number, int(min_round_seconds / max(slowest, 1e-9)) + 1)
    names = list(steps)
    samples: dict[str, list[float]] = {name: [] for name in names}
    faults: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        start = round_index % len(names)
        for name in names[start:] + names[:start]:
            seconds, page_faults = _time_calls(steps[name], number)
            samples[name].append(seconds)
            faults[name].append(page_faults)
    return {
        name: Timing(samples[name], statistics.median(faults[name])) for name in names
    }


def _minor_page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _time_calls(step: Step, number: int) -> tuple[float, float]:
    """Seconds and minor page faults per call, over `number` calls."""
    faults, start = _minor_page_faults(), time.perf_counter()
    for _ in range(number):
        step()
    seconds = time.perf_counter() - start
    return seconds / number, (_minor_page_faults() - faults) / number


def accelerators() -> list[str]:
    """The accelerators this backend sees, as Keras device names (`"gpu:0"`)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return [f"gpu:{i}" for i in range(len(gpus))]
    if BACKEND == "jax":
        import jax

        try:
            return [f"gpu:{i}" for i, _ in enumerate(jax.devices("gpu"))]
        except RuntimeError:  # no GPU platform
            return []
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
