"""Degenerate columns in ``kde`` and ``gcmi`` (SPEC 3): constant over all samples (dropped: no
information), constant within one class of a discrete target (``kde``'s ``min_class_sigma``
floor, ``gcmi``'s ``ridge``), columns determined by others (``gcmi``'s ``ridge``). These are
ordinary training data (a dead ReLU unit, a unit dead for one class), not bad input.

The fast leave-one-out paths must still equal the plain per-subset computation, on every
backend (the ``backend`` fixture, conftest.py)."""

import math

import numpy as np
import pytest

import gib
from gib.estimators import gcmi as gcmi_module

# Deliberately these two: the estimators with options for columns constant within a class
# (kde's min_class_sigma, gcmi's ridge); every estimator's constant columns are checked by
# test_conformance.py's leave-one-out against the direct computation.
ESTIMATORS = ["kde", "gcmi"]


def deviation(a, b):
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


def data(seed, N=90, n=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, n)) * np.linspace(0.5, 2.0, n)
    X[:, -1] += X[:, 0]
    labels = rng.integers(0, 3, N)
    weights = rng.random(N)
    weights[[2, 5]] = 0.0
    return rng, X, labels, weights


def targets(rng, X, labels):
    N = len(X)
    return {
        "labels": labels,
        "labels-2d": np.column_stack([labels, X[:, 1] > 0]),
        "continuous": X[:, 1] + rng.normal(size=N),
        "continuous-2d": np.column_stack([X[:, 3] + rng.normal(size=N), rng.normal(size=N)]),
    }


# -- constant over all samples: dropped ----------------------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("weighted", [False, True])
def test_constant_columns_carry_no_information(backend, name, weighted):
    rng, X, labels, weights = data(1)
    w = weights if weighted else None
    Xc = np.insert(X, [1, 3], 2.5, axis=1)  # constant columns 1 and 4 (of 7)
    constant, varying = [1, 4], [0, 2, 3, 5, 6]
    est = gib.get_estimator(name)
    for label, v in targets(rng, X, labels).items():
        fast, direct = est.leave_one_out(backend.X(Xc), v, w), est.leave_one_out_direct(Xc, v, w)
        assert deviation(fast, direct) < backend.tol(name, 1e-9), label
        plain = est.leave_one_out(backend.X(X), v, w)  # the varying columns alone
        assert fast.joint == pytest.approx(plain.joint, abs=1e-12), label
        np.testing.assert_allclose(fast.single[varying], plain.single, atol=1e-12)
        np.testing.assert_allclose(fast.complement[varying], plain.complement, atol=1e-12)
        assert np.all(fast.single[constant] == 0.0) and np.all(fast.complement[constant] == fast.joint)
        assert est.mutual_information(Xc, v, w) == pytest.approx(plain.joint, abs=1e-12)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_constant_among_positive_weights_is_constant(backend, name):
    # Column 1 varies only at samples of zero weight: under the weights it is constant.
    rng, X, labels, _ = data(2)
    w = np.ones(len(X))
    w[:10] = 0.0
    X[10:, 1] = 0.0
    est = gib.get_estimator(name)
    t = est.leave_one_out(backend.X(X), labels, w)
    assert deviation(t, est.leave_one_out_direct(X, labels, w)) < backend.tol(name, 1e-9)
    assert t.single[1] == 0.0 and t.complement[1] == t.joint
    assert t.joint == pytest.approx(est.mutual_information(np.delete(X[10:], 1, axis=1), labels[10:]), abs=1e-9)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_all_or_all_but_one_column_constant(backend, name):
    rng, X, labels, _ = data(3)
    est = gib.get_estimator(name)
    dead = np.zeros((len(X), 3))
    for v in (labels, X[:, 0] + rng.normal(size=len(X))):
        t = est.leave_one_out(backend.X(dead), v)
        assert t.joint == 0.0 and np.all(t.single == 0.0) and np.all(t.complement == 0.0)
        assert est.mutual_information(dead, v) == 0.0
        one = dead.copy()
        one[:, 1] = X[:, 0]
        t = est.leave_one_out(backend.X(one), v)
        assert deviation(t, est.leave_one_out_direct(one, v)) < backend.tol(name, 1e-9)
        assert t.joint == pytest.approx(est.mutual_information(X[:, 0], v), abs=1e-12)
        np.testing.assert_array_equal(t.single, [0.0, t.joint, 0.0])
        np.testing.assert_array_equal(t.complement, [t.joint, 0.0, t.joint])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_constant_continuous_target(backend, name):
    rng, X, labels, _ = data(4)
    est = gib.get_estimator(name)
    ones = np.ones(len(X))
    t = est.leave_one_out(backend.X(X), ones)
    assert t.joint == 0.0 and np.all(t.single == 0.0) and np.all(t.complement == 0.0)
    assert est.mutual_information(X, ones) == 0.0 and est.mutual_information(ones, X) == 0.0
    v = X[:, 0] + rng.normal(size=len(X))
    with_constant = np.column_stack([v, ones])
    assert deviation(est.leave_one_out(backend.X(X), with_constant), est.leave_one_out(X, v)) < backend.tol(name, 1e-12)
    assert est.mutual_information(X, with_constant) == pytest.approx(est.mutual_information(X, v), abs=1e-12)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_entropy_of_a_constant_column_is_an_error(name):
    # a differential entropy of -inf (kde), arbitrary copula ranks (gcmi)
    X = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(ValueError, match=r"`a` has constant column\(s\) \[1\]"):
        gib.get_estimator(name).entropy(X)


# -- constant within one class -------------------------------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("weighted", [False, True])
def test_constant_within_a_class(backend, name, weighted):
    rng, X, labels, weights = data(5)
    w = weights if weighted else None
    X[labels == 1, 0] = 0.0  # a unit dead for class 1
    X[labels == 2, 3] = 1.5  # another, for class 2
    est = gib.get_estimator(name)
    for v in (labels, np.column_stack([labels, X[:, 1] > 0])):
        fast, direct = est.leave_one_out(backend.X(X), v, w), est.leave_one_out_direct(X, v, w)
        assert np.isfinite(fast.joint) and np.all(np.isfinite(fast.single)) and np.all(np.isfinite(fast.complement))
        assert deviation(fast, direct) < backend.tol(name, 1e-9)
    # the dead units are nearly class-determined: far more information than the live ones
    assert fast.single[0] > 1.0 and fast.single[3] > 1.0 and max(abs(fast.single[[1, 2, 4]])) < 1.0


def test_kde_class_floor_caps_the_information():
    # Only class 1's sigma of the column is floored, so halving the floor's fraction adds
    # exactly p(1) * log2(2) bits (its entropy term log(floor) is all that changes).
    rng, X, labels, _ = data(6)
    a = X[:, 1].copy()
    a[labels == 1] = 0.0
    p1 = np.mean(labels == 1)
    mi = [gib.get_estimator("kde", min_class_sigma=s).mutual_information(a, labels) for s in (1e-3, 5e-4)]
    assert mi[1] - mi[0] == pytest.approx(p1, abs=1e-12)
    # and it is the floor: H(A | Y=1) is a kernel of width factor * floor at distance 0
    est = gib.get_estimator("kde")
    n1 = np.count_nonzero(labels == 1)
    sigma = np.std(a, ddof=1)
    h1 = 0.5 * math.log(2 * math.pi) + math.log(1e-3 * sigma * n1 ** (-1 / 5))  # nats
    expected = est.entropy(a) - sum(
        np.mean(labels == k) * (est.entropy(a[labels == k]) if k != 1 else h1 / math.log(2)) for k in (0, 1, 2)
    )
    assert mi[0] == pytest.approx(expected, abs=1e-9)


def test_gcmi_ridge_caps_the_information():
    # Class 1's variance of the column is 0, raised to the ridge: dividing the ridge by 100
    # adds p(1) * log2(100) / 2 bits; the other covariances are regular and used exactly.
    rng, X, labels, _ = data(7)
    a = X[:, 1:3].copy()
    a[labels == 1, 0] = 0.0
    p1 = np.mean(labels == 1)
    mi = [gib.get_estimator("gcmi", ridge=r).mutual_information(a, labels) for r in (1e-6, 1e-8)]
    assert mi[1] - mi[0] == pytest.approx(p1 * math.log2(100) / 2, abs=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_gcmi_columns_determined_by_others(backend, weighted):
    # Column 4 is a copy of column 3 (same ranks), and within class 0 column 2 = column 1:
    # the covariances are singular and take the ridge on their whole diagonal, subset by subset.
    rng, X, labels, weights = data(8)
    w = weights if weighted else None
    X[:, 4] = 2 * X[:, 3] + 1
    X[labels == 0, 2] = X[labels == 0, 1]
    est = gib.get_estimator("gcmi")
    for v in (labels, X[:, 0] + rng.normal(size=len(X))):
        fast, direct = est.leave_one_out(backend.X(X), v, w), est.leave_one_out_direct(X, v, w)
        assert np.isfinite(fast.joint)
        # ridged log-dets amplify rounding of the covariance by ~1 / ridge: 1e-16 -> 1e-10
        assert deviation(fast, direct) < backend.tol("gcmi", 1e-7)
    # a duplicated column adds nothing: dropping it leaves I(X;V) unchanged, up to O(ridge)
    # (and to the bias terms, which count dimensions: compare without them)
    cont = X[:, 0] + rng.normal(size=len(X))
    t = gib.get_estimator("gcmi", bias_correct=False).leave_one_out(backend.X(X), cont, w)
    assert t.complement[4] == pytest.approx(t.joint, abs=1e-5)


def test_regular_data_are_untouched_by_the_floors(backend):
    # No degenerate column: the options do not change a single bit of the estimates.
    rng, X, labels, weights = data(9)
    for name, option in (("kde", "min_class_sigma"), ("gcmi", "ridge")):
        a = gib.get_estimator(name).leave_one_out(backend.X(X), labels, weights)
        b = gib.get_estimator(name, **{option: 0.0}).leave_one_out(backend.X(X), labels, weights)
        assert deviation(a, b) == 0.0


@pytest.mark.parametrize("name, option", [("kde", "min_class_sigma"), ("gcmi", "ridge")])
def test_zero_restores_the_errors(backend, name, option):
    rng, X, labels, _ = data(10)
    X[labels == 1, 0] = 0.0
    est = gib.get_estimator(name, **{option: 0.0})
    match = "within the samples of class 1" if name == "kde" else r"class 1 of `v`.*singular.*zero variance"
    with pytest.raises(ValueError, match=match):
        est.leave_one_out(backend.X(X), labels)
    with pytest.raises(ValueError, match=match.replace("`v`", "`b`")):
        est.mutual_information(X, labels)


@pytest.mark.parametrize("name, option", [("kde", "min_class_sigma"), ("gcmi", "ridge")])
@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "0.1", True])
def test_bad_floor_options(name, option, bad):
    with pytest.raises(ValueError, match=option):
        gib.get_estimator(name, **{option: bad})


# -- the training case: a ReLU layer with dead units ---------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
def test_relu_layer_with_dead_units(name):
    rng = np.random.default_rng(11)
    X = rng.integers(0, 2, size=(256, 8)).astype(float)
    y = (X[:, 0] + X[:, 1] + X[:, 2] > 1).astype(int)
    T = np.maximum(X @ rng.normal(size=(8, 6)), 0.0)
    T[:, 2] = 0.0  # dead overall
    T[y == 1, 4] = 0.0  # dead for class 1
    point = gib.ib_point(T, X, y, estimator=name)
    assert np.isfinite(point.complexity) and np.isfinite(point.prediction)
    s = gib.synergy(T, y, estimator=name)
    assert np.isfinite(s)


# -- one BLAS thread on small matrices -----------------------------------------------------------
def test_one_blas_thread_on_small_matrices():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return {lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"}

    before = blas_threads()
    with gcmi_module.one_blas_thread(20):
        assert blas_threads() <= {1}
    assert blas_threads() == before
    with gcmi_module.one_blas_thread(gcmi_module.SMALL_BLAS_DIM + 1):
        assert blas_threads() == before
