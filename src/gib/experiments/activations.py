"""Fig. 2: the 12-bit task of Shwartz-Ziv & Tishby under five activations (SPEC 4 `activations`).

Net 12-10-7-5-4-3-2, truncated-normal init, Adam lr 4e-4, batch 256, 80/20 split. IB on the
last hidden layer (every layer stored) with Saxe et al.'s fixed-width bins (``ib_bin_size``,
ours to keep it configurable: per-epoch adaptive bins make every activation look compressive),
GIB on the 12 input bits with Z = (Yhat, Y). MI on all 4096 patterns at every record step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import torch
import torch.nn.functional as F

from .._progress import steps_bar
from ..data import TWELVE_BIT_TASKS, twelve_bit_task
from ..models import twelve_bit_net
from ..monitor import Monitor
from ..recorders import default_recorders
from ..phases import DEFAULT_RULE
from ..plotting import plane_grid
from ..runs import resume, save
from ..verdicts import seed_table
from . import reporting
from .base import (
    BaseConfig, Experiment, condition_frame, dump_json, epoch_generator, merge_frames, record_schedule, register,
    seed_everything, shared_null,
)
from .constraints import AtLeast, Fraction, NonEmpty, NonNegative, OneOf, Positive

ACTIVATIONS = ("tanh", "relu", "sigmoid", "softsign", "softplus")
IB_LAYER = "hidden5"  # the last hidden layer (width 3)


@dataclass
class Config(BaseConfig):
    #: one condition each: tanh, relu, sigmoid, softsign, softplus
    activations: Annotated[tuple[str, ...], NonEmpty, OneOf(ACTIVATIONS)] = ACTIVATIONS
    epochs: Annotated[int, AtLeast(1)] = 10000  #: training epochs of each net
    record_every: Annotated[int, AtLeast(1)] = 100  #: record both planes every this many epochs (and at the last)
    #: extra record steps, log-spaced, for the fast early dynamics
    record_log_points: Annotated[int, NonNegative] = 30
    lr: Annotated[float, Positive] = 4e-4  #: Adam learning rate (SPEC 4)
    batch_size: Annotated[int, AtLeast(1)] = 256  #: minibatch size (SPEC 4)
    test_fraction: Annotated[float, Fraction] = 0.2  #: held-out share of the 4096 patterns (SPEC 4: 80/20)
    data_path: str | None = None  #: the original var_u.mat, when the user has it
    #: generated labels: "original" (Shwartz-Ziv & Tishby's task, exactly) or "spherical" (gib's
    #: earlier bit-flip-symmetric task); see gib.data.twelve_bit
    task: Annotated[str, OneOf(TWELVE_BIT_TASKS)] = "original"
    #: IB binning as Saxe et al.: fixed-width bins floor(t / 0.07), the same at every epoch, so
    #: saturating units fall into few bins; none = the `estimator` with its own options
    ib_bin_size: Annotated[float | None, Positive] = 0.07

    def check(self) -> None:
        super().check()
        if self.data_path is not None and self.task != "original":
            raise ValueError(
                f"--set task={self.task}: --set data_path reads the original task; drop one of them."
            )


PRESETS = {
    "test": dict(activations=("tanh", "relu"), epochs=4, record_every=2, record_log_points=0, progress=False),
    "quick": dict(epochs=1500, record_every=25, record_log_points=10, threads=1),
    "cpu": dict(epochs=4000, record_every=50, record_log_points=20, seeds=(0, 1, 2, 3, 4), threads=1),
    "paper": dict(epochs=10000, record_every=100, record_log_points=30, seeds=(0, 1, 2, 3, 4), threads=1),
}


def run(config: Config, run_dir) -> None:
    # -- data: all 4096 patterns are the MI probe, the 80/20 split trains and tests
    task = twelve_bit_task(config.data_path, seed=0, test_fraction=config.test_fraction, task=config.task)
    X_train, y_train, X_test, y_test = task
    run_dir.write_text("data.json", dump_json({"source": task.source}))
    X_all = np.concatenate([X_train, X_test]).astype(np.float32)
    y_all = np.concatenate([y_train, y_test]).astype(np.int64)
    xt = torch.as_tensor(X_train, dtype=torch.float32, device=config.device)
    yt = torch.as_tensor(y_train, dtype=torch.long, device=config.device)
    x_test = torch.as_tensor(X_test, dtype=torch.float32, device=config.device)
    y_test_t = torch.as_tensor(y_test, dtype=torch.long, device=config.device)
    schedule = record_schedule(config.epochs, config.record_every, config.record_log_points)
    gib_spec = (config.estimator, config.estimator_kwargs())
    ib_spec = ("binning", {"bin_size": config.ib_bin_size}) if (
        config.estimator == "binning" and config.ib_bin_size) else gib_spec
    # every activation and seed is probed on the same 4096 patterns: one null serves them all
    null = shared_null(config, X_all, y_all, {config.estimator: gib_spec})
    frames = []
    for seed in config.seeds:
        for activation in config.activations:
            # -- model
            seed_everything(seed)
            model = twelve_bit_net(activation, seed=seed).to(config.device)
            optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
            recorders = default_recorders(estimators={config.estimator: gib_spec},
                                          ib_estimators={config.estimator: ib_spec},
                                          synergy_kinds=(config.synergy,), null=null)
            monitor = Monitor(model, X_all, y_all, recorders, batch_size=4096, verbose=False)
            # -- the loop: epoch 0 is recorded before any training; a checkpoint at every record
            key = f"{activation}-seed{seed}"
            start = resume(run_dir, key, model=model, optimizer=optimizer, monitor=monitor)
            with steps_bar(start, config.epochs, key, enabled=config.progress) as bar:
                for epoch in range(start, config.epochs + 1):
                    metrics = {}
                    if epoch > 0:
                        model.train()
                        order = torch.randperm(len(xt), generator=epoch_generator(seed, epoch)).to(config.device)
                        total = 0.0
                        for first in range(0, len(xt), config.batch_size):
                            idx = order[first : first + config.batch_size]
                            optimizer.zero_grad()
                            loss = F.cross_entropy(model(xt[idx]), yt[idx])
                            loss.backward()
                            optimizer.step()
                            total += loss.item() * len(idx)
                        metrics["train_loss"] = total / len(xt)
                        bar.update(1)
                    if epoch in schedule:
                        with torch.no_grad():
                            model.eval()
                            metrics["test_accuracy"] = (model(x_test).argmax(1) == y_test_t).float().mean().item()
                        monitor.record(epoch, epoch, metrics)
                        save(run_dir, key, epoch, done=epoch == config.epochs, model=model, optimizer=optimizer,
                             monitor=monitor)
            frames.append(condition_frame(monitor.rows, activation, seed))
            monitor.close()
            run_dir.save_table(merge_frames(frames))


def figures(run_dir) -> dict:
    frame = run_dir.table()
    order = [a for a in run_dir.config["activations"]]
    fig = plane_grid(frame, conditions=order, title="12-bit task: IB (last hidden layer) and GIB (input bits)",
                     **reporting.plane_selection(run_dir, IB_LAYER))
    return {"planes": fig}


def claims(run_dir) -> list[reporting.Claim]:
    frame = run_dir.table()
    return [_claim(_seeds(frame, run_dir), list(run_dir.config["activations"]))]


def _null(frame, run_dir):
    return reporting.null_of(frame, **reporting.plane_selection(run_dir, IB_LAYER))


def _seeds(frame, run_dir):
    """The seed rule's reading of every activation and plane, in the config's order."""
    table = seed_table(frame, **reporting.plane_selection(run_dir, IB_LAYER))
    return reporting.in_seed_order(table, run_dir.config["activations"])


def _claim(seeds, conditions: list[str]) -> reporting.Claim:
    """Fig. 2's claim, read by the seed rule (:class:`gib.verdicts.SeedRule`): it holds when GIB
    compresses for all five activations and IB for tanh alone; ``beyond_null``: every activation's
    GIB compression goes beyond the null predictors', paired per seed."""
    expected = {(c, "GIB"): True for c in conditions} | {(c, "IB"): c == "tanh" for c in conditions}
    return reporting.seed_claim(
        "GIB shows a compression phase for all five activations while IB does for tanh alone (Fig. 2)",
        seeds, expected, complete=set(conditions) == set(ACTIVATIONS))


def _references_section(frame, null, run_dir) -> str:
    """C*, the network's and the null's peaks above it and the part of the GIB drop that accuracy
    alone accounts for (SPEC 2, "References for the GIB plane"); ``null`` is ``_null(frame, ...)``."""
    if not frame["measure"].eq("reference_complexity").any():
        return "Not recorded: the run was made with `null=none`."
    return (
        "C* is C of a perfect predictor (a property of the task); the null is "
        f"`{run_dir.config.get('null')}` (averaged over {run_dir.config.get('null_seeds')} seeds), taken "
        "at the network's accuracy at each record step. `drop_from_accuracy` = null_drop_bits / "
        "drop_bits, the part of the GIB drop that reaching the accuracy accounts for by itself; "
        f"`beyond_null`: the network drops by at least {DEFAULT_RULE.min_drop:.0%} of its C range (the phase "
        "rule's minimum drop) more than the null and peaks further above C* (the seed-averaged reading; the "
        "verdicts over seeds above read it per resample of the seeds).\n\n" + reporting.markdown_table(null, floatfmt="{:.4f}")
    )


def report(run_dir) -> str:
    frame = run_dir.table()
    table, null = reporting.phases(frame, **reporting.plane_selection(run_dir, IB_LAYER)), _null(frame, run_dir)
    seeds = _seeds(frame, run_dir)
    conditions = list(run_dir.config["activations"])
    acc = frame[(frame["plane"] == "metric") & (frame["measure"] == "test_accuracy")]
    last = acc.sort_values("epoch").groupby("condition")["value"].last()
    return reporting.render_report(reporting.Report.of(
        run_dir, "Fig. 2: IB and GIB planes of the 12-bit task under five activations",
        data=reporting.data_line(run_dir),
        sections=[
            reporting.seed_section(seeds),
            reporting.phase_section(table, heading="Phase numbers per trajectory"),
            *reporting.estimate_sections(frame, run_dir.config["estimator"]),
            reporting.Section("GIB against its references", _references_section(frame, null, run_dir)),
            reporting.Section("Final test accuracy",
                              reporting.bullets(f"{c}: {last.get(c, float('nan')):.3f}" for c in conditions)),
        ],
        claims=[_claim(seeds, conditions)],
        figures={"planes.png": ""},
    ))


register(Experiment(
    name="activations",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    claims=claims,
))
