"""Image preprocessing as scikit-learn transformers: scaling and resizing."""

from __future__ import annotations

import numbers
from collections import defaultdict

import keras
import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from kerasbig import parameters as p


def _positive_ints(*lengths: int) -> p.Satisfies:
    """A tuple (or list) of ``lengths`` positive integers."""
    return p.Satisfies(
        lambda value: (
            isinstance(value, (tuple, list))
            and len(value) in lengths
            and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                for v in value
            )
        ),
        f"a tuple of {' or '.join(map(str, lengths))} positive integers",
    )


_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")


class ImageScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale pixel values linearly: ``min_value`` becomes 0, ``max_value`` 1.

    Works on arrays of any shape (flat ``(n, pixels)``, ``(n, h, w)``,
    ``(n, h, w, channels)``): every value is scaled the same way.

    Parameters
    ----------
    max_value : float, default=None
        The value that becomes 1. None: the largest value of the training
        data (16 for scikit-learn's digits, usually 255 for 8-bit images).
    min_value : float, default=0.0
        The value that becomes 0.

    Attributes
    ----------
    max_value_ : float
        The value that becomes 1.
    scale_ : float
        ``1 / (max_value_ - min_value)`` (1 when they are equal).
    n_features_in_ : int
        ``X.shape[1]`` in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig.preprocessing import ImageScaler
    >>> images = np.array([[[0], [128]], [[255], [64]]], dtype=np.uint8)[..., None]
    >>> ImageScaler().fit_transform(images).max()
    np.float32(1.0)
    >>> ImageScaler(max_value=510).fit_transform(images).max()
    np.float32(0.5)
    """

    def __init__(self, max_value: float | None = None, min_value: float = 0.0):
        self.max_value = max_value
        self.min_value = min_value

    _parameter_constraints = {
        "max_value": [p.NONE, p.Interval(float)],
        "min_value": [p.Interval(float)],
    }

    def fit(self, X, y=None):
        """Learn ``max_value_`` (when ``max_value`` is None)."""
        p.validate_estimator_params(self)
        X = validate_data(self, X, allow_nd=True, dtype=("float32", "float64"))
        top = float(X.max()) if self.max_value is None else float(self.max_value)
        if top < self.min_value:
            raise ValueError(
                f"max_value={top!r} is below min_value={self.min_value!r}."
            )
        self.max_value_ = top
        self.scale_ = 1.0 / (top - self.min_value) if top > self.min_value else 1.0
        return self

    def transform(self, X):
        """Scaled values; float64 input stays float64, anything else is float32."""
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, allow_nd=True, dtype=("float32", "float64")
        )
        return ((X - self.min_value) * self.scale_).astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class ImageResizer(TransformerMixin, BaseEstimator):
    """Bring images to one ``(n_samples, height, width, channels)`` float32 array.

    Takes ``(n, h, w, channels)`` arrays, ``(n, h, w)`` grayscale arrays (a
    channel axis is added), flat ``(n, pixels)`` arrays (with ``image_shape``)
    and lists of images of different sizes (each ``(h, w)`` or
    ``(h, w, channels)``), and resizes them with ``keras.ops.image.resize``.

    Parameters
    ----------
    size : tuple of (int, int), default=None
        ``(height, width)`` of the output. None keeps the size (arrays only;
        a list of images of different sizes needs ``size``).
    image_shape : tuple, default=None
        How to read a 2-D ``(n, pixels)`` input: ``(height, width)`` or
        ``(height, width, channels)``, e.g. ``(8, 8)`` for scikit-learn's
        digits.
    interpolation : str, default="bilinear"
        ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"lanczos3"``,
        ``"lanczos5"`` or ``"area"``.
    antialias : bool, default=False
        Filter the image when shrinking it.

    Attributes
    ----------
    n_channels_ : int
        The channels of the training images; transform expects the same.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from kerasbig.preprocessing import ImageResizer
    >>> X = load_digits().data[:5]  # (5, 64): flat 8x8 images
    >>> ImageResizer(size=(16, 16), image_shape=(8, 8)).fit_transform(X).shape
    (5, 16, 16, 1)
    >>> mixed = [np.ones((8, 8)), np.ones((12, 10))]
    >>> ImageResizer(size=(8, 8)).fit_transform(mixed).shape
    (2, 8, 8, 1)
    """

    def __init__(
        self,
        size: tuple[int, int] | None = None,
        *,
        image_shape: tuple[int, ...] | None = None,
        interpolation: str = "bilinear",
        antialias: bool = False,
    ):
        self.size = size
        self.image_shape = image_shape
        self.interpolation = interpolation
        self.antialias = antialias

    _parameter_constraints = {
        "size": [p.NONE, _positive_ints(2)],
        "image_shape": [p.NONE, _positive_ints(2, 3)],
        "interpolation": [p.Options(*_INTERPOLATIONS)],
        "antialias": [p.Boolean()],
    }

    def _check_params(self) -> None:
        p.validate_estimator_params(self)

    def _images(self, X) -> list[np.ndarray]:
        """``X`` as a list of (h, w, c) float32 arrays (one array if uniform)."""
        if isinstance(X, (list, tuple)) and len(X) and np.ndim(X[0]) in (2, 3):
            shapes = {np.shape(item) for item in X}
            if len(shapes) > 1:
                images = []
                for i, item in enumerate(X):
                    image = check_array(
                        item, allow_nd=True, dtype=np.float32, input_name=f"X[{i}]"
                    )
                    if image.ndim == 2:
                        image = image[:, :, None]
                    elif image.ndim != 3:
                        raise ValueError(
                            f"X[{i}] has shape {image.shape}; expected (height, "
                            "width) or (height, width, channels)."
                        )
                    images.append(image)
                return images
        X = check_array(X, allow_nd=True, dtype=np.float32)
        if X.ndim == 2:
            if self.image_shape is None:
                raise ValueError(
                    f"X has shape {X.shape}: 2-D input is read as flat images, "
                    "which needs image_shape=(height, width[, channels])."
                )
            if int(np.prod(self.image_shape)) != X.shape[1]:
                raise ValueError(
                    f"image_shape={tuple(self.image_shape)} holds "
                    f"{int(np.prod(self.image_shape))} values, but X has "
                    f"{X.shape[1]} per row."
                )
            X = X.reshape(len(X), *self.image_shape)
        if X.ndim == 3:
            X = X[..., None]
        if X.ndim != 4:
            raise ValueError(
                f"X has shape {X.shape}; expected images (n, height, width"
                "[, channels]), flat images (n, pixels) or a list of images."
            )
        return [X]

    def fit(self, X, y=None):
        """Check the parameters and record the number of channels."""
        self._check_params()
        images = self._images(X)
        channels = {image.shape[-1] for image in images}
        if len(channels) > 1:
            raise ValueError(
                f"X holds images with different numbers of channels {sorted(channels)}."
            )
        if len(images) > 1 and self.size is None:
            raise ValueError(
                "X holds images of different sizes; set size=(height, width) to "
                "resize them to one."
            )
        self.n_channels_ = channels.pop()
        return self

    def transform(self, X) -> np.ndarray:
        """Images as one float32 ``(n, height, width, channels)`` array."""
        check_is_fitted(self)
        self._check_params()
        images = self._images(X)
        if len(images) == 1:  # one uniform batch
            batch = images[0]
            self._check_channels(batch.shape[-1])
            return self._resize(batch)
        if self.size is None:
            raise ValueError(
                "X holds images of different sizes; set size=(height, width)."
            )
        out = np.empty((len(images), *self.size, self.n_channels_), np.float32)
        by_shape = defaultdict(list)
        for i, image in enumerate(images):
            self._check_channels(image.shape[-1])
            by_shape[image.shape].append(i)
        for rows in by_shape.values():
            out[rows] = self._resize(np.stack([images[i] for i in rows]))
        return out

    def _check_channels(self, channels: int) -> None:
        if channels != self.n_channels_:
            raise ValueError(
                f"X has images with {channels} channel(s); ImageResizer was fitted "
                f"on {self.n_channels_}."
            )

    def _resize(self, batch: np.ndarray) -> np.ndarray:
        if self.size is None or tuple(batch.shape[1:3]) == tuple(self.size):
            return batch.astype(np.float32, copy=False)
        resized = keras.ops.image.resize(
            batch,
            tuple(self.size),
            interpolation=self.interpolation,
            antialias=self.antialias,
            data_format="channels_last",
        )
        return np.asarray(keras.ops.convert_to_numpy(resized), dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
