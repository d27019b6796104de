"""Fig. 4: one-hidden-layer nets learning five simple functions (SPEC 4 `functions`, App. E.3).

Nets (no biases, PyTorch's default init): addition 2-4-1 identity, multiplication 2-3-1 square,
f1 3-16-1, f2 3-8-1, f3 4-16-1 square. Plain full-batch gradient descent (SGD, no momentum),
lr 0.01, 1000 epochs, MSE; 1500 training samples, 1500 test samples from twice the range.
MI on the training set every 10 epochs with 40 bins. A regression: Yhat is the net's output,
binned like Y in ``output_bins`` bins (SPEC 2). IB on the hidden layer (and the output); GIB on
the 2-4 raw inputs with Z = (Yhat, Y). Train and test (wider range) MSE are recorded as metrics.

Addition with lr 0.01 on U[-10, 10] (ours, measured): GD does not blow up, but the balanced
solutions of the 2-4-1 linear net have a loss sharpness near 2/lr = 200. Of seeds 0-99, seeds 0-4
converge (train MSE ~1e-12); seeds 6 and 28 settle into a period-2 oscillation at the edge of
stability (train MSE 1.22 and 0.21 after 1000 epochs, measured sharpness 238 and 183) and 43 and
54 are still slowly converging (2e-4, 1e-4). The paper uses no input normalisation, so the
default keeps its protocol; ``addition_lr`` (ours) sets a separate learning rate for the addition
net: 0.005 brings all 100 seeds below 1e-6. A loss that becomes non-finite stops the run with an
error naming ``--set lr`` / ``addition_lr``. The report flags addition runs that stalled.

Addition converges within ~10 epochs, so at one record every 10 epochs its GIB trajectory is a
single jump followed by a constant plateau, which the SPEC 2 Spearman rule may not call sustained;
the report gives ``settled_epoch`` (when complexity reached its final value) to show it, and
``record_log_points`` (ours, default 0 = the paper's schedule) adds log-spaced early records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .._progress import steps_bar
from ..models import FUNCTION_NAMES, function_data, function_net
from ..monitor import OUTPUT, Monitor
from ..recorders import default_recorders
from ..plotting import metric_curves, plane_grid, trajectories
from ..runs import resume, save
from ..verdicts import seed_table
from . import reporting
from .base import BaseConfig, Experiment, condition_frame, merge_frames, record_schedule, register, seed_everything
from .constraints import AtLeast, NonEmpty, NonNegative, OneOf, Positive

IB_LAYER = "hidden1"  # the one hidden layer
METRICS = ("train_mse", "test_mse")


@dataclass
class Config(BaseConfig):
    #: one net each: addition, multiplication, f1, f2, f3
    functions: Annotated[tuple[str, ...], NonEmpty, OneOf(FUNCTION_NAMES)] = FUNCTION_NAMES
    n_bins: Annotated[int, AtLeast(2)] = 40  #: bins per column of the MI estimates (App. E.3)
    output_bins: Annotated[int, AtLeast(1)] = 40  #: bins of Yhat and Y in the GIB (regression, SPEC 2)
    epochs: Annotated[int, AtLeast(1)] = 1000  #: full-batch gradient-descent epochs
    lr: Annotated[float, Positive] = 0.01  #: plain GD learning rate (SPEC 4)
    addition_lr: Annotated[float | None, Positive] = None  #: (ours) lr of the addition net; None: ``lr``
    n_train: Annotated[int, AtLeast(2)] = 1500  #: training samples (also the MI probe)
    n_test: Annotated[int, AtLeast(2)] = 1500  #: test samples, from twice the training range
    record_every: Annotated[int, AtLeast(1)] = 10  #: record both planes every this many epochs (SPEC 4: 10)
    #: (ours) extra log-spaced record epochs for the fast early dynamics
    record_log_points: Annotated[int, NonNegative] = 0

    def learning_rate(self, function: str) -> float:
        return self.addition_lr if function == "addition" and self.addition_lr is not None else self.lr


PRESETS = {
    "test": dict(functions=("addition", "multiplication"), epochs=4, record_every=2, n_train=200, n_test=200,
                 threads=1, progress=False),
    "quick": dict(epochs=1000, record_every=10, threads=1),
    "cpu": dict(epochs=1000, record_every=10, seeds=(0, 1, 2, 3, 4), threads=1),
    "paper": dict(epochs=1000, record_every=10, seeds=(0, 1, 2, 3, 4), threads=1),
}


def estimator_spec(config: Config) -> dict:
    """The monitor's {label: (estimator, options)}. ``gcmi`` ranks the regression Z = (Yhat, Y)
    as continuous values (``target_type="continuous"``, ours): the monitor hands the GIB integer bin
    codes of Yhat and Y (ordered like the values), which as class labels would split into up to
    ``output_bins``^2 classes, most too small for a class covariance; App. F.2 says GCMI needs
    no discretisation. The PMI weights still come from the binned histogram."""
    options = config.estimator_kwargs()
    if config.estimator == "gcmi":
        options = {**options, "target_type": "continuous"}
    return {config.estimator: (config.estimator, options)}


def run(config: Config, run_dir) -> None:
    schedule = record_schedule(config.epochs, config.record_every, config.record_log_points)
    frames = []
    for seed in config.seeds:
        for function in config.functions:
            # -- data and model (each function and seed has its own data, so its own null)
            seed_everything(seed)
            x_train, y_train = function_data(function, config.n_train, "train", seed=seed)
            x_test, y_test = function_data(function, config.n_test, "test", seed=seed)
            x_train, y_train = x_train.to(config.device), y_train.to(config.device)
            x_test, y_test = x_test.to(config.device), y_test.to(config.device)
            model = function_net(function, seed=seed).to(config.device)
            lr = config.learning_rate(function)
            optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
            monitor = Monitor(
                model, x_train.cpu().numpy(), y_train.cpu().numpy(),
                default_recorders(output_bins=config.output_bins, estimators=estimator_spec(config),
                                  synergy_kinds=(config.synergy,), null=config.null, null_seeds=config.null_seeds),
                task="regression", batch_size=config.n_train, verbose=False,
            )
            # -- the loop: full-batch GD; epoch 0 is recorded before any training
            key = f"{function}-seed{seed}"
            start = resume(run_dir, key, model=model, optimizer=optimizer, monitor=monitor)
            with steps_bar(start, config.epochs, key, enabled=config.progress) as bar:
                for epoch in range(start, config.epochs + 1):
                    if epoch > 0:
                        model.train()
                        optimizer.zero_grad()
                        loss = F.mse_loss(model(x_train), y_train)
                        if not torch.isfinite(loss):
                            raise FloatingPointError(
                                f"{function}: the training loss became {loss.item()} at epoch {epoch} with lr "
                                f"{lr}; gradient descent diverged. Lower it with --set lr=... (or --set "
                                "addition_lr=... for the addition net)."
                            )
                        loss.backward()
                        optimizer.step()
                        bar.update(1)
                    if epoch in schedule:
                        with torch.no_grad():
                            model.eval()
                            errors = {"train_mse": F.mse_loss(model(x_train), y_train).item(),
                                      "test_mse": F.mse_loss(model(x_test), y_test).item()}
                        monitor.record(epoch, epoch, errors)
                        save(run_dir, key, epoch, done=epoch == config.epochs, model=model, optimizer=optimizer,
                             monitor=monitor)
            frames.append(condition_frame(monitor.rows, function, seed))
            monitor.close()
            run_dir.save_table(merge_frames(frames))


def _selection(run_dir, ib_layer: str = IB_LAYER) -> dict:
    return reporting.plane_selection(run_dir, ib_layer, "input")


def _order(run_dir, frame: pd.DataFrame) -> list[str]:
    present = set(frame["condition"])
    return [f for f in run_dir.config["functions"] if f in present]


def figures(run_dir) -> dict:
    frame = run_dir.table()
    order = _order(run_dir, frame)
    planes = plane_grid(frame, conditions=order, **_selection(run_dir),
                        title="Simple functions: IB (hidden layer) and GIB (raw inputs, Z = (Ŷ, Y))")
    errors = metric_curves(frame, METRICS, conditions=order)
    for ax in errors.axes:
        if ax.get_ylabel() in METRICS:
            ax.set_yscale("log")  # errors span many decades (addition reaches ~1e-12)
            ax.set_ylabel(ax.get_ylabel().replace("_mse", " MSE"))
    errors.suptitle("Train error (training range) and test error (twice the range)", fontsize=10)
    return {"planes": planes, "errors": errors}


def final_errors(frame: pd.DataFrame) -> pd.DataFrame:
    """Final train and test MSE per function and seed (last record step of each run)."""
    rows = frame[(frame["plane"] == "metric") & frame["measure"].isin(METRICS)]
    last = rows.sort_values("step").groupby(["condition", "seed", "measure"])["value"].last()
    return last.unstack("measure").reset_index()


def error_table(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    per_seed = final_errors(frame)
    out = []
    for function in order:
        rows = per_seed[per_seed["condition"] == function]
        out.append({
            "function": function, "n_seeds": len(rows),
            "train_mse_mean": float(rows["train_mse"].mean()), "train_mse_max": float(rows["train_mse"].max()),
            "test_mse_mean": float(rows["test_mse"].mean()), "test_mse_max": float(rows["test_mse"].max()),
        })
    return pd.DataFrame(out)


def stalled_runs(frame: pd.DataFrame, function: str, min_mse: float = 1e-3, tail: float = 0.3) -> pd.DataFrame:
    """Runs of ``function`` whose train MSE ended above ``min_mse`` without decreasing by more than
    10% over the last ``tail`` of the record steps (stalled, not merely unfinished)."""
    rows = frame[(frame["plane"] == "metric") & (frame["measure"] == "train_mse") & (frame["condition"] == function)]
    out = []
    for seed, run in rows.sort_values("step").groupby("seed"):
        values = run["value"].to_numpy(float)
        start = values[min(len(values) - 1, int(np.floor((1 - tail) * (len(values) - 1))))]
        if len(values) >= 10 and values[-1] > min_mse and values[-1] >= 0.9 * start:
            out.append({"seed": int(seed), "train_mse": float(values[-1]), "earlier": float(start)})
    return pd.DataFrame(out, columns=["seed", "train_mse", "earlier"])


def _stalled_note(frame: pd.DataFrame, lr) -> str:
    stuck = stalled_runs(frame, "addition")
    if stuck.empty:
        return ""
    return (
        "\nAddition stalled for seed(s) "
        + ", ".join(f"{r.seed} (train MSE {r.earlier:.3g} -> {r.train_mse:.3g} over the last 30% of epochs)"
                    for r in stuck.itertuples())
        + f". With lr {lr} on U[-10, 10] gradient descent can settle into a period-2 oscillation at the edge "
        "of stability (the module docstring gives the measurements); `--set addition_lr=0.005` (ours) converges."
    )


def settled_epoch(complexity, epochs, tolerance: float = 0.05) -> float:
    """The first epoch from which complexity stays within ``tolerance`` of its range of its final
    value (a trajectory that jumps and then stays flat settles early; one still moving, late)."""
    c, e = np.asarray(complexity, dtype=float), np.asarray(epochs, dtype=float)
    band = tolerance * (np.ptp(c) or 1.0)
    outside = np.flatnonzero(np.abs(c - c[-1]) > band)
    return float(e[0] if len(outside) == 0 else e[min(outside[-1] + 1, len(e) - 1)])


def _extra_columns(frame: pd.DataFrame, table: pd.DataFrame, layers: dict, estimator: str, kind: str) -> pd.DataFrame:
    """Add ``settled_epoch`` and the raw ranges of the seed-averaged complexity and prediction
    (bits) to a phase table whose ``plane`` column is a key of ``layers``."""
    settled, c_range, p_range = [], [], []
    for row in table.itertuples():
        plane, layer = layers[row.plane]
        select = dict(condition=row.condition, layer=layer, estimator=estimator,
                      kind=kind if plane == "GIB" else None)
        mean = trajectories(frame, plane, **select)
        settled.append(settled_epoch(mean["complexity"], mean["epoch"]))
        c_range.append(float(np.ptp(mean["complexity"])))
        p_range.append(float(np.ptp(mean["prediction"])))
    return table.assign(settled_epoch=settled, c_range_bits=c_range, p_range_bits=p_range)


def _phase_numbers(run_dir, frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Phase numbers of GIB, IB of the hidden layer and IB of the output, per function."""
    cfg = run_dir.config
    hidden = reporting.phases(frame, **_selection(run_dir))
    output = reporting.phases(frame, **_selection(run_dir, OUTPUT))
    output = output[output["plane"] == "IB"].assign(plane="IB (output)")
    hidden = hidden.assign(plane=hidden["plane"].map({"IB": f"IB ({IB_LAYER})", "GIB": "GIB"}))
    table = pd.concat([hidden, output], ignore_index=True)
    table["order"] = table["condition"].map({f: i for i, f in enumerate(order)})
    table = table.sort_values(["order", "plane"]).drop(columns="order").reset_index(drop=True)
    layers = {"GIB": ("GIB", "input"), f"IB ({IB_LAYER})": ("IB", IB_LAYER), "IB (output)": ("IB", OUTPUT)}
    return _extra_columns(frame, table, layers, cfg["estimator"], cfg["synergy"])


def claims(run_dir) -> list[reporting.Claim]:
    frame = run_dir.table()
    order = _order(run_dir, frame)
    return _claims(_seeds(run_dir, frame, order), order)


HIDDEN, OUTPUT_PLANE = f"IB ({IB_LAYER})", "IB (output)"


def _seeds(run_dir, frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """The seed rule's reading of GIB, IB of the hidden layer and IB of the output, per function."""
    both = seed_table(frame, **_selection(run_dir))
    output = seed_table(frame, planes="IB", **_selection(run_dir, OUTPUT))
    table = pd.concat([both.replace({"plane": {"IB": HIDDEN}}), output.assign(plane=OUTPUT_PLANE)], ignore_index=True)
    return reporting.in_seed_order(table, order, ("GIB", HIDDEN, OUTPUT_PLANE))


def _claims(seeds: pd.DataFrame, order: list[str]) -> list[reporting.Claim]:
    """Fig. 4 and Sec. 5.1, read by the seed rule (:class:`gib.verdicts.SeedRule`): "GIB compresses
    for all five" holds when every function's GIB compresses; "IB shows no compression" when
    neither the hidden layer's nor the output's IB compresses for any function."""
    complete = len(order) == len(FUNCTION_NAMES)
    return [
        reporting.seed_claim("GIB compresses for all five functions (Fig. 4)", seeds,
                             {(f, "GIB"): True for f in order}, complete=complete),
        reporting.seed_claim("the standard IB shows no real indication of compression (Sec. 5.1)", seeds,
                             {(f, plane): False for plane in (HIDDEN, OUTPUT_PLANE) for f in order},
                             planes={HIDDEN: "IB of the hidden layer", OUTPUT_PLANE: "IB of the output"},
                             complete=complete),
    ]


def report(run_dir) -> str:
    frame = run_dir.table()
    cfg = run_dir.config
    order = _order(run_dir, frame)
    table = _phase_numbers(run_dir, frame, order)
    seeds = _seeds(run_dir, frame, order)
    lrs = {f: (cfg.get("addition_lr") if f == "addition" and cfg.get("addition_lr") is not None else cfg["lr"])
           for f in order}
    notes = [_stalled_note(frame, lrs.get("addition"))] if "addition" in order else []
    if cfg["estimator"] == "gcmi":
        notes.append("Estimator note (ours): with `gcmi` the GIB ranks the binned (Yhat, Y) as continuous "
                     "values (`gcmi` with `target_type=\"continuous\"`) instead of splitting them into classes.")
    return reporting.render_report(reporting.Report.of(
        run_dir, "Fig. 4: IB and GIB planes of one-hidden-layer nets learning five functions",
        note=f"Data: generated by the project, {cfg['n_train']} training samples (MI probe set) and {cfg['n_test']} test "
             f"samples from twice the range. Full-batch GD, {cfg['epochs']} epochs, learning rates {lrs}; MI every "
             f"{cfg['record_every']} epochs, {cfg['n_bins']} bins, Yhat and Y in {cfg['output_bins']} bins.",
        sections=[
            reporting.seed_section(seeds),
            reporting.phase_section(table, heading="Phase numbers per trajectory", note=(
                "`settled_epoch`: the first epoch from which the complexity stays within 5% of its range of its "
                "final value. `c_range_bits`, `p_range_bits`: the raw ranges that the fractions are of; with "
                f"continuous inputs I(X;T) sits near its ceiling log2({cfg['n_train']}) = "
                f"{np.log2(cfg['n_train']):.2f} bits, so a tiny IB range means the IB verdict is about estimator "
                "noise.")),
            *reporting.estimate_sections(frame, cfg["estimator"]),
            reporting.Section("Final errors (MSE, mean and worst over seeds)",
                              "\n\n".join([reporting.markdown_table(error_table(frame, order), floatfmt="{:.3g}"),
                                           *(note.strip("\n") for note in notes if note)])),
        ],
        claims=_claims(seeds, order),
        figures={"planes.png": "IB of the hidden layer, GIB; the output layer's IB phase numbers are in the table above",
                 "errors.png": "train and test MSE"},
    ))


register(Experiment(
    name="functions",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    claims=claims,
))
