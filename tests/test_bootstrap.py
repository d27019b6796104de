"""Bootstrap intervals of IB and GIB points: coverage where the answer is known, the width's
1/sqrt(N) scaling, and the Monitor's rows."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import gib
from gib.measures import synergy_from
from gib.planes import GIBPlane, IBPlane, bootstrap_counts


def binary_entropy(q):
    return -q * math.log2(q) - (1 - q) * math.log2(1 - q)


def noisy_copy(rng, n, flip):
    """X uniform on {0, 1, 2, 3} and T = X with each sample replaced by a uniform value with
    probability ``flip``: I(X;T) in closed form."""
    X = rng.integers(0, 4, n)
    T = np.where(rng.random(n) < flip, rng.integers(0, 4, n), X)
    return X, T


def true_information(flip):
    # P(T = X) = 1 - flip + flip/4, the rest spread evenly over the 3 other values
    stay = 1 - flip + flip / 4
    move = (1 - stay) / 3
    return 2 + stay * math.log2(stay) + 3 * move * math.log2(move)


def test_ib_interval_covers_the_true_information():
    rng = np.random.default_rng(0)
    truth, covered, trials = true_information(0.3), 0, 60
    for trial in range(trials):
        X, T = noisy_copy(rng, 1500, 0.3)
        point = IBPlane(X, X % 2, "discrete", bootstrap=200, seed=trial).point(T)
        assert point.complexity_low <= point.complexity <= point.complexity_high
        covered += point.complexity_low <= truth <= point.complexity_high
    assert covered / trials >= 0.85, covered  # nominal 0.95; 60 trials


def test_interval_width_shrinks_as_one_over_sqrt_n():
    rng = np.random.default_rng(1)
    widths = {}
    for n in (1000, 4000):
        runs = []
        for seed in range(8):
            X, T = noisy_copy(rng, n, 0.3)
            point = gib.ib_point(T, X, X % 2, estimator="discrete", bootstrap=200, seed=seed, warn=False)
            runs.append(point.complexity_high - point.complexity_low)
        widths[n] = np.mean(runs)
    assert widths[1000] / widths[4000] == pytest.approx(2.0, rel=0.2)


def test_gib_interval_covers_the_xor_synergy_and_contains_the_point():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 2, size=(2000, 2))
    y = X[:, 0] ^ X[:, 1]
    point = gib.gib_point(X, y, y, estimator="discrete", bootstrap=200, seed=3)
    assert point.complexity_low <= point.complexity <= point.complexity_high
    assert point.prediction_low <= point.prediction <= point.prediction_high
    # a perfect XOR predictor: C = -S = -(1 - 0 - 0)/... the feature-wise synergy of Z = (Y, Y)
    plain = gib.gib_point(X, y, y, estimator="discrete")
    assert point.complexity == plain.complexity and math.isnan(plain.complexity_low)
    assert point.complexity_high - point.complexity_low < 0.1


def test_bootstrap_replicates_are_seeded_and_checked():
    a, b = bootstrap_counts(50, 30, seed=4), bootstrap_counts(50, 30, seed=4)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (30, 50) and np.all(a.sum(axis=1) == 50)
    with pytest.raises(ValueError, match="at least 20"):
        bootstrap_counts(50, 5)
    plane = GIBPlane(np.zeros((10, 2)), np.arange(10) % 2, "discrete")
    with pytest.raises(ValueError, match="bootstrap=0"):
        plane.replicates(np.arange(10) % 2)


def test_monitor_records_the_intervals():
    torch.manual_seed(0)
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(256, 6)).astype(np.float32)
    y = X[:, 0].astype(int) ^ X[:, 1].astype(int)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2))
    recorders = gib.default_recorders(estimators="discrete", ib_estimators={"b": ("binning", {"n_bins": 3})},
                                      bootstrap=50, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gib.SaturationWarning)
        with gib.Monitor(model, X, y, recorders, verbose=False) as monitor:
            frame = monitor.record(0)
    for plane in ("IB", "GIB"):
        rows = frame[frame.plane == plane]
        wide = rows.pivot_table(index=["layer", "estimator", "kind"], columns="measure", values="value")
        # the basic interval may lie beside a strongly biased estimate (module docstring of
        # gib.planes.basic_interval), but it is an interval of positive width around the replicates
        assert (wide.complexity_low < wide.complexity_high).all()
        assert (wide.prediction_low <= wide.prediction_high).all()
        assert np.isfinite(wide[["complexity_low", "complexity_high"]].to_numpy()).all()


@pytest.mark.parametrize("estimator, options, n_features, block", [
    ("binning", {"n_bins": 4}, 5, None),             # subsets with shared cells
    ("discrete", {"bias": "miller-madow"}, 6, None), # the correction counts each replicate's cells
    ("binning", {"n_bins": 30}, 8, None),            # X and every X_-i all distinct: I = H(Z) there
    ("discrete", {}, 7, 2000),                       # tables in many blocks
])
def test_replicates_of_a_plugin_plane_match_the_leave_one_out_of_each(estimator, options, n_features, block,
                                                                      monkeypatch):
    # the replicates of a bound plug-in plane are batched over replicates; each must be the
    # estimator's leave-one-out under that replicate's PMI weights
    if block is not None:
        monkeypatch.setattr(gib.planes, "_REPLICATE_CELLS", block)
    rng = np.random.default_rng(6)
    n = 400
    X = rng.normal(size=(n, n_features)) if options.get("n_bins") == 30 else rng.integers(0, 3, (n, n_features))
    y = rng.integers(0, 3, n)
    yhat = np.where(rng.random(n) < 0.3, rng.integers(0, 3, n), y)
    plane = GIBPlane(X, y, estimator, bootstrap=20, seed=2, **options)
    assert plane.bound is not None
    est = gib.get_estimator(estimator, **options)
    for r, (pieces, prediction) in enumerate(plane.replicates(yhat)):
        counts = plane.counts[r]
        joint = np.zeros((3, 3))
        np.add.at(joint, (yhat, y), counts)
        joint /= joint.sum()
        pmi = joint[yhat, y] / (joint.sum(axis=1)[yhat] * joint.sum(axis=0)[y])
        w = counts * pmi / np.sum(counts * pmi)
        with warnings.catch_warnings():  # the all-distinct case says so; that is what it tests
            warnings.simplefilter("ignore", gib.SaturationWarning)
            direct = est.leave_one_out(X, np.column_stack([yhat, y]), w)
        assert pieces.joint == pytest.approx(direct.joint, abs=1e-12)
        np.testing.assert_allclose(pieces.single, direct.single, atol=1e-12)
        np.testing.assert_allclose(pieces.complement, direct.complement, atol=1e-12)
        if "bias" not in options and X.dtype.kind == "i":
            # a replicate is the probe set with its samples repeated (where the bins do not
            # follow the resampled range: integer features, every value drawn)
            idx = np.repeat(np.arange(n), counts.astype(np.int64))
            plain = gib.gib_point(X[idx], yhat[idx], y[idx], estimator=estimator, **options)
            assert -synergy_from(pieces) == pytest.approx(plain.complexity, abs=1e-12)
            assert prediction == pytest.approx(plain.prediction, abs=1e-12)
