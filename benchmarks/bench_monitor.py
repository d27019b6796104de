"""What one ``Monitor.record`` costs next to one epoch of training, for three models, side by side
with the same measurements made through the public per-point functions (``gib.ib_point`` per layer,
``gib.gib_point``), which is what a record step computed before the Monitor cached its probe set.

One process, torch on one thread, the same model and probe set for both paths. For each case the
table gives the seconds of a training epoch, of a record step (mean of ``--records``), their ratio,
the same for the per-point path, the largest difference between the two paths' values (bits), and
where a record step's time goes (probe forward pass, IB points, GIB points).

    python benchmarks/bench_monitor.py                       # the three cases
    python benchmarks/bench_monitor.py --cases mlp,conv      # a subset
    python benchmarks/bench_monitor.py --records 1 --epochs 1

Cases (issue "A Monitor cheap enough for every epoch"):
- ``mlp``: the 12-bit net 12-10-7-5-4-3-2 (tanh), all 4096 patterns as the probe, an epoch is the
  3277 training patterns in batches of 256 (Adam);
- ``conv``: a small conv net (two 3x3 convolutions, max-pool, two linear layers), an epoch is
  10000 MNIST images in batches of 64, 5000 probe images;
- ``resnet``: ResNet-20 on 32x32x3 images (MNIST padded and tiled, the CIFAR-10 stand-in), an epoch
  is 5000 images in batches of 128 (SGD), 5000 probe images, 20 hooked layers.
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

GOALS = {"mlp": 0.5, "conv": 0.25, "resnet": 0.25}  # record / epoch, at most


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


def mlp_case() -> Case:
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


def conv_case() -> Case:
    torch.manual_seed(0)
    model = SmallConvNet()
    tx, ty, px, py = _mnist(10000, 5000, pad=False)
    return Case("conv", model, torch.optim.Adam(model.parameters(), lr=1e-3), tx, ty, 64, px, py)


def resnet_case() -> Case:
    from gib.models import resnet

    model = resnet(20, seed=0)
    tx, ty, px, py = _mnist(5000, 5000, pad=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Case("resnet", model, optimizer, tx, ty, 128, px, py)


CASES: dict[str, Callable[[], Case]] = {"mlp": mlp_case, "conv": conv_case, "resnet": resnet_case}


def train_epoch(case: Case, epoch: int) -> None:
    case.model.train()
    order = torch.randperm(len(case.train_x), generator=torch.Generator().manual_seed(epoch))
    for start in range(0, len(order), case.batch_size):
        idx = order[start : start + case.batch_size]
        case.optimizer.zero_grad()
        F.cross_entropy(case.model(case.train_x[idx]), case.train_y[idx]).backward()
        case.optimizer.step()


def per_point_record(monitor: gib.Monitor) -> tuple[dict, dict]:
    """One record step through the public per-point functions; returns values and seconds."""
    times, values = {}, {}
    start = time.perf_counter()
    layers, outputs = monitor.probe()
    times["probe"] = time.perf_counter() - start
    yhat = monitor.predictions(outputs)
    layers["output"] = outputs
    start = time.perf_counter()
    for name, T in layers.items():
        point = gib.ib_point(T, monitor.ib_input, monitor.y, estimator="binning")
        values[("IB", name, "complexity")], values[("IB", name, "prediction")] = point.complexity, point.prediction
    times["ib"] = time.perf_counter() - start
    start = time.perf_counter()
    point = gib.gib_point(monitor.features, yhat, monitor.y, estimator="binning")
    values[("GIB", "input", "complexity")], values[("GIB", "input", "prediction")] = point.complexity, point.prediction
    times["gib"] = time.perf_counter() - start
    return values, times


def measure(case: Case, epochs: int, records: int) -> dict:
    train_epoch(case, 0)  # warm-up
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        train_epoch(case, epoch)
    epoch_seconds = (time.perf_counter() - start) / epochs

    start = time.perf_counter()
    monitor = gib.Monitor(case.model, case.probe_x, case.probe_y, estimators="binning", batch_size=500)
    build_seconds = time.perf_counter() - start
    record_seconds = []
    for step in range(records):
        start = time.perf_counter()
        rows = monitor.record(step)
        record_seconds.append(time.perf_counter() - start)
    values, times = per_point_record(monitor)
    per_point_seconds = sum(times.values())
    monitor.close()
    recorded = {(r.plane, r.layer, r.measure): r.value for r in rows.itertuples()
                if r.plane in ("IB", "GIB") and r.measure in ("complexity", "prediction")}
    deviation = max(abs(recorded[key] - value) for key, value in values.items())
    record = float(np.mean(record_seconds))
    return dict(case=case.name, layers=len(values) // 2 - 1, epoch=epoch_seconds, build=build_seconds,
                record=record, ratio=record / epoch_seconds, per_point=per_point_seconds,
                per_point_ratio=per_point_seconds / epoch_seconds, deviation=deviation, **times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--epochs", type=int, default=2, help="timed training epochs per case")
    parser.add_argument("--records", type=int, default=2, help="timed record steps per case")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # saturation warnings of the untrained models' wide layers
    print(f"Machine: {platform.machine()}, torch {torch.__version__} on 1 thread, numpy {np.__version__}.\n")
    print("| case | hooked layers | epoch (s) | Monitor built (s) | record (s) | record / epoch | goal "
          "| per-point path (s) | per-point / epoch | max difference (bits) | per-point: probe / IB / GIB (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.cases.split(","):
        r = measure(CASES[name](), args.epochs, args.records)
        print(f"| {r['case']} | {r['layers']} | {r['epoch']:.3f} | {r['build']:.3f} | {r['record']:.3f} | "
              f"{r['ratio']:.2f} | <= {GOALS[name]} | {r['per_point']:.3f} | {r['per_point_ratio']:.2f} | "
              f"{r['deviation']:.1e} | {r['probe']:.3f} / {r['ib']:.3f} / {r['gib']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
