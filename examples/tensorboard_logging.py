"""
Plane values in TensorBoard
===========================

The monitor's ``log="tensorboard"`` option in a plain loop. Each record adds scalars
``gib/GIB/complexity``, ``gib/GIB/prediction``, ``gib/IB/<layer>/...`` and
``gib/probe/accuracy`` at the record's step; the same option takes ``"wandb"``, ``"csv"``, a
callable ``log(metrics, step)`` or a list of these (:mod:`gib.loggers`).

.. code-block:: bash

    python examples/tensorboard_logging.py --epochs 200 --logdir runs/tensorboard
    tensorboard --logdir runs/tensorboard
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

import gib
from gib.loggers import TensorBoard


def main(argv: list[str] | None = None) -> gib.Monitor:
    parser = argparse.ArgumentParser(description='Plane values in TensorBoard: the monitor\'s `log="tensorboard"` option in a plain loop.')
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--logdir", type=Path, default=Path("runs/tensorboard"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(args.samples, 3)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(np.int64)  # a product interaction: synergy
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, targets = torch.as_tensor(X), torch.as_tensor(y)

    # TensorBoard(folder) picks the folder (log="tensorboard": SummaryWriter's default runs/...);
    # a logger object passed in is the caller's to close, one made from a name the monitor's
    board = TensorBoard(args.logdir)
    with gib.Monitor(model, X, y, log=board) as monitor:
        for epoch in range(args.epochs + 1):
            if epoch > 0:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(inputs), targets).backward()
                optimizer.step()
            monitor.on_epoch_end(epoch, every=args.every)
    board.close()
    print(f"{len(set(monitor.frame.step))} records written; view them with: tensorboard --logdir {args.logdir}")
    return monitor


if __name__ == "__main__":
    monitor = main()
    figure = monitor.plot()  # the last hidden layer's IB plane beside the GIB plane
