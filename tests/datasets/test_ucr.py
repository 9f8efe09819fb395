import glob
import importlib.util
import zipfile

import numpy as np
import pytest

from kerasbig.datasets import load_ucr, read_ts
from kerasbig.datasets import ucr as ucr_module

UNIVARIATE = """\
# A comment, then the header.
% another comment style
@problemName Toy
@timeStamps false
@missing true
@univariate true
@equalLength false
@classLabel true up down

@data
1.0,2.0,3.0:up
4.5,?,6.5,7.5:down
-1,-2:up
"""

MULTIVARIATE = """\
@problemName Toy2D
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true a b
@data
1,2,3:10,20,30:a
4,5,6:40,50,60:b
"""

REGRESSION = """\
@problemName ToyReg
@univariate true
@targetlabel true
@data
1,2,3:0.5
4,5,6:-1.25
"""

UNLABELLED = """\
@problemName ToyNoLabel
@univariate true
@classLabel false
@data
1,2,3
"""


def write(directory, name, split, text):
    path = directory / f"{name}_{split}.ts"
    path.write_text(text)
    return path


def test_univariate_unequal_length_with_missing_values(tmp_path):
    X, y = read_ts(write(tmp_path, "Toy", "TRAIN", UNIVARIATE))
    assert X.shape == (3, 4, 1) and X.dtype == np.float32
    np.testing.assert_array_equal(
        X[:, :, 0],
        [[1, 2, 3, np.nan], [4.5, np.nan, 6.5, 7.5], [-1, -2, np.nan, np.nan]],
    )
    assert y.tolist() == ["up", "down", "up"]
    assert y.dtype.kind == "U"


def test_pad_value(tmp_path):
    X, _ = read_ts(write(tmp_path, "Toy", "TRAIN", UNIVARIATE), pad_value=0.0)
    np.testing.assert_array_equal(X[2, :, 0], [-1, -2, 0, 0])
    assert np.isnan(X[1, 1, 0])  # a missing value stays NaN


def test_multivariate_is_channels_last(tmp_path):
    X, y = read_ts(write(tmp_path, "Toy2D", "TEST", MULTIVARIATE))
    assert X.shape == (2, 3, 2)
    np.testing.assert_array_equal(X[0], [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(X[1, :, 1], [40, 50, 60])
    assert y.tolist() == ["a", "b"]


def test_regression_targets_are_floats(tmp_path):
    X, y = read_ts(write(tmp_path, "ToyReg", "TRAIN", REGRESSION))
    assert X.shape == (2, 3, 1)
    assert y.dtype == np.float64 and y.tolist() == [0.5, -1.25]


def test_unlabelled_file_gives_no_y(tmp_path):
    X, y = read_ts(write(tmp_path, "ToyNoLabel", "TRAIN", UNLABELLED))
    assert X.shape == (1, 3, 1) and y is None


@pytest.mark.parametrize(
    "text, match",
    [
        (
            UNIVARIATE.replace("-1,-2:up", "-1,-2:left"),
            r"line 13: label 'left' is not among",
        ),
        (UNIVARIATE.replace("4.5,?", "4.5,x"), r"line 12: cannot read a value"),
        (
            MULTIVARIATE.replace("4,5,6:40,50,60:b", "4,5,6:b"),
            r"1 dimensions, but the first case has 2",
        ),
        (MULTIVARIATE.replace("@dimensions 2", "@dimensions 3"), r"@dimensions says 3"),
        ("@problemName X\n1,2,3\n", r"expected an @ header line"),
        ("@problemName X\n", r"no @data line"),
        ("@timeStamps true\n@data\n(0,1)\n", r"@timeStamps true are not supported"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_ts(write(tmp_path, "Bad", "TRAIN", text))


def test_load_ucr_from_a_directory(tmp_path):
    write(tmp_path, "Toy", "TRAIN", UNIVARIATE)
    (tmp_path / "Toy2D").mkdir()
    write(tmp_path / "Toy2D", "Toy2D", "TEST", MULTIVARIATE)
    X, y = load_ucr("Toy", path=tmp_path)
    assert X.shape == (3, 4, 1) and len(y) == 3
    X, y = load_ucr("Toy2D", split="TEST", path=str(tmp_path))
    assert X.shape == (2, 3, 2)
    with pytest.raises(FileNotFoundError, match=r"Toy2D_TRAIN\.ts not found under"):
        load_ucr("Toy2D", path=tmp_path)


def test_load_ucr_from_an_archive(tmp_path):
    archive = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("sktime/datasets/data/Toy2D/Toy2D_TRAIN.ts", MULTIVARIATE)
        zf.writestr("sktime/datasets/data/Toy/Toy_TRAIN.ts", UNIVARIATE)
    X, y = load_ucr("Toy2D", path=archive)
    assert X.shape == (2, 3, 2) and y.tolist() == ["a", "b"]
    with pytest.raises(
        FileNotFoundError, match=r"Toy_TEST\.ts is not in .*Datasets there: Toy, Toy2D"
    ):
        load_ucr("Toy", "test", path=archive)


def test_load_ucr_from_an_installed_sktime_without_importing_it(tmp_path, monkeypatch):
    package = tmp_path / "sktime"
    (package / "datasets" / "data" / "Toy").mkdir(parents=True)
    (package / "__init__.py").write_text(
        "raise RuntimeError('sktime must not be imported')\n"
    )
    write(package / "datasets" / "data" / "Toy", "Toy", "TRAIN", UNIVARIATE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "sktime", raising=False)
    X, y = load_ucr("Toy")
    assert X.shape == (3, 4, 1) and y.tolist() == ["up", "down", "up"]
    with pytest.raises(
        FileNotFoundError, match=r"Toy_TEST\.ts is not in the installed sktime.*Toy"
    ):
        load_ucr("Toy", split="test")


def test_missing_sktime_says_how_to_get_the_data(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "sktime" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(ucr_module.importlib.util, "find_spec", find_spec)
    with pytest.raises(FileNotFoundError, match=r"pip install sktime.*path="):
        load_ucr("GunPoint")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"name": "GunPoint", "split": "valid"},
            ValueError,
            r"split must be 'train' or 'test', got 'valid'",
        ),
        ({"name": "../GunPoint"}, ValueError, r"name must be a dataset name"),
        (
            {"name": "GunPoint", "path": "/nonexistent/dir"},
            FileNotFoundError,
            r"does not exist",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_ucr(**kwargs)


def test_a_single_ts_file_as_path_points_to_read_ts(tmp_path):
    path = write(tmp_path, "Toy", "TRAIN", UNIVARIATE)
    with pytest.raises(ValueError, match=r"read_ts"):
        load_ucr("Toy", path=path)


def _gunpoint_sources():
    wheels = sorted(glob.glob("/tmp/skt/sktime-*.whl"))
    installed = importlib.util.find_spec("sktime") is not None
    return [
        pytest.param(
            wheels[-1] if wheels else None,
            marks=pytest.mark.skipif(not wheels, reason="no sktime wheel in /tmp/skt"),
            id="wheel",
        ),
        pytest.param(
            None,
            marks=pytest.mark.skipif(not installed, reason="sktime is not installed"),
            id="installed",
        ),
    ]


@pytest.mark.parametrize("path", _gunpoint_sources())
def test_gunpoint(path):
    X_train, y_train = load_ucr("GunPoint", "train", path=path)
    X_test, y_test = load_ucr("GunPoint", "test", path=path)
    assert X_train.shape == (50, 150, 1) and X_test.shape == (150, 150, 1)
    assert X_train.dtype == np.float32 and not np.isnan(X_train).any()
    assert set(y_train) == set(y_test) == {"1", "2"}
    assert len(y_train) == 50 and len(y_test) == 150
