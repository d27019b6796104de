"""Record IB and GIB planes while a PyTorch model trains (SPEC 2).

The monitor never owns the training loop (STYLE.md, Lightning callbacks): attach it to a model,
call ``record(step)`` whenever a plane point is wanted (or ``on_epoch_end(epoch)`` with an
``every``), and read ``frame`` (a tidy DataFrame) at the end.

>>> monitor = Monitor(model, X_probe, y_probe)            # doctest: +SKIP
>>> for epoch in range(epochs):                             # doctest: +SKIP
...     train_one_epoch(model)
...     monitor.on_epoch_end(epoch)
>>> monitor.close(); monitor.frame.to_parquet("metrics.parquet")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._validation import as_samples, check_same_length, one_of, positive_int, to_numpy
from .estimators import LeaveOneOut, SaturationWarning, get_estimator
from .loggers import Loggers
from .measures import SYNERGY_KINDS, synergy_from
from .planes import GIB_TARGETS, gib_point, ib_point

COLUMNS = ["step", "epoch", "plane", "layer", "estimator", "kind", "measure", "value"]
OUTPUT = "output"

_ACTIVATIONS = tuple(
    getattr(nn, name)
    for name in (
        "Tanh", "ReLU", "Sigmoid", "Softsign", "Softplus", "GELU", "ELU", "LeakyReLU", "SiLU",
        "Mish", "Hardtanh", "ReLU6", "SELU", "CELU", "Tanhshrink", "LogSigmoid", "PReLU",
    )
)
_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def default_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Every Linear/Conv layer, represented by the activation module that follows it when there
    is one (so the hook sees the post-activation output T), else by the layer itself.

    A model may instead define ``hidden_layers() -> {name: module}``, which is used as is.
    Activations applied functionally (``F.relu``) cannot be seen: name the layers instead.
    """
    if hasattr(model, "hidden_layers"):
        return dict(model.hidden_layers())
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


def _estimator_specs(estimators: Any, device: Any = None) -> dict[str, tuple[str, dict]]:
    """Normalise ``"binning"``, ``["binning", "gcmi"]`` or ``{"label": ("binning", {...})}``
    / ``{"binning": {...}}`` into {label: (name, options)}, validating each once. A ``device``
    is added to every estimator's options that does not name its own."""
    if isinstance(estimators, str):
        estimators = [estimators]
    if isinstance(estimators, Mapping):
        specs = {}
        for label, spec in estimators.items():
            if isinstance(spec, Mapping):
                specs[label] = (label, dict(spec))
            else:
                name, options = spec
                specs[label] = (name, dict(options))
    else:
        specs = {name: (name, {}) for name in estimators}
    if not specs:
        raise ValueError("`estimators` is empty; name at least one, e.g. 'binning'.")
    if device is not None:
        specs = {label: (name, {"device": device, **options}) for label, (name, options) in specs.items()}
    for name, options in specs.values():
        get_estimator(name, **options)  # fail now, not after an epoch of training
    return specs


class Monitor:
    """Records the IB plane of each watched layer and the GIB plane of the model's outputs.

    Parameters
    ----------
    model : torch.nn.Module
    X, y : array-like
        The fixed probe set: inputs (any shape, first axis = samples) and targets.
    layers : list of str or dict, optional
        Module names to watch (from ``model.named_modules()``), or {label: module}. Default:
        ``default_layers(model)``. The model output is always recorded as layer ``"output"``.
    features : array (N, n) or callable, optional
        GIB input features: the raw inputs flattened (default), a precomputed array, or a
        transform applied once to X (e.g. a fitted Kernel PCA's ``transform``).
    features_name : str
        Label of the GIB feature set in the results ("input" by default).
    task : {"classification", "regression"}
        Classification: Yhat = argmax of the output. Regression: Yhat = the output, binned
        like Y in ``output_bins`` bins (SPEC 2).
    estimators : str, list or dict
        Estimators of both planes: names, or {label: (name, options)} / {name: options}.
    ib_estimators : optional
        Estimators of the IB plane when they differ (e.g. ``kde_upper``).
    synergy_kinds : sequence of {"featurewise", "sum_vs_whole"}
    gib_target : {"joint", "yhat", "y"}
    every : int
        ``on_epoch_end`` records every ``every`` epochs (and always the first call).
    batch_size : int
        Probe forward passes run in batches of this size.
    ib_input : array, optional
        The X of I(X;T) (default: the raw inputs flattened).
    progress : bool
        Show a progress bar over the MI computations of a record step.
    mi_device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Passed as ``device`` to every estimator: the leave-one-out computations of the GIB
        plane then run in torch there (e.g. on the model's GPU); None: NumPy. The IB plane's
        mutual informations stay NumPy.
    log : str, callable, logger or list of them, optional
        Where each record's values also go, as scalars named ``gib/GIB/complexity``,
        ``gib/IB/<layer>/complexity``, ...: ``"tensorboard"``, ``"wandb"``, ``"csv"``, a callable
        ``log(metrics, step)``, an object with ``log_metrics(metrics, step)`` (e.g. a Lightning
        logger), or a list of these (see :mod:`gib.loggers`).
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
        batch_size: int = 1024,
        ib_input: Any = None,
        record_layers_ib: bool = True,
        progress: bool = False,
        mi_device: Any = None,
        log: Any = None,
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}.")
        self.model = model
        self.task = one_of(task, "task", ("classification", "regression"))
        self.gib_target = one_of(gib_target, "gib_target", GIB_TARGETS)
        self.synergy_kinds = tuple(one_of(k, "synergy_kinds", SYNERGY_KINDS) for k in synergy_kinds)
        self.output_bins = positive_int(output_bins, "output_bins")
        self.every = positive_int(every, "every")
        self.batch_size = positive_int(batch_size, "batch_size")
        self.mi_device = mi_device
        self.estimators = _estimator_specs(estimators, mi_device)
        self.ib_estimators = self.estimators if ib_estimators is None else _estimator_specs(ib_estimators, mi_device)
        self.record_layers_ib = record_layers_ib
        self.progress = progress
        self.loggers = Loggers(log)  # a bad `log` fails here, before any hook is placed

        self._X = X if isinstance(X, torch.Tensor) else torch.as_tensor(np.asarray(X))
        self.y = as_samples(y, "y")
        check_same_length(X=self._X, y=self.y)
        self.y = self.y[:, 0] if self.y.shape[1] == 1 else self.y
        flat = to_numpy(self._X).reshape(len(self._X), -1)
        self.ib_input = as_samples(flat if ib_input is None else ib_input, "ib_input")
        if callable(features):
            features = features(to_numpy(self._X))
        self.features = as_samples(flat if features is None else features, "features")
        check_same_length(X=self._X, features=self.features, ib_input=self.ib_input)
        self.features_name = features_name

        if layers is None:
            modules = default_layers(model)
        elif isinstance(layers, Mapping):
            modules = dict(layers)
        else:
            named = dict(model.named_modules())
            missing = [name for name in layers if name not in named]
            if missing:
                raise ValueError(
                    f"`layers` names {missing} that are not modules of the model; "
                    f"choose from {[n for n in named if n][:20]}..."
                )
            modules = {name: named[name] for name in layers}
        self.layers = modules
        self._captured: dict[str, torch.Tensor] = {}
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]
        self.rows: list[dict] = []
        self._epochs_seen = 0

    # -- hooks ---------------------------------------------------------------------------------
    def _hook(self, name: str) -> Callable:
        def hook(module, inputs, output):
            if self._capturing:
                out = output[0] if isinstance(output, tuple) else output
                self._captured.setdefault(name, []).append(out.detach().flatten(1).float().cpu())

        return hook

    _capturing = False

    def close(self) -> None:
        """Remove every hook from the model, and close the loggers made from names in ``log``."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.loggers.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- probing ---------------------------------------------------------------------------------
    @torch.no_grad()
    def probe(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Run the probe set through the model: ({layer: T}, outputs), as NumPy arrays."""
        was_training = self.model.training
        self.model.eval()
        try:
            device = next(self.model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        self._captured, outputs = {}, []
        self._capturing = True
        try:
            for start in range(0, len(self._X), self.batch_size):
                batch = self._X[start : start + self.batch_size].to(device)
                out = self.model(batch)
                out = out.logits if hasattr(out, "logits") else out
                outputs.append(out.detach().float().cpu())
        finally:
            self._capturing = False
            self.model.train(was_training)
        layers = {name: torch.cat(chunks).numpy() for name, chunks in self._captured.items()}
        self._captured = {}
        return layers, torch.cat(outputs).flatten(1).numpy()

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        if self.task == "classification":
            return outputs.argmax(axis=1) if outputs.shape[1] > 1 else (outputs[:, 0] > 0).astype(np.int64)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    # -- recording -------------------------------------------------------------------------------
    def record(self, step: int, epoch: float | None = None, metrics: Mapping[str, float] | None = None) -> pd.DataFrame:
        """Compute and store every configured measure at this step; return the new rows."""
        layers, outputs = self.probe()
        yhat = self.predictions(outputs)
        epoch = float(step if epoch is None else epoch)
        rows: list[dict] = []

        def add(plane, layer, estimator, kind, measure, value):
            rows.append(dict(step=int(step), epoch=epoch, plane=plane, layer=layer, estimator=estimator,
                             kind=kind, measure=measure, value=float(value)))

        if self.task == "classification":
            add("metric", OUTPUT, "", "", "accuracy", np.mean(yhat == self.y))
            logits = torch.as_tensor(outputs)
            target = torch.as_tensor(np.asarray(self.y, dtype=np.int64))
            add("metric", OUTPUT, "", "", "loss", torch.nn.functional.cross_entropy(logits, target).item())
        else:
            add("metric", OUTPUT, "", "", "loss", np.mean((outputs.reshape(len(outputs), -1) - self.y.reshape(len(self.y), -1)) ** 2))
        for name, value in (metrics or {}).items():
            add("metric", OUTPUT, "", "", name, value)

        ib_layers = dict(layers) if self.record_layers_ib else {}
        ib_layers[OUTPUT] = outputs
        jobs = [("IB", label, spec, layer) for label, spec in self.ib_estimators.items() for layer in ib_layers]
        jobs += [("GIB", label, spec, kind) for label, spec in self.estimators.items() for kind in self.synergy_kinds]
        iterator = jobs
        if self.progress:
            from ._progress import progress_bar

            iterator = progress_bar(jobs, desc=f"MI at step {step}")
        gib_cache: dict = {}
        with warnings.catch_warnings():
            # saturation is expected for high-dimensional inputs; the planes still record it
            warnings.simplefilter("ignore", SaturationWarning)
            for plane, label, (name, options), what in iterator:
                if plane == "IB":
                    point = ib_point(ib_layers[what], self.ib_input, self.y, name, **options)
                    add("IB", what, label, "", "complexity", point.complexity)
                    add("IB", what, label, "", "prediction", point.prediction)
                else:
                    key = (label,)
                    if key not in gib_cache:
                        gib_cache[key] = gib_point(
                            self.features, yhat, self.y, name, kind="featurewise", target=self.gib_target,
                            output_bins=self.output_bins, **options,
                        )
                    point = gib_cache[key]
                    # one leave-one-out serves every synergy kind
                    synergy = synergy_from(LeaveOneOut(point.joint, point.single, point.complement), what)
                    add("GIB", self.features_name, label, what, "complexity", -synergy)
                    add("GIB", self.features_name, label, what, "prediction", point.prediction)
                    add("GIB", self.features_name, label, what, "synergy", synergy)
                    add("GIB", self.features_name, label, what, "joint", point.joint)
        self.rows.extend(rows)
        self.loggers(rows)
        return pd.DataFrame(rows, columns=COLUMNS)

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

    def config(self) -> dict:
        """What produced the rows, JSON-serialisable."""
        return {
            "task": self.task,
            "layers": list(self.layers),
            "features": self.features_name,
            "n_features": int(self.features.shape[1]),
            "n_probe": int(len(self.y)),
            "estimators": {k: [n, o] for k, (n, o) in self.estimators.items()},
            "ib_estimators": {k: [n, o] for k, (n, o) in self.ib_estimators.items()},
            "synergy_kinds": list(self.synergy_kinds),
            "gib_target": self.gib_target,
            "output_bins": self.output_bins,
            "every": self.every,
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``metrics.parquet`` and ``monitor.json`` (the config) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.frame.to_parquet(directory / "metrics.parquet", index=False)
        (directory / "monitor.json").write_text(json.dumps(self.config(), indent=2, default=str))
        return directory / "metrics.parquet"

    def state_dict(self) -> dict:
        return {"rows": list(self.rows), "epochs_seen": self._epochs_seen}

    def load_state_dict(self, state: Mapping) -> None:
        self.rows = list(state["rows"])
        self._epochs_seen = int(state["epochs_seen"])
