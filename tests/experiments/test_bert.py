import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("transformers")

from gib.experiments import get_experiment, render, run_experiment  # noqa: E402
from gib.experiments import bert  # noqa: E402
from gib.experiments.base import make_config  # noqa: E402
from gib.runs import RunDir  # noqa: E402

TOPICS = {1: "minister election treaty embassy", 2: "goal match league coach", 3: "shares profit market bank",
          4: "software chip internet robot"}


def write_ag_news(folder, n_train=48, n_test=16, seed=0):
    """AG News csv files (class 1..4, title, description; no header) with class-specific words."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        lines = []
        for i in range(n):
            c = i % 4 + 1
            words = rng.permutation(TOPICS[c].split() + ["the", "a", "news", "today"]).tolist()
            lines.append(f'"{c}","Story {i}","{" ".join(words)}, said a ""source""."')
        (folder / f"{split}.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(autouse=True)
def no_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv("GIB_DATA_DIR", str(tmp_path / "no-data"))


def test_shuffled_labels_keep_class_counts_exactly():
    y = np.repeat(np.arange(4), [30, 10, 25, 35])
    for seed in range(5):
        z = bert.shuffled_labels(y, np.random.default_rng(seed))
        assert np.array_equal(np.bincount(z, minlength=4), np.bincount(y, minlength=4))
        assert np.mean(z != y) > 0.3  # actually shuffled
    again = bert.shuffled_labels(y, np.random.default_rng(0))
    assert np.array_equal(again, bert.shuffled_labels(y, np.random.default_rng(0)))


def test_record_steps_are_global_steps():
    assert bert.record_steps(2, 10, 4) == [0, 2, 5, 7, 10, 12, 15, 17, 20]
    assert bert.record_steps(1, 3, 24) == [0, 1, 2, 3]  # more records than batches: every batch


def test_load_task_reads_ag_news_csv_and_bbc_folders(tmp_path):
    folder = write_ag_news(tmp_path / "ag")
    config = make_config(bert.Config, bert.PRESETS, "test", {"data_path": str(folder), "train_samples": "20"})
    tokenizer = bert.make_tokenizer(config, bert.resolve_model(config.model))
    task = bert.load_task(config, tokenizer)
    assert task.train_ids.shape == (20, 16) and task.test_ids.shape == (16, 16)
    assert task.classes == ("World", "Sports", "Business", "Sci/Tech")
    assert set(task.train_y.tolist()) <= {0, 1, 2, 3} and len(task.probe) == config.mi_samples
    assert str(folder / "train.csv") in task.info["source"] and not task.info["loader_notes"]
    assert (task.train_ids[:, 0] == tokenizer.cls_token_id).all()
    # BBC News layout: one folder of .txt files per class
    bbc = tmp_path / "bbc"
    for name in ("business", "sport"):
        (bbc / name).mkdir(parents=True)
        for i in range(15):
            (bbc / name / f"{i:03d}.txt").write_text(f"{name} story {i}\n\n{TOPICS[1 if name == 'sport' else 3]}")
    config = make_config(bert.Config, bert.PRESETS, "test",
                         {"dataset": "bbc_news", "data_path": str(bbc), "train_samples": "20", "test_samples": "0"})
    task = bert.load_task(config, tokenizer)
    assert task.classes == ("business", "sport") and task.train_ids.shape == (20, 16) and len(task.test_ids) == 6


def test_bad_settings_name_the_key(tmp_path):
    with pytest.raises(ValueError, match="--set model=.*no such folder"):
        make_config(bert.Config, bert.PRESETS, "test", {"model": str(tmp_path / "missing-model"), "tokenizer": "hash"})
    with pytest.raises(ValueError, match="--set protocols"):
        make_config(bert.Config, bert.PRESETS, "test", {"protocols": "standard,typo"})
    with pytest.raises(ValueError, match="--set mi_samples"):
        make_config(bert.Config, bert.PRESETS, "test", {"mi_samples": "100"})
    with pytest.raises(ValueError, match="--set model=no-such-model-anywhere: .*local Hugging Face cache"):
        bert.resolve_model("no-such-model-anywhere")
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(ValueError, match="no config.json"):
        bert.resolve_model(str(tmp_path / "not-a-model"))


def test_missing_model_folder_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match="--set model="):
        run_experiment("bert", preset="test", sets={"model": str(tmp_path / "bert-base-uncased")},
                       out=tmp_path / "run", progress=False)


def test_bert_test_preset_end_to_end(tmp_path):
    data = write_ag_news(tmp_path / "ag")
    run = run_experiment("bert", preset="test", sets={"data_path": str(data)}, out=tmp_path / "run", progress=False)
    assert (run.path / "config.json").exists()
    frame = pd.read_parquet(run.path / "metrics.parquet")
    assert set(frame["condition"]) == {"standard", "unlearning"}
    planes = frame[frame["plane"] != "metric"]
    # 40 texts, batch 8: 5 steps an epoch, 2 records an epoch, global steps
    assert sorted(planes.loc[planes["condition"] == "standard", "step"].unique()) == [0, 2, 5]
    assert sorted(planes.loc[planes["condition"] == "unlearning", "step"].unique()) == [0, 2, 5, 7, 10]
    gib = planes[planes["plane"] == "GIB"]
    assert set(gib["layer"]) == {"tokens"} and set(gib["kind"]) == {"featurewise"}
    assert set(planes.loc[planes["plane"] == "IB", "layer"]) == {"output"}
    shuffled = frame[(frame["measure"] == "shuffled_labels") & (frame["condition"] == "unlearning")]
    assert shuffled.set_index("step")["value"].to_dict() == {0: 1.0, 2: 1.0, 5: 0.0, 7: 0.0, 10: 0.0}
    assert ((frame["measure"] == "test_accuracy") & (frame["condition"] == "standard")).sum() == 2
    for name in ("planes", "random_labels", "metrics"):
        assert (run.path / "figures" / f"{name}.png").exists()
    report = (run.path / "report.md").read_text()
    assert "**Claim:**" in report and "AG News" in report and str(data / "train.csv") in report
    assert "pass through unbinned" in report or "passes them through unbinned" in report
    observations = get_experiment("bert").observations(run)  # what `gib reproduce` lists
    assert len(observations) == 3 and all(o.markdown() in report for o in observations)
    info = json.loads((run.path / "data.json").read_text())
    assert info["n_train"] == 40 and info["max_length"] == 16 and "random initialisation" in info["model"]
    # a finished run resumes as a no-op (no model is built) and keeps its model description
    bert.run(make_config(bert.Config, bert.PRESETS, "test", {"data_path": str(data)}), RunDir.load(run.path))
    assert report == render(run.path)
    assert "random initialisation" in json.loads((run.path / "data.json").read_text())["model"]


def test_killed_run_resumes_identically(tmp_path, monkeypatch):
    data = write_ag_news(tmp_path / "ag")
    sets = {"data_path": str(data), "protocols": "unlearning"}
    config = make_config(bert.Config, bert.PRESETS, "test", sets)
    whole = RunDir.open(tmp_path / "whole", "bert", config.to_dict())
    bert.run(config, whole)

    calls = {"n": 0}
    record = bert.Monitor.record

    def dying(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # killed at step 10, so it resumes from step 7, mid-epoch
            raise KeyboardInterrupt
        return record(self, *args, **kwargs)

    killed = RunDir.open(tmp_path / "killed", "bert", config.to_dict())
    monkeypatch.setattr(bert.Monitor, "record", dying)
    with pytest.raises(KeyboardInterrupt):
        bert.run(config, killed)
    monkeypatch.setattr(bert.Monitor, "record", record)
    assert killed.load_checkpoint("unlearning-seed0")["step"] == 7
    bert.run(config, killed)
    columns = ["condition", "step", "plane", "measure", "value"]
    a = whole.table()[columns].sort_values(columns[:4]).reset_index(drop=True)
    b = killed.table()[columns].sort_values(columns[:4]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("estimator", ["gcmi", "kde"])
def test_other_estimators_and_sum_vs_whole(tmp_path, estimator):
    data = write_ag_news(tmp_path / "ag")
    sets = {"data_path": str(data), "protocols": "standard", "estimator": estimator, "synergy": "sum_vs_whole",
            "mi_samples": "40", "max_length": "6"}
    if estimator == "gcmi":  # class-wise Gaussian fits need more samples per class of Z than features
        sets["gib_target"] = "y"
    config = make_config(bert.Config, bert.PRESETS, "test", sets)
    run = RunDir.open(tmp_path / "run", "bert", config.to_dict())
    bert.run(config, run)
    gib = run.table().query("plane == 'GIB'")
    assert set(gib["estimator"]) == {estimator} and set(gib["kind"]) == {"sum_vs_whole"}
    assert np.isfinite(gib["value"]).all()
