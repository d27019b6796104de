"""GIB and IB points: the SPEC's reading of the paper (Theorem 1), and phase detection."""

import itertools

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


# -- phases --------------------------------------------------------------------------------
def test_compression_phase_numbers_of_the_spec_example():
    # tanh GIB trajectory of SPEC 2: -0.30 up to -0.151 at epoch 100, then down to -0.173
    steps = np.arange(0, 2001, 50)
    c = np.where(steps <= 100, -0.30 + (0.149) * steps / 100, -0.151 - 0.022 * (steps - 100) / 1900)
    p = np.minimum(steps / 100, 1.0)
    phase = gib.compression_phase(c, p, steps)
    assert phase.peak_step == 100
    assert phase.drop_fraction == pytest.approx(0.022 / 0.149)
    assert phase.spearman == pytest.approx(-1.0)
    assert phase.prediction_loss == pytest.approx(0.0)
    assert phase.compresses


@pytest.mark.parametrize(
    "c, p, reason",
    [
        (np.linspace(0, 1, 20), np.linspace(0, 1, 20), "peak at the end"),
        (np.r_[np.linspace(0, 1, 10), np.linspace(1, 0.95, 10)], np.ones(20), "drop too small"),
        (np.r_[np.linspace(0, 1, 10), 0.5, np.full(9, 0.9)], np.ones(20), "not sustained"),
        (np.r_[np.linspace(0, 1, 10), np.linspace(1, 0, 10)], np.r_[np.ones(10), np.zeros(10)], "prediction lost"),
    ],
)
def test_compression_phase_rejects(c, p, reason):
    assert not gib.compression_phase(c, p).compresses, reason


def test_normalise():
    np.testing.assert_allclose(gib.normalise([2.0, 4.0, 3.0]), [0, 1, 0.5])
    np.testing.assert_allclose(gib.normalise([1.0, 1.0]), [0, 0])


def test_floating_point_noise_is_not_movement():
    flat = np.array([2.296276504800324, 2.296276504800323, 2.296276504800324])
    np.testing.assert_array_equal(gib.normalise(flat), 0.0)
    phase = gib.compression_phase(np.r_[flat, flat], np.linspace(0, 1, 6))
    assert not phase.compresses and phase.drop_fraction < 1e-6
