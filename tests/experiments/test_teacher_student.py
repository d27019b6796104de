"""teacher-student (Fig. 3b): the correlation, resumable training, and the test preset end to end
on a tiny CIFAR-10 folder written here (no download, no stand-in). The synergy ratio itself is
tested in test_measures.py."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from gib.experiments import render, run_experiment
from gib.experiments.base import make_config
from gib.experiments import teacher_student
from gib.experiments.teacher_student import PRESETS, Config, correlation
from gib.runs import RunDir


def test_correlation_needs_three_points():
    assert math.isnan(correlation([0.1, 0.2], [1.0, 0.0])[0])
    r, p = correlation([0.1, 0.2, 0.3, 0.4], [4.0, 3.0, 2.0, 1.0])
    assert r == pytest.approx(-1.0) and p < 1e-6


# -- config -------------------------------------------------------------------------------------
def test_config_errors_name_the_key_and_estimator_options_are_accepted():
    with pytest.raises(ValueError, match="--set depths"):
        make_config(Config, PRESETS, "test", {"depths": "8,9"})
    with pytest.raises(ValueError, match="--set gap"):
        make_config(Config, PRESETS, "test", {"gap": "f1"})
    with pytest.raises(ValueError, match="--set milestones"):
        make_config(Config, PRESETS, "test", {"milestones": "50,75"})
    config = make_config(Config, PRESETS, "test", {"estimator": "kde", "synergy": "sum_vs_whole", "gap": "loss"})
    assert (config.estimator, config.synergy, config.gap) == ("kde", "sum_vs_whole", "loss")


# -- resumable training -------------------------------------------------------------------------
def test_a_pair_killed_mid_training_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    cifar = write_tiny_cifar(tmp_path / "cifar-10-batches-py")
    sets = {"data_path": str(cifar), "seeds": "0", "epochs": "3", "student_epochs": "3"}
    config = make_config(Config, PRESETS, "test", sets)
    whole = RunDir.open(tmp_path / "whole", "teacher-student", config.to_dict())
    teacher_student.run(config, whole)

    calls = {"n": 0}
    save = teacher_student.save

    def killed_after_the_fourth_checkpoint(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # the teacher's 3 epochs and the student's first are saved; killed in its second
            raise KeyboardInterrupt
        return save(*args, **kwargs)

    split = RunDir.open(tmp_path / "split", "teacher-student", config.to_dict())
    monkeypatch.setattr(teacher_student, "save", killed_after_the_fourth_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        teacher_student.run(config, split)
    monkeypatch.setattr(teacher_student, "save", save)
    assert split.load_checkpoint("student-depth8-seed0")["step"] == 1
    teacher_student.run(config, split)
    pd.testing.assert_frame_equal(whole.table(), split.table())
    timing = ["teacher_seconds", "student_seconds"]
    pd.testing.assert_frame_equal(whole.table("results.parquet").drop(columns=timing),
                                  split.table("results.parquet").drop(columns=timing))


# -- end to end ---------------------------------------------------------------------------------
def write_tiny_cifar(folder, n=40):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, n)
        data = (rng.integers(0, 64, (n, 3072)) + labels[:, None] * 19).astype(np.uint8)
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": data, b"labels": [int(v) for v in labels]}, handle)
    return folder


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("teacher_student")
    cifar = write_tiny_cifar(root / "cifar-10-batches-py")
    sets = {"data_path": str(cifar)}
    return run_experiment("teacher-student", preset="test", sets=sets, out=root / "run", progress=False), sets


def test_test_preset_runs_end_to_end(test_run):
    run, _ = test_run
    for name in ("config.json", "results.parquet", "metrics.parquet", "report.md",
                 "figures/synergy_vs_gap.png", "figures/training.png"):
        assert (run.path / name).exists(), name
    results = pd.read_parquet(run.path / "results.parquet")
    assert sorted(zip(results["depth"], results["seed"])) == [(8, 0), (8, 1), (8, 2)]
    ratio = results["student_cross_entropy_bits"] / results["teacher_marginal_entropy_bits"]
    np.testing.assert_allclose(results["synergy_ratio"], ratio)
    np.testing.assert_allclose(results["accuracy_gap"],
                               results["teacher_train_accuracy"] - results["teacher_test_accuracy"])
    assert (results["teacher_mean_entropy_bits"] <= results["student_cross_entropy_bits"] + 1e-9).all()
    assert results["data_source"].str.contains("CIFAR-10 train: pickles").all()
    metrics = pd.read_parquet(run.path / "metrics.parquet")
    assert set(metrics["role"]) == {"teacher", "student"}
    assert len(metrics[(metrics["measure"] == "train_loss_bits")]) == 3 * 2  # 3 seeds x 2 roles x 1 epoch
    assert sorted(p.name for p in (run.path / "checkpoints").glob("*.pt")) == sorted(
        f"{role}-depth8-seed{s}.pt" for role in ("teacher", "student") for s in range(3))
    report = (run.path / "report.md").read_text()
    assert "**Claim:** synergy ratio vs generalization gap is negatively correlated (Fig. 3b)" in report
    assert "Pearson r = " in report and "CIFAR-10 train: pickles" in report


def test_rerun_skips_finished_pairs_and_rebuilds_from_checkpoints(test_run):
    run, sets = test_run
    before = pd.read_parquet(run.path / "results.parquet")
    again = run_experiment("teacher-student", preset="test", sets=sets, out=run.path, progress=False)
    pd.testing.assert_frame_equal(before, pd.read_parquet(again.path / "results.parquet"))
    # without the tables, the finished checkpoints give back the same numbers (no retraining)
    (run.path / "results.parquet").unlink()
    (run.path / "metrics.parquet").unlink()
    rebuilt = pd.read_parquet(run_experiment("teacher-student", preset="test", sets=sets, out=run.path,
                                             progress=False).path / "results.parquet")
    numbers = [c for c in before.columns if c not in ("teacher_seconds", "student_seconds", "data_source")]
    pd.testing.assert_frame_equal(before[numbers], rebuilt[numbers])
    assert "Pearson" in render(run.path)


@pytest.mark.parametrize("gaps, holds", [
    ([0.30, 0.25, 0.21, 0.14, 0.10, 0.04], True),   # strongly negative: r ~ -0.99, p < 0.001
    ([0.20, 0.10, 0.25, 0.05, 0.22, 0.12], False),  # negative r that chance explains (p ~ 0.76)
    ([0.04, 0.10, 0.14, 0.21, 0.25, 0.30], False),  # positive
])
def test_the_claim_needs_a_significant_negative_correlation(tmp_path, gaps, holds):
    from gib.experiments import get_experiment
    from gib.experiments.teacher_student import RESULTS

    run = RunDir.open(tmp_path / "run", "teacher-student", {"gap": "accuracy", "claim_alpha": 0.05})
    ratios = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    run.save_table(pd.DataFrame({"depth": [8, 8, 14, 14, 20, 20], "seed": [0, 1] * 3, "synergy_ratio": ratios,
                                 "accuracy_gap": gaps}), RESULTS)
    (claim,) = get_experiment("teacher-student").claims(run)
    r, p = correlation(pd.Series(ratios), pd.Series(gaps))
    assert claim.holds is holds
    assert f"r = {r:.3f}" in claim.measured and f"p = {p:.3g}" in claim.measured
    assert (r < 0) == (not gaps[0] < gaps[-1])
