"""Timing that survives a noisy machine: compiled steps, interleaved, medians.

Every case is a pure function `fn(params, x) -> y` of a list of backend arrays
`params`. `compile_step` turns it into the step Keras would run when training
on the current backend — XLA (`jit_compile=True`, what `fit` picks by default)
on TensorFlow, `jax.jit` on JAX, eager on PyTorch (Keras's default there) —
either forward only or forward and backward (gradients with respect to the
parameters and the input, as for a layer inside a network).

`interleaved` then times several cases in turn, round after round (starting
each round at the next case, so none always follows another), so a burst of
load on the machine hits all of them alike, and keeps every round's time
(`benchmarks.stats` compares two cases round by round). It also counts the
minor page faults per step: a runtime that maps every large output afresh pays
one per 4 KiB page, which on the CPU can cost more than the product itself.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras

BACKEND = keras.backend.backend()

Step = Callable[[], Any]


def _tensorflow_step(fn, params, x, backward: bool) -> Step:
    import tensorflow as tf

    if backward:

        def step(params, x):
            with tf.GradientTape() as tape:
                tape.watch([*params, x])
                loss = tf.reduce_sum(fn(params, x))
            return tape.gradient(loss, [*params, x])

    else:
        step = fn
    compiled = tf.function(step, jit_compile=True)
    # TensorFlow's eager executor is synchronous: the call returns when done.
    return lambda: compiled(params, x)


def _jax_step(fn, params, x, backward: bool) -> Step:
    import jax
    import jax.numpy as jnp

    def total(params, x):
        return jnp.sum(fn(params, x))

    step = jax.grad(total, argnums=(0, 1)) if backward else fn
    compiled = jax.jit(step)
    return lambda: jax.block_until_ready(compiled(params, x))


def _torch_step(fn, params, x, backward: bool) -> Step:
    import torch

    if backward:
        params = [p.detach().requires_grad_(True) for p in params]
        x = x.detach().requires_grad_(True)

        def step():
            return torch.autograd.grad(fn(params, x).sum(), [*params, x])

        return step

    def step():
        with torch.no_grad():
            return fn(params, x)

    return step


_COMPILERS = {"tensorflow": _tensorflow_step, "jax": _jax_step, "torch": _torch_step}


def compile_step(
    fn: Callable[[list[Any], Any], Any],
    params: Sequence[Any],
    x: Any,
    *,
    backward: bool,
) -> Step:
    """A zero-argument callable running one compiled (forward[+backward]) step."""
    params = [keras.ops.convert_to_tensor(p) for p in params]
    x = keras.ops.convert_to_tensor(x)
    return _COMPILERS[BACKEND](fn, list(params), x, backward)


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
