"""Record IB and GIB planes while a PyTorch model trains (SPEC 2).

The monitor never owns the training loop (as Lightning's callbacks): attach it to a model,
call ``record(step)`` whenever a plane point is wanted (or ``on_epoch_end(epoch)`` with an
``every``), and read ``frame`` (a tidy DataFrame) at the end.

A :class:`Monitor` is a :class:`Probe` (the forward hooks, one forward pass over the fixed probe
set per record step, activations captured into preallocated buffers on the model's device) and
a list of recorders (:mod:`gib.recorders`: metrics, the IB plane, one GIB plane per feature set,
optionally a timer), each turning the probed step into tidy rows. Everything that depends only
on the probe set (its codes, H(X), H(Y), the ceilings, the null predictors' grid) is computed
once, when the monitor is built.

>>> monitor = Monitor(model, X_probe, y_probe)            # doctest: +SKIP
>>> for epoch in range(epochs):                             # doctest: +SKIP
...     train_one_epoch(model)
...     monitor.on_epoch_end(epoch)
>>> monitor.close(); monitor.frame.to_parquet("metrics.parquet")   # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import json
import numbers
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._validation import as_samples, check_same_length, one_of, positive_int, to_numpy
from .exceptions import NegativeInformationWarning
from .loggers import Loggers
from .recorders import (COLUMNS, OUTPUT, GIBRecorder, HostArrays, IBRecorder, Probed, ProbeSet, default_recorders,
                        null_references)

__all__ = ["COLUMNS", "OUTPUT", "Monitor", "NegativeInformationWarning", "Probe", "default_batch_size",
           "default_layers", "default_recorders", "null_references"]

_ACTIVATIONS = tuple(
    getattr(nn, name)
    for name in (
        "Tanh", "ReLU", "Sigmoid", "Softsign", "Softplus", "GELU", "ELU", "LeakyReLU", "SiLU",
        "Mish", "Hardtanh", "ReLU6", "SELU", "CELU", "Tanhshrink", "LogSigmoid", "PReLU",
    )
)
_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
#: probe rows of the dry forward pass that checks the model, the inputs and the output selector
DRY_ROWS = 8
#: the default ``batch_size`` on the CPU keeps one batch of the widest hooked layer (float32) to
#: about this many bytes, so a layer's input and output stay in cache: on ResNet-20 and the small
#: conv net of ``benchmarks/bench_monitor.py`` the forward pass took 1.4-1.6x longer when a batch
#: of the widest layer held 38-151 MB than at 8-19 MB
CPU_BATCH_BYTES = 16 * 2**20
#: the default ``batch_size`` on an accelerator, where larger batches keep it busy
ACCELERATOR_BATCH = 1024


def default_batch_size(widest: int, n: int, device: torch.device) -> int:
    """The probe's default batch size: on the CPU, as many rows as fit ``CPU_BATCH_BYTES`` of the
    widest tensor of a row (``widest`` values: the input, a hooked layer or the output; at least
    16 rows), on an accelerator ``ACCELERATOR_BATCH``; never more than the ``n`` probe rows. A model
    with wider tensors than those it is hooked at (``layers=`` a few modules) may want a smaller
    ``batch_size``."""
    if device.type != "cpu":
        return max(1, min(n, ACCELERATOR_BATCH))
    return max(1, min(n, max(16, CPU_BATCH_BYTES // (4 * max(1, widest)))))


def default_layers(model: nn.Module, example: torch.Tensor | None = None) -> dict[str, nn.Module]:
    """Every Linear/Conv layer, represented by the activation module that follows it when there
    is one (so the hook sees the post-activation output T), else by the layer itself.

    With ``example`` inputs, "follows" is read off one forward pass: an activation module follows
    a layer when it is applied to that layer's output tensor, wherever the two were defined (a
    model may register its activations after all its layers). Without, it is the next module in
    registration order. Activations applied functionally (``F.relu`` in ``forward``) cannot be
    seen: such a layer is represented by itself, its output taken before activation.

    A model may instead define ``hidden_layers() -> {name: module}``, which is used as is.
    """
    if hasattr(model, "hidden_layers"):
        return dict(model.hidden_layers())
    if example is not None:
        return _layers_by_execution(model, example)
    layers: dict[str, nn.Module] = {}
    pending: tuple[str, nn.Module] | None = None
    for name, module in model.named_modules():
        if isinstance(module, _WEIGHTED):
            if pending is not None:
                layers[pending[0]] = pending[1]
            pending = (name, module)
        elif isinstance(module, _ACTIVATIONS) and pending is not None:
            layers[pending[0]] = module
            pending = None
    if pending is not None:
        layers[pending[0]] = pending[1]
    return layers


def _layers_by_execution(model: nn.Module, example: torch.Tensor) -> dict[str, nn.Module]:
    """``default_layers`` from one forward pass: which activation module consumes which layer's
    output tensor."""
    produced: dict[int, str] = {}  # id of a weighted layer's output tensor -> the layer's name
    order: list[str] = []
    follower: dict[str, nn.Module] = {}
    handles = []

    def on_weighted(name):
        def hook(module, inputs, output):
            if isinstance(output, torch.Tensor):
                produced[id(output)] = name
            if name not in order:
                order.append(name)
        return hook

    def on_activation(module):
        def hook(module_, inputs):
            source = produced.get(id(inputs[0])) if inputs and isinstance(inputs[0], torch.Tensor) else None
            if source is not None and source not in follower:
                follower[source] = module
        return hook

    named = dict(model.named_modules())
    for name, module in named.items():
        if isinstance(module, _WEIGHTED):
            handles.append(module.register_forward_hook(on_weighted(name)))
        elif isinstance(module, _ACTIVATIONS):
            handles.append(module.register_forward_pre_hook(on_activation(module)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: follower.get(name, named[name]) for name in order}


def _probe_inputs(X: Any) -> torch.Tensor:
    """The probe inputs as a tensor, checked: numbers, at least 2 samples, finite."""
    if not isinstance(X, torch.Tensor):
        try:
            array = np.asarray(X)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"`X` cannot be read as an array ({err}); pass one row per sample, all of one shape.") \
                from None
        if array.dtype == object:
            raise ValueError("`X` is ragged or mixed (an object array); pass one row per sample, all of one shape.")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"`X` has dtype {array.dtype}; pass numbers (token ids or features), not {array.dtype.kind!r} data.")
        X = torch.as_tensor(array)
    if X.ndim == 0 or len(X) < 2:
        raise ValueError(f"`X` has shape {tuple(X.shape)}; pass at least 2 probe samples along the first axis.")
    if X.is_floating_point() and not bool(torch.isfinite(X).all()):
        bad = int((~torch.isfinite(X)).sum())
        raise ValueError(f"`X` contains {bad} NaN or infinite value(s); drop or impute those probe samples.")
    if X.is_complex():
        raise TypeError("`X` is complex; pass real-valued probe inputs.")
    return X.float() if X.dtype == torch.bool else X


_TORCH_DIR = os.path.dirname(torch.__file__)


def _raised_by_torch(err: BaseException) -> bool:
    """Whether the innermost frame of ``err`` is torch's own code (a shape or type that torch
    refuses: the inputs' fault) rather than the model's (a fault of the model)."""
    tb = err.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    return os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_TORCH_DIR)


def _train(module: nn.Module, mode: bool) -> None:
    """``module.train(mode)``: what ``nn.Module.train`` does (the flag, then every child), with
    the flag written directly where a module keeps ``nn.Module``'s ``train`` and ``__setattr__``
    (~3x faster: the probe switches the model to eval mode and back at every record step, and on
    a small model that costs a tenth of the forward pass). A module that overrides either gets
    its own ``train``, for its whole subtree."""
    kind = type(module)
    if kind.train is not nn.Module.train or kind.__setattr__ is not nn.Module.__setattr__:
        module.train(mode)
        return
    module.__dict__["training"] = mode
    for child in module.children():
        _train(child, mode)


class Probe:
    """The forward hooks on a model and one forward pass over a fixed probe set.

    Built once: the inputs are checked and cast to the model's floating-point type, the hooks are
    placed, and one dry forward pass over ``DRY_ROWS`` probe rows checks that the model takes the
    inputs and that ``output`` selects a (samples x k) tensor; errors name the argument. Each call
    runs the probe set through the model in eval mode, without gradients, capturing every hooked
    layer into a buffer allocated once on the model's device, and returns
    ``({layer: T}, outputs)`` as float32 NumPy arrays (the buffers' CPU copies; on the CPU they are
    the buffers themselves, valid until the next call).

    Parameters
    ----------
    model : torch.nn.Module
    X : array-like or tensor
        Probe inputs, first axis = samples.
    layers : list of str or dict, optional
        Module names to hook, or {label: module}; default :func:`default_layers`.
    batch_size : int, optional
        Rows per forward pass; default :func:`default_batch_size` of the widest hooked layer (on
        the CPU, about 16 MB of it a batch: 256 rows for ResNet-20, the whole probe set for a
        small MLP; 1024 on an accelerator).
    output : None, int, str or callable
        How to get the output tensor from what the model returns: None takes a tensor as is and
        the ``logits`` of a Hugging Face ``ModelOutput``; an int indexes a tuple; a str names an
        attribute or a key; a callable is applied to it.
    """

    def __init__(self, model: nn.Module, X: Any, *, layers: Sequence[str] | Mapping[str, nn.Module] | None = None,
                 batch_size: int | None = None, output: Any = None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}.")
        if output is not None and not isinstance(output, (int, str)) and not callable(output):
            raise TypeError(f"`output` must be None, an index, a name or a callable, got {type(output).__name__}.")
        self.model, self.output = model, output
        self.batch_size = None if batch_size is None else positive_int(batch_size, "batch_size")
        X = _probe_inputs(X)
        dtype = self._float_dtype()
        if X.is_floating_point() and dtype is not None and X.dtype != dtype:
            X = X.to(dtype)  # float64 NumPy inputs for a float32 model
        self.X = X
        self.functional = False
        if layers is None:
            try:
                modules = default_layers(model, self.X[:DRY_ROWS].to(self.device()))
            except (RuntimeError, TypeError, ValueError, IndexError):
                modules = default_layers(model)  # the dry run below names what is wrong
            # a layer no activation module follows is taken before its (functional) activation
            self.functional = any(isinstance(m, _WEIGHTED) for m in list(modules.values())[:-1])
        elif isinstance(layers, Mapping):
            modules = dict(layers)
        else:
            if isinstance(layers, str):
                layers = [layers]
            named = dict(model.named_modules())
            missing = [name for name in layers if name not in named]
            if missing:
                raise ValueError(
                    f"`layers` names {missing} that are not modules of the model; "
                    f"choose from {[n for n in named if n][:20]}..."
                )
            modules = {name: named[name] for name in layers}
        self.layers = modules
        self._buffers: dict[str, torch.Tensor] = {}
        self._capture: tuple[int, int] | None = None  # rows being filled, while probing
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]
        try:
            self.shapes, self.output_shape = self._dry_run()
        except BaseException:
            self.close()
            raise
        if self.batch_size is None:
            shapes = [self.X.shape[1:], *self.shapes.values(), self.output_shape]
            widest = max(int(np.prod(shape)) for shape in shapes)
            self.batch_size = default_batch_size(widest, len(self.X), self.device())

    def _float_dtype(self) -> torch.dtype | None:
        for p in self.model.parameters():
            if p.is_floating_point():
                return p.dtype
        return None

    def device(self) -> torch.device:
        try:
            return next(self.model.parameters()).device
        except StopIteration:
            return torch.device("cpu")

    def _hook(self, name: str) -> Callable:
        def hook(module, inputs, output):
            if self._capture is None:
                return
            out = output[0] if isinstance(output, (tuple, list)) else output
            out = out.detach().flatten(1)
            start, stop = self._capture
            buffer = self._buffers.get(name)
            if buffer is None or buffer.shape[1] != out.shape[1] or buffer.device != out.device:
                buffer = self._buffers[name] = torch.empty((len(self.X), out.shape[1]), dtype=torch.float32,
                                                           device=out.device)
            buffer[start:stop] = out  # cast to float32 in the copy
        return hook

    def select(self, out: Any) -> torch.Tensor:
        """The output tensor of what the model returned (``output``), as (samples, k)."""
        try:
            if callable(self.output):
                out = self.output(out)
            elif isinstance(self.output, int):
                out = out[self.output]
            elif isinstance(self.output, str):
                out = getattr(out, self.output) if hasattr(out, self.output) else out[self.output]
            elif hasattr(out, "logits"):
                out = out.logits
        except (KeyError, IndexError, TypeError, AttributeError) as err:
            raise ValueError(f"`output={self.output!r}` does not select from the model's {type(out).__name__} "
                             f"({type(err).__name__}: {err}).") from None
        if not isinstance(out, torch.Tensor):
            described = f"a {type(out).__name__}" + (f" of {len(out)}" if isinstance(out, (tuple, list)) else "")
            raise ValueError(
                f"the model returns {described}, not a tensor; pass `output=` to select the predictions: "
                "an index (output=0), an attribute or key name (output='logits'), or a callable."
            )
        if out.ndim == 1:
            out = out[:, None]  # one output per sample: a binary logit or a regression value
        return out.flatten(1)

    def _dry_run(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        rows = self.X[:DRY_ROWS]
        seen: dict[str, tuple[int, ...]] = {}

        def shape_of(name):
            def hook(module, inputs, output):  # returns None: the output is left as it is
                seen.setdefault(name, tuple((output[0] if isinstance(output, (tuple, list)) else output).shape[1:]))
            return hook

        handles = [m.register_forward_hook(shape_of(name)) for name, m in self.layers.items()]
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                out = self.model(rows.to(self.device()))
        except (RuntimeError, TypeError, ValueError, IndexError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            if not _raised_by_torch(err):
                # the model's own code raised: a fault of the model, not of the probe inputs
                raise RuntimeError(
                    f"the model raised {type(err).__name__}: {first}, in its forward pass on {len(rows)} probe "
                    f"rows of shape {tuple(rows.shape)} ({rows.dtype}); fix the model (the traceback above shows "
                    "where)."
                ) from err
            raise ValueError(
                f"`X` does not fit the model: its forward pass on {len(rows)} probe rows of shape "
                f"{tuple(rows.shape)} ({rows.dtype}) raised {type(err).__name__}: {first}. Pass probe inputs of "
                "the shape and type the model takes in training."
            ) from None
        finally:
            for handle in handles:
                handle.remove()
            self.model.train(was_training)
        selected = self.select(out)
        if len(selected) != len(rows):
            raise ValueError(f"the selected output has {len(selected)} rows for {len(rows)} probe rows; "
                             "pass `output=` that selects one row per sample.")
        return seen, tuple(selected.shape[1:])

    def summary(self) -> str:
        """What the hooks capture: name, module, shape per sample, before or after activation."""
        lines = [f"gib.Monitor probes {len(self.X)} samples in batches of {self.batch_size}; layers recorded:"]
        for name, module in self.layers.items():
            kind = type(module).__name__
            where = "after activation" if isinstance(module, _ACTIVATIONS) else (
                "before activation" if isinstance(module, _WEIGHTED) else "module output")
            lines.append(f"  {name:<24} {kind:<12} {str(self.shapes.get(name, '?')):<16} {where}")
        lines.append(f"  {OUTPUT:<24} {'(model)':<12} {str(self.output_shape):<16} the model's output")
        if self.functional:
            lines.append("  Linear/Conv layers that no activation module follows are taken before activation (the "
                         "model applies its activations functionally, e.g. F.relu in forward); pass layers= to "
                         "choose other modules.")
        return "\n".join(lines)

    @torch.no_grad()
    def __call__(self, numpy: bool = True) -> tuple[dict[str, Any], Any]:
        """Run the probe set through the model: ({layer: T}, outputs), float32 NumPy arrays
        (``numpy=False``: the buffers themselves, tensors on the model's device)."""
        was_training = self.model.training
        _train(self.model, False)
        device = self.device()
        outputs = None
        try:
            for start in range(0, len(self.X), self.batch_size):
                batch = self.X[start : start + self.batch_size].to(device)
                self._capture = (start, start + len(batch))
                out = self.select(self.model(batch))
                if outputs is None:
                    outputs = torch.empty((len(self.X), out.shape[1]), dtype=torch.float32, device=out.device)
                outputs[start : start + len(batch)] = out
        finally:
            self._capture = None
            _train(self.model, was_training)
        layers = {name: self._buffers[name] for name in self.layers if name in self._buffers}
        if not numpy:
            return layers, outputs
        return {name: T.cpu().numpy() for name, T in layers.items()}, outputs.cpu().numpy()

    def close(self) -> None:
        """Remove every hook from the model."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


#: the options of :func:`gib.recorders.default_recorders` that earlier versions took as Monitor
#: keywords; they still work for this release, with a DeprecationWarning
_RECORDER_OPTIONS = frozenset(inspect.signature(default_recorders).parameters)


class Monitor:
    """Records the IB plane of each watched layer and the GIB plane of the model's outputs.

    A Monitor is a :class:`Probe` (forward hooks and one forward pass over a fixed probe set per
    record step) and a list of recorders, each turning the probed step into tidy rows (see
    :mod:`gib.recorders`). It never owns the training loop: call :meth:`record` (or
    :meth:`on_epoch_end`) when a point is wanted, and read :attr:`frame`.

    Parameters
    ----------
    model : torch.nn.Module
        The network to watch.
    X, y : array-like
        The fixed probe set: inputs (any shape, first axis = samples) and targets (class labels
        for classification; values (N,) or (N, k) for regression).
    recorders : list, optional
        What to measure at each record step. Default: :func:`gib.recorders.default_recorders`
        (metrics, the IB plane of every hooked layer and of the output, the GIB plane of the
        inputs). A recorder is any object with ``rows(step, probed)``, plus ``bind``,
        ``state_dict``, ``load_state_dict`` and ``config`` where it needs them: a new
        measurement is a recorder added to this list.
    layers : list of str or dict, optional
        Module names to watch (from ``model.named_modules()``), or {label: module}. Default:
        :func:`default_layers`. The output is always recorded as layer ``"output"``.
    task : {"classification", "regression"}
        Classification: Yhat = argmax of the output (one output: its sign). Regression: Yhat =
        the output.
    output : None, int, str or callable
        Which part of what the model returns are its predictions (see :class:`Probe`): needed
        for a model that returns a tuple or a dict.
    batch_size : int, optional
        Probe forward passes run in batches of this size; default :func:`default_batch_size`.
    log : str, callable, logger or list of them, optional
        Where each record's values also go, as scalars (``"tensorboard"``, ``"wandb"``,
        ``"csv"``, a callable ``log(metrics, step)``, an object with ``log_metrics``; see
        :mod:`gib.loggers`).
    verbose : bool, default True
        Print what the hooks capture once, and one short line per record step (step, accuracy,
        the GIB point, the last layer's IB point, seconds), written so that a trainer's progress
        bar stays intact.

    Notes
    -----
    Earlier versions took the recorders' options (``estimators``, ``null``, ``ib_noise``, ...)
    as keywords of the Monitor; they still work for this release, with a ``DeprecationWarning``:
    pass ``recorders=gib.default_recorders(...)`` instead. ``every`` moved to
    :meth:`on_epoch_end`.

    Examples
    --------
    .. code-block:: python

        monitor = gib.Monitor(model, X_probe, y_probe)
        for epoch in range(epochs):
            train_one_epoch(model)
            monitor.on_epoch_end(epoch)
        monitor.close()
        monitor.save("my_run")          # metrics.parquet + monitor.json; `gib plot my_run`
    """

    def __init__(
        self,
        model: nn.Module,
        X: Any,
        y: Any,
        recorders: Sequence[Any] | None = None,
        *,
        layers: Sequence[str] | Mapping[str, nn.Module] | None = None,
        task: str = "classification",
        output: Any = None,
        batch_size: int | None = None,
        log: Any = None,
        verbose: bool = True,
        **deprecated: Any,
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}.")
        self.model = model
        self.task = one_of(task, "task", ("classification", "regression"))
        self.every = positive_int(deprecated.pop("every", 1), "every")
        deprecated.pop("progress", None)  # a record step needs no bar
        recorders = self._recorders(recorders, deprecated)
        self.verbose = bool(verbose)
        self.loggers = Loggers(log)  # a bad `log` fails here, before any hook is placed
        self.y = self._targets(y)
        self.probe = Probe(model, X, layers=layers, batch_size=batch_size, output=output)
        try:
            self._check_against_model(len(self.y))
            flat = to_numpy(self.probe.X.float() if self.probe.X.dtype == torch.bfloat16 else self.probe.X)
            flat = flat.reshape(len(flat), -1)
            check_same_length(X=self.probe.X, y=self.y)
            width = int(np.prod(self.probe.output_shape)) if self.probe.output_shape else 1
            self.probe_set = ProbeSet(inputs=flat, raw=self.probe.X, y=self.y, task=self.task,
                                      layers=tuple(self.probe.layers), output_width=width)
            for recorder in recorders:
                bind = getattr(recorder, "bind", None)
                if bind is not None:
                    bind(self.probe_set)
        except BaseException:
            self.probe.close()
            raise
        self.recorders = recorders
        self.layers = self.probe.layers
        self.batch_size = self.probe.batch_size
        self.rows: list[dict] = []
        self._epochs_seen = 0
        if self.verbose:
            print(self.probe.summary())

    # -- checks at construction ----------------------------------------------------------------
    @staticmethod
    def _recorders(recorders: Any, deprecated: dict) -> list:
        unknown = sorted(set(deprecated) - _RECORDER_OPTIONS)
        if unknown:
            raise TypeError(f"Monitor() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; the "
                            "recorders' options go to gib.default_recorders(...), passed as `recorders=`.")
        if deprecated:
            if recorders is not None:
                raise TypeError(f"pass {', '.join(sorted(deprecated))} to gib.default_recorders(...), not beside "
                                "`recorders=`.")
            options = ", ".join(f"{k}=..." for k in sorted(deprecated))
            warnings.warn(f"Monitor({options}) is deprecated; pass recorders=gib.default_recorders({options}).",
                          DeprecationWarning, stacklevel=3)
            return default_recorders(**deprecated)
        if recorders is None:
            return default_recorders()
        if not isinstance(recorders, (list, tuple)):
            raise TypeError(f"`recorders` must be a list of recorders, got {type(recorders).__name__}.")
        for i, recorder in enumerate(recorders):
            if not callable(getattr(recorder, "rows", None)):
                raise TypeError(f"`recorders[{i}]` ({type(recorder).__name__}) has no `rows(step, probed)` method; "
                                "a recorder returns the tidy rows of a record step (see gib.recorders).")
        return list(recorders)

    def _targets(self, y: Any) -> np.ndarray:
        y = as_samples(y, "y")
        if self.task == "classification":
            if y.shape[1] != 1:
                raise ValueError(f"`y` has shape {y.shape}; classification takes one class label per sample, "
                                 "shape (N,) (or task='regression' for several targets).")
            y = y[:, 0]
            if y.dtype.kind == "f":
                if not np.all(y == np.round(y)):
                    raise ValueError("`y` holds non-integer values; pass class labels 0..K-1, or task='regression'.")
                y = y.astype(np.int64)
            if y.dtype.kind not in "biu":
                raise TypeError(f"`y` has dtype {y.dtype}; pass integer class labels 0..K-1.")
            if y.min() < 0:
                raise ValueError(f"`y` holds negative labels (down to {y.min()}); pass class labels 0..K-1.")
            return y.astype(np.int64, copy=False)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"`y` has dtype {y.dtype}; regression targets are numbers.")
        return y[:, 0] if y.shape[1] == 1 else y

    def _check_against_model(self, n: int) -> None:
        k = self.probe.output_shape[0] if self.probe.output_shape else 1
        if self.task == "classification":
            top = int(self.y.max())
            classes = 2 if k == 1 else k
            if top >= classes:
                raise ValueError(
                    f"`y` holds label {top} but the model has {k} output(s) ({classes} classes); pass labels "
                    f"0..{classes - 1}, or the model's output for all classes (`output=`)."
                )
        elif self.y.ndim == 2 and self.y.shape[1] != k:
            raise ValueError(f"`y` has {self.y.shape[1]} targets per sample but the model {k} outputs.")

    # -- the default recorders, as earlier versions exposed them --------------------------------
    def _first(self, kind: type) -> Any:
        return next((r for r in self.recorders if isinstance(r, kind)), None)

    @property
    def ib_recorder(self) -> IBRecorder | None:
        """The first :class:`gib.recorders.IBRecorder`, if any."""
        return self._first(IBRecorder)

    @property
    def gib_recorders(self) -> list[GIBRecorder]:
        """The GIB recorders, one per feature set."""
        return [r for r in self.recorders if isinstance(r, GIBRecorder)]

    @property
    def ib_ceilings(self) -> dict[str, tuple[float, float]]:
        """{IB estimator label: (min(log2 N, H(X)), H(Y))}, computed once for the probe set."""
        recorder = self.ib_recorder
        return {} if recorder is None else recorder.ceilings

    @property
    def feature_sets(self) -> dict[str, np.ndarray]:
        """{name: features} of the GIB recorders."""
        return {r.name: r.features for r in self.gib_recorders}

    @property
    def features(self) -> np.ndarray | None:
        """The (first) GIB feature set."""
        return next(iter(self.feature_sets.values()), None)

    @property
    def features_name(self) -> str | None:
        return next(iter(self.feature_sets), None)

    @property
    def estimators(self) -> dict[str, tuple[str, dict]]:
        """The (first) GIB recorder's estimators, {label: (name, options)}."""
        first = self._first(GIBRecorder)
        return {} if first is None else first.estimators

    @property
    def ib_estimators(self) -> dict[str, tuple[str, dict]]:
        recorder = self.ib_recorder
        return {} if recorder is None else recorder.estimators

    @property
    def ib_input(self) -> np.ndarray | None:
        recorder = self.ib_recorder
        return None if recorder is None else recorder.X

    @property
    def synergy_kinds(self) -> tuple[str, ...]:
        first = self._first(GIBRecorder)
        return ("featurewise",) if first is None else first.kinds

    def close(self) -> None:
        """Remove every hook from the model, and close the loggers made from names in ``log``."""
        self.probe.close()
        self.loggers.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """Yhat from the outputs: class labels (argmax; one output: its sign), or the outputs."""
        if self.task == "classification":
            return outputs.argmax(axis=1) if outputs.shape[1] > 1 else (outputs[:, 0] > 0).astype(np.int64)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    # -- recording -------------------------------------------------------------------------------
    def record(self, step: int, epoch: float | None = None, metrics: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Probe the model once and store every recorder's rows at this step; return the new rows."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"`step` must be a non-negative integer, got {step!r}.")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, numbers.Real)
                                  or not np.isfinite(epoch)):
            raise ValueError(f"`epoch` must be a finite number or None, got {epoch!r}.")
        metrics = self._metrics(metrics)
        started = time.perf_counter()
        tensors, output_tensor = self.probe(numpy=False)
        outputs = output_tensor.cpu().numpy()
        probe_seconds = time.perf_counter() - started
        # host copies of the layers are made when a recorder reads them: the estimators with a
        # `device` read the buffers where they are
        step = int(step)
        probed = Probed(step, float(step if epoch is None else epoch), HostArrays(tensors), outputs,
                        self.predictions(outputs), metrics, started, probe_seconds, tensors, output_tensor)
        rows = [row for recorder in self.recorders for row in recorder.rows(step, probed)]
        self.rows.extend(rows)
        self.loggers(rows)
        if self.verbose:
            _write(self.summary_line(rows, time.perf_counter() - started))
        return self._frame_of(rows)

    def summary_line(self, rows: list[dict], seconds: float) -> str:
        """One short line for a record step: step, accuracy, the first GIB point, the last hooked
        layer's IB point, the seconds the step took."""
        def first(plane: str, measure: str, layer: str | None = None) -> float | None:
            return next((r["value"] for r in rows if r["plane"] == plane and r["measure"] == measure
                         and (layer is None or r["layer"] == layer)), None)

        parts = [f"gib step {rows[0]['step'] if rows else '?'}"]
        accuracy = first("metric", "accuracy")
        if accuracy is not None:
            parts.append(f"acc {accuracy:.3f}")
        complexity, prediction = first("GIB", "complexity"), first("GIB", "prediction")
        if complexity is not None:
            parts.append(f"GIB C {complexity:+.4f} P {prediction:.4f}")
        ib_layers = [r["layer"] for r in rows if r["plane"] == "IB" and r["layer"] != OUTPUT]
        layer = ib_layers[-1] if ib_layers else OUTPUT
        ib_c, ib_p = first("IB", "complexity", layer), first("IB", "prediction", layer)
        if ib_c is not None:
            parts.append(f"IB {layer} ({ib_c:.3f}, {ib_p:.3f})")
        parts.append(f"{seconds:.2f} s")
        return " | ".join(parts)

    _LABELS = ("plane", "layer", "estimator", "kind", "measure")  #: the columns that name a row

    def _frame_of(self, rows: list[dict]) -> pd.DataFrame:
        """The rows as a frame. Every record step has the same rows but for step, epoch and value,
        so the naming columns, converted to pandas' string arrays once, are kept and reused while
        they stay the same: half the cost of building the frame from lists (the same frame)."""
        labels = tuple(tuple(row[column] for column in self._LABELS) for row in rows)
        kept = getattr(self, "_labels", None)
        if kept is None or kept[0] != labels or not rows:
            frame = pd.DataFrame({column: [row[column] for row in rows] for column in COLUMNS}, columns=COLUMNS)
            self._labels = (labels, {column: frame[column].array.copy() for column in self._LABELS})
            return frame
        data = {"step": np.array([row["step"] for row in rows]), "epoch": np.array([row["epoch"] for row in rows])}
        data.update({column: array.copy() for column, array in kept[1].items()})  # each frame its own arrays
        data["value"] = np.array([row["value"] for row in rows])
        return pd.DataFrame(data, columns=COLUMNS, copy=False)

    @staticmethod
    def _metrics(metrics: Any) -> dict[str, float]:
        if metrics is None:
            return {}
        if not isinstance(metrics, Mapping):
            raise TypeError(f"`metrics` must be a mapping {{name: number}}, got {type(metrics).__name__}.")
        out = {}
        for name, value in metrics.items():
            try:
                out[str(name)] = float(value)
            except (TypeError, ValueError):
                raise TypeError(f"`metrics[{name!r}]` is {value!r}; metrics are numbers.") from None
        return out

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float] | None = None,
                     every: int | None = None) -> pd.DataFrame | None:
        """Record when ``epoch`` is a multiple of ``every`` (default 1), and at the first call."""
        every = self.every if every is None else positive_int(every, "every")
        first = self._epochs_seen == 0
        self._epochs_seen += 1
        if first or epoch % every == 0:
            return self.record(epoch, epoch, metrics)
        return None

    @property
    def frame(self) -> pd.DataFrame:
        """Every recorded row: step x plane x layer x estimator x kind x measure."""
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def plot(self, layer: str | None = None, **selection: Any):
        """The IB plane of ``layer`` (default: the last hooked layer) beside the GIB plane, as a
        matplotlib Figure (:func:`gib.plotting.information_plane`; ``selection`` picks the
        estimator, kind and GIB feature set when there are several)."""
        from .plotting import information_plane

        if not self.rows:
            raise ValueError("nothing recorded yet: call `record(step)` first.")
        recorder = self.ib_recorder
        hooked = list(self.layers) if recorder is not None and recorder.record_layers else []
        ib_labels = set(self.ib_estimators)
        if len(self.estimators) > 1 or len(ib_labels) > 1:  # one label per plane needs no choice
            selection.setdefault("estimator", next(iter(self.estimators)))
        selection.setdefault("kind", self.synergy_kinds[0])
        if self.features_name is not None:
            selection.setdefault("gib_layer", self.features_name)
        return information_plane(self.frame, ib_layer=layer or (hooked[-1] if hooked else OUTPUT), **selection)

    def config(self) -> dict:
        """What produced the rows, JSON-serialisable: the probe and each recorder's ``config()``
        (the first recorder of each kind's keys also at the top level)."""
        described = []
        out: dict[str, Any] = {"task": self.task, "layers": list(self.layers), "n_probe": int(len(self.y)),
                               "batch_size": self.batch_size, "every": self.every}
        for recorder in self.recorders:
            config = recorder.config() if callable(getattr(recorder, "config", None)) else {}
            described.append({"recorder": type(recorder).__name__, **config})
            for key, value in config.items():
                out.setdefault(key, value)
        if len(self.feature_sets) > 1:
            out["features"] = list(self.feature_sets)
        out["recorders"] = described
        return out

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``metrics.parquet`` and ``monitor.json`` (the config) into ``directory``; ``gib
        plot`` and ``gib report`` read that folder."""
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"`directory` must be a folder path (str or pathlib.Path), got {type(directory).__name__}.")
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"`directory` {directory} is a file; pass a folder path to save into.")
        directory.mkdir(parents=True, exist_ok=True)
        self.frame.to_parquet(directory / "metrics.parquet", index=False)
        (directory / "monitor.json").write_text(json.dumps(self.config(), indent=2, default=str))
        return directory / "metrics.parquet"

    def _state_keys(self) -> list[str]:
        return [f"{i}:{type(r).__name__}" for i, r in enumerate(self.recorders)]

    def state_dict(self) -> dict:
        """The rows recorded so far and each recorder's state (plain data, for any checkpoint)."""
        states = {key: r.state_dict() for key, r in zip(self._state_keys(), self.recorders)
                  if callable(getattr(r, "state_dict", None))}
        return {"rows": list(self.rows), "epochs_seen": self._epochs_seen, "recorders": states}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore what :meth:`state_dict` returned (also the format of earlier versions)."""
        if not isinstance(state, Mapping) or "rows" not in state or "epochs_seen" not in state:
            raise ValueError(
                "`state` is not a Monitor state: it needs 'rows' and 'epochs_seen' (pass what "
                f"`Monitor.state_dict()` returned); got {type(state).__name__}"
                + (f" with keys {sorted(state)}" if isinstance(state, Mapping) else "") + "."
            )
        rows = list(state["rows"])
        if any(not isinstance(r, Mapping) or set(COLUMNS) - set(r) for r in rows):
            raise ValueError(f"`state['rows']` must be rows with the columns {COLUMNS}.")
        states = state.get("recorders")
        if states is None:  # earlier versions: the IB and GIB recorders' warnings only
            states = {}
            for key, recorder in zip(self._state_keys(), self.recorders):
                if isinstance(recorder, IBRecorder):
                    states[key] = {"warned": _legacy_warned(state.get("warned", []))}
                elif isinstance(recorder, GIBRecorder):
                    states[key] = {"warned": _legacy_warned(state.get("gib_warned", {}).get(recorder.name, []))}
        elif not isinstance(states, Mapping):
            raise ValueError("`state['recorders']` must map recorder keys to their states.")
        self.rows = rows
        self._epochs_seen = int(state["epochs_seen"])
        for key, recorder in zip(self._state_keys(), self.recorders):
            if key in states and callable(getattr(recorder, "load_state_dict", None)):
                recorder.load_state_dict(states[key])


_LEGACY_CAUSES = {"SaturationWarning": "saturated", "BoundWarning": "over_bound",
                  "NegativeInformationWarning": "negative"}


def _legacy_warned(keys: Any) -> list[list[str]]:
    """Earlier states kept (layer, estimator, warning class) per warning; now one per cause."""
    return sorted({(_LEGACY_CAUSES[key[-1]],) for key in keys if key and key[-1] in _LEGACY_CAUSES})


def _write(line: str) -> None:
    """Print a line above any tqdm progress bar (a trainer's), leaving the bar intact."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        print(line, file=sys.stdout, flush=True)
        return
    tqdm.write(line, file=sys.stdout)
