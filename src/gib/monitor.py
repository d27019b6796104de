"""Record IB and GIB planes while a PyTorch model trains (SPEC 2).

The monitor never owns the training loop (STYLE.md, Lightning callbacks): attach it to a model,
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

import json
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import _xp
from ._validation import as_samples, check_same_length, one_of, positive_float, positive_int, to_numpy
from .estimators import PlugInEstimator, get_estimator
from .estimators.plugin import FixedInputEstimator
from .loggers import Loggers
from .measures import SYNERGY_KINDS
from .planes import GIB_TARGETS
from .references import NULL_FAMILIES, NullReference
from .recorders import (COLUMNS, OUTPUT, GIBRecorder, HostArrays, IBRecorder, MetricsRecorder,
                        NegativeInformationWarning, Probed, TimerRecorder)
from .recorders import HigherOrderRecorder

__all__ = ["COLUMNS", "OUTPUT", "Monitor", "NegativeInformationWarning", "Probe", "default_batch_size",
           "default_layers", "null_references"]

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


def _estimator_specs(estimators: Any, device: Any = None, name: str = "estimators") -> dict[str, tuple[str, dict]]:
    """Normalise ``"binning"``, ``["binning", "gcmi"]`` or ``{"label": ("binning", {...})}``
    / ``{"binning": {...}}`` into {label: (name, options)}, validating each once. A ``device``
    is added to every estimator's options that does not name its own."""
    shape = (f"`{name}` takes an estimator name ('binning'), a list of names, or {{label: (name, options)}} / "
             "{name: options}")
    if isinstance(estimators, str):
        estimators = [estimators]
    if isinstance(estimators, Mapping):
        specs = {}
        for label, spec in estimators.items():
            if isinstance(spec, Mapping):
                specs[label] = (label, dict(spec))
            elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], Mapping):
                specs[label] = (spec[0], dict(spec[1]))
            else:
                raise ValueError(f"{shape}; `{name}[{label!r}]` is {spec!r}.")
    elif isinstance(estimators, (list, tuple)) and all(isinstance(e, str) for e in estimators):
        specs = {e: (e, {}) for e in estimators}
    else:
        raise TypeError(f"{shape}; got {type(estimators).__name__}.")
    if not specs:
        raise ValueError(f"`{name}` is empty; name at least one, e.g. 'binning'.")
    if device is not None:
        specs = {label: (est, {"device": device, **options}) for label, (est, options) in specs.items()}
    for est, options in specs.values():
        get_estimator(est, **options)  # fail now, not after an epoch of training
    return specs


def null_references(
    features: Any,
    y: Any,
    estimators: Any = "binning",
    *,
    family: str = "linear",
    n_seeds: int = 3,
    task: str = "classification",
    gib_target: str = "joint",
    output_bins: int = 30,
    mi_device: Any = None,
) -> dict[str, NullReference]:
    """One :class:`gib.planes.NullReference` per GIB estimator of a Monitor, built from the same
    estimator spec (``estimators``, ``mi_device``) the Monitor is given.

    Build them once per probe set and pass them as ``Monitor(..., null=...)`` to every Monitor on
    that probe set: their null points are then computed once for all of them. A plug-in
    estimator (binning, discrete) is bound to the features here
    (:class:`gib.estimators.plugin.FixedInputEstimator`): the features' partitions are computed
    once, and each null point, and each of the Monitor's GIB points, reuses them.
    """
    y = as_samples(y, "y")
    y = y[:, 0] if y.shape[1] == 1 else y
    features = as_samples(features, "features")
    references = {}
    for label, (name, options) in _estimator_specs(estimators, mi_device).items():
        estimator = get_estimator(name, **options)
        if isinstance(estimator, PlugInEstimator) and features.shape[1] >= 2:
            # the features' partitions once for every null point (and for the Monitor's GIB plane)
            name, options = FixedInputEstimator(estimator, features), {}
        references[label] = NullReference(features, y, family=family, n_seeds=n_seeds, estimator=name,
                                          target=gib_target, output_bins=output_bins, task=task, **options)
    return references


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


class Monitor:
    """Records the IB plane of each watched layer and the GIB plane of the model's outputs.

    Parameters
    ----------
    model : torch.nn.Module
    X, y : array-like
        The fixed probe set: inputs (any shape, first axis = samples) and targets (class labels
        for classification; values (N,) or (N, k) for regression).
    layers : list of str or dict, optional
        Module names to watch (from ``model.named_modules()``), or {label: module}. Default:
        ``default_layers(model)``. The model output is always recorded as layer ``"output"``.
    features : array (N, n), callable or {name: array}, optional
        GIB input features: the raw inputs flattened (default), a precomputed array, a transform
        applied once to X (e.g. a fitted Kernel PCA's ``transform``), or several named feature
        sets, each recorded as its own GIB plane from the same probe pass.
    features_name : str
        Label of the GIB feature set in the results ("input" by default; with a dict of feature
        sets, their names).
    task : {"classification", "regression"}
        Classification: Yhat = argmax of the output (one output: its sign). Regression: Yhat =
        the output, binned like Y in ``output_bins`` bins (SPEC 2).
    estimators : str, list or dict
        Estimators of both planes: names, or {label: (name, options)} / {name: options}.
    ib_estimators : optional
        Estimators of the IB plane when they differ (e.g. ``kde_upper``).
    synergy_kinds : sequence of {"featurewise", "sum_vs_whole"}
    gib_target : {"joint", "yhat", "y"}
    every : int
        ``on_epoch_end`` records every ``every`` epochs (and always the first call).
    batch_size : int, optional
        Probe forward passes run in batches of this size; default :func:`default_batch_size`
        of the widest hooked layer (on the CPU about 16 MB of it a batch, 1024 on an
        accelerator).
    ib_input : array, optional
        The X of I(X;T) (default: the raw inputs flattened).
    record_layers_ib : bool
        Record the IB plane of the hooked layers (the output's is always recorded).
    progress : bool
        Kept for compatibility; a record step is now short enough to need no bar.
    mi_device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Passed as ``device`` to every estimator: the leave-one-out computations of the GIB
        plane then run in torch there (e.g. on the model's GPU); None: NumPy. The IB plane's
        mutual informations stay NumPy.
    null : {None, "linear", "random"}, NullReference or {estimator label: NullReference}
        References of the GIB plane (SPEC 2, ours). With a family name, a
        :class:`gib.planes.NullReference` of that family is built on each GIB feature set for
        each GIB estimator with the Monitor's estimator spec, target and output bins; an instance
        (one GIB estimator) or a mapping is used as is (see :func:`null_references`, to share one
        between Monitors on the same probe set); with several feature sets, a mapping from each
        feature set's name to one of those. Each record step then adds GIB rows
        ``null_complexity`` and ``null_prediction`` (the seed-averaged null at the probe accuracy
        just measured; for regression the binned agreement of :func:`gib.planes.binned_agreement`),
        ``null_accuracy`` (that accuracy), ``reference_complexity`` (C*) and
        ``constant_complexity``, per GIB estimator and kind.
    null_seeds : int
        Null predictors averaged when ``null`` is a family name.
    ib_noise : float, optional
        Variance s2 of Gaussian noise added to every IB layer's T (the output included) before
        its IB point is estimated: the noise-injected probe T + N(0, s2 I), whose I(X;T) is
        finite for a deterministic network. Use it with ``kde`` or ``gcmi``, which otherwise
        estimate the unbounded information of a deterministic map (and go over the plug-in
        bounds), and choose s2 against the activations' scale (Saxe et al. use 1e-3 for the
        12-bit task, 0.1 for MNIST); the IB numbers then depend on s2, so report it. With
        ``binning`` one noise draw per probe row lowers I(X;T) only when the probe repeats
        inputs and the noise spreads them over shared bins: for a probe of distinct inputs the
        plug-in I(X;T) stays H(T), and fewer bins or ``bin_size`` are the remedy there.
        ``kde_upper`` adds its own noise analytically and needs none. None (default): no noise.
        The GIB plane and the metrics see the noiseless outputs.
    seed : int, default 0
        Seed of ``ib_noise``: the draw for a record step comes from (seed, layer, step), so a
        resumed run adds the same noise as an uninterrupted one.
    log : str, callable, logger or list of them, optional
        Where each record's values also go, as scalars named ``gib/GIB/complexity``,
        ``gib/IB/<layer>/complexity``, ...: ``"tensorboard"``, ``"wandb"``, ``"csv"``, a callable
        ``log(metrics, step)``, an object with ``log_metrics(metrics, step)`` (e.g. a Lightning
        logger), or a list of these (see :mod:`gib.loggers`).
    output : None, int, str or callable
        Which part of what the model returns are its predictions (see :class:`Probe`): needed
        for a model that returns a tuple or a dict.
    timer : bool
        Add the cost of every record step as metric rows ``record_seconds`` and ``mi_seconds``.
    verbose : bool
        Print once what the hooks capture (name, module, shape, before or after activation).
    higher_order : sequence of str
        Higher-order measures of each GIB feature set to record (``"o_information"``,
        ``"s_information"``, ``"total_correlation"``, ``"dual_total_correlation"``), per GIB
        estimator, as rows of plane ``"HOI"`` (see :class:`gib.recorders.HigherOrderRecorder`):
        kind ``"features"`` (the features alone, computed once) and ``"prediction"`` (what Yhat
        adds as one more variable). Empty (default): none.

    Notes
    -----
    Each IB point is checked against its estimator's ceilings (``gib.planes.ib_ceilings``,
    computed once for the probe set): every record step adds, next to ``complexity`` and
    ``prediction``, the rows ``saturated`` and ``over_bound`` (1.0 or 0.0) and the ceilings
    ``complexity_ceiling`` and ``prediction_ceiling`` in bits. A layer and estimator whose point
    is saturated (or over the bound) warns with ``SaturationWarning`` (``BoundWarning``) once
    per run, at its first such record step; ``state_dict`` keeps which have warned.

    A mutual information is never negative, but ``kde`` and ``gcmi`` can estimate one below zero
    for (nearly) independent variables (an estimator bias). Every IB point and every GIB point
    (per estimator and kind) therefore also gets the row ``negative`` (1.0 or 0.0): 1.0 when one of
    its estimates is below -1e-12 bits (IB: I(X;T) or I(T;Y); GIB: I(X;Z), an I(X_i;Z), an
    I(X_-i;Z) or I(Yhat;Y)); the first such point of each layer (GIB: feature set) and estimator
    warns with ``gib.monitor.NegativeInformationWarning``, once per run (kept in ``state_dict``).
    Read a flagged point as "no information measured", not as a value.

    Cost: the plug-in estimators (``binning``, ``discrete``) compute what depends only on the
    probe set once, here: the codes of X and Y for the IB plane, the partitions of each GIB
    feature set into distinct rows of X, of every X_i and of every X_-i (shared with the null
    references of ``null_references``), so a record step bins each layer once and combines
    codes (``benchmarks/bench_monitor.py``; README, "Watching a model train"). The probe's
    forward pass is often the larger part; the default ``batch_size`` keeps a conv net's
    activations in cache (1.5x faster than batches of 1024 on the CPU).
    """

    def __init__(
        self,
        model: nn.Module,
        X: Any,
        y: Any,
        *,
        layers: Sequence[str] | Mapping[str, nn.Module] | None = None,
        features: Any = None,
        features_name: str = "input",
        task: str = "classification",
        estimators: Any = "binning",
        ib_estimators: Any = None,
        synergy_kinds: Sequence[str] = ("featurewise",),
        gib_target: str = "joint",
        output_bins: int = 30,
        every: int = 1,
        batch_size: int | None = None,
        ib_input: Any = None,
        record_layers_ib: bool = True,
        progress: bool = False,
        mi_device: Any = None,
        ib_noise: float | None = None,
        seed: int = 0,
        null: str | NullReference | Mapping[str, Any] | None = None,
        null_seeds: int = 3,
        log: Any = None,
        output: Any = None,
        timer: bool = False,
        verbose: bool = True,
        higher_order: Sequence[str] = (),
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}.")
        self.model = model
        self.task = one_of(task, "task", ("classification", "regression"))
        self.gib_target = one_of(gib_target, "gib_target", GIB_TARGETS)
        if isinstance(synergy_kinds, str):
            synergy_kinds = (synergy_kinds,)
        self.synergy_kinds = tuple(one_of(k, "synergy_kinds", SYNERGY_KINDS) for k in synergy_kinds)
        self.output_bins = positive_int(output_bins, "output_bins")
        self.every = positive_int(every, "every")
        self.batch_size = None if batch_size is None else positive_int(batch_size, "batch_size")
        if mi_device is not None:
            _xp.as_device(mi_device, "mi_device")  # errors name the Monitor's argument
        self.mi_device = mi_device
        self.estimators = _estimator_specs(estimators, mi_device)
        self.ib_estimators = (self.estimators if ib_estimators is None
                              else _estimator_specs(ib_estimators, mi_device, "ib_estimators"))
        self.record_layers_ib = bool(record_layers_ib)
        self.progress = progress
        self.ib_noise = None if ib_noise is None else positive_float(ib_noise, "ib_noise")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
        self.seed = int(seed)
        self.null_seeds = positive_int(null_seeds, "null_seeds")
        self.loggers = Loggers(log)  # a bad `log` fails here, before any hook is placed
        self.higher_order = (higher_order,) if isinstance(higher_order, str) else tuple(higher_order)

        self.y = self._targets(y)
        self.probe = Probe(model, X, layers=layers, batch_size=self.batch_size, output=output)
        try:
            self._check_against_model(len(self.y))
            flat = to_numpy(self.probe.X.float() if self.probe.X.dtype == torch.bfloat16 else self.probe.X)
            flat = flat.reshape(len(flat), -1)
            self.ib_input = as_samples(flat if ib_input is None else ib_input, "ib_input")
            self.feature_sets = self._feature_sets(features, features_name, flat)
            lengths = {"X": self.probe.X, "y": self.y, "ib_input": self.ib_input}
            lengths.update({f"features[{name!r}]" if len(self.feature_sets) > 1 else "features": f
                            for name, f in self.feature_sets.items()})
            check_same_length(**lengths)
            self.null = self._check_null(null)
            self.recorders = self._recorders(timer)
        except BaseException:
            self.probe.close()
            raise
        self.layers = self.probe.layers
        self.batch_size = self.probe.batch_size
        self.rows: list[dict] = []
        self._epochs_seen = 0
        if verbose:
            print(self.probe.summary())

    # -- checks at construction ----------------------------------------------------------------
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

    def _feature_sets(self, features: Any, features_name: str, flat: np.ndarray) -> dict[str, np.ndarray]:
        if isinstance(features, Mapping):
            if not features:
                raise ValueError("`features` is an empty mapping; give {name: features} or leave it None.")
            return {str(name): as_samples(f, f"features[{name!r}]") for name, f in features.items()}
        if callable(features):
            features = features(to_numpy(self.probe.X))
        return {features_name: as_samples(flat if features is None else features, "features")}

    def _check_null(self, null: Any) -> dict[str, dict[str, NullReference]] | str | None:
        """{feature set: {estimator label: NullReference}}, a family name or None."""
        if null is None:
            return None
        if isinstance(null, str):
            return one_of(null, "null", NULL_FAMILIES)
        names = list(self.feature_sets)
        per_set = (isinstance(null, Mapping) and len(names) > 1 and set(null) == set(names)) or (
            isinstance(null, Mapping) and len(names) == 1 and set(null) == set(names) and names[0] not in self.estimators)
        if not per_set:
            if len(names) > 1:
                raise ValueError(f"`null` for {len(names)} feature sets must map each of {names} to its null.")
            null = {names[0]: null}
        return {name: self._null_for(null[name], name) for name in names}

    def _null_for(self, null: Any, features: str) -> dict[str, NullReference]:
        where = "`null`" if len(self.feature_sets) == 1 else f"`null[{features!r}]`"
        if isinstance(null, NullReference):
            if len(self.estimators) > 1:
                raise ValueError(
                    f"{where} is one NullReference but the Monitor has {len(self.estimators)} GIB estimators "
                    f"({', '.join(self.estimators)}); pass {{label: NullReference}} (see `null_references`)."
                )
            null = {label: null for label in self.estimators}
        if not isinstance(null, Mapping):
            raise TypeError(
                f"{where} must be None, one of {', '.join(map(repr, NULL_FAMILIES))}, a NullReference or "
                f"{{estimator label: NullReference}}; got {type(null).__name__}."
            )
        missing = [label for label in self.estimators if label not in null]
        if missing:
            raise ValueError(f"{where} has no NullReference for the GIB estimator(s) {missing}; give one per label.")
        wanted = {"n_samples": len(self.y), "n_features": int(self.feature_sets[features].shape[1]),
                  "task": self.task, "target": self.gib_target}
        if self.task == "regression":
            wanted["output_bins"] = self.output_bins
        for label in self.estimators:
            reference = null[label]
            if not isinstance(reference, NullReference):
                raise TypeError(f"{where}[{label!r}] must be a NullReference, got {type(reference).__name__}.")
            wrong = {k: (getattr(reference, k), v) for k, v in wanted.items() if getattr(reference, k) != v}
            if wrong:
                listed = ", ".join(f"{k} {got!r} (the Monitor's {want!r})" for k, (got, want) in wrong.items())
                raise ValueError(f"{where}[{label!r}] was built for another probe set or setting: {listed}.")
        return {label: null[label] for label in self.estimators}

    def _recorders(self, timer: bool) -> list:
        recorders: list = [MetricsRecorder(self.y, self.task)]
        if self.ib_estimators:
            recorders.append(IBRecorder(self.ib_input, self.y, self.ib_estimators, layers=self.record_layers_ib,
                                        noise=self.ib_noise, seed=self.seed))
        for name, features in self.feature_sets.items():
            if isinstance(self.null, str):  # built now, to fail before any training; computed lazily
                null = null_references(features, self.y, self.estimators, family=self.null, n_seeds=self.null_seeds,
                                       task=self.task, gib_target=self.gib_target, output_bins=self.output_bins)
            else:
                null = None if self.null is None else self.null[name]
            recorders.append(GIBRecorder(features, name, self.y, self.estimators, kinds=self.synergy_kinds,
                                         target=self.gib_target, output_bins=self.output_bins, task=self.task,
                                         null=null))
        if self.higher_order:
            recorders += [HigherOrderRecorder(features, name, self.estimators, measures=self.higher_order,
                                              task=self.task, output_bins=self.output_bins)
                          for name, features in self.feature_sets.items()]
        if timer:
            recorders.append(TimerRecorder())
        return recorders

    # -- what earlier versions exposed ----------------------------------------------------------
    @property
    def features(self) -> np.ndarray:
        """The (first) GIB feature set."""
        return next(iter(self.feature_sets.values()))

    @property
    def features_name(self) -> str:
        return next(iter(self.feature_sets))

    @property
    def ib_recorder(self) -> IBRecorder | None:
        return next((r for r in self.recorders if isinstance(r, IBRecorder)), None)

    @property
    def ib_ceilings(self) -> dict[str, tuple[float, float]]:
        """{IB estimator label: (min(log2 N, H(X)), H(Y))}, computed once for the probe set."""
        recorder = self.ib_recorder
        return {} if recorder is None else recorder.ceilings

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
        probed = Probed(int(step), float(step if epoch is None else epoch), HostArrays(tensors), outputs,
                        self.predictions(outputs), metrics, started, probe_seconds, tensors, output_tensor)
        rows = [row for recorder in self.recorders for row in recorder.rows(probed)]
        self.rows.extend(rows)
        self.loggers(rows)
        return self._frame_of(rows)

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

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float] | None = None) -> pd.DataFrame | None:
        """Record when ``epoch`` is a multiple of ``every`` (and at the first call)."""
        first = self._epochs_seen == 0
        self._epochs_seen += 1
        if first or epoch % self.every == 0:
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
        hooked = [name for name in self.layers if self.record_layers_ib]
        selection.setdefault("estimator", next(iter(self.estimators)))
        selection.setdefault("kind", self.synergy_kinds[0])
        selection.setdefault("gib_layer", self.features_name)
        return information_plane(self.frame, ib_layer=layer or (hooked[-1] if hooked else OUTPUT), **selection)

    def config(self) -> dict:
        """What produced the rows, JSON-serialisable."""
        return {
            "task": self.task,
            "layers": list(self.layers),
            "features": self.features_name if len(self.feature_sets) == 1 else list(self.feature_sets),
            "n_features": int(self.features.shape[1]),
            "n_probe": int(len(self.y)),
            "estimators": {k: [n, o] for k, (n, o) in self.estimators.items()},
            "ib_estimators": {k: [n, o] for k, (n, o) in self.ib_estimators.items()},
            "synergy_kinds": list(self.synergy_kinds),
            "gib_target": self.gib_target,
            "output_bins": self.output_bins,
            "every": self.every,
            "ib_noise": self.ib_noise,
            "seed": self.seed,
            "null": self._null_config(),
            "null_seeds": self.null_seeds,
        }

    def _null_config(self) -> Any:
        if self.null is None or isinstance(self.null, str):
            return self.null
        described = {name: {label: {"family": r.family, "n_seeds": r.n_seeds, "seeds": r.seeds,
                                    "resolution": r.resolution} for label, r in refs.items()}
                     for name, refs in self.null.items()}
        return described[self.features_name] if len(described) == 1 else described

    def save(self, directory: str | Path) -> Path:
        """Write ``metrics.parquet`` and ``monitor.json`` (the config) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.frame.to_parquet(directory / "metrics.parquet", index=False)
        (directory / "monitor.json").write_text(json.dumps(self.config(), indent=2, default=str))
        return directory / "metrics.parquet"

    def state_dict(self) -> dict:
        state = {"rows": list(self.rows), "epochs_seen": self._epochs_seen}
        recorder = self.ib_recorder
        state["warned"] = [] if recorder is None else recorder.state_dict()["warned"]
        state["gib_warned"] = {r.name: r.state_dict()["warned"] for r in self.recorders if isinstance(r, GIBRecorder)}
        return state

    def load_state_dict(self, state: Mapping) -> None:
        if not isinstance(state, Mapping) or "rows" not in state or "epochs_seen" not in state:
            raise ValueError(
                "`state` is not a Monitor state: it needs 'rows' and 'epochs_seen' (pass what "
                f"`Monitor.state_dict()` returned); got {type(state).__name__}"
                + (f" with keys {sorted(state)}" if isinstance(state, Mapping) else "") + "."
            )
        rows = list(state["rows"])
        if any(not isinstance(r, Mapping) or set(COLUMNS) - set(r) for r in rows):
            raise ValueError(f"`state['rows']` must be rows with the columns {COLUMNS}.")
        self.rows = rows
        self._epochs_seen = int(state["epochs_seen"])
        if self.ib_recorder is not None:
            # states saved before the saturation warnings have no "warned": nothing warned yet
            self.ib_recorder.load_state_dict({"warned": state.get("warned", [])})
        for recorder in self.recorders:
            if isinstance(recorder, GIBRecorder):
                recorder.load_state_dict({"warned": state.get("gib_warned", {}).get(recorder.name, [])})
