"""The `pca-dims` experiment (App. H) end to end on tiny CIFAR-10 files, and its monitor."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gib.experiments import get_experiment, run_experiment
from gib.experiments.pca_dims import contrast, roughness, roughness_contrast
from gib.monitor import Monitor


def write_tiny_cifar(folder, n_per_batch=16, n_test=32, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        n = n_test if name == "test_batch" else n_per_batch
        labels = list(rng.integers(0, 10, n))
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": data, b"labels": labels}, handle)
    return folder


def test_test_preset_end_to_end(tmp_path):
    cifar = write_tiny_cifar(tmp_path / "cifar-10-batches-py")
    run = run_experiment("pca-dims", "test", {"data_path": str(cifar)}, out=tmp_path / "run", progress=False)
    frame = pd.read_parquet(run.path / "metrics.parquet")
    gib = frame[frame.plane == "GIB"]
    assert set(gib.layer) == {"kpca2", "kpca4", "kpca8"}
    assert gib.groupby("layer").step.nunique().tolist() == [3, 3, 3]
    # one probe pass per step: IB and metric rows are recorded once, not once per feature set
    ib = frame[frame.plane == "IB"]
    assert set(ib.layer) == {"output"} and len(ib) == 3 * 7  # point, three flags, two ceilings per step
    assert set(ib.measure) == {"complexity", "prediction", "saturated", "over_bound", "negative",
                               "complexity_ceiling", "prediction_ceiling"}
    assert (frame[frame.plane == "metric"].groupby(["step", "measure"]).size() == 1).all()
    assert (run.path / "figures" / "planes.png").stat().st_size > 10_000
    report = (run.path / "report.md").read_text()
    assert "| resnet8 | kpca2 | GIB |" in report and "**Claim:**" in report and "roughness" in report
    observations = get_experiment("pca-dims").observations(run)  # what `gib reproduce` lists
    assert len(observations) == 1 and all(o.markdown() in report for o in observations)


def test_each_feature_set_gets_what_a_plain_monitor_records():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = rng.integers(0, 3, 200)
    sets = {"a": X[:, :2], "b": X[:, 2:] ** 2}
    multi = Monitor(model, X, y, features=sets, layers={}, record_layers_ib=False)
    got = multi.record(0, metrics={"extra": 1.0})
    assert len(got) == len(multi.frame)
    for name, features in sets.items():
        plain = Monitor(model, X, y, layers={}, features=features, features_name=name, record_layers_ib=False)
        expected = plain.record(0).query("plane == 'GIB'").reset_index(drop=True)
        mine = multi.frame.query("plane == 'GIB' and layer == @name").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, expected)
        plain.close()
    assert (multi.frame.query("plane != 'GIB'").groupby(["layer", "measure"]).size() == 1).all()
    assert "extra" in set(multi.frame.measure)
    multi.close()


def test_roughness_is_the_mean_step_change_of_the_normalised_complexity():
    steps = range(5)
    smooth = [0.0, 1.0, 2.0, 3.0, 4.0]  # normalised steps of 0.25
    zigzag = [0.0, 4.0, 0.0, 4.0, 0.0]  # normalised steps of 1
    rows = [dict(condition="c", seed=0, step=s, epoch=float(s), plane="GIB", layer=layer, estimator="binning",
                 kind="featurewise", measure="complexity", value=v)
            for layer, values in (("kpca25", zigzag), ("kpca50", smooth)) for s, v in zip(steps, values)]
    table = roughness(pd.DataFrame(rows), "binning", "featurewise").set_index("features")
    assert table.loc["kpca25", "roughness"] == pytest.approx(1.0)
    assert table.loc["kpca50", "roughness"] == pytest.approx(0.25)
    assert table.loc["kpca25", "complexity_range"] == pytest.approx(4.0)


def test_components_must_fit_the_probe(tmp_path):
    with pytest.raises(ValueError, match="--set components"):
        run_experiment("pca-dims", "test", {"components": "2,64"}, out=tmp_path / "run", progress=False)


def complexity_frame(curves: dict, seeds=(0,)):
    """GIB complexity rows of condition resnet20: ``curves`` maps a feature set to its values per
    step (or, with several seeds, to a list of them, one per seed)."""
    rows = []
    for layer, per_seed in curves.items():
        per_seed = per_seed if len(seeds) > 1 else [per_seed]
        for seed, values in zip(seeds, per_seed):
            rows += [dict(condition="resnet20", seed=seed, step=s, epoch=float(s), plane="GIB", layer=layer,
                          estimator="binning", kind="featurewise", measure="complexity", value=float(v))
                     for s, v in enumerate(values)]
    return pd.DataFrame(rows)


def observed(tmp_path, frame, names=("kpca25", "kpca50", "kpca100")):
    from gib.runs import RunDir

    run = RunDir.open(tmp_path / "run", "pca-dims", {"depths": [20], "components": [int(n[4:]) for n in names],
                                                      "estimator": "binning", "synergy": "featurewise"})
    run.save_table(frame)
    (claim,) = get_experiment("pca-dims").observations(run)
    return claim


# a fall then a plateau: a GIB complexity trajectory of 31 record steps
TREND = np.r_[np.linspace(0.4, 0.3, 16), np.full(15, 0.3)]


def test_contrast_is_the_roughness_difference_with_an_interval_around_it():
    rng = np.random.default_rng(0)
    curves = {name: TREND + rng.normal(0, 0.01, len(TREND)) for name in ("kpca25", "kpca50", "kpca100")}
    frame = complexity_frame(curves)
    rough = roughness(frame, "binning", "featurewise").set_index("features")["roughness"]
    interval = contrast(frame, "binning", "featurewise", "resnet20", "kpca25", "kpca100")
    assert interval.estimate == pytest.approx(rough["kpca25"] - rough["kpca100"], abs=1e-15)
    assert interval.low < interval.estimate < interval.high and interval.terms == 30 and interval.block == 4
    table = roughness_contrast(frame, "binning", "featurewise", ["kpca25", "kpca50", "kpca100"])
    assert table.loc[0, ["difference", "low", "high"]].tolist() == pytest.approx(
        [interval.estimate, interval.low, interval.high])


def test_a_difference_inside_the_noise_reads_uncertain(tmp_path):
    # the same trend with independent noise of one size: any roughness difference is sampling noise
    rng = np.random.default_rng(3)
    curves = {name: TREND + rng.normal(0, 0.01, len(TREND)) for name in ("kpca25", "kpca50", "kpca100")}
    frame = complexity_frame(curves)
    claim = observed(tmp_path, frame)
    interval = contrast(frame, "binning", "featurewise", "resnet20", "kpca25", "kpca100")
    assert interval.low < 0 < interval.high and claim.holds is None
    rough = roughness(frame, "binning", "featurewise").set_index("features")["roughness"]
    assert (f"roughness kpca25 {rough['kpca25']:.4f}, kpca50 {rough['kpca50']:.4f}, kpca100 {rough['kpca100']:.4f}"
            in claim.measured)
    assert f"kpca25 minus kpca100 {interval.estimate:+.4f}" in claim.measured
    assert f"95% interval [{interval.low:+.4f}, {interval.high:+.4f}]" in claim.measured
    assert "over the 30 record-step changes (blocks of 4, 2000 replicates, 1 seed)" in claim.measured
    assert "the interval contains zero: uncertain, the difference is inside the noise" in claim.measured


def test_a_difference_beyond_the_noise_holds_or_fails(tmp_path):
    rng = np.random.default_rng(0)
    smooth = TREND + rng.normal(0, 0.001, len(TREND))
    rough_curve = TREND + rng.normal(0, 0.03, len(TREND))
    claim = observed(tmp_path / "a", complexity_frame({"kpca25": rough_curve, "kpca50": smooth, "kpca100": smooth}))
    assert claim.holds is True and "lies above zero" in claim.measured
    claim = observed(tmp_path / "b", complexity_frame({"kpca25": smooth, "kpca50": smooth, "kpca100": rough_curve}))
    assert claim.holds is False and "lies below zero" in claim.measured


def test_several_seeds_are_averaged_and_resampled(tmp_path):
    rng = np.random.default_rng(0)
    seeds = (0, 1, 2)
    curves = {name: [TREND + rng.normal(0, 0.01, len(TREND)) for _ in seeds] for name in ("kpca25", "kpca100")}
    frame = complexity_frame(curves, seeds)
    rough = roughness(frame, "binning", "featurewise").set_index("features")["roughness"]
    interval = contrast(frame, "binning", "featurewise", "resnet20", "kpca25", "kpca100")
    assert interval.estimate == pytest.approx(rough["kpca25"] - rough["kpca100"], abs=1e-15)
    assert interval.seeds == 3 and np.isfinite(interval.low)
    claim = observed(tmp_path, frame, names=("kpca25", "kpca100"))
    assert "3 seeds, resampled" in claim.measured


def test_a_missing_feature_set_is_not_measured(tmp_path):
    claim = observed(tmp_path, complexity_frame({"kpca25": TREND, "kpca50": TREND}))
    assert claim.holds is None and claim.measured == "not measured: kpca100 has no roughness"


def test_too_few_record_steps_give_no_noise_reference(tmp_path):
    claim = observed(tmp_path, complexity_frame({"kpca25": [0.3, 0.5, 0.2], "kpca50": [0.3, 0.4, 0.35],
                                                 "kpca100": [0.3, 0.4, 0.35]}))
    assert claim.holds is None
    assert claim.measured.endswith("no interval: 2 record-step changes, fewer than 3: uncertain, no noise reference")
