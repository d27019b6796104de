"""What one ``Monitor.record`` costs next to one epoch of training, for three models, side by side
with the same measurements made through the public per-point functions (``gib.ib_point`` per layer,
``gib.gib_point``), which is what a record step computed before the Monitor cached its probe set.

One process, torch on one thread, the same model and probe set for both paths. For each case the
table gives the seconds of a training epoch and of a record step (epochs and record steps
interleaved, the best of ``--repeats`` each), their ratio in wall-clock and in CPU time (the
process's, steadier under other load on a shared machine), the probe set's forward pass alone
next to the epoch (the model in eval mode, no gradients, the probe's batches: the floor of a
record step), the same for the per-point path, the
largest difference between the two paths' values (bits), and where each path's time goes
(wall-clock seconds of the best record step): the record step per recorder (probe forward pass,
metrics, IB, GIB, the rest: rows and frame), the per-point path as probe / IB / GIB.

    python benchmarks/bench_monitor.py                       # the three cases
    python benchmarks/bench_monitor.py --cases mlp,conv      # a subset
    python benchmarks/bench_monitor.py --size small          # conv and resnet at 1/5 of the samples
    python benchmarks/bench_monitor.py --repeats 1

Cases (issue "A Monitor cheap enough for every epoch"):
- ``mlp``: the 12-bit net 12-10-7-5-4-3-2 (tanh), all 4096 patterns as the probe, an epoch is the
  3277 training patterns in batches of 256 (Adam);
- ``conv``: a small conv net (two 3x3 convolutions, max-pool, two linear layers), an epoch is
  10000 MNIST images in batches of 64, 5000 probe images;
- ``resnet``: ResNet-20 on 32x32x3 images (MNIST padded and tiled, the CIFAR-10 stand-in), an epoch
  is 5000 images in batches of 128 (SGD), 5000 probe images, 20 hooked layers.

``--size small`` divides the conv and resnet epochs and probe sets by 5 (the ratios stay
comparable: both sides scale with the samples); the mlp case has no smaller size.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import gib
from gib.monitor import default_layers

GOALS = {"mlp": 0.5, "conv": 0.25, "resnet": 0.25, "cnn": 0.10}  # record / epoch, at most


@dataclass
class Case:
    name: str
    model: nn.Module
    optimizer: torch.optim.Optimizer
    train_x: torch.Tensor
    train_y: torch.Tensor
    batch_size: int
    probe_x: np.ndarray
    probe_y: np.ndarray
    layers: dict | None = None


class SmallConvNet(nn.Module):
    """The conv net of PyTorch's MNIST example, without dropout."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)
        self.act1, self.act2, self.act3 = nn.ReLU(), nn.ReLU(), nn.ReLU()

    def forward(self, x):
        x = self.act2(self.conv2(self.act1(self.conv1(x))))
        x = F.max_pool2d(x, 2).flatten(1)
        return self.fc2(self.act3(self.fc1(x)))


def mlp_case(scale: int = 1) -> Case:
    from gib.data import twelve_bit_patterns, twelve_bit_labels, twelve_bit_task
    from gib.models import twelve_bit_net

    x_train, y_train, _, _ = twelve_bit_task(seed=0)
    model = twelve_bit_net("tanh", seed=0)
    return Case("mlp", model, torch.optim.Adam(model.parameters(), lr=4e-4), torch.as_tensor(x_train),
                torch.as_tensor(y_train), 256, twelve_bit_patterns(), twelve_bit_labels())


def _mnist(n_train: int, n_probe: int, pad: bool):
    from gib.data import load_mnist

    data = load_mnist(split="train")
    x = data.x[: max(n_train, n_probe)]
    if pad:
        x = np.repeat(np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2))), 3, axis=1)
    return torch.as_tensor(x[:n_train]), torch.as_tensor(data.y[:n_train]), x[:n_probe], data.y[:n_probe]


def conv_case(scale: int = 1) -> Case:
    torch.manual_seed(0)
    model = SmallConvNet()
    tx, ty, px, py = _mnist(10000 // scale, 5000 // scale, pad=False)
    return Case("conv", model, torch.optim.Adam(model.parameters(), lr=1e-3), tx, ty, 64, px, py)


def cnn_case(scale: int = 1) -> Case:
    """The MNIST CNN a new user tries first (two conv and two linear layers): an epoch is 6000
    images in batches of 64, the probe 1000 images; the IB default must cost at most 10% of it."""
    torch.manual_seed(0)
    model = SmallConvNet()
    tx, ty, px, py = _mnist(6000 // scale, 1000 // scale, pad=False)
    return Case("cnn", model, torch.optim.Adam(model.parameters(), lr=1e-3), tx, ty, 64, px, py)


def resnet_case(scale: int = 1) -> Case:
    from gib.models import resnet

    model = resnet(20, seed=0)
    tx, ty, px, py = _mnist(5000 // scale, 5000 // scale, pad=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Case("resnet", model, optimizer, tx, ty, 128, px, py)


CASES: dict[str, Callable[[int], Case]] = {"mlp": mlp_case, "conv": conv_case, "resnet": resnet_case,
                                           "cnn": cnn_case}


def train_epoch(case: Case, epoch: int) -> None:
    case.model.train()
    order = torch.randperm(len(case.train_x), generator=torch.Generator().manual_seed(epoch))
    for start in range(0, len(order), case.batch_size):
        idx = order[start : start + case.batch_size]
        case.optimizer.zero_grad()
        F.cross_entropy(case.model(case.train_x[idx]), case.train_y[idx]).backward()
        case.optimizer.step()


def bare_forward(model: nn.Module, X: torch.Tensor, batch_size: int) -> float:
    """Seconds of the probe set's forward pass alone, as the probe batches it, in eval mode without
    gradients (the probe's hooks idle): the floor of a record step."""
    was_training = model.training
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for first in range(0, len(X), batch_size):
            model(X[first : first + batch_size])
    seconds = time.perf_counter() - start
    model.train(was_training)
    return seconds


def per_point_record(monitor: gib.Monitor, ib: str = "binning") -> tuple[dict, dict]:
    """One record step through the public per-point functions; returns values and seconds. With
    ``ib="default"`` the IB points are ``kde_upper`` with the IB default's options of each layer."""
    times, values = {}, {}
    start = time.perf_counter()
    layers, outputs = monitor.probe()
    times["probe"] = time.perf_counter() - start
    yhat = monitor.predictions(outputs)
    layers["output"] = outputs
    start = time.perf_counter()
    for name, T in layers.items():
        if ib == "default":
            rows = gib.ib_default.probe_rows(len(T))
            options = gib.ib_default.layer_options(T[rows])
            point = gib.ib_point(T[rows], monitor.ib_input[rows], monitor.y[rows], estimator="kde_upper",
                                 warn=False, **options)
        else:
            point = gib.ib_point(T, monitor.ib_input, monitor.y, estimator="binning")
        values[("IB", name, "complexity")], values[("IB", name, "prediction")] = point.complexity, point.prediction
    times["ib"] = time.perf_counter() - start
    start = time.perf_counter()
    point = gib.gib_point(monitor.features, yhat, monitor.y, estimator="binning")
    values[("GIB", "input", "complexity")], values[("GIB", "input", "prediction")] = point.complexity, point.prediction
    times["gib"] = time.perf_counter() - start
    return values, times


class _Timed:
    """Wraps a callable (a recorder's ``rows``, the Monitor's probe) and adds up its seconds."""

    def __init__(self, function: Callable, seconds: dict, name: str):
        self.function, self.seconds, self.name = function, seconds, name

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds[self.name] = self.seconds.get(self.name, 0.0) + time.perf_counter() - start

    def __getattr__(self, name):
        return getattr(self.function, name)


RECORDERS = {"MetricsRecorder": "metrics", "IBRecorder": "IB", "GIBRecorder": "GIB", "TimerRecorder": "timer"}


def measure(case: Case, repeats: int, probe_batch: int | None, ib: str = "binning") -> dict:
    train_epoch(case, 0)  # warm-up
    start = time.perf_counter()
    # "binning": both planes binned (what the cases measured before the IB default); "default":
    # no estimator named, the IB plane by the IB default rule (gib.ib_default)
    recorders = gib.default_recorders(estimators="binning") if ib == "binning" else gib.default_recorders()
    monitor = gib.Monitor(case.model, case.probe_x, case.probe_y, recorders, batch_size=probe_batch, verbose=False)
    build_seconds = time.perf_counter() - start
    chosen_batch = monitor.batch_size
    monitor.record(0)  # warm-up
    # epochs and record steps interleaved, as a monitored run has them; the best of each is the
    # one least disturbed by the machine's other load
    epochs, steps, forwards = [], [], []
    for step in range(1, repeats + 1):
        start, cpu = time.perf_counter(), time.process_time()
        train_epoch(case, step)
        epochs.append((time.perf_counter() - start, time.process_time() - cpu))
        seconds: dict[str, float] = {}
        monitor.probe = _Timed(monitor.probe, seconds, "probe")
        for recorder in monitor.recorders:
            recorder.rows = _Timed(recorder.rows, seconds, RECORDERS.get(type(recorder).__name__, "other"))
        start, cpu = time.perf_counter(), time.process_time()
        rows = monitor.record(step)
        seconds["record"], seconds["cpu"] = time.perf_counter() - start, time.process_time() - cpu
        monitor.probe = monitor.probe.function
        for recorder in monitor.recorders:
            del recorder.rows  # back to the class's method
        steps.append(seconds)
        forwards.append(bare_forward(case.model, monitor.probe.X, monitor.batch_size))
    epoch_seconds, epoch_cpu = min(e[0] for e in epochs), min(e[1] for e in epochs)
    values, times = per_point_record(monitor, ib)
    per_point_seconds = sum(times.values())
    monitor.close()
    recorded = {(r.plane, r.layer, r.measure): r.value for r in rows.itertuples()
                if r.plane in ("IB", "GIB") and r.measure in ("complexity", "prediction")}
    deviation = max(abs(recorded[key] - value) for key, value in values.items())
    best = min(steps, key=lambda s: s["record"])
    best["rest"] = best["record"] - sum(v for k, v in best.items() if k not in ("record", "cpu"))
    cpu_ratio = min(s["cpu"] for s in steps) / epoch_cpu
    # IB points: the hooked layers and the output
    return dict(case=case.name, layers=len(values) // 2 - 1, batch=chosen_batch,
                forward=min(forwards) / epoch_seconds,
                epoch=epoch_seconds, build=build_seconds, record=best["record"], ratio=best["record"] / epoch_seconds,
                cpu_ratio=cpu_ratio, parts=best, per_point=per_point_seconds,
                per_point_ratio=per_point_seconds / epoch_seconds, deviation=deviation, **times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed (training epoch, record step) pairs per case; the best of each is shown")
    parser.add_argument("--size", choices=("full", "small"), default="full",
                        help="small: conv and resnet with 1/5 of the epoch and probe samples")
    parser.add_argument("--ib", choices=("binning", "default"), default="binning",
                        help="the IB plane's estimator: binning (as the cases measured it before the IB "
                             "default), or the IB default rule (no estimator named)")
    parser.add_argument("--probe-batch", type=int, default=None,
                        help="the Monitor's batch_size (default: the Monitor's own, by the widest layer; "
                             "1024 was the default before it)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # saturation warnings of the untrained models' wide layers
    print(f"Machine: {platform.machine()}, torch {torch.__version__} on 1 thread, numpy {np.__version__}; "
          f"size {args.size}; IB plane: {args.ib}.\n")
    print("| case | IB layers (with the output) | probe batch | epoch (s) | Monitor built (s) | record (s) "
          "| record / epoch | record / epoch (CPU time) | goal | forward pass alone / epoch "
          "| record: probe / metrics / IB / GIB / rest (s) | per-point path (s) | per-point / epoch "
          "| per-point: probe / IB / GIB (s) | max difference (bits) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.cases.split(","):
        r = measure(CASES[name](5 if args.size == "small" else 1), args.repeats, args.probe_batch, args.ib)
        parts = " / ".join(f"{r['parts'].get(k, 0.0):.4f}" for k in ("probe", "metrics", "IB", "GIB", "rest"))
        print(f"| {r['case']} | {r['layers']} | {r['batch']} | {r['epoch']:.3f} | {r['build']:.3f} "
              f"| {r['record']:.4f} | {r['ratio']:.3f} | {r['cpu_ratio']:.3f} | <= {GOALS[name]} "
              f"| {r['forward']:.3f} | {parts} | {r['per_point']:.3f} | {r['per_point_ratio']:.2f} | "
              f"{r['probe']:.3f} / {r['ib']:.3f} / {r['gib']:.3f} | {r['deviation']:.1e} |", flush=True)


if __name__ == "__main__":
    main()
