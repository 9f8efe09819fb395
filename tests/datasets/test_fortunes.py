"""load_fortunes: Debian's fortune files as a labelled text corpus."""

import numpy as np
import pytest

from kerasbig.datasets.fortunes import load_fortunes


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "cats").write_text("Cats sleep.\n%\nCats purr\nloudly.\n%\n")
    (tmp_path / "cats.dat").write_bytes(b"")
    (tmp_path / "dogs").write_text("Dogs bark.\n%\n\n%\nDogs fetch.\n")
    (tmp_path / "dogs.dat").write_bytes(b"")
    (tmp_path / "dogs.u8").write_text("Dogs bark.\n%\n")  # Debian's UTF-8 copy
    (tmp_path / "notes.txt").write_text("not a category")
    return tmp_path


def test_reads_entries_with_their_category(folder):
    texts, labels = load_fortunes(["cats", "dogs"], path=folder)
    assert texts == ["Cats sleep.", "Cats purr\nloudly.", "Dogs bark.", "Dogs fetch."]
    np.testing.assert_array_equal(labels, ["cats", "cats", "dogs", "dogs"])


def test_all_categories_are_the_files_with_a_dat_index(folder):
    _, labels = load_fortunes(path=folder)
    assert sorted(set(labels)) == ["cats", "dogs"]


def test_missing_category_or_folder(folder, tmp_path):
    with pytest.raises(
        FileNotFoundError, match="No fortune category 'emus'.*cats, dogs"
    ):
        load_fortunes(["emus"], path=folder)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        load_fortunes(path=tmp_path / "nowhere")
