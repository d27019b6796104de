"""The `functions` experiment (Fig. 4): test preset end to end, resume, options, helpers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gib.estimators import get_estimator
from gib.experiments import get_experiment, render, run_experiment
from gib.experiments.base import make_config, record_schedule
from gib.experiments.functions import (
    PRESETS,
    Config,
    estimator_spec,
    final_errors,
    settled_epoch,
    stalled_runs,
)
from gib.runs import RunDir


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("functions") / "run"
    return run_experiment("functions", preset="test", out=out, progress=False)


def test_test_preset_writes_config_metrics_figures_report(test_run):
    path = test_run.path
    config = json.loads((path / "config.json").read_text())["config"]
    assert config["preset"] == "test" and config["n_bins"] == 40 and config["output_bins"] == 40
    frame = pd.read_parquet(path / "metrics.parquet")
    functions = list(PRESETS["test"]["functions"])
    assert sorted(frame["condition"].unique()) == sorted(functions)
    steps = sorted(frame["step"].unique())
    assert steps == [0, 2, 4]
    for function in functions:
        rows = frame[frame["condition"] == function]
        # IB on the hidden layer and on the output; GIB on the raw inputs
        assert set(rows.loc[rows["plane"] == "IB", "layer"]) == {"hidden1", "output"}
        assert set(rows.loc[rows["plane"] == "GIB", "layer"]) == {"input"}
        metrics = rows[rows["plane"] == "metric"]
        assert {"train_mse", "test_mse"} <= set(metrics["measure"])
        per_step = metrics[metrics["measure"] == "train_mse"].groupby("step").size()
        assert list(per_step.index) == steps and (per_step == 1).all()
        values = rows.loc[rows["plane"].isin(("IB", "GIB")), "value"]
        assert np.isfinite(values).all()
    for name in ("planes", "errors"):
        assert (path / "figures" / f"{name}.png").stat().st_size > 0
    report = (path / "report.md").read_text()
    assert "GIB compresses for all five functions (Fig. 4)" in report
    assert ("**holds**" in report or "**does not hold**" in report) and "Final errors" in report
    assert "GIB: " in report and "| verdict |" in report and "## Verdicts over seeds" in report
    assert "| addition | GIB |" in report and "| addition | IB (hidden1) |" in report and "| addition | IB (output) |" in report


def test_train_mse_metric_matches_the_monitor_loss(test_run):
    # the probe set is the training set, so the monitor's own MSE equals the recorded train MSE
    frame = test_run.table()
    metric = frame[frame["plane"] == "metric"]
    loss = metric[metric["measure"] == "loss"].set_index(["condition", "step"])["value"]
    train = metric[metric["measure"] == "train_mse"].set_index(["condition", "step"])["value"]
    np.testing.assert_allclose(loss.sort_index(), train.sort_index(), rtol=1e-5)


def test_rerun_resumes_to_the_same_rows(test_run):
    before = test_run.table()
    again = run_experiment("functions", preset="test", out=test_run.path, progress=False)
    pd.testing.assert_frame_equal(before, again.table())
    assert "Claim" in render(test_run.path)


def test_options_and_clear_errors():
    config = make_config(Config, PRESETS, "cpu", {"addition_lr": "0.005", "functions": "f1,f3"})
    assert config.learning_rate("addition") == 0.005 and config.learning_rate("f1") == 0.01
    assert config.functions == ("f1", "f3") and config.seeds == (0, 1, 2, 3, 4) and config.threads == 1
    assert make_config(Config, PRESETS, "paper").n_bins == 40
    with pytest.raises(ValueError, match="--set functions"):
        make_config(Config, PRESETS, "test", {"functions": "addition,cube"})
    with pytest.raises(ValueError, match="--set lr"):
        make_config(Config, PRESETS, "test", {"lr": "-1"})
    with pytest.raises(ValueError, match="--set epochs"):
        make_config(Config, PRESETS, "test", {"epochs": "0"})


@pytest.mark.parametrize("sets", [{"estimator": "gcmi"}, {"estimator": "kde"}, {"synergy": "sum_vs_whole"}])
def test_estimator_and_synergy_options_run(tmp_path, sets):
    # run only (no figures): the full path is covered by the test preset above
    config = make_config(Config, PRESETS, "test", {"functions": "multiplication", **sets})
    config.progress = False
    run = RunDir.open(tmp_path / "run", "functions", {"preset": "test", **config.to_dict()})
    get_experiment("functions").run(config, run)
    frame = run.table()
    gib = frame[frame["plane"] == "GIB"]
    assert set(gib["estimator"]) == {run.config["estimator"]}
    assert set(gib["kind"]) == {run.config["synergy"]}
    assert np.isfinite(gib["value"]).all()


def test_record_schedule():
    assert record_schedule(30, 10) == {0, 10, 20, 30}
    assert record_schedule(25, 10) == {0, 10, 20, 25}
    assert {1, 2, 3} <= record_schedule(1000, 10, 30)


def test_settled_epoch():
    epochs = np.arange(0, 60, 10)
    # a jump at the first step, then flat: settled at epoch 10
    assert settled_epoch([1.0, -1.0, -1.0, -1.0, -1.0, -1.0], epochs) == 10
    # still moving at the end: settles only at the last record
    assert settled_epoch([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], epochs) == 50
    # constant: settled from the start
    assert settled_epoch([2.0] * 6, epochs) == 0


def _metric_frame(function, seed, values):
    return pd.DataFrame({
        "condition": function, "seed": seed, "step": np.arange(len(values)) * 10,
        "epoch": np.arange(len(values)) * 10.0, "plane": "metric", "layer": "output", "estimator": "",
        "kind": "", "measure": "train_mse", "value": values,
    })


def test_stalled_runs_flags_a_plateau_not_a_slow_decrease():
    flat = _metric_frame("addition", 6, [80.0, 0.02] + [1.2] * 18)
    slow = _metric_frame("addition", 43, list(np.geomspace(80, 2e-3, 20)))
    done = _metric_frame("addition", 0, [80.0] + [1e-12] * 19)
    stuck = stalled_runs(pd.concat([flat, slow, done]), "addition")
    assert list(stuck["seed"]) == [6]
    assert stuck["train_mse"].iloc[0] == pytest.approx(1.2)


def test_final_errors_take_the_last_record():
    frame = pd.concat([
        _metric_frame("f1", 0, [3.0, 2.0, 1.0]),
        _metric_frame("f1", 0, [30.0, 20.0, 10.0]).assign(measure="test_mse"),
    ])
    last = final_errors(frame)
    assert last.loc[0, "train_mse"] == 1.0 and last.loc[0, "test_mse"] == 10.0


def test_gcmi_ranks_the_integer_codes_of_z_as_values():
    ((name, options),) = estimator_spec(Config(estimator="gcmi")).values()
    assert (name, options) == ("gcmi", {"target_type": "continuous"})
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    codes = np.column_stack([np.digitize(X.sum(1), np.linspace(-4, 4, 39)), rng.integers(0, 40, 300)])
    ours = get_estimator(name, **options).leave_one_out(X, codes)
    plain = get_estimator("gcmi").leave_one_out(X, codes.astype(float))
    assert ours.joint == pytest.approx(plain.joint)
    np.testing.assert_allclose(ours.single, plain.single)
    np.testing.assert_allclose(ours.complement, plain.complement)
    assert ours.joint > 0.5  # the first code column carries the sum of X
    assert estimator_spec(Config())["binning"] == ("binning", {"n_bins": 40})
