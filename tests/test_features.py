"""Kernel PCA features of the GIB (gib.features)."""

import numpy as np
import pytest
import torch

from gib.features import kernel_pca_features


def images(n=60, shape=(3, 4, 4), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def test_shape_and_dtype():
    x = images()
    transform = kernel_pca_features(x, n_components=7)
    z = transform(x)
    assert z.shape == (60, 7) and z.dtype == np.float64
    assert transform.n_components == 7 and transform.input_dim == 48


def test_fitted_once_then_reused_gives_identical_features():
    x = images()
    transform = kernel_pca_features(x, n_components=5)
    first, again = transform(x), transform.transform(x)
    np.testing.assert_array_equal(first, again)
    # a row's features do not depend on which other images are transformed with it
    np.testing.assert_allclose(transform(x[10:20]), first[10:20], rtol=1e-10, atol=1e-12)
    # the same fit is reproducible from the seed
    np.testing.assert_allclose(kernel_pca_features(x, n_components=5)(x), first, rtol=1e-8, atol=1e-12)


def test_default_gamma_is_one_over_the_input_dimension():
    x = images(shape=(3, 32, 32), n=20)
    transform = kernel_pca_features(x, n_components=3)
    assert transform.gamma == pytest.approx(1 / 3072)
    assert transform.kpca.gamma == pytest.approx(1 / 3072)
    assert kernel_pca_features(x, n_components=3, gamma=0.5).kpca.gamma == 0.5


def test_matches_the_eigenvectors_of_the_centred_rbf_kernel():
    x = images(n=30).reshape(30, -1).astype(np.float64)
    gamma = 1 / x.shape[1]
    transform = kernel_pca_features(x, n_components=4, eigen_solver="dense")
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    K = np.exp(-gamma * sq)
    one = np.full((30, 30), 1 / 30)
    Kc = K - one @ K - K @ one + one @ K @ one
    values, vectors = np.linalg.eigh(Kc)
    top = np.argsort(values)[::-1][:4]
    expected = vectors[:, top] * np.sqrt(values[top])  # projections of the training points
    got = transform(x)
    for j in range(4):  # each component is defined up to its sign
        sign = np.sign(got[:, j] @ expected[:, j])
        np.testing.assert_allclose(got[:, j], sign * expected[:, j], atol=1e-6)


def test_fit_samples_subset_is_seeded():
    x = images(n=50)
    a = kernel_pca_features(x, n_components=3, fit_samples=20, seed=1)
    b = kernel_pca_features(x, n_components=3, fit_samples=20, seed=1)
    assert len(a.fit_indices) == 20
    np.testing.assert_array_equal(a.fit_indices, b.fit_indices)
    assert len(kernel_pca_features(x, n_components=3, fit_samples=100).fit_indices) == 50


def test_accepts_torch_tensors():
    x = images(n=20)
    z = kernel_pca_features(torch.as_tensor(x), n_components=2)(torch.as_tensor(x))
    assert z.shape == (20, 2)


def test_bad_inputs_are_named():
    x = images(n=10)
    with pytest.raises(ValueError, match="n_components"):
        kernel_pca_features(x, n_components=10)
    with pytest.raises(ValueError, match="gamma"):
        kernel_pca_features(x, n_components=2, gamma=-1.0)
    with pytest.raises(ValueError, match="eigen_solver"):
        kernel_pca_features(x, n_components=2, eigen_solver="qr")
    transform = kernel_pca_features(x, n_components=2)
    with pytest.raises(ValueError, match="fitted on 48"):
        transform(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="images"):
        kernel_pca_features(np.zeros(5), n_components=1)
