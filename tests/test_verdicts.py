"""The seed rule (gib.verdicts): verdicts over seeds with intervals, paired against the null,
uncertain where the resamples disagree, and claims read the same way for "all" and "none"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gib.phases import DEFAULT_RULE, PhaseRule, phase_table
from gib.verdicts import (
    SEED_COLUMNS, UNCERTAIN, SeedRule, beyond_call, claim_call, null_text, plane_text, seed_table,
)

STEPS = np.arange(20)
RISE_FALL = np.r_[np.linspace(0.0, 2.0, 8), np.linspace(2.0, 1.0, 12)]  # peak at record 7, falls 50%
RISING = np.linspace(0.0, 2.0, 20)  # no compression: peaks at the last record
PREDICTION = np.linspace(0.0, 1.0, 20)


def frame_of(trajectories: dict, null: dict | None = None, star: float | None = None, plane: str = "GIB",
             bounds: dict | None = None, difference: dict | None = None) -> pd.DataFrame:
    """A results frame: ``trajectories`` maps (condition, seed) to a complexity series."""
    rows = []
    for (condition, seed), complexity in trajectories.items():
        for step, (c, p) in enumerate(zip(complexity, PREDICTION)):
            base = dict(condition=condition, seed=seed, step=step, epoch=float(10 * step), plane=plane,
                        layer="input", estimator="binning", kind="featurewise" if plane == "GIB" else "")
            rows += [{**base, "measure": "complexity", "value": float(c)},
                     {**base, "measure": "prediction", "value": float(p)}]
            if null is not None:
                rows.append({**base, "measure": "null_complexity", "value": float(null[(condition, seed)][step])})
            if star is not None:
                rows.append({**base, "measure": "reference_complexity", "value": star})
            if difference is not None:  # half-widths of the within-run interval of C - N
                d = float(c - null[(condition, seed)][step])
                rows += [{**base, "measure": "null_difference_low", "value": d - difference[(condition, seed)]},
                         {**base, "measure": "null_difference_high", "value": d + difference[(condition, seed)]}]
            if bounds is not None:
                low, high = bounds[(condition, seed)]
                rows += [{**base, "measure": "complexity_low", "value": float(c - low[step])},
                         {**base, "measure": "complexity_high", "value": float(c + high[step])}]
    return pd.DataFrame(rows)


def noisy(base, seed, scale=0.02):
    return base + np.random.default_rng(seed).normal(0, scale, len(base))


def test_every_seed_compressing_compresses_with_intervals_around_the_point():
    frame = frame_of({("a", s): noisy(RISE_FALL, s) for s in range(5)})
    (row,) = seed_table(frame).to_dict("records")
    assert row["verdict"] == "compresses" and row["support"] == 1.0 and row["seeds_compressing"] == "5/5"
    for name in ("drop_fraction", "drop_bits", "peak_epoch"):
        assert row[f"{name}_low"] <= row[name] <= row[f"{name}_high"]
    # the point is the phase rule on the seed average: the same as phase_table's
    assert row["mean_verdict"] == phase_table(frame).loc[0, "verdict"]
    assert row["drop_bits"] == pytest.approx(phase_table(frame).loc[0, "drop_bits"])
    assert row["drop_bits"] == pytest.approx(np.mean([noisy(RISE_FALL, s) for s in range(5)], axis=0)[7] -
                                             np.mean([noisy(RISE_FALL, s)[-1] for s in range(5)]), abs=0.05)


def test_no_seed_compressing_reads_no_and_disagreeing_seeds_read_uncertain():
    none = seed_table(frame_of({("a", s): noisy(RISING, s) for s in range(5)}))
    assert none.loc[0, "verdict"] == "no compression" and none.loc[0, "support"] == 0.0
    # two seeds fall by 50%, three keep rising: the average of a resample compresses or not
    # depending on which seeds it draws
    mixed = {("a", s): noisy(RISE_FALL if s < 2 else RISING, s) for s in range(5)}
    row = seed_table(frame_of(mixed)).iloc[0]
    assert row["verdict"] == UNCERTAIN and 0.05 < row["support"] < 0.95 and row["seeds_compressing"] == "2/5"


def test_the_verdict_needs_the_rules_share_of_resamples():
    mixed = {("a", s): noisy(RISE_FALL if s < 4 else RISING, s) for s in range(5)}
    support = seed_table(frame_of(mixed)).loc[0, "support"]
    assert 0.5 < support < 1.0
    strict = SeedRule(level=min(0.99, support + 0.01))
    loose = SeedRule(level=max(0.51, support - 0.01))
    assert seed_table(frame_of(mixed), seed_rule=strict).loc[0, "verdict"] == UNCERTAIN
    assert seed_table(frame_of(mixed), seed_rule=loose).loc[0, "verdict"] == "compresses"


def test_one_seed_reads_the_phase_rule_without_an_interval():
    row = seed_table(frame_of({("a", 0): RISE_FALL})).iloc[0]
    assert row["verdict"] == "compresses" and row["n_seeds"] == 1
    assert np.isnan(row["drop_fraction_low"]) and np.isnan(row["drop_fraction_high"])
    assert row["drop_fraction"] == pytest.approx(0.5)


def test_a_peak_at_the_first_record_is_no_fitting_phase_in_every_resample():
    falling = np.linspace(2.0, 1.0, 20)
    row = seed_table(frame_of({("a", s): noisy(falling, s, 0.001) for s in range(4)})).iloc[0]
    assert row["verdict"] == "no fitting phase" and row["support"] == 0.0


def test_the_null_is_paired_per_seed():
    seeds = range(5)
    network = {("a", s): noisy(RISE_FALL, s) for s in seeds}
    # a null that follows each seed's own trajectory exactly: no excess, in every resample
    same = seed_table(frame_of(network, null=network, star=0.0)).iloc[0]
    assert same["excess_fraction"] == pytest.approx(0.0, abs=1e-12)
    assert same["excess_fraction_low"] == pytest.approx(0.0, abs=1e-12)
    assert same["excess_fraction_high"] == pytest.approx(0.0, abs=1e-12)
    assert same["beyond_null"] == "no"
    # a flat null below the peak: the whole drop is the network's own
    flat = {key: np.full(20, 0.5) for key in network}
    beyond = seed_table(frame_of(network, null=flat, star=0.0)).iloc[0]
    assert beyond["beyond_null"] == "yes" and beyond["null_drop_bits"] == pytest.approx(0.0)
    assert beyond["excess_fraction"] == pytest.approx(beyond["drop_fraction"])
    # a null with the same fall as the network's average but not seed by seed: the difference
    # is taken within each resample, so its interval is that of the seeds' own differences
    shifted = {("a", s): network[("a", (s + 1) % 5)] for s in seeds}
    paired = seed_table(frame_of(network, null=shifted, star=0.0)).iloc[0]
    assert paired["excess_fraction"] == pytest.approx(0.0, abs=1e-9)
    assert paired["excess_fraction_high"] - paired["excess_fraction_low"] > 0


def test_no_null_rows_leave_the_null_columns_empty():
    row = seed_table(frame_of({("a", s): noisy(RISE_FALL, s) for s in range(3)})).iloc[0]
    assert row["beyond_null"] is None and np.isnan(row["null_drop_bits"])
    assert list(seed_table(frame_of({("a", 0): RISE_FALL})).columns) == SEED_COLUMNS


def test_a_within_run_interval_across_the_minimum_drop_is_uncertain():
    network = {("a", 0): RISE_FALL}
    tight = {("a", 0): (np.full(20, 0.01), np.full(20, 0.01))}
    wide = {("a", 0): (np.full(20, 0.6), np.full(20, 0.6))}
    read = seed_table(frame_of(network, bounds=tight)).iloc[0]
    assert read["verdict"] == "compresses"
    assert read["run_drop_low"] == pytest.approx(1.0 - 0.02) and read["run_drop_high"] == pytest.approx(1.0 + 0.02)
    # the drop is 1 bit, the minimum 10% of a 2-bit range: [1 - 1.2, 1 + 1.2] straddles 0.2 bits
    assert seed_table(frame_of(network, bounds=wide)).loc[0, "verdict"] == UNCERTAIN


def test_a_paired_within_run_interval_across_the_minimum_drop_leaves_beyond_the_null_uncertain():
    network = {("a", 0): RISE_FALL}
    flat = {("a", 0): np.full(20, 0.5)}  # the whole 1-bit drop is the network's own
    tight = seed_table(frame_of(network, null=flat, star=0.0, difference={("a", 0): 0.01})).iloc[0]
    assert tight["beyond_null"] == "yes"
    assert tight["run_excess_low"] == pytest.approx(1.0 - 0.02) and tight["run_excess_high"] == pytest.approx(1.02)
    # +-0.5 bits at the peak and at the end: [0, 2] straddles the minimum, 10% of the 2-bit range
    wide = seed_table(frame_of(network, null=flat, star=0.0, difference={("a", 0): 0.5})).iloc[0]
    assert wide["verdict"] == "compresses" and wide["beyond_null"] == UNCERTAIN
    assert np.isnan(seed_table(frame_of(network, null=flat, star=0.0)).loc[0, "run_excess_low"])


def test_claims_read_all_and_none_the_same_way():
    table = pd.DataFrame({"condition": ["a", "b", "c", "d"], "plane": "GIB",
                          "verdict": ["compresses", "no compression", UNCERTAIN, "saturated"],
                          "support": [1.0, 0.0, 0.62, 0.0]})
    assert claim_call(table, {("a", "GIB"): True}) is True
    assert claim_call(table, {("b", "GIB"): False}) is True
    assert claim_call(table, {("a", "GIB"): True, ("b", "GIB"): True}) is False
    assert claim_call(table, {("a", "GIB"): False, ("c", "GIB"): True}) is False  # a definite failure wins
    assert claim_call(table, {("a", "GIB"): True, ("c", "GIB"): True}) is None
    assert claim_call(table, {("a", "GIB"): True, ("c", "GIB"): False}) is None  # "none" is no easier
    # an unread condition confirms neither "compresses" nor "does not"
    assert claim_call(table, {("d", "GIB"): False}) is None and claim_call(table, {("d", "GIB"): True}) is None
    with pytest.raises(KeyError, match="'e'"):
        claim_call(table, {("e", "GIB"): True})
    assert plane_text(table, "GIB") == "compresses a; uncertain c (62%); no compression b; saturated d"
    assert plane_text(table, "GIB", ["d", "a"]) == "compresses a; saturated d"


def test_beyond_call_and_texts():
    table = pd.DataFrame({"condition": ["a", "b", "c"], "plane": "GIB",
                          "beyond_null": ["yes", UNCERTAIN, "no"]})
    assert beyond_call(table, ["a"]) is True and beyond_call(table, ["a", "b"]) == UNCERTAIN
    assert beyond_call(table, ["a", "b", "c"]) is False and beyond_call(table, ["a", "x"]) is None
    network = {("a", s): noisy(RISE_FALL, s) for s in range(3)}
    seeds = seed_table(frame_of(network, null={k: np.full(20, 0.5) for k in network}, star=0.0))
    text = null_text(seeds, ["a"])
    assert text.startswith("beyond the null: a yes (null's drop 0% [0%, 0%], network minus null ")
    assert plane_text(seeds, "GIB") == "compresses a"


def test_the_rule_text_is_written_from_the_rule():
    text = SeedRule(level=0.9, resamples=500, seed=3).describe(PhaseRule(min_drop=0.2))
    assert "500 times, resampling seed 3" in text and "at least 90% of the resamples" in text
    assert "at most 10% do" in text and "(20% of the range)" in text
    assert "20% of its complexity range" in text
    assert SeedRule().describe(DEFAULT_RULE) != text


@pytest.mark.parametrize("options, match", [
    (dict(level=1.5), "level"), (dict(level=0.4), "level"), (dict(resamples=0), "resamples"),
])
def test_bad_options_are_named(options, match):
    with pytest.raises(ValueError, match=match):
        SeedRule(**options)


def test_resamples_are_distinct_weighted_draws():
    weights, counts = SeedRule(resamples=1000, seed=1).draws(5)
    assert counts.sum() == 1000 and np.allclose(weights.sum(axis=1), 1.0)
    assert len(np.unique(weights, axis=0)) == len(weights) <= 126  # C(9, 5) distinct multisets of 5 seeds
    again, _ = SeedRule(resamples=1000, seed=1).draws(5)
    np.testing.assert_array_equal(weights, again)


def test_seeds_on_different_steps_are_read_on_the_steps_they_share():
    frame = frame_of({("a", s): noisy(RISE_FALL, s) for s in range(3)})
    partial = frame[~((frame["seed"] == 2) & (frame["step"] >= 18))]
    row = seed_table(partial).iloc[0]
    assert row["n_seeds"] == 3 and row["peak_epoch"] <= 170


def test_the_verdict_figure_draws_each_condition_with_its_interval_and_the_null():
    from gib.plotting import VERDICT_COLORS, verdict_figure

    network = {(c, s): noisy(RISE_FALL if c == "a" else RISING, s) for c in ("a", "b") for s in range(4)}
    seeds = seed_table(frame_of(network, null={k: np.full(20, 0.5) for k in network}, star=0.0))
    fig = verdict_figure(seeds, title="t", expected={("a", "GIB"): True, ("b", "GIB"): True})
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a  (paper: yes)", "b  (paper: yes)"]
    row = seeds.set_index("condition").loc["a"]
    intervals = [line for line in ax.get_lines() if len(line.get_xdata()) == 2
                 and line.get_color() == VERDICT_COLORS["compresses"]]
    assert len(intervals) == 1
    np.testing.assert_allclose(intervals[0].get_xdata(), [100 * row["drop_fraction_low"], 100 * row["drop_fraction_high"]])
    notes = [t.get_text() for t in ax.texts]
    assert "compresses: 100% of resamples, 4/4 seeds; beyond null: yes" in notes
    assert any(n.startswith("no compression: 0% of resamples, 0/4 seeds") for n in notes)
    with pytest.raises(ValueError, match="tables"):
        verdict_figure({})
