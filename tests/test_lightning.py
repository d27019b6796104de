"""The Lightning callback: records on Lightning's schedules (every n steps, every n epochs, the
last step), at ``trainer.global_step``, and sends two scalars per plane point to the trainer's own
logger, on the axis where Lightning logs the training loss of the same weights."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from gib.lightning import GIBCallback  # noqa: E402

LAYERS = ("net.0", "net.2", "output")


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
        # the optimizer steps the weights computing this loss have taken
        self.log("updates", float(self.global_step), on_step=True, on_epoch=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


class Spy(pl.Callback):
    """trainer.global_step wherever a GIBCallback may record."""

    def __init__(self):
        self.batch_end, self.epoch_end, self.end = [], [], None

    def on_train_batch_end(self, trainer, *args):
        self.batch_end.append(trainer.global_step)

    def on_train_epoch_end(self, trainer, *args):
        self.epoch_end.append(trainer.global_step)

    def on_train_end(self, trainer, *args):
        self.end = trainer.global_step


def data(n=64, batch_size=16):
    torch.manual_seed(0)
    X = torch.randint(0, 2, (n, 4)).float()
    y = X[:, 0].long() ^ X[:, 1].long()
    return X, y, torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch_size)


def fit(callback, loader, tmp_path=None, **options):
    defaults = dict(max_epochs=2, logger=False if tmp_path is None else CSVLogger(tmp_path), log_every_n_steps=1,
                    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                    accelerator="cpu")
    spy = Spy()
    trainer = pl.Trainer(callbacks=[callback, spy], **{**defaults, **options})
    model = Classifier()
    trainer.fit(model, loader)
    return trainer, model, spy


def steps(frame):
    return sorted(set(frame.step))


def logged(tmp_path):
    (path,) = tmp_path.glob("lightning_logs/*/metrics.csv")
    return pd.read_csv(path)


def test_every_n_steps_records_at_the_global_step_and_the_last_step(tmp_path):
    X, y, loader = data()  # 4 batches an epoch, 8 steps in 2 epochs; with 3 the schedule misses step 8
    callback = GIBCallback(X, y.numpy(), every_n_steps=3)
    trainer, model, spy = fit(callback, loader, tmp_path)
    frame = callback.monitor.frame
    assert steps(frame) == [0, 3, 6, 8] == [0, *[s for s in spy.batch_end if s % 3 == 0], spy.end]
    epochs = frame.groupby("step")["epoch"].first()
    assert epochs.to_dict() == pytest.approx({0: 0.0, 3: 0.75, 6: 1.5, 8: 2.0})  # 4 batches an epoch
    assert spy.batch_end == list(range(1, 9))
    csv = logged(tmp_path)
    # Lightning's own axis: the training loss of the weights that have taken `step` optimizer steps
    updates = csv.dropna(subset=["updates"])
    assert (updates.step == updates.updates).all() and list(updates.step) == list(range(8))
    # gib's rows sit at the frame's steps, beside the training loss Lightning logs for the same weights
    gib = csv.dropna(subset=["gib/GIB/complexity"])
    assert list(gib.step) == steps(frame)
    assert set(gib.step[gib.step < 8]) <= set(updates.step)
    assert not any(m._forward_hooks for m in model.modules())


def test_every_n_epochs_records_at_epoch_ends_and_the_last_step(tmp_path):
    X, y, loader = data()
    callback = GIBCallback(X, y.numpy(), every_n_epochs=2)
    trainer, _, spy = fit(callback, loader, tmp_path, max_epochs=3)
    assert spy.epoch_end == [4, 8, 12]
    assert steps(callback.monitor.frame) == [0, 8, 12]  # epoch 2, then the last step (epoch 3 is not due)
    assert sorted(set(callback.monitor.frame.epoch)) == [0.0, 2.0, 3.0]
    assert list(logged(tmp_path).dropna(subset=["gib/GIB/complexity"]).step) == [0, 8, 12]
    # the default is every epoch, and the last step is then one of them: recorded once
    callback = GIBCallback(X, y.numpy())
    fit(callback, loader)
    frame = callback.monitor.frame
    assert steps(frame) == [0, 4, 8]
    assert len(frame[(frame.step == 8) & (frame.plane == "GIB") & (frame.measure == "complexity")]) == 1
    assert "train_loss" in set(frame.measure)  # the trainer's metrics, stored beside the planes


def test_two_scalars_per_point_reach_the_trainers_logger(tmp_path):
    X, y, loader = data()
    callback = GIBCallback(X, y.numpy(), every_n_steps=4, save_dir=tmp_path / "gib")
    fit(callback, loader, tmp_path)
    csv = logged(tmp_path)
    names = {c for c in csv.columns if c.startswith("gib/")}
    assert names == {f"gib/IB/{layer}/{m}" for layer in LAYERS for m in ("complexity", "prediction")} | {
        "gib/GIB/complexity", "gib/GIB/prediction"}
    frame = callback.monitor.frame
    for name, (plane, layer, measure) in {"gib/GIB/complexity": ("GIB", "input", "complexity"),
                                          "gib/IB/net.0/prediction": ("IB", "net.0", "prediction"),
                                          "gib/IB/output/complexity": ("IB", "output", "complexity")}.items():
        want = frame[(frame.plane == plane) & (frame.layer == layer) & (frame.measure == measure)]
        got = csv.dropna(subset=[name]).set_index("step")[name]
        assert sorted(got.index) == sorted(want.step) == [0, 4, 8]
        assert got.loc[want.step].to_numpy() == pytest.approx(want.value.to_numpy())
    # one logger, one folder: no second file beside Lightning's
    assert [p.name for p in (tmp_path / "lightning_logs").iterdir()] == ["version_0"]
    assert (tmp_path / "gib" / "metrics.parquet").exists()
    assert np.isfinite(frame.value).all()


def test_gradient_accumulation_records_each_global_step_once():
    X, y, loader = data()
    callback = GIBCallback(X, y.numpy(), every_n_steps=1)
    _, _, spy = fit(callback, loader, accumulate_grad_batches=2)
    assert spy.batch_end == [0, 1, 1, 2, 2, 3, 3, 4]  # two batches end at each global step
    frame = callback.monitor.frame
    assert steps(frame) == [0, 1, 2, 3, 4]
    assert len(frame[(frame.plane == "GIB") & (frame.measure == "complexity")]) == 5


def test_state_dict_resumes_the_rows_and_the_last_step(tmp_path):
    X, y, loader = data()
    callback = GIBCallback(X, y.numpy(), every_n_steps=2)
    trainer, _, _ = fit(callback, loader, max_epochs=1, enable_checkpointing=True, default_root_dir=tmp_path)
    state = callback.state_dict()
    assert state["last_step"] == 4 and state["every_n_steps"] == 2
    (checkpoint,) = tmp_path.glob("**/*.ckpt")
    resumed = GIBCallback(X, y.numpy(), every_n_steps=2)
    trainer = pl.Trainer(max_epochs=2, callbacks=[resumed], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(Classifier(), loader, ckpt_path=checkpoint)
    frame = resumed.monitor.frame
    assert steps(frame) == [0, 2, 4, 6, 8]  # the first fit's rows, then the second's
    first = callback.monitor.frame
    assert frame[frame.step <= 4].reset_index(drop=True).equals(first.reset_index(drop=True))


def test_bad_schedules_fail_with_the_argument_named():
    with pytest.raises(ValueError, match="exclusive"):
        GIBCallback([[0.0]], [0], every_n_steps=2, every_n_epochs=1)
    with pytest.raises(ValueError, match="`every_n_steps` must be a positive integer"):
        GIBCallback([[0.0]], [0], every_n_steps=0)
    with pytest.raises(ValueError, match="`every_n_epochs` must be a positive integer"):
        GIBCallback([[0.0]], [0], every_n_epochs=1.5)
    with pytest.raises(TypeError, match="`every_n_epochs=` or `every_n_steps=`"):
        GIBCallback([[0.0]], [0], every=2)


def test_only_global_rank_zero_probes_and_writes(tmp_path):
    X, y, _ = data()
    model = Classifier()
    callback = GIBCallback(X, y.numpy(), save_dir=tmp_path / "gib")
    other_rank = SimpleNamespace(is_global_zero=False, loggers=[], current_epoch=0, global_step=0,
                                 callback_metrics={}, sanity_checking=False)
    callback.setup(other_rank, model, "fit")
    callback.on_train_start(other_rank, model)
    callback.on_train_epoch_end(other_rank, model)
    callback.on_train_end(other_rank, model)
    callback.on_fit_end(other_rank, model)
    callback.teardown(other_rank, model, "fit")
    assert callback.monitor is None and callback.state_dict() == {}
    assert not (tmp_path / "gib").exists()
    assert not any(m._forward_hooks for m in model.modules())

    rank_zero = SimpleNamespace(**{**vars(other_rank), "is_global_zero": True})
    callback.setup(rank_zero, model, "fit")
    callback.on_train_start(rank_zero, model)
    callback.on_fit_end(rank_zero, model)
    assert (tmp_path / "gib" / "metrics.parquet").exists() and len(callback.monitor.frame)
    callback.teardown(rank_zero, model, "fit")
    assert not any(m._forward_hooks for m in model.modules())
