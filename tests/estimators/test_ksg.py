"""Tests of the k-nearest-neighbour estimator ``ksg`` (SPEC 3): the fast leave-one-out path
on every backend (the ``backend`` fixture, conftest.py) against the per-subset computation,
closed forms for Gaussians, and scikit-learn's KSG / Ross implementations on the same data."""

import math
import warnings

import numpy as np
import pytest
from scipy import special

import gib
from gib.exceptions import TiedNeighboursWarning
from gib.estimators import get_estimator

LN2 = math.log(2.0)


def gaussian_pairs(rhos, N, seed):
    """X and V of independent pairs (X_j, V_j) with correlation rho_j:
    I(X;V) = sum_j -0.5 log2(1 - rho_j^2)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, len(rhos)))
    noise = rng.standard_normal((N, len(rhos)))
    v = np.asarray(rhos) * x + np.sqrt(1.0 - np.square(rhos)) * noise
    return x, v, -0.5 * np.log2(1.0 - np.square(rhos))


def mixed_data(N=160, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 5))
    X[:, 1] += X[:, 0]
    X[:, 3] = np.round(X[:, 3] * 2) / 2  # repeated values: ties in one dimension
    X[:, 4] = 0.7  # a constant column
    v = X[:, :2] @ [1.0, -0.5] + 0.5 * rng.standard_normal(N)
    return X, v


# -- fast path against the per-subset computation ----------------------------------------------
@pytest.mark.parametrize("target", ["continuous", "two_columns", "classes", "small_classes"])
def test_leave_one_out_matches_direct(backend, target):
    X, v = mixed_data()
    if target == "two_columns":
        v = np.c_[v, np.sin(X[:, 2])]
    elif target == "classes":
        v = (v > 0).astype(int) + (X[:, 2] > 1)
    elif target == "small_classes":
        # a class of one (left out, Ross), one of two (k_i = 1 < k) and string labels
        v = np.where(v > 0, "a", "b").astype(object)
        v[0], v[1], v[2] = "lone", "pair", "pair"
        v = v.astype(str)
    est = get_estimator("ksg", device=backend.device)
    fast = est.leave_one_out(backend.X(X), v)
    direct = est.leave_one_out_direct(X, v)
    tol = backend.tol("ksg", 1e-6)
    assert fast.joint == pytest.approx(direct.joint, abs=tol)
    np.testing.assert_allclose(fast.single, direct.single, atol=tol)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=tol)
    # the constant column carries nothing (base.leave_one_out_varying)
    assert fast.single[4] == 0.0 and fast.complement[4] == pytest.approx(fast.joint, abs=1e-12)


def test_leave_one_out_blocks_and_noise(backend, monkeypatch):
    """Several row blocks (a tiny block size) and the noise option: the fast path still equals
    the direct one, because a column's noise depends only on the seed and its values."""
    import gib.estimators.ksg as ksg

    monkeypatch.setitem(ksg._BLOCK_ELEMENTS, "numpy", 7 * 120)
    monkeypatch.setitem(ksg._BLOCK_ELEMENTS, "cpu", 7 * 120)
    X, v = mixed_data(N=120, seed=3)
    est = get_estimator("ksg", k=4, noise=1e-10, seed=5, device=backend.device)
    fast = est.leave_one_out(backend.X(X), v)
    direct = est.leave_one_out_direct(X, v)
    tol = backend.tol("ksg", 1e-6)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=tol)
    np.testing.assert_allclose(fast.single, direct.single, atol=tol)
    # the noise breaks the ties of column 3: its estimate differs from the noiseless one
    plain = get_estimator("ksg", k=4, noise=0.0).leave_one_out(X, v)
    assert fast.single[3] != pytest.approx(plain.single[3], abs=1e-9)


@pytest.mark.parametrize("classes", [False, True])
def test_leave_one_out_candidates_match_direct(backend, monkeypatch, classes):
    """Wide X: the complements run on their compacted candidate pairs (ksg module docstring),
    still equal to the per-subset computation (compaction forced for every block)."""
    import gib.estimators.ksg as ksg

    monkeypatch.setattr(ksg, "_CANDIDATE_FRACTION", 1.0)

    used = []
    original = ksg._candidates
    monkeypatch.setattr(ksg, "_candidates", lambda *a: used.append(original(*a)) or used[-1])
    rng = np.random.default_rng(8)
    X = rng.standard_normal((150, 12))
    X[:, 1] += X[:, 0]
    v = np.tanh(X[:, 0]) + 0.3 * rng.standard_normal(150)
    if classes:
        v = np.digitize(v, [-0.5, 0.5])
    est = get_estimator("ksg", device=backend.device)
    fast = est.leave_one_out(backend.X(X), v)
    direct = est.leave_one_out_direct(X, v)
    assert used and all(u is not None for u in used)
    tol = backend.tol("ksg", 1e-6)
    assert fast.joint == pytest.approx(direct.joint, abs=tol)
    np.testing.assert_allclose(fast.single, direct.single, atol=tol)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=tol)


# -- closed forms --------------------------------------------------------------------------------
def test_correlated_gaussians_closed_form():
    """I(X_j;V_j) = -0.5 log2(1 - rho_j^2) per pair, within 0.05 bits at N = 2000."""
    x, v, per_pair = gaussian_pairs([0.95, 0.9, 0.6, 0.3, 0.0], N=2000, seed=0)
    est = get_estimator("ksg")
    for j in range(len(per_pair)):
        assert est.mutual_information(x[:, j], v[:, j]) == pytest.approx(per_pair[j], abs=0.05)


def test_correlated_gaussians_leave_one_out_closed_form():
    """Two independent pairs: I(X;V) is the sum, I(X_j;V) the pair's, I(X_-j;V) the other's.
    Mean over three seeds at N = 2000, within 0.05 bits. (KSG's bias grows with the joint
    dimension: with a third, independent pair, 6 joint dimensions, I(X;V) comes out ~0.2 bits
    low at N = 2000; SPEC 3 'biased toward 0'.)"""
    errors = []
    for seed in range(3):
        x, v, per_pair = gaussian_pairs([0.8, 0.5], N=2000, seed=seed)
        t = get_estimator("ksg").leave_one_out(x, v)
        errors.append(np.r_[t.joint - per_pair.sum(), t.single - per_pair, t.complement - per_pair[::-1]])
    np.testing.assert_allclose(np.mean(errors, axis=0), 0.0, atol=0.05)


def test_ross_closed_form():
    """Two classes, X | y ~ N(+-mu, 1): I = H(X) - H(X | Y) by quadrature of the mixture."""
    rng = np.random.default_rng(2)
    N, mu = 2000, 1.0
    y = rng.integers(0, 2, N)
    x = (2 * y - 1) * mu + rng.standard_normal(N)
    grid = np.linspace(-10, 10, 20001)
    mix = 0.5 * (np.exp(-0.5 * (grid - mu) ** 2) + np.exp(-0.5 * (grid + mu) ** 2)) / math.sqrt(2 * math.pi)
    h_x = -np.sum(mix * np.log2(mix)) * (grid[1] - grid[0])
    truth = h_x - 0.5 * math.log2(2 * math.pi * math.e)
    assert gib.mutual_information(x, y, estimator="ksg") == pytest.approx(truth, abs=0.05)


def test_kozachenko_leonenko_gaussian_entropy():
    """H = 0.5 log2((2 pi e)^d det C) for a correlated 2-D Gaussian (in its own units)."""
    rng = np.random.default_rng(4)
    c = np.array([[4.0, 1.2], [1.2, 1.0]])
    a = rng.multivariate_normal([0, 0], c, size=2000)
    truth = 0.5 * math.log2((2 * math.pi * math.e) ** 2 * np.linalg.det(c))
    assert gib.entropy(a, estimator="ksg") == pytest.approx(truth, abs=0.05)


def test_kozachenko_leonenko_hand_computed():
    """Four points on a line, k = 1: every nearest neighbour is at distance 1, so
    H = psi(4) - psi(1) + log(2) nats."""
    h = gib.entropy(np.array([0.0, 1.0, 2.0, 3.0]), estimator="ksg", k=1, noise=0.0)  # exact, no jitter
    assert h == pytest.approx((special.psi(4) - special.psi(1) + math.log(2.0)) / LN2, abs=1e-12)


# -- against scikit-learn ---------------------------------------------------------------------
# scikit-learn standardises like `standardize=True`, uses the same strict-less counts
# (``nextafter(eps, 0)`` radii) and Ross's m_i with the sample itself, adds noise of 1e-10
# standard deviations (seeded by random_state) and clips at 0. On continuous data of N = 1000
# the noise moves a distance across another one (changing one count by 1) with probability
# ~N * 1e-10 per sample; one such change moves the mean digamma by at most 1/N nats
# (1.4e-3 bits). 2e-3 bits thus allows one such event and catches any real difference
# (a wrong tie rule, k, or base shifts the values by 1e-2 bits or more).
SKLEARN_TOL = 2e-3


def test_against_sklearn_regression():
    from sklearn.feature_selection import mutual_info_regression

    rng = np.random.default_rng(6)
    N = 1000
    X = rng.standard_normal((N, 4))
    v = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * rng.standard_normal(N)
    X[:, 2] = X[:, 0] + 0.5 * X[:, 2]
    ours = get_estimator("ksg", k=4).leave_one_out(X, v).single
    theirs = mutual_info_regression(X, v, n_neighbors=4, random_state=0) / LN2
    np.testing.assert_allclose(np.maximum(ours, 0.0), theirs, atol=SKLEARN_TOL)
    assert theirs.min() < 0.02 and theirs.max() > 0.5  # both regimes covered


def test_against_sklearn_classification():
    from sklearn.feature_selection import mutual_info_classif

    rng = np.random.default_rng(7)
    N = 1000
    y = rng.integers(0, 3, N)
    y[:2] = 3  # a class of two: k_i = 1 there
    X = rng.standard_normal((N, 3))
    X[:, 0] += y
    X[:, 1] += (y == 1) * 2.0
    ours = get_estimator("ksg").leave_one_out(X, y).single
    theirs = mutual_info_classif(X, y, n_neighbors=3, random_state=0) / LN2
    np.testing.assert_allclose(np.maximum(ours, 0.0), theirs, atol=SKLEARN_TOL)


# -- options and errors -----------------------------------------------------------------------
def test_weights_are_refused_unless_uniform():
    X, v = mixed_data(N=50)
    with pytest.raises(ValueError, match="`weights`"):
        gib.mutual_information(X, v, estimator="ksg", weights=np.arange(50.0))
    with pytest.raises(ValueError, match="`weights`"):
        gib.leave_one_out(X, v, estimator="ksg", weights=np.arange(50.0))
    uniform = gib.leave_one_out(X, v, estimator="ksg", weights=np.full(50, 2.0))
    assert uniform.joint == gib.leave_one_out(X, v, estimator="ksg").joint


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="`k`"):
        get_estimator("ksg", k=0)
    with pytest.raises(ValueError, match="`k`"):
        gib.mutual_information(np.arange(3.0), np.arange(3.0) ** 2, estimator="ksg")
    with pytest.raises(ValueError, match="single sample"):
        gib.mutual_information(np.arange(5.0), np.arange(5), estimator="ksg")
    with pytest.raises(ValueError, match="`noise`"):
        gib.entropy(np.zeros(10) + np.arange(10) // 5, estimator="ksg", noise=0.0)
    with pytest.raises(TypeError, match="`a`"):
        gib.mutual_information(np.array(["a", "b", "c", "d", "e"]), np.arange(5.0), estimator="ksg")


def test_registered():
    assert "ksg" in gib.estimators.available_estimators()
    assert repr(get_estimator("ksg", k=5)).startswith("KSGEstimator(k=5")


# -- the tree path (ksg module docstring) -----------------------------------------------------
@pytest.fixture
def pairwise_only(monkeypatch):
    """Run the estimator with the k-d tree path off: every distance from the pairwise blocks."""
    import gib.estimators.ksg as ksg

    def run(fn):
        with monkeypatch.context() as patch:
            patch.setattr(ksg, "_TREE_MIN_SAMPLES", 10**12)
            return fn()

    return run


@pytest.mark.parametrize("noise", [1e-10, 0.0])
@pytest.mark.parametrize("target", ["continuous", "classes", "small_classes"])
def test_tree_path_equals_the_pairwise_path(pairwise_only, noise, target):
    """From 1000 samples on, few-column spaces go by k-d trees: the same eps, counts and block
    sums, so the very same numbers, ties (a quantised column) included."""
    import gib.estimators.ksg as ksg

    rng = np.random.default_rng(11)
    N = max(1200, ksg._TREE_MIN_SAMPLES)
    X = rng.standard_normal((N, 3))
    X[:, 1] = np.round(X[:, 1] * 2) / 2  # ties
    v = np.tanh(X[:, 0]) + 0.5 * rng.standard_normal(N)
    if target != "continuous":
        v = np.digitize(v, [-0.5, 0.5])
        if target == "small_classes":
            v[:3] = 7  # a class of 3 (k_i = 2) and one of a single sample (left out)
            v[3] = 8
    est = get_estimator("ksg", noise=noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TiedNeighboursWarning)
        for a in (X[:, [0]], X[:, [1]], X[:, :2]):
            assert est.mutual_information(a, v) == pairwise_only(lambda: est.mutual_information(a, v))
        tree, pairwise = est.leave_one_out(X, v), pairwise_only(lambda: est.leave_one_out(X, v))
    assert tree.joint == pairwise.joint
    np.testing.assert_array_equal(tree.single, pairwise.single)
    np.testing.assert_array_equal(tree.complement, pairwise.complement)
    if noise:
        assert est.entropy(X[:, :2]) == pairwise_only(lambda: est.entropy(X[:, :2]))


def test_tree_path_warns_where_ties_remain():
    rng = np.random.default_rng(12)
    z = np.round(rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=1500) * 2) / 2
    with pytest.warns(TiedNeighboursWarning, match="`noise`"):
        gib.mutual_information(z[:, 0], z[:, 1], estimator="ksg", noise=0.0)


# -- ties and scale (ksg module docstring) ----------------------------------------------------
def test_ties_are_broken_by_default_and_warned_without_noise():
    """A Gaussian pair of r = 0.6 (0.322 bits) rounded to a grid of 0.5: the default noise gives
    the peers' value (scikit-learn's spread over seeds is ~0.05 bits here); without noise the
    counts of 0 inflate it past 5 bits, with a warning."""
    rng = np.random.default_rng(13)
    z = np.round(rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=1000) * 2) / 2
    truth = -0.5 * np.log2(1 - 0.36)
    assert gib.mutual_information(z[:, 0], z[:, 1], estimator="ksg") == pytest.approx(truth, abs=0.08)
    with pytest.warns(TiedNeighboursWarning, match="distance 0"):
        assert gib.mutual_information(z[:, 0], z[:, 1], estimator="ksg", noise=0.0) > 5.0
    with pytest.warns(TiedNeighboursWarning):
        gib.leave_one_out(np.column_stack([z, z[:, 0] * 2]), z[:, 1], estimator="ksg", noise=0.0)


@pytest.mark.parametrize("scale", [1e160, 1e300, 1e-300])
def test_extreme_scales_give_the_values_of_ordinary_ones(scale):
    rng = np.random.default_rng(14)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    v = X[:, 0] + 0.5 * rng.standard_normal(60)
    assert gib.mutual_information(X * scale, y, "ksg") == pytest.approx(gib.mutual_information(X, y, "ksg"), abs=1e-9)
    assert gib.synergy(X * scale, y, "ksg") == pytest.approx(gib.synergy(X, y, "ksg"), abs=1e-9)
    assert gib.synergy(X * scale, v * scale, "ksg") == pytest.approx(gib.synergy(X, v, "ksg"), abs=1e-9)
    unscaled = gib.mutual_information(X * scale, v * scale, "ksg", standardize=False)
    assert unscaled == pytest.approx(gib.mutual_information(X, v, "ksg", standardize=False), abs=1e-9)
    # the entropy is in the data's units: shifted by d log2(scale)
    assert gib.entropy(X * scale, "ksg") == pytest.approx(gib.entropy(X, "ksg") + 3 * np.log2(scale), abs=1e-9)
    h = gib.get_estimator("ksg").entropies(X * scale)
    np.testing.assert_allclose(h.single, gib.get_estimator("ksg").entropies(X).single + np.log2(scale), atol=1e-9)


def test_the_largest_floats_are_estimated_and_mixed_magnitudes_refused():
    rng = np.random.default_rng(15)
    extremes = rng.choice([1.7e308, -1.7e308, 1e308, -1e307, 0.0, 5.0], size=(50, 2))
    extremes += rng.standard_normal((50, 2)) * 1e300
    assert np.isfinite(gib.entropy(extremes, "ksg"))
    assert np.isfinite(gib.mutual_information(extremes[:, 0], extremes[:, 1], "ksg"))
    mixed = np.column_stack([rng.standard_normal(50) * 1e300, rng.standard_normal(50) * 1e-20])
    with pytest.raises(ValueError, match="`standardize`"):
        gib.mutual_information(mixed, rng.standard_normal(50), "ksg", standardize=False)


def test_one_dimensional_counts_equal_the_pairwise_predicate():
    """The sorted-values counts of the tree path: #{j : |x_j - x_i| < eps_i} with the difference
    rounded as the pairwise path rounds it, radii on the gaps themselves and ties included."""
    from gib.estimators.ksg import _counts_within_sorted

    rng = np.random.default_rng(16)
    x = np.concatenate([np.round(rng.standard_normal(300), 1), rng.standard_normal(200) * 1e-3 + 0.1])
    gaps = np.abs(x[:, None] - x[None, :])
    eps = gaps[np.arange(len(x)), rng.integers(0, len(x), len(x))]  # radii that are gaps: boundary cases
    eps[:50] = rng.random(50)
    np.testing.assert_array_equal(_counts_within_sorted(x, eps), np.sum(gaps < eps[:, None], axis=1))
