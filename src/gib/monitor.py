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
import math
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._validation import as_samples, check_same_length, one_of, positive_float, positive_int, to_numpy
from .estimators import LeaveOneOut, SaturationWarning, get_estimator
from .loggers import Loggers
from .measures import SYNERGY_KINDS, synergy_from
from .planes import GIB_TARGETS, NULL_FAMILIES, NullReference, binned_agreement, gib_point, ib_ceilings, ib_point, ib_point_warnings

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
    that probe set: their null points are then computed once for all of them.
    """
    y = as_samples(y, "y")
    y = y[:, 0] if y.shape[1] == 1 else y
    return {
        label: NullReference(features, y, family=family, n_seeds=n_seeds, estimator=name, target=gib_target,
                             output_bins=output_bins, task=task, **options)
        for label, (name, options) in _estimator_specs(estimators, mi_device).items()
    }


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
    null : {None, "linear", "random"}, NullReference or {estimator label: NullReference}
        References of the GIB plane (SPEC 2, ours). With a family name, a
        :class:`gib.planes.NullReference` of that family is built on the GIB features for each
        GIB estimator with the Monitor's estimator spec, target and output bins; an instance (one
        GIB estimator) or a mapping is used as is (see :func:`null_references`, to share one
        between Monitors on the same probe set). Each record step then adds GIB rows
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

    Notes
    -----
    Each IB point is checked against its estimator's ceilings (``gib.planes.ib_ceilings``,
    computed once for the probe set): every record step adds, next to ``complexity`` and
    ``prediction``, the rows ``saturated`` and ``over_bound`` (1.0 or 0.0) and the ceilings
    ``complexity_ceiling`` and ``prediction_ceiling`` in bits. A layer and estimator whose point
    is saturated (or over the bound) warns with ``SaturationWarning`` (``BoundWarning``) once
    per run, at its first such record step; ``state_dict`` keeps which have warned.
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
        ib_noise: float | None = None,
        seed: int = 0,
        null: str | NullReference | Mapping[str, NullReference] | None = None,
        null_seeds: int = 3,
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
        self.ib_noise = None if ib_noise is None else positive_float(ib_noise, "ib_noise")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
        self.seed = int(seed)
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
        # H(X) and H(Y) of the fixed probe set, once per IB estimator (not at every record)
        self.ib_ceilings = {
            label: ib_ceilings(self.ib_input, self.y, name, **options)
            for label, (name, options) in self.ib_estimators.items()
        }
        self.saturation_tol = math.log2(len(self.y)) / len(self.y)  # ib_point's default
        self._warned: set[tuple[str, str, str]] = set()

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
        self.null_seeds = positive_int(null_seeds, "null_seeds")
        self.null = self._check_null(null)
        self._null_cache: dict[str, dict[str, NullReference]] = {}
        if isinstance(self.null, str):  # built now, to fail before any training; computed lazily
            self._nulls()
        self._captured: dict[str, torch.Tensor] = {}
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]
        self.rows: list[dict] = []
        self._epochs_seen = 0

    # -- references of the GIB plane ----------------------------------------------------------
    def _check_null(self, null: Any) -> str | dict[str, NullReference] | None:
        if null is None or isinstance(null, str):
            return null if null is None else one_of(null, "null", NULL_FAMILIES)
        if isinstance(null, NullReference):
            if len(self.estimators) > 1:
                raise ValueError(
                    f"`null` is one NullReference but the Monitor has {len(self.estimators)} GIB estimators "
                    f"({', '.join(self.estimators)}); pass {{label: NullReference}} (see `null_references`)."
                )
            null = {label: null for label in self.estimators}
        if not isinstance(null, Mapping):
            raise TypeError(
                f"`null` must be None, one of {', '.join(map(repr, NULL_FAMILIES))}, a NullReference or "
                f"{{estimator label: NullReference}}; got {type(null).__name__}."
            )
        missing = [label for label in self.estimators if label not in null]
        if missing:
            raise ValueError(f"`null` has no NullReference for the GIB estimator(s) {missing}; give one per label.")
        for label in self.estimators:
            self._check_null_fits(null[label], label)
        return {label: null[label] for label in self.estimators}

    def _check_null_fits(self, reference: Any, label: str) -> None:
        if not isinstance(reference, NullReference):
            raise TypeError(f"`null[{label!r}]` must be a NullReference, got {type(reference).__name__}.")
        wanted = {"n_samples": len(self.y), "n_features": int(self.features.shape[1]), "task": self.task,
                  "target": self.gib_target}
        if self.task == "regression":
            wanted["output_bins"] = self.output_bins
        wrong = {k: (getattr(reference, k), v) for k, v in wanted.items() if getattr(reference, k) != v}
        if wrong:
            listed = ", ".join(f"{k} {got!r} (the Monitor's {want!r})" for k, (got, want) in wrong.items())
            raise ValueError(f"`null[{label!r}]` was built for another probe set or setting: {listed}.")

    def _nulls(self) -> dict[str, NullReference]:
        """The null of each GIB estimator for the current GIB features (a subclass may swap them)."""
        if not isinstance(self.null, str):
            for label, reference in self.null.items():
                self._check_null_fits(reference, label)
            return self.null
        if self.features_name not in self._null_cache:
            self._null_cache[self.features_name] = null_references(
                self.features, self.y, self.estimators, family=self.null, n_seeds=self.null_seeds,
                task=self.task, gib_target=self.gib_target, output_bins=self.output_bins,
            )
        return self._null_cache[self.features_name]

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
        add("metric", OUTPUT, "", "", "n_probe", len(self.y))  # sets the phase rule's noise floor (SPEC 2)
        for name, value in (metrics or {}).items():
            add("metric", OUTPUT, "", "", name, value)

        ib_layers = dict(layers) if self.record_layers_ib else {}
        ib_layers[OUTPUT] = outputs
        if self.ib_noise is not None:
            ib_layers = {layer: self.noisy(t, layer, step) for layer, t in ib_layers.items()}
        flagged: list[tuple[str, str, Any]] = []
        jobs = [("IB", label, spec, layer) for label, spec in self.ib_estimators.items() for layer in ib_layers]
        jobs += [("GIB", label, spec, kind) for label, spec in self.estimators.items() for kind in self.synergy_kinds]
        iterator = jobs
        if self.progress:
            from ._progress import progress_bar

            iterator = progress_bar(jobs, desc=f"MI at step {step}")
        gib_cache: dict = {}
        if self.null is not None:
            nulls = self._nulls()
            accuracy = (np.mean(yhat == self.y) if self.task == "classification"
                        else binned_agreement(yhat, self.y, self.output_bins))
        with warnings.catch_warnings():
            # Only the estimators' own warning on GIB's joint I(X;Z) is silenced here: it is
            # saturated whenever the inputs are distinct (the 12-bit task's 4096 patterns are),
            # and the synergy's pieces still carry the measure. IB points warn below, once.
            warnings.simplefilter("ignore", SaturationWarning)
            for plane, label, (name, options), what in iterator:
                if plane == "IB":
                    point = ib_point(ib_layers[what], self.ib_input, self.y, name, warn=False,
                                     ceilings=self.ib_ceilings[label], **options)
                    add("IB", what, label, "", "complexity", point.complexity)
                    add("IB", what, label, "", "prediction", point.prediction)
                    add("IB", what, label, "", "saturated", point.saturated)
                    add("IB", what, label, "", "over_bound", point.over_bound)
                    add("IB", what, label, "", "complexity_ceiling", point.complexity_ceiling)
                    add("IB", what, label, "", "prediction_ceiling", point.prediction_ceiling)
                    if point.saturated or point.over_bound:
                        flagged.append((what, label, point))
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
                    if self.null is not None:
                        null_c, null_p = nulls[label].at(float(accuracy), kind=what)
                        reference = nulls[label].reference_for(what)
                        add("GIB", self.features_name, label, what, "null_complexity", null_c)
                        add("GIB", self.features_name, label, what, "null_prediction", null_p)
                        add("GIB", self.features_name, label, what, "null_accuracy", accuracy)
                        add("GIB", self.features_name, label, what, "reference_complexity", reference.complexity_star)
                        add("GIB", self.features_name, label, what, "constant_complexity",
                            reference.complexity_constant)
        for layer, label, point in flagged:
            self._warn_once(layer, label, point, step)
        self.rows.extend(rows)
        self.loggers(rows)
        return pd.DataFrame(rows, columns=COLUMNS)

    def noisy(self, T: np.ndarray, layer: str, step: int) -> np.ndarray:
        """T + N(0, ib_noise) (the noise-injected probe), drawn from (seed, layer, step)."""
        # crc32, not hash(): str hashes change between interpreter runs
        entropy = [self.seed, zlib.crc32(str(layer).encode()), int(step) & 0xFFFFFFFFFFFFFFFF]
        rng = np.random.default_rng(entropy)
        return T + rng.normal(0.0, math.sqrt(self.ib_noise), size=T.shape)

    def _warn_once(self, layer: str, label: str, point: Any, step: int) -> None:
        """Warn about a saturated or over-bound IB point, once per (layer, estimator, category)."""
        where = f"layer {layer!r}, estimator {label!r}, step {step}"
        for category, message in ib_point_warnings(point, self.saturation_tol, where):
            key = (str(layer), str(label), category.__name__)
            if key not in self._warned:
                self._warned.add(key)
                warnings.warn(message + " (Warned once per layer and estimator for this run.)", category,
                              stacklevel=3)

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
            "ib_noise": self.ib_noise,
            "seed": self.seed,
            "null": self._null_config(),
            "null_seeds": self.null_seeds,
        }

    def _null_config(self) -> Any:
        if self.null is None or isinstance(self.null, str):
            return self.null
        return {label: {"family": r.family, "n_seeds": r.n_seeds, "seeds": r.seeds, "resolution": r.resolution}
                for label, r in self.null.items()}

    def save(self, directory: str | Path) -> Path:
        """Write ``metrics.parquet`` and ``monitor.json`` (the config) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.frame.to_parquet(directory / "metrics.parquet", index=False)
        (directory / "monitor.json").write_text(json.dumps(self.config(), indent=2, default=str))
        return directory / "metrics.parquet"

    def state_dict(self) -> dict:
        # warned keys as sorted lists of str: plain data for any checkpoint format
        return {"rows": list(self.rows), "epochs_seen": self._epochs_seen,
                "warned": [list(key) for key in sorted(self._warned)]}

    def load_state_dict(self, state: Mapping) -> None:
        self.rows = list(state["rows"])
        self._epochs_seen = int(state["epochs_seen"])
        # states saved before the saturation warnings have no "warned": nothing warned yet
        self._warned = {tuple(str(part) for part in key) for key in state.get("warned", [])}
