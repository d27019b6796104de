"""
Your own training loop
======================

Watch a small network learn the parity of three bits (pure synergy) in a plain PyTorch loop.
:class:`gib.Monitor` hooks every Linear layer (after its activation) and records, every few
epochs, the IB point of each layer (the IB default estimator: ``kde_upper`` with a noise set
from each layer's own spread, so the plane is not at its ceiling) and the GIB point of the
outputs; the tidy table goes to ``--out`` with a figure of both planes (:meth:`gib.Monitor.plot`),
and ``gib plot`` / ``gib report`` read that folder.

.. code-block:: bash

    python examples/own_loop.py --epochs 300 --out runs/own-loop
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch
from torch import nn

import gib


def parity_task(n_bits: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """All 2^n bit patterns and the parity of their first three bits (pure synergy)."""
    X = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_bits)))
    y = (X[:, 0] + X[:, 1] + X[:, 2]).long() % 2
    return X, y


def main(argv: list[str] | None = None) -> gib.Monitor:
    parser = argparse.ArgumentParser(description='Watch a small network learn XOR-like parity in your own training loop.')
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--every", type=int, default=25, help="record every this many epochs")
    parser.add_argument("--out", type=Path, default=Path("runs/own-loop"))
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    X, y = parity_task()
    model = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    monitor = gib.Monitor(model, X, y.numpy())
    for epoch in range(args.epochs + 1):
        if epoch > 0:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
        monitor.on_epoch_end(epoch, every=args.every)
    monitor.close()
    monitor.save(args.out)

    frame = monitor.frame
    monitor.plot(layer="2").savefig(args.out / "planes.png", dpi=120)
    last = frame[frame.step == frame.step.max()]
    gib_point = last[(last.plane == "GIB")].set_index("measure")["value"]
    accuracy = last[last.measure == "accuracy"]["value"].item()
    print(f"epoch {last.step.max()}: accuracy {accuracy:.2f}, GIB complexity {gib_point['complexity']:.3f} bits, "
          f"prediction {gib_point['prediction']:.3f} bits; written to {args.out}")
    return monitor


if __name__ == "__main__":
    monitor = main()
    figure = monitor.plot()  # the last hidden layer's IB plane beside the GIB plane
