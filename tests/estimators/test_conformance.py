"""The checks every estimator must pass, run over ``gib.available_estimators()`` on every backend
(the ``backend`` fixture, conftest.py), as scikit-learn's ``check_estimator``: a new estimator
registered with :func:`gib.estimators.register` is checked here without editing this file.

What an estimator declares is read from it, never from a list of names: ``supports_weights``
(takes sample weights), a subclass of :class:`gib.estimators.PlugInEstimator` (a histogram
estimator: entropies of counts, never negative, and I(A;A) = H(A) exactly). The one estimator
exempt from a check is named with its reason.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gib
from gib.estimators import PlugInEstimator

ESTIMATORS = gib.available_estimators()
PLUGIN_TOL, OTHER_TOL = 1e-9, 1e-6  # bits: fast path against the direct computation, NumPy
#: estimators that answer a different question than a symmetric estimate of I(A;B), and why
NOT_SYMMETRIC = {"kde_upper": "an upper bound on I(A; A + noise): the noise is added to the first argument only"}
#: estimators whose estimate for independent variables is not near 0, and why
BIASED_UP = {"kde_upper": "an upper bound, not an estimate: above the truth by construction"}

pytestmark = pytest.mark.filterwarnings("ignore::gib.SaturationWarning")


def plug_in(name: str) -> bool:
    return isinstance(gib.get_estimator(name), PlugInEstimator)


def own_tol(name: str) -> float:
    return PLUGIN_TOL if plug_in(name) else OTHER_TOL


def deviation(a, b) -> float:
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


def features(name: str, rng: np.random.Generator, N: int = 120, n: int = 4) -> np.ndarray:
    """N x n correlated features, integer-valued for the ``discrete`` estimator (it takes the
    values as they are: continuous values would all be distinct)."""
    X = rng.normal(size=(N, n)) * np.linspace(0.3, 2.0, n)
    X[:, -1] += X[:, 0]
    return np.round(X).astype(np.int64) if name == "discrete" else X


def targets(rng: np.random.Generator, X: np.ndarray) -> dict:
    labels = (X[:, 0] > 0).astype(np.int64) + (rng.random(len(X)) < 0.3)
    return {"labels": labels, "continuous": X[:, 1] + rng.normal(size=len(X))}


# -- leave-one-out: fast path = direct per-subset computation, on every backend -----------------
@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("target", ["labels", "continuous"])
def test_leave_one_out_equals_the_direct_computation(backend, name, target):
    rng = np.random.default_rng(11)
    X = features(name, rng)
    v = targets(rng, X)[target]
    expected = gib.get_estimator(name).leave_one_out_direct(X, v)
    tol = backend.tol(name, own_tol(name))
    on_device = gib.get_estimator(name, device=backend.device)
    for got in (on_device.leave_one_out(X, v), gib.get_estimator(name).leave_one_out(backend.X(X), v)):
        assert isinstance(got.single, np.ndarray) and got.single.shape == got.complement.shape == (X.shape[1],)
        assert deviation(got, expected) < tol
    # I(X;V) of the leave-one-out is the estimator's own mutual information
    assert expected.joint == pytest.approx(gib.get_estimator(name).mutual_information(X, v), abs=1e-12)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_same_numbers_on_numpy_and_torch(backend, name):
    rng = np.random.default_rng(12)
    X = features(name, rng)
    v = targets(rng, X)["labels"]
    numpy_result = gib.get_estimator(name).leave_one_out(X, v)
    device_result = gib.get_estimator(name, device=backend.device).leave_one_out(backend.X(X), v)
    assert deviation(device_result, numpy_result) < backend.tol(name, own_tol(name))
    h_numpy = gib.get_estimator(name).entropies(X)
    h_device = gib.get_estimator(name, device=backend.device).entropies(backend.X(X))
    assert deviation(h_device, h_numpy) < backend.tol(name, own_tol(name))


# -- weights ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
def test_weights_as_declared(backend, name):
    rng = np.random.default_rng(13)
    X = features(name, rng)
    v = targets(rng, X)["labels"]
    est = gib.get_estimator(name, device=backend.device)
    tol = backend.tol(name, own_tol(name))
    unweighted = est.leave_one_out(X, v)
    # uniform weights, whatever their scale, are no weights
    assert deviation(est.leave_one_out(X, v, np.full(len(X), 3.0)), unweighted) < tol
    # 0/1 weights select samples: the rows at a column's extremes keep weight 1, so that a binning
    # of the selected samples has the same edges as one of all samples
    keep = rng.random(len(X)) < 0.7
    keep[np.argmin(X, axis=0)] = keep[np.argmax(X, axis=0)] = True
    if est.supports_weights:
        selected = est.leave_one_out(X[keep], v[keep])
        assert deviation(est.leave_one_out(X, v, keep.astype(float)), selected) < tol
        assert est.entropy(X[:, :1], keep.astype(float)) == pytest.approx(est.entropy(X[keep, :1]), abs=tol)
    else:
        for call in (lambda: est.leave_one_out(X, v, keep.astype(float)),
                     lambda: est.mutual_information(X, v, keep.astype(float))):
            with pytest.raises(ValueError, match="`weights`"):
                call()


# -- identities and closed forms --------------------------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
def test_mutual_information_is_symmetric(name):
    if name in NOT_SYMMETRIC:
        pytest.skip(NOT_SYMMETRIC[name])
    rng = np.random.default_rng(14)
    a = features(name, rng, N=300, n=2)
    b = a[:, :1] + (rng.integers(-1, 2, size=(300, 1)) if name == "discrete" else rng.normal(size=(300, 1)))
    est = gib.get_estimator(name)
    assert est.mutual_information(a, b) == pytest.approx(est.mutual_information(b, a), abs=own_tol(name))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_independent_variables_carry_near_zero_information(name):
    if name in BIASED_UP:
        pytest.skip(BIASED_UP[name])
    rng = np.random.default_rng(15)
    a = features(name, rng, N=2000, n=1)
    labels = rng.integers(0, 3, 2000)  # drawn apart from a
    est = gib.get_estimator(name)
    assert abs(est.mutual_information(a, labels)) < 0.05  # bits; the dependent pair below has ~1
    assert est.mutual_information(a, (a[:, 0] > 0).astype(np.int64)) > 0.5


@pytest.mark.parametrize("name", ESTIMATORS)
def test_entropy_of_a_histogram_estimator_is_not_negative(name):
    if not plug_in(name):
        pytest.skip("a differential entropy (continuous data) can be negative")
    rng = np.random.default_rng(16)
    est = gib.get_estimator(name)
    for scale in (1e-3, 1.0, 1e3):
        assert est.entropy(features(name, rng, n=2) * (1 if name == "discrete" else scale)) >= 0.0
    assert est.entropy(np.zeros((50, 1))) == 0.0  # one value: no uncertainty
    # four equally likely values: 2 bits
    assert est.entropy(np.repeat(np.arange(4), 25)[:, None]) == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_copied_variable_shares_its_entropy_under_plug_in(name):
    if not plug_in(name):
        pytest.skip("I(A;A) is infinite for continuous A; only counts give H(A)")
    rng = np.random.default_rng(17)
    a = features(name, rng, n=2)
    est = gib.get_estimator(name)
    assert est.mutual_information(a, a) == pytest.approx(est.entropy(a), abs=1e-12)
    h = est.entropies(a)
    assert h.joint == pytest.approx(est.entropy(a), abs=1e-12)


# -- bad input gets a clear error ---------------------------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_options_and_inputs_get_clear_errors(name):
    accepted = [p for p in inspect.signature(type(gib.get_estimator(name)).__init__).parameters if p != "self"]
    with pytest.raises(TypeError, match=r"unknown option\(s\) `no_such_option` for estimator") as caught:
        gib.get_estimator(name, no_such_option=1)
    assert all(option in str(caught.value) for option in accepted)  # the message lists what it takes
    with pytest.raises(ValueError, match="`device`"):
        gib.get_estimator(name, device="gpu")
    with pytest.raises(TypeError, match="estimator instance"):
        gib.get_estimator(gib.get_estimator(name), device="cpu")
    est = gib.get_estimator(name)
    rng = np.random.default_rng(18)
    X = features(name, rng)
    v = targets(rng, X)["labels"]
    with pytest.raises(ValueError, match="at least 2 features"):
        est.leave_one_out(X[:, :1], v)
    with pytest.raises(ValueError, match="Mismatched"):
        est.leave_one_out(X, v[:-1])
    with pytest.raises(ValueError, match="`weights`"):
        est.leave_one_out(X, v, np.ones(len(X) - 1))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_constant_column_carries_no_information(backend, name):
    rng = np.random.default_rng(19)
    X = features(name, rng)
    v = targets(rng, X)["labels"]
    with_constant = np.insert(X, 2, 1, axis=1)  # a dead unit: column 2 of 5
    est = gib.get_estimator(name, device=backend.device)
    got, without = est.leave_one_out(backend.X(with_constant), v), est.leave_one_out(X, v)
    tol = backend.tol(name, own_tol(name))
    assert got.single[2] == pytest.approx(0.0, abs=tol)
    assert got.complement[2] == pytest.approx(got.joint, abs=tol)
    assert got.joint == pytest.approx(without.joint, abs=tol)
    np.testing.assert_allclose(np.delete(got.single, 2), without.single, rtol=0, atol=tol)
