"""Fig. 5: IB and GIB planes of CIFAR ResNets of several depths (SPEC 4 `resnet`, paper App. E.4).

ResNets (BasicBlocks, option-A shortcuts) on CIFAR-10 with random crop + flip, SGD lr 0.1,
momentum 0.9, weight decay 5e-4 (the paper's value was lost with its equations: ours), batch 128,
the learning rate divided by 10 at 50% and 75% of training (epochs 100 and 150 of 200).
IB on the 10 logits (layer ``output``); GIB with Z = (Yhat, Y) on an RBF Kernel PCA
(gamma = 1/3072) of the probe images to 50 components, 30 bins, every epoch. The probe is the
first ``probe_size`` training images (5000 in the paper); the Kernel PCA is fitted once on them
and reused at every record step and for every depth.

``--set pca=none`` measures GIB on the 3072 raw pixels instead (the hashed leave-one-out makes
it feasible); every record step stores its own cost as metric rows ``mi_seconds`` (the MI
computations) and ``record_seconds`` (with the probe forward pass).

Data: CIFAR-10 from ``--set data_path=...`` (the ``cifar-10-batches-py`` folder), else the
default data folder, else the offline stand-in (MNIST or Fashion-MNIST padded to 32x32 and
tiled to 3 channels); the report names the data actually used.

Depths are 6k + 2 (BasicBlock CIFAR ResNets): the paper's 20, 56, 80 and 110 all are
(80 = 6 * 13 + 2).
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .._progress import steps_bar
from ..data import StandInWarning, load_image_dataset
from ..features import EIGEN_SOLVERS, kernel_pca_features
from ..models import random_crop_flip, resnet
from ..monitor import OUTPUT, Monitor
from ..recorders import default_recorders
from ..plotting import metric_curves, plane_grid
from ..runs import resume, save
from ..verdicts import seed_table
from . import reporting
from .base import (
    DEPTH, BaseConfig, Experiment, condition_frame, epoch_generator, merge_frames, record_schedule, register,
    seed_everything, shared_null,
)
from .constraints import EPOCH_FRACTION, AtLeast, NonEmpty, NonNegative, OneOf, Positive, Range

IB_LAYER = OUTPUT  # the 10 logits
PCA_CHOICES = ("kpca", "none")
IB_INPUTS = ("auto", "pixels", "features")
DATA_FILE = "data.json"


@dataclass
class TrainingConfig(BaseConfig):
    """CIFAR ResNet training and probing options shared by `resnet` and `pca-dims`."""

    depths: Annotated[tuple[int, ...], NonEmpty, DEPTH] = (20, 56, 80, 110)  #: one condition per depth (6k + 2)
    epochs: Annotated[int, AtLeast(1)] = 200  #: training epochs per depth
    batch_size: Annotated[int, AtLeast(1)] = 128  #: SGD minibatch size
    lr: Annotated[float, Positive] = 0.1  #: SGD learning rate (SPEC 4)
    momentum: Annotated[float, NonNegative] = 0.9  #: SGD momentum (SPEC 4)
    weight_decay: Annotated[float, NonNegative] = 5e-4  #: (ours) the paper's value is lost
    #: lr steps, as fractions of `epochs` (100, 150 of 200)
    milestones: Annotated[tuple[float, ...], EPOCH_FRACTION] = (0.5, 0.75)
    lr_decay: Annotated[float, Range(0, 1, low_open=True)] = 0.1  #: lr factor at each milestone
    augment: bool = True  #: random crop (padding 4) + horizontal flip
    normalize: bool = True  #: per-channel mean/std of the training images ("standard CIFAR normalization")
    train_size: Annotated[int | None, AtLeast(2)] = None  #: first N training images (None: all 50000)
    probe_size: Annotated[int, AtLeast(2)] = 5000  #: the MI probe: the first N training images
    test_size: Annotated[int | None, AtLeast(2)] = None  #: first N test images for test accuracy (None: all 10000)
    record_every: Annotated[int, AtLeast(1)] = 1  #: record both planes every this many epochs
    data_path: str | None = None  #: cifar-10-batches-py folder (or its parent)
    standin: bool = True  #: without data_path and no CIFAR-10 found, use the offline stand-in
    kpca_gamma: Annotated[float | None, Positive] = None  #: RBF width; None = 1/input_dim (1/3072)
    kpca_fit_samples: Annotated[int, AtLeast(1)] = 5000  #: probe images the Kernel PCA is fitted on
    #: eigen solver of the Kernel PCA: randomized, arpack, dense or auto
    kpca_solver: Annotated[str, OneOf(EIGEN_SOLVERS)] = "randomized"
    #: X of the IB's I(X;T): the raw pixels, the GIB features, or auto = the pixels unless the
    #: estimator is gcmi and the probe has too few images for a 3072-dimensional copula
    ib_input: Annotated[str, OneOf(IB_INPUTS)] = "auto"

    def check(self) -> None:
        super().check()
        if self.train_size is not None and self.probe_size > self.train_size:
            raise ValueError(
                f"--set probe_size={self.probe_size}: the probe is the first images of the training set, "
                f"so it cannot exceed train_size={self.train_size}."
            )

    def milestone_epochs(self) -> list[int]:
        return milestone_epochs(self.epochs, self.milestones)


def milestone_epochs(epochs: int, milestones) -> list[int]:
    """The epochs after which the learning rate drops: fractions of ``epochs``, rounded."""
    return sorted({max(1, int(round(m * epochs))) for m in milestones})


@dataclass
class Config(TrainingConfig):
    pca: Annotated[str, OneOf(PCA_CHOICES)] = "kpca"  #: kpca: GIB on Kernel PCA components; none: on the raw pixels
    n_components: int = 50  #: Kernel PCA components of the GIB features (the paper: 50)

    def check(self) -> None:
        super().check()
        if self.pca == "kpca" and not 1 <= self.n_components < min(self.probe_size, self.kpca_fit_samples):
            raise ValueError(
                f"--set n_components={self.n_components}: need 1 <= n_components < "
                f"min(probe_size, kpca_fit_samples) = {min(self.probe_size, self.kpca_fit_samples)}."
            )

    def features_name(self) -> str:
        return f"kpca{self.n_components}" if self.pca == "kpca" else "pixels"


PRESETS = {
    "test": dict(depths=(8,), epochs=2, batch_size=32, train_size=64, probe_size=64, test_size=32,
                 n_components=5, progress=False, threads=1),
    "quick": dict(depths=(8, 14), epochs=12, train_size=2000, probe_size=2000, test_size=1000),
    "cpu": dict(depths=(20, 32), epochs=20, train_size=5000, probe_size=2000, test_size=1000),
    "paper": dict(depths=(20, 56, 80, 110), epochs=200, probe_size=5000),
}


# -- data -------------------------------------------------------------------------------------
@dataclass
class CifarData:
    x_train: torch.Tensor  #: raw [0, 1] training images, on the device
    y_train: torch.Tensor
    x_test: torch.Tensor  #: normalised test images, on the device
    y_test: torch.Tensor
    probe_raw: np.ndarray  #: the first probe_size training images, raw, (N, C, H, W)
    probe_input: torch.Tensor  #: the same, normalised as the network sees them (CPU)
    probe_y: np.ndarray
    mean: torch.Tensor
    std: torch.Tensor
    source: str
    test_source: str

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean.to(x.device)) / self.std.to(x.device)


def _load_split(config: TrainingConfig, split: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StandInWarning)  # the report names the data instead
        return load_image_dataset("cifar10", config.data_path, split, allow_standin=config.standin)


def load_data(config: TrainingConfig) -> CifarData:
    train, test = _load_split(config, "train"), _load_split(config, "test")
    n_train = len(train) if config.train_size is None else min(config.train_size, len(train))
    n_test = len(test) if config.test_size is None else min(config.test_size, len(test))
    if config.probe_size > n_train:
        raise ValueError(f"--set probe_size={config.probe_size}: the training data has only {n_train} images.")
    x_train = torch.as_tensor(np.ascontiguousarray(train.x[:n_train]))
    if config.normalize:
        mean = x_train.mean(dim=(0, 2, 3), keepdim=True)
        std = x_train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3)
    else:
        mean, std = torch.zeros(1, x_train.shape[1], 1, 1), torch.ones(1, x_train.shape[1], 1, 1)
    probe_raw = np.array(train.x[: config.probe_size])
    data = CifarData(
        x_train=x_train.to(config.device),
        y_train=torch.as_tensor(train.y[:n_train], dtype=torch.long).to(config.device),
        x_test=torch.empty(0), y_test=torch.as_tensor(test.y[:n_test], dtype=torch.long).to(config.device),
        probe_raw=probe_raw, probe_input=torch.empty(0), probe_y=np.asarray(train.y[: config.probe_size]),
        mean=mean, std=std, source=train.source, test_source=test.source,
    )
    data.x_test = data.normalise(torch.as_tensor(np.ascontiguousarray(test.x[:n_test]))).to(config.device)
    data.probe_input = data.normalise(torch.as_tensor(probe_raw))
    return data


def fit_kpca(data: CifarData, config: TrainingConfig, n_components: int) -> tuple[np.ndarray, dict]:
    """Kernel PCA of the raw probe images, fitted once for the whole run (App. E.4)."""
    start = time.perf_counter()
    transform = kernel_pca_features(data.probe_raw, n_components=n_components, gamma=config.kpca_gamma,
                                    fit_samples=config.kpca_fit_samples, seed=0, eigen_solver=config.kpca_solver)
    features = transform(data.probe_raw)
    seconds = time.perf_counter() - start
    info = dict(n_components=n_components, gamma=transform.gamma, input_dim=transform.input_dim,
                fit_samples=len(transform.fit_indices), solver=config.kpca_solver, fit_seconds=seconds)
    return features, info


def check_gcmi_size(config: BaseConfig, n_features: int, n_probe: int, what: str) -> None:
    """The Gaussian copula needs more samples than dimensions (Z adds up to 2 columns)."""
    if config.estimator == "gcmi" and n_probe <= n_features + 2:
        raise ValueError(
            f"--set estimator=gcmi: the Gaussian copula of {n_features} {what} needs more than {n_features + 2} "
            f"probe images, the probe has {n_probe}; raise --set probe_size (and train_size)"
            + (", or use --set pca=kpca." if what == "pixels" else ".")
        )


def ib_input_for(config: TrainingConfig, data: CifarData, features: np.ndarray) -> tuple[str, np.ndarray]:
    """The X of the IB plane's I(X;T) (``ib_input``): ("pixels" | "features", array)."""
    pixels = data.probe_raw.reshape(len(data.probe_raw), -1)
    choice = config.ib_input
    if choice == "auto":
        # the logits add 10 columns to the copula
        choice = "features" if config.estimator == "gcmi" and len(pixels) <= pixels.shape[1] + 10 else "pixels"
    return choice, (pixels if choice == "pixels" else features)


def write_data_info(run_dir, data: CifarData, **extra: Any) -> None:
    info = dict(train_source=data.source, test_source=data.test_source, n_train=len(data.y_train),
                n_test=len(data.y_test), n_probe=len(data.probe_y), **extra)
    run_dir.write_text(DATA_FILE, json.dumps(info, indent=2, default=str))


def read_data_info(run_dir) -> dict:
    path = run_dir.path / DATA_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def ib_line(info: dict) -> str:
    """Which X the IB's I(X;T) used."""
    x = info.get("ib_input", "pixels")
    return "the raw pixels" if x == "pixels" else f"the GIB features `{x}` (too few probe images for gcmi on pixels)"


def data_line(info: dict) -> str:
    source = info.get("train_source", "unknown")
    kind = "offline stand-in" if "stand-in" in source else "real CIFAR-10"
    return (f"**Data ({kind}):** {source}; {info.get('n_train', '?')} training images, "
            f"{info.get('n_test', '?')} test images, probe = the first {info.get('n_probe', '?')} training images.")


# -- training ---------------------------------------------------------------------------------
def train_condition(config: TrainingConfig, run_dir, data: CifarData, depth: int, seed: int,
                    make_monitor) -> pd.DataFrame:
    """Train one ResNet under ``config`` and record with ``make_monitor(model)``; resumable."""
    # -- model
    seed_everything(seed)
    model = resnet(depth, num_classes=10, in_channels=data.x_train.shape[1], seed=seed).to(config.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, config.milestone_epochs(), gamma=config.lr_decay)
    schedule = record_schedule(config.epochs, config.record_every)
    n = len(data.y_train)
    condition = f"resnet{depth}"
    key = f"{condition}-seed{seed}"
    # -- the loop: crop + flip minibatches; epoch 0 is recorded before any training
    with make_monitor(model) as monitor:
        start = resume(run_dir, key, model=model, optimizer=optimizer, scheduler=scheduler, monitor=monitor)
        with steps_bar(start, config.epochs, key, enabled=config.progress) as bar:
            for epoch in range(start, config.epochs + 1):
                metrics = {}
                if epoch > 0:
                    model.train()
                    generator = epoch_generator(seed, epoch)
                    order = torch.randperm(n, generator=generator)
                    total_loss, correct, seen = 0.0, 0, 0
                    for first in range(0, n, config.batch_size):
                        idx = order[first : first + config.batch_size]
                        if len(idx) < 2:  # batch norm cannot train on a single image
                            continue
                        idx = idx.to(data.x_train.device)
                        xb = data.x_train[idx]
                        if config.augment:
                            xb = random_crop_flip(xb, generator=generator)
                        yb = data.y_train[idx]
                        optimizer.zero_grad()
                        logits = model(data.normalise(xb))
                        loss = F.cross_entropy(logits, yb)
                        loss.backward()
                        optimizer.step()
                        total_loss += loss.item() * len(idx)
                        correct += (logits.argmax(1) == yb).sum().item()
                        seen += len(idx)
                    metrics = {"train_loss": total_loss / max(seen, 1), "train_accuracy": correct / max(seen, 1),
                               "lr": optimizer.param_groups[0]["lr"]}
                    scheduler.step()
                    bar.update(1)
                if epoch in schedule:
                    model.eval()
                    losses, correct = 0.0, 0
                    with torch.no_grad():
                        for first in range(0, len(data.y_test), 1000):
                            logits = model(data.x_test[first : first + 1000])
                            yb = data.y_test[first : first + 1000]
                            losses += F.cross_entropy(logits, yb, reduction="sum").item()
                            correct += (logits.argmax(1) == yb).sum().item()
                    metrics.update(test_accuracy=correct / len(data.y_test), test_loss=losses / len(data.y_test))
                    monitor.record(epoch, epoch, metrics)
                    save(run_dir, key, epoch, done=epoch == config.epochs, model=model, optimizer=optimizer,
                         scheduler=scheduler, monitor=monitor)
        return condition_frame(monitor.rows, condition, seed)


def run(config: Config, run_dir) -> None:
    data = load_data(config)
    name = config.features_name()
    if config.pca == "kpca":
        features, kpca_info = fit_kpca(data, config, config.n_components)
    else:
        features, kpca_info = data.probe_raw.reshape(len(data.probe_raw), -1), None
    check_gcmi_size(config, features.shape[1], len(features), "pixels" if config.pca == "none" else "components")
    ib_name, ib_x = ib_input_for(config, data, features)
    write_data_info(run_dir, data, features=name, n_features=int(features.shape[1]), kpca=kpca_info,
                    ib_input=ib_name if ib_name == "pixels" else name)
    frames = []
    gib_spec = {config.estimator: (config.estimator, config.estimator_kwargs())}
    null = shared_null(config, features, data.probe_y, gib_spec)  # one probe set for every depth and seed
    for seed in config.seeds:
        for depth in config.depths:
            def make_monitor(model):
                recorders = default_recorders(features=features, features_name=name, ib_input=ib_x,
                                              estimators=gib_spec, synergy_kinds=(config.synergy,),
                                              record_layers_ib=False, null=null, timer=True)
                return Monitor(model, data.probe_input, data.probe_y, recorders, layers={}, batch_size=500,
                               verbose=False)

            frames.append(train_condition(config, run_dir, data, depth, seed, make_monitor))
            run_dir.save_table(merge_frames(frames))


# -- outputs ----------------------------------------------------------------------------------
def in_order(table: pd.DataFrame, order: list[str], column: str = "condition") -> pd.DataFrame:
    """Rows of ``table`` in the configured order of ``column`` (phase tables come sorted by name)."""
    rank = {name: i for i, name in enumerate(order)}
    return table.sort_values(column, key=lambda c: c.map(rank), kind="stable").reset_index(drop=True)


def conditions(run_dir) -> list[str]:
    return [f"resnet{d}" for d in run_dir.config["depths"]]


def _selection(run_dir) -> dict:
    cfg = run_dir.config
    return reporting.plane_selection(run_dir, IB_LAYER, f"kpca{cfg['n_components']}" if cfg["pca"] == "kpca" else "pixels")


def figures(run_dir) -> dict:
    frame = run_dir.table()
    sel = _selection(run_dir)
    planes = plane_grid(frame, conditions=conditions(run_dir),
                        title=f"CIFAR ResNets: IB (logits) and GIB ({sel['gib_layer']})", **sel)
    curves = metric_curves(frame, ("accuracy", "test_accuracy", "train_loss"), conditions=conditions(run_dir))
    return {"planes": planes, "metrics": curves}


def metric_summary(frame: pd.DataFrame, measure: str) -> pd.Series:
    """Per condition: the seed-mean of ``measure`` at the last step."""
    rows = frame[(frame["plane"] == "metric") & (frame["measure"] == measure)]
    if rows.empty:
        return pd.Series(dtype=float)
    last = rows[rows["step"] == rows.groupby("condition")["step"].transform("max")]
    return last.groupby("condition")["value"].mean()


def cost_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Seconds per record step (mean, max over steps and seeds), per condition."""
    rows = frame[(frame["plane"] == "metric") & frame["measure"].isin(("mi_seconds", "record_seconds"))]
    if rows.empty:
        return pd.DataFrame(columns=["condition", "measure", "mean_seconds", "max_seconds", "n_steps"])
    out = rows.groupby(["condition", "measure"])["value"].agg(["mean", "max", "count"]).reset_index()
    return out.rename(columns={"mean": "mean_seconds", "max": "max_seconds", "count": "n_steps"})


def _observations(seeds: pd.DataFrame, names: list[str]) -> list[reporting.Claim]:
    """Fig. 5's observation, read by the seed rule (:class:`gib.verdicts.SeedRule`): GIB compresses
    for every depth (the IB reading is listed beside it)."""
    return [reporting.seed_claim("GIB shows compression for all network depths (Fig. 5)", seeds,
                                 {(name, "GIB"): True for name in names}, planes={"GIB": "GIB", "IB": "IB"})]


def _seeds(frame: pd.DataFrame, sel: dict, names: list[str]) -> pd.DataFrame:
    return reporting.in_seed_order(seed_table(frame, **sel), names)


def observations(run_dir) -> list[reporting.Claim]:
    """The paper's Fig. 5 observation (not one of SPEC 4's claims), as measured in the run."""
    names = conditions(run_dir)
    return _observations(_seeds(run_dir.table(), _selection(run_dir), names), names)


def report(run_dir) -> str:
    frame = run_dir.table()
    cfg = run_dir.config
    info = read_data_info(run_dir)
    sel = _selection(run_dir)
    names = conditions(run_dir)
    table = in_order(reporting.phases(frame, **sel), names)
    seeds = _seeds(frame, sel, names)
    acc, test_acc = metric_summary(frame, "accuracy"), metric_summary(frame, "test_accuracy")
    kpca = info.get("kpca")
    if kpca:
        features = (f"GIB features: RBF Kernel PCA (gamma = {kpca['gamma']:.3g}, solver {kpca['solver']}) of the "
                    f"probe images to {kpca['n_components']} components, fitted once on {kpca['fit_samples']} "
                    f"images in {kpca['fit_seconds']:.1f} s.")
    else:
        features = f"GIB features: the {info.get('n_features', '?')} raw pixels (`--set pca=none`)."
    costs = cost_table(frame)
    return reporting.render_report(reporting.Report.of(
        run_dir, "Fig. 5: IB and GIB planes of CIFAR ResNets",
        data=data_line(info),
        setup=f"Depths {list(cfg['depths'])}, {cfg['epochs']} epochs, SGD lr {cfg['lr']} (x{cfg['lr_decay']} at "
              f"epochs {milestone_epochs(cfg['epochs'], cfg['milestones'])}), momentum {cfg['momentum']}, weight "
              f"decay {cfg['weight_decay']}, batch {cfg['batch_size']}. IB on the 10 logits, X = {ib_line(info)}. "
              f"{features} {cfg['n_bins']} bins.",
        sections=[
            reporting.seed_section(seeds),
            reporting.phase_section(table, heading="Phase numbers per trajectory"),
            *reporting.estimate_sections(frame, cfg["estimator"], ib_layer=IB_LAYER),
            reporting.Section("Accuracy at the last epoch (probe = training images; test)", reporting.bullets(
                f"{c}: probe {acc.get(c, float('nan')):.3f}, test {test_acc.get(c, float('nan')):.3f}" for c in names)),
            reporting.Section("Cost of a record step (seconds; measured on a shared machine, inflated by its load)",
                              (reporting.markdown_table(costs) if len(costs) else "(no timings recorded)")
                              + "\n\n`mi_seconds`: the IB and GIB computations; `record_seconds`: with the probe "
                                "forward pass."),
        ],
        claims=_observations(seeds, names),
        claims_heading="Paper observation (Sec. 5.2; not one of SPEC 4's claims)",
        figures={"planes.png": "", "metrics.png": ""},
    ))


register(Experiment(
    name="resnet",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    observations=observations,
))
