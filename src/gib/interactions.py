"""Higher-order measures of every multiplet: which groups of variables are synergistic or
redundant (SPEC 3; Rosas et al. 2019; hoi's ``Oinfo(x).fit(minsize, maxsize)``).

:func:`multiplets` gives one of the higher-order measures (:mod:`gib.measures`: total and dual
total correlation, O- and S-information) of every subset S of the columns of X whose size is one
of ``orders``, as a tidy table. With a target y it gives the measure of the variables (X_S, y)
together (hoi's "task-related" measures: the O-information of (X_S, y) is negative when the
multiplet carries information about y synergistically) or, with ``measure="synergy"``, the
feature-wise synergy of X_S about y (:func:`gib.synergy`).

Each subset entropy once
------------------------
A multiplet S of order k needs H(X_S), every H(X_i) and every H(X_S-i); each S-i of k - 1
variables lies in n - k + 1 multiplets of order k. So the entropies of all subsets of each
needed size are estimated once, in batches (``Estimator.subset_entropies``: plug-in row keys
summed from per-column terms, ``gcmi`` log-determinants of principal submatrices of one
covariance, ``kde`` squared distances summed from per-column gaps), and kept in one array per
size, indexed by the subsets' colexicographic ranks ``sum_j C(c_j, j + 1)`` (c_0 < c_1 < ...):
the measures of the multiplets are then sums of
looked-up entropies, one vectorised pass per chunk of multiplets. Memory: the arrays hold
C(n, s) floats for each size s used (fewer than the C(n, k) rows of the table itself when
k <= n / 2), and the work goes in chunks of ``_CHUNK`` subsets.

With a target, H(X_S, y) is the entropy of a subset of the columns (X, y): for the plug-in
estimators X and y are coded separately (their own bins or labels) and joined as codes.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ._progress import progress_bar
from ._validation import as_samples, check_same_length, one_of
from .estimators import DiscreteEstimator, GaussianCopulaEstimator, PlugInEstimator, get_estimator
from .measures import HIGHER_ORDER_MEASURES

#: the measures :func:`multiplets` computes; "synergy" needs a target
MULTIPLET_MEASURES = HIGHER_ORDER_MEASURES + ("synergy",)
# Subsets estimated (and multiplets combined) per batch.
_CHUNK = 1 << 14
# Calls estimating fewer subsets than this show no progress bar (they take about a second).
_PROGRESS_SUBSETS = 20_000


def _combination_chunks(n: int, k: int):
    """The k-subsets of range(n) in ``itertools.combinations`` order, as (rows, k) intp arrays of
    at most ``_CHUNK`` rows, from one iterator (no subset generated twice)."""
    combos = itertools.combinations(range(n), k)
    total = math.comb(n, k)
    for start in range(0, total, _CHUNK):
        rows = min(_CHUNK, total - start)
        flat = itertools.chain.from_iterable(itertools.islice(combos, rows))
        yield np.fromiter(flat, dtype=np.intp, count=rows * k).reshape(rows, k)


class _Ranks:
    """Colexicographic ranks of sorted subsets of range(n) (module docstring)."""

    def __init__(self, n: int, largest: int):
        self.binomial = np.array([[math.comb(v, j) for j in range(largest + 2)] for v in range(n + 1)],
                                 dtype=np.int64)

    def __call__(self, subsets: np.ndarray) -> np.ndarray:
        j = np.arange(1, subsets.shape[1] + 1)
        return np.sum(self.binomial[subsets, j], axis=1)


class _SubsetTables:
    """The entropy of every s-subset of X's n columns, alone (``alone[s]``) and with the target
    appended (``with_target[s]``), for the sizes asked, indexed by colexicographic rank."""

    def __init__(self, entropy_of: Any, n: int, target: np.ndarray | None, ranks: _Ranks):
        self.entropy_of, self.n, self.target, self.ranks = entropy_of, n, target, ranks
        self.alone: dict[int, np.ndarray] = {}
        self.with_target: dict[int, np.ndarray] = {}

    def fill(self, sizes: list[tuple[int, bool]], bar: Any) -> None:
        for s, joined in sizes:
            table = self.with_target if joined else self.alone
            if s in table:
                continue
            values = np.empty(math.comb(self.n, s))
            for subsets in _combination_chunks(self.n, s):
                asked = subsets
                if joined:  # the target's columns after the subset's
                    asked = np.column_stack([subsets, np.broadcast_to(self.target, (len(subsets), len(self.target)))])
                values[self.ranks(subsets)] = self.entropy_of(asked)
                bar.update(len(subsets))
            table[s] = values

    def lookup(self, subsets: np.ndarray, joined: bool = False) -> np.ndarray:
        return (self.with_target if joined else self.alone)[subsets.shape[1]][self.ranks(subsets)]


def _needed(measure: str, orders: list[int], target: bool) -> list[tuple[int, bool]]:
    """The (size, with the target?) subset tables the measure of every order needs."""
    sizes: set[tuple[int, bool]] = set()
    for k in orders:
        if measure == "synergy":  # I(X_S;y), I(X_i;y), I(X_S-i;y), each from H(.) and H(., y)
            sizes |= {(k, False), (k, True), (1, False), (1, True), (k - 1, False), (k - 1, True)}
        elif target:  # the k + 1 variables (X_S, y): H(X_S, y), H(X_i), and H(X_S-i, y), H(X_S) but for TC
            sizes |= {(k, True), (1, False)}
            if measure != "total_correlation":
                sizes |= {(k - 1, True), (k, False)}
        else:
            sizes |= {(k, False), (1, False)}
            if measure != "total_correlation":
                sizes |= {(k - 1, False)}
    return sorted(s for s in sizes if s[0] >= 1)


def _values(measure: str, combos: np.ndarray, tables: _SubsetTables, h_target: float | None) -> np.ndarray:
    """The measure of each multiplet (row of ``combos``) from the subset tables (the definitions
    of :mod:`gib.measures`; with a target, over the k + 1 variables (X_S, y))."""
    m, k = combos.shape
    single = tables.lookup(combos.reshape(-1, 1)).reshape(m, k)
    drop = [np.delete(combos, i, axis=1) for i in range(k)]
    if measure == "synergy":  # mean_i [I(X_S;y) - I(X_i;y) - I(X_S-i;y)], I(A;y) = H(A) + H(y) - H(A,y)
        mi_joint = tables.lookup(combos) + h_target - tables.lookup(combos, True)
        mi_single = single + h_target - tables.lookup(combos.reshape(-1, 1), True).reshape(m, k)
        mi_rest = np.column_stack([tables.lookup(d) + h_target - tables.lookup(d, True) for d in drop])
        return np.mean(mi_joint[:, None] - mi_single - mi_rest, axis=1)
    if h_target is None:
        joint, single_sum, size = tables.lookup(combos), single.sum(axis=1), k
        rest = None if measure == "total_correlation" else [tables.lookup(d) for d in drop]
    else:  # (X_S, y): its singles add H(y), its complements add X_S (y left out)
        joint, single_sum, size = tables.lookup(combos, True), single.sum(axis=1) + h_target, k + 1
        rest = None if measure == "total_correlation" else [tables.lookup(d, True) for d in drop] + [
            tables.lookup(combos)]
    tc = single_sum - joint
    if rest is None:
        return tc
    dtc = np.sum(rest, axis=0) - (size - 1) * joint
    return {"dual_total_correlation": dtc, "o_information": tc - dtc, "s_information": tc + dtc}[measure]


def _orders(orders: Any, n: int, measure: str) -> list[int]:
    values = [orders] if isinstance(orders, (int, np.integer)) else list(orders)
    if not values or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in values):
        raise ValueError(f"`orders` must be an integer or a sequence of integers (multiplet sizes), got {orders!r}.")
    low = 2
    bad = sorted({int(k) for k in values if not low <= k <= n})
    if bad:
        raise ValueError(
            f"`orders` {bad} out of range: a multiplet has from {low} to n = {n} variables (X has {n} "
            f"columns); for {measure} pass sizes in {low}..{n}."
        )
    return sorted({int(k) for k in values})


def multiplets(X: Any, measure: str = "o_information", orders: Any = (3, 4), estimator: Any = "binning",
               target: Any = None, progress: bool | None = None, **options: Any):
    """A higher-order measure of every multiplet (subset of columns) of X of the given orders.

    Parameters
    ----------
    X : array (N, n) or DataFrame
        Samples x variables; each column is one variable.
    measure : {"o_information", "total_correlation", "dual_total_correlation", "s_information", "synergy"}
        The measure of each multiplet S, in bits, as :func:`gib.o_information` and its relatives
        define it on the columns X_S. With ``target``: the measure of the variables (X_S, y)
        together (hoi's task-related measures; an O-information below 0 means the multiplet
        tells y synergistically), or "synergy": the feature-wise synergy of X_S about y,
        :func:`gib.synergy` ``(X[:, S], y)`` (needs ``target``).
    orders : int or sequence of int, default (3, 4)
        The multiplet sizes k, each in 2..n: every one of the C(n, k) subsets is measured.
    estimator : str or Estimator, default "binning"
        Any estimator (:func:`gib.get_estimator`), by name or instance. ``binning``, ``discrete``,
        ``gcmi`` and ``kde`` estimate a batch of subsets at once; the others each subset on its
        own (each still once).
    target : array (N,), optional
        A variable y (one column) for the task-related measures and the synergy.
    progress : bool, optional
        Show a progress bar over the subsets estimated; default: when there are more than
        20,000 of them.
    **options
        The estimator's options.

    Returns
    -------
    pandas.DataFrame
        One row per multiplet, ordered by order and then as ``itertools.combinations``:
        ``multiplet`` (tuple of column indices), ``order`` (k), ``value`` (bits), and ``names``
        (tuple of column names) when X is a DataFrame.

    Notes
    -----
    Every subset entropy is estimated once however many multiplets contain it (module
    docstring), so a call costs about as many entropy estimates as there are subsets of sizes
    k and k - 1, not 2k + 1 per multiplet. The synergy with a ``gcmi`` estimator and class
    labels as target, and with ``kde``, ``kde_upper``, ``renyi`` or ``ksg``, whose mutual
    information is not a difference of their entropies, is computed per multiplet with
    :func:`gib.synergy`.

    Examples
    --------
    >>> import itertools, numpy as np
    >>> bits = np.array(list(itertools.product([0, 1], repeat=2)))
    >>> X = np.column_stack([bits, bits[:, 0] ^ bits[:, 1], bits[:, 0]])  # x2 = x0 XOR x1, x3 = x0
    >>> frame = multiplets(X, orders=3, estimator="discrete")
    >>> frame[["multiplet", "value"]].round(6).to_dict("list")  # two XOR triplets: 1 bit of synergy each
    {'multiplet': [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)], 'value': [-1.0, 0.0, 0.0, -1.0]}
    """
    import pandas as pd

    names = list(X.columns) if isinstance(X, pd.DataFrame) else None
    X = as_samples(X, "X")
    N, n = X.shape
    measure = one_of(measure, "measure", MULTIPLET_MEASURES)
    if measure == "synergy" and target is None:
        raise ValueError("`measure`='synergy' is the synergy of each multiplet about a target: pass `target`.")
    orders = _orders(orders, n, measure)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"`progress` must be True, False or None, got {progress!r}.")
    est = get_estimator(estimator, **options)
    y = None
    if target is not None:
        y = as_samples(target, "target")
        check_same_length(X=X, target=y)
        if y.shape[1] != 1:
            raise ValueError(f"`target` must be one variable (shape (N,)), got {y.shape[1]} columns.")
        if y.dtype.kind in "US" and not isinstance(est, PlugInEstimator):
            raise TypeError(
                f"`target` holds labels (dtype {y.dtype}), but the {est.name} entropies need numbers there: "
                "pass integer class codes, or a plug-in estimator ('binning', 'discrete')."
            )

    if measure == "synergy" and not _synergy_from_entropies(est, y):
        synergies = lambda combos: np.array([_synergy_of(est, X[:, c], y) for c in combos])  # noqa: E731
        return _frame(measure, orders, n, names, synergies, progress, sum(math.comb(n, k) for k in orders))

    if y is None:
        data, target_columns = X, None
    elif isinstance(est, PlugInEstimator):  # coded apart (each its own bins or labels), joined as codes
        data = np.column_stack([np.asarray(est.codes(X)), np.asarray(est.codes(y))])
        est, target_columns = DiscreteEstimator(bias=est.bias), np.array([n])
    else:
        data, target_columns = np.column_stack([X.astype(np.float64), y.astype(np.float64)]), np.array([n])
    entropy_of = est.subset_entropies(data)
    needed = _needed(measure, orders, y is not None)
    ranks = _Ranks(n, max(orders) + 1)
    tables = _SubsetTables(entropy_of, n, target_columns, ranks)
    h_target = None if y is None else float(entropy_of(target_columns[None, :])[0])
    total = sum(math.comb(n, s) for s, _ in needed)
    with progress_bar(total=total, desc=f"multiplets: {measure}", unit="subset",
                      enabled=progress if progress is not None else total > _PROGRESS_SUBSETS) as bar:
        tables.fill(needed, bar)
    return _frame(measure, orders, n, names, lambda combos: _values(measure, combos, tables, h_target), False, 0)


def _synergy_of(est: Any, X_S: np.ndarray, y: np.ndarray) -> float:
    """:func:`gib.synergy` (feature-wise) of X_S about y, one multiplet on its own."""
    t = est.leave_one_out(X_S, y)
    return float(np.mean(t.joint - t.single - t.complement))


def _synergy_from_entropies(est: Any, y: np.ndarray) -> bool:
    """Whether the estimator's I(A;y) is H(A) + H(y) - H(A, y) of its own entropies: the plug-in
    estimators, and ``gcmi`` against a continuous target (Ince's gcmi_cc)."""
    if isinstance(est, PlugInEstimator):
        return True
    if isinstance(est, GaussianCopulaEstimator):
        return not est._classes_of(y)
    return False


def _frame(measure: str, orders: list[int], n: int, names: list | None, values_of: Any, progress: bool | None,
           total: int):
    """The table of :func:`multiplets`, built in chunks of multiplets (``values_of(combos)``
    gives their values); ``attrs["measure"]`` records the measure for :func:`multiplets_nbest`."""
    import pandas as pd

    labels = None if names is None else np.array(names + [None], dtype=object)[:-1]  # an object array of names
    parts = []
    with progress_bar(total=total, desc="multiplets", unit="multiplet",
                      enabled=bool(progress) if progress is not None else total > _PROGRESS_SUBSETS // 10) as bar:
        for k in orders:
            for combos in _combination_chunks(n, k):
                part = {"multiplet": _tuples(combos), "order": np.full(len(combos), k), "value": values_of(combos)}
                if names is not None:
                    part["names"] = _tuples(labels[combos])
                parts.append(pd.DataFrame(part))
                bar.update(len(combos))
    frame = pd.concat(parts, ignore_index=True)
    frame.attrs["measure"] = measure
    return frame


def _tuples(rows: np.ndarray) -> list[tuple]:
    """The rows of a 2-D array as tuples of Python scalars (column lists zipped: no list per row)."""
    return list(zip(*rows.T.tolist()))


def multiplets_nbest(frame: Any, n: int = 10, kind: str = "synergy", order: int | None = None):
    """The ``n`` most synergistic or most redundant multiplets of a :func:`gib.interactions.multiplets` table
    (hoi's ``get_nbest_mult``).

    Parameters
    ----------
    frame : DataFrame
        A table of :func:`multiplets` of the O-information (the task-related one included) or
        of the synergy (columns ``multiplet``, ``order``, ``value``).
    n : int, default 10
        How many multiplets (all of them if the table has fewer).
    kind : {"synergy", "redundancy"}
        Which end of the values. The O-information is negative where synergy dominates and
        positive where redundancy does (Rosas et al. 2019); the feature-wise synergy is
        positive for synergy and negative for redundancy. The table's ``attrs["measure"]``
        (set by :func:`multiplets`) says which it holds; without it, the O-information's sign.
    order : int, optional
        Only the multiplets of this order.

    Returns
    -------
    DataFrame
        The selected rows, the strongest first, with their original index.

    Examples
    --------
    >>> import itertools, numpy as np
    >>> bits = np.array(list(itertools.product([0, 1], repeat=2)))
    >>> X = np.column_stack([bits, bits[:, 0] ^ bits[:, 1], bits[:, 0]])
    >>> multiplets_nbest(multiplets(X, orders=3, estimator="discrete"), n=1)["multiplet"].tolist()
    [(0, 1, 2)]
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame) or not {"multiplet", "order", "value"} <= set(frame.columns):
        raise ValueError("`frame` must be a table of gib.multiplets (columns multiplet, order, value).")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}.")
    kind = one_of(kind, "kind", ("synergy", "redundancy"))
    measure = frame.attrs.get("measure", "o_information")
    if measure not in ("o_information", "synergy"):
        raise ValueError(
            f"`frame` holds the {measure}, which does not tell synergy from redundancy; rank it "
            "directly (frame.nlargest(n, 'value')), or pass a table of the O-information or the synergy."
        )
    if order is not None:
        frame = frame[frame["order"] == order]
    highest = (kind == "redundancy") != (measure == "synergy")
    return frame.nlargest(n, "value") if highest else frame.nsmallest(n, "value")
