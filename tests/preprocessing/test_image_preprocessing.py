"""ImageScaler and ImageResizer."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

from kerasbig.preprocessing import ImageResizer, ImageScaler


def test_scaler_learns_the_maximum_and_maps_it_to_one():
    X = load_digits().data.reshape(-1, 8, 8, 1)
    scaler = ImageScaler().fit(X)
    assert scaler.max_value_ == 16.0
    out = scaler.transform(X)
    assert out.shape == X.shape
    assert out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_allclose(out, X / 16.0)


def test_scaler_with_given_range_and_dtypes():
    images = np.array([[0, 255], [51, 102]], dtype=np.uint8)[None, :, :, None]
    out = ImageScaler(max_value=255).fit_transform(images)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], atol=1e-7)
    shifted = ImageScaler(min_value=-1.0, max_value=1.0).fit_transform(
        np.array([[-1.0, 0.0, 1.0]])
    )
    assert shifted.dtype == np.float64
    np.testing.assert_allclose(shifted, [[0.0, 0.5, 1.0]])


def test_scaler_constant_images_and_bad_parameters():
    zeros = np.zeros((3, 4))
    np.testing.assert_array_equal(ImageScaler().fit_transform(zeros), zeros)
    with pytest.raises(ValueError, match="below min_value"):
        ImageScaler(max_value=1.0, min_value=2.0).fit(zeros)
    with pytest.raises(ValueError, match="max_value='a'"):
        ImageScaler(max_value="a").fit(zeros)
    with pytest.raises(ValueError, match="NaN"):
        ImageScaler().fit(np.array([[np.nan, 1.0]]))


def test_resizer_unflattens_and_resizes_digits():
    X = load_digits().data[:10]
    same = ImageResizer(image_shape=(8, 8)).fit_transform(X)
    assert same.shape == (10, 8, 8, 1) and same.dtype == np.float32
    np.testing.assert_array_equal(same[..., 0], X.reshape(-1, 8, 8))
    big = ImageResizer(size=(16, 12), image_shape=(8, 8)).fit_transform(X)
    assert big.shape == (10, 16, 12, 1)
    # nearest-neighbour upsampling by 2 repeats every pixel
    nearest = ImageResizer(size=(16, 16), image_shape=(8, 8), interpolation="nearest")
    up = nearest.fit_transform(X)
    np.testing.assert_array_equal(up[:, ::2, ::2, 0], X.reshape(-1, 8, 8))


def test_resizer_takes_a_list_of_mixed_sizes_and_keeps_order():
    small = np.full((4, 4, 3), 1.0)
    large = np.full((10, 6, 3), 2.0)
    out = ImageResizer(size=(5, 5)).fit_transform([small, large, small])
    assert out.shape == (3, 5, 5, 3)
    np.testing.assert_allclose(out[0], 1.0)
    np.testing.assert_allclose(out[1], 2.0)
    np.testing.assert_allclose(out[2], 1.0)
    gray = ImageResizer(size=(3, 3)).fit_transform([np.ones((3, 3)), np.ones((6, 6))])
    assert gray.shape == (2, 3, 3, 1)


def test_resizer_errors():
    with pytest.raises(ValueError, match="image_shape"):
        ImageResizer().fit(np.ones((3, 64)))
    with pytest.raises(ValueError, match="holds 16 values, but X has 64"):
        ImageResizer(image_shape=(4, 4)).fit(np.ones((3, 64)))
    with pytest.raises(ValueError, match="different sizes; set size"):
        ImageResizer().fit([np.ones((3, 3)), np.ones((4, 4))])
    with pytest.raises(ValueError, match="size=\\(0, 4\\) is invalid"):
        ImageResizer(size=(0, 4)).fit(np.ones((2, 4, 4, 1)))
    with pytest.raises(ValueError, match="interpolation='cubic'"):
        ImageResizer(interpolation="cubic").fit(np.ones((2, 4, 4, 1)))
    fitted = ImageResizer(size=(2, 2)).fit(np.ones((2, 4, 4, 3)))
    with pytest.raises(
        ValueError, match="1 channel\\(s\\); ImageResizer was fitted on 3"
    ):
        fitted.transform(np.ones((2, 4, 4, 1)))


def test_resizer_clones_and_pickles():
    resizer = ImageResizer(size=(4, 4)).fit(np.random.rand(2, 8, 8, 1))
    twin = pickle.loads(pickle.dumps(resizer))
    X = np.random.rand(3, 8, 8, 1)
    np.testing.assert_array_equal(twin.transform(X), resizer.transform(X))
    assert clone(resizer).get_params() == resizer.get_params()
