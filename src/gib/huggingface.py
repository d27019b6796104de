"""A Hugging Face ``Trainer`` callback around :class:`gib.Monitor` (extra ``gib[huggingface]``).

>>> from gib.huggingface import GIBCallback                                       # doctest: +SKIP
>>> trainer = Trainer(model, args, train_dataset=train, eval_dataset=test)         # doctest: +SKIP
>>> callback = GIBCallback(probe_texts, probe_labels, tokenizer=tokenizer, trainer=trainer)  # doctest: +SKIP
>>> trainer.add_callback(callback); trainer.train(); callback.monitor.frame       # doctest: +SKIP

What the callback does for a sequence classifier (BERT, RoBERTa, DistilBERT, ...):

- **Inputs with their attention mask.** The probe is token ids with the mask that marks padding
  (given, or built from the tokenizer's or the model config's padding id), or a tokenizer's
  output (``input_ids``, ``attention_mask``, ``token_type_ids``), or texts that the tokenizer
  turns into those. A model probed without its mask attends to the padding.
- **One IB point per block.** The IB plane is recorded for every encoder block's output (the
  model's ``hidden_states``, one per layer; the embeddings are left out), pooled over the real
  tokens (``pooling="mean"``, or ``"cls"``: the first token, or ``"none"``: every position), and
  for the logits (``output``), not for each of the dozens of Q/K/V projections a plain
  ``Monitor(model, ...)`` would hook. The GIB plane takes the token ids as its features: one
  discrete variable per position (SPEC 4 ``bert``).
- **When.** At the start of training; then, with the values of the Trainer's own
  ``eval_strategy``, at the end of every ``every``-th epoch (``strategy="epoch"``), after every
  ``every``-th optimizer step (``strategy="steps"``) or never (``strategy="no"``); and, whichever
  the strategy, at the last step, when training ends or is stopped early. A
  record's step is ``state.global_step`` at that moment. When the Trainer evaluates at that step,
  the record waits for the evaluation and stores its metrics (``eval_loss``, ``eval_accuracy``,
  ...) beside the planes.
- **Reporting.** Each record's plane values, two scalars per point (``gib/IB/<layer>/complexity``
  and ``.../prediction``, ``gib/GIB/complexity`` and ``gib/GIB/prediction``, named by
  :class:`gib.loggers.ScalarNames`), go through ``Trainer.log``: into ``state.log_history``
  (``trainer_state.json``) and to every integration of ``args.report_to`` (TensorBoard, W&B,
  MLflow, ...), which file them as they file the Trainer's own training logs, in the same event
  file or run (``train/gib/...``, at ``state.global_step``), with no second writer beside them.
  Callback events carry no handle on the Trainer, so the callback is given one, as TRL's callbacks
  that log (``WinRateCallback``, ``LogCompletionsCallback``) are:
  ``trainer.add_callback(GIBCallback(..., trainer=trainer))``. Without one the scalars reach
  ``state.log_history`` only (a warning says so when ``report_to`` names integrations). Flags,
  ceilings and the evaluation metrics stay in the monitor's frame.
- **Checkpoints.** Each checkpoint folder gets ``gib_monitor.json`` (the recorded rows); a
  training resumed from a checkpoint starts from its rows.
- **Distributed.** Only the main process (``state.is_world_process_zero``) builds the monitor,
  probes and writes; the probe runs on the unwrapped model, not the DDP wrapper.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("gib.huggingface needs transformers and accelerate: pip install 'gib[huggingface]'.") from err

import numpy as np
import torch
from torch import nn

from ._validation import one_of, positive_int
from .loggers import ScalarNames
from .monitor import Monitor
from .recorders import take_recorders

POOLINGS = ("mean", "cls", "none")
STRATEGIES = ("epoch", "steps", "no")
INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")
STATE_FILE = "gib_monitor.json"
FEATURES_NAME = "tokens"


class _Tap(nn.Module):
    """Identity: the monitor hooks it to see one block's pooled hidden states."""

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden


class ProbeModel(nn.Module):
    """A Hugging Face model as the monitor probes it: stacked input rows in, logits out.

    Each probe row is ``(len(keys), L)``: the input ids, attention mask (and token types) of one
    text; ``forward`` passes them by name, asks for the hidden states, and sends each block's
    states, pooled over the real tokens, through its own :class:`_Tap` (the monitor's layers).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The (unwrapped) model; its output needs ``logits`` (and ``hidden_states`` for taps).
    keys : sequence of str
        The input names, in the order of a probe row's rows.
    n_blocks : int
        Number of taps (0: the logits alone).
    pooling : {"mean", "cls", "none"}
    """

    def __init__(self, model: nn.Module, keys: Sequence[str], n_blocks: int, pooling: str = "mean"):
        super().__init__()
        self.model = model
        self.keys = tuple(keys)
        self.pooling = one_of(pooling, "pooling", POOLINGS)
        self.taps = nn.ModuleList(_Tap() for _ in range(n_blocks))

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        inputs = {key: rows[:, i] for i, key in enumerate(self.keys)}
        out = self.model(**inputs, output_hidden_states=len(self.taps) > 0)
        if len(self.taps):
            hidden = getattr(out, "hidden_states", None)
            if hidden is None or len(hidden) != len(self.taps) + 1:
                raise ValueError(f"{type(self.model).__name__} returned no hidden states for its "
                                 f"{len(self.taps)} blocks; pass layers=None to record the logits alone.")
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden[1].dtype)
            for tap, states in zip(self.taps, hidden[1:]):  # hidden[0]: the embeddings
                if self.pooling == "mean":
                    states = (states * mask).sum(1) / mask.sum(1).clamp_min(1.0)
                elif self.pooling == "cls":
                    states = states[:, 0]
                tap(states)
        return out.logits


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside DistributedDataParallel / DataParallel wrappers."""
    while isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        model = model.module
    return model


class _NoMask(ValueError):
    """The probe's padding id is not known (yet)."""


def _as_ids(a: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a))
    if t.ndim != 2 or t.dtype.is_floating_point:
        raise ValueError(f"`{name}` must be a samples x tokens array of integers, got {tuple(t.shape)} {t.dtype}.")
    return t.long()


def probe_inputs(X: Any, *, attention_mask: Any = None, tokenizer: Any = None, pad_token_id: int | None = None,
                 max_length: int | None = None, model: nn.Module | None = None) -> dict[str, torch.Tensor]:
    """The probe as named integer tensors (N, L), always with an ``attention_mask``.

    Parameters
    ----------
    X : texts, token ids (N, L) or a mapping (a tokenizer's output)
        Texts need ``tokenizer``; a mapping needs ``input_ids``.
    attention_mask : array (N, L), optional
        1 on tokens, 0 on padding. Default: the mapping's own, else ``input_ids != pad`` with the
        padding id from ``pad_token_id``, the tokenizer, or ``model.config.pad_token_id``.
    tokenizer : transformers tokenizer, optional
    pad_token_id : int, optional
    max_length : int, optional
        Texts are padded (and truncated) to this length; default: the longest text.
    model : optional
        Only for its ``config.pad_token_id``.
    """
    if isinstance(X, str):
        raise TypeError("`X` is one string; pass a list of texts.")
    if isinstance(X, Sequence) and len(X) and all(isinstance(x, str) for x in X):
        if tokenizer is None:
            raise TypeError("`X` holds texts: pass `tokenizer=` (or give the Trainer a processing_class).")
        X = tokenizer(list(X), padding="max_length" if max_length else "longest", truncation=True,
                      max_length=max_length, return_tensors="pt")
    if isinstance(X, Mapping):
        if "input_ids" not in X:
            raise ValueError(f"`X` has no input_ids (keys: {sorted(X)}); pass a tokenizer's output or token ids.")
        inputs = {key: _as_ids(X[key], key) for key in INPUT_KEYS if key in X and X[key] is not None}
    else:
        inputs = {"input_ids": _as_ids(X, "input_ids")}
    if attention_mask is not None:
        inputs["attention_mask"] = _as_ids(attention_mask, "attention_mask")
    if "attention_mask" not in inputs:
        pad = pad_token_id
        if pad is None and tokenizer is not None:
            pad = getattr(tokenizer, "pad_token_id", None)
        if pad is None and model is not None:
            pad = getattr(getattr(model, "config", None), "pad_token_id", None)
        if pad is None:
            raise _NoMask("no attention mask for the probe: pass `attention_mask=`, `pad_token_id=` or "
                             "`tokenizer=` (a model probed without its mask attends to the padding).")
        inputs["attention_mask"] = (inputs["input_ids"] != int(pad)).long()
    shapes = {key: tuple(t.shape) for key, t in inputs.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"the probe's inputs differ in shape: {shapes}; give every one as samples x tokens.")
    return inputs


def text_monitor(model: nn.Module, X: Any, y: Any, *, attention_mask: Any = None, tokenizer: Any = None,
                 pad_token_id: int | None = None, max_length: int | None = None, layers: str | None = "blocks",
                 pooling: str = "mean", batch_size: int = 64, **monitor_options: Any) -> Monitor:
    """The monitor of a Hugging Face sequence classifier, as :class:`GIBCallback` builds it, for
    your own training loop: the probe with its attention mask, an IB point per encoder block
    (``layer.0``, ...) and for the logits, the GIB plane on the token ids.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A sequence classifier (its output has ``logits``; ``hidden_states`` for the blocks).
    X, y, attention_mask, tokenizer, pad_token_id, max_length
        The probe (see :func:`probe_inputs`) and its labels.
    layers : "blocks" or None
        ``"blocks"``: an IB point per encoder block and the logits; None: the logits alone.
    pooling : {"mean", "cls", "none"}
    batch_size : int
        Texts per probe forward pass.
    **monitor_options
        Passed to :class:`gib.Monitor` (estimators, synergy_kinds, log, features, ...).

    Returns
    -------
    gib.Monitor
        Its ``model`` is the :class:`ProbeModel` around ``model``; call ``record(step)``.
    """
    if layers not in ("blocks", None):
        raise ValueError(f"`layers` must be 'blocks' or None, got {layers!r}.")
    model = unwrap(model)
    inputs = probe_inputs(X, attention_mask=attention_mask, tokenizer=tokenizer, pad_token_id=pad_token_id,
                          max_length=max_length, model=model)
    keys = tuple(inputs)
    n_blocks = int(getattr(model.config, "num_hidden_layers", 0)) if layers == "blocks" else 0
    probe = ProbeModel(model, keys, n_blocks, pooling)
    probe.training = model.training  # the monitor puts the model back in the mode it finds the wrapper in
    ids = inputs["input_ids"].numpy()
    options = dict(monitor_options)
    recorders = take_recorders(options, features=ids, ib_input=ids, features_name=FEATURES_NAME)
    return Monitor(probe, torch.stack([inputs[k] for k in keys], dim=1), y, recorders,
                   layers={f"layer.{i}": tap for i, tap in enumerate(probe.taps)},
                   batch_size=positive_int(batch_size, "batch_size"), **options)


class GIBCallback(TrainerCallback):
    """Records IB and GIB planes while a Hugging Face ``Trainer`` trains (see the module docstring).

    Parameters
    ----------
    X : texts, token ids (N, L), or a tokenizer's output
        The fixed probe set.
    y : array-like (N,)
        Its class labels.
    strategy : {"epoch", "steps", "no"}
        When to record between the start and the last step (which are always recorded).
    every : int
        Record every ``every`` epochs (or steps, see ``strategy``).
    trainer : transformers.Trainer, optional
        The Trainer whose ``log`` (its ``log_history`` and ``report_to`` integrations) receives
        the plane values; without it they reach ``state.log_history`` only.
    attention_mask, tokenizer, pad_token_id, max_length
        How the probe gets its attention mask (see :func:`probe_inputs`). Without ``tokenizer``
        the Trainer's ``processing_class`` is used.
    layers : "blocks" or None
        ``"blocks"``: an IB point per encoder block and the logits; None: the logits alone.
    pooling : {"mean", "cls", "none"}
        How a block's token states become one row per text.
    save_dir : path, optional
        Write ``metrics.parquet`` and ``monitor.json`` there when training ends.
    batch_size : int
        Texts per probe forward pass.
    **monitor_options
        Passed to :class:`gib.Monitor` (estimators, synergy_kinds, features, ...).

    Attributes
    ----------
    monitor : gib.Monitor or None
        The monitor (None before training and on processes other than the main one);
        ``monitor.frame`` is the tidy table.
    """

    def __init__(self, X: Any, y: Any, *, strategy: str = "epoch", every: int = 1, trainer: Any = None,
                 attention_mask: Any = None, tokenizer: Any = None, pad_token_id: int | None = None,
                 max_length: int | None = None, layers: str | None = "blocks", pooling: str = "mean",
                 save_dir: str | os.PathLike | None = None, batch_size: int = 64, **monitor_options: Any):
        if "report_to" in monitor_options:
            raise TypeError("GIBCallback takes no `report_to`: given `trainer=`, its values go where the Trainer "
                            "reports (`TrainingArguments.report_to`).")
        self.every = positive_int(every, "every")
        self.strategy = one_of(strategy, "strategy", STRATEGIES)
        if trainer is not None and not callable(getattr(trainer, "log", None)):
            raise TypeError("`trainer` must be a transformers Trainer (with a `log` method), "
                            f"got {type(trainer).__name__}.")
        self.trainer = trainer
        if layers not in ("blocks", None):
            raise ValueError(f"`layers` must be 'blocks' or None, got {layers!r}.")
        self.layers, self.pooling = layers, one_of(pooling, "pooling", POOLINGS)
        self.X, self.y = X, np.asarray(y)
        self.mask_options = dict(attention_mask=attention_mask, tokenizer=tokenizer, pad_token_id=pad_token_id,
                                 max_length=max_length)
        texts = isinstance(X, Sequence) and not isinstance(X, str) and len(X) > 0 and isinstance(X[0], str)
        if tokenizer is not None or not texts:  # texts may wait for the Trainer's processing_class
            try:
                probe_inputs(X, **self.mask_options)  # a bad probe fails now, not after an epoch
            except _NoMask:
                pass  # the model's config may name the padding id
        self.save_dir = save_dir
        self.batch_size = positive_int(batch_size, "batch_size")
        self.monitor_options = monitor_options
        self.monitor: Monitor | None = None
        self.probe_model: ProbeModel | None = None
        self._names = ScalarNames()
        self._pending: tuple[int, float] | None = None  # a record waiting for the step's evaluation
        self._last_step: int | None = None  # the step of the last record

    # -- set-up --------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if not state.is_world_process_zero:
            return
        if self.monitor is not None:
            self.monitor.close()
        options = dict(self.mask_options)
        options["tokenizer"] = options["tokenizer"] or processing_class
        # the model the Trainer hands to callbacks is its unwrapped one; text_monitor unwraps anyway
        self.monitor = text_monitor(model, self.X, self.y, layers=self.layers, pooling=self.pooling,
                                    batch_size=self.batch_size, **options, **self.monitor_options)
        self.probe_model = self.monitor.model
        self._names, self._pending, self._last_step = ScalarNames(), None, None
        targets = [t for t in ([args.report_to] if isinstance(args.report_to, str) else args.report_to or [])
                   if t not in ("none", None)]
        if self.trainer is None and targets:
            warnings.warn(f"gib.huggingface.GIBCallback has no trainer, so its scalars reach state.log_history but "
                          f"not report_to {targets}: add it with "
                          "trainer.add_callback(GIBCallback(..., trainer=trainer)).", stacklevel=2)
        self._resume(args, state)
        if state.global_step == 0 and self._last_step != 0:
            self._record(state, float(state.epoch or 0.0))

    def _resume(self, args, state) -> None:
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        if state.global_step > 0:
            saved = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}" / STATE_FILE
            if saved.exists():
                self.load_state_dict(json.loads(saved.read_text()))

    def state_dict(self) -> dict:
        """The recorded rows and the last record's step (what each checkpoint's ``gib_monitor.json``
        holds); empty before training and on processes other than the main one."""
        if self.monitor is None:
            return {}
        return {"monitor": self.monitor.state_dict(), "last_step": self._last_step}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict` (the monitor is built when training begins)."""
        if self.monitor is None:
            raise RuntimeError("GIBCallback builds its monitor when training begins: load a state after "
                               "`on_train_begin`, or resume the Trainer from a checkpoint that holds gib_monitor.json.")
        self.monitor.load_state_dict(state["monitor"])
        self._last_step = state.get("last_step")

    # -- recording -----------------------------------------------------------------------------
    def _record(self, state, epoch: float, metrics: Mapping[str, Any] | None = None, through_trainer: bool = True):
        numbers = {k: float(v) for k, v in (metrics or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "epoch"}
        step = int(state.global_step)
        # the monitor puts the model back in the mode it finds the wrapper in
        self.probe_model.training = self.probe_model.model.training
        new = self.monitor.record(step, epoch, numbers)
        self._last_step = step
        scalars = self._names(new.to_dict("records")).get(step, {})
        if not scalars:
            return
        if self.trainer is not None and through_trainer:
            # Trainer.log: log_history and every report_to integration, at global_step. Its on_log
            # event clears control.should_log, which would cancel the Trainer's own logging of
            # this step (its loss would be averaged into the next logged step): kept as it was
            control = self.trainer.control
            should_log = control.should_log
            self.trainer.log(dict(scalars))
            control.should_log = should_log
        else:
            state.log_history.append({**scalars, "epoch": epoch, "step": step})

    def _due(self, state, control, wait: bool = False) -> None:
        """A record is due at this step: now, or when the evaluation the Trainer is about to run
        (``control.should_evaluate``) or, with ``wait``, the epoch end that follows has come."""
        if self._pending is None:
            if state.global_step == self._last_step:
                return
            self._pending = (state.global_step, float(state.epoch or 0.0))
        if not control.should_evaluate and not wait:
            self._flush(state)

    def _flush(self, state, metrics: Mapping[str, Any] | None = None, through_trainer: bool = True) -> None:
        if self._pending is not None:
            step, epoch = self._pending
            self._pending = None
            self._record(state, epoch, metrics if step == state.global_step else None, through_trainer)

    def on_step_begin(self, args, state, control, **kwargs):
        if self.monitor is not None:
            self._flush(state)

    def on_step_end(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        last = bool(control.should_training_stop)  # set by the Trainer's flow at the last step
        if last or (self.strategy == "steps" and state.global_step % self.every == 0):
            # the last step waits for on_epoch_end, which follows it with the epoch's evaluation
            self._due(state, control, wait=last and not control.should_evaluate)

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        due = self.strategy == "epoch" and round(state.epoch or 0) % self.every == 0
        if due or control.should_training_stop or self._pending is not None:
            self._due(state, control)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.monitor is not None:
            self._flush(state, metrics)

    def on_save(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        self._flush(state)
        folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
        if folder.is_dir():
            (folder / STATE_FILE).write_text(json.dumps(self.state_dict()))

    def on_train_end(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        # normally recorded by now; the report_to integrations have closed their writers here, so a
        # late record goes to state.log_history only
        self._flush(state, through_trainer=False)
        if state.global_step != self._last_step:
            self._record(state, float(state.epoch or 0.0), through_trainer=False)
        if self.save_dir is not None:
            self.monitor.save(self.save_dir)
        self.monitor.close()
