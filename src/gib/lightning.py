"""A thin PyTorch Lightning callback around :class:`gib.Monitor` (optional extra ``gib[lightning]``).

>>> from gib.lightning import GIBCallback                                  # doctest: +SKIP
>>> trainer = lightning.Trainer(callbacks=[GIBCallback(X_probe, y_probe)])  # doctest: +SKIP
>>> trainer.fit(model); trainer.callbacks[0].monitor.frame                  # doctest: +SKIP
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
    (``trainer.callback_metrics``) are stored beside the planes. With ``save_dir`` the tidy
    table and config are written there when fitting ends. The recorded rows travel in
    Lightning checkpoints, so a resumed fit keeps them.

    Parameters
    ----------
    X, y : array-like
        The probe set.
    every : int
        Record every ``every`` epochs.
    save_dir : path, optional
    **monitor_options
        Passed to :class:`gib.Monitor` (layers, features, estimators, task, ...).
    """

    def __init__(self, X: Any, y: Any, every: int = 1, save_dir: str | Path | None = None, **monitor_options: Any):
        self.X, self.y, self.every = X, y, every
        self.save_dir = save_dir
        self.monitor_options = monitor_options
        self.monitor: Monitor | None = None
        self._restored: dict | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        # a fresh monitor (hooks) per fit; recorded rows carry over from an earlier fit or checkpoint
        state = self.monitor.state_dict() if self.monitor is not None else self._restored
        self.monitor = Monitor(pl_module, self.X, self.y, every=self.every, **self.monitor_options)
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
        if not self.monitor.rows:
            self.monitor.record(0, 0.0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        epoch = trainer.current_epoch + 1  # epochs completed
        if epoch % self.every == 0:
            self.monitor.record(trainer.global_step, float(epoch), self._metrics(trainer))

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.save_dir is not None:
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
