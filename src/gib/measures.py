"""Estimator-agnostic information measures (SPEC 2): MI, synergy, PMI weights.

Every function takes the estimator by name (or instance) and its options; none of them knows
which estimator it got, and none loops over features itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_same_length, one_of
from .estimators import LeaveOneOut, discrete_codes, get_estimator

SYNERGY_KINDS = ("featurewise", "sum_vs_whole")


def entropy(a: Any, estimator: Any = "binning", weights: Any = None, **options: Any) -> float:
    """H(A) in bits. ``a`` is samples x features (a 1-D array is one variable)."""
    return get_estimator(estimator, **options).entropy(a, weights)


def mutual_information(a: Any, b: Any, estimator: Any = "binning", weights: Any = None, **options: Any) -> float:
    """I(A;B) = H(A) + H(B) - H(A,B) in bits; multi-column A or B are joint variables."""
    return get_estimator(estimator, **options).mutual_information(a, b, weights)


def leave_one_out(X: Any, v: Any, estimator: Any = "binning", weights: Any = None, **options: Any) -> LeaveOneOut:
    """I(X;V), every I(X_i;V) and every I(X_-i;V) in one call, in bits."""
    return get_estimator(estimator, **options).leave_one_out(X, v, weights)


def synergy_from(t: LeaveOneOut, kind: str = "featurewise") -> float:
    """Synergy from leave-one-out pieces.

    ``featurewise`` (paper Eq. 2): mean_i [I(X;V) - I(X_i;V) - I(X_-i;V)].
    ``sum_vs_whole`` (Appendix I): I(X;V) - sum_i I(X_i;V).
    """
    kind = one_of(kind, "kind", SYNERGY_KINDS)
    if kind == "featurewise":
        return float(np.mean(t.joint - t.single - t.complement))
    return float(t.joint - np.sum(t.single))


def synergy(
    X: Any, v: Any, estimator: Any = "binning", kind: str = "featurewise", weights: Any = None, **options: Any
) -> float:
    """Synergy of the features of X about V in bits (positive = synergy, negative = redundancy).

    Examples
    --------
    >>> import numpy as np, itertools
    >>> X = np.array(list(itertools.product([0, 1], repeat=2)))
    >>> round(synergy(X, X[:, 0] ^ X[:, 1], estimator="discrete"), 6)
    1.0
    """
    one_of(kind, "kind", SYNERGY_KINDS)
    return synergy_from(leave_one_out(X, v, estimator, weights, **options), kind)


def pmi_weights(yhat: Any, y: Any, n_bins: int = 30) -> np.ndarray:
    """PMI weights of SPEC 2: w_k proportional to p(yhat_k, y_k) / (p(yhat_k) p(y_k)).

    The probabilities come from the joint histogram of (Yhat, Y); floating-point outputs or
    targets are binned in ``n_bins`` equal-width bins. The weights sum to 1. For a perfect
    predictor (Yhat = Y) every class receives the same total weight.
    """
    a, b = discrete_codes(yhat, "yhat", n_bins), discrete_codes(y, "y", n_bins)
    n = check_same_length(yhat=a, y=b)
    ka, kb = a.max() + 1, b.max() + 1
    joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb) / n
    pa, pb = joint.sum(axis=1), joint.sum(axis=0)
    w = joint[a, b] / (pa[a] * pb[b])
    return w / w.sum()
