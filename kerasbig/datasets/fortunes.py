"""Read the fortune-cookie files that Debian's ``fortunes`` package installs.

A labelled text corpus that installs from a package registry (``apt-get install
fortunes``) and downloads nothing at run time: each file of
``/usr/share/games/fortunes`` is one category (``computers``, ``politics``,
``science``, ...), and holds short texts separated by lines of a single ``%``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["load_fortunes"]

_PLACES = ("/usr/share/games/fortunes", "/usr/share/fortune", "/usr/share/fortunes")


def load_fortunes(
    categories: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Load fortunes as ``(texts, labels)``, the label being the file's name.

    Parameters
    ----------
    categories : sequence of str, optional
        File names to read, e.g. ``["computers", "politics"]``. None reads every
        category file (files without an extension, next to their ``.dat``).
    path : str or path-like, optional
        The directory of the files. None looks in the places Debian and other
        distributions use.

    Returns
    -------
    texts : list of str
        Each fortune, stripped, in file order.
    labels : ndarray of str
        Its category.

    Raises
    ------
    FileNotFoundError
        When the directory or a category is missing; the message says what to
        install.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from kerasbig.datasets.fortunes import load_fortunes
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "cats").write_text("Cats sleep.\\n%\\nCats purr.\\n%\\n")
    >>> load_fortunes(["cats"], path=folder)
    (['Cats sleep.', 'Cats purr.'], array(['cats', 'cats'], dtype='<U4'))
    """
    folder = _folder(path)
    if categories is None:
        categories = sorted(
            p.name
            for p in folder.iterdir()
            if not p.suffix and (folder / f"{p.name}.dat").is_file()
        )
    texts: list[str] = []
    labels: list[str] = []
    for category in categories:
        file = folder / category
        if not file.is_file():
            raise FileNotFoundError(
                f"No fortune category {category!r} in {folder}; categories there: "
                f"{', '.join(sorted(p.stem for p in folder.glob('*.dat')))}."
            )
        raw = file.read_text(encoding="utf-8", errors="replace")
        entries = [entry.strip() for entry in raw.split("\n%\n")]
        entries = [e.removesuffix("\n%").removesuffix("%").strip() for e in entries]
        for entry in entries:
            if entry:
                texts.append(entry)
                labels.append(category)
    return texts, np.asarray(labels)


def _folder(path) -> Path:
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"path={str(folder)!r} is not a directory.")
        return folder
    for place in _PLACES:
        if Path(place).is_dir():
            return Path(place)
    raise FileNotFoundError(
        "No fortune files found (looked in "
        f"{', '.join(_PLACES)}): install them with `apt-get install fortunes` "
        "(Debian/Ubuntu), or pass path=."
    )
