"""The `adversarial` experiment (Fig. 7) end to end on tiny MNIST files, and its late summary."""

import json

import numpy as np
import pandas as pd
import pytest

from gib.data import write_idx
from gib.experiments import run_experiment
from gib.experiments.adversarial import complexity_gap, complexity_span, gap_interval, late_complexity, weak_strong


def write_tiny_mnist(folder, n_train=1000, n_test=100, seed=0):
    """MNIST-style IDX files whose images carry their label (a bright column per class)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), :, 4 + 2 * labels] = 255
        write_idx(folder / f"{stem}-images-idx3-ubyte", images)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", labels)
    return folder


def test_test_preset_end_to_end(tmp_path):
    mnist = write_tiny_mnist(tmp_path / "mnist")
    run = run_experiment("adversarial", "test", {"data_path": str(mnist)}, out=tmp_path / "run", progress=False)
    config = json.loads((run.path / "config.json").read_text())
    assert config["experiment"] == "adversarial"
    frame = pd.read_parquet(run.path / "metrics.parquet")
    weak, strong = weak_strong(tuple(config["config"]["eps"]))
    assert set(frame.condition) == {weak, strong}
    assert sorted(set(frame.epoch)) == [0, 1, 2]
    assert set(frame[frame.plane == "IB"].layer) == {"hidden4", "output"}
    gib = frame[frame.plane == "GIB"]
    assert set(gib.layer) == {"pixels"} and set(gib.kind) == {"featurewise"}
    assert {"test_accuracy", "test_adv_accuracy", "train_loss"} <= set(frame.measure)
    for name in ("planes", "complexity", "accuracy"):
        assert (run.path / "figures" / f"{name}.png").stat().st_size > 10_000
    report = (run.path / "report.md").read_text()
    assert "**Claim:** the strong attack keeps GIB complexity high (Fig. 7)" in report
    assert "IDX files in" in report and "last 25% of the record steps" in report
    assert f"| {strong} | GIB |" in report


def toy_frame():
    rows = []
    for condition, offset in (("eps=0.01", 0.0), ("eps=0.1", 10.0)):
        for seed in (0, 1):
            for step in range(8):  # complexity = offset + step, seeds differ by +-1
                value = offset + step + (1 if seed else -1)
                rows.append(dict(condition=condition, seed=seed, step=step, epoch=float(10 * step), plane="GIB",
                                 layer="pixels", estimator="binning", kind="featurewise", measure="complexity",
                                 value=value))
                rows.append(dict(condition=condition, seed=seed, step=step, epoch=float(10 * step), plane="GIB",
                                 layer="pixels", estimator="binning", kind="featurewise", measure="prediction",
                                 value=-100.0))
    return pd.DataFrame(rows)


def test_late_complexity_averages_the_last_quarter_of_the_steps():
    table = late_complexity(toy_frame(), "GIB", layer="pixels").set_index("condition")
    # last quarter of 8 steps = steps 6 and 7; seed mean = offset + step
    assert table.loc["eps=0.01", "complexity"] == pytest.approx(6.5)
    assert table.loc["eps=0.1", "complexity"] == pytest.approx(16.5)
    assert table.loc["eps=0.1", "n_steps"] == 2 and table.loc["eps=0.1", "from_epoch"] == 60.0
    assert table.loc["eps=0.1", "final"] == pytest.approx(17.0)
    # 5 steps: ceil(1.25) = 2 steps; a tiny fraction still keeps one
    five = toy_frame().query("step < 5")
    assert late_complexity(five, "GIB").set_index("condition").loc["eps=0.01", "complexity"] == pytest.approx(3.5)
    assert late_complexity(toy_frame(), "GIB", fraction=0.01).set_index("condition").loc["eps=0.01", "n_steps"] == 1
    with pytest.raises(ValueError, match="fraction"):
        late_complexity(toy_frame(), "GIB", fraction=0.0)


def test_gap_is_strong_minus_weak_in_bits_and_as_a_fraction_of_the_range():
    frame = toy_frame()
    table = late_complexity(frame, "GIB")
    gap, rel = complexity_gap(table, frame, "GIB", "eps=0.01", "eps=0.1", layer="pixels")
    assert gap == pytest.approx(10.0)  # 16.5 - 6.5
    assert rel == pytest.approx(10.0 / 17.0)  # seed means span 0 .. 17 over both trajectories
    assert np.isnan(complexity_gap(table, frame, "GIB", "eps=0.01", "eps=9", layer="pixels")[0])


def test_gap_interval_is_the_gap_with_its_seed_and_step_noise():
    frame = toy_frame()
    table = late_complexity(frame, "GIB", fraction=0.5)
    interval = gap_interval(frame, "GIB", "eps=0.01", "eps=0.1", fraction=0.5, layer="pixels")
    assert interval.estimate == pytest.approx(complexity_gap(table, frame, "GIB", "eps=0.01", "eps=0.1",
                                                             layer="pixels")[0])
    # every seed and late step has the gap 10: the interval is the point
    assert (interval.low, interval.high) == pytest.approx((10.0, 10.0))
    assert interval.terms == 4 and interval.seeds == 2
    assert complexity_span(frame, "GIB", "eps=0.01", "eps=0.1", layer="pixels") == pytest.approx(17.0)
    # the last quarter of 8 steps is 2: too few for an interval
    assert np.isnan(gap_interval(frame, "GIB", "eps=0.01", "eps=0.1", layer="pixels").low)


# the GIB complexity of 24 record steps: a rise to 1 bit, a fall to 0.5, a plateau
TREND = np.r_[np.linspace(0.6, 1.0, 4), np.linspace(1.0, 0.5, 8), np.full(12, 0.5)]


def claim_of(tmp_path, weak, strong, margin=0.05):
    from gib.experiments import get_experiment
    from gib.runs import RunDir

    rows = [dict(condition=condition, seed=0, step=s, epoch=float(5 * s), plane="GIB", layer="pixels",
                 estimator="binning", kind="featurewise", measure="complexity", value=float(v))
            for condition, values in (("eps=0.05", weak), ("eps=0.3", strong)) for s, v in enumerate(values)]
    run = RunDir.open(tmp_path / "run", "adversarial", {"eps": [0.05, 0.3], "late_fraction": 0.25,
                                                         "claim_margin": margin, "estimator": "binning",
                                                         "synergy": "featurewise"})
    frame = pd.DataFrame(rows)
    run.save_table(frame)
    (claim,) = get_experiment("adversarial").claims(run)
    interval = gap_interval(frame, "GIB", "eps=0.05", "eps=0.3", layer="pixels")
    threshold = margin * complexity_span(frame, "GIB", "eps=0.05", "eps=0.3", layer="pixels")
    return claim, interval, threshold


def test_the_claim_reads_the_gap_interval_against_the_margin(tmp_path):
    rng = np.random.default_rng(0)
    noise = lambda scale: rng.normal(0, scale, len(TREND))  # noqa: E731
    late = np.arange(len(TREND)) >= 12
    # a gap of 0.2 bits on the plateau, noise of 0.01: far above 5% of the ~0.55-bit range
    claim, interval, threshold = claim_of(tmp_path / "a", TREND + noise(0.01), TREND + 0.2 * late + noise(0.01))
    assert claim.holds is True and interval.low > threshold
    assert f"strong minus weak {interval.estimate:+.5f} bits" in claim.measured
    assert f"95% interval [{interval.low:+.5f} bits, {interval.high:+.5f} bits]" in claim.measured
    assert f"({threshold:.5f} bits, `claim_margin`, ours): the interval lies above it" in claim.measured
    assert "over the 6 late record-step differences (blocks of 2, 2000 replicates, 1 seed)" in claim.measured
    # no gap: the interval lies below the margin
    claim, interval, threshold = claim_of(tmp_path / "b", TREND + noise(0.001), TREND + noise(0.001))
    assert claim.holds is False and interval.high < threshold and "lies below it" in claim.measured
    # a gap near the margin (5% of the ~0.58-bit range: 0.029 bits) with swings of up to 0.1 bits: uncertain
    swings = np.r_[np.zeros(18), 0.05 * np.array([2, -1, 0.5, -2, 1, -0.5])]
    claim, interval, threshold = claim_of(tmp_path / "c", TREND, TREND + 0.025 * late + swings)
    assert interval.estimate == pytest.approx(0.025) and threshold == pytest.approx(0.05 * 0.575)
    assert claim.holds is None and interval.low < threshold < interval.high
    assert "the interval contains it: uncertain" in claim.measured


def test_weak_and_strong_are_the_smallest_and_largest_eps():
    assert weak_strong((0.3, 0.05, 0.1)) == ("eps=0.05", "eps=0.3")


@pytest.mark.parametrize("sets, key", [({"eps": "-0.1"}, "--set eps"), ({"eps": "0.1,0.1"}, "--set eps"),
                                       ({"probe_size": "5000"}, "--set probe_size"),
                                       ({"late_fraction": "0"}, "--set late_fraction"),
                                       ({"pool": "3"}, "--set pool"),
                                       ({"claim_margin": "1.5"}, "--set claim_margin")])
def test_bad_settings_name_their_key(tmp_path, sets, key):
    with pytest.raises(ValueError, match=key):
        run_experiment("adversarial", "test", sets, out=tmp_path / "run", progress=False)


def test_density_estimators_measure_pooled_pixels():
    from gib.experiments.adversarial import Config, pooled, resolve_pool

    assert resolve_pool(Config(probe_size=1000)) == 1  # binning: the raw pixels
    # pooled pixels <= probe / 40 (a quarter of a class of Z) and + 20 units <= probe / 4
    assert resolve_pool(Config(estimator="gcmi", probe_size=900)) == 7  # 16 <= 22.5 < 49
    assert resolve_pool(Config(estimator="kde", probe_size=2000)) == 4  # 49 <= 50
    assert resolve_pool(Config(estimator="gcmi", probe_size=20000)) == 2  # 196 <= 500 < 784
    assert resolve_pool(Config(estimator="gcmi", probe_size=100)) == 28  # 1 <= 2.5 < 4
    assert resolve_pool(Config(estimator="gcmi", pool=4)) == 4
    x = np.arange(2 * 784, dtype=np.float32).reshape(2, 784)
    out = pooled(x, 2)
    assert out.shape == (2, 196)
    assert out[0, 0] == pytest.approx(np.mean([0, 1, 28, 29]))
    np.testing.assert_array_equal(pooled(x, 1), x)


def test_gcmi_runs_on_the_test_preset(tmp_path):
    mnist = write_tiny_mnist(tmp_path / "mnist")
    run = run_experiment("adversarial", "test", {"data_path": str(mnist), "estimator": "gcmi", "epochs": "2"},
                         out=tmp_path / "run", progress=False)
    frame = pd.read_parquet(run.path / "metrics.parquet")
    assert set(frame[frame.plane == "GIB"].estimator) == {"gcmi"}
    assert np.isfinite(frame[frame.plane.isin(["IB", "GIB"])].value).all()
    assert "average-pooled 7x7 (16 features" in (run.path / "report.md").read_text()
