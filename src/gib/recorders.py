"""Recorders: each turns one probed record step into tidy rows and keeps its own state.

A :class:`gib.Monitor` probes the model once per record step (:class:`gib.monitor.Probe`) and
hands the :class:`Probed` step to each of its recorders in turn, concatenating their rows. A new
measurement is a recorder passed to the Monitor, not an edit of it. A recorder is any object with

- ``rows(step, probed) -> list[dict]``: the tidy rows of one record step (:data:`COLUMNS`;
  :meth:`Probed.row` builds one), required;
- ``bind(probe_set)``: called once by the Monitor with the :class:`ProbeSet` (probe inputs,
  targets, task, hooked layers) before the first record; do there what the probe set fixes;
- ``state_dict()`` / ``load_state_dict(state)``: what a resumed run needs (plain data);
- ``config()``: what produced its rows, JSON-serialisable, for ``Monitor.config()``;

each of the last three only where it needs them. The default set is built by
:func:`default_recorders` from the options of the planes:

- :class:`MetricsRecorder`: accuracy and loss on the probe set, the probe size, the caller's metrics;
- :class:`IBRecorder`: the IB point of every probed layer, per estimator, with its saturation flags;
- :class:`GIBRecorder`: the GIB point of one feature set, per estimator and synergy kind, with the
  task's C* and the null predictors at the measured accuracy; one per feature set;
- :class:`TimerRecorder`: what the record step cost;
- :class:`HigherOrderRecorder`: higher-order measures (O-information and its relatives) of one
  GIB feature set, alone and with the prediction joined (plane ``"HOI"``).

Both planes are computed by the one implementation in :mod:`gib.planes`: an IB recorder keeps an
:class:`gib.planes.IBPlane` per estimator and a GIB recorder a :class:`gib.planes.GIBPlane` per
estimator, built once at ``bind``, so what the probe set fixes (ceilings, codes of X and Y, the
features' partitions for the plug-in estimators) is computed once for the run.

Negative estimates
------------------
A mutual information is >= 0, but the ``kde`` and ``gcmi`` estimators can return a negative
value for (nearly) independent variables, an estimator bias. Each IB and GIB point gets a row
``negative`` (1.0 or 0.0, like ``saturated``): 1.0 when one of its informations (IB: I(X;T),
I(T;Y); GIB: I(X;Z), any I(X_i;Z) or I(X_-i;Z), I(Yhat;Y)) is below ``-NEGATIVE_TOL`` bits, and
a :class:`gib.exceptions.NegativeInformationWarning` once per run and recorder.
"""

from __future__ import annotations

import inspect
import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ._validation import as_samples, check_same_length, one_of, positive_int
from .estimators import LeaveOneOut, PlugInEstimator, discrete_codes, get_estimator
from .estimators.plugin import FixedInputEstimator
from .exceptions import NegativeInformationWarning, SaturationWarning, BoundWarning, docs_link, warn_once
from .measures import HIGHER_ORDER_MEASURES, SYNERGY_KINDS, higher_order, synergy_from
from .ib_default import DEFAULT_IB_ESTIMATOR, MAX_SAMPLES, NOISE_FRACTION, SKETCH_WIDTH, KDEUpperIB
from .planes import (GIB_TARGETS, GIBPlane, IBPlane, IBPoint, basic_interval, binned_agreement, check_bootstrap,
                     difference_interval, weighting_estimator)
from .references import NULL_FAMILIES, NullReference

#: bits below zero that count as a negative estimate: plug-in estimates are >= 0 up to rounding
NEGATIVE_TOL = 1e-12

COLUMNS = ["step", "epoch", "plane", "layer", "estimator", "kind", "measure", "value"]
OUTPUT = "output"  #: the layer name of the model's output


@dataclass(frozen=True)
class ProbeSet:
    """What a Monitor's recorders are bound to: the fixed probe set and how it is read.

    Attributes
    ----------
    inputs : np.ndarray
        The probe inputs flattened to (N, d) (float32 or the inputs' integer type).
    raw : Any
        The probe inputs as the model takes them (a tensor, first axis = samples).
    y : np.ndarray
        The targets: class labels (N,) for classification, values (N,) or (N, k) for regression.
    task : {"classification", "regression"}
    layers : tuple of str
        The hooked layers' names, in execution order (the output is :data:`OUTPUT`).
    output_width : int
        Outputs per sample.
    """

    inputs: np.ndarray = field(repr=False)
    raw: Any = field(repr=False)
    y: np.ndarray = field(repr=False)
    task: str
    layers: tuple[str, ...]
    output_width: int

    @property
    def n(self) -> int:
        """The number of probe samples."""
        return len(self.y)

    @classmethod
    def of(cls, X: Any, y: Any, task: str = "classification", layers: Sequence[str] = ()) -> ProbeSet:
        """A probe set of inputs ``X`` and targets ``y`` without a model (to bind and test a
        recorder on its own): ``recorder.bind(ProbeSet.of(X, y))``."""
        X = np.asarray(X)
        y = np.asarray(y)
        return cls(inputs=X.reshape(len(X), -1), raw=X, y=y, task=one_of(task, "task", ("classification", "regression")),
                   layers=tuple(layers), output_width=1)


@dataclass
class Probed:
    """One record step's probe of the model: what every recorder reads."""

    step: int
    epoch: float
    layers: Mapping[str, np.ndarray]  #: T of every hooked layer, (N, width), copied to the host when read
    outputs: np.ndarray  #: the model's outputs, (N, k)
    yhat: np.ndarray  #: the predictions (class labels, or the outputs for regression)
    metrics: Mapping[str, float] = field(default_factory=dict)  #: the caller's metrics
    started: float = 0.0  #: ``time.perf_counter()`` when the record step began
    probe_seconds: float = 0.0  #: the forward pass over the probe set
    tensors: Mapping[str, Any] = field(default_factory=dict)  #: the layers' buffers on the model's device
    output_tensor: Any = None  #: the outputs on the model's device

    def tensor(self, layer: str) -> Any:
        """T of ``layer`` (or of the output) as a tensor, on the model's device when the probe
        gave its buffers, else made from the NumPy array."""
        import torch

        found = self.output_tensor if layer == OUTPUT else self.tensors.get(layer)
        return torch.as_tensor(self.outputs if layer == OUTPUT else self.layers[layer]) if found is None else found

    def row(self, plane: str, layer: str, estimator: str, kind: str, measure: str, value: Any) -> dict:
        """One tidy row of this step (:data:`COLUMNS`)."""
        return dict(step=self.step, epoch=self.epoch, plane=plane, layer=layer, estimator=estimator, kind=kind,
                    measure=measure, value=float(value))


class HostArrays(Mapping):
    """{layer: T} as NumPy arrays, each copied from its tensor (a buffer on the model's device)
    when first read; on the CPU no copy is made."""

    def __init__(self, tensors: Mapping[str, Any]):
        self._tensors, self._arrays = tensors, {}

    def __getitem__(self, layer: str) -> np.ndarray:
        if layer not in self._arrays:
            self._arrays[layer] = self._tensors[layer].cpu().numpy()
        return self._arrays[layer]

    def __iter__(self):
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)


@runtime_checkable
class Recorder(Protocol):
    """The one method a recorder must have (module docstring: ``bind``, ``state_dict``,
    ``load_state_dict`` and ``config`` are optional)."""

    def rows(self, step: int, probed: Probed) -> list[dict]: ...  # tidy rows for one step


def estimator_specs(estimators: Any, device: Any = None, name: str = "estimators") -> dict[str, tuple[str, dict]]:
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


def _warn_negative(warned: set, where: str, step: int, what: str) -> None:
    """Warn once per run and recorder that an estimate is below zero."""
    warn_once(warned, ("negative",), NegativeInformationWarning,
              f"{what} is below zero at {where}, step {step}: an estimator bias, flagged `negative` in the frame.",
              docs_link("estimators", "negative-estimates"))


class _Stateless:
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: Mapping) -> None:
        return None


def accuracy_of(yhat: np.ndarray, y: np.ndarray, task: str, output_bins: int) -> float:
    """Classification: the share of correct labels; regression: the binned agreement (SPEC 2)."""
    return float(np.mean(yhat == y)) if task == "classification" else binned_agreement(yhat, y, output_bins)


class MetricsRecorder(_Stateless):
    """Accuracy and cross-entropy (classification) or MSE (regression) on the probe set, the probe
    size ``n_probe`` (it sets the phase rule's noise floor) and the caller's metrics."""

    def bind(self, probe_set: ProbeSet) -> None:
        self.y, self.task = probe_set.y, probe_set.task

    def rows(self, step: int, probed: Probed) -> list[dict]:
        add = probed.row
        y, outputs = self.y, probed.outputs
        if self.task == "classification":
            rows = [add("metric", OUTPUT, "", "", "accuracy", np.mean(probed.yhat == y)),
                    add("metric", OUTPUT, "", "", "loss", _cross_entropy(outputs, y))]
        else:
            rows = [add("metric", OUTPUT, "", "", "loss",
                        np.mean((outputs.reshape(len(outputs), -1) - y.reshape(len(y), -1)) ** 2))]
        rows.append(add("metric", OUTPUT, "", "", "n_probe", len(y)))
        rows += [add("metric", OUTPUT, "", "", name, value) for name, value in probed.metrics.items()]
        return rows


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy in nats (torch's ``cross_entropy``), for logits (N, k); k = 1 is one
    logit of class 1 (binary)."""
    import torch

    z, target = torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if z.shape[1] == 1:
        return torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], target.float()).item()
    return torch.nn.functional.cross_entropy(z, target).item()


_IB_MEASURES = ("complexity", "prediction", "saturated", "over_bound", "complexity_ceiling", "prediction_ceiling")
#: the rows of a bootstrapped point's 95% interval
_INTERVALS = ("complexity_low", "complexity_high", "prediction_low", "prediction_high")


class IBRecorder:
    """The IB point (I(X;T), I(T;Y)) of every probed layer and of the output, per estimator, with
    the saturation flags and ceilings of :func:`gib.planes.ib_point` (rows ``complexity``,
    ``prediction``, ``saturated``, ``over_bound``, ``complexity_ceiling``, ``prediction_ceiling``)
    and the flag ``negative`` (an estimate below zero, module docstring).

    Warns once per run and kind of warning (``SaturationWarning``, ``BoundWarning``,
    ``NegativeInformationWarning``), naming every layer concerned at that step; which have
    warned is part of the state, so a resumed run does not warn again.

    With ``estimators="default"`` (what the Monitor uses when no estimator is named) every
    layer's point comes from the IB default rule of :mod:`gib.ib_default`: ``kde_upper`` with
    noise variance 0.1 x the layer's median squared distance between two probe rows, at each
    record (the rows ``noise_variance``, and ``sketch`` for a sketched wide layer, give the
    parameters of each point; estimator label ``"kde_upper"``).

    Parameters
    ----------
    estimators : "default", str, list or dict
        The IB estimators: the default rule, names, or {label: (name, options)} / {name: options}.
    X : array (N, d), optional
        The X of I(X;T); default: the probe inputs flattened.
    layers : bool
        Whether the hooked layers are recorded (the output always is).
    noise : float, optional
        Variance of the noise-injected probe: T + N(0, noise) drawn from (seed, layer, step).
    seed : int
        Seed of ``noise``.
    device : optional
        Passed as ``device`` to every estimator that does not name its own.
    bootstrap : int
        Replicates of each point's 95% interval (rows ``complexity_low``, ``complexity_high``,
        ``prediction_low``, ``prediction_high``); 0: none. See :class:`gib.planes.IBPlane`.
    """

    def __init__(self, estimators: Any = "default", *, X: Any = None, layers: bool = True,
                 noise: float | None = None, seed: int = 0, device: Any = None, bootstrap: int = 0):
        self.default_rule = isinstance(estimators, str) and estimators == "default"
        if self.default_rule and noise is not None:
            raise ValueError("`ib_noise` adds noise to an estimator you name; the default IB estimator reads each "
                             "layer through its own noise. Name one (ib_estimators='kde') or leave ib_noise None.")
        if self.default_rule and bootstrap:
            raise ValueError("`bootstrap` intervals need a named IB estimator (e.g. ib_estimators='binning'); the "
                             "default rule re-chooses its noise at every record.")
        self.estimators = ({DEFAULT_IB_ESTIMATOR: (DEFAULT_IB_ESTIMATOR, {})} if self.default_rule
                           else estimator_specs(estimators, device, "ib_estimators"))
        self.input, self.record_layers, self.noise, self.seed = X, bool(layers), noise, int(seed)
        self.bootstrap = check_bootstrap(bootstrap)
        self.warned: set[tuple[str, ...]] = set()

    def bind(self, probe_set: ProbeSet) -> None:
        X = probe_set.inputs if self.input is None else as_samples(self.input, "ib_input")
        check_same_length(ib_input=X, y=probe_set.y)
        self.X, self.y = X, probe_set.y
        if self.default_rule:
            self._default = KDEUpperIB(X, probe_set.y)
            n = len(self._default.rows)
            self._tolerance = math.log2(n) / n  # ib_point's default, on the rows estimated
            self.planes = {}
            return
        self.planes = {label: IBPlane(X, probe_set.y, name, bootstrap=self.bootstrap, seed=self.seed, **options)
                       for label, (name, options) in self.estimators.items()}

    @property
    def ceilings(self) -> dict[str, tuple[float, float]]:
        """{label: (min(log2 N, H(X)), H(Y))}, computed once for the probe set."""
        if self.default_rule:
            return {DEFAULT_IB_ESTIMATOR: self._default.ceilings}
        return {label: plane.ceilings for label, plane in self.planes.items()}

    def point(self, label: str, T: Any) -> Any:
        """The IB point of one layer's T under estimator ``label``."""
        if self.default_rule:
            return self._default_points({"T": T})["T"][0]
        return self.planes[label].point(T)

    def _default_points(self, layers: Mapping[str, Any]) -> dict[str, tuple[IBPoint, dict]]:
        """{layer: (point, options)} under the default rule (:mod:`gib.ib_default`)."""
        out = {}
        for layer, T in layers.items():
            options, complexity, prediction = self._default.default_point(T)
            out[layer] = (IBPoint.flagged(complexity, prediction, *self._default.ceilings, self._tolerance), options)
        return out

    def rows(self, step: int, probed: Probed) -> list[dict]:
        names = (list(probed.layers) if self.record_layers else []) + [OUTPUT]
        noisy = {}

        def T_of(layer: str, plane: IBPlane) -> Any:
            if self.noise is not None:  # drawn once per layer for all estimators
                if layer not in noisy:
                    noisy[layer] = self.noisy(probed.outputs if layer == OUTPUT else probed.layers[layer], layer,
                                              step)
                return noisy[layer]
            if plane.plugin and plane.estimator.device is not None:
                return probed.tensor(layer)  # the buffer, where the model left it
            return probed.outputs if layer == OUTPUT else probed.layers[layer]

        # a last hooked layer that is the model's output (a final Linear) has the output's point
        last = names[-2] if len(names) > 1 and self.noise is None else None
        buffer = probed.tensors.get(last)  # its shape without a host copy
        shape = None if last is None else tuple((probed.layers[last] if buffer is None else buffer).shape)
        same = shape == probed.outputs.shape and np.array_equal(probed.layers[last], probed.outputs)
        rows, saturated, over, negative = [], [], [], []
        for label, plane in (self.planes.items() if not self.default_rule else [(DEFAULT_IB_ESTIMATOR, None)]):
            wanted = [layer for layer in names if not (layer == OUTPUT and same)]
            if plane is None:
                found = self._default_points({layer: probed.outputs if layer == OUTPUT else probed.layers[layer]
                                              for layer in wanted})
                points = {layer: point for layer, (point, _) in found.items()}
                options = {layer: chosen for layer, (_, chosen) in found.items()}
            else:
                points, options = plane.points({layer: T_of(layer, plane) for layer in wanted}), {}
            if same:
                points[OUTPUT] = points[last]
                options[OUTPUT] = options.get(last, {})
            for layer in names:
                point = points[layer]
                for measure in _IB_MEASURES + (_INTERVALS if self.bootstrap else ()):
                    rows.append(probed.row("IB", layer, label, "", measure, getattr(point, measure)))
                for option, value in options.get(layer, {}).items():  # the parameters of this point
                    rows.append(probed.row("IB", layer, label, "", option, value))
                below = min(point.complexity, point.prediction) < -NEGATIVE_TOL
                rows.append(probed.row("IB", layer, label, "", "negative", below))
                (over if point.over_bound else saturated if point.saturated else []).append((layer, label, point))
                if below:
                    negative.append(f"layer {layer!r} ({label})")
        self._warn(saturated, over, step)
        if negative:
            _warn_negative(self.warned, ", ".join(negative), step, "I(X;T) or I(T;Y)")
        return rows

    def noisy(self, T: np.ndarray, layer: str, step: int) -> np.ndarray:
        """T + N(0, noise) (the noise-injected probe), drawn from (seed, layer, step)."""
        # crc32, not hash(): str hashes change between interpreter runs
        entropy = [self.seed, zlib.crc32(str(layer).encode()), int(step) & 0xFFFFFFFFFFFFFFFF]
        rng = np.random.default_rng(entropy)
        return T + rng.normal(0.0, math.sqrt(self.noise), size=T.shape)

    def _warn(self, saturated: list, over: list, step: int) -> None:
        """One short warning per cause for the run, naming the layers of this step."""
        if saturated and not self.default_rule:  # the default: its noise is the ruler, shown in the rows
            layers = sorted({layer for layer, _, _ in saturated}, key=[l for l, _, _ in saturated].index)
            labels = sorted({label for _, label, _ in saturated})
            warn_once(self.warned, ("saturated",), SaturationWarning,
                      f"IB plane at its ceiling (I(X;T) = log2 N or I(T;Y) = H(Y)) for {', '.join(labels)} at "
                      f"layer(s) {', '.join(layers)}, step {step}: those points carry no signal.",
                      docs_link("estimators", "saturation"))
        if over:
            layers = [layer for layer, _, _ in over]
            warn_once(self.warned, ("over_bound",), BoundWarning,
                      f"IB estimate above a bound the true value obeys at layer(s) {', '.join(dict.fromkeys(layers))}, "
                      f"step {step} (kde and gcmi estimate differential quantities): read that axis as unreliable.",
                      docs_link("estimators", "saturation"))

    def config(self) -> dict:
        config = {"ib_estimators": {k: [n, o] for k, (n, o) in self.estimators.items()}, "ib_noise": self.noise,
                  "seed": self.seed, "record_layers_ib": self.record_layers, "bootstrap": self.bootstrap}
        if self.default_rule:
            config["ib_estimators"] = "default"
            config["ib_default"] = {
                "estimator": DEFAULT_IB_ESTIMATOR, "noise_fraction": NOISE_FRACTION, "sketch_width": SKETCH_WIDTH,
                "max_samples": MAX_SAMPLES,
                "rule": (f"per layer and record: {DEFAULT_IB_ESTIMATOR} with noise_variance = {NOISE_FRACTION} x the "
                         f"median squared distance between two probe rows of the layer (layers wider than "
                         f"{SKETCH_WIDTH} sketched to {SKETCH_WIDTH} columns; probes of more than {MAX_SAMPLES} "
                         f"rows estimated on {MAX_SAMPLES} evenly spaced rows); see gib.ib_default"),
            }
        return config

    def state_dict(self) -> dict:
        # warned keys as sorted lists of str: plain data for any checkpoint format
        return {"warned": [list(key) for key in sorted(self.warned)]}

    def load_state_dict(self, state: Mapping) -> None:
        self.warned = {tuple(str(part) for part in key) for key in state.get("warned", [])}


def _feature_set(features: Any, probe_set: ProbeSet, where: str) -> np.ndarray:
    """A recorder's feature set on the probe set: an array, a transform applied once to the probe
    inputs (as the model takes them, on the host), or None for the inputs flattened; checked, and
    of the probe set's length."""
    if callable(features) and not hasattr(features, "shape"):
        import torch

        raw = probe_set.raw
        features = features(raw.cpu().numpy() if isinstance(raw, torch.Tensor) else raw)
    features = as_samples(probe_set.inputs if features is None else features, where)
    check_same_length(**{where: features, "y": probe_set.y})
    return features


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
    """One :class:`gib.references.NullReference` per GIB estimator, built from the same estimator spec
    (``estimators``, ``mi_device``) a GIB recorder is given.

    Build them once per probe set and pass them as ``null=`` to every Monitor (or
    :class:`GIBRecorder`) on that probe set: their null points are then computed once for all of
    them. A plug-in estimator (binning, discrete) is bound to the features here
    (:class:`gib.estimators.plugin.FixedInputEstimator`): the features' partitions are computed
    once, and each null point, and each of the Monitor's GIB points, reuses them.
    """
    y = as_samples(y, "y")
    y = y[:, 0] if y.shape[1] == 1 else y
    features = as_samples(features, "features")
    references = {}
    for label, (name, options) in estimator_specs(estimators, mi_device).items():
        estimator = get_estimator(name, **options)
        if isinstance(estimator, PlugInEstimator) and features.shape[1] >= 2:
            # the features' partitions once for every null point (and for the Monitor's GIB plane)
            name, options = FixedInputEstimator(estimator, features), {}
        references[label] = NullReference(features, y, family=family, n_seeds=n_seeds, estimator=name,
                                          target=gib_target, output_bins=output_bins, task=task, **options)
    return references


class GIBRecorder:
    """The GIB point of one feature set, per estimator and synergy kind (rows ``complexity``,
    ``prediction``, ``synergy``, ``joint``, and the flag ``negative``: an estimate below zero,
    module docstring), and with ``null`` the references of the plane (rows ``null_complexity``,
    ``null_prediction``, ``null_accuracy``, ``reference_complexity``, ``constant_complexity``).

    With ``bootstrap`` replicates each point gets its 95% interval (rows ``complexity_low``,
    ``complexity_high``, ``prediction_low``, ``prediction_high``) and, with ``null``, so do the
    references: ``null_complexity_low``/``_high``, ``null_prediction_low``/``_high``,
    ``reference_complexity_low``/``_high`` (C*), and ``null_difference_low``/``_high``, the
    interval of the network's complexity minus the null's. All of them come from the same
    bootstrap counts (the plane's, drawn once from ``seed``): replicate r of the network's
    point, of the null (:meth:`gib.references.NullReference.replicates_at`) and of C*
    (:meth:`gib.references.NullReference.reference_replicates`) re-estimate the same resampled
    probe set, so the difference is paired (:func:`gib.planes.difference_interval`): its
    interval accounts for what the two estimates share (the resampled probe set, much of the
    estimator's bias), which the two intervals side by side cannot. All are basic bootstrap
    intervals (:func:`gib.planes.basic_interval`) around the recorded value; the null's
    interval is that of the probe set's sampling, not the spread over its seeds.

    Parameters
    ----------
    estimators : str, list or dict
        The GIB estimators: names, or {label: (name, options)} / {name: options}.
    features : array (N, n), callable or None
        The features whose synergy is measured: an array, a transform applied once to the probe
        inputs, or None for the probe inputs flattened.
    name : str
        The feature set's label (the rows' ``layer``).
    kinds : sequence of {"featurewise", "sum_vs_whole"}
    target : {"joint", "yhat", "y"}
    output_bins : int
        Bins of regression outputs and targets.
    null : {None, "linear", "random"}, NullReference or {label: NullReference}
        The references of the plane: a family name builds the nulls at ``bind`` (see
        :func:`null_references`), an instance (one GIB estimator) or a mapping is used as is.
    null_seeds : int
        Null predictors averaged when ``null`` is a family name.
    device : optional
        Passed as ``device`` to every estimator that does not name its own.
    bootstrap, seed : int
        Replicates of each point's 95% interval (rows ``complexity_low``, ``complexity_high``,
        ``prediction_low``, ``prediction_high``, and the references' intervals with ``null``;
        0: none, else at least 20) and their seed; see :class:`gib.planes.GIBPlane`. The null's
        replicates cost ``null_seeds`` x ``bootstrap`` re-estimated points at each grid
        accuracy the run reaches, once (:class:`gib.references.NullReference`).
    """

    def __init__(self, estimators: Any = "binning", *, features: Any = None, name: str = "input",
                 kinds: Sequence[str] = ("featurewise",), target: str = "joint", output_bins: int = 30,
                 null: Any = None, null_seeds: int = 3, device: Any = None, bootstrap: int = 0, seed: int = 0):
        self.estimators = estimator_specs(estimators, device)
        for est_name, options in self.estimators.values():
            weighting_estimator(est_name, options)  # the plane weights the samples: fail now, not at a record
        if isinstance(kinds, str):
            kinds = (kinds,)
        self.kinds = tuple(one_of(k, "synergy_kinds", SYNERGY_KINDS) for k in kinds)
        self.target = one_of(target, "gib_target", GIB_TARGETS)
        self.output_bins = positive_int(output_bins, "output_bins")
        self.null_seeds = positive_int(null_seeds, "null_seeds")
        if isinstance(null, str):
            one_of(null, "null", NULL_FAMILIES)
        self.name, self._features, self._null, self.device = str(name), features, null, device
        self.bootstrap, self.seed = check_bootstrap(bootstrap), int(seed)
        self.warned: set[tuple[str, ...]] = set()

    def bind(self, probe_set: ProbeSet) -> None:
        where = "features" if self.name == "input" else f"features[{self.name!r}]"
        self.features = _feature_set(self._features, probe_set, where)
        self.y, self.task = probe_set.y, probe_set.task
        self.null = self._bind_null(self._null)
        # one plane per estimator: the features' partitions once for a plug-in estimator, shared
        # with a null built by `null_references` on these features
        self.planes = {}
        for label, (est_name, options) in self.estimators.items():
            shared = None if self.null is None else self.null[label].estimator
            if isinstance(shared, FixedInputEstimator) and shared.X.shape == self.features.shape \
                    and np.array_equal(shared.X, self.features):
                est_name, options = shared, {}
            self.planes[label] = GIBPlane(self.features, self.y, est_name, target=self.target,
                                          output_bins=self.output_bins, bootstrap=self.bootstrap, seed=self.seed,
                                          **options)

    def _bind_null(self, null: Any) -> dict[str, NullReference] | None:
        where = "`null`" if self.name == "input" else f"`null[{self.name!r}]`"
        if null is None:
            return None
        if isinstance(null, str):  # built now, to fail before any training; computed lazily
            return null_references(self.features, self.y, self.estimators, family=null, n_seeds=self.null_seeds,
                                   task=self.task, gib_target=self.target, output_bins=self.output_bins)
        if isinstance(null, NullReference):
            if len(self.estimators) > 1:
                raise ValueError(
                    f"{where} is one NullReference but there are {len(self.estimators)} GIB estimators "
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
        wanted = {"n_samples": len(self.y), "n_features": int(self.features.shape[1]),
                  "task": self.task, "target": self.target}
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

    def point(self, label: str, yhat: np.ndarray):
        """The feature-wise GIB point of the predictions ``yhat`` under estimator ``label``."""
        return self.planes[label].point(yhat)

    def rows(self, step: int, probed: Probed) -> list[dict]:
        rows = []
        accuracy = accuracy_of(probed.yhat, self.y, self.task, self.output_bins) if self.null else None
        for label, plane in self.planes.items():
            pieces, prediction = plane.pieces(probed.yhat)
            replicates = plane.replicates(probed.yhat) if self.bootstrap else None
            lowest = min(pieces.joint, prediction, np.min(pieces.single), np.min(pieces.complement))
            below = lowest < -NEGATIVE_TOL
            if below:
                _warn_negative(self.warned, f"feature set {self.name!r} ({label})", step,
                               "I(X;Z), an I(X_i;Z) or an I(X_-i;Z)")
            for kind in self.kinds:  # one leave-one-out serves every synergy kind
                synergy = synergy_from(pieces, kind=kind)
                add = lambda measure, value, kind=kind: rows.append(  # noqa: E731
                    probed.row("GIB", self.name, label, kind, measure, value))
                add("complexity", -synergy)
                add("prediction", prediction)
                add("synergy", synergy)
                add("joint", pieces.joint)
                add("negative", below)
                if replicates is not None:
                    for measure, value in plane.intervals(replicates, kind, -synergy, prediction).items():
                        add(measure, value)
                if self.null is not None:
                    null = self.null[label]
                    null_c, null_p = null.at(accuracy, kind=kind)
                    reference = null.reference_for(kind)
                    add("null_complexity", null_c)
                    add("null_prediction", null_p)
                    add("null_accuracy", accuracy)
                    add("reference_complexity", reference.complexity_star)
                    add("constant_complexity", reference.complexity_constant)
                    if replicates is not None:
                        # the same counts as the network's replicates: paired (class docstring)
                        null_cs, null_ps = null.replicates_at(accuracy, plane.counts, kind=kind)
                        network_cs = plane.replicate_values(replicates, kind)[0]
                        star_cs = null.reference_replicates(plane.counts, kind=kind)
                        for measure, (low, high) in (
                            ("null_complexity", basic_interval(null_cs, null_c)),
                            ("null_prediction", basic_interval(null_ps, null_p)),
                            ("reference_complexity", basic_interval(star_cs, reference.complexity_star)),
                            ("null_difference", difference_interval(network_cs, null_cs, -synergy, null_c)),
                        ):
                            add(f"{measure}_low", low)
                            add(f"{measure}_high", high)
        return rows

    def config(self) -> dict:
        return {"features": self.name, "n_features": int(self.features.shape[1]) if hasattr(self, "features") else None,
                "estimators": {k: [n, o] for k, (n, o) in self.estimators.items()},
                "synergy_kinds": list(self.kinds), "gib_target": self.target, "output_bins": self.output_bins,
                "null": self._null_config(), "null_seeds": self.null_seeds, "bootstrap": self.bootstrap}

    def _null_config(self) -> Any:
        null = getattr(self, "null", None)
        if null is None or isinstance(self._null, str):
            return self._null if isinstance(self._null, str) else None
        return {label: {"family": r.family, "n_seeds": r.n_seeds, "seeds": r.seeds, "resolution": r.resolution}
                for label, r in null.items()}

    def state_dict(self) -> dict:
        return {"warned": [list(key) for key in sorted(self.warned)]}

    def load_state_dict(self, state: Mapping) -> None:
        self.warned = {tuple(str(part) for part in key) for key in state.get("warned", [])}


class TimerRecorder(_Stateless):
    """What the record step cost, as metric rows: ``record_seconds`` (everything, the probe's
    forward pass included, up to this recorder) and ``mi_seconds`` (without the forward pass).
    Timings depend on the machine and its load: they are measurements, not results."""

    def rows(self, step: int, probed: Probed) -> list[dict]:
        total = time.perf_counter() - probed.started
        return [probed.row("metric", OUTPUT, "", "", "record_seconds", total),
                probed.row("metric", OUTPUT, "", "", "mi_seconds", total - probed.probe_seconds)]


class HigherOrderRecorder(_Stateless):
    """Higher-order measures of one GIB feature set (``gib.measures.HIGHER_ORDER_MEASURES``:
    ``total_correlation``, ``dual_total_correlation``, ``o_information``, ``s_information``), in
    bits, per estimator, as rows of plane ``"HOI"`` (layer: the feature set's name; measure: the
    measure's name):

    - kind ``"features"``: M(X) of the n features alone; it depends only on the probe set, so
      it is computed once, at ``bind``, and repeated at every step;
    - kind ``"prediction"``: ``M(X, Yhat) - M(X)``, what the prediction adds as an (n + 1)-th
      variable (Yhat as one code per sample: class labels, or regression outputs binned in
      ``output_bins`` bins). For TC it is I(X;Yhat); for O-information it is the gradient of
      Scagliarini et al. (2023) toward Yhat: positive when Yhat joins the redundancy among the
      features, negative when it depends on them synergistically.

    Features constant over the probe set are left out, and a constant Yhat adds exactly 0: a
    constant variable changes none of the four measures (its entropy is 0 in every subset).

    Parameters
    ----------
    measures : sequence of str
        Names from ``HIGHER_ORDER_MEASURES``.
    estimators : str, list or dict
    features : array (N, n), callable or None
        As for :class:`GIBRecorder`.
    name : str
        The feature set's label (the rows' ``layer``).
    output_bins : int
    device : optional
    """

    def __init__(self, measures: Sequence[str], *, estimators: Any = "binning", features: Any = None,
                 name: str = "input", output_bins: int = 30, device: Any = None):
        if isinstance(measures, str):
            measures = (measures,)
        self.measures = tuple(one_of(m, "higher_order", HIGHER_ORDER_MEASURES) for m in measures)
        self.estimators = estimator_specs(estimators, device)
        self.name, self._features, self.output_bins = str(name), features, positive_int(output_bins, "output_bins")

    def bind(self, probe_set: ProbeSet) -> None:
        features = _feature_set(self._features, probe_set, "features")
        self.task = probe_set.task
        self.features = features[:, ~np.all(features == features[:1], axis=0)]
        # per estimator: the features as it reads them and M(X) of every measure. A plug-in
        # estimator's bin codes are made once, on the host whatever its device, so that Yhat's
        # codes joined to them stay one code per class (binned with the features, many classes
        # would share bins)
        self._inputs, self.alone = {}, {}
        for label, (est_name, options) in self.estimators.items():
            estimator = get_estimator(est_name, **options)
            coded = isinstance(estimator, PlugInEstimator)
            self._inputs[label] = estimator.codes(self.features) if coded else self.features
            self.alone[label] = {m: self._measure(m, label, self._inputs[label]) for m in self.measures}

    def _measure(self, measure: str, label: str, X: np.ndarray) -> float:
        if X.shape[1] < 2:  # one variable (or none) has no higher-order dependence
            return 0.0
        est_name, options = self.estimators[label]
        return higher_order(measure, X, estimator=est_name, **options)

    def rows(self, step: int, probed: Probed) -> list[dict]:
        yhat = probed.yhat if self.task == "classification" else discrete_codes(probed.yhat, "yhat", self.output_bins)
        constant = bool(np.all(yhat == yhat[:1]))
        rows = []
        for label in self.estimators:
            X = self._inputs[label]
            joined = None if constant else np.column_stack([X, yhat.astype(X.dtype)])
            for measure in self.measures:
                alone = self.alone[label][measure]
                added = 0.0 if joined is None else self._measure(measure, label, joined) - alone
                rows.append(probed.row("HOI", self.name, label, "features", measure, alone))
                rows.append(probed.row("HOI", self.name, label, "prediction", measure, added))
        return rows

    def config(self) -> dict:
        return {"higher_order": list(self.measures), "features": self.name}


def default_recorders(
    *,
    estimators: Any = None,
    ib_estimators: Any = None,
    features: Any = None,
    features_name: str = "input",
    synergy_kinds: Sequence[str] = ("featurewise",),
    gib_target: str = "joint",
    output_bins: int = 30,
    ib_input: Any = None,
    record_layers_ib: bool = True,
    mi_device: Any = None,
    ib_noise: float | None = None,
    seed: int = 0,
    null: Any = None,
    null_seeds: int = 3,
    timer: bool = False,
    higher_order: Sequence[str] = (),
    bootstrap: int = 0,
) -> list:
    """The Monitor's default recorders, from the options of the two planes.

    ``Monitor(model, X, y)`` uses ``default_recorders()``; pass ``recorders=default_recorders(...)``
    to change an option, and add your own recorders to the list (module docstring).

    With no estimator named, the GIB plane uses ``binning`` and the IB plane the IB default
    rule (:mod:`gib.ib_default`: ``kde_upper`` with a noise set from each layer's own spread,
    so that the IB plane of an ordinary network is not at its ceiling).

    Parameters
    ----------
    estimators : str, list or dict, optional
        Estimators of both planes: names, or {label: (name, options)} / {name: options}.
        Default: ``binning`` for the GIB plane, the IB default rule for the IB plane.
    ib_estimators : optional
        Estimators of the IB plane when they differ from ``estimators``: names as above, or
        ``"default"`` for the IB default rule; ``[]`` records no IB plane.
    features : array (N, n), callable or {name: array}, optional
        GIB input features: the raw inputs flattened (default), a precomputed array, a transform
        applied once to X (e.g. a fitted Kernel PCA's ``transform``), or several named feature
        sets, each recorded as its own GIB plane from the same probe pass.
    features_name : str
        Label of the GIB feature set in the results ("input" by default; with a dict of feature
        sets, their names).
    synergy_kinds : sequence of {"featurewise", "sum_vs_whole"}
    gib_target : {"joint", "yhat", "y"}
        Z = (Yhat, Y) (default), or Yhat or Y alone.
    output_bins : int
        Bins of regression outputs (Yhat = the output binned like Y).
    ib_input : array, optional
        The X of I(X;T) (default: the raw inputs flattened).
    record_layers_ib : bool
        Record the IB plane of the hooked layers (the output's is always recorded).
    mi_device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Passed as ``device`` to every estimator: the leave-one-out computations of the GIB plane
        then run in torch there (e.g. on the model's GPU); None: NumPy.
    ib_noise : float, optional
        Variance s2 of Gaussian noise added to every IB layer's T (the output included) before its
        IB point is estimated: the noise-injected probe T + N(0, s2 I), whose I(X;T) is finite for
        a deterministic network (use it with ``kde`` or ``gcmi``; choose s2 against the
        activations' scale: Saxe et al. use 1e-3 for the 12-bit task, 0.1 for MNIST). With
        ``binning`` and distinct probe inputs it changes nothing: fewer bins are the remedy there.
    seed : int
        Seed of ``ib_noise``: the draw of a record step comes from (seed, layer, step), so a
        resumed run adds the same noise as an uninterrupted one.
    null : {None, "linear", "random"}, NullReference or mapping
        References of the GIB plane (C* and null predictors at the measured accuracy): a family
        name builds them per feature set and estimator; an instance (one GIB estimator) or
        {label: NullReference} is used as is (:func:`null_references` shares one between
        Monitors); with several feature sets, a mapping from each set's name to one of those.
    null_seeds : int
        Null predictors averaged when ``null`` is a family name.
    timer : bool
        Add the cost of every record step as metric rows ``record_seconds`` and ``mi_seconds``.
    higher_order : sequence of str
        Higher-order measures of each GIB feature set (:class:`HigherOrderRecorder`).
    bootstrap : int
        Replicates of the 95% interval of every IB and GIB point (rows ``complexity_low``,
        ``complexity_high``, ``prediction_low``, ``prediction_high``), drawn from ``seed``; 0
        (default): none, else at least 20. With ``null``, the references' intervals too
        (``null_complexity_low``/``_high``, ``null_prediction_low``/``_high``,
        ``reference_complexity_low``/``_high``) and the paired interval of the network's
        complexity minus the null's (``null_difference_low``/``_high``), from the same
        replicates (:class:`GIBRecorder`). 200 is a good choice; a GIB point then takes about a hundred
        points' time for a plug-in estimator (batched replicates) and about 200 for the others, a
        plug-in IB point a few bincounts more, and the null ``null_seeds`` x 200 re-estimated
        points once at each grid accuracy the run reaches.

    Returns
    -------
    list
        Metrics, IB, one GIB per feature set, then the higher-order and timer recorders asked for.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
    if ib_noise is not None:
        from ._validation import positive_float

        ib_noise = positive_float(ib_noise, "ib_noise")
    if mi_device is not None:
        from . import _xp

        _xp.as_device(mi_device, "mi_device")  # errors name this argument
    ib_specs = ib_estimators if ib_estimators is not None else ("default" if estimators is None else estimators)
    estimators = "binning" if estimators is None else estimators
    gib_labels = set(estimator_specs(estimators))  # errors name `estimators`, before the IB plane's
    if isinstance(features, Mapping):
        if not features:
            raise ValueError("`features` is an empty mapping; give {name: features} or leave it None.")
        sets = {str(name): f for name, f in features.items()}
    else:
        sets = {features_name: features}
    names = list(sets)
    nulls = {name: null for name in names}
    if isinstance(null, Mapping) and not isinstance(null, NullReference):
        if set(null) == set(names) and (len(names) > 1 or names[0] not in gib_labels):
            nulls = dict(null)
        elif len(names) > 1:
            raise ValueError(f"`null` for {len(names)} feature sets must map each of {names} to its null.")
    elif isinstance(null, NullReference) and len(names) > 1:
        raise ValueError(f"`null` for {len(names)} feature sets must map each of {names} to its null.")
    recorders: list = [MetricsRecorder()]
    if not (isinstance(ib_specs, (list, tuple, Mapping)) and len(ib_specs) == 0):
        recorders.append(IBRecorder(ib_specs, X=ib_input, layers=record_layers_ib, noise=ib_noise, seed=seed,
                                    device=mi_device, bootstrap=bootstrap))
    for name, f in sets.items():
        recorders.append(GIBRecorder(estimators, features=f, name=name, kinds=synergy_kinds, target=gib_target,
                                     output_bins=output_bins, null=nulls[name], null_seeds=null_seeds,
                                     device=mi_device, bootstrap=bootstrap, seed=seed))
    if higher_order:
        recorders += [HigherOrderRecorder(higher_order, estimators=estimators, features=f, name=name,
                                          output_bins=output_bins, device=mi_device) for name, f in sets.items()]
    if timer:
        recorders.append(TimerRecorder())
    return recorders


#: the options of :func:`default_recorders`, by name
RECORDER_OPTIONS = frozenset(inspect.signature(default_recorders).parameters)


def take_recorders(options: dict, **defaults: Any) -> list:
    """The recorders a caller's keyword ``options`` ask for, taken out of ``options`` (which keeps
    the Monitor's own): ``options["recorders"]`` when given, else :func:`default_recorders` of
    ``defaults`` updated with the options it takes. What the trainer callbacks do with the
    keywords they pass on to their Monitor."""
    chosen = {name: options.pop(name) for name in list(options) if name in RECORDER_OPTIONS}
    recorders = options.pop("recorders", None)
    if recorders is None:
        return default_recorders(**{**defaults, **chosen})
    if chosen:
        raise TypeError(f"pass {', '.join(sorted(chosen))} to gib.default_recorders(...), not beside `recorders=`.")
    return list(recorders)
