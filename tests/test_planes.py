"""GIB and IB points: the SPEC's reading of the paper (Theorem 1), and phase detection."""

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


# -- the plateau-proof rule (SPEC 2 "Phases") ------------------------------------------------
def _plateau(noise=3.5e-4, seed=0):
    """tanh-like GIB: up 0.15 bits by step 30, down 12.5% of the range by step 60, then a plateau
    flat to within ``noise`` bits for 76 record steps (ties and wiggles)."""
    rng = np.random.default_rng(seed)
    rise = np.linspace(-0.30, -0.15, 31)
    fall = np.linspace(-0.15, -0.15 - 0.125 * 0.15, 31)[1:]
    plateau = fall[-1] + rng.uniform(-noise / 2, noise / 2, 76)
    return np.r_[rise, fall, plateau]


def test_a_fall_then_a_noisy_plateau_compresses():
    c = _plateau()
    p = np.minimum(np.arange(len(c)) / 30, 1.0)
    phase = gib.compression_phase(c, p, n_samples=4096)
    assert phase.verdict == "compresses" and phase.compresses is True
    assert phase.drop_fraction == pytest.approx(0.125 * 0.15 / np.ptp(c), abs=0.01)
    assert phase.rebound < 0.5
    # the Spearman figure is still reported, and on such a plateau it says little
    assert -1.0 <= phase.spearman <= 1.0


def test_an_exactly_flat_plateau_compresses():
    c = np.r_[np.linspace(0, 1, 20), np.linspace(1, 0.8, 5)[1:], np.full(60, 0.8)]
    assert gib.compression_phase(c, np.ones(len(c))).verdict == "compresses"


def test_a_rebound_is_not_sustained():
    # falls to 0.5, climbs back to 0.9 and stays: the end is 10% below the peak, but the climb
    # back is 80% of the deepest fall
    c = np.r_[np.linspace(0, 1, 20), np.linspace(1, 0.5, 10)[1:], np.linspace(0.5, 0.9, 10)[1:], np.full(20, 0.9)]
    phase = gib.compression_phase(c, np.ones(len(c)))
    assert phase.verdict == "no compression" and phase.compresses is False
    assert phase.rebound == pytest.approx(0.8)


def test_a_small_climb_back_within_the_tolerance_is_a_plateau():
    c = np.r_[np.linspace(0, 1, 20), np.linspace(1, 0.5, 10)[1:], np.full(20, 0.5)]
    wiggle = c.copy()
    wiggle[-5] = 0.75 + 0.01  # just over the rebound line, by 0.01 bits
    assert gib.compression_phase(wiggle, np.ones(len(c))).verdict == "no compression"
    assert gib.compression_phase(wiggle, np.ones(len(c)), tolerance=0.02).verdict == "compresses"


def test_a_trajectory_below_the_noise_floor_is_flat():
    c = _plateau() * 0.01  # a whole range of ~0.0015 bits
    phase = gib.compression_phase(c, np.linspace(0, 1, len(c)), n_samples=1000)  # floor log2(1000)/1000
    assert phase.noise_floor == pytest.approx(np.log2(1000) / 1000)
    assert phase.verdict == "flat" and phase.compresses is None
    # the same shape, 100x larger, is read
    assert gib.compression_phase(c * 100, np.linspace(0, 1, len(c)) * 0 + 1, n_samples=1000).verdict == "compresses"
    assert gib.compression_phase(c, np.ones(len(c)), noise_floor=1e-4).verdict == "compresses"


def test_a_saturated_trajectory_gets_no_compression_verdict():
    c = _plateau()
    flags = np.ones(len(c))
    phase = gib.compression_phase(c, np.ones(len(c)), saturated=flags)
    assert phase.verdict == "saturated" and phase.compresses is None and phase.saturated_fraction == 1.0
    few = np.zeros(len(c))
    few[:10] = 1
    assert gib.compression_phase(c, np.ones(len(c)), saturated=few).verdict == "compresses"


def test_prediction_loss_below_the_noise_floor_is_no_loss():
    c = _plateau()
    p = np.r_[np.zeros(20), np.full(len(c) - 20, 1e-4)]
    p[-1] = 0.0  # lost all of its (tiny) range
    assert gib.compression_phase(c, p).verdict == "no compression"
    assert gib.compression_phase(c, p, noise_floor=1e-3).verdict == "compresses"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(complexity=[0.0, np.nan, 1.0]), "`complexity` contains 1 NaN"),
        (dict(prediction=[0.0, 1.0, np.inf]), "`prediction` contains 1 NaN"),
        (dict(steps=[0, np.nan, 2]), "`steps` contains 1 NaN"),
        (dict(min_drop=np.nan), "`min_drop` must be a number in"),
        (dict(rebound=1.5), "`rebound` must be a number in"),
        (dict(noise_floor=-1.0), "`noise_floor` must be a finite number of bits"),
        (dict(tolerance=np.inf), "`tolerance` must be a finite number of bits"),
        (dict(saturated=[1, 0]), "`saturated` has 2 values"),
        (dict(n_samples=0), "`n_samples` must be a positive integer"),
    ],
)
def test_compression_phase_rejects_bad_input(kwargs, match):
    args = dict(complexity=[0.0, 1.0, 0.5], prediction=[0.0, 1.0, 1.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gib.compression_phase(**args)


def test_compression_phase_rejects_strings():
    with pytest.raises(TypeError, match="`complexity` has dtype"):
        gib.compression_phase(["a", "b", "c"], [0, 1, 2])
    with pytest.raises(ValueError, match="`min_drop`"):
        gib.compression_phase([0, 1, 0], [0, 1, 1], min_drop="0.1")


@pytest.mark.parametrize("estimator, options", [("binning", {}), ("binning", {"bias": "miller-madow"}),
                                                ("discrete", {"bias": "miller-madow"}), ("kde", {}), ("gcmi", {})])
def test_ib_ceilings_keep_the_complexity_below_log2_n(estimator, options):
    """The complexity ceiling is min(log2 N, H(X)) for every bias: Miller-Madow's (K - 1) / 2N
    lifts H(X) of 40 distinct rows above log2 40, which no I(X;T) can reach."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 3)) if estimator != "discrete" else rng.integers(0, 1000, size=(40, 2))
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    complexity, prediction = gib.ib_ceilings(X, y, estimator, **options)
    plugin_h = gib.entropy(X, estimator if estimator in ("binning", "discrete") else "discrete", **options)
    assert complexity == pytest.approx(min(math.log2(40), plugin_h), abs=1e-12)
    assert complexity <= math.log2(40)
    if options.get("bias") == "miller-madow":
        assert plugin_h > math.log2(40)  # the case that broke the promise
