"""The paired moving-block bootstrap that gives a claim's comparison its noise reference."""

import numpy as np
import pytest

from gib.experiments.resampling import Interval, block_length, trajectory_interval


def late_difference(mean):
    return mean[:, 1] - mean[:, 0]


def test_block_length_is_the_cube_root_rounded_up():
    assert [block_length(m) for m in (1, 8, 9, 27, 30)] == [1, 2, 3, 3, 4]


def test_constant_terms_give_a_point_interval():
    curves = np.stack([np.zeros(12), np.full(12, 0.5)], axis=1)[None]  # (1 seed, 12 steps, 2 curves)
    interval = trajectory_interval(curves, late_difference)
    assert (interval.estimate, interval.low, interval.high) == pytest.approx((0.5, 0.5, 0.5))
    assert interval.reading() is True and interval.reading(0.6) is False
    assert interval.terms == 12 and interval.block == 3 and interval.seeds == 1


def test_too_few_terms_give_no_interval_and_read_uncertain():
    interval = trajectory_interval(np.ones((1, 2, 2)), late_difference)
    assert np.isnan(interval.low) and interval.reading() is None
    assert "no interval" in interval.method() and interval.bounds() == "no interval"


def test_the_interval_covers_a_zero_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    covered = []
    for trial in range(200):
        curves = rng.normal(size=(1, 60, 2))
        interval = trajectory_interval(curves, late_difference, replicates=500, seed=trial)
        covered.append(interval.low <= 0 <= interval.high)
    assert 0.85 <= np.mean(covered) <= 0.99


def test_several_seeds_widen_the_interval_by_their_spread():
    steps = 30
    base = np.linspace(1.0, 0.0, steps)
    # the same step pattern in both seeds, but the curves' gap differs between seeds
    gap = np.array([0.1, 0.5])
    curves = np.stack([np.stack([base, base + g], axis=1) for g in gap])
    interval = trajectory_interval(curves, late_difference)
    assert interval.estimate == pytest.approx(0.3) and interval.seeds == 2
    # every step's term is the same, so only the seed draw moves the replicates: between 0.1 and 0.5
    assert 0.1 - 1e-12 <= interval.low < 0.3 < interval.high <= 0.5 + 1e-12
    one = trajectory_interval(curves[:1], late_difference)
    assert one.high - one.low == pytest.approx(0.0, abs=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="curves"):
        trajectory_interval(np.ones((5, 2)), late_difference)
    with pytest.raises(ValueError, match="replicates"):
        trajectory_interval(np.ones((1, 5, 2)), late_difference, replicates=10)


def test_reading_against_a_threshold():
    interval = Interval(0.3, 0.1, 0.5, 30, 4, 1, 2000)
    assert interval.reading() is True and interval.reading(0.2) is None and interval.reading(0.6) is False
    assert interval.bounds(2, " bits") == "95% interval [+0.10 bits, +0.50 bits]"
