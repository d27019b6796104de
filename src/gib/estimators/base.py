"""The one interface every estimator answers ('one interface carries the speed').

An estimator is built by name with its options (``get_estimator("binning", n_bins=30)``) and
answers three questions, all in bits:

- ``entropy(a, weights)``: H(A);
- ``mutual_information(a, b, weights)``: I(A;B);
- ``leave_one_out(X, v, weights)``: I(X;V), every I(X_i;V) and every I(X_-i;V) in one call;
- ``entropies(X, weights)``: H(X), every H(X_i) and every H(X_-i) in one call, and
  ``pair_complement_entropies(X, weights)``: every H(X_-{i,j}), the subsets the higher-order
  measures need (``gib.o_information`` and its relatives; SPEC 3);
- ``subset_entropies(X, weights)``: X prepared once (codes, a covariance, ...), then the
  entropies of any batch of column subsets of one size, H(X_S) for every row S of an index
  array (``gib.multiplets``: every subset of many multiplets estimated once).

Measures (synergy, GIB points) are written once against this interface and never loop over
features themselves. The base class supplies the plain per-subset ``leave_one_out`` that the
fast paths are tested against (``entropies_direct`` and ``pair_complement_entropies_direct``
likewise).

Every estimator here is written once against the array API (``gib._xp``): with a ``device``
option set, or with a torch tensor as X, ``leave_one_out`` runs the same code in torch on that
device (a tensor stays where it is), and returns NumPy results equal to NumPy's. Only X, the
large array, goes to the device: the target V and the weights are checked and turned into
codes, classes or normal scores on the host and copied over. ``entropy``,
``mutual_information`` and ``leave_one_out_direct`` (the reference) always run in NumPy.

Also here: the helpers the estimator modules share (``is_discrete``, ``constant_columns``,
``leave_one_out_varying``), so that no estimator module imports another.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar, NamedTuple

import numpy as np

from .. import _xp
from .._validation import as_device_samples, as_samples, check_same_length, check_weights, renamed


class LeaveOneOut(NamedTuple):
    """I(X;V) with the feature-wise pieces that synergy needs, in bits."""

    joint: float  #: I(X;V)
    single: np.ndarray  #: I(X_i;V), shape (n,)
    complement: np.ndarray  #: I(X_-i;V), shape (n,)


class Entropies(NamedTuple):
    """H(X) with the feature-wise entropies that the higher-order measures need, in bits."""

    joint: float  #: H(X)
    single: np.ndarray  #: H(X_i), shape (n,)
    complement: np.ndarray  #: H(X_-i), shape (n,)


def check_device(device: Any) -> Any:
    """The ``device`` option of the array-API estimators: None (NumPy), or a torch.device from
    ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or a torch.device."""
    return None if device is None else _xp.as_device(device)


def is_discrete(b: np.ndarray) -> bool:
    """SPEC 3: a target of integer, bool or string dtype holds class labels; floating-point
    data are continuous."""
    return b.dtype.kind in "biuUS"


def constant_columns(a: Any, w: np.ndarray | None) -> np.ndarray:
    """Host boolean mask of the columns of ``a`` (on any device) that are constant over the
    samples of positive weight (all samples if ``w`` is None)."""
    ref = a if w is None or np.all(w > 0) else _xp.rows(a, w > 0)
    xp = _xp.namespace(ref)
    return _xp.to_numpy(xp.all(ref == ref[:1, ...], axis=0))


def float_numbers(a: Any, name: str, who: str) -> Any:
    """float64 data (a NumPy array or tensor) for an estimator that needs numbers (``who``,
    e.g. "ksg needs", opens the message); labels are an error there."""
    if _xp.kind(a) in "US":
        raise TypeError(
            f"`{name}` holds labels (dtype {a.dtype}); {who} numbers there. Labels belong "
            "in the second argument (`b` or `v`)."
        )
    xp = _xp.namespace(a)
    return xp.astype(a, xp.float64, copy=False)


def leave_one_out_varying(
    est: Estimator, X: Any, v: np.ndarray, w: np.ndarray | None,
    fast: Callable[[Any, np.ndarray, np.ndarray | None], LeaveOneOut], v_continuous: bool,
) -> LeaveOneOut:
    """``fast(X, v, w)`` on the columns of X (and, for a continuous V, of v) that vary over the
    samples of positive weight; constant columns filled in exactly.

    A constant column carries no information: ``I(X;V) = I(X_varying;V)``, so its single is 0
    and its complement is the joint. With every column of X (or of a continuous v) constant, all
    is 0. One varying column u: its single is the joint and its complement (all constant) 0.
    """
    n = X.shape[1]
    if v_continuous:
        v_varying = ~constant_columns(v, w)
        if not v_varying.any():
            return LeaveOneOut(0.0, np.zeros(n), np.zeros(n))
        if not v_varying.all():
            v = v[:, v_varying]
    varying = ~constant_columns(X, w)
    if varying.all():
        return fast(X, v, w)
    single, complement = np.zeros(n), np.zeros(n)
    keep = np.flatnonzero(varying)
    if len(keep) == 0:
        return LeaveOneOut(0.0, single, complement)
    if len(keep) == 1:
        try:
            joint = float(est._mutual_information(_xp.to_numpy(_xp.columns(X, keep)), v, w))
        except (TypeError, ValueError) as error:  # its messages say `a` and `b`
            raise renamed(error, {"a": "X", "b": "v"}) from None
        single[keep] = joint
    else:
        part = fast(_xp.columns(X, keep), v, w)
        joint = part.joint
        single[keep], complement[keep] = part.single, part.complement
    complement[~varying] = joint
    return LeaveOneOut(float(joint), single, complement)


class Estimator(ABC):
    """Base class: subclasses set ``name`` and implement the ``_``-prefixed methods on checked
    2-D arrays and normalised weights (``None`` means uniform).

    A subclass written against the array API sets ``array_api = True`` and ``device`` (from
    ``check_device``); its ``_leave_one_out`` then also receives X as a tensor on the device
    (V and the weights stay NumPy). Others always get NumPy arrays.

    ``supports_weights`` declares whether the estimator takes sample weights; one that does not
    (``ksg``) accepts ``weights=None`` or uniform weights and raises ``ValueError`` naming
    ``weights`` otherwise.
    """

    name: ClassVar[str]
    array_api: ClassVar[bool] = False
    #: whether the estimator takes sample weights (the GIB plane's PMI weights need them); one
    #: that does not raises on any ``weights`` but None
    supports_weights: ClassVar[bool] = True
    device: Any = None

    # -- public edge: check once, then call the implementation --------------------------------
    def entropy(self, a: Any, weights: Any = None) -> float:
        a = as_samples(a, "a")
        return float(self._entropy(a, check_weights(weights, len(a))))

    def mutual_information(self, a: Any, b: Any, weights: Any = None) -> float:
        a, b = as_samples(a, "a"), as_samples(b, "b")
        n = check_same_length(a=a, b=b)
        return float(self._mutual_information(a, b, check_weights(weights, n)))

    def leave_one_out(self, X: Any, v: Any, weights: Any = None) -> LeaveOneOut:
        X = self._features(X)
        v = as_samples(v, "v")
        n = check_same_length(X=X, v=v)
        return self._leave_one_out(X, v, check_weights(weights, n))

    def leave_one_out_direct(self, X: Any, v: Any, weights: Any = None) -> LeaveOneOut:
        """The plain computation: one mutual-information estimate per subset.

        Slow (2n + 1 estimates); kept as the reference the fast paths are checked against.
        """
        X, v = as_samples(X, "X"), as_samples(v, "v")
        n_samples = check_same_length(X=X, v=v)
        w = check_weights(weights, n_samples)
        n = X.shape[1]
        joint = self._mutual_information(X, v, w)
        single = np.array([self._mutual_information(X[:, [i]], v, w) for i in range(n)])
        complement = np.array(
            [self._mutual_information(np.delete(X, i, axis=1), v, w) for i in range(n)]
        )
        return LeaveOneOut(float(joint), single, complement)

    # -- implementation -----------------------------------------------------------------------
    @abstractmethod
    def _entropy(self, a: np.ndarray, w: np.ndarray | None) -> float: ...

    @abstractmethod
    def _mutual_information(self, a: np.ndarray, b: np.ndarray, w: np.ndarray | None) -> float: ...

    def _leave_one_out(self, X: np.ndarray, v: np.ndarray, w: np.ndarray | None) -> LeaveOneOut:
        return self.leave_one_out_direct(X, v, w)

    def _features(self, X: Any) -> Any:
        """The X of the leave-one-out calls, checked: on the device for an array-API estimator
        with a device (a tensor stays on its own), else NumPy; at least 2 features."""
        if self.array_api and (self.device is not None or _xp.is_tensor(X)):
            X = as_device_samples(X, "X", self.device)
        else:
            X = as_samples(X, "X")
        if X.shape[1] < 2:
            raise ValueError(
                f"`X` has {X.shape[1]} feature; leave-one-out needs at least 2 features "
                "(X_-i would be empty)."
            )
        return X

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters
        shown = [f"{k}={getattr(self, k)!r}" for k in params if k != "self" and hasattr(self, k)]
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- subset entropies (the higher-order measures) ------------------------------------------
    def entropies(self, X: Any, weights: Any = None) -> Entropies:
        """H(X), every H(X_i) and every H(X_-i) in one call, in bits (checked like
        ``leave_one_out``: at least 2 features; runs on the ``device`` of an array-API
        estimator)."""
        X = self._features(X)
        return self._entropies(X, check_weights(weights, X.shape[0]))

    def entropies_direct(self, X: Any, weights: Any = None) -> Entropies:
        """The plain computation: one entropy estimate per subset (2n + 1 of them), in NumPy;
        the reference the fast paths are checked against."""
        X = as_samples(X, "X")
        w = check_weights(weights, X.shape[0])
        n = X.shape[1]
        single = np.array([self._entropy(X[:, [i]], w) for i in range(n)])
        complement = np.array([self._entropy(np.delete(X, i, axis=1), w) for i in range(n)])
        return Entropies(float(self._entropy(X, w)), single, complement)

    def pair_complement_entropies(self, X: Any, weights: Any = None) -> np.ndarray:
        """Every H(X_-{i,j}) (X without features i and j), in bits, as a symmetric (n, n)
        array whose diagonal is H(X_-i); with 2 features the off-diagonal subsets are empty
        (entropy 0). Checked like ``entropies``. The per-feature higher-order measures need
        them (the dual total correlation of X_-i sums H(X_-{i,j}) over j)."""
        X = self._features(X)
        return self._pair_complement_entropies(X, check_weights(weights, X.shape[0]))

    def pair_complement_entropies_direct(self, X: Any, weights: Any = None) -> np.ndarray:
        """The plain computation of ``pair_complement_entropies``: one entropy estimate per
        subset (n (n + 1) / 2 of them), in NumPy."""
        X = as_samples(X, "X")
        w = check_weights(weights, X.shape[0])
        n = X.shape[1]
        h = np.zeros((n, n))
        for i in range(n):
            for j in range(i, n):
                if n > 2 or i == j:
                    h[i, j] = h[j, i] = self._entropy(np.delete(X, [i, j], axis=1), w)
        return h

    def subset_entropies(self, X: Any, weights: Any = None) -> Callable[[Any], np.ndarray]:
        """The entropies of column subsets of one X, in batches, in bits.

        X is checked and prepared once (its codes, its copula covariance, ...); the function
        returned takes an (m, s) integer array of column indices, each row a subset S of s >= 1
        distinct columns, and gives H(X_S) for every row, shape (m,). Estimators with a batched
        form (plug-in: row keys summed from per-column terms; ``gcmi``: log-determinants of
        principal submatrices of one covariance) compute a batch at once, in memory bounded by
        their blocks; the others estimate each subset on its own. Always NumPy.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0]])
        >>> h = get_estimator("discrete").subset_entropies(X)
        >>> h(np.array([[0, 1], [0, 2]])).round(6)  # H(X_0, X_1) = 2, H(X_0, X_2) = 1 bit
        array([2., 1.])
        """
        X = as_samples(X, "X")
        prepared = self._subset_entropies(X, check_weights(weights, X.shape[0]))
        n = X.shape[1]

        def entropies(subsets: Any) -> np.ndarray:
            return prepared(check_subsets(subsets, n))

        return entropies

    def subset_entropies_direct(self, X: Any, subsets: Any, weights: Any = None) -> np.ndarray:
        """The plain computation of ``subset_entropies(X, weights)(subsets)``: one ``entropy``
        per subset, the reference the batched forms are checked against."""
        X = as_samples(X, "X")
        w = check_weights(weights, X.shape[0])
        return np.array([self._entropy(X[:, s], w) for s in check_subsets(subsets, X.shape[1])], dtype=np.float64)

    def _subset_entropies(self, X: np.ndarray, w: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
        """The batched subset entropies of checked X (``subset_entropies``); default: one
        ``_entropy`` per subset."""
        return lambda subsets: np.array([self._entropy(X[:, s], w) for s in subsets], dtype=np.float64)

    def _entropies(self, X: Any, w: np.ndarray | None) -> Entropies:
        return self.entropies_direct(_xp.to_numpy(X), w)

    def _pair_complement_entropies(self, X: Any, w: np.ndarray | None) -> np.ndarray:
        return self.pair_complement_entropies_direct(_xp.to_numpy(X), w)


def check_subsets(subsets: Any, n: int) -> np.ndarray:
    """Column subsets as an (m, s) intp array: each row s >= 1 distinct indices in 0..n-1."""
    arr = np.asarray(subsets)
    if arr.ndim == 1 and arr.size:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] < 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(
            f"`subsets` must be an (m, s) array of integer column indices, one subset per row, s >= 1; "
            f"got shape {arr.shape} and dtype {arr.dtype}."
        )
    arr = arr.astype(np.intp, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"`subsets` holds column indices outside 0..{n - 1} (X has {n} columns).")
    if arr.shape[1] > 1 and arr.size and np.any(np.diff(np.sort(arr, axis=1), axis=1) == 0):
        raise ValueError("`subsets` has a row that repeats a column; each subset names distinct columns.")
    return arr


_REGISTRY: dict[str, type[Estimator]] = {}


def register(cls: type[Estimator]) -> type[Estimator]:
    """Class decorator: make an estimator available by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_estimators(weights: bool = False) -> tuple[str, ...]:
    """The registered estimators' names; with ``weights=True`` only those that take sample
    weights (``Estimator.supports_weights``), which the GIB plane needs."""
    return tuple(sorted(name for name, cls in _REGISTRY.items() if cls.supports_weights or not weights))


def get_estimator(estimator: str | Estimator = "binning", **options: Any) -> Estimator:
    """Build an estimator by name with its options, or pass an instance through.

    Raises
    ------
    ValueError
        Unknown estimator name.
    TypeError
        An option the estimator does not take (the message lists the ones it does).
    """
    if isinstance(estimator, Estimator):
        if options:
            raise TypeError(
                f"options {', '.join(f'`{k}`' for k in sorted(options))} were given with an estimator "
                "instance; set them when building it instead."
            )
        return estimator
    if estimator not in _REGISTRY:
        raise ValueError(
            f"`estimator` must be one of {', '.join(map(repr, available_estimators()))}; "
            f"got {estimator!r}."
        )
    cls = _REGISTRY[estimator]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"unknown option(s) {', '.join(f'`{k}`' for k in unknown)} for estimator {estimator!r}; "
            f"it takes: {', '.join(accepted) or 'no options'}."
        )
    return cls(**options)
