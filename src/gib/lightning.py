"""A thin PyTorch Lightning callback around :class:`gib.Monitor` (optional extra ``gib[lightning]``).

>>> from gib.lightning import GIBCallback                                  # doctest: +SKIP
>>> trainer = lightning.Trainer(callbacks=[GIBCallback(X_probe, y_probe)])  # doctest: +SKIP
>>> trainer.fit(model); trainer.callbacks[0].monitor.frame                  # doctest: +SKIP

Distributed training (DDP and the like): only the global-zero process builds the monitor, runs
the probe and writes; the other ranks do nothing, so ``save_dir`` holds one process's numbers
and no rank waits on another's probe collectives. The probe runs on the LightningModule itself
(the unwrapped module, not the DDP wrapper), in evaluation mode and without gradients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:
    from lightning.pytorch import Callback
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("gib.lightning needs Lightning: pip install 'gib[lightning]'.") from err

from .monitor import Monitor


class GIBCallback(Callback):
    """Records IB and GIB planes at the end of every ``every``-th training epoch.

    Epoch 0 is recorded when training starts. Lightning's own logged metrics
    (``trainer.callback_metrics``) are stored beside the planes, and the plane values are sent to
    the trainer's loggers (``trainer.loggers``: its CSV ``metrics.csv``, TensorBoard, W&B, ...)
    under the names of :mod:`gib.loggers` (``gib/GIB/complexity``, ``gib/IB/<layer>/complexity``,
    ...), at ``trainer.global_step``. With ``save_dir`` the tidy table and config are written
    there when fitting ends. The recorded rows travel in Lightning checkpoints, so a resumed fit
    keeps them. Only global rank 0 computes and writes (see the module docstring).

    Parameters
    ----------
    X, y : array-like
        The probe set.
    every : int
        Record every ``every`` epochs.
    save_dir : path, optional
    log_to_trainer : bool
        Send the plane values to ``trainer.loggers`` (default True).
    **monitor_options
        Passed to :class:`gib.Monitor` (layers, features, estimators, task, log, ...).
    """

    def __init__(self, X: Any, y: Any, every: int = 1, save_dir: str | Path | None = None,
                 log_to_trainer: bool = True, **monitor_options: Any):
        self.X, self.y, self.every = X, y, every
        self.save_dir = save_dir
        self.log_to_trainer = log_to_trainer
        self.monitor_options = monitor_options
        self.monitor: Monitor | None = None
        self._restored: dict | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if not trainer.is_global_zero:
            return  # rank 0 alone probes and writes
        # a fresh monitor (hooks) per fit; recorded rows carry over from an earlier fit or checkpoint
        state = self.monitor.state_dict() if self.monitor is not None else self._restored
        if self.monitor is not None:
            self.monitor.close()
        # pl_module is the LightningModule, never the DDP wrapper around it
        self.monitor = Monitor(pl_module, self.X, self.y, every=self.every, **self.monitor_options)
        if self.log_to_trainer:
            for logger in trainer.loggers:
                self.monitor.loggers.add(logger)
        if state:
            self.monitor.load_state_dict(state)

    def _metrics(self, trainer) -> dict[str, float]:
        out = {}
        for key, value in trainer.callback_metrics.items():
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                continue
        return out

    def on_train_start(self, trainer, pl_module) -> None:
        if self.monitor is not None and not self.monitor.rows:
            self.monitor.record(0, 0.0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        epoch = trainer.current_epoch + 1  # epochs completed
        if self.monitor is not None and epoch % self.every == 0:
            self.monitor.record(trainer.global_step, float(epoch), self._metrics(trainer))

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.monitor is not None and self.save_dir is not None:
            self.monitor.save(self.save_dir)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self.monitor is not None:
            self.monitor.close()

    def state_dict(self) -> dict:
        return {} if self.monitor is None else self.monitor.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        if self.monitor is not None:
            self.monitor.load_state_dict(state_dict)
        else:
            self._restored = dict(state_dict)
