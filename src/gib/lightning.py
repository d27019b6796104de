"""A thin PyTorch Lightning callback around :class:`gib.Monitor` (optional extra ``gib[lightning]``).

>>> from gib.lightning import GIBCallback                                        # doctest: +SKIP
>>> trainer = lightning.Trainer(callbacks=[GIBCallback(X_probe, y_probe, every_n_steps=50)])  # doctest: +SKIP
>>> trainer.fit(model); trainer.callbacks[0].monitor.frame                        # doctest: +SKIP

**When.** Like Lightning's ``ModelCheckpoint``: every ``every_n_steps`` optimizer steps (at the
end of a training batch where ``trainer.global_step`` is a multiple of it), or every
``every_n_epochs`` epochs (at the end of a training epoch, after its validation), never both;
neither given means every epoch. The untrained model is recorded when training starts, and the
last step when training ends, if neither schedule reached it. A record's ``epoch`` is the number
of training epochs completed, with the fraction of the current one (as the Hugging Face
Trainer's ``state.epoch``).

**Steps.** A record's step is ``trainer.global_step`` at that moment: the number of optimizer
steps the probed weights have taken, the number in ``ModelCheckpoint``'s ``step=`` file names.
Lightning's logger writes what ``training_step`` logs at the same count (the weights that
compute the loss of batch ``k`` have taken ``k`` steps), so a plane point and the training
loss that Lightning logs at one step come from the same weights. Lightning writes its epoch-end
values (``val_loss``, ``*_epoch``) one step lower, at the last training batch's step, although
they are computed after that batch's update; the plane point of the same epoch end sits at
``trainer.global_step``.

**Logging.** The plane values go to the trainer's own loggers (``trainer.loggers``: its CSV
``metrics.csv``, TensorBoard event file, W&B run, ...) at the record's step, as Lightning's own
``LearningRateMonitor`` does: two scalars per hooked layer (``gib/IB/<layer>/complexity`` and
``.../prediction``) and the GIB plane's two (``gib/GIB/complexity``, ``gib/GIB/prediction``),
named by :class:`gib.loggers.ScalarNames`. ``LightningModule.log`` cannot be used: Lightning
refuses it in ``on_train_start`` and ``on_train_end`` and files batch-end values under the
batch's own step, where the record of the weights before that batch's update would sit too.
Flags, ceilings and the trainer's metrics (``trainer.callback_metrics``) stay in the monitor's
frame.

**Distributed.** Only the global-zero process builds the monitor, runs the probe and writes;
the other ranks do nothing, so ``save_dir`` holds one process's numbers and no rank waits on
another's probe collectives. The probe runs on the LightningModule itself (not the DDP
wrapper), in evaluation mode and without gradients.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

try:
    from lightning.pytorch import Callback
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("gib.lightning needs Lightning: pip install 'gib[lightning]'.") from err

from .loggers import ScalarNames
from .monitor import Monitor
from .recorders import take_recorders


def _every(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer or None, got {value!r}.")
    return int(value)


class GIBCallback(Callback):
    """Records IB and GIB planes while a Lightning ``Trainer`` fits (see the module docstring).

    Parameters
    ----------
    X, y : array-like
        The probe set.
    every_n_steps : int, optional
        Record after every ``every_n_steps``-th optimizer step.
    every_n_epochs : int, optional
        Record at the end of every ``every_n_epochs``-th training epoch. Exclusive with
        ``every_n_steps``; when neither is given, every epoch.
    save_dir : path, optional
        Write the monitor's ``metrics.parquet`` and ``monitor.json`` there when fitting ends.
    log_to_trainer : bool
        Send the plane values to ``trainer.loggers`` (default True).
    **monitor_options
        Passed to :class:`gib.Monitor` (layers, features, estimators, task, ...).

    Attributes
    ----------
    monitor : gib.Monitor or None
        The monitor (None before fitting and on ranks other than global zero); ``monitor.frame``
        is the tidy table.
    """

    def __init__(self, X: Any, y: Any, *, every_n_steps: int | None = None, every_n_epochs: int | None = None,
                 save_dir: str | Path | None = None, log_to_trainer: bool = True, **monitor_options: Any):
        if "every" in monitor_options:
            raise TypeError("GIBCallback's schedule is `every_n_epochs=` or `every_n_steps=` (as ModelCheckpoint's), "
                            "not `every=`.")
        self.every_n_steps = _every(every_n_steps, "every_n_steps")
        self.every_n_epochs = _every(every_n_epochs, "every_n_epochs")
        if self.every_n_steps is not None and self.every_n_epochs is not None:
            raise ValueError(f"`every_n_steps`={every_n_steps} and `every_n_epochs`={every_n_epochs} are exclusive: "
                             "give one of them (neither: every epoch).")
        if self.every_n_steps is None and self.every_n_epochs is None:
            self.every_n_epochs = 1
        self.X, self.y = X, y
        self.save_dir = save_dir
        self.log_to_trainer = bool(log_to_trainer)
        self.monitor_options = monitor_options
        self.monitor: Monitor | None = None
        self._restored: dict | None = None
        self._names = ScalarNames()
        self._last_step: int | None = None  # the step of the last record
        self._epochs = 0.0  # training epochs completed, with the fraction of the current one

    # -- set-up and tear-down ------------------------------------------------------------------
    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or not trainer.is_global_zero:
            return  # rank 0 alone probes and writes, and only while fitting
        # a fresh monitor (hooks) per fit; recorded rows carry over from an earlier fit or checkpoint
        state = self.monitor.state_dict() if self.monitor is not None else self._restored
        if self.monitor is not None:
            self.monitor.close()
        # pl_module is the LightningModule, never the DDP wrapper around it
        options = dict(self.monitor_options)
        self.monitor = Monitor(pl_module, self.X, self.y, take_recorders(options), **options)
        if state:
            self._load(state)

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.monitor is not None and self.save_dir is not None:
            self.monitor.save(self.save_dir)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit" and self.monitor is not None:
            self.monitor.close()

    # -- when to record ------------------------------------------------------------------------
    def on_train_start(self, trainer, pl_module) -> None:
        self._epochs = float(trainer.current_epoch)
        if trainer.global_step == 0:
            self._record(trainer)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        batches = trainer.num_training_batches
        done = (batch_idx + 1) / batches if 0 < batches < float("inf") else 0.0
        self._epochs = trainer.current_epoch + done
        # with gradient accumulation several batches end at one global step: the first records
        if self.every_n_steps is not None and trainer.global_step % self.every_n_steps == 0:
            self._record(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._epochs = float(trainer.current_epoch + 1)
        if self.every_n_epochs is not None and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._record(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self._record(trainer)  # the last step, when the schedule did not reach it

    # -- recording -----------------------------------------------------------------------------
    def _record(self, trainer) -> None:
        step = int(trainer.global_step)
        if self.monitor is None or trainer.sanity_checking or step == self._last_step:
            return
        new = self.monitor.record(step, self._epochs, _numbers(trainer.callback_metrics))
        self._last_step = step
        if self.log_to_trainer and trainer.loggers:
            scalars = self._names(new.to_dict("records")).get(step, {})
            for logger in trainer.loggers:
                logger.log_metrics(scalars, step=step)
                logger.save()

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        if self.monitor is None:
            return {}
        return {"monitor": self.monitor.state_dict(), "last_step": self._last_step,
                "every_n_steps": self.every_n_steps, "every_n_epochs": self.every_n_epochs}

    def load_state_dict(self, state_dict: dict) -> None:
        if not state_dict:
            return
        if self.monitor is not None:
            self._load(state_dict)
        else:
            self._restored = dict(state_dict)

    def _load(self, state: dict) -> None:
        self.monitor.load_state_dict(state["monitor"])
        self._last_step = state.get("last_step")


def _numbers(metrics: Any) -> dict[str, float]:
    """The trainer's logged metrics that are single numbers, as floats."""
    out = {}
    for key, value in dict(metrics).items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError, RuntimeError):
            continue
    return out
