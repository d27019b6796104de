"""The phase rule (SPEC 2, "Phases"): verdicts on constructed trajectories, the rule's text
generated from the same object as its verdicts, and the seed aggregation."""

import dataclasses
import re

import numpy as np
import pytest

import gib
from gib.phases import DEFAULT_RULE, VERDICTS, PhaseRule, Verdict


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


# -- every verdict on a constructed trajectory -------------------------------------------------
RISE_AND_FALL = np.r_[np.linspace(0, 1, 10), np.linspace(1, 0.5, 10)[1:], np.full(10, 0.5)]


@pytest.mark.parametrize(
    "c, p, options, verdict",
    [
        (RISE_AND_FALL, np.ones(len(RISE_AND_FALL)), {}, Verdict.COMPRESSES),
        (np.linspace(0, 1, 20), np.linspace(0, 1, 20), {}, Verdict.NO_COMPRESSION),
        (RISE_AND_FALL * 1e-4, np.ones(len(RISE_AND_FALL)), dict(n_samples=1000), Verdict.FLAT),
        (RISE_AND_FALL, np.ones(len(RISE_AND_FALL)), dict(saturated=np.ones(len(RISE_AND_FALL))), Verdict.SATURATED),
        # falls from the first record: the untrained network is the peak
        (np.linspace(1, 0, 20), np.linspace(0, 1, 20), {}, Verdict.NO_FITTING_PHASE),
        (np.array([0.0, 1.0]), np.array([0.0, 1.0]), {}, Verdict.TOO_FEW_RECORDS),
        (np.array([0.5]), np.array([0.2]), {}, Verdict.TOO_FEW_RECORDS),
    ],
)
def test_each_verdict(c, p, options, verdict):
    phase = gib.compression_phase(c, p, **options)
    assert phase.verdict == verdict and phase.verdict in VERDICTS
    assert phase.compresses == {Verdict.COMPRESSES: True, Verdict.NO_COMPRESSION: False,
                                Verdict.NO_FITTING_PHASE: False}.get(verdict)
    # the numbers are computed whatever the verdict
    assert phase.peak_index == int(np.argmax(c)) and phase.drop_bits == pytest.approx(c.max() - c[-1])


def test_too_few_records_still_gives_the_numbers():
    phase = gib.compression_phase([0.2, 1.0], [0.1, 0.4], [0, 10])
    assert phase.peak_step == 10 and phase.fitting_complexity_rise == pytest.approx(1.0)
    assert np.isnan(phase.rebound) and np.isnan(phase.spearman)
    # a rule that needs only two records reads them
    assert PhaseRule(min_records=2).verdict([0.2, 1.0], [0.1, 0.4]).verdict == Verdict.NO_COMPRESSION


def test_a_peak_at_the_first_record_is_no_fitting_phase_even_when_it_falls_far():
    # the fall alone would pass every clause of a compression phase
    c = np.r_[1.0, np.linspace(0.9, 0.2, 10), np.full(10, 0.2)]
    phase = gib.compression_phase(c, np.ones(len(c)))
    assert phase.peak_index == 0 and phase.drop_fraction == pytest.approx(1.0)
    assert phase.verdict == Verdict.NO_FITTING_PHASE and phase.compresses is False
    # one record of fitting before the peak makes it a compression phase
    assert gib.compression_phase(np.r_[0.9, c], np.ones(len(c) + 1)).verdict == Verdict.COMPRESSES


def test_compression_phase_is_the_default_rule():
    c = np.r_[np.linspace(0, 1, 20), np.linspace(1, 0.7, 10)[1:], np.full(20, 0.72)]
    p = np.linspace(0, 1, len(c))
    assert gib.compression_phase(c, p, n_samples=100) == DEFAULT_RULE.verdict(c, p, n_samples=100)
    assert gib.compression_phase(c, p, min_drop=0.5) == PhaseRule(min_drop=0.5).verdict(c, p)
    assert gib.compression_phase(c, p, min_drop=0.5).verdict == Verdict.NO_COMPRESSION


def test_the_rule_checks_its_thresholds_once():
    with pytest.raises(ValueError, match="`rebound` must be a number in"):
        PhaseRule(rebound=2.0)
    with pytest.raises(ValueError, match="`min_records` must be a positive integer"):
        PhaseRule(min_records=0)
    with pytest.raises(TypeError, match="unknown phase-rule threshold"):
        DEFAULT_RULE.with_thresholds(drop=0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_RULE.min_drop = 0.2


# -- the rule's text comes from the rule --------------------------------------------------------
ODD = PhaseRule(last_fraction=0.15, min_drop=0.23, rebound=0.37, max_prediction_loss=0.07, noise_floor=0.0123,
                tolerance=0.0456, max_saturated=0.61, min_records=4)


def test_the_text_names_every_threshold_with_the_rules_value():
    text = ODD.describe()
    for value in ("15%", "23%", "37%", "7%", "0.0123 bits", "0.0456 bits", "61%", "fewer than 4 records"):
        assert value in text, value
    for verdict in Verdict:
        assert f"*{verdict}*" in text
    default = DEFAULT_RULE.describe()
    assert "log2(N) / N bits" in default and "by more than the noise floor" in default
    assert "a loss of at most the noise floor in bits counting as none" in default


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(PhaseRule)])
def test_changing_a_threshold_changes_the_text(field):
    value = getattr(ODD, field)
    other = value + 1 if field == "min_records" else round(value / 2, 6)
    assert dataclasses.replace(ODD, **{field: other}).describe() != ODD.describe()


def _read_text(text, c, p, n_samples):
    """The verdict of a compressing-shaped trajectory read from the rule's text alone."""
    percent = {name: float(re.search(pattern, text).group(1)) / 100 for name, pattern in {
        "last": r"before the last ([\d.]+)% of the records", "drop": r"ends at least ([\d.]+)% of its range",
        "rebound": r"the peak minus ([\d.]+)% of the deepest fall", "loss": r"P loses at most ([\d.]+)% of its range",
    }.items()}
    given = re.search(r"below the noise floor \(([\d.e-]+) bits\)", text)
    floor = float(given.group(1)) if given else np.log2(n_samples) / n_samples
    said = re.search(r"by more than (the noise floor|[\d.e-]+ bits)", text).group(1)
    tolerance = floor if said == "the noise floor" else float(said.split()[0])
    none_below_floor = "a loss of at most the noise floor in bits counting as none" in text
    peak = int(np.argmax(c))
    deepest = c[peak] - c[peak:].min()
    line = c[peak] - percent["rebound"] * deepest
    after = c[peak:][np.argmax(c[peak:] <= line):]
    loss = p[peak] - p[-1]
    keeps = loss <= percent["loss"] * np.ptp(p) or (none_below_floor and loss <= floor)
    compresses = (0 < peak < len(c) - max(1, round(percent["last"] * len(c)))
                  and c[peak] - c[-1] >= percent["drop"] * np.ptp(c) and after.max() <= line + tolerance and keeps)
    return Verdict.COMPRESSES if compresses else Verdict.NO_COMPRESSION


def test_text_and_code_agree_on_a_rebound_and_a_prediction_loss_within_the_noise_floor():
    # the functions experiment's f2 hidden layer: rebound 0.626 and prediction loss 0.182 of the
    # ranges, both within one sample's worth of bits (N = 1500), so the trajectory compresses
    n = 1500
    rise, fall = np.linspace(0.9, 1.0, 11), np.linspace(1.0, 0.95, 6)[1:]
    c = np.r_[rise, fall, np.linspace(0.95, 0.95 + 0.626 * 0.05, 6)[1:], np.full(8, 0.95 + 0.626 * 0.05)]
    p = np.r_[np.linspace(0.98, 1.0, 11), np.linspace(1.0, 1.0 - 0.182 * 0.02, len(c) - 11)]
    phase = DEFAULT_RULE.verdict(c, p, n_samples=n)
    assert phase.rebound == pytest.approx(0.626) and phase.prediction_loss == pytest.approx(0.182)
    assert phase.verdict == Verdict.COMPRESSES
    assert _read_text(DEFAULT_RULE.describe(), c, p, n) == phase.verdict
    # with no noise floor the rebound and the loss count, in the code and in the text
    strict = PhaseRule(noise_floor=0.0)
    assert strict.verdict(c, p, n_samples=n).verdict == Verdict.NO_COMPRESSION
    assert _read_text(strict.describe(), c, p, n) == Verdict.NO_COMPRESSION
    loose = PhaseRule(noise_floor=0.0, tolerance=0.01, max_prediction_loss=0.2)
    assert loose.verdict(c, p).verdict == _read_text(loose.describe(), c, p, n) == Verdict.COMPRESSES
