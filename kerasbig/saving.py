"""Save a whole estimator to one file and load it back: ``est.save(path)``,
:func:`load`.

The file is a zip archive holding:

``kerasbig.json``
    the format version, the kerasbig / Keras / scikit-learn versions that
    wrote it, the estimator's class, and its attributes (parameters and
    fitted state: classes, encoders, vocabulary, history...) as JSON
    (:mod:`kerasbig.safe_state`);
``model.keras``
    the fitted network in Keras's native format (weights, compile settings
    and optimizer state, so ``partial_fit`` continues where it stopped);
``arrays.npz``
    the NumPy arrays among the attributes (class labels, target statistics);
``pickles/``, ``models/``
    only if some attribute needs them (a callback instance as a parameter,
    a ``keras.Model`` given as ``model=``).

Loading is safe by default, as Keras's: a ``Lambda`` layer's code, a
pickled value or a class outside kerasbig, Keras, KerasHub and
scikit-learn that is not registered with Keras is refused unless the caller
passes ``safe_mode=False`` (:mod:`kerasbig.safe_state`). Pickle and joblib
files, by contrast, run arbitrary code when loaded: load those only from
sources you trust.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerasbig import safe_state

FORMAT = "kerasbig.estimator"
FORMAT_VERSION = 1
MANIFEST, MODEL, ARRAYS = "kerasbig.json", "model.keras", "arrays.npz"
EXPORT_FORMATS = ("tf_saved_model", "litert", "onnx")

__all__ = ["InconsistentVersionWarning", "SavingMixin", "load", "save"]


class InconsistentVersionWarning(UserWarning):
    """A saved estimator is loaded under other versions than those that saved it."""


def versions() -> dict[str, str]:
    """The versions recorded in a saved file, which :func:`load` compares."""
    import sklearn

    import kerasbig

    return {
        "kerasbig": kerasbig.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
    }


# ----------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------
def save(estimator: Any, path: str | os.PathLike) -> None:
    """Write ``estimator`` (fitted or not) to the file ``path``.

    See :meth:`SavingMixin.save`.
    """
    from kerasbig import distribute

    path = _checked_path(path, "path")
    state = dict(vars(estimator))
    model = state.pop("model_", None)
    state = distribute.picklable_state(state)  # a live strategy as its spec
    writer = safe_state.Writer()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": versions(),
        "backend": keras.backend.backend(),
        "estimator": safe_state.encode(type(estimator), writer, "the estimator class"),
        "fitted": model is not None,
        "state": safe_state.encode(state, writer, ""),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # written beside the target, then renamed: no half-written file
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        os.close(handle)
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
                zf.writestr(ARRAYS, writer.npz_bytes())
                if model is not None:
                    zf.write(_keras_file(model, tmp / MODEL), MODEL)
                for key, other in writer.models.items():
                    zf.write(
                        _keras_file(other, tmp / f"{key}.keras"), f"models/{key}.keras"
                    )
                for key, data in writer.pickles.items():
                    zf.writestr(f"pickles/{key}.pkl", data)
            os.replace(partial, path)
        except BaseException:
            os.unlink(partial)
            raise


def _keras_file(model: keras.Model, target: Path) -> Path:
    keras.saving.save_model(model, target)
    return target


def _checked_path(path: Any, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{name}={path!r} is invalid; expected a file path (str or os.PathLike)."
        )
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{name}={str(path)!r} is a directory; expected a file path.")
    return path


# ----------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------
def load(path: str | os.PathLike, safe_mode: bool = True):
    """Load an estimator written by ``est.save(path)``.

    Parameters
    ----------
    path : str or os.PathLike
        The file ``save`` wrote.
    safe_mode : bool, default=True
        Refuse content that could run arbitrary code while loading or later:
        a Keras ``Lambda`` layer's code, a pickled attribute, or a class or
        function outside kerasbig, Keras, KerasHub and scikit-learn that is
        not registered with ``keras.saving.register_keras_serializable``.
        Pass False only for a file from a source you trust.

    Returns
    -------
    estimator : BaseKerasEstimator
        The estimator, with the parameters and fitted state it was saved
        with; its predictions are those of the saved one.

    Raises
    ------
    ValueError
        If ``path`` is not a file ``save`` wrote, or safe mode refuses part
        of it (the message names the part).

    Warns
    -----
    InconsistentVersionWarning
        If kerasbig, Keras or scikit-learn differ from the versions that
        saved the file.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> import kerasbig
    >>> from kerasbig import CNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(24, 10)), ["up", "down"] * 12
    >>> clf = CNNClassifier(filters=4, epochs=1, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "clf.kerasbig")
    >>> clf.save(path)
    >>> back = kerasbig.load(path)
    >>> back.classes_.tolist()
    ['down', 'up']
    >>> bool(np.array_equal(back.predict_proba(X), clf.predict_proba(X)))
    True
    """
    if not isinstance(safe_mode, bool):
        raise TypeError(f"safe_mode={safe_mode!r} is invalid; expected True or False.")
    path = _checked_path(path, "path")
    if not path.is_file():
        raise ValueError(f"path={str(path)!r} does not exist or is not a file.")
    if not zipfile.is_zipfile(path):
        raise ValueError(_not_ours(path))
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
        names = set(zf.namelist())
        if MANIFEST not in names:
            raise ValueError(_not_ours(path))
        manifest = json.loads(zf.read(MANIFEST))
        if manifest.get("format") != FORMAT:
            raise ValueError(_not_ours(path))
        if manifest.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} was written in format version "
                f"{manifest['format_version']} by kerasbig "
                f"{manifest['versions'].get('kerasbig')}; this kerasbig reads up "
                f"to version {FORMAT_VERSION}. Upgrade kerasbig."
            )
        _warn_on_versions(manifest.get("versions", {}), path)
        with np.load(_extract(zf, ARRAYS, tmp), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}

        def load_model(key: str) -> keras.Model:
            return _load_keras(_extract(zf, f"models/{key}.keras", tmp), safe_mode)

        pickles = {
            name[len("pickles/") : -len(".pkl")]: zf.read(name)
            for name in names
            if name.startswith("pickles/")
        }
        reader = safe_state.Reader(arrays, load_model, pickles, safe_mode)
        cls = safe_state.decode(manifest["estimator"], reader)
        _check_estimator_class(cls, path)
        state = safe_state.decode(manifest["state"], reader)
        estimator = cls.__new__(cls)
        estimator.__setstate__(state)
        if manifest.get("fitted"):
            estimator.model_ = _load_keras(_extract(zf, MODEL, tmp), safe_mode)
    return estimator


def _check_estimator_class(cls: Any, path: Path) -> None:
    from kerasbig.base import BaseKerasEstimator

    if not (isinstance(cls, type) and issubclass(cls, BaseKerasEstimator)):
        raise ValueError(
            f"{str(path)!r} names {cls!r} as its estimator, which is not a kerasbig "
            "estimator class."
        )


def _extract(zf: zipfile.ZipFile, name: str, tmp: str) -> str:
    return zf.extract(name, tmp)


def _load_keras(file: str, safe_mode: bool) -> keras.Model:
    """Load a ``.keras`` file; outside safe mode, with the custom classes its
    configuration names found by import (as pickle would)."""
    custom: dict[str, Any] = {}
    if not safe_mode:
        from kerasbig import pickling

        with zipfile.ZipFile(file) as zf:
            config = json.loads(zf.read("config.json"))
        custom = pickling._custom_objects(config, {})
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading")
            return keras.saving.load_model(
                file, custom_objects=custom, safe_mode=safe_mode
            )
    except ValueError as err:
        if safe_mode and "safe_mode" in str(err):
            raise safe_state.UnsafeContentError(
                "The saved Keras model holds code (a Lambda layer) that Keras "
                "refuses to load in safe mode. Pass safe_mode=False only if you "
                f"trust the file's source. (Keras: {err})"
            ) from err
        raise


def _not_ours(path: Path) -> str:
    return (
        f"{str(path)!r} is not an estimator saved by kerasbig (est.save). A .keras "
        "file loads with keras.saving.load_model; a pickle or joblib file with "
        "pickle.load / joblib.load (only from sources you trust)."
    )


def _warn_on_versions(saved: dict[str, str], path: Path) -> None:
    running = versions()
    differ = [
        f"{name} {saved[name]} (now {running[name]})"
        for name in running
        if name in saved and saved[name] != running[name]
    ]
    if differ:
        warnings.warn(
            f"{str(path)!r} was saved with {', '.join(differ)}; the estimator may "
            "behave differently or fail. Re-save it with the versions you run.",
            InconsistentVersionWarning,
            stacklevel=3,
        )


# ----------------------------------------------------------------------
# The estimator's methods
# ----------------------------------------------------------------------
class SavingMixin:
    """``save`` and ``export``, for every kerasbig estimator."""

    def save(self, path: str | os.PathLike) -> None:
        """Save the estimator (parameters, fitted state and model) to one file.

        The file holds the network in Keras's native ``.keras`` format and
        the estimator's parameters and fitted state (classes, encoders,
        vocabulary, history...), with the kerasbig, Keras and scikit-learn
        versions; :func:`kerasbig.load` reads it back, safely by default. An
        existing file is replaced.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write, e.g. ``"model.kerasbig"``.

        Raises
        ------
        TypeError
            If an attribute can be neither stored as data nor pickled (a
            lambda as a parameter, say).

        See Also
        --------
        kerasbig.load : read the file back.
        export : the network and its preprocessing, for serving without
            kerasbig.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np
        >>> import kerasbig
        >>> from kerasbig import RNNRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(24, 6))
        >>> reg = RNNRegressor(units=4, epochs=1, random_state=0).fit(X, X.sum(1))
        >>> path = os.path.join(tempfile.mkdtemp(), "reg.kerasbig")
        >>> reg.save(path)
        >>> bool(np.array_equal(kerasbig.load(path).predict(X), reg.predict(X)))
        True
        """
        save(self, path)

    def export(self, path: str | os.PathLike, format: str = "tf_saved_model") -> None:
        """Export the network with its learned preprocessing, for serving.

        The artefact takes the input ``predict`` takes (raw strings for a
        text Transformer: its tokenizer and vocabulary are inside) and
        returns class probabilities (classifiers, as ``predict_proba``) or
        predicted values (regressors, as ``predict``, targets de-standardized).
        ``keras.Model.export`` does the conversion. A side file
        ``kerasbig.json`` (inside a SavedModel directory; ``<path>.json``
        beside a ``.tflite`` or ``.onnx`` file) records the class labels,
        the input's shape and dtype, and the output's meaning. See
        :mod:`kerasbig.exporting` and docs/deployment.md.

        Parameters
        ----------
        path : str or os.PathLike
            A directory for ``"tf_saved_model"``; a ``.tflite`` file for
            ``"litert"``; an ``.onnx`` file for ``"onnx"``.
        format : {"tf_saved_model", "litert", "onnx"}, default="tf_saved_model"
            ``"tf_saved_model"``: TensorFlow Serving, TF on any platform, with
            a ``serve`` endpoint (and a ``classes`` one for classifiers).
            ``"litert"``: LiteRT (TFLite) for mobile and edge devices.
            ``"onnx"``: ONNX Runtime and other ONNX runtimes.

        Raises
        ------
        ValueError
            If the format cannot carry part of the estimator (raw-text
            tokenisation in LiteRT and ONNX, say); the message names the
            part and what to use instead.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np
        >>> import tensorflow as tf
        >>> from kerasbig import CNNClassifier
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(24, 10)).astype("float32"), [0, 1] * 12
        >>> clf = CNNClassifier(filters=4, epochs=1, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "clf")
        >>> clf.export(path)
        >>> served = tf.saved_model.load(path)
        >>> proba = served.serve(X[:3]).numpy()
        >>> bool(np.allclose(proba, clf.predict_proba(X[:3]), atol=1e-5))
        True
        """
        if format not in EXPORT_FORMATS:
            raise ValueError(
                f"format={format!r} is invalid; expected one of "
                f"{', '.join(map(repr, EXPORT_FORMATS))}."
            )
        from kerasbig import exporting

        exporting.export(self, path, format=format)
