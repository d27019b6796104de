"""The `activations` experiment end to end, and the run-level resume."""

import json

import pandas as pd
import pytest

from gib.experiments import run_experiment
from gib.monitor import Monitor

SETS = {"epochs": "6", "record_every": "2", "activations": "tanh,relu"}


def test_test_preset_end_to_end(tmp_path):
    run = run_experiment("activations", "test", out=tmp_path / "run", progress=False)
    config = json.loads((run.path / "config.json").read_text())
    assert config["experiment"] == "activations" and config["config"]["preset"] == "test"
    frame = pd.read_parquet(run.path / "metrics.parquet")
    assert set(frame.condition) == {"tanh", "relu"}
    assert sorted(set(frame.epoch)) == [0, 2, 4]
    ib = frame[frame.plane == "IB"]
    assert {"hidden1", "hidden5", "output"} <= set(ib.layer)
    gib_rows = frame[frame.plane == "GIB"]
    assert set(gib_rows.layer) == {"input"} and set(gib_rows.kind) == {"featurewise"}
    assert (run.path / "figures" / "planes.png").stat().st_size > 10_000
    source = json.loads((run.path / "data.json").read_text())["source"]
    assert "Shwartz-Ziv & Tishby (original labels" in source
    report = (run.path / "report.md").read_text()
    assert "**Claim:** GIB shows a compression phase" in report
    assert "| tanh | GIB |" in report
    # the claim is read against the null predictors recorded beside the network
    from gib.experiments import get_experiment
    from gib.experiments import reporting
    from gib.experiments.reporting import null_table
    from gib.runs import RunDir

    (claim,) = get_experiment("activations").claims(RunDir.load(run.path))
    null = null_table(frame, estimator="binning")
    assert set(null.condition) == {"tanh", "relu"} and null["c_star"].notna().all()
    # one seed: the claim's beyond-the-null reading is the phase rule's and the null table's
    table = reporting.phases(frame, ib_layer="hidden5", estimator="binning", kind="featurewise")
    compressing = set(table.loc[(table["plane"] == "GIB") & (table["verdict"] == "compresses"), "condition"])
    assert claim.beyond_null == all(r.beyond_null and r.condition in compressing for r in null.itertuples())
    assert "beyond the null: tanh" in claim.measured and "network minus null" in claim.measured
    assert f"beyond the null: {reporting.beyond_text(claim.beyond_null)}" in report


def test_interrupted_run_resumes_identical(tmp_path, monkeypatch):
    whole = run_experiment("activations", "test", SETS, out=tmp_path / "whole", progress=False)
    expected = pd.read_parquet(whole.path / "metrics.parquet")

    calls = {"n": 0}
    original = Monitor.record

    def crash_after_five(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 5:  # tanh: 4 record steps; relu: dies after its first
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Monitor, "record", crash_after_five)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("activations", "test", SETS, out=tmp_path / "split", progress=False)
    monkeypatch.setattr(Monitor, "record", original)
    assert (tmp_path / "split" / "checkpoints" / "relu-seed0.pt").exists()

    resumed = run_experiment("activations", "test", SETS, out=tmp_path / "split", progress=False)
    got = pd.read_parquet(resumed.path / "metrics.parquet")
    pd.testing.assert_frame_equal(got, expected)


def test_a_different_config_is_refused_in_the_same_directory(tmp_path):
    run_experiment("activations", "test", out=tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match="differs in: epochs"):
        run_experiment("activations", "test", {"epochs": "8"}, out=tmp_path / "run", progress=False)


def test_bad_set_values_name_the_key(tmp_path):
    with pytest.raises(ValueError, match="--set activations=tanh,swish: unknown 'swish'; choose from tanh, relu"):
        run_experiment("activations", "test", {"activations": "tanh,swish"}, out=tmp_path / "a")
    with pytest.raises(ValueError, match="--set epochs='many'"):
        run_experiment("activations", "test", {"epochs": "many"}, out=tmp_path / "b")
    with pytest.raises(ValueError, match="unknown key"):
        run_experiment("activations", "test", {"epoch": "3"}, out=tmp_path / "c")
    with pytest.raises(ValueError, match="--set task=xor: unknown 'xor'; choose from original, spherical"):
        run_experiment("activations", "test", {"task": "xor"}, out=tmp_path / "d")
    with pytest.raises(ValueError, match="--set task=spherical: --set data_path"):
        run_experiment("activations", "test", {"task": "spherical", "data_path": "var_u.mat"}, out=tmp_path / "e")
