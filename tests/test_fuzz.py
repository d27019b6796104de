"""No silent nonsense and no raw tracebacks (issue 12): a fuzz of the public API.

Every call either returns finite values within the information bounds (plug-in estimators:
0 <= I(A;B) <= min(H(A), H(B)); entropies >= 0) or raises ValueError/TypeError whose message
names one of the call's arguments in backticks. The inputs are drawn from the categories that
broke before: huge, tiny and extreme values, int64/uint64 extremes, floats >= 2^63, NaN and inf,
constant columns, one sample, mismatched lengths, wrong shapes, ragged lists, bool and string
dtypes, float16/bfloat16 tensors, bad option values and bad weights. The issue's one-line
repros are explicit cases at the end, each with its exact value or error.

A RuntimeWarning (overflow, invalid value) is an error under the project's pytest settings, so
a computation that overflows on the way fails here even when its result looks right.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import gib
import gib._validation

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

torch = pytest.importorskip("torch")

ESTIMATORS = ("discrete", "binning", "kde", "kde_upper", "gcmi", "ksg", "renyi")
PLUGIN = ("discrete", "binning")
TOL = 1e-9  # bits
CALLS = {"fuzz": 0, "returned": 0, "raised": 0}  # the fuzz tests' calls (printed at the end with -s)
# GIB_FUZZ_EXAMPLES=5000 for a longer fuzz (the default keeps the file under a minute)
EXAMPLES = int(os.environ.get("GIB_FUZZ_EXAMPLES", "600"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def teardown_module(module):
    print(f"\ntest_fuzz: {CALLS['fuzz']} public-API calls, {CALLS['returned']} returned, {CALLS['raised']} raised")


# -- the oracle -------------------------------------------------------------------------------
def _names(fn, kwargs) -> set[str]:
    """The argument names a message may blame: the function's parameters and the options given."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    return set(inspect.signature(target).parameters) | set(kwargs)


def _quoted(message: str) -> set[str]:
    """The identifiers that start each backtick-quoted span (`X[:, ...]` counts as X)."""
    found = set()
    for span in re.findall(r"`([^`]+)`", message):
        match = re.match(r"\W*([A-Za-z_]\w*)", span)
        if match:
            found.add(match.group(1))
    return found


def call(fn, *args, also: tuple[str, ...] = (), **kwargs):
    """``fn(*args, **kwargs)``, or None if it raised a ValueError/TypeError naming an argument
    (of ``fn``, or one of ``also``: the constructor's, for a method of an object).

    Positional arguments are passed by name so that the oracle knows which names exist.
    """
    CALLS["fuzz"] += 1
    params = list(inspect.signature(fn.__init__ if inspect.isclass(fn) else fn).parameters)
    if inspect.isclass(fn):
        params = params[1:]
    kwargs = {**dict(zip(params, args)), **kwargs}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gib.SaturationWarning)
            warnings.simplefilter("ignore", gib.BoundWarning)
            result = fn(**kwargs)
        CALLS["returned"] += 1
        return result
    except (ValueError, TypeError) as error:
        CALLS["raised"] += 1
        if os.environ.get("GIB_FUZZ_VERBOSE"):  # which errors the fuzz meets, and how often
            print("raised", fn.__name__, str(error)[:100])
        names = _names(fn, kwargs) | set(also)
        assert _quoted(str(error)) & names, (
            f"{fn.__name__}: {type(error).__name__} names none of {sorted(names)} in backticks: {error}"
        )
        return None


def finite(*values) -> bool:
    return all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for v in values)


def _kind(a) -> str:
    try:
        return gib._validation.as_array(a, "a").dtype.kind
    except (TypeError, ValueError):
        return "?"


def symmetric(estimator, a, b) -> bool:
    """Whether I(A;B) = I(B;A) holds for these inputs: always for the plug-in estimators and renyi
    (both sides enter alike); for gcmi, kde and ksg when both sides are floating-point (a label
    side is treated otherwise); never for kde_upper (noise on the first side only)."""
    if estimator in PLUGIN or estimator == "renyi":
        return True
    return estimator in ("gcmi", "kde", "ksg") and _kind(a) == "f" and _kind(b) == "f"


def shifted_uint64(estimator, options, X) -> bool:
    """Whether torch computes the subsets of X at another origin than NumPy's ``gib.entropy``:
    uint64 values of 2^63 and more, which torch's int64 holds only shifted by -2^63 (exact and in
    order, but a continuous estimator's float64 then rounds the small values differently)."""
    on_torch = (torch.is_tensor(X) or "device" in options) and estimator not in PLUGIN
    data = gib._validation.as_array(X, "X") if on_torch else None
    return on_torch and data.dtype == np.uint64 and bool(data.size) and int(data.max()) >= 2**63


def plain(estimator, options) -> bool:
    """Whether the plug-in bounds hold exactly: a plug-in estimator without Miller-Madow."""
    return estimator in PLUGIN and options.get("bias", "none") == "none"


# -- inputs -----------------------------------------------------------------------------------
# Each aspect of an input is drawn from its good values, or with probability BAD from its bad
# ones, so that about half of the calls get through to an estimate. Hypothesis draws one seed
# per example and a generator makes every choice from it: hypothesis' own choices favour the
# ends of their ranges (and repeat them), which would skew these proportions.
BAD = 0.12
CATEGORIES = (
    "normal", "normal", "scaled", "extreme_float", "int", "int64_extreme", "uint64_extreme",
    "big_whole", "bool", "labels", "constant", "float16", "float32",
)
BAD_CATEGORIES = ("nan", "inf", "labels")
FORMS = ("numpy",) * 6 + ("list", "tensor", "bfloat16")
BAD_FORMS = ("ragged", "3d", "scalar")
SIZES = (3, 5, 8, 16)
BAD_SIZES = (1, 2)
WEIGHTS = (None, None, None, "uniform", "random", "huge", "tiny")
BAD_WEIGHTS = ("zeros", "one_positive", "negative", "nan", "strings", "wrong_length")
OPTIONS = {
    "discrete": [{}, {}, {"bias": "miller-madow"}, {"device": "cpu"}],
    "binning": [{}, {}, {"n_bins": 1}, {"n_bins": 3}, {"bin_size": 0.07}, {"range": (0.0, 1.0)},
                {"range": (-1.7e308, 1.7e308)}, {"bias": "miller-madow"}, {"device": "cpu"}],
    "kde": [{}, {}, {"bandwidth_scale": 0.5}, {"min_class_sigma": 0.0}, {"device": "cpu"}],
    "kde_upper": [{}, {}, {"noise_variance": 0.1}, {"noise_variance": 1e300}, {"device": "cpu"}],
    "gcmi": [{}, {}, {"ridge": 0.0}, {"bias_correct": False}, {"target_type": "continuous"}, {"device": "cpu"}],
    "ksg": [{}, {}, {"k": 1}, {"noise": 1e-10}, {"standardize": False}, {"device": "cpu"}],
    "renyi": [{}, {}, {"alpha": 2.0}, {"alpha": 0.5}, {"alpha": 500.0}, {"alpha": 1e300}, {"bandwidth_scale": 1e-4},
              {"device": "cpu"}],
}
BAD_OPTIONS = {
    "discrete": [{"bias": "jackknife"}, {"n_bins": 3}, {"device": "tpu"}],
    "binning": [{"n_bins": 0}, {"n_bins": 2.5}, {"n_bins": True}, {"bin_size": 1e-300}, {"bin_size": 0.0},
                {"bin_size": math.nan}, {"bin_size": "a"}, {"range": (1.0, 0.0)}, {"range": "ab"},
                {"bin_size": 1.0, "range": (0.0, 1.0)}],
    "kde": [{"bandwidth_scale": 1e300}, {"bandwidth_scale": 1e-300}, {"bandwidth_scale": math.nan},
            {"bandwidth_scale": "a"}, {"min_class_sigma": 2.0}, {"min_class_sigma": -1.0}],
    "kde_upper": [{"noise_variance": 1e-300}, {"noise_variance": 0.0}, {"noise_variance": math.nan}],
    "gcmi": [{"ridge": -1.0}, {"ridge": math.nan}, {"bias_correct": "yes"}, {"target_type": "x"}],
    # (not ksg's `seed`: gib_point and null_predictions take a `seed` of their own)
    "ksg": [{"k": 0}, {"k": 2.5}, {"noise": -1.0}, {"noise": math.inf}, {"standardize": "yes"}],
    "renyi": [{"alpha": 0.0}, {"alpha": 0.3}, {"alpha": math.nan}, {"alpha": math.inf}, {"bandwidth_scale": 1e-300},
              {"bandwidth_scale": 1e300}],
}


def values(rng: np.random.Generator, category: str, shape: tuple[int, ...]) -> np.ndarray:
    if category == "normal":
        return rng.normal(size=shape)
    if category == "scaled":
        return rng.normal(size=shape) * 10.0 ** rng.choice([-300, -200, -154, 154, 200, 300])
    if category == "extreme_float":
        return rng.choice([1.7e308, -1.7e308, 5e-324, 0.0, 1e-300, 2.0**63, 2.0**64, -(2.0**63)], shape)
    if category == "int":
        return rng.integers(-5, 5, shape)
    if category == "int64_extreme":
        return rng.choice(np.array([2**63 - 1, -(2**63), 0, 1], dtype=np.int64), shape)
    if category == "uint64_extreme":
        return rng.choice(np.array([2**64 - 1, 2**63, 0, 1], dtype=np.uint64), shape)
    if category == "big_whole":
        return rng.choice([2.0**63, 2.0**64, 5.0, 6.0, 1e300], shape)
    if category == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if category == "labels":
        return rng.choice(np.array(["a", "b", "c"]), shape)
    if category == "constant":
        return np.full(shape, 3.0)
    if category in ("float16", "float32"):
        return rng.normal(size=shape).astype(category)
    out = rng.normal(size=shape)
    out.flat[rng.integers(out.size)] = np.nan if category == "nan" else -np.inf
    return out


def form(a: np.ndarray, kind: str):
    if kind == "list":
        return a.tolist()
    if kind in ("tensor", "bfloat16"):
        if a.dtype.kind in "US":
            return a
        t = torch.from_numpy(np.ascontiguousarray(a))
        return t.bfloat16() if kind == "bfloat16" and a.dtype.kind == "f" else t
    if kind == "ragged":
        rows = a.reshape(len(a), -1).tolist()
        return [rows[0][:-1] or [1.0, 2.0]] + rows[1:]
    if kind == "3d":
        return a.reshape(len(a), 1, -1)
    if kind == "scalar":
        return a.flat[0]
    return a


class Draw:
    """Every random choice of one example, from one seed."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def pick(self, options):
        return options[self.rng.integers(len(options))]

    def mostly(self, good, bad, p: float = BAD):
        """One of ``good``, or with probability ``p`` one of ``bad``."""
        return self.pick(bad if self.rng.random() < p else good)

    def length(self, n: int) -> int:
        """``n``, or now and then a mismatched length."""
        return self.mostly((n,), (n + 1,), BAD / 2)

    def array(self, n: int | None = None, columns: tuple[int, ...] = (1, 2, 3)):
        """One variable as passed: an array, list or tensor, or a bad shape."""
        n = self.mostly(SIZES, BAD_SIZES) if n is None else n
        d = self.pick(columns)
        a = values(self.rng, self.mostly(CATEGORIES, BAD_CATEGORIES), (n, d))
        if d > 1 and self.rng.random() < 0.3:
            a = np.column_stack([a, np.zeros(n, dtype=a.dtype)])  # a constant column as well
        if d == 1 and self.rng.random() < 0.5:
            a = a[:, 0]
        return form(a, self.mostly(FORMS, BAD_FORMS))

    def weights(self, n: int):
        kind = self.mostly(WEIGHTS, BAD_WEIGHTS)
        return {
            None: None,
            "uniform": np.ones(n),
            "random": self.rng.random(n),
            "huge": np.full(n, 1e308),
            "tiny": np.full(n, 5e-324),
            "zeros": np.zeros(n),
            "one_positive": np.eye(1, n)[0],
            "negative": -np.ones(n),
            "nan": np.full(n, np.nan),
            "strings": np.array(["w"] * n),
            "wrong_length": np.ones(n + 1),
        }[kind]

    def estimator(self) -> tuple[str, dict]:
        name = self.mostly(ESTIMATORS, ("knn",), BAD / 4)
        return name, dict(self.mostly(OPTIONS.get(name, [{}]), BAD_OPTIONS.get(name, [{}])))


def _length(a) -> int:
    try:
        return len(a)
    except TypeError:  # a scalar
        return 1


SEEDS = st.integers(0, 2**64 - 1)

# A fault of the ksg estimator that the fuzz finds and that is its own (estimators/ksg.py): its
# examples (magnitudes beyond 1e150) are left out of the fuzz and kept as the xfail case at the
# end of this file.
KSG_SCALE_FAULT = ("ksg on two-valued columns at +-1.7e308: every distance ties, so the estimate is set by the "
                   "tie-breaking jitter, which lands differently at that magnitude than on +-1 (the values stay "
                   "finite; they differ from the signs' by up to 0.2 bits)")


def _magnitudes(a) -> np.ndarray:
    """The finite non-zero magnitudes of an input, as float64 (empty for labels or bad shapes)."""
    try:
        arr = np.asarray(gib._validation.as_array(a, "a"), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return np.empty(0)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(arr[np.isfinite(arr)])
    return magnitude[magnitude > 0]


def ksg_fault(estimator: str, *arrays) -> bool:
    """Whether the inputs meet a known ksg fault (``KSG_SCALE_FAULT``)."""
    if estimator != "ksg":
        return False
    found = np.concatenate([_magnitudes(a) for a in arrays])
    return bool(found.size) and bool(found.max() > 1e150 or found.min() < 1e-150)


# -- the fuzz ---------------------------------------------------------------------------------
@FUZZ
@given(SEEDS)
def test_entropy_and_mutual_information(seed):
    f = Draw(seed)
    estimator, options = f.estimator()
    a = f.array()
    n = _length(a)
    b = f.array(f.length(n))
    w = f.weights(n)
    if ksg_fault(estimator, a, b):
        return
    h_a = call(gib.entropy, a, estimator, w, **options)
    if h_a is not None:
        assert finite(h_a)
        if estimator in PLUGIN:
            assert h_a >= -TOL
    mi = call(gib.mutual_information, a, b, estimator, w, **options)
    if mi is not None:
        assert finite(mi)
        if plain(estimator, options):
            h_b = call(gib.entropy, b, estimator, w, **options)
            assert -TOL <= mi <= min(h_a, h_b) + TOL, (mi, h_a, h_b)
        if symmetric(estimator, a, b):
            back = call(gib.mutual_information, b, a, estimator, w, **options)
            assert back == pytest.approx(mi, abs=1e-9 * max(1.0, abs(mi))), (mi, back)


@FUZZ
@given(SEEDS)
def test_leave_one_out_and_synergy(seed):
    f = Draw(seed)
    estimator, options = f.estimator()
    X = f.array(columns=(1, 2, 3))
    n = _length(X)
    v = f.array(f.length(n), columns=(1, 2))
    w = f.weights(n)
    if ksg_fault(estimator, X, v):
        return
    t = call(gib.leave_one_out, X, v, estimator, w, **options)
    if t is not None:
        assert finite(t.joint, t.single, t.complement)
        if plain(estimator, options):
            h_v = call(gib.entropy, v, estimator, w, **options)
            for part in (t.joint, t.single, t.complement):
                assert np.all(-TOL <= part) and np.all(part <= h_v + TOL), (t, h_v)
            # I(X_S;V) grows with S: the singles and complements are below the joint
            assert np.all(t.single <= t.joint + TOL) and np.all(t.complement <= t.joint + TOL)
    kind = f.mostly(("featurewise", "sum_vs_whole"), ("pid",))
    s = call(gib.synergy, X, v, estimator, kind, w, **options)
    if s is not None:
        assert finite(s)
        if plain(estimator, options) and t is not None:
            assert s == pytest.approx(call(gib.synergy_from, t, kind), abs=1e-12)


@FUZZ
@given(SEEDS)
def test_information_planes(seed):
    f = Draw(seed)
    estimator, options = f.estimator()
    X = f.array(columns=(1, 2, 3))
    n = _length(X)
    T, y, yhat = f.array(f.length(n)), f.array(f.length(n)), f.array(n)
    if ksg_fault(estimator, X, T, y, yhat):
        return
    point = call(gib.ib_point, T, X, y, estimator, **options)
    if point is not None:
        assert finite(point.complexity, point.prediction, point.complexity_ceiling)
        if plain(estimator, options):
            assert -TOL <= point.complexity <= point.complexity_ceiling + TOL
            assert -TOL <= point.prediction <= point.prediction_ceiling + TOL
    ceilings = call(gib.ib_ceilings, X, y, estimator, **options)
    if ceilings is not None:
        assert finite(ceilings[0]) and ceilings[0] >= 0 and ceilings[1] >= 0
    output_bins = f.mostly((30, 2), (0, -3, "a"))
    g = call(gib.gib_point, X, yhat, y, estimator, target=f.mostly(("joint", "yhat", "y"), ("z",)),
             resample=f.pick((False, True)), seed=f.mostly((0, 7), (-1, "a", 2.5)), output_bins=output_bins,
             **options)
    if g is not None:
        assert finite(g.complexity, g.prediction, g.synergy, g.joint, g.single, g.complement)
        assert g.prediction >= -TOL
    w = call(gib.pmi_weights, yhat, y, f.mostly((30, 3), (0, "a")))
    if w is not None:
        assert finite(w) and np.all(w >= 0) and abs(w.sum() - 1) < 1e-9
    agreement = call(gib.binned_agreement, yhat, y, output_bins)
    if agreement is not None:
        assert 0 <= agreement <= 1


THRESHOLDS, BAD_THRESHOLDS = (0.1, 0.0, 1.0, 0.5), (math.nan, -0.1, 1.5, "a", True)


@FUZZ
@given(SEEDS)
def test_compression_phase(seed):
    f = Draw(seed)
    length = f.mostly((3, 5, 12), (1, 2))

    def series(n):
        return form(values(f.rng, f.mostly(CATEGORIES, BAD_CATEGORIES), (n,)),
                    f.mostly(("numpy", "list", "tensor"), ("3d", "scalar", "ragged")))

    complexity, prediction = series(length), series(f.length(length))
    steps = f.pick((None, None, "same", "short"))
    steps = None if steps is None else series(length if steps == "same" else max(1, length - 1))
    options = {}
    for name in ("last_fraction", "min_drop", "rebound", "max_prediction_loss", "max_saturated",
                 "noise_floor", "tolerance"):
        if f.rng.random() < 0.3:
            options[name] = f.mostly(THRESHOLDS, BAD_THRESHOLDS)
    if f.rng.random() < 0.3:
        options["n_samples"] = f.mostly((1, 40), (0, -2, 2.5, "a"))
    if f.rng.random() < 0.3:
        options["saturated"] = series(length)
    phase = call(gib.compression_phase, complexity, prediction, steps, **options)
    if phase is not None:
        assert phase.verdict in gib.phases.VERDICTS
        assert finite(phase.drop_fraction, phase.drop_bits, phase.complexity_range, phase.noise_floor,
                      phase.saturated_fraction, phase.prediction_loss, phase.peak_step)
        assert 0 <= phase.peak_index < length
    scaled = call(gib.normalise, complexity)
    if scaled is not None:
        assert finite(scaled) and np.all((scaled >= 0) & (scaled <= 1))


@settings(FUZZ, max_examples=max(1, EXAMPLES // 5))
@given(SEEDS)
def test_references_and_null_predictors(seed):
    f = Draw(seed)
    estimator, options = f.estimator()
    X = f.array(columns=(2, 3))
    n = _length(X)
    y = f.array(f.length(n), columns=(1,))
    if ksg_fault(estimator, X, y):
        return
    family = f.mostly(("linear", "random"), ("oracle",))
    seed = f.mostly((0, 3), (-1, "a"))
    reference = call(gib.gib_reference, X, y, estimator, **options)
    if reference is not None:
        assert finite(reference.complexity_star, reference.complexity_constant, reference.prediction_star)
    predictions = call(gib.null_predictions, X, y, f.mostly((0.5, 1.0, 0.0), (1.5, math.nan, "a")), family, seed)
    if predictions is not None:
        assert len(predictions) == n
    null = call(gib.NullReference, X, y, family, 1, seed, f.mostly((0.25, 0.5), (0.3, 0.0, 2.0, "a")), estimator,
                **options)
    if null is not None:
        # the null computes its points on demand: errors about its inputs come from here
        at = call(null.at, f.mostly((0.5, 1.0), (1.5, math.nan)), also=tuple(_names(gib.NullReference, options)))
        if at is not None:
            assert finite(*at)
    accuracies = f.mostly(([0.5, 1.0],), ([], [2.0], [[0.5]], [[0.5], [0.5, 1.0]], "a"))
    frame = call(gib.null_trajectory, X, y, accuracies, family, seed, 1, estimator, **options)
    if frame is not None:
        assert finite(frame[["complexity", "prediction"]].to_numpy())


MEASURES = ("total_correlation", "dual_total_correlation", "o_information", "s_information")


def _direct(measure: str, h: float, single: np.ndarray, complement: np.ndarray) -> float:
    """A higher-order measure from its definition (measures.py) over given entropies."""
    n = len(single)
    tc, dtc = np.sum(single) - h, np.sum(complement) - (n - 1) * h
    return {"total_correlation": tc, "dual_total_correlation": dtc, "o_information": tc - dtc,
            "s_information": tc + dtc}[measure]


@settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
@given(SEEDS)
def test_higher_order_measures(seed):
    """Every returned value equals its definition over the entropies of the subsets, each
    computed alone by ``gib.entropy`` (TC = sum H(X_i) - H(X), ...); O-information of two
    variables is 0; plug-in TC and DTC are >= 0; ``per_feature`` equals M(X) - M(X_-i)."""
    f = Draw(seed)
    estimator, options = f.estimator()
    X = f.array(columns=(2, 3, 4))
    n = _length(X)
    w = f.weights(n)
    if ksg_fault(estimator, X):
        return
    measure = f.pick(MEASURES)
    per_feature = f.mostly((False, True), ("yes",))
    value = call(getattr(gib, measure), X, estimator, per_feature, w, **options)
    if value is None:
        return
    assert finite(value)
    if shifted_uint64(estimator, options, X):
        return
    data = gib._validation.as_samples(X, "X")  # the samples as every public function reads them
    k = data.shape[1]
    entropy = lambda cols: call(gib.entropy, data[:, cols], estimator, w, **options)  # noqa: E731
    h, single = entropy(list(range(k))), [entropy([i]) for i in range(k)]
    complement = [entropy([j for j in range(k) if j != i]) for i in range(k)]
    if None in (h, *single, *complement):
        return  # a subset alone is refused (e.g. a single constant column): nothing to compare
    whole = _direct(measure, h, np.array(single), np.array(complement))
    tol = 1e-6 * max(1.0, abs(whole))
    if not per_feature:
        assert value == pytest.approx(whole, abs=tol), (measure, value, whole)
        if measure == "o_information" and k == 2:
            assert abs(value) <= tol
        if plain(estimator, options) and measure in ("total_correlation", "dual_total_correlation"):
            assert value >= -TOL
        return
    # M(X) - M(X_-i), X_-i's measure from its own subsets (a single variable has none: 0)
    for i in range(k):
        rest = [j for j in range(k) if j != i]
        if k == 2:
            reduced = 0.0
        else:
            sub_single = np.array([single[j] for j in rest])
            sub_complement = [entropy([m for m in rest if m != j]) for j in rest]
            if None in sub_complement:
                return
            reduced = _direct(measure, complement[i], sub_single, np.array(sub_complement))
        assert value[i] == pytest.approx(whole - reduced, abs=tol), (measure, i, value, whole, reduced)


CONTAINERS = ("frame", "object", "list", "nullable")


def _container(f: Draw, columns: list[np.ndarray], kind: str):
    if kind == "object":
        out = np.empty((len(columns[0]), len(columns)), dtype=object)
        for j, c in enumerate(columns):
            out[:, j] = c.tolist()
        return out
    if kind == "list":
        return [list(row) for row in zip(*(c.tolist() for c in columns))]
    frame = pd.DataFrame({f"c{j}": c for j, c in enumerate(columns)})
    if kind == "nullable":
        for j, c in enumerate(columns):
            if c.dtype.kind == "i":
                frame[f"c{j}"] = pd.array(c, dtype="Int64")
                if f.rng.random() < 0.5:
                    frame.loc[int(f.rng.integers(len(c))), f"c{j}"] = pd.NA
    return frame


def _alone(column: np.ndarray) -> str:
    """The kind a column has alone: numbers (integers or booleans), floating-point, or labels."""
    return {"b": "int", "i": "int", "u": "int", "f": "float"}.get(column.dtype.kind, "label")


@settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
@given(SEEDS)
def test_mixed_containers(seed):
    """A DataFrame, object array or list gives what its columns give as one array when each
    column alone is of one kind (integers, floats, labels), and is refused naming the argument
    when they mix kinds or hold missing values (pd.NA is NaN)."""
    f = Draw(seed)
    estimator, options = f.estimator()
    n = f.pick(SIZES)
    columns = [values(f.rng, f.mostly(CATEGORIES, BAD_CATEGORIES), (n,)) for _ in range(f.pick((2, 3)))]
    columns = [c.astype(str) if c.dtype.kind == "U" else c for c in columns]
    kind = f.pick(CONTAINERS)
    data = _container(f, columns, kind)
    if ksg_fault(estimator, *columns):
        return
    measure = f.pick((gib.entropy, gib.total_correlation))
    got = call(measure, data, estimator, **options)
    kinds = {_alone(c) for c in columns}
    has_na = kind == "nullable" and bool(data.isna().to_numpy().any())
    if kind == "list" and "label" not in kinds:  # a list of numbers is one NumPy array, as ever
        as_numpy = np.asarray(data)
        if as_numpy.dtype != object:
            reference = call(measure, as_numpy, estimator, **options)
            assert (got is None) == (reference is None), (kind, got, reference)
            assert got is None or got == pytest.approx(reference, abs=1e-12), (kind, got, reference)
        return
    if len(kinds) > 1 or has_na:
        assert got is None, (kind, [c.dtype for c in columns], got)  # refused, naming the argument
        return
    if kinds == {"int"} and {c.dtype.kind for c in columns} >= {"u", "i"} and any(
            c.dtype == np.uint64 for c in columns):
        return  # no integer type holds uint64 beside int64: refused by the container, cast by NumPy
    reference = call(measure, np.column_stack(columns), estimator, **options)
    assert (got is None) == (reference is None), (kind, got, reference)
    if got is not None:
        assert got == pytest.approx(reference, abs=1e-12), (kind, got, reference)


# -- the one-liners, before: -0.0, 1.5, 2.5 > H, NaN, inf, raw errors ----------------
rng = np.random.default_rng(0)
x = rng.normal(size=40)
y = (x > 0) * 1
lab = rng.integers(0, 3, 40)
X2 = np.column_stack([x, rng.normal(size=40)])
I64 = np.tile(np.array([2**63 - 1, -(2**63), 0, 1], dtype=np.int64), 10)
U64 = np.tile(np.array([2**64 - 1, 0, 1, 2], dtype=np.uint64), 10)
H_Y = gib.entropy(y, estimator="discrete")


@pytest.mark.parametrize(
    "compute, expected",
    [
        (lambda: gib.entropy(np.tile([1e300, 2e300, 3e300, 4e300], 10), estimator="discrete"), 2.0),
        (lambda: gib.entropy(np.tile([2.0**63, 2.0**64, 5, 6], 10), estimator="discrete"), 2.0),
        (lambda: gib.mutual_information(I64, I64, estimator="discrete"), 2.0),
        (lambda: gib.entropy(I64, estimator="discrete"), 2.0),
        (lambda: gib.entropy(U64, estimator="discrete"), 2.0),
        (lambda: gib.mutual_information(U64, U64, estimator="binning"), 2.0),
        (lambda: gib.leave_one_out(np.column_stack([I64, I64]), I64, estimator="discrete").joint, 2.0),
        (lambda: gib.leave_one_out(np.column_stack([np.tile([2.0**63, 2.0**64, 5, 6], 10), I64]), I64,
                                   estimator="discrete").joint, 2.0),
        (lambda: gib.leave_one_out(torch.from_numpy(np.column_stack([I64, U64.view(np.int64)])), I64,
                                   estimator="discrete").joint, 2.0),
        # +-1.7e308 in two bins; x * 1e300 in 40 distinct bins of 0.07
        (lambda: gib.mutual_information(np.where(x > 0, 1.7e308, -1.7e308), y), H_Y),
        (lambda: gib.entropy(np.where(x > 0, 1.7e308, -1.7e308)), H_Y),
        (lambda: gib.entropy(x * 1e300, bin_size=0.07), math.log2(40)),
        (lambda: gib.mutual_information(x * 1e300, y, bin_size=0.07), H_Y),
        # weights of 1e308 are uniform weights
        (lambda: gib.entropy(lab, estimator="discrete", weights=np.full(40, 1e308)), gib.entropy(lab, estimator="discrete")),
        (lambda: gib.mutual_information(x, lab, estimator="gcmi", weights=np.full(40, 1e308)),
         gib.mutual_information(x, lab, estimator="gcmi")),
        (lambda: gib.entropy(lab, estimator="discrete", weights=np.full(40, 5e-324)), gib.entropy(lab, estimator="discrete")),
        # bfloat16 (exact in float32) gives what float32 gives
        (lambda: gib.mutual_information(torch.tensor(x).bfloat16(), y),
         gib.mutual_information(torch.tensor(x).bfloat16().float().numpy(), y)),
        (lambda: gib.mutual_information(torch.tensor(x).bfloat16(), lab, estimator="gcmi"),
         gib.mutual_information(torch.tensor(x).bfloat16().double().numpy(), lab, estimator="gcmi")),
        (lambda: gib.mutual_information(torch.tensor(x).bfloat16(), lab, estimator="kde"),
         gib.mutual_information(torch.tensor(x).bfloat16().double().numpy(), lab, estimator="kde")),
        (lambda: gib.leave_one_out(torch.tensor(X2).half(), lab, estimator="kde").joint,
         gib.leave_one_out(torch.tensor(X2).half().double().numpy(), lab, estimator="kde").joint),
    ],
)
def test_extreme_values_get_exact_answers(compute, expected):
    assert compute() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("scale", [1e154, 1e-200, 1e300, 2.0**-1000])
def test_kde_information_is_scale_invariant(scale):
    noise = np.random.default_rng(1).normal(size=40)
    for compute in (
        lambda s: gib.mutual_information(x * s, lab, estimator="kde"),
        lambda s: gib.mutual_information(x * s, (x + noise) * s, estimator="kde"),
        lambda s: gib.leave_one_out(X2 * s, lab, estimator="kde").joint,
        lambda s: gib.leave_one_out(X2 * s, x * s, estimator="kde").complement[0],
    ):
        assert compute(scale) == pytest.approx(compute(1.0), abs=1e-9)
    # the differential entropy moves by log2 of the scale
    h = gib.entropy(x * scale, estimator="kde")
    assert h == pytest.approx(gib.entropy(x, estimator="kde") + math.log2(scale), rel=1e-12)


@pytest.mark.parametrize(
    "compute, error, match",
    [
        (lambda: gib.entropy(x * 1e300, bin_size=1e-300), ValueError, "`bin_size`.*too small"),
        (lambda: gib.mutual_information(x, lab, estimator="kde", bandwidth_scale=1e300), ValueError,
         r"`bandwidth_scale` must be in \[0.0001, 10000\]"),
        (lambda: gib.mutual_information(x, lab, estimator="kde", bandwidth_scale=1e-300), ValueError,
         "`bandwidth_scale` must be in"),
        (lambda: gib.mutual_information(x, lab, estimator="kde", min_class_sigma=2.0), ValueError, "`min_class_sigma`"),
        (lambda: gib.leave_one_out(X2 * 1e300, lab, estimator="kde_upper"), ValueError, "`X` has values of magnitude"),
        (lambda: gib.entropy(lab, weights=np.array(["a"] * 40)), TypeError, "`weights` has dtype"),
        (lambda: gib.entropy(lab, weights=np.full(40, np.nan)), ValueError, "`weights` contains NaN"),
        (lambda: gib.entropy(lab, weights=-np.ones(40)), ValueError, "`weights` contains negative"),
        (lambda: gib.entropy([[1, 2], [3]]), ValueError, "`a` is ragged"),
        (lambda: gib.mutual_information(x, [[1, 2], [3]] * 20), ValueError, "`b` is ragged"),
        (lambda: gib.mutual_information(np.array(["a", "b"] * 20), y, estimator="kde"), TypeError, "`a` holds labels"),
        (lambda: gib.entropy(np.array(["a", "b"] * 20), estimator="gcmi"), TypeError, "`a` holds strings"),
        (lambda: gib.ib_point(np.array(["a", "b"] * 20), X2, y), TypeError, "`T` has dtype"),
        (lambda: gib.ib_point(np.where(y == 1, 0.0, x), x, y, estimator="kde", min_class_sigma=0), ValueError,
         "`T` has constant column"),
        (lambda: gib.gib_point(X2, y, y, resample=True, seed=-1), ValueError, "`seed` must be a non-negative"),
        (lambda: gib.gib_point(X2, y, y, resample=True, seed="a"), ValueError, "`seed` must be a non-negative"),
        (lambda: gib.gib_point(X2, y, y, output_bins=0), ValueError, "`output_bins` must be a positive"),
        (lambda: gib.null_predictions(X2, y, 0.5, seed=-1), ValueError, "`seed` must be a non-negative"),
        (lambda: gib.compression_phase([0, np.nan, 1], [0, 1, 2]), ValueError, "`complexity` contains 1 NaN"),
        (lambda: gib.compression_phase([0, 2, 1], [0, np.nan, 2]), ValueError, "`prediction` contains 1 NaN"),
        (lambda: gib.compression_phase([0, 2, 1], [0, 1, 2], [0, np.nan, 2]), ValueError, "`steps` contains 1 NaN"),
        (lambda: gib.compression_phase([0, 2, 1], [0, 1, 2], min_drop=np.nan), ValueError, "`min_drop` must be"),
        (lambda: gib.compression_phase([0, 2, 1], [0, 1, 2], min_drop="a"), ValueError, "`min_drop` must be"),
        (lambda: gib.compression_phase(["a", "b", "c"], [0, 1, 2]), TypeError, "`complexity` has dtype"),
        (lambda: gib.compression_phase([0, 2, 1], [0, 1, 2], noise_floor=np.nan), ValueError, "`noise_floor`"),
        (lambda: gib.synergy(X2, y, estimator="binning", bins=3), TypeError, "unknown option.*`bins`"),
    ],
)
def test_bad_inputs_name_the_argument(compute, error, match):
    with pytest.raises(error, match=match):
        compute()


def test_leave_one_out_takes_negative_codes_and_huge_floats():
    # negative int64 codes and floats >= 2^63: the direct per-subset computation agrees
    neg = np.column_stack([rng.integers(-(2**62), -(2**61), 40), rng.integers(-5, 0, 40)])
    big = np.column_stack([np.tile([2.0**63, 2.0**64, 5, 6], 10), np.tile([0.0, 1e300], 20)])
    est = gib.get_estimator("discrete")
    for X in (neg, big, np.column_stack([I64, U64])):
        fast, direct = est.leave_one_out(X, lab), est.leave_one_out_direct(X, lab)
        assert fast.joint == pytest.approx(direct.joint, abs=1e-12)
        np.testing.assert_allclose(fast.single, direct.single, atol=1e-12)
        np.testing.assert_allclose(fast.complement, direct.complement, atol=1e-12)


# -- the newer API's repros (renyi, kde_upper, ksg, mixed containers): before, NaN, inf, raw
# numpy errors or silently wrong values ----------------------------------------------------------
X3 = rng.normal(size=(40, 3))
y3 = (X3[:, 0] > 0).astype(int)
EXTREME = np.where(rng.normal(size=(40, 3)) > 0, 1.7e308, -1.7e308)


@pytest.mark.parametrize("compute", [
    lambda: gib.entropy(EXTREME, "renyi"),
    lambda: gib.mutual_information(EXTREME, y3, "renyi"),
    lambda: gib.synergy(EXTREME, y3, "renyi"),
    lambda: gib.o_information(EXTREME, "renyi", per_feature=True),
    lambda: gib.gib_point(EXTREME, y3, y3, "renyi").complexity,
    lambda: gib.gib_reference(EXTREME, y3, "renyi").complexity_star,
    lambda: gib.mutual_information(X3, y3, "renyi", alpha=500),
    lambda: gib.synergy(X3, y3, "renyi", alpha=1e300),
    lambda: gib.gib_reference(X3, y3, "renyi", alpha=1e300).complexity_star,
], ids=["entropy", "mi", "synergy", "o_information", "gib_point", "gib_reference", "alpha500", "alpha1e300",
        "complexity_star"])
def test_renyi_gives_finite_values_at_extreme_values_and_orders(compute):
    """Before: numpy's LinAlgError (Eigenvalues did not converge) at +-1.7e308, inf or NaN at
    alpha = 500 and 1e300."""
    assert np.all(np.isfinite(compute()))


def test_renyi_is_scale_free_and_refuses_unusable_widths():
    """Before: entropy(X * 1e160) = -1e-13 against 4.99, MI(X * 1e200; y) = -8e-14 against 0.98."""
    assert gib.entropy(X3 * 1e160, "renyi") == pytest.approx(gib.entropy(X3, "renyi"), abs=1e-9)
    assert gib.mutual_information(X3 * 1e200, y3, "renyi") == pytest.approx(gib.mutual_information(X3, y3, "renyi"),
                                                                            abs=1e-9)
    with pytest.raises(ValueError, match="`bandwidth_scale` must be in"):
        gib.NullReference(X3, y3, estimator="renyi", bandwidth_scale=1e-300).at(0.73)


def test_pd_na_beside_another_column_is_refused_as_the_column_alone_is():
    """Before: accepted (2.53 bits) beside another column, refused alone."""
    frame = pd.DataFrame({"a": pd.array([1, 2, pd.NA, 3] * 10, dtype="Int64"), "b": [1, 2] * 20})
    for data in (frame, frame["a"]):
        with pytest.raises(ValueError, match="`a` contains 10 NaN"):
            gib.entropy(data, "discrete")


def _grid_gaussian(step: float, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """A bivariate Gaussian with r = 0.6 (I = -log2(1 - r^2) / 2 = 0.322 bits) rounded to a grid."""
    g = np.random.default_rng(3)
    a = g.normal(size=n)
    b = 0.6 * a + 0.8 * g.normal(size=n)
    return np.round(a / step) * step, np.round(b / step) * step


@pytest.mark.parametrize("step", [0.1, 0.5])
def test_ksg_on_tied_data_stays_near_the_true_value(step):
    a, b = _grid_gaussian(step)
    assert gib.mutual_information(a, b, "ksg") < math.log2(len(a))
    assert gib.mutual_information(a, b, "ksg") == pytest.approx(0.322, abs=0.15)


@pytest.mark.parametrize("compute, expected", [
    (lambda: gib.mutual_information(X3 * 1e160, y3, "ksg"), lambda: gib.mutual_information(X3, y3, "ksg")),
    (lambda: gib.mutual_information(X3 * 1e-200, y3, "ksg"), lambda: gib.mutual_information(X3, y3, "ksg")),
    (lambda: gib.entropy(X3 * 1e300, "ksg", noise=1e-10),
     lambda: gib.entropy(X3, "ksg", noise=1e-10) + 3 * math.log2(1e300)),
    (lambda: gib.synergy(X3 * 1e300, y3, "ksg", noise=1e-10), lambda: gib.synergy(X3, y3, "ksg", noise=1e-10)),
    pytest.param(lambda: gib.leave_one_out(EXTREME, y3, "ksg").joint,
                 lambda: gib.leave_one_out(np.sign(EXTREME), y3, "ksg").joint,
                 marks=pytest.mark.xfail(reason=KSG_SCALE_FAULT, strict=True)),
], ids=["mi_1e160", "mi_1e-200", "entropy_1e300", "synergy_1e300", "loo_1.7e308"])
def test_ksg_at_extreme_scales_gives_the_unscaled_values(compute, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = compute()
    assert got == pytest.approx(expected(), abs=1e-6)
