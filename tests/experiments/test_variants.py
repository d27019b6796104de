"""`gib run svw` / `gib run estimators`: sub-runs per variant, side-by-side planes, report."""

import json

import pandas as pd
import pytest

from gib.experiments import experiments, run_experiment
from gib.experiments.base import make_config
from gib.experiments.variants import _sub_sets


def test_svw_test_preset_end_to_end(tmp_path):
    run = run_experiment("svw", "test", {"experiments": "functions"}, out=tmp_path / "svw", progress=False)
    for variant in ("featurewise", "sum_vs_whole"):
        sub = run.path / f"functions-{variant}"
        frame = pd.read_parquet(sub / "metrics.parquet")
        assert set(frame[frame.plane == "GIB"].kind) == {variant}
    fw = pd.read_parquet(run.path / "functions-featurewise" / "metrics.parquet")
    svw = pd.read_parquet(run.path / "functions-sum_vs_whole" / "metrics.parquet")
    # two-input functions: the two synergies coincide (SPEC 2), a check on both code paths
    pick = lambda f: f[(f.plane == "GIB") & (f.measure == "complexity")].value.to_numpy()  # noqa: E731
    assert pick(fw) == pytest.approx(pick(svw), abs=1e-9)
    report = (run.path / "report.md").read_text()
    assert "| functions | sum_vs_whole | GIB |" in report
    assert "[functions, synergy=sum_vs_whole] GIB compresses for all five functions" in report
    assert (run.path / "figures" / "functions-variants.png").exists()


def test_estimators_test_preset_runs_each_estimator(tmp_path):
    run = run_experiment("estimators", "test", {"experiments": "functions"}, out=tmp_path / "est", progress=False)
    for variant in ("binning", "kde", "gcmi"):
        frame = pd.read_parquet(run.path / f"functions-{variant}" / "metrics.parquet")
        assert set(frame[frame.plane != "metric"].estimator) == {variant}
    assert "| functions | gcmi | GIB |" in (run.path / "report.md").read_text()


def test_bad_variant_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="--set experiments"):
        run_experiment("svw", "test", {"experiments": "resnet"}, out=tmp_path / "x")


def test_base_sets_and_the_device_reach_every_sub_run():
    exp = experiments()["estimators"]
    config = make_config(exp.config_cls, exp.presets, "paper", {"base_sets": "epochs=7,seeds=3,record_every=5"})
    sub = experiments()["activations"]
    for variant in ("binning", "kde", "gcmi"):
        sub_config = make_config(sub.config_cls, sub.presets, "paper", _sub_sets(config, "estimator", variant))
        assert (sub_config.epochs, sub_config.seeds, sub_config.record_every) == (7, (3,), 5)
        assert sub_config.estimator == variant  # the variant, whatever base_sets says
        assert sub_config.record_log_points == 30 and sub_config.lr == 4e-4  # the rest: the paper preset's
    config.device = "cuda:1"  # (a config made here checks that torch sees the device; this one is not checked)
    assert _sub_sets(config, "estimator", "kde")["device"] == "cuda:1"


@pytest.mark.parametrize("base_sets, message", [
    ("n_train=100", "the activations sub-run estimator=binning with base_sets=n_train=100 .*unknown key"),
    ("epochs=0", "the activations sub-run .*--set epochs=0"),
    ("estimator=kde", "the sub-runs take estimator from --set variants"),
    ("device=cuda", "the sub-runs take device from --device"),
    ("epochs", "--set base_sets.*key=value"),
])
def test_bad_base_sets_are_named_before_anything_is_written(tmp_path, base_sets, message):
    with pytest.raises(ValueError, match=message):
        run_experiment("estimators", "test", {"base_sets": base_sets}, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_stored_run_without_base_sets_keeps_its_config():
    """A run stored before `base_sets` existed resumes: unset, the key is not in the stored config."""
    exp = experiments()["svw"]
    assert "base_sets" not in make_config(exp.config_cls, exp.presets, "cpu").to_dict()
    stored = make_config(exp.config_cls, exp.presets, "cpu", {"base_sets": "epochs=5"}).to_dict()
    assert json.loads(json.dumps(stored))["base_sets"] == ["epochs=5"]
