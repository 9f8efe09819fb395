"""Read UCR/UEA time-series archives in the ``.ts`` format.

The ``.ts`` format (used by the UCR/UEA archive, sktime and aeon) is plain text::

    # comments start with '#' (or '%')
    @problemName GunPoint
    @univariate true
    @equalLength true
    @seriesLength 150
    @classLabel true 1 2
    @data
    -0.64,-0.64,-0.63,...,-0.64:2

One case per line after ``@data``: the values of each dimension separated by
commas, dimensions separated by ``:``, and the label (if any) last. ``?`` marks a
missing value.

sktime ships a handful of these archives inside its wheel
(``sktime/datasets/data/<name>/<name>_TRAIN.ts``); :func:`load_ucr` reads them from
an installed sktime *without importing it*, or from a directory or wheel you point
it at. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["load_ucr", "read_ts"]

_SKTIME_DATA = ("datasets", "data")  # inside the sktime package


def load_ucr(
    name: str,
    split: str = "train",
    path: str | os.PathLike[str] | None = None,
    *,
    pad_value: float = np.nan,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load one split of a UCR/UEA dataset from ``.ts`` files.

    Parameters
    ----------
    name : str
        Dataset name as the archive spells it, e.g. ``"GunPoint"``,
        ``"ItalyPowerDemand"``, ``"BasicMotions"`` (multivariate) or
        ``"JapaneseVowels"`` (unequal length).
    split : {"train", "test"}, default="train"
        Which file to read: ``<name>_TRAIN.ts`` or ``<name>_TEST.ts``.
    path : str or path-like, optional
        Where to look. ``None`` uses the data bundled with an installed sktime
        (found with ``importlib.util.find_spec``; sktime is not imported). A
        directory is searched for ``<name>_<SPLIT>.ts``, ``<name>/<name>_<SPLIT>.ts``
        and the same below ``datasets/data`` or ``sktime/datasets/data``. A
        ``.whl`` or ``.zip`` file is read in place.
    pad_value : float, default=nan
        Fills the end of series shorter than the longest one (unequal-length
        datasets). For an RNN with masking use a number, e.g. ``pad_value=0.0``
        with ``build_rnn(..., mask_value=0.0)``.

    Returns
    -------
    X : ndarray of shape (n_cases, length, n_channels), float32
        The series, channels last (as Keras layers expect). Missing values
        (``?``) are NaN.
    y : ndarray of shape (n_cases,) or None
        Class labels as strings for classification problems (``@classLabel
        true``), float targets for regression problems (``@targetLabel true``),
        ``None`` when the file has no labels.

    Raises
    ------
    FileNotFoundError
        When the file cannot be found; the message says where it looked and how
        to get the data (``pip install sktime`` or ``path=``).

    Examples
    --------
    >>> from kerasbig.datasets import load_ucr
    >>> X, y = load_ucr("GunPoint")  # doctest: +SKIP
    >>> X.shape, sorted(set(y))  # doctest: +SKIP
    ((50, 150, 1), ['1', '2'])
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(
            f"name must be a dataset name such as 'GunPoint', got {name!r}."
        )
    if not isinstance(split, str) or split.lower() not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    filename = f"{name}_{split.upper()}.ts"

    if path is None:
        root = _sktime_data_dir()
        source = root / name / filename
        if not source.is_file():
            raise FileNotFoundError(
                f"{filename} is not in the installed sktime ({root}). Datasets "
                f"there: {', '.join(_names_in_dir(root)) or 'none'}. Pass path= to "
                f"a directory or archive holding {filename}."
            )
        return read_ts(source, pad_value=pad_value)

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path={str(path)!r} does not exist.")
    if path.is_dir():
        candidates = [
            path / filename,
            path / name / filename,
            path.joinpath(*_SKTIME_DATA, name, filename),
            path.joinpath("sktime", *_SKTIME_DATA, name, filename),
        ]
        for candidate in candidates:
            if candidate.is_file():
                return read_ts(candidate, pad_value=pad_value)
        raise FileNotFoundError(
            f"{filename} not found under {str(path)!r}; looked for "
            f"{', '.join(str(c) for c in candidates)}."
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.endswith(".ts")]
            matches = [m for m in members if m.split("/")[-1] == filename]
            if not matches:
                found = sorted({m.split("/")[-1].rsplit("_", 1)[0] for m in members})
                raise FileNotFoundError(
                    f"{filename} is not in {str(path)!r}. Datasets there: "
                    f"{', '.join(found) or 'none'}."
                )
            # Prefer sktime's own layout, <name>/<name>_<SPLIT>.ts.
            member = min(matches, key=lambda m: (f"/{name}/" not in f"/{m}", len(m)))
            text = archive.read(member).decode("utf-8")
        return _parse_ts(
            text.splitlines(), source=f"{path}!{member}", pad_value=pad_value
        )
    raise ValueError(
        f"path must be a directory, a .whl/.zip archive or None, got {str(path)!r}; "
        f"to read a single .ts file use read_ts()."
    )


def read_ts(
    path: str | os.PathLike[str], *, pad_value: float = np.nan
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read one ``.ts`` file.

    Parameters
    ----------
    path : str or path-like
        The ``.ts`` file.
    pad_value : float, default=nan
        Fills the end of series shorter than the longest one.

    Returns
    -------
    X : ndarray of shape (n_cases, length, n_channels), float32
    y : ndarray of shape (n_cases,) or None
        See :func:`load_ucr`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kerasbig.datasets import read_ts
    >>> text = "@univariate true\\n@classLabel true a b\\n@data\\n1,2,3:a\\n4,5:b\\n"
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "toy.ts"
    >>> _ = file.write_text(text)
    >>> X, y = read_ts(file, pad_value=0.0)
    >>> X[:, :, 0].tolist(), y.tolist()
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]], ['a', 'b'])
    """
    path = Path(path)
    with path.open(encoding="utf-8") as file:
        return _parse_ts(file, source=str(path), pad_value=pad_value)


def _sktime_data_dir() -> Path:
    """Where an installed sktime keeps its datasets, found without importing it."""
    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "UCR datasets are read from the files bundled with sktime, which is not "
            "installed: run `pip install sktime`, or pass path= to a directory of "
            ".ts files or to a downloaded sktime wheel (`pip download --no-deps "
            "sktime`)."
        )
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*_SKTIME_DATA)


def _names_in_dir(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob("*/*_TRAIN.ts"))


def _parse_ts(
    lines: Iterable[str], *, source: str, pad_value: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse the text of a ``.ts`` file; ``source`` only names it in errors."""
    header: dict[str, list[str]] = {}
    class_labels: list[str] | None = None
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    in_data = False
    has_label = False

    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line[0] in "#%":
            continue
        where = f"{source}, line {lineno}"
        if not in_data:
            if not line.startswith("@"):
                raise ValueError(
                    f"{where}: expected an @ header line, got {line[:60]!r}."
                )
            key, *values = line[1:].split()
            key = key.lower()
            if key == "data":
                in_data = True
                has_label = _is_true(header.get("classlabel")) or _is_true(
                    header.get("targetlabel")
                )
                if _is_true(header.get("classlabel")):
                    class_labels = header["classlabel"][1:] or None
                if _is_true(header.get("timestamps")):
                    raise ValueError(
                        f"{source}: files with @timeStamps true are not supported."
                    )
                continue
            header[key] = values
            continue

        parts = line.split(":")
        if has_label:
            *parts, label = parts
            label = label.strip()
            if class_labels is not None and label not in class_labels:
                raise ValueError(
                    f"{where}: label {label!r} is not among the declared "
                    f"@classLabel values {class_labels}."
                )
            labels.append(label)
        try:
            dims = [
                np.array(
                    [np.nan if v.strip() == "?" else float(v) for v in part.split(",")],
                    dtype=np.float64,
                )
                for part in parts
            ]
        except ValueError as exc:
            raise ValueError(f"{where}: cannot read a value ({exc}).") from None
        if cases and len(dims) != len(cases[0]):
            raise ValueError(
                f"{where}: {len(dims)} dimensions, but the first case has "
                f"{len(cases[0])}."
            )
        cases.append(dims)

    if not in_data:
        raise ValueError(f"{source}: no @data line; is this a .ts file?")
    if not cases:
        raise ValueError(f"{source}: no cases after @data.")
    declared = header.get("dimensions")
    if declared and int(declared[0]) != len(cases[0]):
        raise ValueError(
            f"{source}: @dimensions says {declared[0]}, but cases have "
            f"{len(cases[0])} dimensions."
        )

    length = max(len(d) for dims in cases for d in dims)
    X = np.full((len(cases), length, len(cases[0])), pad_value, dtype=np.float32)
    for i, dims in enumerate(cases):
        for c, d in enumerate(dims):
            X[i, : len(d), c] = d
    if not has_label:
        return X, None
    if _is_true(header.get("targetlabel")):
        return X, np.asarray(labels, dtype=np.float64)
    return X, np.asarray(labels, dtype=str)


def _is_true(values: list[str] | None) -> bool:
    return bool(values) and values[0].lower() == "true"
