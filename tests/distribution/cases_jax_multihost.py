"""One process of a two-process JAX job on 127.0.0.1 (a stand-in for two hosts).

Run by test_multihost.py, twice at once (``--process-id 0`` and ``1``), with
KERAS_BACKEND=jax, JAX_PLATFORMS=cpu, JAX_NUM_CPU_DEVICES=2 and
JAX_COORDINATOR_BIND_ADDRESS=127.0.0.1:<port>; and once with ``--single``
for the single-process reference fit. It is a script, not a pytest module:
each stage it reaches is written to ``<out>/status_<id>.json`` (with the
error, if one stops it), so the runner can tell how far the job went, and
the arrays to compare go to ``<out>/<name>_<id>.npy``.

Stages: ``initialized`` (``keras.distribution.initialize`` joined the two
processes), ``collective`` (an all-gather across the processes over gloo),
``fit`` (a KerasClassifier with ``distribution="data_parallel"``), ``predict``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # helpers.py

N_ROWS = 48  # 6 batches of 8: every batch splits evenly over 4 devices
SETTINGS = {
    "model__hidden": 8,
    "epochs": 3,
    "batch_size": 8,
    "random_state": 0,
    "optimizer": "adam",
    "shuffle": False,
}


def _data():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=N_ROWS, n_features=5, random_state=0)


def _flat_weights(model):
    import numpy as np

    return np.concatenate([np.ravel(w) for w in model.get_weights()])


class Status:
    """Stages reached so far, rewritten to a JSON file after each one."""

    def __init__(self, path: Path):
        self.path = path
        self.data = {"pid": os.getpid(), "stages": {}, "error": None}
        self.start = time.perf_counter()
        self.write()

    def reached(self, stage: str, **info) -> None:
        info["at_s"] = round(time.perf_counter() - self.start, 2)
        self.data["stages"][stage] = info
        self.write()

    def failed(self, stage: str, err: BaseException) -> None:
        self.data["error"] = {
            "stage": stage,
            "type": type(err).__name__,
            "message": str(err),
            "traceback": traceback.format_exc()[-4000:],
        }
        self.write()

    def write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=str))
        tmp.replace(self.path)


def run_single(out: Path) -> None:
    """The reference: the same fit on one process, no distribution."""
    import numpy as np
    from helpers import mlp

    from kerasbig import KerasClassifier

    status = Status(out / "status_single.json")
    X, y = _data()
    est = KerasClassifier(mlp, **SETTINGS).fit(X, y)
    np.save(out / "weights_single.npy", _flat_weights(est.model_))
    np.save(out / "proba_single.npy", est.predict_proba(X))
    status.reached("fit")


def run_process(process_id: int, num_processes: int, port: int, out: Path) -> None:
    status = Status(out / f"status_{process_id}.json")
    stage = "initialized"
    try:
        import jax

        # Without it, JAX on CPU has no collectives across processes.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        import keras

        keras.distribution.initialize(
            job_addresses=f"127.0.0.1:{port}",
            num_processes=num_processes,
            process_id=process_id,
        )
        devices = jax.devices()
        status.reached(
            stage,
            backend=keras.backend.backend(),
            process_count=jax.process_count(),
            process_index=jax.process_index(),
            device_count=jax.device_count(),
            local_device_count=jax.local_device_count(),
            device_processes=[d.process_index for d in devices],
            keras_devices=keras.distribution.list_devices(),
        )

        stage = "collective"
        import numpy as np
        from jax.experimental import multihost_utils

        gathered = multihost_utils.process_allgather(np.array([process_id + 1]))
        status.reached(stage, gathered=np.ravel(gathered).tolist())

        stage = "fit"
        from helpers import mlp

        from kerasbig import KerasClassifier

        X, y = _data()
        est = KerasClassifier(mlp, distribution="data_parallel", **SETTINGS)
        est.fit(X, y)
        np.save(out / f"weights_{process_id}.npy", _flat_weights(est.model_))
        status.reached(stage, replicas=est._placement.replicas)

        stage = "predict"
        np.save(out / f"proba_{process_id}.npy", est.predict_proba(X))
        status.reached(stage)

        # Leave together: a process that exits while the other still runs a
        # collective would leave it waiting for a peer that is gone.
        multihost_utils.sync_global_devices("kerasbig-multihost-done")
        status.reached("done")
    except BaseException as err:
        status.failed(stage, err)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--single", action="store_true")
    parser.add_argument("--process-id", type=int)
    parser.add_argument("--num-processes", type=int, default=2)
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    if args.single:
        run_single(args.out)
    else:
        run_process(args.process_id, args.num_processes, args.port, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
