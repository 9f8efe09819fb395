"""Training throughput on a GPU: kerasbig against plain Keras, float32 and bf16.

A prepared script for the accelerator machine (JAX backend; the machine has no
TensorFlow). It checks that training really runs on the GPU, then measures
training throughput (samples/s) of

* a CNN on images (64x64x3, kerasbig's ``build_cnn``), and
* a Transformer encoder on token sequences (length 128, ``build_transformer``),

each trained through ``kerasbig.KerasClassifier`` and through plain
``keras.Model.fit`` with the same model, in float32 and mixed bfloat16, side by
side in one run. Data are random: throughput does not depend on the values.

Usage on the device machine (see docs/accelerators.md for carrying the
keras / keras-hub wheels)::

    KERAS_BACKEND=jax python benchmarks/gpu.py --out $OUT/gpu.json

``--quick`` shrinks everything so the script can be smoke-tested on a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasbig import KerasClassifier  # noqa: E402
from kerasbig.models import build_cnn, build_transformer  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch (the first one includes compilation)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _workloads(quick: bool):
    rng = np.random.default_rng(0)
    n_images, side = (256, 16) if quick else (8192, 64)
    images = rng.random((n_images, side, side, 3), dtype=np.float32)
    image_labels = rng.integers(0, 10, n_images)
    n_texts, length = (256, 32) if quick else (8192, 128)
    vocab = 5000
    tokens = rng.integers(1, vocab, (n_texts, length)).astype("int32")
    token_labels = rng.integers(0, 4, n_texts)

    def cnn(n_outputs, input_shape):
        return build_cnn(
            input_shape,
            n_outputs,
            n_blocks=3,
            filters=(64, 128, 256),
            dense_units=(256,),
        )

    def transformer(n_outputs, input_shape):
        return build_transformer(
            input_shape,
            n_outputs,
            vocabulary_size=vocab,
            num_layers=2 if quick else 4,
            num_heads=4 if quick else 8,
            model_dim=64 if quick else 256,
            ff_dim=128 if quick else 1024,
        )

    return [
        ("cnn-images", cnn, images, image_labels, 10),
        ("transformer-tokens", transformer, tokens, token_labels, 4),
    ]


def _plain_keras(builder, X, y, n_classes, policy, epochs, batch_size):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = builder(n_classes, X.shape[1:])
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    timer = EpochTimer()
    model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer.seconds, model


def _through_kerasbig(builder, X, y, n_classes, policy, epochs, batch_size):
    def build(n_classes_):
        return builder(n_classes_, X.shape[1:])

    timer = EpochTimer()
    est = KerasClassifier(
        build,
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        batch_size=batch_size,
        precision=policy,
        callbacks=[timer],
        random_state=0,
    )
    # kerasbig validates numeric X as float; token ids stay exact below 2**24.
    est.fit(X, y)
    return timer.seconds, est.model_


def _device_of(model) -> str:
    value = model.trainable_weights[0].value
    devices = getattr(value, "devices", None)
    if callable(devices):
        return ",".join(sorted(str(d) for d in devices()))
    return str(getattr(value, "device", "?"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (CPU smoke test)"
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 4)
    batch_size = args.batch_size or (64 if args.quick else 256)

    backend = keras.backend.backend()
    platform = "cpu"
    if backend == "jax":
        import jax

        platform = jax.devices()[0].platform
        print(f"JAX {jax.__version__} devices: {jax.devices()}")
    print(f"keras {keras.__version__}, backend {backend}, platform {platform}")
    if platform != "gpu" and not args.quick:
        print("no GPU visible: refusing a full run (use --quick on a CPU)")
        return 2

    rows = []
    for name, builder, X, y, n_classes in _workloads(args.quick):
        for policy in ("float32", "mixed_bfloat16"):
            for path, runner in (
                ("keras", _plain_keras),
                ("kerasbig", _through_kerasbig),
            ):
                seconds, model = runner(
                    builder, X, y, n_classes, policy, epochs, batch_size
                )
                steady = seconds[1:] or seconds
                rate = len(X) / statistics.median(steady)
                rows.append(
                    {
                        "workload": name,
                        "precision": policy,
                        "path": path,
                        "samples_per_s": round(rate, 1),
                        "first_epoch_s": round(seconds[0], 2),
                        "weights_on": _device_of(model),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)

    print(
        f"\n{'workload':20} {'precision':15} {'keras':>12} {'kerasbig':>12}"
        f" {'ratio':>7}"
    )
    for name in dict.fromkeys(r["workload"] for r in rows):
        for policy in ("float32", "mixed_bfloat16"):
            pair = {
                r["path"]: r
                for r in rows
                if r["workload"] == name and r["precision"] == policy
            }
            k, b = pair["keras"]["samples_per_s"], pair["kerasbig"]["samples_per_s"]
            print(f"{name:20} {policy:15} {k:12.1f} {b:12.1f} {b / k:7.2f}")
    on_gpu = all(
        "cuda" in r["weights_on"].lower() or "gpu" in r["weights_on"].lower()
        for r in rows
    )
    print(f"\nweights on the GPU in every run: {on_gpu}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(
                {"platform": platform, "rows": rows, "on_gpu": on_gpu}, fh, indent=1
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
