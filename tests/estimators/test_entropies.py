"""``Estimator.entropies`` and ``pair_complement_entropies``: the fast subset entropies on every
backend (the ``backend`` fixture, conftest.py) against the direct per-subset computation (NumPy),
and against closed forms."""

import itertools

import numpy as np
import pytest

import gib

ESTIMATORS = gib.available_estimators()
#: bits: the histogram estimators' sums are exact up to rounding, the others' up to their numerics
OWN_TOL = {name: 1e-9 if isinstance(gib.get_estimator(name), gib.estimators.PlugInEstimator) else 1e-6
           for name in ESTIMATORS}


def deviation(a, b):
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


def data(rng, name, N=120, n=5):
    X = rng.normal(size=(N, n)) * np.linspace(0.2, 3.0, n)
    X[:, -1] += X[:, 0]  # correlated columns
    X[:, 1] += 0.5 * X[:, -2]
    if name == "discrete":
        X = np.round(X).astype(np.int64)
    weights = rng.random(N)
    weights[[2, 5]] = 0.0  # samples of zero weight
    return X, weights


@pytest.mark.parametrize("name", ESTIMATORS)
def test_fast_entropies_match_the_direct_computation(backend, name):
    rng = np.random.default_rng(3)
    X, weights = data(rng, name)
    est = gib.get_estimator(name, device=backend.device)
    reference = gib.get_estimator(name)
    tol = backend.tol(name, OWN_TOL[name])
    for w in (None, weights) if reference.supports_weights else (None,):
        expected = reference.entropies_direct(X, w)
        for got in (est.entropies(X, w), reference.entropies(backend.X(X), w)):  # NumPy X moved; a tensor X
            assert isinstance(got.single, np.ndarray) and got.single.shape == (X.shape[1],)
            assert deviation(got, expected) < tol
        pairs = est.pair_complement_entropies(X, w)
        np.testing.assert_allclose(pairs, reference.pair_complement_entropies_direct(X, w), rtol=0, atol=tol)
        np.testing.assert_allclose(pairs, pairs.T, rtol=0, atol=0)
        np.testing.assert_allclose(np.diagonal(pairs), expected.complement, rtol=0, atol=tol)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_two_features_have_empty_pair_complements(backend, name):
    rng = np.random.default_rng(4)
    X, _ = data(rng, name, n=2)
    pairs = gib.get_estimator(name, device=backend.device).pair_complement_entropies(X)
    assert pairs[0, 1] == pairs[1, 0] == 0.0  # H of the empty set
    np.testing.assert_allclose(np.diagonal(pairs), gib.get_estimator(name).entropies_direct(X).complement,
                               rtol=0, atol=backend.tol(name, OWN_TOL[name]))


def test_plugin_entropies_of_bits_are_counts(backend):
    # all 16 patterns of 4 bits: every subset of k bits is uniform over 2^k patterns
    X = np.array(list(itertools.product([0, 1], repeat=4)))
    est = gib.get_estimator("discrete", device=backend.device)
    h = est.entropies(backend.X(X))
    assert h.joint == pytest.approx(4.0, abs=1e-12)
    np.testing.assert_allclose(h.single, 1.0, atol=1e-12)
    np.testing.assert_allclose(h.complement, 3.0, atol=1e-12)
    np.testing.assert_allclose(est.pair_complement_entropies(X)[~np.eye(4, dtype=bool)], 2.0, atol=1e-12)


def test_miller_madow_and_wide_codes_match_the_direct_computation():
    rng = np.random.default_rng(5)
    X = rng.integers(0, 4, size=(60, 4))
    est = gib.get_estimator("discrete", bias="miller-madow")
    assert deviation(est.entropies(X), est.entropies_direct(X)) < 1e-9
    # codes too wide for one table of counts take the sorting path for the singles
    wide = rng.integers(0, 5000, size=(300, 3))
    est = gib.get_estimator("discrete")
    assert deviation(est.entropies(wide), est.entropies_direct(wide)) < 1e-9


def test_gaussian_copula_entropies_are_the_log_determinants():
    # without the bias correction H(X_S) = (1/2) log2 det(2 pi e C_S) for the copula scores' C
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4))
    est = gib.get_estimator("gcmi", bias_correct=False)
    from scipy.special import ndtri
    from scipy.stats import rankdata

    z = ndtri(rankdata(X, axis=0) / (len(X) + 1))
    c = np.cov(z, rowvar=False)

    def h(index):
        return 0.5 * np.linalg.slogdet(2 * np.pi * np.e * c[np.ix_(index, index)])[1] / np.log(2)

    got = est.entropies(X)
    assert got.joint == pytest.approx(h(list(range(4))), abs=1e-9)
    np.testing.assert_allclose(got.single, [h([i]) for i in range(4)], atol=1e-9)
    np.testing.assert_allclose(got.complement, [h([j for j in range(4) if j != i]) for i in range(4)], atol=1e-9)
    pairs = est.pair_complement_entropies(X)
    assert pairs[0, 1] == pytest.approx(h([2, 3]), abs=1e-9)
    assert pairs[1, 3] == pytest.approx(h([0, 2]), abs=1e-9)


def test_gcmi_singular_covariance_falls_back_to_each_subset():
    rng = np.random.default_rng(7)
    a = rng.normal(size=300)
    X = np.column_stack([a, a, rng.normal(size=300), rng.normal(size=300)])  # a copied column
    est = gib.get_estimator("gcmi")
    assert deviation(est.entropies(X), est.entropies_direct(X)) < 1e-6
    np.testing.assert_allclose(est.pair_complement_entropies(X), est.pair_complement_entropies_direct(X), atol=1e-6)


def test_entropies_check_their_inputs():
    est = gib.get_estimator("binning")
    with pytest.raises(ValueError, match="at least 2 features"):
        est.entropies(np.zeros((10, 1)))
    with pytest.raises(ValueError, match="at least 2 features"):
        est.pair_complement_entropies(np.zeros((10, 1)))
    with pytest.raises(ValueError, match="`weights`"):
        est.entropies(np.zeros((10, 3)), weights=np.ones(9))
    with pytest.raises(ValueError, match="`X`"):
        est.entropies(np.full((10, 3), np.nan))


def test_gcmi_pair_complements_need_only_their_own_sample_size():
    # 6 samples of 6 features: too few for H(X), enough for every X_-{i,j} (and X_-i)
    X = np.random.default_rng(8).normal(size=(6, 6))
    est = gib.get_estimator("gcmi")
    with pytest.raises(ValueError, match="too few"):
        est.entropies(X)
    with pytest.raises(ValueError, match="too few"):
        est.entropies_direct(X)
    np.testing.assert_allclose(est.pair_complement_entropies(X), est.pair_complement_entropies_direct(X), atol=1e-6)


def test_ksg_complements_on_the_candidate_pairs_match_the_direct_computation(backend):
    # wide X: X_-i's k-th neighbours come from the compacted candidate pairs (ksg module docstring)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 12)) * np.linspace(0.3, 2.0, 12)
    X[:, -1] += X[:, 0]
    est = gib.get_estimator("ksg", device=backend.device)
    assert deviation(est.entropies(backend.X(X)), gib.get_estimator("ksg").entropies_direct(X)) < 1e-6


def test_ksg_entropies_of_ties_need_noise():
    """Ties: without noise the entropy would be -inf (refused); the default noise breaks them."""
    X = np.round(np.random.default_rng(10).normal(size=(100, 3)))
    with pytest.raises(ValueError, match="`noise`"):
        gib.get_estimator("ksg", noise=0.0).entropies(X)
    est = gib.get_estimator("ksg")
    assert deviation(est.entropies(X), est.entropies_direct(X)) < 1e-6


def test_ksg_entropies_take_no_weights():
    with pytest.raises(ValueError, match="`weights`"):
        gib.get_estimator("ksg").entropies(np.zeros((10, 3)), weights=np.arange(10.0))


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_renyi_entropies_at_other_orders_match_the_direct_computation(backend, alpha):
    rng = np.random.default_rng(11)
    X, weights = data(rng, "renyi", N=80, n=4)
    est = gib.get_estimator("renyi", alpha=alpha, device=backend.device)
    reference = gib.get_estimator("renyi", alpha=alpha)
    assert deviation(est.entropies(X, weights), reference.entropies_direct(X, weights)) < 1e-6
    np.testing.assert_allclose(est.pair_complement_entropies(X, weights),
                               reference.pair_complement_entropies_direct(X, weights), rtol=0, atol=1e-6)


def test_renyi_entropies_of_labels_are_the_class_frequencies():
    # integer X takes the delta kernel (RenyiEstimator): H(X_S) is the Renyi entropy of the
    # frequencies of X_S's distinct rows, here all 8 patterns of 3 bits, each twice
    X = np.array(list(itertools.product([0, 1], repeat=3)) * 2)
    got = gib.get_estimator("renyi").entropies(X)
    assert got.joint == pytest.approx(3.0, abs=1e-9)
    np.testing.assert_allclose(got.single, 1.0, atol=1e-9)
    np.testing.assert_allclose(got.complement, 2.0, atol=1e-9)
