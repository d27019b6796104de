"""Fig. 3b: synergy with augmentation noise vs the generalization gap (SPEC 4 `teacher-student`).

Paper Sec. 3.1.2 and App. E.2. For each ResNet depth and seed:

1. a **teacher** is trained on CIFAR-10 with random crops (padding 4) and horizontal flips; its
   generalization gap is measured on the clean images (train accuracy - test accuracy, and the
   loss gap test loss - train loss in bits; ``gap`` picks the one correlated, accuracy by default);
2. a **student** of the same architecture learns the teacher's softmax on augmented images
   ``p_T(aug(x))`` from the clean image ``x`` (soft-target cross-entropy), the augmentation drawn
   afresh every epoch, with the teacher's schedule;
3. the **synergy ratio** (App. E.2) = conditional entropy / marginal entropy of the teacher's
   predictions, both in bits: the conditional entropy ``H(Y_T | X_clean)`` is estimated by the
   converged student's cross-entropy, the marginal ``H(Y_T)`` is the entropy of the teacher's
   prediction averaged over all augmented training samples (see ``synergy_ratio``).

Then Pearson r (and p) between the synergy ratio and the gap across depths x seeds; the paper
reports a strong negative correlation. The claim is taken to hold when r < 0 and the two-sided p
is below ``claim_alpha`` (0.05, ours): a negative r that chance explains as well is not counted.

Choices of ours (the paper's text lost them or is silent): weight decay 5e-4; the LR milestones
as fractions of the epochs (0.5, 0.75: the paper's epochs 100 and 150 of 200) so that shorter
presets keep the schedule's shape; per-channel standardisation of the inputs (statistics of the
training subset); the student's final cross-entropy and the teacher's entropies are evaluated
after training, in eval mode, over ``eval_draws`` fresh augmentations of every training image;
the student starts from its own initial weights (seed + 10000). The experiment has no
information plane: ``estimator``/``synergy`` are accepted like everywhere but do not enter it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .._progress import steps_bar
from ..data import load_image_dataset
from ..models import random_crop_flip, resnet
from ..runs import resume, save
from . import reporting
from .base import DEPTH, BaseConfig, Experiment, epoch_generator, register
from .constraints import EPOCH_FRACTION, AtLeast, NonEmpty, NonNegative, OneOf, Positive, Range

LN2 = math.log(2.0)
PAPER_DEPTHS = (20, 32, 44, 56, 68, 80, 92, 110)
GAPS = ("accuracy", "loss")
ROLES = ("teacher", "student")
# offsets of the per-epoch generators, so teacher, student and evaluation draw different numbers
ROLE_OFFSET = {"teacher": 0, "student": 200_000, "eval": 400_000}
STUDENT_INIT_OFFSET = 10_000


@dataclass
class Config(BaseConfig):
    #: ResNet depths, one teacher-student pair each (6k + 2)
    depths: Annotated[tuple[int, ...], NonEmpty, DEPTH] = PAPER_DEPTHS
    epochs: Annotated[int, AtLeast(1)] = 200  #: teacher epochs
    student_epochs: Annotated[int, AtLeast(1)] = 200  #: student epochs
    lr: Annotated[float, Positive] = 0.1  #: SGD learning rate
    momentum: Annotated[float, NonNegative] = 0.9  #: SGD momentum
    weight_decay: Annotated[float, NonNegative] = 5e-4  #: (ours) the paper's value is lost from its text
    batch_size: Annotated[int, AtLeast(1)] = 256  #: SGD minibatch size
    #: LR x0.1 at these fractions of the epochs
    milestones: Annotated[tuple[float, ...], EPOCH_FRACTION] = (0.5, 0.75)
    lr_gamma: Annotated[float, Range(0, 1, low_open=True)] = 0.1  #: lr factor at each milestone
    padding: Annotated[int, NonNegative] = 4  #: random-crop padding
    fresh_augmentation: bool = True  #: student targets: new augmentation every epoch (False: one fixed draw)
    #: augmentations per training image for the final entropies and cross-entropy
    eval_draws: Annotated[int, AtLeast(1)] = 1
    eval_batch_size: Annotated[int, AtLeast(1)] = 1000  #: batch size of the evaluation forward passes
    #: training images used (0: all); a fixed seeded subset
    train_size: Annotated[int, NonNegative] = 0
    test_size: Annotated[int, NonNegative] = 0  #: test images used (0: all)
    gap: Annotated[str, OneOf(GAPS)] = "accuracy"  #: accuracy | loss: the generalization gap correlated with the ratio
    #: the claim holds when r < 0 with two-sided p below this (ours)
    claim_alpha: Annotated[float, Range(0, 1, low_open=True)] = 0.05
    data_path: str | None = None  #: cifar-10-batches-py (else the offline stand-in)

    def check(self) -> None:
        super().check()
        if self.train_size == 1 or self.test_size == 1:
            raise ValueError("--set train_size/test_size: use 0 (all) or at least 2 images.")


PRESETS = {
    "test": dict(depths=(8,), seeds=(0, 1, 2), epochs=1, student_epochs=1, batch_size=16, train_size=32,
                 test_size=32, eval_batch_size=64, threads=1, progress=False),
    "quick": dict(depths=(8, 14), seeds=(0, 1), epochs=8, student_epochs=8, batch_size=32, train_size=512,
                  test_size=500, threads=1),
    "cpu": dict(depths=(8, 14, 20), seeds=(0, 1, 2), epochs=12, student_epochs=12, batch_size=32, train_size=600,
                test_size=1000, threads=1),
    "paper": dict(depths=PAPER_DEPTHS, seeds=(0, 1, 2), epochs=200, student_epochs=200, batch_size=256,
                  eval_draws=4),
}


# -- the measure --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SynergyRatio:
    """The synergy ratio of App. E.2 and its parts, all in bits."""

    cross_entropy: float  #: student's cross-entropy = estimate of H(Y_T | X_clean)
    marginal_entropy: float  #: H(Y_T): entropy of the teacher's mean prediction over augmented samples
    mean_entropy: float  #: mean entropy of the teacher's per-sample softmax, H(Y_T | X_aug)
    ratio: float  #: cross_entropy / marginal_entropy

    @property
    def excess(self) -> float:
        """(cross-entropy - teacher's own mean entropy) / marginal: the KL part of the ratio."""
        return (self.cross_entropy - self.mean_entropy) / self.marginal_entropy


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of each row of a probability array (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def _check_probs(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"`{name}` must be samples x classes (2-D, non-empty), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or not np.allclose(arr.sum(1), 1.0, atol=1e-4):
        raise ValueError(f"`{name}` rows must be probability vectors (non-negative, summing to 1).")
    return arr


def synergy_ratio(teacher_probs: object, student_probs: object) -> SynergyRatio:
    """Synergy ratio ``H(Y_T | X_clean) / H(Y_T)`` of App. E.2, in bits.

    Parameters
    ----------
    teacher_probs : array (M, C)
        The teacher's softmax on M augmented training samples ``aug(x)``.
    student_probs : array (M, C)
        The student's softmax on the matching clean images ``x`` (row k: the clean image whose
        augmentation gave row k of ``teacher_probs``).

    Returns
    -------
    SynergyRatio
        ``cross_entropy = mean_k -sum_c p_T[k, c] log2 q_S[k, c]`` (the paper: "the conditional
        entropy is estimated as the final cross-entropy loss ... of the converged student");
        ``marginal_entropy = H(mean_k p_T[k])`` (the paper's "marginal entropy of teacher
        predictions", the expectation over all augmented training samples); ``ratio`` their
        quotient, the proportion of the teacher's output entropy not predictable from clean images.

    Notes
    -----
    The numerator is the raw cross-entropy, not the KL: a student that matches an augmentation-
    invariant teacher exactly reaches ``mean_k H(p_T[k])``, the teacher's own conditional entropy,
    so the ratio is ``mean_entropy / marginal_entropy`` -- 0 for a confident (one-hot) teacher --
    and the best constant student (the marginal itself) gives exactly 1.
    """
    p = _check_probs(teacher_probs, "teacher_probs")
    q = _check_probs(student_probs, "student_probs")
    if p.shape != q.shape:
        raise ValueError(f"`teacher_probs` {p.shape} and `student_probs` {q.shape} must have the same shape.")
    log_q = np.log2(np.clip(q, np.finfo(np.float64).tiny, None))
    cross = float(np.mean(-(p * log_q).sum(1)))
    marginal = float(_entropy_bits(p.mean(0)))
    mean_entropy = float(np.mean(_entropy_bits(p)))
    if marginal <= 0:
        raise ValueError("the teacher predicts one class with certainty on every sample: H(Y_T) = 0 and "
                         "the synergy ratio is undefined.")
    return SynergyRatio(cross, marginal, mean_entropy, cross / marginal)


def correlation(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson r and two-sided p; NaN when fewer than 3 points or a constant column."""
    from scipy.stats import pearsonr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    result = pearsonr(x, y)
    return float(result.statistic), float(result.pvalue)


# -- data ---------------------------------------------------------------------------------------
@dataclass
class Data:
    x_train: torch.Tensor  # raw pixels in [0, 1]; augmentation first, standardisation after
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    num_classes: int
    source: str

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _subset(n: int, size: int, seed: int) -> np.ndarray:
    if not size or size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:size])


def load_data(config: Config) -> Data:
    import warnings

    from ..data import StandInWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StandInWarning)  # the report names the data used
        train = load_image_dataset("cifar10", config.data_path, "train", allow_standin=True)
        test = load_image_dataset("cifar10", config.data_path, "test", allow_standin=True)
    tr, te = _subset(len(train), config.train_size, 0), _subset(len(test), config.test_size, 1)
    device = torch.device(config.device)
    x_train = torch.as_tensor(train.x[tr]).to(device)
    mean = x_train.mean(dim=(0, 2, 3), keepdim=True)
    std = x_train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    num_classes = len(train.classes) or int(max(train.y.max(), test.y.max())) + 1
    return Data(x_train, torch.as_tensor(train.y[tr]).to(device), torch.as_tensor(test.x[te]).to(device),
                torch.as_tensor(test.y[te]).to(device), mean, std, num_classes, train.source)


# -- training -----------------------------------------------------------------------------------
def _optimizer(model: torch.nn.Module, config: Config, epochs: int):
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    milestones = sorted({max(1, round(m * epochs)) for m in config.milestones})
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=config.lr_gamma)
    return optimizer, scheduler


def _augment(x: torch.Tensor, config: Config, generator: torch.Generator) -> torch.Tensor:
    return random_crop_flip(x, padding=config.padding, generator=generator)


@dataclass
class History:
    """The per-epoch rows of one training and the seconds it took (summed over interrupted
    runs); checkpointed beside the model."""

    rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, epoch: int, metrics: dict, seconds: float) -> None:
        self.seconds += seconds
        self.rows.extend({"epoch": epoch, "measure": k, "value": float(v)} for k, v in metrics.items())

    def state_dict(self) -> dict:
        return {"rows": list(self.rows), "seconds": self.seconds}

    def load_state_dict(self, state: dict) -> None:
        self.rows, self.seconds = list(state["rows"]), float(state["seconds"])


def train(run_dir, key: str, model, data: Data, config: Config, seed: int, teacher=None) -> History:
    """Train the teacher, or with ``teacher`` given the student, of one pair (App. E.2).

    The teacher learns the labels (cross-entropy) on crop+flip augmented images; the student sees
    the clean x and learns the teacher's softmax on aug(x) (soft-target cross-entropy), the
    augmentation drawn afresh every epoch (or once, ``fresh_augmentation=False``). Checkpointed
    every epoch as ``key``; each epoch's order and augmentations depend on (seed, role, epoch).
    """
    role = "teacher" if teacher is None else "student"
    epochs = config.epochs if teacher is None else config.student_epochs
    n = len(data.y_train)
    fixed_views = None
    if teacher is not None:
        teacher.eval()
        if not config.fresh_augmentation:  # one augmentation per image, reused every epoch
            fixed_views = _augment(data.x_train, config, epoch_generator(seed, ROLE_OFFSET["student"]))
    optimizer, scheduler = _optimizer(model, config, epochs)
    history = History()
    start = max(1, resume(run_dir, key, model=model, optimizer=optimizer, scheduler=scheduler, history=history))
    with steps_bar(start, epochs, key, enabled=config.progress) as bar:
        for epoch in range(start, epochs + 1):
            began = time.perf_counter()
            model.train()
            lr = optimizer.param_groups[0]["lr"]
            generator = epoch_generator(seed, ROLE_OFFSET[role] + epoch)
            order = torch.randperm(n, generator=generator).to(data.x_train.device)
            total, correct = 0.0, 0
            for first in range(0, n, config.batch_size):
                idx = order[first : first + config.batch_size]
                if teacher is None:
                    logits = model(data.standardise(_augment(data.x_train[idx], config, generator)))
                    loss = F.cross_entropy(logits, data.y_train[idx])
                    correct += int((logits.argmax(1) == data.y_train[idx]).sum())
                else:
                    with torch.no_grad():
                        views = _augment(data.x_train[idx], config, generator) if fixed_views is None \
                            else fixed_views[idx]
                        target = F.softmax(teacher(data.standardise(views)), dim=1)
                    logits = model(data.standardise(data.x_train[idx]))
                    loss = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            scheduler.step()
            metrics = {"train_loss_bits": total / n / LN2}
            if teacher is None:
                metrics["train_accuracy_augmented"] = correct / n
            history.add(epoch, {**metrics, "lr": lr}, time.perf_counter() - began)
            save(run_dir, key, epoch, done=epoch == epochs, model=model, optimizer=optimizer, scheduler=scheduler,
                 history=history)
            bar.update(1)
    return history


@torch.no_grad()
def _logits(model, x: torch.Tensor, data: Data, config: Config) -> torch.Tensor:
    model.eval()
    return torch.cat([model(data.standardise(x[i : i + config.eval_batch_size])).double()
                      for i in range(0, len(x), config.eval_batch_size)])


def evaluate_teacher(teacher, data: Data, config: Config) -> dict:
    """Accuracy and loss (bits) on the clean training and test images, and their gaps."""
    out = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        logits = _logits(teacher, x, data, config)
        out[f"teacher_{split}_accuracy"] = float((logits.argmax(1) == y).double().mean())
        out[f"teacher_{split}_loss_bits"] = float(F.cross_entropy(logits, y)) / LN2
    out["accuracy_gap"] = out["teacher_train_accuracy"] - out["teacher_test_accuracy"]
    out["loss_gap_bits"] = out["teacher_test_loss_bits"] - out["teacher_train_loss_bits"]
    return out


@torch.no_grad()
def evaluate_student(teacher, student, data: Data, config: Config, seed: int) -> SynergyRatio:
    """The synergy ratio over ``eval_draws`` augmentations of every training image (eval mode)."""
    student_probs = F.softmax(_logits(student, data.x_train, data, config), dim=1)
    teacher_probs = []
    for draw in range(config.eval_draws):
        generator = epoch_generator(seed, ROLE_OFFSET["eval"] + draw)
        views = torch.cat([_augment(data.x_train[i : i + config.eval_batch_size], config, generator)
                           for i in range(0, len(data.x_train), config.eval_batch_size)])
        teacher_probs.append(F.softmax(_logits(teacher, views, data, config), dim=1))
    teacher_probs = torch.cat(teacher_probs).cpu().numpy()
    student_probs = student_probs.repeat(config.eval_draws, 1).cpu().numpy()
    return synergy_ratio(teacher_probs, student_probs)


RESULTS = "results.parquet"


def run(config: Config, run_dir) -> None:
    data = load_data(config)
    done = run_dir.table(RESULTS) if run_dir.has_table(RESULTS) else pd.DataFrame()
    metrics = run_dir.table() if run_dir.has_table() else pd.DataFrame()
    finished = set(zip(done.get("depth", []), done.get("seed", [])))
    for seed in config.seeds:
        for depth in config.depths:
            if (depth, seed) in finished:
                continue  # resume: this pair was finished by an earlier run
            teacher = resnet(depth, data.num_classes, seed=seed).to(config.device)
            trained = train(run_dir, f"teacher-depth{depth}-seed{seed}", teacher, data, config, seed)
            gaps = evaluate_teacher(teacher, data, config)
            student = resnet(depth, data.num_classes, seed=seed + STUDENT_INIT_OFFSET).to(config.device)
            taught = train(run_dir, f"student-depth{depth}-seed{seed}", student, data, config, seed, teacher=teacher)
            began = time.perf_counter()
            ratio = evaluate_student(teacher, student, data, config, seed)
            row = {
                "depth": depth, "seed": seed, **gaps,
                "teacher_marginal_entropy_bits": ratio.marginal_entropy,
                "teacher_mean_entropy_bits": ratio.mean_entropy,
                "student_cross_entropy_bits": ratio.cross_entropy,
                "student_last_epoch_loss_bits": next(r["value"] for r in reversed(taught.rows)
                                                     if r["measure"] == "train_loss_bits"),
                "synergy_ratio": ratio.ratio, "excess_ratio": ratio.excess,
                "teacher_seconds": trained.seconds, "student_seconds": taught.seconds + time.perf_counter() - began,
                "data_source": data.source,
            }
            done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
            new = pd.concat([pd.DataFrame(trained.rows).assign(role="teacher"),
                             pd.DataFrame(taught.rows).assign(role="student")])
            metrics = pd.concat([metrics, new.assign(depth=depth, seed=seed)], ignore_index=True)
            run_dir.save_table(metrics[["depth", "seed", "role", "epoch", "measure", "value"]])
            run_dir.save_table(done, RESULTS)


# -- outputs ------------------------------------------------------------------------------------
GAP_COLUMNS = {"accuracy": ("accuracy_gap", "generalization gap (train - test accuracy)"),
               "loss": ("loss_gap_bits", "generalization gap (test - train loss) [bits]")}


def _results(run_dir) -> pd.DataFrame:
    return run_dir.table(RESULTS).sort_values(["depth", "seed"], ignore_index=True)


def _depth_colours(depths) -> dict:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    depths = sorted(set(int(d) for d in depths))
    return {d: cmap(i / max(1, len(depths) - 1) * 0.9) for i, d in enumerate(depths)}


def figures(run_dir) -> dict:
    from matplotlib.figure import Figure

    results = _results(run_dir)
    colours = _depth_colours(results["depth"])
    primary = run_dir.config.get("gap", "accuracy")
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    for ax, gap in zip(fig.subplots(1, 2), (primary, *[g for g in GAPS if g != primary])):
        column, label = GAP_COLUMNS[gap]
        x, y = results["synergy_ratio"].to_numpy(float), results[column].to_numpy(float)
        for depth, rows in results.groupby("depth"):
            ax.scatter(rows["synergy_ratio"], rows[column], color=colours[int(depth)], s=40,
                       label=f"ResNet-{depth}", edgecolor="k", linewidth=0.5)
        r, p = correlation(x, y)
        if not math.isnan(r):
            slope, intercept = np.polyfit(x, y, 1)
            grid = np.linspace(x.min(), x.max(), 50)
            ax.plot(grid, slope * grid + intercept, "k--", lw=1)
        ax.set_xlabel("synergy ratio  H(Y_T | X) / H(Y_T)")
        ax.set_ylabel(label)
        used = " (claim)" if gap == primary else ""
        ax.set_title(f"{gap} gap{used}: Pearson r = {r:.3f}, p = {p:.3g}")
        ax.legend(fontsize=7)
    fig.suptitle(f"Teacher-student synergy vs generalization gap ({len(results)} depth x seed points)")
    out = {"synergy_vs_gap": fig}
    if run_dir.has_table():
        out["training"] = _training_figure(run_dir.table(), colours)
    return out


def _training_figure(metrics: pd.DataFrame, colours: dict):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    for ax, role in zip(fig.subplots(1, 2), ROLES):
        rows = metrics[(metrics["role"] == role) & (metrics["measure"] == "train_loss_bits")]
        for (depth, seed), curve in rows.groupby(["depth", "seed"]):
            ax.plot(curve["epoch"], curve["value"], color=colours.get(int(depth), "k"),
                    label=f"ResNet-{depth}" if seed == rows["seed"].min() else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss [bits]")
        ax.set_title(f"{role}: " + ("label cross-entropy on augmented images" if role == "teacher"
                                    else "cross-entropy to the teacher's soft targets"))
        ax.legend(fontsize=7)
    return fig


def claims(run_dir) -> list[reporting.Claim]:
    results = _results(run_dir)
    gap = run_dir.config.get("gap", "accuracy")
    alpha = run_dir.config.get("claim_alpha", 0.05)
    r, p = correlation(results["synergy_ratio"], results[GAP_COLUMNS[gap][0]])
    if math.isnan(r):
        measured = f"Pearson r undefined ({len(results)} point(s) or a constant column; at least 3 needed)"
    else:
        significance = f"significant at {alpha:g}" if p < alpha else f"not significant at {alpha:g}"
        measured = (f"Pearson r = {r:.3f}, p = {p:.3g} ({significance}) over {len(results)} depth x seed points, "
                    f"{gap} gap; holds when r < 0 with p < {alpha:g} (`claim_alpha`, ours)")
    return [reporting.Claim("synergy ratio vs generalization gap is negatively correlated (Fig. 3b)",
                            measured, bool(r < 0 and p < alpha))]


def report(run_dir) -> str:
    results = _results(run_dir)
    cfg = run_dir.config
    sources = sorted(set(results["data_source"]))
    columns = ["depth", "seed", "teacher_train_accuracy", "teacher_test_accuracy", "accuracy_gap", "loss_gap_bits",
               "teacher_marginal_entropy_bits", "teacher_mean_entropy_bits", "student_cross_entropy_bits",
               "synergy_ratio", "excess_ratio", "teacher_seconds", "student_seconds"]
    r_acc = correlation(results["synergy_ratio"], results["accuracy_gap"])
    r_loss = correlation(results["synergy_ratio"], results["loss_gap_bits"])
    r_excess = correlation(results["excess_ratio"], results[GAP_COLUMNS[cfg.get("gap", "accuracy")][0]])
    own = float((results["teacher_mean_entropy_bits"] / results["student_cross_entropy_bits"]).mean())
    lines = [
        reporting.header(run_dir, "Fig. 3b: synergy with augmentation noise vs generalization gap"),
        "Data: " + "; ".join(sources) + ".\n",
        f"Depths {cfg['depths']}, teacher {cfg['epochs']} epochs, student {cfg['student_epochs']} epochs, "
        f"SGD lr {cfg['lr']} momentum {cfg['momentum']} weight decay {cfg['weight_decay']}, batch {cfg['batch_size']}, "
        f"LR x{cfg['lr_gamma']} at fractions {cfg['milestones']} of the epochs; "
        f"train images {cfg['train_size'] or 'all'}, test images {cfg['test_size'] or 'all'}; "
        f"student targets {'re-augmented every epoch' if cfg['fresh_augmentation'] else 'one fixed augmentation'}; "
        f"entropies over {cfg['eval_draws']} augmentation(s) of every training image.\n",
        "Synergy ratio = student's final cross-entropy (estimate of H(Y_T | X_clean)) / H(Y_T), the entropy of the "
        "teacher's mean softmax over the augmented training samples; both in bits (App. E.2). "
        "`excess_ratio` subtracts the teacher's own mean entropy from the numerator (the KL part). "
        "There is no information plane in this experiment, so no phase numbers; `estimator` and `synergy` "
        "do not enter it.\n",
        "## Per depth and seed\n",
        reporting.markdown_table(results[columns].astype({"depth": str, "seed": str})),
        "\n## Correlations (Pearson, over depth x seed)\n",
        f"- synergy ratio vs accuracy gap: r = {r_acc[0]:.3f}, p = {r_acc[1]:.3g}",
        f"- synergy ratio vs loss gap: r = {r_loss[0]:.3f}, p = {r_loss[1]:.3g}",
        f"- excess ratio vs {cfg.get('gap', 'accuracy')} gap: r = {r_excess[0]:.3f}, p = {r_excess[1]:.3g}",
        f"\nOn average {own:.0%} of the ratio is the teacher's own uncertainty (teacher_mean_entropy / "
        "student_cross_entropy: what even a perfect clean-image student must pay) and the rest the excess, "
        "the part that depends on the augmentation.",
        f"\nTraining time (this machine): teachers {results['teacher_seconds'].sum():.0f} s, "
        f"students {results['student_seconds'].sum():.0f} s in all.\n",
        "\n## Claims\n",
        *(c.markdown() for c in claims(run_dir)),
        "\nFigures: `figures/synergy_vs_gap.png`, `figures/training.png`.\n",
    ]
    return "\n".join(lines)


register(Experiment(
    name="teacher-student",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    claims=claims,
))
