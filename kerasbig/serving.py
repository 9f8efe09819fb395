"""A small HTTP server for a saved estimator: ``kerasbig serve PATH``.

Needs the ``serve`` extra (``pip install kerasbig[serve]``: Starlette and
uvicorn). The server loads the file ``est.save`` wrote (in safe mode unless
told otherwise) and answers:

``GET /health``
    ``{"status": "ok", "estimator": ..., "task": "classifier" | "regressor",
    "classes": [...] | null, "input": {"kind": ..., "shape": [...]}}``
``POST /predict``
    body: JSON rows, either a bare list or ``{"instances": [...]}`` (as TF
    Serving takes); each row is one sample as ``predict`` takes it (a list
    of numbers, nested for images and multichannel series; a string for a
    text Transformer). Answer: ``{"predictions": [...]}``.
``POST /predict_proba``
    classifiers only; answer: ``{"probabilities": [[...], ...], "classes":
    [...]}``, columns in the order of ``classes``.

A request the estimator cannot take (body that is not JSON, rows of the
wrong shape or type, too many rows) gets status 400 and ``{"error":
message}``; an unexpected failure gets 500 with a short message (the
traceback goes to the server's log, never to the client). Predictions run
one at a time on a worker thread, so the event loop keeps accepting
requests while the network computes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

import numpy as np
from sklearn.base import is_classifier

logger = logging.getLogger("kerasbig.serving")

MAX_ROWS = 10_000

__all__ = ["make_app", "run"]


class BadRequest(ValueError):
    """The request cannot be answered as it is: status 400."""


def _starlette():
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "kerasbig serve needs Starlette and uvicorn: pip install "
            f"'kerasbig[serve]' ({err})."
        ) from err


def _json_value(value: Any) -> Any:
    """NumPy values as JSON's."""
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class _Predictor:
    """The estimator, its input description and the checks of a request."""

    def __init__(self, estimator: Any, max_rows: int = MAX_ROWS):
        self.estimator = estimator
        self.max_rows = max_rows
        self.lock = threading.Lock()
        self.classifier = is_classifier(estimator)
        self.text = getattr(estimator, "input_type_", None) == "text"
        self.row_shape = None if self.text else tuple(estimator.X_shape_[1:])

    def describe(self) -> dict:
        est = self.estimator
        return {
            "status": "ok",
            "estimator": type(est).__name__,
            "task": "classifier" if self.classifier else "regressor",
            "classes": _json_value(est.classes_) if self.classifier else None,
            "input": {
                "kind": "text" if self.text else "numeric",
                "shape": ["n_rows", *(self.row_shape or ())],
            },
        }

    def rows(self, body: bytes) -> Any:
        """The request's rows as ``predict`` takes them, or BadRequest."""
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BadRequest(f"The request body is not valid JSON: {err}.") from None
        if isinstance(data, dict):
            if "instances" not in data:
                raise BadRequest(
                    "Expected a JSON list of rows or an object "
                    f'{{"instances": [rows]}}; got an object with keys {sorted(data)}.'
                )
            data = data["instances"]
        if not isinstance(data, list) or not data:
            raise BadRequest(
                'Expected a non-empty JSON list of rows (or {"instances": [rows]}); '
                f"got {type(data).__name__}."
            )
        if len(data) > self.max_rows:
            raise BadRequest(
                f"{len(data)} rows in one request; at most {self.max_rows}. Split it."
            )
        if self.text:
            bad = next(
                (i for i, row in enumerate(data) if not isinstance(row, str)), None
            )
            if bad is not None:
                raise BadRequest(
                    f"This model reads raw text: every row must be a string; row "
                    f"{bad} is {data[bad]!r}."
                )
            return data
        try:
            X = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            raise BadRequest(
                "Rows must be numbers (lists of numbers, nested alike for "
                f"{len(self.row_shape)}-D rows), all of one shape "
                f"{list(self.row_shape)}."
            ) from None
        if X.shape[1:] != self.row_shape:
            raise BadRequest(
                f"Each row must have shape {list(self.row_shape)}; the rows have "
                f"shape {list(X.shape[1:])}."
            )
        if not np.all(np.isfinite(X)):
            raise BadRequest("Rows hold a value that is not a finite number.")
        return X.astype(np.float32)

    def predict(self, method: str, body: bytes) -> dict:
        if method == "predict_proba" and not self.classifier:
            raise BadRequest(
                f"{type(self.estimator).__name__} is a regressor: it has no "
                "predict_proba. POST /predict instead."
            )
        X = self.rows(body)
        with self.lock:
            try:
                out = getattr(self.estimator, method)(X)
            except (ValueError, TypeError) as err:
                raise BadRequest(str(err)) from None
        if method == "predict":
            return {"predictions": _json_value(out)}
        return {
            "probabilities": _json_value(out),
            "classes": _json_value(self.estimator.classes_),
        }


def make_app(estimator: Any, *, max_rows: int = MAX_ROWS):
    """A Starlette application answering for a fitted ``estimator``.

    Parameters
    ----------
    estimator : fitted kerasbig estimator
    max_rows : int, default=10000
        Most rows one request may hold.

    Returns
    -------
    app : starlette.applications.Starlette
        Serve it with any ASGI server (``uvicorn.run(app)``); :func:`run`
        does, for a saved file.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import RNNRegressor
    >>> from kerasbig.serving import make_app
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(16, 5))
    >>> reg = RNNRegressor(units=2, epochs=1, random_state=0).fit(X, X.sum(1))
    >>> app = make_app(reg)
    >>> sorted(route.path for route in app.routes)
    ['/health', '/predict', '/predict_proba']
    """
    _starlette()
    from sklearn.utils.validation import check_is_fitted
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    check_is_fitted(estimator)
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1:
        raise ValueError(f"max_rows={max_rows!r} is invalid; expected an int >= 1.")
    predictor = _Predictor(estimator, max_rows)

    async def health(request):
        return JSONResponse(predictor.describe())

    def answer(method: str):
        async def endpoint(request):
            body = await request.body()
            try:
                result = await run_in_threadpool(predictor.predict, method, body)
            except BadRequest as err:
                return JSONResponse({"error": str(err)}, status_code=400)
            except Exception:
                logger.exception("%s failed", method)
                return JSONResponse(
                    {"error": f"Internal error in {method}; see the server's log."},
                    status_code=500,
                )
            return JSONResponse(result)

        return endpoint

    async def http_error(request, exc):
        detail = (
            exc.detail
            if exc.status_code != 405
            else (f"{request.method} is not allowed on {request.url.path}")
        )
        return JSONResponse({"error": detail}, status_code=exc.status_code)

    return Starlette(
        exception_handlers={HTTPException: http_error},
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/predict", answer("predict"), methods=["POST"]),
            Route("/predict_proba", answer("predict_proba"), methods=["POST"]),
        ],
    )


def run(
    path: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    safe_mode: bool = True,
) -> None:
    """Load the estimator saved at ``path`` and serve it until interrupted.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``est.save``.
    host : str, default="127.0.0.1"
        The address to listen on (``"0.0.0.0"``: every interface).
    port : int, default=8000
    safe_mode : bool, default=True
        Passed to :func:`kerasbig.load`.
    """
    _starlette()
    import uvicorn

    from kerasbig.saving import load

    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"port={port!r} is invalid; expected an int in [0, 65535].")
    app = make_app(load(path, safe_mode=safe_mode))
    uvicorn.run(app, host=host, port=port, log_level="info")
