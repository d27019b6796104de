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
