"""GIB and IB points: the SPEC's reading of the paper (Theorem 1)."""

import itertools
import math

import numpy as np
import pytest

import gib


def all_bits(n):
    return np.array(list(itertools.product([0, 1], repeat=n)))


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_theorem_1_ib_objective_is_below_gib(beta):
    # a deterministic network on all 64 patterns: T determines Yhat = Y, classes balanced
    X = all_bits(6)
    y = X[:, 0] ^ X[:, 1]
    layers = {
        "identity": X,
        "xor-and-sum": np.column_stack([y, X[:, 2] + X[:, 3]]),
        "xor-only": y[:, None],
        "xor-and-noise": np.column_stack([y, X[:, 2:].sum(axis=1)]),
    }
    point = gib.gib_point(X, y, y, estimator="discrete")
    np.testing.assert_allclose(gib.pmi_weights(y, y), 1 / 64)  # balanced: uniform weights
    for name, T in layers.items():
        ib = gib.ib_point(T, X, y, estimator="discrete")
        assert ib.prediction - beta * ib.complexity <= point.objective(beta) + 1e-12, name
        # the chain of the proof: C <= mean_i I(X_i;Z) <= I(X;Z) <= I(X;T)
        assert point.complexity <= np.mean(point.single) + 1e-12
        assert np.mean(point.single) <= point.joint + 1e-12
        assert point.joint <= ib.complexity + 1e-12


def test_gib_point_of_xor():
    X = all_bits(2)
    y = X[:, 0] ^ X[:, 1]
    p = gib.gib_point(X, y, y, estimator="discrete")
    assert p.prediction == pytest.approx(1.0)
    assert p.synergy == pytest.approx(1.0)
    assert p.complexity == pytest.approx(-1.0)
    svw = gib.gib_point(X, y, y, estimator="discrete", kind="sum_vs_whole")
    assert svw.complexity == pytest.approx(-1.0)


def test_gib_targets_and_reweighting():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(400, 4))
    y = X[:, 0] ^ X[:, 1]
    yhat = y.copy()
    yhat[:40] = 1 - yhat[:40]
    pj = gib.gib_point(X, yhat, y, estimator="discrete")
    py = gib.gib_point(X, yhat, y, estimator="discrete", target="y")
    w = gib.pmi_weights(yhat, y)
    t = gib.leave_one_out(X, y, estimator="discrete", weights=w)
    assert py.complexity == pytest.approx(-gib.synergy_from(t))
    assert pj.prediction == pytest.approx(gib.mutual_information(yhat, y, estimator="discrete"))
    assert pj.joint == pytest.approx(
        gib.mutual_information(X, np.column_stack([yhat, y]), estimator="discrete", weights=w)
    )


def test_resampled_gib_point_is_seeded_and_close_to_the_weighted_one():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(20000, 3))
    y = X[:, 0] ^ X[:, 1]
    yhat = np.where(rng.random(20000) < 0.8, y, 1 - y)
    exact = gib.gib_point(X, yhat, y, estimator="discrete")
    a = gib.gib_point(X, yhat, y, estimator="discrete", resample=True, seed=3)
    b = gib.gib_point(X, yhat, y, estimator="discrete", resample=True, seed=3)
    assert a.complexity == b.complexity
    assert a.complexity == pytest.approx(exact.complexity, abs=0.02)


def test_regression_outputs_are_binned():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(1000, 2))
    y = X[:, 0] * X[:, 1]
    p = gib.gib_point(X, y + 0.01 * rng.normal(size=1000), y, estimator="binning", n_bins=10, output_bins=20)
    assert np.isfinite(p.complexity) and p.prediction > 1.0


def test_ib_point_of_the_identity_layer():
    X = all_bits(3)
    y = X[:, 0]
    ib = gib.ib_point(X, X, y, estimator="discrete")
    assert ib.complexity == pytest.approx(3.0)
    assert ib.prediction == pytest.approx(1.0)
