"""kerasbig serve: a real uvicorn server on 127.0.0.1, real HTTP requests."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from deploy_helpers import data, fitted

import kerasbig
from kerasbig import __main__ as cli
from kerasbig import serving

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")


def http(url, body=None, method=None, raw=False):
    """(status, JSON answer) of a request; ``body`` is sent as JSON unless raw."""
    data_ = None if body is None else (body if raw else json.dumps(body).encode())
    request = urllib.request.Request(
        url, data=data_, method=method or ("GET" if body is None else "POST")
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@contextlib.contextmanager
def running(estimator):
    """A uvicorn server for ``estimator`` on a free port of 127.0.0.1."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(serving.make_app(estimator), log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="module")
def classifier_url():
    with running(fitted("keras_classifier")) as url:
        yield url


# ----------------------------------------------------------------------
# Answers
# ----------------------------------------------------------------------
def test_health_gives_status_and_class_labels(classifier_url):
    status, answer = http(f"{classifier_url}/health")
    assert status == 200
    assert answer == {
        "status": "ok",
        "estimator": "KerasClassifier",
        "task": "classifier",
        "classes": ["ant", "bee", "cat"],
        "input": {"kind": "numeric", "shape": ["n_rows", 4]},
    }


def test_predict_and_predict_proba_match_the_estimator(classifier_url):
    est = fitted("keras_classifier")
    fresh = data("keras_classifier")[2]
    status, answer = http(f"{classifier_url}/predict", fresh.tolist())
    assert status == 200
    assert answer["predictions"] == est.predict(fresh).tolist()
    status, answer = http(
        f"{classifier_url}/predict_proba", {"instances": fresh.tolist()}
    )
    assert status == 200
    assert answer["classes"] == ["ant", "bee", "cat"]
    np.testing.assert_allclose(
        answer["probabilities"], est.predict_proba(fresh), atol=1e-6
    )


def test_200_concurrent_requests_are_each_answered_correctly(classifier_url):
    est = fitted("keras_classifier")
    rng = np.random.default_rng(7)
    batches = [rng.normal(size=(1 + i % 5, 4)).astype("float32") for i in range(200)]
    expected = [est.predict_proba(b) for b in batches]

    def ask(i):
        return http(f"{classifier_url}/predict_proba", batches[i].tolist())

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(ask, range(200)))
    assert [status for status, _ in answers] == [200] * 200
    for (_, answer), want in zip(answers, expected):
        np.testing.assert_allclose(answer["probabilities"], want, atol=1e-6)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (
            b'{"rows": [[1, 2, 3, 4]]}',
            'Expected a JSON list of rows or an object {"instances"',
        ),
        (b"[]", "non-empty JSON list"),
        (b"42", "non-empty JSON list"),
        (b"[[1, 2, 3]]", r"Each row must have shape [4]; the rows have shape [3]"),
        (b"[[1, 2, 3, 4], [1, 2]]", "all of one shape [4]"),
        (b'[["a", "b", "c", "d"]]', "Rows must be numbers"),
        (b"[[1, 2, 3, NaN]]", "not a finite number"),
        (b'["a text"]', "Rows must be numbers"),
    ],
)
def test_bad_requests_get_400_with_a_clear_message(classifier_url, body, message):
    for method in ("predict", "predict_proba"):
        status, answer = http(f"{classifier_url}/{method}", body, raw=True)
        assert status == 400, answer
        assert message in answer["error"]


def test_wrong_method_and_path_answer_json(classifier_url):
    status, answer = http(f"{classifier_url}/predict", method="GET")
    assert status == 405 and answer == {"error": "GET is not allowed on /predict"}
    status, answer = http(f"{classifier_url}/nothing")
    assert status == 404 and answer == {"error": "Not Found"}


def test_text_model_takes_raw_strings():
    est = fitted("transformer_classifier")
    texts = ["a lovely film", "boring and awful"]
    with running(est) as url:
        status, answer = http(f"{url}/predict", texts)
        assert status == 200 and answer["predictions"] == est.predict(texts).tolist()
        status, answer = http(f"{url}/predict_proba", {"instances": texts})
        np.testing.assert_allclose(
            answer["probabilities"], est.predict_proba(texts), atol=1e-6
        )
        status, answer = http(f"{url}/predict", [[1.0, 2.0]])
        assert status == 400 and "every row must be a string; row 0" in answer["error"]
        assert http(f"{url}/health")[1]["input"] == {
            "kind": "text",
            "shape": ["n_rows"],
        }


def test_regressor_predicts_and_refuses_predict_proba():
    est = fitted("cnn_regressor")
    fresh = data("cnn_regressor")[2]
    with running(est) as url:
        status, answer = http(f"{url}/predict", fresh.tolist())
        assert status == 200
        np.testing.assert_allclose(answer["predictions"], est.predict(fresh), rtol=1e-6)
        status, answer = http(f"{url}/predict_proba", fresh.tolist())
        assert status == 400 and "regressor: it has no predict_proba" in answer["error"]
        assert http(f"{url}/health")[1]["classes"] is None


def test_estimator_errors_become_400(monkeypatch):
    """A ValueError of the estimator itself (its own input checks) is a 400."""
    est = fitted("keras_regressor")

    def refuses(X):
        raise ValueError("X has 4 features, but the estimator expects 5.")

    with running(est) as url:
        # setitem, not setattr: undoing setattr on an instance would leave
        # the bound method in est.__dict__ of the shared fitted estimator.
        monkeypatch.setitem(est.__dict__, "predict", refuses)
        status, answer = http(f"{url}/predict", [[0.0] * 4])
        monkeypatch.undo()
    assert status == 400
    assert answer == {"error": "X has 4 features, but the estimator expects 5."}


def test_multichannel_rows_are_checked():
    est = fitted("rnn_classifier")
    fresh = data("rnn_classifier")[2]
    with running(est) as url:
        status, answer = http(f"{url}/predict", np.zeros((2, 12, 3)).tolist())
        assert status == 400 and "Each row must have shape [12, 2]" in answer["error"]
        status, answer = http(f"{url}/predict", fresh.tolist())
        assert status == 200 and answer["predictions"] == est.predict(fresh).tolist()


def test_unexpected_failure_is_500_without_traceback(monkeypatch):
    est = fitted("keras_regressor")

    def broken(X):
        raise RuntimeError("secret internals")

    with running(est) as url:
        # setitem, not setattr: undoing setattr on an instance would leave
        # the bound method in est.__dict__ of the shared fitted estimator.
        monkeypatch.setitem(est.__dict__, "predict", broken)
        status, answer = http(f"{url}/predict", [[0.0] * 4])
        monkeypatch.undo()
    assert status == 500
    assert answer == {"error": "Internal error in predict; see the server's log."}


def test_make_app_arguments():
    with pytest.raises(ValueError, match="max_rows=0 is invalid"):
        serving.make_app(fitted("keras_regressor"), max_rows=0)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        serving.make_app(kerasbig.KerasRegressor())


def test_too_many_rows():
    predictor = serving._Predictor(fitted("keras_regressor"), max_rows=3)
    with pytest.raises(serving.BadRequest, match="4 rows in one request; at most 3"):
        predictor.rows(json.dumps([[0.0] * 4] * 4).encode())


# ----------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------
def test_cli_parses_serve(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(serving, "run", lambda *a, **k: calls.append((a, k)))
    assert cli.main(["serve", str(tmp_path / "m.kerasbig"), "--port", "9123"]) == 0
    assert calls == [
        (
            (str(tmp_path / "m.kerasbig"),),
            {"host": "127.0.0.1", "port": 9123, "safe_mode": True},
        )
    ]
    cli.main(["serve", "m", "--unsafe", "--host", "0.0.0.0"])
    assert calls[-1][1] == {"host": "0.0.0.0", "port": 8000, "safe_mode": False}
    with pytest.raises(SystemExit):
        cli.main(["serve"])  # the path is required


def test_run_checks_port():
    with pytest.raises(ValueError, match="port=-1 is invalid"):
        serving.run("x", port=-1)


@pytest.mark.slow
def test_python_m_kerasbig_serve_end_to_end(tmp_path):
    """The real command in a subprocess: load, serve, answer, stop."""
    path = tmp_path / "clf.kerasbig"
    fitted("cnn_classifier").save(path)  # a family: loads in safe mode anywhere
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    tests_dir = str(Path(__file__).resolve().parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kerasbig", "serve", str(path), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            try:
                status, answer = http(f"{url}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline
                time.sleep(0.5)
        assert status == 200 and answer["classes"] == ["ant", "bee", "cat"]
        fresh = data("cnn_classifier")[2]
        status, answer = http(f"{url}/predict_proba", fresh.tolist())
        assert status == 200
        want = fitted("cnn_classifier").predict_proba(fresh)
        np.testing.assert_allclose(answer["probabilities"], want, atol=1e-6)
    finally:
        process.terminate()
        process.wait(timeout=30)
