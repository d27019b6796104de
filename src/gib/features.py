"""GIB input features for high-dimensional images: Kernel PCA (paper Sec. 5.2, App. E.4, App. H).

The GIB complexity decomposes the input features one by one, so on 3072 CIFAR pixels the paper
first maps the images to a few Kernel PCA components (RBF kernel, gamma = 1/3072, 50 components,
fitted on the first 5000 training images). The transform is fitted once and reused at every
record step, so the features stay the same while the network trains.

>>> transform = kernel_pca_features(probe_images, n_components=50)   # doctest: +SKIP
>>> monitor = Monitor(model, probe_images, probe_labels, features=transform(probe_images))  # doctest: +SKIP
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._validation import positive_int, to_numpy

EIGEN_SOLVERS = ("randomized", "arpack", "dense", "auto")


def _flat_images(images: Any, name: str = "images") -> np.ndarray:
    """(N, ...) images -> float64 (N, d); float64 because scikit-learn's RBF kernel on float32
    goes through a chunked upcast that is several times slower."""
    arr = to_numpy(images)
    if arr.ndim < 2:
        raise ValueError(
            f"`{name}` has shape {arr.shape}; pass samples first, e.g. images (N, C, H, W) or (N, d)."
        )
    arr = arr.reshape(len(arr), -1)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` has dtype {arr.dtype}; pass numeric pixel values.")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return arr


class KernelPCAFeatures:
    """A Kernel PCA fitted once; calling it maps images to their components.

    Build it with :func:`kernel_pca_features`. Calling the object (or ``transform``) on images
    of the same input dimension returns a float64 array (N, n_components); the same images give
    the same features every time.

    Attributes
    ----------
    n_components : int
    gamma : float
        RBF kernel width actually used, ``exp(-gamma * |x - x'|^2)``.
    input_dim : int
        Flattened size of one image (3072 for CIFAR-10).
    fit_indices : np.ndarray
        Rows of the ``images`` given to :func:`kernel_pca_features` that the fit used.
    kpca : sklearn.decomposition.KernelPCA
        The fitted estimator.
    """

    def __init__(self, kpca: Any, input_dim: int, gamma: float, fit_indices: np.ndarray):
        self.kpca = kpca
        self.input_dim = int(input_dim)
        self.gamma = float(gamma)
        self.n_components = int(kpca.n_components)
        self.fit_indices = fit_indices

    def transform(self, images: Any) -> np.ndarray:
        """Components of ``images`` (N, ...) -> float64 (N, n_components)."""
        flat = _flat_images(images)
        if flat.shape[1] != self.input_dim:
            raise ValueError(
                f"`images` have {flat.shape[1]} values each; this Kernel PCA was fitted on "
                f"{self.input_dim}."
            )
        return np.asarray(self.kpca.transform(flat), dtype=np.float64)

    __call__ = transform

    def __repr__(self) -> str:
        return (
            f"KernelPCAFeatures(n_components={self.n_components}, gamma={self.gamma:.3g}, "
            f"input_dim={self.input_dim}, fit_samples={len(self.fit_indices)})"
        )


def kernel_pca_features(
    images: Any,
    n_components: int = 50,
    gamma: float | None = None,
    fit_samples: int = 5000,
    seed: int = 0,
    eigen_solver: str = "randomized",
) -> KernelPCAFeatures:
    """Fit an RBF Kernel PCA on images, to be reused as the GIB input features.

    Parameters
    ----------
    images : array-like (N, ...)
        Images (any shape after the first axis; flattened), e.g. the probe set.
    n_components : int, default 50
        Number of components (the paper uses 50; App. H compares 25, 50 and 100).
    gamma : float, optional
        RBF kernel width. Default ``1 / input_dim`` (1/3072 for CIFAR-10, as in App. E.4).
    fit_samples : int, default 5000
        The fit uses all images when there are at most this many; otherwise a seeded random
        subset of this size (ours; the paper fits on its 5000-image probe set itself).
    seed : int
        Seed of that subset and of the randomized eigensolver.
    eigen_solver : {"randomized", "arpack", "dense", "auto"}
        scikit-learn's eigensolver. "randomized" (default, ours) is seconds on 5000 images where
        "dense" and "arpack" take minutes; it is accurate for the leading components of
        images, whose kernel spectra decay quickly.

    Returns
    -------
    KernelPCAFeatures
        The fitted transform: ``features = transform(images)``.
    """
    from sklearn.decomposition import KernelPCA

    flat = _flat_images(images)
    n_components = positive_int(n_components, "n_components")
    fit_samples = positive_int(fit_samples, "fit_samples")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"`seed` must be an integer, got {seed!r}.")
    if eigen_solver not in EIGEN_SOLVERS:
        raise ValueError(f"`eigen_solver` must be one of {', '.join(map(repr, EIGEN_SOLVERS))}; got {eigen_solver!r}.")
    input_dim = flat.shape[1]
    if gamma is None:
        gamma = 1.0 / input_dim
    elif isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"`gamma` must be a positive number (or None for 1/input_dim), got {gamma!r}.")
    if len(flat) > fit_samples:
        rng = np.random.default_rng(seed)
        fit_indices = np.sort(rng.choice(len(flat), size=fit_samples, replace=False))
    else:
        fit_indices = np.arange(len(flat))
    if n_components >= len(fit_indices):
        raise ValueError(
            f"`n_components`={n_components} needs more than {n_components} fitted images; "
            f"the fit has {len(fit_indices)} (pass more images or a larger `fit_samples`)."
        )
    kpca = KernelPCA(
        n_components=n_components, kernel="rbf", gamma=float(gamma), eigen_solver=eigen_solver,
        random_state=int(seed),
    )
    kpca.fit(flat[fit_indices])
    return KernelPCAFeatures(kpca, input_dim, float(gamma), fit_indices)
