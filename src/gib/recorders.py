"""Recorders: each turns one probed record step into tidy rows and keeps its own state.

A :class:`gib.Monitor` probes the model once per record step (:class:`gib.monitor.Probe`) and
hands the :class:`Probed` step to each of its recorders in turn, concatenating their rows
(STYLE.md, "A new measurement is a recorder, not a subclass"):

- :class:`MetricsRecorder`: accuracy and loss on the probe set, the probe size, the caller's metrics;
- :class:`IBRecorder`: the IB point of every probed layer, per estimator, with its saturation flags;
- :class:`GIBRecorder`: the GIB point of one feature set, per estimator and synergy kind, with the
  task's C* and the null predictors at the measured accuracy (SPEC 2); one per feature set;
- :class:`TimerRecorder`: what the record step cost;
- :class:`HigherOrderRecorder`: higher-order measures (O-information and its relatives) of one
  GIB feature set, alone and with the prediction joined (plane ``"HOI"``); the Monitor's
  ``higher_order`` option, off by default.

Work that depends only on the fixed probe set is done once, when a recorder is built: the IB
plane's ceilings H(X), H(Y) and the dense codes of X and Y; for the GIB plane, the partitions of
the features into distinct rows of X, of every X_i and of every X_-i, and the targets' codes.

The IB fast path (plug-in estimators, SPEC 3)
---------------------------------------------
A plug-in estimate depends only on the partition of the samples into distinct code rows. So each
layer's T is binned once per record and reduced to one dense code per sample
(:func:`gib.estimators.row_codes`); I(X;T) and I(T;Y) are then plug-in informations between
that code and the dense codes of X and Y computed when the recorder was built: one pass over the
wide activations per layer instead of six, and the same numbers as ``ib_point`` on T (a test
checks it against the direct computation).

The GIB fast path (plug-in estimators)
--------------------------------------
The features are fixed, so their partitions (X, every X_i, every X_-i) are computed once
(:class:`gib.estimators.plugin.SubsetCodes`, held by a
:class:`gib.estimators.plugin.FixedInputEstimator`), and Y's codes: a record step codes Yhat and
Z = (Yhat, Y), computes the PMI weights and combines Z's codes with those partitions, one
``bincount`` per block of subsets: the same numbers as ``gib_point`` (tests check it against
the direct computation). The null references built by
:func:`gib.monitor.null_references` hold the same estimator, so the null's points, computed
lazily at each new grid accuracy, cost the same few bincounts.

Negative estimates
------------------
A mutual information is >= 0, but the ``kde`` and ``gcmi`` estimators can return a negative
value for (nearly) independent variables, an estimator bias. Each IB and GIB point gets a row
``negative`` (1.0 or 0.0, like ``saturated``): 1.0 when one of its informations (IB: I(X;T),
I(T;Y); GIB: I(X;Z), any I(X_i;Z) or I(X_-i;Z), I(Yhat;Y)) is below ``-NEGATIVE_TOL`` bits, and
a :class:`NegativeInformationWarning` once per layer (feature set) and estimator for the run.

Every row is a dict with the columns of :data:`COLUMNS`.
"""

from __future__ import annotations

import math
import time
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ._validation import as_device_samples, as_samples, one_of, to_numpy
from .estimators import LeaveOneOut, get_estimator
from .estimators import PlugInEstimator, code_information, discrete_codes, row_codes
from .estimators.plugin import FixedInputEstimator, code_informations
from .exceptions import NegativeInformationWarning, SaturationWarning
from .measures import HIGHER_ORDER_MEASURES, higher_order, pmi_weights, synergy_from
from .planes import GIBPoint, IBPoint, binned_agreement, gib_point, ib_ceilings, ib_point, ib_point_warnings
from .references import NullReference

#: bits below zero that count as a negative estimate: plug-in estimates are >= 0 up to rounding
NEGATIVE_TOL = 1e-12


def _warn_negative(warned: set, layer: str, label: str, step: int, what: str) -> None:
    """Warn once per run for (layer, estimator) that an estimate is below zero."""
    key = (str(layer), str(label), NegativeInformationWarning.__name__)
    if key not in warned:
        warned.add(key)
        warnings.warn(f"{what} is below zero at layer {layer!r}, estimator {label!r}, step {step}: an estimator bias "
                      "(the true value is >= 0); the point is flagged `negative` in the frame. (Warned once per "
                      "layer and estimator for this run.)", NegativeInformationWarning, stacklevel=5)


COLUMNS = ["step", "epoch", "plane", "layer", "estimator", "kind", "measure", "value"]
OUTPUT = "output"  #: the layer name of the model's output


@dataclass
class Probed:
    """One record step's probe of the model: what every recorder reads."""

    step: int
    epoch: float
    layers: dict[str, np.ndarray]  #: T of every hooked layer, (N, width)
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


class Recorder(Protocol):
    def rows(self, probed: Probed) -> list[dict]: ...  # tidy rows for one step
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: Mapping) -> None: ...


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
    size ``n_probe`` (it sets the phase rule's noise floor, SPEC 2) and the caller's metrics."""

    def __init__(self, y: np.ndarray, task: str):
        self.y, self.task = y, task

    def rows(self, probed: Probed) -> list[dict]:
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


class IBRecorder:
    """The IB point (I(X;T), I(T;Y)) of every probed layer and of the output, per estimator, with
    the saturation flags and ceilings of ``gib.planes.ib_point`` (rows ``complexity``,
    ``prediction``, ``saturated``, ``over_bound``, ``complexity_ceiling``, ``prediction_ceiling``)
    and the flag ``negative`` (an estimate below zero, module docstring).

    Warns once per layer, estimator and kind of warning for the whole run (``SaturationWarning``,
    ``BoundWarning``, ``NegativeInformationWarning``); which have warned is part of the state, so
    a resumed run does not warn again.

    Parameters
    ----------
    X : array (N, d)
        The X of I(X;T).
    y : array (N,) or (N, k)
    estimators : {label: (name, options)}
    layers : bool
        Whether the hooked layers are recorded (the output always is).
    noise, seed
        The noise-injected probe: T + N(0, noise) drawn from (seed, layer, step) (``Monitor``'s
        ``ib_noise``), or None.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, estimators: dict[str, tuple[str, dict]], *,
                 layers: bool = True, noise: float | None = None, seed: int = 0):
        self.X, self.y, self.estimators = X, y, estimators
        self.record_layers, self.noise, self.seed = layers, noise, seed
        self.tolerance = math.log2(len(y)) / len(y)  # ib_point's default
        self.ceilings = {label: ib_ceilings(X, y, name, **options) for label, (name, options) in estimators.items()}
        # the plug-in fast path: the dense codes of X and Y under each plug-in estimator, once
        # (with a `device`, T is coded on the device and only its dense codes come to the host)
        self._codes: dict[str, tuple[PlugInEstimator, np.ndarray, np.ndarray]] = {}
        self._counts: dict[str, list[np.ndarray]] = {}  #: {label: the counts of X's and Y's codes}
        for label, (name, options) in estimators.items():
            estimator = get_estimator(name, **options)
            if isinstance(estimator, PlugInEstimator):
                self._codes[label] = (estimator, row_codes(estimator.compact_codes(as_samples(X, "X"))),
                                      row_codes(estimator.compact_codes(as_samples(y, "y"))))
                self._counts[label] = [np.bincount(codes) for codes in self._codes[label][1:]]
        self.warned: set[tuple[str, str, str]] = set()

    def point(self, label: str, T: Any, t_codes: np.ndarray | None = None) -> IBPoint:
        """The IB point of one layer's T (an array, or a tensor for an estimator with a
        ``device``) under estimator ``label`` (flags and ceilings included); ``t_codes``, optional:
        T's row codes (or row keys, ``row_codes(..., dense=False)``) under a plug-in estimator when
        they are known (:func:`_narrow_codes`)."""
        name, options = self.estimators[label]
        if label not in self._codes:
            return ib_point(T, self.X, self.y, name, warn=False, ceilings=self.ceilings[label], **options)
        estimator, x_codes, y_codes = self._codes[label]
        if t_codes is None and estimator.device is None:
            T = as_samples(T, "T")
            t_codes = _distinct_rows(estimator, T)
            if t_codes is None:
                if T.shape[1] < _NARROW:
                    # column extremes of a narrow C-ordered T are slow (NumPy's inner loop runs
                    # along its few columns); on a column-major copy they are ~15x faster
                    T = np.asfortranarray(T)
                t_codes = estimator.compact_row_codes(T, dense=False)  # row keys: counted by sorting
        elif t_codes is None:
            t_codes = to_numpy(row_codes(estimator.codes(as_device_samples(T, "T", estimator.device))))
        # the plug-in informations of the partitions into distinct rows
        bias = estimator.bias == "miller-madow"
        complexity, prediction = code_informations(t_codes, [x_codes, y_codes], bias, self._counts[label])
        return IBPoint.flagged(complexity, prediction, *self.ceilings[label], self.tolerance)

    def rows(self, probed: Probed) -> list[dict]:
        names = (list(probed.layers) if self.record_layers else []) + [OUTPUT]
        noisy = {}

        def T_of(layer: str, label: str) -> Any:
            if self.noise is not None:  # drawn once per layer for all estimators
                if layer not in noisy:
                    noisy[layer] = self.noisy(probed.outputs if layer == OUTPUT else probed.layers[layer], layer,
                                              probed.step)
                return noisy[layer]
            if label in self._codes and self._codes[label][0].device is not None:
                return probed.tensor(layer)  # the buffer, where the model left it
            return probed.outputs if layer == OUTPUT else probed.layers[layer]

        # a last hooked layer that is the model's output (a final Linear) has the output's point
        last = names[-2] if len(names) > 1 and self.noise is None else None
        buffer = probed.tensors.get(last)  # its shape without a host copy
        shape = None if last is None else tuple((probed.layers[last] if buffer is None else buffer).shape)
        same = shape == probed.outputs.shape and np.array_equal(probed.layers[last], probed.outputs)
        rows, flagged, negative = [], [], []
        for label in self.estimators:
            points = {}
            coded = {}  # the narrow layers' row codes, binned side by side on the host
            if self.noise is None and label in self._codes and self._codes[label][0].device is None:
                coded = _narrow_codes(self._codes[label][0], {layer: T_of(layer, label) for layer in names
                                                              if not (layer == OUTPUT and same)})
            for layer in names:
                if layer == OUTPUT and same:
                    point = points[last]
                else:
                    point = points[layer] = self.point(label, T_of(layer, label), coded.get(layer))
                for measure in ("complexity", "prediction", "saturated", "over_bound", "complexity_ceiling",
                                "prediction_ceiling"):
                    rows.append(probed.row("IB", layer, label, "", measure, getattr(point, measure)))
                below = min(point.complexity, point.prediction) < -NEGATIVE_TOL
                rows.append(probed.row("IB", layer, label, "", "negative", below))
                if point.saturated or point.over_bound:
                    flagged.append((layer, label, point))
                if below:
                    negative.append((layer, label))
        for layer, label, point in flagged:
            self._warn_once(layer, label, point, probed.step)
        for layer, label in negative:
            _warn_negative(self.warned, layer, label, probed.step, "I(X;T) or I(T;Y)")
        return rows

    def noisy(self, T: np.ndarray, layer: str, step: int) -> np.ndarray:
        """T + N(0, noise) (the noise-injected probe), drawn from (seed, layer, step)."""
        # crc32, not hash(): str hashes change between interpreter runs
        entropy = [self.seed, zlib.crc32(str(layer).encode()), int(step) & 0xFFFFFFFFFFFFFFFF]
        rng = np.random.default_rng(entropy)
        return T + rng.normal(0.0, math.sqrt(self.noise), size=T.shape)

    def _warn_once(self, layer: str, label: str, point: IBPoint, step: int) -> None:
        where = f"layer {layer!r}, estimator {label!r}, step {step}"
        for category, message in ib_point_warnings(point, self.tolerance, where):
            key = (str(layer), str(label), category.__name__)
            if key not in self.warned:
                self.warned.add(key)
                warnings.warn(message + " (Warned once per layer and estimator for this run.)", category,
                              stacklevel=5)

    def state_dict(self) -> dict:
        # warned keys as sorted lists of str: plain data for any checkpoint format
        return {"warned": [list(key) for key in sorted(self.warned)]}

    def load_state_dict(self, state: Mapping) -> None:
        self.warned = {tuple(str(part) for part in key) for key in state.get("warned", [])}


_NARROW = 64  #: layers narrower than this are binned from a column-major copy


_SAMPLED_BLOCKS, _BLOCK_COLUMNS = 16, 32  #: the column sample of a wide T: 16 runs of 32 columns


def _distinct_rows(estimator: PlugInEstimator, T: np.ndarray) -> np.ndarray | None:
    """Dense codes of the rows of a wide T when a sample of its columns already tells every row
    apart, else None.

    Exact: the plug-in codes are a function of each column alone (binning over the column's own
    range, or its own values), so rows that differ on some columns' codes differ on all of T's,
    and T's partition is then the finest one, whatever the other columns hold. A wide layer
    of a network usually tells its N probe rows apart (the IB plane saturates there): this costs a
    sample of 512 contiguous-run columns instead of binning and sorting every column."""
    N, d = T.shape
    if d < 4 * _SAMPLED_BLOCKS * _BLOCK_COLUMNS:
        return None
    starts = np.linspace(0, d - _BLOCK_COLUMNS, _SAMPLED_BLOCKS).astype(np.int64)
    sample = np.concatenate([T[:, start : start + _BLOCK_COLUMNS] for start in starts], axis=1)
    codes = estimator.compact_row_codes(sample)
    return codes if int(codes.max()) + 1 == N else None


def _narrow_codes(estimator: PlugInEstimator, layers: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The row codes of every narrow float32 layer (fewer than ``_NARROW`` columns), binned side
    by side in one column-major copy: {layer: codes}, empty where there is nothing to share. The
    codes are row keys where ranking them would take a sort (``row_codes(..., dense=False)``):
    ``code_informations`` counts them by sorting, with the numbers of the dense codes.

    A plug-in estimator codes each column on its own, so the codes are those of each layer coded
    alone (``estimator.compact_row_codes``); one copy, one finiteness check and one binning pass
    serve all the layers instead of a dozen small NumPy calls each. A non-finite sum (a NaN, an
    infinity, or an overflow) leaves every layer to its own check, and its error."""
    narrow = {layer: T for layer, T in layers.items() if isinstance(T, np.ndarray) and T.ndim == 2
              and T.dtype == np.float32 and 2 <= len(T) and T.shape[1] < _NARROW}
    if len(narrow) < 2 or len({len(T) for T in narrow.values()}) > 1:
        return {}
    blocks, start = [], 0
    for T in narrow.values():
        blocks.append((start, start + T.shape[1]))
        start += T.shape[1]
    # column-major: the column extremes of binning are ~15x faster there than on a narrow C-ordered T
    stack = np.empty((len(next(iter(narrow.values()))), start), dtype=np.float32, order="F")
    for T, (start, stop) in zip(narrow.values(), blocks):
        stack[:, start:stop] = T
    with np.errstate(all="ignore"):
        if not np.isfinite(np.sum(stack)):
            return {}
    return dict(zip(narrow, estimator.compact_row_codes(stack, blocks, dense=False)))


class GIBRecorder:
    """The GIB point of one feature set, per estimator and synergy kind (rows ``complexity``,
    ``prediction``, ``synergy``, ``joint``, and the flag ``negative``: an estimate below zero,
    module docstring), and with ``null`` the references of the plane (rows ``null_complexity``,
    ``null_prediction``, ``null_accuracy``, ``reference_complexity``, ``constant_complexity``;
    SPEC 2, "References for the GIB plane").

    With a plug-in estimator (``binning``, ``discrete``) the features' partitions are computed
    once, here (module docstring); other estimators run ``gib_point`` at every record step.
    Warns with ``NegativeInformationWarning`` once per estimator for the run (kept in the state).

    Parameters
    ----------
    features : array (N, n)
    name : str
        The feature set's label (the rows' ``layer``).
    y : array
    estimators : {label: (name, options)}
    kinds : sequence of {"featurewise", "sum_vs_whole"}
    target : {"joint", "yhat", "y"}
    output_bins : int
    task : {"classification", "regression"}
    null : {label: NullReference} or None
    """

    def __init__(self, features: np.ndarray, name: str, y: np.ndarray, estimators: dict[str, tuple[str, dict]], *,
                 kinds: tuple[str, ...], target: str, output_bins: int, task: str,
                 null: dict[str, NullReference] | None = None):
        self.name, self.y, self.estimators = name, y, estimators
        self.kinds, self.target, self.output_bins, self.task = kinds, target, output_bins, task
        self.features = features
        self.null = null
        self.warned: set[tuple[str, str, str]] = set()
        # the features' partitions, once: a plug-in estimate depends only on them (SPEC 3); a null
        # built by `gib.monitor.null_references` on these features holds them already
        self.bound: dict[str, FixedInputEstimator] = {}  #: {label: the plug-in estimator bound to the features}
        for label, (est_name, options) in estimators.items():
            shared = None if null is None else null[label].estimator
            if isinstance(shared, FixedInputEstimator) and shared.X.shape == features.shape \
                    and np.array_equal(shared.X, features):
                self.bound[label] = shared
                continue
            estimator = get_estimator(est_name, **options)
            if isinstance(estimator, PlugInEstimator) and features.shape[1] >= 2:
                self.bound[label] = FixedInputEstimator(estimator, features)
        self._y_codes = discrete_codes(y, "y", output_bins) if self.bound else None
        self._y_size = None if self._y_codes is None else int(self._y_codes.max()) + 1

    def point(self, label: str, yhat: np.ndarray) -> GIBPoint:
        """The feature-wise GIB point of the predictions ``yhat`` under estimator ``label``:
        ``gib_point(features, yhat, y, ...)``, from the features' partitions for a plug-in one."""
        if label not in self.bound:
            est_name, options = self.estimators[label]
            with warnings.catch_warnings():
                # GIB's joint I(X;Z) saturates whenever the inputs are distinct (the 12-bit task's
                # 4096 patterns are), and the synergy's pieces still carry the measure
                warnings.simplefilter("ignore", SaturationWarning)
                return gib_point(self.features, yhat, self.y, est_name, kind="featurewise", target=self.target,
                                 output_bins=self.output_bins, **options)
        # gib_point's steps (SPEC 2) on codes, Y's computed once: Z, P = I(Yhat;Y), the PMI
        # weights, and the leave-one-out from the partitions. gib_point on the bound estimator gives
        # the same numbers, but its per-call checks and Y's codes cost 0.8-1.1 ms a record on the
        # 12-bit MLP, a sixth of the record step
        a, b = discrete_codes(yhat, "yhat", self.output_bins), self._y_codes
        # Z's columns are dense codes: their sizes spare row_codes a pass for the maxima
        z = {"joint": lambda: row_codes(np.column_stack([a, b]), sizes=(int(a.max()) + 1, self._y_size)),
             "yhat": lambda: a, "y": lambda: b}[self.target]()
        bound = self.bound[label]
        pieces = bound.subsets.leave_one_out(z, pmi_weights(a, b), bound.bias == "miller-madow")
        return GIBPoint.of(pieces, code_information(a, b), target=self.target)

    def rows(self, probed: Probed) -> list[dict]:
        rows = []
        accuracy = accuracy_of(probed.yhat, self.y, self.task, self.output_bins) if self.null else None
        for label in self.estimators:
            point = self.point(label, probed.yhat)
            pieces = LeaveOneOut(point.joint, point.single, point.complement)
            lowest = min(point.joint, point.prediction, np.min(point.single), np.min(point.complement))
            below = lowest < -NEGATIVE_TOL
            if below:
                _warn_negative(self.warned, self.name, label, probed.step, "I(X;Z), an I(X_i;Z) or an I(X_-i;Z)")
            for kind in self.kinds:  # one leave-one-out serves every synergy kind
                synergy = synergy_from(pieces, kind)
                add = lambda measure, value, kind=kind: rows.append(  # noqa: E731
                    probed.row("GIB", self.name, label, kind, measure, value))
                add("complexity", -synergy)
                add("prediction", point.prediction)
                add("synergy", synergy)
                add("joint", point.joint)
                add("negative", below)
                if self.null is not None:
                    null_c, null_p = self.null[label].at(accuracy, kind=kind)
                    reference = self.null[label].reference_for(kind)
                    add("null_complexity", null_c)
                    add("null_prediction", null_p)
                    add("null_accuracy", accuracy)
                    add("reference_complexity", reference.complexity_star)
                    add("constant_complexity", reference.complexity_constant)
        return rows

    def state_dict(self) -> dict:
        return {"warned": [list(key) for key in sorted(self.warned)]}

    def load_state_dict(self, state: Mapping) -> None:
        self.warned = {tuple(str(part) for part in key) for key in state.get("warned", [])}


class TimerRecorder(_Stateless):
    """What the record step cost, as metric rows: ``record_seconds`` (everything, the probe's
    forward pass included, up to this recorder) and ``mi_seconds`` (without the forward pass).
    Timings depend on the machine and its load: they are measurements, not results."""

    def rows(self, probed: Probed) -> list[dict]:
        total = time.perf_counter() - probed.started
        return [probed.row("metric", OUTPUT, "", "", "record_seconds", total),
                probed.row("metric", OUTPUT, "", "", "mi_seconds", total - probed.probe_seconds)]


class HigherOrderRecorder(_Stateless):
    """Higher-order measures of one GIB feature set (``gib.measures.HIGHER_ORDER_MEASURES``:
    ``total_correlation``, ``dual_total_correlation``, ``o_information``, ``s_information``), in
    bits, per estimator, as rows of plane ``"HOI"`` (layer: the feature set's name; measure: the
    measure's name):

    - kind ``"features"``: M(X) of the n features alone; it depends only on the probe set, so
      it is computed once, when the recorder is built, and repeated at every step;
    - kind ``"prediction"``: ``M(X, Yhat) - M(X)``, what the prediction adds as an (n + 1)-th
      variable (Yhat as one code per sample: class labels, or regression outputs binned in
      ``output_bins`` bins). For TC it is I(X;Yhat); for O-information it is the gradient of
      Scagliarini et al. (2023) toward Yhat: positive when Yhat joins the redundancy among the
      features, negative when it depends on them synergistically.

    Features constant over the probe set are left out, and a constant Yhat adds exactly 0: a
    constant variable changes none of the four measures (its entropy is 0 in every subset).

    Parameters
    ----------
    features : array (N, n)
    name : str
        The feature set's label (the rows' ``layer``).
    estimators : {label: (name, options)}
    measures : sequence of str
        Names from ``HIGHER_ORDER_MEASURES``.
    task : {"classification", "regression"}
    output_bins : int
    """

    def __init__(self, features: np.ndarray, name: str, estimators: dict[str, tuple[str, dict]], *,
                 measures: tuple[str, ...], task: str, output_bins: int):
        if isinstance(measures, str):
            measures = (measures,)
        self.measures = tuple(one_of(m, "higher_order", HIGHER_ORDER_MEASURES) for m in measures)
        self.name, self.estimators, self.task, self.output_bins = name, estimators, task, output_bins
        self.features = features[:, ~np.all(features == features[:1], axis=0)]
        # per estimator: the features as it reads them and M(X) of every measure. A plug-in
        # estimator's bin codes are made once, on the host whatever its device, so that Yhat's
        # codes joined to them stay one code per class (binned with the features, many classes
        # would share bins)
        self._inputs, self.alone = {}, {}
        for label, (est_name, options) in estimators.items():
            estimator = get_estimator(est_name, **options)
            coded = isinstance(estimator, PlugInEstimator)
            self._inputs[label] = estimator.codes(self.features) if coded else self.features
            self.alone[label] = {m: self._measure(m, label, self._inputs[label]) for m in self.measures}

    def _measure(self, measure: str, label: str, X: np.ndarray) -> float:
        if X.shape[1] < 2:  # one variable (or none) has no higher-order dependence
            return 0.0
        est_name, options = self.estimators[label]
        return higher_order(measure, X, est_name, **options)

    def rows(self, probed: Probed) -> list[dict]:
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
