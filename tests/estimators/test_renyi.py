"""Tests of the matrix-based Renyi estimator ``renyi`` (SPEC 3): the fast leave-one-out path on
every backend (the ``backend`` fixture, conftest.py) against the per-subset computation, the
entropy against eigenvalues computed here from the definition, and its known properties."""

import math

import numpy as np
import pytest

import gib
from gib.estimators import get_estimator


def reference_entropy(a, alpha, scale=1.0):
    """Giraldo et al.'s S_alpha written from the definition: standardised columns, Gaussian
    kernel of width 1.06 N^(-1/5) (Silverman), K the product over columns, A = K / N,
    log2(sum lambda^alpha) / (1 - alpha) of A's eigenvalues."""
    a = np.asarray(a, dtype=float).reshape(len(a), -1)
    N = len(a)
    sigma = scale * 1.06 * N ** (-0.2)
    z = (a - a.mean(0)) / a.std(0)
    K = np.ones((N, N))
    for d in range(z.shape[1]):
        K *= np.exp(-np.subtract.outer(z[:, d], z[:, d]) ** 2 / (2 * sigma**2))
    lam = np.clip(np.linalg.eigvalsh(K / N), 0, None)
    return math.log2(np.sum(lam**alpha)) / (1 - alpha)


def data(N=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 4))
    X[:, 1] = X[:, 0] ** 2 + 0.3 * X[:, 1]
    X[:, 3] = 2.5  # constant: its Gram matrix is all ones, it adds nothing
    v = np.tanh(X[:, 0]) + 0.3 * rng.standard_normal(N)
    return X, v


@pytest.mark.parametrize("alpha", [1.01, 2.0])
@pytest.mark.parametrize("target", ["continuous", "two_columns", "classes", "weighted"])
def test_leave_one_out_matches_direct(backend, alpha, target):
    X, v = data()
    weights = None
    if target == "two_columns":
        v = np.c_[v, X[:, 2] > 0].astype(float)
    elif target == "classes":
        v = np.digitize(v, [-0.5, 0.5])
    elif target == "weighted":
        weights = np.random.default_rng(1).uniform(0, 1, len(v))
        weights[:5] = 0.0
    est = get_estimator("renyi", alpha=alpha, device=backend.device)
    fast = est.leave_one_out(backend.X(X), v, weights)
    direct = est.leave_one_out_direct(X, v, weights)
    tol = backend.tol("renyi", 1e-6)
    assert fast.joint == pytest.approx(direct.joint, abs=tol)
    np.testing.assert_allclose(fast.single, direct.single, atol=tol)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=tol)
    assert abs(fast.single[3]) < 1e-9 and fast.complement[3] == pytest.approx(fast.joint, abs=1e-9)


def test_leave_one_out_where_a_gram_matrix_underflows(backend):
    """An outlier and a narrow kernel: feature 0's Gram entries exp(-E_0) underflow to 0 (158
    of them, E_0 up to 2300), where dividing K(X) by K(X_0) would give 0/0. The division on the
    exponents has no such entries: the fast path still equals the per-subset computation."""
    X, v = data(N=80, seed=6)
    X[0, 0] = 1e3
    est = get_estimator("renyi", bandwidth_scale=0.3, device=backend.device)
    fast = est.leave_one_out(backend.X(X), v)
    direct = est.leave_one_out_direct(X, v)
    assert np.all(np.isfinite(fast.complement)) and np.isfinite(fast.joint)
    tol = backend.tol("renyi", 1e-6)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=tol)
    np.testing.assert_allclose(fast.single, direct.single, atol=tol)


@pytest.mark.parametrize("alpha", [1.01, 2.0, 3.0, 0.5])
def test_entropy_against_eigenvalues(alpha):
    X, _ = data(N=120, seed=2)
    X = X[:, :3]
    # below alpha = 1 the ~N eigenvalues that are 0 up to rounding (1e-17) enter as 1e-17^alpha:
    # the two computations' rounding then differs by ~1e-9 bits at alpha = 0.5
    tol = 1e-9 if alpha >= 1 else 1e-7
    for cols in ([0], [0, 2], [0, 1, 2]):
        ours = gib.entropy(X[:, cols], estimator="renyi", alpha=alpha)
        assert ours == pytest.approx(reference_entropy(X[:, cols], alpha), abs=tol)
    scaled = gib.entropy(X, estimator="renyi", alpha=alpha, bandwidth_scale=0.5)
    assert scaled == pytest.approx(reference_entropy(X, alpha, scale=0.5), abs=1e-9)


def test_von_neumann_limit():
    X, _ = data(N=100, seed=3)
    h1 = gib.entropy(X[:, :2], estimator="renyi", alpha=1.0)
    h = [gib.entropy(X[:, :2], estimator="renyi", alpha=1.0 + eps) for eps in (1e-3, -1e-3)]
    assert h[0] < h1 < h[1] and h[1] - h[0] < 1e-2  # Renyi entropies decrease with alpha


def test_labels_give_the_renyi_entropy_of_the_class_frequencies():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    p = np.array([0.5, 0.3, 0.2])
    for alpha in (1.01, 2.0):
        h = gib.entropy(y, estimator="renyi", alpha=alpha)
        assert h == pytest.approx(math.log2(np.sum(p**alpha)) / (1 - alpha), abs=1e-12)
        # I(Y;Y) = H(Y): the Hadamard product of a delta kernel with itself is itself
        assert gib.mutual_information(y, y, estimator="renyi", alpha=alpha) == pytest.approx(h, abs=1e-12)


def test_bounds_and_monotonicity():
    """0 <= H <= log2 N; adding a column never lowers the entropy (Giraldo et al.); joint
    entropies at least the larger marginal, hence I(X;V) <= min(H(X), H(V))."""
    X, v = data(N=100, seed=4)
    X = X[:, :3]
    N = len(X)
    for alpha in (1.01, 2.0):
        est = get_estimator("renyi", alpha=alpha)
        h = [est.entropy(X[:, :j]) for j in (1, 2, 3)]
        assert 0.0 <= h[0] <= h[1] <= h[2] <= math.log2(N)
        h_v = est.entropy(v)
        t = est.leave_one_out(X, v)
        assert t.joint <= min(h[2], h_v) + 1e-12
        assert np.all(t.complement <= t.joint + 1e-12)  # H(X_-i, V) >= ... (monotone)
        assert np.all(t.single >= 0) and t.joint >= 0  # I >= 0 on these data
    # the bounds are reached: one constant column has H = 0, separated points log2 N
    assert gib.entropy(np.full(10, 3.0), estimator="renyi") == pytest.approx(0.0, abs=1e-12)
    far = gib.entropy(np.arange(10.0), estimator="renyi", bandwidth_scale=0.01)
    assert far == pytest.approx(math.log2(10), abs=1e-9)


def test_weights_are_a_weighted_empirical_distribution():
    """0/1 weights select samples exactly; uniform weights change nothing."""
    X, v = data(N=80, seed=5)
    keep = np.random.default_rng(0).uniform(size=80) < 0.6
    est = get_estimator("renyi")
    assert est.entropy(X[:, :2], weights=keep) == pytest.approx(est.entropy(X[keep, :2]), abs=1e-9)
    assert est.mutual_information(X, v, weights=keep) == pytest.approx(
        est.mutual_information(X[keep], v[keep]), abs=1e-9
    )
    assert est.entropy(X, weights=np.full(80, 3.0)) == pytest.approx(est.entropy(X), abs=1e-12)


def test_options_and_registry():
    with pytest.raises(ValueError, match="`alpha`"):
        get_estimator("renyi", alpha=0)
    with pytest.raises(ValueError, match="`bandwidth_scale`"):
        get_estimator("renyi", bandwidth_scale=-1.0)
    assert "renyi" in gib.estimators.available_estimators()


def test_string_features_are_an_error_naming_x():
    with pytest.raises(TypeError, match="`X`"):
        gib.leave_one_out(np.array([["a", "b"]] * 5), np.arange(5.0), estimator="renyi")


def test_integer_features_take_the_delta_kernel_in_leave_one_out_too(backend):
    """Integer X is a set of labels for ``entropy`` (the delta kernel of its rows), so the fast
    leave-one-out must give the per-subset numbers, not treat the codes as continuous (ten
    levels a column: neighbouring codes would share kernel mass). With the delta kernel Y, a
    function of X, has I(X;Y) = H(Y)."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 10, size=(200, 3))
    y = (X[:, 0] + X[:, 1]) % 3
    est = get_estimator("renyi", alpha=2.0, device=backend.device)
    fast, direct = est.leave_one_out(backend.X(X), y), est.leave_one_out_direct(X, y)
    assert fast.joint == pytest.approx(direct.joint, abs=1e-9)
    np.testing.assert_allclose(fast.single, direct.single, atol=1e-9)
    np.testing.assert_allclose(fast.complement, direct.complement, atol=1e-9)
    assert direct.joint == pytest.approx(gib.entropy(y, estimator="renyi", alpha=2.0), abs=1e-9)


@pytest.mark.parametrize("scale", [1e160, 1e-200, 1e300, 2.0**-1000])
def test_any_scale_gives_the_unscaled_values(backend, scale):
    """Columns are brought to unit size by a power of two before they are standardised, so no
    square overflows (1e160) or underflows (1e-200): every value is that of the unscaled data."""
    X, v = data(N=60, seed=7)
    X = X[:, :3]
    est = get_estimator("renyi", device=backend.device)
    tol = backend.tol("renyi", 1e-9)
    assert est.entropy(X * scale) == pytest.approx(est.entropy(X), abs=1e-9)
    assert est.mutual_information(X * scale, v) == pytest.approx(est.mutual_information(X, v), abs=1e-9)
    fast, plain = est.leave_one_out(backend.X(X * scale), v * scale), est.leave_one_out(X, v)
    assert fast.joint == pytest.approx(plain.joint, abs=tol)
    np.testing.assert_allclose(fast.complement, plain.complement, atol=tol)
    np.testing.assert_allclose(
        gib.total_correlation(X * scale, est, per_feature=True), gib.total_correlation(X, est, per_feature=True),
        atol=tol,
    )


def test_values_at_the_float_limits_are_those_of_their_signs():
    signs = np.sign(np.random.default_rng(8).normal(size=(40, 3)))
    y = (signs[:, 0] > 0).astype(int)
    for extreme in (signs * 1.7e308, signs * 5e-324):
        assert gib.entropy(extreme, estimator="renyi") == pytest.approx(gib.entropy(signs, estimator="renyi"), abs=1e-9)
        assert gib.synergy(extreme, y, estimator="renyi") == pytest.approx(gib.synergy(signs, y, estimator="renyi"),
                                                                           abs=1e-9)


def test_large_orders_tend_to_the_min_entropy():
    """S_alpha = log2(sum p^alpha) / (1 - alpha): at alpha = 500 every p^alpha underflows, so the
    sum must be taken relative to the largest (p = 1/2 here): 500/499 bits; then 1 bit."""
    y = np.repeat([0, 1, 2], [50, 30, 20])
    assert gib.entropy(y, estimator="renyi", alpha=500) == pytest.approx(500 / 499, abs=1e-12)
    assert gib.entropy(y, estimator="renyi", alpha=1e300) == pytest.approx(1.0, abs=1e-12)
    X, v = data(N=60, seed=9)
    h = [gib.entropy(X[:, :2], estimator="renyi", alpha=alpha) for alpha in (3.0, 50.0, 500.0, 1e300)]
    assert np.all(np.isfinite(h)) and np.all(np.diff(h) <= 1e-12)  # Renyi entropies fall with the order
    mi = gib.mutual_information(X, np.digitize(v, [0.0]), estimator="renyi", alpha=500)
    assert np.isfinite(mi)


def test_orders_near_one_keep_their_digits():
    """Near alpha = 1 the entropy is within O(|alpha - 1|) of the von Neumann one; the plain
    formula would lose ~1e-16 / |1 - alpha| bits to rounding."""
    X, _ = data(N=80, seed=10)
    h1 = gib.entropy(X[:, :2], estimator="renyi", alpha=1.0)
    for eps in (1e-9, -1e-9, 1e-12):
        assert gib.entropy(X[:, :2], estimator="renyi", alpha=1.0 + eps) == pytest.approx(h1, abs=1e-7)


@pytest.mark.parametrize("option, value", [("alpha", 0.3), ("alpha", 1e-300), ("bandwidth_scale", 1e-300),
                                           ("bandwidth_scale", 1e300)])
def test_unusable_options_are_refused_naming_them(option, value):
    with pytest.raises(ValueError, match=f"`{option}` must be"):
        get_estimator("renyi", **{option: value})
