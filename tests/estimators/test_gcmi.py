"""Tests of the Gaussian-copula estimator ``gcmi`` (SPEC 3); the leave-one-out paths on every
backend (the ``backend`` fixture, conftest.py)."""

import math
import time

import numpy as np
import pytest
from scipy import special

import gib
from gib._xp import to_numpy
from gib.estimators import get_estimator
from gib.estimators.gcmi import _copula

LN2 = math.log(2.0)


# -- a reference transcription of Ince et al. (2017) ------------------------------------------
# Written from the paper's formulas and the layout of its reference code (variables x samples,
# ranks by double argsort, covariance / (N - 1), Cholesky log-det, psi bias terms), independent
# of the package's implementation.
def ref_copnorm(x):
    ranks = np.argsort(np.argsort(np.atleast_2d(x), axis=-1), axis=-1) + 1
    return special.ndtri(ranks / (ranks.shape[-1] + 1.0))


def ref_bias_terms(n_trials, n_vars):
    psiterms = special.psi((n_trials - np.arange(1, n_vars + 1)) / 2.0) / 2.0
    dterm = (LN2 - math.log(n_trials - 1.0)) / 2.0
    return psiterms, dterm


def ref_ent_g(x, biascorrect=True):
    x = np.atleast_2d(x)
    n_vars, n_trials = x.shape
    x = x - x.mean(axis=1, keepdims=True)
    chol = np.linalg.cholesky(x @ x.T / (n_trials - 1.0))
    h = np.sum(np.log(np.diag(chol))) + 0.5 * n_vars * (math.log(2 * math.pi) + 1.0)
    if biascorrect:
        psiterms, dterm = ref_bias_terms(n_trials, n_vars)
        h = h - n_vars * dterm - psiterms.sum()
    return h / LN2


def ref_mi_gg(x, y, biascorrect=True, demeaned=False):
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    nx, ny, n_trials = x.shape[0], y.shape[0], x.shape[1]
    xy = np.vstack([x, y])
    if not demeaned:
        xy = xy - xy.mean(axis=1, keepdims=True)
    cxy = xy @ xy.T / (n_trials - 1.0)
    hx = np.sum(np.log(np.diag(np.linalg.cholesky(cxy[:nx, :nx]))))
    hy = np.sum(np.log(np.diag(np.linalg.cholesky(cxy[nx:, nx:]))))
    hxy = np.sum(np.log(np.diag(np.linalg.cholesky(cxy))))
    if biascorrect:
        psiterms, dterm = ref_bias_terms(n_trials, nx + ny)
        hx = hx - nx * dterm - psiterms[:nx].sum()
        hy = hy - ny * dterm - psiterms[:ny].sum()
        hxy = hxy - (nx + ny) * dterm - psiterms.sum()
    return (hx + hy - hxy) / LN2


def ref_mi_model_gd(x, y, n_classes, biascorrect=True, demeaned=False):
    x = np.atleast_2d(x)
    n_vars, n_trials = x.shape
    if not demeaned:
        x = x - x.mean(axis=1, keepdims=True)
    n_y = np.zeros(n_classes)
    h_cond = np.zeros(n_classes)
    for k in range(n_classes):
        xm = x[:, y == k]
        n_y[k] = xm.shape[1]
        xm = xm - xm.mean(axis=1, keepdims=True)
        h_cond[k] = np.sum(np.log(np.diag(np.linalg.cholesky(xm @ xm.T / (n_y[k] - 1.0)))))
    h_unc = np.sum(np.log(np.diag(np.linalg.cholesky(x @ x.T / (n_trials - 1.0)))))
    if biascorrect:
        psiterms, dterm = ref_bias_terms(n_trials, n_vars)
        h_unc = h_unc - n_vars * dterm - psiterms.sum()
        dterm_y = (LN2 - np.log(n_y - 1.0)) / 2.0
        psi_y = sum(special.psi((n_y - k) / 2.0) for k in range(1, n_vars + 1))
        h_cond = h_cond - n_vars * dterm_y - psi_y / 2.0
    return (h_unc - np.sum(n_y / n_trials * h_cond)) / LN2


def ref_gcmi_cc(x, y):
    return ref_mi_gg(ref_copnorm(x), ref_copnorm(y), True, True)


def ref_gcmi_model_cd(x, y, n_classes):
    return ref_mi_model_gd(ref_copnorm(x), y, n_classes, True, True)


# -- helpers -----------------------------------------------------------------------------------
def mixed_data(rng, n_samples, n_features):
    """Correlated, non-Gaussian continuous features."""
    mixing = rng.normal(size=(n_features, n_features)) + 2 * np.eye(n_features)
    X = rng.normal(size=(n_samples, n_features)) @ mixing
    return X + 0.3 * X**3


def max_deviation(a, b):
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


@pytest.fixture
def est():
    return gib.get_estimator("gcmi")


# -- against the published formulas -----------------------------------------------------------
def test_entropy_matches_ince(est):
    rng = np.random.default_rng(0)
    X = mixed_data(rng, 300, 3)
    assert est.entropy(X) == pytest.approx(ref_ent_g(ref_copnorm(X.T)), abs=1e-9)
    assert gib.get_estimator("gcmi", bias_correct=False).entropy(X[:, 0]) == pytest.approx(
        ref_ent_g(ref_copnorm(X[:, 0]), biascorrect=False), abs=1e-9
    )


def test_continuous_mi_matches_ince(est):
    rng = np.random.default_rng(1)
    X = mixed_data(rng, 400, 5)
    a, b = X[:, :3], X[:, 3:]
    assert est.mutual_information(a, b) == pytest.approx(ref_gcmi_cc(a.T, b.T), abs=1e-9)
    assert est.mutual_information(a[:, 0], b[:, 1]) == pytest.approx(ref_gcmi_cc(a[:, 0], b[:, 1]), abs=1e-9)


def test_discrete_mi_matches_ince(est):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, size=500)
    X = mixed_data(rng, 500, 3) + y[:, None] * np.array([0.5, -0.3, 0.0])
    assert est.mutual_information(X, y) == pytest.approx(ref_gcmi_model_cd(X.T, y, 3), abs=1e-9)
    # String labels and a two-column label are the same classes.
    names = np.array(["cat", "dog", "emu"])[y]
    assert est.mutual_information(X, names) == pytest.approx(ref_gcmi_model_cd(X.T, y, 3), abs=1e-9)
    pair = np.column_stack([y % 2, y // 2])
    assert est.mutual_information(X, pair) == pytest.approx(ref_gcmi_model_cd(X.T, y, 3), abs=1e-9)


# -- fast leave-one-out against the per-subset computation ------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("target", ["continuous-1d", "continuous-2d", "discrete-1d", "discrete-2d"])
def test_fast_leave_one_out_matches_direct(backend, est, weighted, target):
    rng = np.random.default_rng(3)
    X = mixed_data(rng, 300, 6)
    X[:, 1] = np.round(X[:, 1])  # ties share their mid-rank
    if target == "continuous-1d":
        v = X[:, 0] * X[:, 1] + X[:, 2] + rng.normal(size=300)
    elif target == "continuous-2d":
        v = np.column_stack([X[:, 0] + X[:, 3], np.tanh(X[:, 4]) + rng.normal(size=300)])
    elif target == "discrete-1d":
        v = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 5] > 1)
    else:
        v = np.column_stack([X[:, 0] > 0, X[:, 2] > 0])  # bool
    w = rng.uniform(0.2, 2.0, size=300) if weighted else None
    if weighted:
        w[[2, 5]] = 0.0  # samples of zero weight
    fast, direct = est.leave_one_out(backend.X(X), v, w), est.leave_one_out_direct(X, v, w)
    assert max_deviation(fast, direct) < backend.tol("gcmi", 1e-9)


def test_fast_leave_one_out_without_bias_correction(backend):
    est = gib.get_estimator("gcmi", bias_correct=False)
    rng = np.random.default_rng(4)
    X = mixed_data(rng, 200, 4)
    for v in (X[:, 0] + rng.normal(size=200), (X[:, 1] > 0).astype(np.int64)):
        assert max_deviation(est.leave_one_out(backend.X(X), v), est.leave_one_out_direct(X, v)) < backend.tol(
            "gcmi", 1e-9
        )


@pytest.mark.parametrize("weighted", [False, True])
def test_continuous_target_option_ranks_integer_codes(backend, weighted):
    """``target_type="continuous"``: integer codes (binned regression outputs) are ranked as values,
    as their float copy would be, and the fast path still equals the per-subset computation."""
    rng = np.random.default_rng(12)
    X = mixed_data(rng, 300, 3)
    codes = np.column_stack([np.digitize(X.sum(1), np.linspace(-8, 8, 39)), rng.integers(0, 40, 300)])
    w = rng.uniform(0.2, 2.0, size=300) if weighted else None
    est = gib.get_estimator("gcmi", target_type="continuous")
    ours = est.leave_one_out(backend.X(X), codes, w)
    as_floats = gib.get_estimator("gcmi").leave_one_out(X, codes.astype(float), w)
    tol = backend.tol("gcmi", 1e-12)
    assert max_deviation(ours, as_floats) < tol
    assert max_deviation(ours, est.leave_one_out_direct(X, codes, w)) < backend.tol("gcmi", 1e-9)
    assert est.mutual_information(X, codes, w) == pytest.approx(as_floats.joint, abs=1e-9)
    assert ours.joint > 0.5  # the first code column carries the sum of X
    # as labels, the 40 x 40 code pairs are classes far too small for a covariance
    assert abs(gib.get_estimator("gcmi").leave_one_out(X, codes, w).joint - ours.joint) > 0.1
    with pytest.raises(TypeError, match="`v` holds strings"):
        est.leave_one_out(X, codes.astype(str))
    with pytest.raises(ValueError, match="`target_type` must be one of 'auto', 'continuous'"):
        gib.get_estimator("gcmi", target_type="labels")


# -- weights ----------------------------------------------------------------------------------
def test_weighted_copula_reduces_to_ranks(backend):
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 5, size=200)])  # second has ties
    uniform = np.full(200, 1 / 200)
    for weights in (None, uniform):
        np.testing.assert_allclose(to_numpy(_copula(backend.X(X), weights, "X")), _copula(X, None, "X"), atol=1e-12)
    u = special.ndtr(_copula(X[:, :1], None, "X"))[:, 0]
    np.testing.assert_allclose(u * 201, np.argsort(np.argsort(X[:, 0])) + 1, atol=1e-9)


def test_zero_one_weights_select_samples(est):
    rng = np.random.default_rng(6)
    X = mixed_data(rng, 300, 3)
    y = (X[:, 0] > 0).astype(int)
    keep = rng.uniform(size=300) < 0.6
    w = keep.astype(float)
    assert est.mutual_information(X, y, w) == pytest.approx(est.mutual_information(X[keep], y[keep]), abs=1e-9)
    assert est.mutual_information(X[:, :2], X[:, 2], w) == pytest.approx(
        est.mutual_information(X[keep, :2], X[keep, 2]), abs=1e-9
    )


# -- known values -----------------------------------------------------------------------------
def test_correlated_gaussians(est):
    rng = np.random.default_rng(7)
    rho = 0.8
    x = rng.normal(size=5000)
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=5000)
    exact = -0.5 * math.log2(1 - rho**2)
    # Monotone transforms of the marginals change nothing: the copula only sees ranks.
    assert est.mutual_information(np.exp(x), y**3) == pytest.approx(exact, abs=0.03)


def test_independence_gives_about_zero(est):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2000, 3))
    assert abs(est.mutual_information(X[:, :2], X[:, 2])) < 0.01
    assert abs(est.mutual_information(X, rng.integers(0, 2, size=2000))) < 0.01


def test_xor_is_missed(backend, est):
    """GCMI is a lower bound and misses non-monotone dependence: an XOR of signs, whose true
    mutual information is 1 bit, reads as about 0 for a continuous target (SPEC 3)."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(4000, 2))
    xor = np.sign(X[:, 0]) * np.sign(X[:, 1])
    assert abs(est.mutual_information(X, xor)) < 0.01
    t = est.leave_one_out(backend.X(X), xor)
    assert np.all(np.abs(t.single) < 0.01) and abs(t.joint) < 0.01
    # As class labels, the class covariances differ, so part of the bit shows, but far below 1.
    assert 0.1 < est.mutual_information(X, xor.astype(int)) < 0.6


# -- errors -----------------------------------------------------------------------------------
def test_constant_columns(backend, est):
    # Dropped as carrying no information (test_degenerate.py); the entropy of one is an error.
    X = np.column_stack([np.arange(10.0), np.ones(10)])
    t = est.leave_one_out(backend.X(np.column_stack([X, np.arange(10.0) ** 2])), np.arange(10.0))
    assert t.single[1] == 0.0 and t.complement[1] == t.joint
    assert est.mutual_information(np.arange(10.0), np.ones(10)) == 0.0
    with pytest.raises(ValueError, match=r"`a` has constant column\(s\) \[1\].*Drop them"):
        est.entropy(X)


def test_too_few_samples_overall(backend, est):
    rng = np.random.default_rng(10)
    X = rng.normal(size=(3, 3))
    with pytest.raises(ValueError, match=r"more than 3 samples"):
        est.leave_one_out(backend.X(X), np.array([0, 1, 0]))


def test_unknown_option_and_bad_input():
    with pytest.raises(TypeError, match="bias_correct"):
        gib.get_estimator("gcmi", foo=1)
    with pytest.raises(ValueError, match="bias_correct"):
        gib.get_estimator("gcmi", bias_correct="yes")
    with pytest.raises(ValueError, match="ridge"):
        gib.get_estimator("gcmi", ridge=-1.0)
    with pytest.raises(TypeError, match="strings"):
        gib.get_estimator("gcmi").entropy(np.array(["a", "b", "c"]))


def test_fast_leave_one_out_is_faster(est):
    rng = np.random.default_rng(11)
    X, v = mixed_data(rng, 2000, 20), rng.normal(size=2000)
    start = time.perf_counter()
    est.leave_one_out(X, v)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    est.leave_one_out_direct(X, v)
    direct = time.perf_counter() - start
    assert fast < direct


def test_a_class_too_small_for_its_covariance_carries_no_information(backend):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 4))
    v = (X[:, 0] > 0).astype(int)
    v[:3] = 2  # a rare class: 3 samples, 4 dimensions
    est = gib.get_estimator("gcmi")
    fast, direct = est.leave_one_out(backend.X(X), v), est.leave_one_out_direct(X, v)
    assert np.isfinite(fast.joint)
    assert max_deviation(fast, direct) < backend.tol("gcmi", 1e-9)


def test_a_single_sample_class_gives_no_warning(backend):
    import warnings

    rng = np.random.default_rng(8)
    X = rng.normal(size=(100, 3))
    v = (X[:, 0] > 0).astype(int)
    v[0] = 2  # one sample
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for w in (None, rng.random(100)):
            t = gib.leave_one_out(backend.X(X), v, estimator="gcmi", weights=w)
            assert np.isfinite(t.joint)
            assert np.isfinite(gib.mutual_information(X, v, estimator="gcmi", weights=w))


def test_equal_weights_give_an_integer_effective_size():
    from gib.estimators.gcmi import kish_n

    for m in range(2, 60):
        for value in (0.37, 1 / 3, 0.1, 7.0):
            w = np.full(m, value)
            w = w / w.sum()
            assert kish_n(float(w @ w)) == m
    w = np.array([0.5, 0.25, 0.25])
    assert kish_n(float(w @ w)) == pytest.approx(1 / 0.375)  # unequal weights keep Kish's value


def test_a_class_with_as_many_samples_as_columns_under_class_weights(backend):
    """PMI-style weights (constant within a class) on a class of exactly n samples: its
    effective size must be n, so it counts as too small; n + 4e-15 once gave ~1e12 bits."""
    rng = np.random.default_rng(0)
    N, n = 3277, 12
    X = rng.integers(0, 2, (N, n)).astype(float)
    v = np.zeros(N, dtype=int)
    v[:n] = 1
    w = np.ones(N)
    w[:n] = 0.37 * 7
    fast = get_estimator("gcmi").leave_one_out(backend.X(X), v, w / w.sum())
    direct = get_estimator("gcmi").leave_one_out_direct(X, v, w / w.sum())
    for result in (fast, direct):
        values = np.concatenate([[result.joint], result.single, result.complement])
        assert np.all(np.isfinite(values)) and np.all(np.abs(values) < 0.1)
    assert max_deviation(fast, direct) < 1e-6


@pytest.mark.parametrize("class_size", [2, 5, 11, 12])
def test_small_classes_count_for_the_subsets_they_are_large_enough_for(backend, class_size):
    """Fast path = direct per-subset computation for a class of 2..n samples in n = 12 columns
    (too small for H(X | y); large enough for every H(X_i | y), and for H(X_-i | y) at n)."""
    rng = np.random.default_rng(class_size)
    N, n = 400, 12
    X = rng.normal(size=(N, n))
    v = rng.integers(0, 3, N)
    v[:class_size] = 3
    w = rng.uniform(0.5, 2.0, N) * np.where(v == 3, 5.0, 1.0)
    for weights in (None, w):
        fast = get_estimator("gcmi").leave_one_out(backend.X(X), v, weights)
        direct = get_estimator("gcmi").leave_one_out_direct(X, v, weights)
        assert max_deviation(fast, direct) < 1e-6
