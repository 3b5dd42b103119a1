"""Train NiN on two CPU devices and check it against one device.

    KERAS_BACKEND=tensorflow python examples/train_distributed.py mirrored
    KERAS_BACKEND=jax python examples/train_distributed.py data-parallel

`mirrored` uses `tf.distribute.MirroredStrategy` over two logical CPUs;
`data-parallel` uses `keras.distribution.DataParallel` over two host devices
of JAX. Both split every batch of 8 into two halves, one per device, and
average the gradients: after a few SGD steps the weights must equal those of
the same training on one device, up to float32 rounding. The device count is
fixed before TensorFlow or JAX starts, so this is a script, not a notebook cell.
"""

from __future__ import annotations

import argparse
import os
import sys

DEVICES = 2
TOLERANCE = 1e-5  # float32 sums split over two devices, in another order


def configure(engine: str) -> None:
    """Make two CPU devices; must run before Keras initializes the backend."""
    if engine == "data-parallel":
        flag = f"--xla_force_host_platform_device_count={DEVICES}"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}"
    else:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * DEVICES
        )


def train(model, x, y, batch_size: int = 8) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss="sparse_categorical_crossentropy",
    )
    model.fit(x, y, batch_size=batch_size, epochs=2, shuffle=False, verbose=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["mirrored", "data-parallel"])
    engine = parser.parse_args().engine
    configure(engine)

    import keras
    import numpy as np

    from keras_nin.models import NiN

    expected = {"mirrored": "tensorflow", "data-parallel": "jax"}[engine]
    if keras.backend.backend() != expected:
        sys.exit(f"{engine} needs KERAS_BACKEND={expected}")

    def make_model():
        # No dropout: both runs must see the same computation.
        return NiN((8, 8, 1), num_classes=4, dropout=0.0)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 8, 8, 1)).astype("float32")
    y = (np.arange(24) % 4).astype("int32")

    keras.utils.set_random_seed(0)
    single = make_model()
    initial = single.get_weights()
    train(single, x, y)

    if engine == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        print("replicas:", strategy.num_replicas_in_sync)
        with strategy.scope():
            distributed = make_model()
            distributed.set_weights(initial)
            train(distributed, x, y)
    else:
        devices = keras.distribution.list_devices("cpu")
        print("devices:", devices)
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=devices)
        )
        distributed = make_model()
        distributed.set_weights(initial)
        train(distributed, x, y)

    difference = max(
        float(np.abs(a - b).max())
        for a, b in zip(single.get_weights(), distributed.get_weights(), strict=True)
    )
    moved = max(
        float(np.abs(a - b).max())
        for a, b in zip(initial, single.get_weights(), strict=True)
    )
    print(f"largest weight change in training: {moved:.3g}")
    print(f"largest difference, {DEVICES} devices vs 1: {difference:.3g}")
    return 0 if difference <= TOLERANCE and moved > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
