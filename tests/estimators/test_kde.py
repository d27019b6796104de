"""Tests of the kernel estimators ``kde`` and ``kde_upper`` (SPEC 3, Appendix F.1); the
leave-one-out paths on every backend (the ``backend`` fixture, conftest.py)."""

import math

import numpy as np
import pytest
from scipy.special import logsumexp

import gib
from gib.estimators import kde

LOG2_2PI_E = math.log2(2 * math.pi * math.e)


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def _max_deviation(fast, direct):
    return max(
        abs(fast.joint - direct.joint),
        np.max(np.abs(fast.single - direct.single)),
        np.max(np.abs(fast.complement - direct.complement)),
    )


def _targets(rng, N):
    """Discrete (with a single-sample class), boolean, continuous 1-D and 2-D targets."""
    labels = rng.integers(0, 3, N)
    labels[0] = 9  # a class with one sample
    return {
        "labels": labels,
        "bool": rng.random(N) < 0.4,
        "continuous": rng.normal(size=N),
        "continuous-2d": rng.normal(size=(N, 2)),
        "rounded": np.round(rng.normal(size=N)),  # repeated float rows: groups for kde_upper
    }


# -- fast leave-one-out == plain per-subset computation ------------------------------------------
@pytest.mark.parametrize("name", ["kde", "kde_upper"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_leave_one_out_matches_direct(backend, rng, name, weighted):
    N, n = 70, 5
    X = rng.normal(size=(N, n)) * [1.0, 0.2, 3.0, 1.0, 0.05]
    X[:, 3] += X[:, 0]  # correlated columns
    weights = None
    if weighted:
        weights = rng.random(N)
        weights[[2, 5]] = 0.0  # samples of zero weight drop out
    est = gib.get_estimator(name, **({"noise_variance": 0.1} if name == "kde_upper" else {}))
    for label, v in _targets(rng, N).items():
        fast = est.leave_one_out(backend.X(X), v, weights)
        direct = est.leave_one_out_direct(X, v, weights)
        assert _max_deviation(fast, direct) < backend.tol(name, 1e-9), label


@pytest.mark.parametrize("name", ["kde", "kde_upper"])
def test_fast_leave_one_out_across_row_blocks(backend, rng, monkeypatch, name):
    # Blocks of 3 rows (the last one shorter) exercise the block offsets of the diagonal.
    N, n = 40, 4
    X = rng.normal(size=(N, n))
    v = rng.normal(size=N) if name == "kde" else rng.integers(0, 3, N)
    est = gib.get_estimator(name)
    direct = est.leave_one_out_direct(X, v)
    # NumPy's blocks are rows x N, torch's features x rows x N
    monkeypatch.setattr(kde, "_BLOCK_ELEMENTS", {"numpy": 3 * N, "cpu": 3 * n * N, "cuda": 3 * n * N})
    assert _max_deviation(est.leave_one_out(backend.X(X), v), direct) < backend.tol(name, 1e-9)


@pytest.mark.parametrize("name", ["kde", "kde_upper"])
def test_isolated_samples_are_recomputed_with_a_shift(backend, rng, monkeypatch, name):
    # An isolated sample: its kernel sums underflow without the max-shift, in every block.
    N, n = 90, 4
    X = rng.normal(size=(N, n))
    X[3] += 60.0
    labels = rng.integers(0, 3, N)
    est = gib.get_estimator(name, **({"noise_variance": 0.01} if name == "kde_upper" else {"bandwidth_scale": 0.3}))
    monkeypatch.setattr(kde, "_BLOCK_ELEMENTS", {"numpy": 7 * N, "cpu": 7 * n * N, "cuda": 7 * n * N})
    for v in (labels, X[:, 0] + rng.normal(size=N)) if name == "kde" else (labels,):
        fast, direct = est.leave_one_out(backend.X(X), v), est.leave_one_out_direct(X, v)
        assert _max_deviation(fast, direct) < backend.tol(name, 1e-9) * max(1.0, abs(direct.joint))


def _naive_kde_entropy(x, w, scale=1.0):
    """SPEC 3 `kde` written out plainly: weighted Scott bandwidths, leave-one-out density."""
    N, d = x.shape
    mean = w @ x
    sigma = np.sqrt(w @ (x - mean) ** 2 / (1 - w @ w))
    h = scale * sigma * (1 / (w @ w)) ** (-1 / (d + 4))
    D = (((x[:, None, :] - x[None, :, :]) / h) ** 2).sum(-1)
    log_kernel = -0.5 * D - 0.5 * d * np.log(2 * np.pi) - np.log(h).sum() + np.log(w)[None, :]
    np.fill_diagonal(log_kernel, -np.inf)
    log_density = logsumexp(log_kernel, axis=1) - np.log1p(-w)
    return -(w @ log_density) / np.log(2)


@pytest.mark.parametrize("scale", [1.0, 0.003])
def test_kde_entropy_matches_plain_formula(backend, rng, scale):
    # scale 0.003 makes most kernel sums underflow: the shifted recomputation must take over.
    x = rng.standard_t(2, size=(50, 2))
    w = rng.random(50)
    w /= w.sum()
    est = gib.get_estimator("kde", bandwidth_scale=scale)
    uniform = np.full(50, 1 / 50)
    assert est.entropy(x) == pytest.approx(_naive_kde_entropy(x, uniform, scale), rel=1e-12)
    assert est.entropy(x, w) == pytest.approx(_naive_kde_entropy(x, w, scale), rel=1e-12)
    fast, direct = est.leave_one_out(backend.X(x), x[:, 0] > 0), est.leave_one_out_direct(x, x[:, 0] > 0)
    assert _max_deviation(fast, direct) < backend.tol("kde", 1e-9) * max(1.0, abs(direct.joint))


def test_uniform_and_zero_weights(backend, rng):
    X, v = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    for name in ("kde", "kde_upper"):
        est = gib.get_estimator(name)
        plain = est.leave_one_out(backend.X(X), v)
        uniform = est.leave_one_out(backend.X(X), v, np.full(30, 7.0))
        assert _max_deviation(plain, uniform) < 1e-12
        w = np.ones(30)
        w[:4] = 0.0
        assert est.mutual_information(X, v, w) == pytest.approx(est.mutual_information(X[4:], v[4:]), abs=1e-12)


# -- closed forms --------------------------------------------------------------------------------
def test_kde_entropy_of_standard_normal(rng):
    # Standard error of the resubstitution estimate: sd(-log2 phi(X)) / sqrt(N) = 1.02 / sqrt(N)
    # = 0.014 bits at N = 5000; Scott's smoothing adds only ~ +0.001 bits (cross-entropy of
    # N(0, 1) under N(0, 1 + h^2)). Tolerance 0.06 bits ~ 4 standard errors.
    h = gib.get_estimator("kde").entropy(rng.normal(size=5000))
    assert h == pytest.approx(0.5 * LOG2_2PI_E, abs=0.06)


def test_kde_information_of_independent_gaussians_is_near_zero(rng):
    # Over seeds the estimate at N = 1000 lies in [-0.025, 0.005] bits (a small negative bias of
    # the joint's wider bandwidth); 0.05 bits leaves room for other seeds.
    mi = gib.get_estimator("kde").mutual_information(rng.normal(size=1000), rng.normal(size=1000))
    assert abs(mi) < 0.05


def test_kde_information_of_correlated_gaussians(rng):
    # True value -0.5 log2(1 - rho^2) = 0.737 bits. Scott's smoothing (wider in 2-D than in 1-D)
    # biases the estimate by about -0.035 bits at N = 2000 (Gaussian cross-entropies), and the
    # standard error is rho / sqrt(N) nats = 0.026 bits: tolerance 0.035 + 3 SE ~ 0.12 bits.
    rho, N = 0.8, 2000
    xy = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=N)
    mi = gib.get_estimator("kde").mutual_information(xy[:, 0], xy[:, 1])
    assert mi == pytest.approx(-0.5 * math.log2(1 - rho**2), abs=0.12)


def test_kde_discrete_target_uses_class_conditional_entropies(rng):
    est = gib.get_estimator("kde")
    a = rng.normal(size=(60, 2))
    b = rng.integers(0, 2, 60)
    b[7] = 5  # one sample: its class carries no information, H(A | B=5) = H(A)
    expected = sum(np.mean(b == k) * (est.entropy(a) - est.entropy(a[b == k])) for k in (0, 1))
    assert est.mutual_information(a, b) == pytest.approx(expected, abs=1e-12)
    assert est.mutual_information(a, b.astype(str)) == pytest.approx(expected, abs=1e-12)


def test_kde_upper_distinct_separated_points_give_log_n(rng):
    N = 64
    X = rng.permutation(N)[:, None] * np.array([[1.0, -2.0]])  # distinct rows, >= 1 apart
    est = gib.get_estimator("kde_upper")
    # the bound for T = X: every exp(-|h_i - h_j|^2 / 2 s2) with i != j is below exp(-500)
    assert est.mutual_information(X, X) == pytest.approx(math.log2(N), abs=1e-12)
    assert est.mutual_information(np.zeros((N, 3)), X) == pytest.approx(0.0, abs=1e-12)


def test_kde_upper_class_information_and_entropy(rng):
    est = gib.get_estimator("kde_upper", noise_variance=1e-3)
    y = np.repeat([0, 1, 2, 3], 25)
    t = y[:, None] * 5.0 + 1e-6 * rng.normal(size=(100, 2))  # tight, far-apart class clusters
    assert est.mutual_information(t, y) == pytest.approx(2.0, abs=1e-6)  # I(T;Y) = H(Y)
    # one Gaussian: the bound is exact, (d/2) log2(2 pi e s2)
    assert est.entropy(np.zeros((10, 3))) == pytest.approx(1.5 * math.log2(2 * math.pi * math.e * 1e-3))


# -- errors --------------------------------------------------------------------------------------
def test_constant_columns(backend, rng):
    # Constant columns carry no information and are dropped (test_degenerate.py); only the
    # entropy of a constant column (-inf) and, with min_class_sigma=0, a column constant within
    # a class are errors.
    est = gib.get_estimator("kde")
    X = rng.normal(size=(20, 3))
    X[:, 1] = 4.0
    good = rng.normal(size=(20, 2))
    t = est.leave_one_out(backend.X(X), good[:, 0])
    assert t.single[1] == 0.0 and t.complement[1] == t.joint
    assert est.mutual_information(good, X) == pytest.approx(est.mutual_information(good, X[:, [0, 2]]), abs=1e-12)
    with pytest.raises(ValueError, match=r"`a` has constant column\(s\) \[1\].*Drop"):
        est.entropy(X)
    labels = np.repeat([0, 1], 10)
    Xc = good.copy()
    Xc[labels == 1, 0] = 0.5
    assert np.isfinite(est.mutual_information(Xc, labels))
    with pytest.raises(ValueError, match="within the samples of class 1"):
        gib.get_estimator("kde", min_class_sigma=0).mutual_information(Xc, labels)
    with pytest.raises(ValueError, match="within the samples of class 1"):
        gib.get_estimator("kde", min_class_sigma=0).leave_one_out(backend.X(np.column_stack([Xc, good])), labels)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "0.1", True])
def test_bad_options_are_rejected(bad):
    with pytest.raises(ValueError, match="noise_variance"):
        gib.get_estimator("kde_upper", noise_variance=bad)
    with pytest.raises(ValueError, match="bandwidth_scale"):
        gib.get_estimator("kde", bandwidth_scale=bad)


def test_unknown_option_and_bad_data():
    with pytest.raises(TypeError, match="unknown option"):
        gib.get_estimator("kde", foo=1)
    with pytest.raises(TypeError, match="unknown option"):
        gib.get_estimator("kde_upper", bandwidth_scale=1.0)
    with pytest.raises(TypeError, match="`X` holds labels"):
        gib.get_estimator("kde").leave_one_out(np.array([["a", "b"]] * 5), np.arange(5))
    w = np.zeros(6)
    w[0] = 1.0
    with pytest.raises(ValueError, match="`weights` has 1 positive"):
        gib.get_estimator("kde_upper").entropy(np.arange(6.0), w)
