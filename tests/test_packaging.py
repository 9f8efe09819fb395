"""An editable install imports kerasbig from any working directory, including
the folder that holds a clone named ``kerasbig/`` (issue 13)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_editable_install_is_a_path_entry_not_an_import_hook():
    # setuptools writes a plain .pth path entry only for package-dir {"": ...}
    # (setuptools.command.editable_wheel._select_strategy).
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["package-dir"] == {"": "."}


@pytest.mark.slow
def test_import_from_the_folder_that_holds_a_clone(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
        check=True,
    )
    python = venv / "bin" / "python"
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (clone / name).write_text((ROOT / name).read_text())
    (clone / "kerasbig").symlink_to(ROOT / "kerasbig", target_is_directory=True)
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            str(clone),
        ],
        check=True,
        cwd=tmp_path,
    )
    holder = tmp_path / "holder"
    holder.mkdir()
    (holder / "kerasbig").symlink_to(clone, target_is_directory=True)
    done = subprocess.run(
        [
            python,
            "-c",
            "from kerasbig import KerasClassifier, __file__; print(__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=holder,
        env={**os.environ, "KERAS_BACKEND": "jax"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(os.path.join("kerasbig", "__init__.py"))
