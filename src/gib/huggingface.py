"""A Hugging Face ``Trainer`` callback around :class:`gib.Monitor` (extra ``gib[huggingface]``).

>>> from gib.huggingface import GIBCallback                                       # doctest: +SKIP
>>> trainer = Trainer(model, args, train_dataset=train, eval_dataset=test,
...                   callbacks=[GIBCallback(probe_texts, probe_labels, tokenizer=tokenizer)])  # doctest: +SKIP
>>> trainer.train(); trainer.callback_handler.callbacks[-2].monitor.frame         # doctest: +SKIP

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
- **When.** At the start of training, then at the end of every ``every``-th epoch
  (``strategy="epoch"``) or every ``every`` optimizer steps (``strategy="steps"``). When the
  Trainer evaluates at that step, the record waits for the evaluation and stores its metrics
  (``eval_loss``, ``eval_accuracy``, ...) beside the planes.
- **Reporting.** The plane values go where the Trainer reports (``args.report_to``):
  TensorBoard (into the Trainer's TensorBoard run folder under ``output_dir/runs``) and Weights &
  Biases (the Trainer's run, against ``train/global_step``), and into ``state.log_history``
  (``trainer_state.json``), under the names of :mod:`gib.loggers`. Hugging Face gives callbacks
  no handle on ``Trainer.log``, so the callback writes to those destinations itself; other
  integrations get nothing (a warning says so): pass ``log=`` (a callable or logger) for them.
- **Checkpoints.** Each checkpoint folder gets ``gib_monitor.json`` (the recorded rows); a
  training resumed from a checkpoint starts from its rows.
- **Distributed.** Only the main process (``state.is_world_process_zero``) builds the monitor,
  probes and writes; the probe runs on the unwrapped model, not the DDP wrapper.
"""

from __future__ import annotations

import json
import os
import time
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
from .loggers import TensorBoard, Wandb
from .monitor import Monitor

POOLINGS = ("mean", "cls", "none")
STRATEGIES = ("epoch", "steps")
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
    options = dict(features=ids, ib_input=ids, features_name=FEATURES_NAME, batch_size=positive_int(batch_size,
                   "batch_size"), **monitor_options)
    return Monitor(probe, torch.stack([inputs[k] for k in keys], dim=1), y,
                   layers={f"layer.{i}": tap for i, tap in enumerate(probe.taps)}, **options)


class GIBCallback(TrainerCallback):
    """Records IB and GIB planes while a Hugging Face ``Trainer`` trains (see the module docstring).

    Parameters
    ----------
    X : texts, token ids (N, L), or a tokenizer's output
        The fixed probe set.
    y : array-like (N,)
        Its class labels.
    every : int
        Record every ``every`` epochs (or steps, see ``strategy``).
    strategy : {"epoch", "steps"}
    attention_mask, tokenizer, pad_token_id, max_length
        How the probe gets its attention mask (see :func:`probe_inputs`). Without ``tokenizer``
        the Trainer's ``processing_class`` is used.
    layers : "blocks" or None
        ``"blocks"``: an IB point per encoder block and the logits; None: the logits alone.
    pooling : {"mean", "cls", "none"}
        How a block's token states become one row per text.
    save_dir : path, optional
        Write ``metrics.parquet`` and ``monitor.json`` there when training ends.
    report_to : "auto", list of str or "none"
        Where the plane values go: "auto" follows the Trainer's ``args.report_to``.
    batch_size : int
        Texts per probe forward pass.
    **monitor_options
        Passed to :class:`gib.Monitor` (estimators, synergy_kinds, log, features, ...).

    Attributes
    ----------
    monitor : gib.Monitor or None
        The monitor (None before training and on processes other than the main one);
        ``monitor.frame`` is the tidy table.
    """

    def __init__(self, X: Any, y: Any, *, every: int = 1, strategy: str = "epoch", attention_mask: Any = None,
                 tokenizer: Any = None, pad_token_id: int | None = None, max_length: int | None = None,
                 layers: str | None = "blocks", pooling: str = "mean", save_dir: str | os.PathLike | None = None,
                 report_to: str | Sequence[str] = "auto", batch_size: int = 64, **monitor_options: Any):
        self.every = positive_int(every, "every")
        self.strategy = one_of(strategy, "strategy", STRATEGIES)
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
        self.report_to = report_to
        self.batch_size = positive_int(batch_size, "batch_size")
        self.monitor_options = monitor_options
        self.monitor: Monitor | None = None
        self.probe_model: ProbeModel | None = None
        self._pending: tuple[int, float] | None = None
        self._started = 0.0

    # -- set-up --------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if not state.is_world_process_zero:
            return
        self._started = time.time()
        if self.monitor is not None:
            self.monitor.close()
        options = dict(self.mask_options)
        options["tokenizer"] = options["tokenizer"] or processing_class
        # the model the Trainer hands to callbacks is its unwrapped one; text_monitor unwraps anyway
        self.monitor = text_monitor(model, self.X, self.y, layers=self.layers, pooling=self.pooling,
                                    batch_size=self.batch_size, **options, **self.monitor_options)
        self.probe_model = self.monitor.model
        for logger in self._reporting(args):
            self.monitor.loggers.add(logger)
        self._resume(args, state)
        if not any(row["step"] == state.global_step for row in self.monitor.rows):
            self._record(state, state.global_step, float(state.epoch or 0.0))

    def _reporting(self, args) -> list:
        targets = args.report_to if self.report_to == "auto" else self.report_to
        targets = [] if targets in (None, "none", ["none"]) else [targets] if isinstance(targets, str) else list(targets)
        found, skipped = [], [t for t in targets if t not in ("tensorboard", "wandb")]
        if "tensorboard" in targets:
            found.append(TensorBoard(self._tensorboard_dir(args)))
        if "wandb" in targets:
            import wandb

            if wandb.run is None:
                skipped.append("wandb (no active run)")
            else:
                found.append(Wandb(wandb.run, step_metric="train/global_step"))
        if skipped:
            warnings.warn(f"gib.huggingface.GIBCallback reports to tensorboard and wandb only; not to {skipped}. "
                          "Pass log=<callable or logger> for those.", stacklevel=2)
        return found

    def _tensorboard_dir(self, args) -> str:
        """The folder of the Trainer's TensorBoard run (made by its callback just before), so that
        one TensorBoard run holds the Trainer's scalars and gib's."""
        if os.environ.get("TENSORBOARD_LOGGING_DIR"):
            return os.path.expanduser(os.environ["TENSORBOARD_LOGGING_DIR"])
        runs = Path(args.output_dir) / "runs"
        fresh = [p.parent for p in runs.glob("*/events.out.tfevents.*") if p.stat().st_mtime >= self._started - 5]
        if fresh:
            return str(max(fresh, key=lambda p: p.stat().st_mtime))
        from transformers.integrations.integration_utils import default_logdir

        return os.path.join(args.output_dir, default_logdir())

    def _resume(self, args, state) -> None:
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        if state.global_step > 0:
            saved = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}" / STATE_FILE
            if saved.exists():
                self.monitor.load_state_dict(json.loads(saved.read_text()))

    # -- recording -----------------------------------------------------------------------------
    def _record(self, state, step: int, epoch: float, metrics: Mapping[str, Any] | None = None) -> None:
        numbers = {k: float(v) for k, v in (metrics or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "epoch"}
        # the monitor puts the model back in the mode it finds the wrapper in
        self.probe_model.training = self.probe_model.model.training
        new = self.monitor.record(step, epoch, numbers)
        sent = self.monitor.loggers.names(new.to_dict("records"))
        if sent.get(step):
            state.log_history.append({**sent[step], "epoch": epoch, "step": step})

    def _due(self, args, state, control) -> None:
        step, epoch = state.global_step, float(state.epoch or 0.0)
        if control.should_evaluate:
            self._pending = (step, epoch)  # recorded in on_evaluate, with its metrics
        else:
            self._record(state, step, epoch)

    def _flush(self, state) -> None:
        if self._pending is not None:
            step, epoch = self._pending
            self._pending = None
            self._record(state, step, epoch)

    def on_step_end(self, args, state, control, **kwargs):
        if self.monitor is not None and self.strategy == "steps" and state.global_step % self.every == 0:
            self._due(args, state, control)

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.monitor is not None and self.strategy == "epoch" and round(state.epoch or 0) % self.every == 0:
            self._due(args, state, control)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.monitor is not None and self._pending is not None:
            step, epoch = self._pending
            self._pending = None
            if step == state.global_step:
                self._record(state, step, epoch, metrics)
            else:
                self._record(state, step, epoch)

    def on_step_begin(self, args, state, control, **kwargs):
        if self.monitor is not None:
            self._flush(state)

    def on_save(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        self._flush(state)
        folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
        if folder.is_dir():
            (folder / STATE_FILE).write_text(json.dumps(self.monitor.state_dict()))

    def on_train_end(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        self._flush(state)
        if self.save_dir is not None:
            self.monitor.save(self.save_dir)
        self.monitor.close()
