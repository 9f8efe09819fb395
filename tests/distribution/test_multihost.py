"""Two JAX processes on 127.0.0.1 joined by ``keras.distribution.initialize``.

A stand-in for two hosts: cases_jax_multihost.py runs as process 0 and 1 of
one job (2 CPU devices each, gloo collectives), each fitting the same
``KerasClassifier(distribution="data_parallel")`` on the same data, and once
more as a single-process reference. The processes run once for the module;
each test reads what they left behind.

Slow tier: three fresh interpreters importing JAX and TensorFlow, 20-25 s of
wall time on 2 cores while they take both cores from the other tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
CASES = HERE / "cases_jax_multihost.py"
NUM_PROCESSES = 2
LOCAL_DEVICES = 2
TIMEOUT_S = 120  # for all three processes together; a good run takes ~25 s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # A proxy can hang the coordinator's gRPC connection (JAX warns).
        if "proxy" not in k.lower() and k not in ("XLA_FLAGS", "KERASBIG_CASES")
    }
    env.update(
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        JAX_NUM_CPU_DEVICES=str(LOCAL_DEVICES),
        # The coordinator binds to every interface unless told otherwise.
        JAX_COORDINATOR_BIND_ADDRESS=f"127.0.0.1:{port}",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONUNBUFFERED="1",
    )
    return env


class Job:
    """What the processes of one run left behind."""

    def __init__(self, out: Path, logs: dict[str, str], codes: dict, wall_s: float):
        self.out = out
        self.logs = logs
        self.codes = codes
        self.wall_s = wall_s

    def status(self, name) -> dict:
        path = self.out / f"status_{name}.json"
        if not path.exists():
            return {"stages": {}, "error": None}
        return json.loads(path.read_text())

    def stage(self, name, stage: str) -> dict:
        """The info of a stage every process must have reached, or fail."""
        status = self.status(name)
        if stage not in status["stages"]:
            pytest.fail(self._why_not(name, stage), pytrace=False)
        return status["stages"][stage]

    def array(self, kind: str, name) -> np.ndarray:
        return np.load(self.out / f"{kind}_{name}.npy")

    def _why_not(self, name, stage: str) -> str:
        status = self.status(name)
        error = status.get("error")
        code = self.codes.get(str(name))
        lines = [
            f"process {name} did not reach stage {stage!r} "
            f"(reached {list(status['stages'])}; exit code {code})."
        ]
        if error:
            lines.append(
                f"It failed in {error['stage']!r}: {error['type']}: {error['message']}"
            )
            lines.append(error["traceback"])
        else:
            lines.append(self.logs.get(str(name), "")[-3000:])
        return "\n".join(lines)


def _stop(proc: subprocess.Popen) -> None:
    """Kill one process we started (its own session: nothing else is hit)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Job:
    pytest.importorskip("jax")
    out = tmp_path_factory.mktemp("multihost")
    port = _free_port()
    env = _env(port)
    commands = {
        str(i): [
            *("--process-id", str(i), "--num-processes", str(NUM_PROCESSES)),
            *("--port", str(port)),
        ]
        for i in range(NUM_PROCESSES)
    }
    commands["single"] = ["--single"]
    procs, log_files = {}, {}
    start = time.perf_counter()
    try:
        for name, args in commands.items():
            log_files[name] = open(out / f"log_{name}.txt", "w")  # noqa: SIM115
            procs[name] = subprocess.Popen(
                [sys.executable, str(CASES), "--out", str(out), *args],
                env=env,
                cwd=HERE.parent,
                stdout=log_files[name],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = start + TIMEOUT_S
        for name, proc in procs.items():
            try:
                proc.wait(timeout=max(deadline - time.perf_counter(), 1))
            except subprocess.TimeoutExpired:
                break
            if proc.returncode != 0 and name != "single":
                break  # its peer would wait for it in a collective: stop now
    finally:
        for proc in procs.values():
            _stop(proc)
        for f in log_files.values():
            f.close()
    wall_s = time.perf_counter() - start
    codes = {name: proc.returncode for name, proc in procs.items()}
    logs = {name: (out / f"log_{name}.txt").read_text() for name in commands}
    return Job(out, logs, codes, wall_s)


def test_processes_join_one_runtime_with_global_devices(job):
    for i in range(NUM_PROCESSES):
        info = job.stage(i, "initialized")
        assert info["backend"] == "jax"
        assert info["process_count"] == NUM_PROCESSES
        assert info["process_index"] == i
        assert info["local_device_count"] == LOCAL_DEVICES
        assert info["device_count"] == NUM_PROCESSES * LOCAL_DEVICES
        assert sorted(set(info["device_processes"])) == list(range(NUM_PROCESSES))
        assert len(info["keras_devices"]) == NUM_PROCESSES * LOCAL_DEVICES


def test_cpu_collectives_cross_processes(job):
    for i in range(NUM_PROCESSES):
        assert job.stage(i, "collective")["gathered"] == [1, 2]


def test_data_parallel_fit_leaves_the_same_weights_in_every_process(job):
    for i in range(NUM_PROCESSES):
        assert job.stage(i, "fit")["replicas"] == NUM_PROCESSES * LOCAL_DEVICES
    np.testing.assert_array_equal(job.array("weights", 0), job.array("weights", 1))


def test_data_parallel_fit_matches_a_single_process_fit(job):
    job.stage("single", "fit")
    for i in range(NUM_PROCESSES):
        job.stage(i, "fit")
        np.testing.assert_allclose(
            job.array("weights", i),
            job.array("weights", "single"),
            rtol=1e-5,
            atol=1e-6,
        )


def test_each_process_predicts_what_a_single_process_does(job):
    job.stage("single", "fit")
    for i in range(NUM_PROCESSES):
        job.stage(i, "predict")
        np.testing.assert_allclose(
            job.array("proba", i), job.array("proba", "single"), rtol=1e-5, atol=1e-6
        )


def test_processes_leave_together(job):
    for i in range(NUM_PROCESSES):
        job.stage(i, "done")
    assert all(code == 0 for code in job.codes.values()), job.codes
    assert job.wall_s < TIMEOUT_S
