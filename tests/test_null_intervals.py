"""Bootstrap intervals of the GIB plane's references (the null predictor and C*): against a
direct computation on the resampled probe set, C* where it is known in closed form, the width's
1/sqrt(N) scaling, pairing with the network's replicates, caching, and the recorder's rows."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import gib
from gib.planes import basic_interval, bootstrap_counts, difference_interval
from gib.recorders import GIBRecorder

REFERENCE_INTERVALS = ("null_complexity_low", "null_complexity_high", "null_prediction_low", "null_prediction_high",
                       "reference_complexity_low", "reference_complexity_high", "null_difference_low",
                       "null_difference_high")


def noisy_xor(rng, n, n_features=3, flip=0.1):
    """Binary features; y = x0 xor x1, flipped on a fraction ``flip`` of the samples."""
    X = rng.integers(0, 2, size=(n, n_features))
    y = (X[:, 0] ^ X[:, 1]) ^ (rng.random(n) < flip)
    return X.astype(np.float32), y.astype(np.int64)


def resampled(counts):
    """The rows of the replicate with these counts: sample k repeated counts[k] times."""
    return np.repeat(np.arange(len(counts)), counts.astype(np.int64))


def direct_null(X, y, accuracy, idx, family, seeds, kind, resolution=0.01):
    """The seed-averaged, grid-interpolated null (C, P) computed with the plain functions on the
    rows ``idx`` of a replicate: each seed's null predictions on the whole probe set, then
    ``gib_point`` of the resampled rows."""
    steps = round(1 / resolution)
    where = accuracy * steps
    if abs(where - round(where)) < 1e-9:
        bracket = [(round(where), 1.0)]
    else:
        lo = math.floor(where)
        bracket = [(lo, 1 - (where - lo)), (lo + 1, where - lo)]
    c = p = 0.0
    for index, weight in bracket:
        points = [gib.gib_point(X[idx], gib.null_predictions(X, y, index / steps, family, seed)[idx], y[idx],
                                estimator="discrete", kind=kind) for seed in seeds]
        c += weight * np.mean([point.complexity for point in points])
        p += weight * np.mean([point.prediction for point in points])
    return c, p


@pytest.mark.parametrize("family, kind", [("linear", "featurewise"), ("random", "sum_vs_whole")])
def test_null_replicates_are_the_null_of_the_resampled_probe_set(family, kind):
    rng = np.random.default_rng(0)
    X, y = noisy_xor(rng, 300)
    null = gib.NullReference(X, y, family=family, n_seeds=2, seed=4, estimator="discrete")
    counts = bootstrap_counts(300, 20, seed=7)
    accuracy = 0.703  # between the grid accuracies 0.70 and 0.71, unevenly: interpolated
    complexity, prediction = null.replicates_at(accuracy, counts, kind=kind)
    assert complexity.shape == prediction.shape == (20,)
    for r in (0, 11, 19):
        c, p = direct_null(X, y, accuracy, resampled(counts[r]), family, [4, 5], kind)
        assert complexity[r] == pytest.approx(c, abs=1e-10)
        assert prediction[r] == pytest.approx(p, abs=1e-10)


def test_reference_replicates_are_c_star_of_the_resampled_probe_set():
    rng = np.random.default_rng(1)
    X, y = noisy_xor(rng, 300)
    null = gib.NullReference(X, y, n_seeds=1, estimator="discrete")
    counts = bootstrap_counts(300, 20, seed=2)
    for kind in ("featurewise", "sum_vs_whole"):
        star = null.reference_replicates(counts, kind=kind)
        for r in (0, 9):
            idx = resampled(counts[r])
            direct = gib.gib_reference(X[idx], y[idx], estimator="discrete", kind=kind).complexity_star
            assert star[r] == pytest.approx(direct, abs=1e-10)


def test_c_star_interval_in_closed_form():
    # every feature a copy of a binary y: under the perfect predictor's PMI weights the classes
    # weigh 1/2 each on any replicate, and every I(X_S;Z) with S non-empty is H(Y) = 1 bit, so
    # C* = -mean(1 - 1 - 1) = 1 (feature-wise) and 3 * 1 - 1 = 2 (sum vs whole) on every replicate
    rng = np.random.default_rng(2)
    y = (rng.random(500) < 0.3).astype(np.int64)
    X = np.column_stack([y, y, y]).astype(np.float32)
    null = gib.NullReference(X, y, n_seeds=1, estimator="discrete")
    counts = bootstrap_counts(500, 50, seed=3)
    for kind, c_star in (("featurewise", 1.0), ("sum_vs_whole", 2.0)):
        assert null.reference_for(kind).complexity_star == pytest.approx(c_star, abs=1e-12)
        replicates = null.reference_replicates(counts, kind=kind)
        np.testing.assert_allclose(replicates, c_star, atol=1e-12)
        low, high = basic_interval(replicates, c_star)
        assert low == pytest.approx(c_star, abs=1e-12) and high == pytest.approx(c_star, abs=1e-12)


def record_one(X, y, null, bootstrap, seed, steps=1, **options):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.Tanh(), nn.Linear(8, 2))
    recorders = gib.default_recorders(estimators="discrete", ib_estimators=[], null=null, bootstrap=bootstrap,
                                      seed=seed, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gib.SaturationWarning)
        with gib.Monitor(model, X, y, recorders, verbose=False) as monitor:
            for step in range(steps):
                monitor.record(step)
        yhat = model(torch.as_tensor(X)).argmax(dim=1).numpy()
    return monitor.frame, yhat


def test_recorded_intervals_match_a_direct_computation():
    rng = np.random.default_rng(3)
    X, y = noisy_xor(rng, 301)  # accuracies k / 301 lie between the grid's (0.01 apart): interpolated
    null = gib.NullReference(X, y, n_seeds=2, estimator="discrete")
    frame, yhat = record_one(X, y, null, bootstrap=20, seed=6)
    rows = frame[frame.plane == "GIB"].set_index("measure").value
    counts = bootstrap_counts(301, 20, seed=6)  # the plane's replicates: drawn from the recorder's seed
    accuracy = float(np.mean(yhat == y))
    assert rows["null_accuracy"] == accuracy and abs(accuracy * 100 - round(accuracy * 100)) > 0.1
    network, null_c, null_p, star = [], [], [], []
    for r in range(20):
        idx = resampled(counts[r])
        network.append(gib.gib_point(X[idx], yhat[idx], y[idx], estimator="discrete").complexity)
        c, p = direct_null(X, y, accuracy, idx, "linear", [0, 1], "featurewise")
        null_c.append(c)
        null_p.append(p)
        star.append(gib.gib_reference(X[idx], y[idx], estimator="discrete").complexity_star)
    expected = {
        "null_complexity": basic_interval(null_c, rows["null_complexity"]),
        "null_prediction": basic_interval(null_p, rows["null_prediction"]),
        "reference_complexity": basic_interval(star, rows["reference_complexity"]),
        "null_difference": basic_interval(np.subtract(network, null_c),
                                          rows["complexity"] - rows["null_complexity"]),
        "complexity": basic_interval(network, rows["complexity"]),
    }
    for measure, (low, high) in expected.items():
        assert rows[f"{measure}_low"] == pytest.approx(low, abs=1e-9), measure
        assert rows[f"{measure}_high"] == pytest.approx(high, abs=1e-9), measure


def test_intervals_contain_the_point_values():
    # few features and many samples: the plug-in bias is small and the basic interval sits
    # around each estimate (gib.planes.basic_interval)
    rng = np.random.default_rng(4)
    X, y = noisy_xor(rng, 2000)
    frame, _ = record_one(X, y, "linear", bootstrap=100, seed=2, synergy_kinds=("featurewise", "sum_vs_whole"))
    gib_rows = frame[frame.plane == "GIB"]
    assert set(REFERENCE_INTERVALS) <= set(gib_rows.measure)
    for kind, rows in gib_rows.groupby("kind"):
        value = rows.set_index("measure").value
        for measure in ("null_complexity", "null_prediction", "reference_complexity", "complexity"):
            assert value[f"{measure}_low"] <= value[measure] <= value[f"{measure}_high"], (kind, measure)
        difference = value["complexity"] - value["null_complexity"]
        assert value["null_difference_low"] <= difference <= value["null_difference_high"], kind
        assert value["null_complexity_high"] - value["null_complexity_low"] > 0


def test_null_interval_width_shrinks_as_one_over_sqrt_n():
    rng = np.random.default_rng(5)
    widths = {}
    for n in (500, 2000):
        runs = []
        for seed in range(6):
            X, y = noisy_xor(rng, n)
            null = gib.NullReference(X, y, family="random", n_seeds=1, seed=seed, estimator="discrete")
            accuracy = 0.8  # a grid accuracy: one null point per replicate
            complexity, _ = null.replicates_at(accuracy, bootstrap_counts(n, 200, seed=seed))
            low, high = basic_interval(complexity, null.at(accuracy)[0])
            runs.append(high - low)
        widths[n] = np.mean(runs)
    assert widths[500] / widths[2000] == pytest.approx(2.0, rel=0.25)


def test_difference_interval_is_paired():
    # two estimates that move together from replicate to replicate: their difference is known
    # on every replicate, so its interval is a point although each of the two is wide
    rng = np.random.default_rng(6)
    a = rng.normal(size=200)
    low, high = difference_interval(a + 0.5, a, 0.7, 0.2)
    assert low == pytest.approx(0.5) and high == pytest.approx(0.5)
    assert basic_interval(a, 0.2)[1] - basic_interval(a, 0.2)[0] > 3


def test_replicates_are_computed_once_and_only_when_asked():
    rng = np.random.default_rng(7)
    X, y = noisy_xor(rng, 200)
    null = gib.NullReference(X, y, n_seeds=2, estimator="discrete")
    plain, _ = record_one(X, y, null, bootstrap=0, seed=1, steps=2)
    assert not (set(REFERENCE_INTERVALS) | {"complexity_low"}) & set(plain.measure)
    assert null._replicates == {} and null._reference_replicates == {}
    calls = []
    original = gib.planes.GIBPlane.replicates

    def counted(self, yhat, counts=None):
        calls.append(counts is not None)
        return original(self, yhat, counts)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gib.planes.GIBPlane, "replicates", counted)
        first, _ = record_one(X, y, null, bootstrap=20, seed=1, steps=2)  # the same accuracy twice
        references = sum(calls)
        # the null's seeds at one or two grid accuracies, and C*
        assert references in (2 + 1, 4 + 1)
        again, _ = record_one(X, y, null, bootstrap=20, seed=1, steps=1)  # another Monitor, the same counts
        assert sum(calls) == references
        record_one(X, y, null, bootstrap=20, seed=2, steps=1)  # other counts: computed for them
        assert sum(calls) == 2 * references
    # the rows without bootstrap are the same numbers with it
    shared = first[first.measure.isin(plain.measure.unique())].reset_index(drop=True)
    np.testing.assert_array_equal(shared.value.to_numpy(), plain.value.to_numpy())


def test_bad_values_are_refused_with_clear_errors():
    rng = np.random.default_rng(8)
    X, y = noisy_xor(rng, 100)
    null = gib.NullReference(X, y, n_seeds=1, estimator="discrete")
    counts = bootstrap_counts(100, 20)
    with pytest.raises(ValueError, match=r"`counts` must be bootstrap counts of shape \(replicates, 100\)"):
        null.replicates_at(0.5, bootstrap_counts(99, 20))
    with pytest.raises(ValueError, match="`counts` must hold non-negative whole counts"):
        null.replicates_at(0.5, counts / 2)
    with pytest.raises(ValueError, match="`counts` must hold non-negative whole counts"):
        null.reference_replicates(np.where(counts > 0, -counts, counts))
    with pytest.raises(ValueError, match="`accuracy`"):
        null.replicates_at(1.5, counts)
    with pytest.raises(ValueError, match="`kind`"):
        null.replicates_at(0.5, counts, kind="pairwise")
    with pytest.raises(ValueError, match="same length"):
        difference_interval(np.zeros(20), np.zeros(21), 0.0, 0.0)
    for bad, message in ((5, "at least 20"), (-1, "positive integer"), (True, "positive integer"),
                         ("200", "positive integer"), (20.5, "positive integer")):
        with pytest.raises(ValueError, match=f"`bootstrap`.*{message}"):
            GIBRecorder("discrete", null="linear", bootstrap=bad)
        with pytest.raises(ValueError, match=f"`bootstrap`.*{message}"):
            gib.default_recorders(estimators="discrete", ib_estimators="binning", null="linear", bootstrap=bad)
