"""The Lightning callback wraps the same Monitor (tested when Lightning is installed)."""

import numpy as np
import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

from gib.lightning import GIBCallback  # noqa: E402


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def test_callback_records_every_epoch_and_removes_hooks(tmp_path):
    torch.manual_seed(0)
    X = torch.randint(0, 2, (64, 4)).float()
    y = (X[:, 0].long() ^ X[:, 1].long())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    callback = GIBCallback(X, y.numpy(), every=1, save_dir=tmp_path)
    model = Classifier()
    trainer = pl.Trainer(max_epochs=3, callbacks=[callback], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, loader)
    frame = callback.monitor.frame
    assert sorted(set(frame.epoch)) == [0.0, 1.0, 2.0, 3.0]
    assert "train_loss" in set(frame.measure)
    assert set(frame[frame.plane == "IB"].layer) == {"net.0", "net.2", "output"}  # named by the Linear, hooked after its Tanh
    assert (tmp_path / "metrics.parquet").exists()
    assert not any(m._forward_hooks for m in model.modules())
    assert callback.state_dict()["rows"] == callback.monitor.rows
    assert np.isfinite(frame.value).all()


def data(n=64):
    torch.manual_seed(0)
    X = torch.randint(0, 2, (n, 4)).float()
    y = (X[:, 0].long() ^ X[:, 1].long())
    return X, y, torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)


def test_plane_values_reach_the_trainers_logger(tmp_path):
    import pandas as pd
    from lightning.pytorch.loggers import CSVLogger

    X, y, loader = data()
    callback = GIBCallback(X, y.numpy(), every=1)
    trainer = pl.Trainer(max_epochs=2, callbacks=[callback], logger=CSVLogger(tmp_path), enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                         log_every_n_steps=1)
    trainer.fit(Classifier(), loader)
    (path,) = tmp_path.glob("lightning_logs/*/metrics.csv")
    logged = pd.read_csv(path)
    frame = callback.monitor.frame
    for name, (plane, layer, measure) in {"gib/GIB/complexity": ("GIB", "input", "complexity"),
                                          "gib/IB/net.0/prediction": ("IB", "net.0", "prediction"),
                                          "gib/probe/accuracy": ("metric", "output", "accuracy")}.items():
        want = frame[(frame.plane == plane) & (frame.layer == layer) & (frame.measure == measure)]
        got = logged.dropna(subset=[name]).set_index("step")[name]
        assert sorted(got.index) == sorted(want.step) == [0, 4, 8]  # epoch 0, then 4 batches per epoch
        assert got.loc[want.step].to_numpy() == pytest.approx(want.value.to_numpy())
    assert "train_loss" in logged.columns  # the user's own metrics are still there


def test_only_global_rank_zero_probes_and_writes(tmp_path):
    from types import SimpleNamespace

    X, y, _ = data()
    model = Classifier()
    callback = GIBCallback(X, y.numpy(), save_dir=tmp_path / "gib")
    other_rank = SimpleNamespace(is_global_zero=False, loggers=[], current_epoch=0, global_step=4,
                                 callback_metrics={})
    callback.setup(other_rank, model, "fit")
    callback.on_train_start(other_rank, model)
    callback.on_train_epoch_end(other_rank, model)
    callback.on_fit_end(other_rank, model)
    callback.teardown(other_rank, model, "fit")
    assert callback.monitor is None and callback.state_dict() == {}
    assert not (tmp_path / "gib").exists()
    assert not any(m._forward_hooks for m in model.modules())

    rank_zero = SimpleNamespace(**{**vars(other_rank), "is_global_zero": True})
    callback.setup(rank_zero, model, "fit")
    callback.on_train_start(rank_zero, model)
    callback.on_fit_end(rank_zero, model)
    assert (tmp_path / "gib" / "metrics.parquet").exists() and len(callback.monitor.rows)
    callback.teardown(rank_zero, model, "fit")
