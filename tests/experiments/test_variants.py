"""`gib run svw` / `gib run estimators`: sub-runs per variant, side-by-side planes, report."""

import pandas as pd
import pytest

from gib.experiments import run_experiment


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
