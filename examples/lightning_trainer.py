"""
A Lightning model
=================

The planes of a Lightning model, recorded by gib's callback and logged by Lightning's logger.
:class:`gib.lightning.GIBCallback` records both planes when training starts, at every epoch end
(or every n optimizer steps) and at the last step (on global rank 0 only, when training is
distributed), each at ``trainer.global_step``, and sends two scalars per point to
``trainer.loggers``: here Lightning's CSVLogger, whose ``metrics.csv`` then holds
``gib/GIB/complexity``, ``gib/IB/<layer>/complexity``, ... beside the model's own
``train_loss``, on the same step axis.

.. code-block:: bash

    python examples/lightning_trainer.py --epochs 20 --out runs/lightning
    python examples/lightning_trainer.py --every-n-steps 10 --out runs/lightning
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import CSVLogger

from gib.lightning import GIBCallback


class Classifier(pl.LightningModule):
    def __init__(self, lr: float = 1e-2):
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.ReLU(), torch.nn.Linear(12, 2))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main(argv: list[str] | None = None) -> GIBCallback:
    parser = argparse.ArgumentParser(description="The planes of a Lightning model, recorded by gib's callback and logged by Lightning's logger.")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--every-n-steps", type=int, default=0, help="record every n steps [0: every epoch]")
    parser.add_argument("--out", type=Path, default=Path("runs/lightning"))
    args = parser.parse_args(argv)

    pl.seed_everything(0, verbose=False)
    X = torch.tensor(list(itertools.product([0.0, 1.0], repeat=6)))
    y = ((X[:, 0] + X[:, 1] + X[:, 2]) % 2).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16, shuffle=True)

    schedule = {"every_n_steps": args.every_n_steps} if args.every_n_steps else {"every_n_epochs": 1}
    callback = GIBCallback(X, y.numpy(), save_dir=args.out / "gib", **schedule)
    trainer = pl.Trainer(max_epochs=args.epochs, callbacks=[callback], logger=CSVLogger(args.out),
                         accelerator="cpu", devices=1, enable_checkpointing=False, enable_model_summary=False,
                         log_every_n_steps=1)
    trainer.fit(Classifier(), loader)
    print(f"planes in {args.out / 'gib' / 'metrics.parquet'}; Lightning's log with gib's columns in "
          f"{trainer.logger.log_dir}/metrics.csv")
    return callback


if __name__ == "__main__":
    callback = main()
    figure = callback.monitor.plot()  # the last hidden layer's IB plane beside the GIB plane
