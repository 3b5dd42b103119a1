"""Train Network-in-Network on real handwritten digits, offline.

The data is scikit-learn's bundled copy of the UCI handwritten digits
(`sklearn.datasets.load_digits`): 1,797 real 8×8 grayscale scans of digits
written by 43 people, 10 classes. Nothing is downloaded.

For each seed the script splits the images 80/20 (stratified, the seed as
`random_state`), builds `keras_nin.models.NiN((8, 8, 1), 10)` (8 → 4 → 2 by
its two poolings), trains it with `model.fit` and evaluates it on the held-out
images. It writes, into `--output`:

- `results.json`: every run (accuracy, training time) and each experiment's
  mean ± std, parameters, multiplies and hyperparameters; runs of other
  backends or normalizations already in the file are kept, so one file
  collects a whole study;
- `results.md.txt`: the same as a Markdown table (included by the docs page;
  not named `.md` so that MkDocs does not take it for a page);
- `learning-curves-<backend>-<normalization>.png`: accuracy per epoch;
- `confidence-maps-<backend>-<normalization>.png`: the class maps of the last
  mlpconv block for a few test digits, the paper's global-average-pooling view;
- `nin-digits-<backend>-<normalization>.keras`: the first seed's trained NiN.

`--ablation` also trains, on the same splits, the same network with a linear
micro-network (the 1×1 layers keep their weights but lose their activation)
and the network without any 1×1 layer.

Usage (from the repository root, any Keras backend):

    python examples/digits.py                          # NiN + batch norm, 5 seeds
    python examples/digits.py --normalization none     # the paper's NiN
    python examples/digits.py --ablation               # + the two ablations
    python examples/digits.py --quick --output /tmp/d  # a short smoke run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import keras_nin
from keras_nin.layers import Pointwise

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "examples" / "output" / "digits"
DEFAULT_LEARNING_RATE = 2e-3
TEST_SIZE = 0.2  # 360 of the 1,797 images are held out
NUM_CLASSES = 10
VARIANTS = {
    "nin": "NiN (ReLU micro-network)",
    "linear-micro": "linear micro-network",
    "no-1x1": "no 1×1 layers",
}
# The NiN of `keras_nin.models.NiN`: (spatial filters, kernel, 1×1 widths).
BLOCKS = ((192, 5, (160, 96)), (192, 5, (192, 192)), (192, 3, (192, NUM_CLASSES)))
# Keras's default batch-norm momentum, 0.99, averages the statistics over the
# last ~100 steps: 2 epochs of this small set, while the weights still move
# fast. The test accuracy then lags far behind the training accuracy for the
# first ~10 epochs; 0.9 (the last ~10 steps) tracks the weights.
BATCH_NORM_MOMENTUM = 0.9


def load_split(seed: int) -> tuple[np.ndarray, ...]:
    """The real digits as (N, 8, 8, 1) floats in [0, 1], split 80/20 by class."""
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    return train_test_split(
        images,
        digits.target,
        test_size=TEST_SIZE,
        stratify=digits.target,
        random_state=seed,
    )


def _conv_unit(x: Any, layer: keras.layers.Layer, batch_norm: bool, relu: bool):
    """A convolution, its batch norm (if any), then its ReLU (if any)."""
    x = layer(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, name=f"{layer.name}_norm"
        )(x)
    if relu:
        x = keras.layers.ReLU(name=f"{layer.name}_relu")(x)
    return x


def build_ablation(
    variant: str, normalization: str | None, dropout: float = 0.5
) -> keras.Model:
    """NiN with a linear micro-network, or with no 1×1 layers, from plain layers.

    `NiNBlock` has one `activation` for its spatial convolution and its 1×1
    layers alike, so a linear micro-network is composed here: a `Conv2D` with
    its ReLU, then `Pointwise(activation=None)` layers. Without 1×1 layers the
    last block is a 3×3 `Conv2D` straight to the 10 class maps (with its ReLU,
    as in NiN), since something must produce one map per class.
    """
    batch_norm = normalization == "batch"
    inputs = keras.Input((8, 8, 1), name="image")
    x = inputs
    for index, (filters, kernel_size, widths) in enumerate(BLOCKS, start=1):
        last = index == len(BLOCKS)
        name = f"mlpconv{index}"
        if variant == "no-1x1" and last:
            filters = NUM_CLASSES
        conv = keras.layers.Conv2D(
            filters, kernel_size, padding="same", use_bias=not batch_norm,
            name=f"{name}_conv",
        )  # fmt: skip
        x = _conv_unit(x, conv, batch_norm, relu=True)
        if variant == "linear-micro":
            for step, width in enumerate(widths, start=1):
                pointwise = Pointwise(
                    width, activation=None, use_bias=not batch_norm,
                    name=f"{name}_mlp_{step}",
                )  # fmt: skip
                x = _conv_unit(x, pointwise, batch_norm, relu=False)
        if index == 1:
            x = keras.layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
        elif index == 2:
            x = keras.layers.AveragePooling2D(3, 2, padding="same", name="pool2")(x)
        if not last:
            x = keras.layers.Dropout(dropout, name=f"dropout{index}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = keras.layers.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"nin_{variant.replace('-', '_')}")


def build_model(variant: str, normalization: str | None) -> keras.Model:
    if variant != "nin":
        return build_ablation(variant, normalization)
    return keras_nin.models.NiN(
        (8, 8, 1),
        NUM_CLASSES,
        normalization=normalization,
        norm_momentum=BATCH_NORM_MOMENTUM,
    )


def train_run(
    variant: str, normalization: str | None, seed: int, args: argparse.Namespace
) -> tuple[keras.Model, dict[str, Any]]:
    """One seed: split, build, fit (timed), evaluate on the held-out images."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    x_train, x_test, y_train, y_test = load_split(seed)
    model = build_model(variant, normalization)
    steps = args.epochs * int(np.ceil(len(x_train) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        # Monitored for the learning curves only: nothing stops early on it.
        validation_data=(x_test, y_test),
        verbose=args.verbose,
    )
    fit_seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    run = {
        "seed": seed,
        "test_accuracy": float(accuracy),
        "fit_seconds": fit_seconds,
        # Per epoch: loss, accuracy, val_loss, val_accuracy (the held-out set).
        "history": {
            key: [float(value) for value in values]
            for key, values in history.history.items()
        },
    }
    print(
        f"{variant} normalization={normalization} seed={seed}: "
        f"test accuracy {accuracy:.4f}, fit {fit_seconds:.1f} s",
        flush=True,
    )
    return model, run


def plot_learning_curves(histories: dict[str, list[dict]], title: str, path: Path):
    """Accuracy (top) and loss (bottom) per epoch, one column per network."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(
        2,
        len(histories),
        figsize=(max(4.2 * len(histories), 6.4), 6.0),
        sharey="row",
        squeeze=False,
    )
    final = [run["val_accuracy"][-1] for runs in histories.values() for run in runs]
    # Zoom in when every run ends above 90%: the differences are at the top.
    low = 0.9 if min(final) > 0.9 else 0.0
    for column, (variant, runs) in enumerate(histories.items()):
        top, bottom = axes[0][column], axes[1][column]
        for index, history in enumerate(runs):
            epochs = np.arange(1, len(history["accuracy"]) + 1)
            for axis, key in ((top, "accuracy"), (bottom, "loss")):
                axis.plot(epochs, history[key], color="tab:blue", alpha=0.6,
                          label="training" if index == 0 else None)  # fmt: skip
                axis.plot(epochs, history[f"val_{key}"], color="tab:orange",
                          alpha=0.8,
                          label="held-out test" if index == 0 else None)  # fmt: skip
        top.set_title(VARIANTS[variant])
        top.set_ylim(low, 1.002)
        bottom.set_yscale("log")
        bottom.set_xlabel("epoch")
        for axis in (top, bottom):
            axis.grid(alpha=0.3)
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].set_ylabel("accuracy (one line per seed)")
    axes[1][0].set_ylabel("cross-entropy loss")
    axes[0][0].legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confidence_maps(model: keras.Model, seed: int, path: Path, count: int = 4):
    """The last block's 10 class maps for a few test digits, one row each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, x_test, _, y_test = load_split(seed)
    # One test digit of each of the first `count` classes, for variety.
    picks = [int(np.flatnonzero(y_test == label)[0]) for label in range(count)]
    images = x_test[picks]
    maps_model = keras.Model(model.inputs, model.get_layer("mlpconv3").output)
    maps = np.asarray(maps_model.predict(images, verbose=0))
    probabilities = np.asarray(model.predict(images, verbose=0))
    vmax = float(maps.max()) or 1.0  # one colour scale for every map
    fig, axes = plt.subplots(
        count, NUM_CLASSES + 1, figsize=(1.25 * (NUM_CLASSES + 1), 1.45 * count)
    )
    for row, (image, class_maps, probs) in enumerate(
        zip(images, maps, probabilities, strict=True)
    ):
        predicted = int(np.argmax(probs))
        axes[row, 0].imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, 0].set_title(f"digit {y_test[picks[row]]}", fontsize=9)
        for label in range(NUM_CLASSES):
            axis = axes[row, label + 1]
            shown = axis.imshow(
                class_maps[..., label], cmap="viridis", vmin=0, vmax=vmax
            )
            mark = " ✓" if label == predicted else ""
            axis.set_title(
                f"{label}: {class_maps[..., label].mean():.2f}{mark}",
                fontsize=8,
                fontweight="bold" if label == predicted else "normal",
            )
        for axis in axes[row]:
            axis.set_xticks([])
            axis.set_yticks([])
    fig.suptitle(
        "Class confidence maps of mlpconv3 (2×2 each, one colour scale)\n"
        "title: class, map mean = its score before softmax, ✓ = predicted",
        fontsize=9,
    )
    fig.colorbar(shown, ax=axes, shrink=0.6, pad=0.01)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def results_table(experiments: list[dict[str, Any]]) -> str:
    """The experiments as a Markdown table, most accurate first per backend."""
    lines = [
        "| Backend | Network | Normalization | Learning rate "
        "| Test accuracy (mean ± std) "
        "| Seeds | Parameters | Multiplies | Training time per run |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    order = {name: index for index, name in enumerate(VARIANTS)}
    for item in sorted(
        experiments,
        key=lambda e: (
            e["backend"] != "tensorflow",
            e["backend"],
            e["normalization"] != "batch",
            order[e["variant"]],
            -e["learning_rate"],
        ),
    ):
        times = [run["fit_seconds"] for run in item["runs"]]
        lines.append(
            f"| {item['backend']} | {VARIANTS[item['variant']]} "
            f"| {item['normalization']} | {item['learning_rate']:g} "
            f"| {100 * item['mean_accuracy']:.2f}% ± {100 * item['std_accuracy']:.2f} "
            f"| {len(item['runs'])} | {item['params']:,} | {item['multiplies']:,} "
            f"| {statistics.mean(times):.1f} s (max {max(times):.1f} s) |"
        )
    lines.append("")
    lines.append("Produced by these runs (date, machine, load at the start):")
    lines.append("")
    runs = {(e["command"], e["backend"], e["date"], e["machine"]) for e in experiments}
    for command, backend, date, about in sorted(runs):
        lines.append(f"- `KERAS_BACKEND={backend} {command.strip()}`: {date}, {about}")
    return "\n".join(lines) + "\n"


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.processor() or platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}, Keras {keras.__version__}, "
        f"load average {load:.1f} at start"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train NiN on scikit-learn's real 8×8 handwritten digits."
    )
    parser.add_argument("--seeds", type=int, default=5, help="runs: seeds 0..N-1")
    parser.add_argument("--epochs", type=int, default=None, help="default 15")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=DEFAULT_LEARNING_RATE)
    parser.add_argument("--normalization", choices=("batch", "none"), default="batch")
    parser.add_argument(
        "--ablation", action="store_true",
        help="also train the linear-micro-network and no-1×1 variants",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--publish", type=Path, default=None,
        help="also copy results.json, the table and the plots here "
        "(the docs use docs/assets/digits)",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true",
        help="a smoke run: 1 seed, 4 epochs (unless --epochs/--seeds are given)",
    )  # fmt: skip
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2)
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 4 if args.quick else 15
    if args.quick and "--seeds" not in (argv if argv is not None else sys.argv):
        args.seeds = 1
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    normalization = None if args.normalization == "none" else "batch"
    backend = keras.backend.backend()
    args.output.mkdir(parents=True, exist_ok=True)
    results_path = args.output / "results.json"
    results = (
        json.loads(results_path.read_text())
        if results_path.exists()
        else {"experiments": []}
    )
    variants = list(VARIANTS) if args.ablation else ["nin"]
    hyperparameters = {
        "optimizer": "Adam, cosine decay to 0",
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "dropout": 0.5,
        "test_size": TEST_SIZE,
        "augmentation": "none",
    }
    about = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(
            ["python examples/digits.py", *(argv if argv is not None else sys.argv[1:])]
        ),
    }
    print(f"Keras backend: {backend}; {about['machine']}", flush=True)
    histories: dict[str, list[dict]] = {}
    suffix = f"{backend}-{args.normalization}"
    if args.learning_rate != DEFAULT_LEARNING_RATE:
        suffix += f"-lr{args.learning_rate:g}"
    for variant in variants:
        runs = []
        histories[variant] = []
        for seed in range(args.seeds):
            model, run = train_run(variant, normalization, seed, args)
            runs.append(run)
            histories[variant].append(run["history"])
            if seed == 0 and variant == "nin":
                model.save(args.output / f"nin-digits-{suffix}.keras")
                plot_confidence_maps(
                    model, seed, args.output / f"confidence-maps-{suffix}.png"
                )
            if seed == 0:
                params = model.count_params()
                multiplies = keras_nin.theory.cost(model).multiplies
        accuracies = [run["test_accuracy"] for run in runs]
        experiment = {
            "backend": backend,
            "variant": variant,
            "normalization": args.normalization,
            "learning_rate": args.learning_rate,
            "runs": runs,
            "mean_accuracy": statistics.mean(accuracies),
            "std_accuracy": statistics.pstdev(accuracies),
            "params": params,
            "multiplies": multiplies,
            "hyperparameters": hyperparameters,
            **about,
        }
        print(
            f"==> {variant} ({args.normalization}, {backend}): "
            f"{100 * experiment['mean_accuracy']:.2f}% ± "
            f"{100 * experiment['std_accuracy']:.2f} over {args.seeds} seeds, "
            f"{params:,} parameters",
            flush=True,
        )
        results["experiments"] = [
            e
            for e in results["experiments"]
            if (e["backend"], e["variant"], e["normalization"], e["learning_rate"])
            != (backend, variant, args.normalization, args.learning_rate)
        ] + [experiment]
    plot_learning_curves(
        histories,
        f"Real digits, {args.epochs} epochs, normalization={args.normalization}, "
        f"{backend}",
        args.output / f"learning-curves-{suffix}.png",
    )
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    table = results_table(results["experiments"])
    (args.output / "results.md.txt").write_text(table)
    print(table)
    if args.publish is not None:
        args.publish.mkdir(parents=True, exist_ok=True)
        for path in args.output.iterdir():
            if path.suffix in (".json", ".txt", ".png"):
                shutil.copy2(path, args.publish / path.name)
    return results


if __name__ == "__main__":
    main()
