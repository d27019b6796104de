"""Estimator-agnostic information measures (SPEC 2, 3): MI, synergy, PMI weights, and the
higher-order measures (total correlation, dual total correlation, O- and S-information).

Every function takes the estimator by name (or instance) and its options; none of them knows
which estimator it got, and none loops over features itself.

The higher-order measures (SPEC 3; Rosas, Mediano, Gastpar & Jensen 2019)
--------------------------------------------------------------------------
Over n variables X = (X_1, ..., X_n), with ``H(X_i | X_-i) = H(X) - H(X_-i)``:

- total correlation ``TC = sum_i H(X_i) - H(X)``;
- dual total correlation ``DTC = H(X) - sum_i H(X_i | X_-i) = sum_i H(X_-i) - (n - 1) H(X)``;
- O-information ``O = TC - DTC = (n - 2) H(X) + sum_i [H(X_i) - H(X_-i)]``: positive when the
  dependencies are dominated by redundancy, negative when by synergy;
- S-information ``S = TC + DTC = sum_i [H(X_i) + H(X_-i)] - n H(X)``.

So each needs the 2n + 1 entropies H(X), H(X_i), H(X_-i): one ``Estimator.entropies`` call.
The per-feature gradients (Scagliarini et al. 2023) ``d_i M = M(X) - M(X_-i)`` need the same
measure on every X_-i, whose n - 1 variables have singles H(X_j) and complements H(X_-{i,j})
(j != i): TC(X_-i) needs no new subset, but DTC, O and S of X_-i need every pair complement,
n (n - 1) / 2 more entropies of n - 2 features (``Estimator.pair_complement_entropies``). Their
cost: Gaussian copula, one inverse covariance (O(n^3), every sub-determinant from it); plug-in,
one sort of N keys per pair (O(n^2 N log N)); KDE, the N^2 exponentials of each pair, whose
distances come from the full ones by two subtractions (O(n^2 N^2)). Other estimators compute
each subset on its own (the ``Estimator`` defaults).

Also here: the synergy ratio of App. E.2 (:func:`synergy_ratio`), a measure over a teacher's and a
student's softmax outputs rather than over samples of features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._compat import keyword_only, renamed
from ._validation import check_same_length, one_of, positive_int
from .estimators import Entropies, LeaveOneOut, discrete_codes, get_estimator

SYNERGY_KINDS = ("featurewise", "sum_vs_whole")
#: the higher-order measures, by name (each a function of this module)
HIGHER_ORDER_MEASURES = ("total_correlation", "dual_total_correlation", "o_information", "s_information")


@keyword_only
def entropy(a: Any, *, estimator: Any = "binning", weights: Any = None, **options: Any) -> float:
    """H(A) in bits. ``a`` is samples x features (a 1-D array is one variable)."""
    return get_estimator(estimator, **options).entropy(a, weights)


@keyword_only
def mutual_information(a: Any, b: Any, *, estimator: Any = "binning", weights: Any = None,
                       **options: Any) -> float:
    """I(A;B) = H(A) + H(B) - H(A,B) in bits; multi-column A or B are joint variables."""
    return get_estimator(estimator, **options).mutual_information(a, b, weights)


@keyword_only
def leave_one_out(X: Any, v: Any, *, estimator: Any = "binning", weights: Any = None,
                  **options: Any) -> LeaveOneOut:
    """I(X;V), every I(X_i;V) and every I(X_-i;V) in one call, in bits."""
    return get_estimator(estimator, **options).leave_one_out(X, v, weights)


@keyword_only
def synergy_from(t: LeaveOneOut, *, kind: str = "featurewise") -> float:
    """Synergy from leave-one-out pieces.

    ``featurewise`` (paper Eq. 2): mean_i [I(X;V) - I(X_i;V) - I(X_-i;V)].
    ``sum_vs_whole`` (Appendix I): I(X;V) - sum_i I(X_i;V).
    """
    kind = one_of(kind, "kind", SYNERGY_KINDS)
    if kind == "featurewise":
        return float(np.mean(t.joint - t.single - t.complement))
    return float(t.joint - np.sum(t.single))


@keyword_only
def synergy(
    X: Any, v: Any, *, estimator: Any = "binning", kind: str = "featurewise", weights: Any = None, **options: Any
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
    return synergy_from(leave_one_out(X, v, estimator=estimator, weights=weights, **options), kind=kind)


@renamed("n_bins", "output_bins")
@keyword_only
def pmi_weights(yhat: Any, y: Any, *, output_bins: int = 30) -> np.ndarray:
    """PMI weights of SPEC 2: w_k proportional to p(yhat_k, y_k) / (p(yhat_k) p(y_k)).

    The probabilities come from the joint histogram of (Yhat, Y); floating-point outputs or
    targets are binned in ``output_bins`` equal-width bins (the name the GIB plane's functions use;
    ``n_bins`` is its deprecated name). The weights sum to 1. For a perfect
    predictor (Yhat = Y) every class receives the same total weight.
    """
    output_bins = positive_int(output_bins, "output_bins")
    a, b = discrete_codes(yhat, "yhat", output_bins), discrete_codes(y, "y", output_bins)
    n = check_same_length(yhat=a, y=b)
    ka, kb = a.max() + 1, b.max() + 1
    joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb) / n
    pa, pb = joint.sum(axis=1), joint.sum(axis=0)
    w = joint[a, b] / (pa[a] * pb[b])
    return w / w.sum()


# -- higher-order measures (module docstring) ----------------------------------------------------
def _correlations(joint: Any, single_sum: Any, complement_sum: Any, n: int) -> tuple[Any, Any]:
    """(TC, DTC) of n variables from H(X), sum_i H(X_i) and sum_i H(X_-i) (module docstring);
    broadcasts over arrays of subsets."""
    return single_sum - joint, complement_sum - (n - 1) * joint


def _combine(measure: str, tc: Any, dtc: Any) -> Any:
    return {"total_correlation": tc, "dual_total_correlation": dtc, "o_information": tc - dtc,
            "s_information": tc + dtc}[measure]


@keyword_only
def higher_order(measure: str, X: Any, *, estimator: Any = "binning", per_feature: bool = False,
                 weights: Any = None,
                 **options: Any) -> float | np.ndarray:
    """One of :data:`HIGHER_ORDER_MEASURES` of the features of X, in bits (see the module
    docstring for the definitions); ``per_feature=True`` gives every ``M(X) - M(X_-i)``."""
    measure = one_of(measure, "measure", HIGHER_ORDER_MEASURES)
    if not isinstance(per_feature, (bool, np.bool_)):
        raise TypeError(f"`per_feature` must be True or False, got {per_feature!r}.")
    est = get_estimator(estimator, **options)
    h: Entropies = est.entropies(X, weights)
    n = len(h.single)
    whole = _combine(measure, *_correlations(h.joint, np.sum(h.single), np.sum(h.complement), n))
    if not per_feature:
        return float(whole)
    # X_-i: joint H(X_-i), singles H(X_j) and complements H(X_-{i,j}) for j != i
    if measure == "total_correlation":
        pair_sums = np.zeros(n)  # TC needs no pair complements
    else:
        pairs = est.pair_complement_entropies(X, weights)
        pair_sums = pairs.sum(axis=1) - np.diagonal(pairs)
    tc, dtc = _correlations(h.complement, np.sum(h.single) - h.single, pair_sums, n - 1)
    return whole - _combine(measure, tc, dtc)


@keyword_only
def total_correlation(X: Any, *, estimator: Any = "binning", per_feature: bool = False, weights: Any = None,
                      **options: Any) -> float | np.ndarray:
    """Total correlation ``TC = sum_i H(X_i) - H(X)`` of the features of X, in bits (>= 0; 0 iff
    the features are independent).

    Parameters
    ----------
    X : array (N, n), n >= 2
        Samples x features; each column is one variable.
    estimator : str or Estimator
        Any estimator's entropies (``get_estimator``), by name or instance.
    per_feature : bool
        Return the gradients ``TC(X) - TC(X_-i)`` for every feature i, shape (n,), instead.
    weights : array (N,), optional
        Sample weights, as for ``entropy``.
    **options
        The estimator's options.

    Examples
    --------
    >>> import numpy as np
    >>> bit = np.array([0, 1] * 4)
    >>> round(total_correlation(np.column_stack([bit, bit, bit]), estimator="discrete"), 6)
    2.0
    """
    return higher_order("total_correlation", X, estimator=estimator, per_feature=per_feature, weights=weights,
                        **options)


@keyword_only
def dual_total_correlation(X: Any, *, estimator: Any = "binning", per_feature: bool = False, weights: Any = None,
                           **options: Any) -> float | np.ndarray:
    """Dual total correlation ``DTC = H(X) - sum_i H(X_i | X_-i)`` of the features of X, in bits
    (>= 0: the information shared by at least two features). Parameters as
    :func:`total_correlation`; ``per_feature`` gives ``DTC(X) - DTC(X_-i)``.

    Examples
    --------
    >>> import numpy as np
    >>> bit = np.array([0, 1] * 4)
    >>> round(dual_total_correlation(np.column_stack([bit, bit, bit]), estimator="discrete"), 6)
    1.0
    """
    return higher_order("dual_total_correlation", X, estimator=estimator, per_feature=per_feature, weights=weights,
                        **options)


@keyword_only
def o_information(X: Any, *, estimator: Any = "binning", per_feature: bool = False, weights: Any = None,
                  **options: Any) -> float | np.ndarray:
    """O-information ``O = TC - DTC = (n - 2) H(X) + sum_i [H(X_i) - H(X_-i)]`` of the features
    of X, in bits (Rosas et al. 2019): positive when redundancy dominates the dependencies,
    negative when synergy does. Parameters as :func:`total_correlation`; ``per_feature`` gives
    the gradients ``O(X) - O(X_-i)`` (Scagliarini et al. 2023).

    Examples
    --------
    >>> import itertools, numpy as np
    >>> ab = np.array(list(itertools.product([0, 1], repeat=2)))
    >>> xor = np.column_stack([ab, ab[:, 0] ^ ab[:, 1]])
    >>> round(o_information(xor, estimator="discrete"), 6)  # synergy: -1 bit
    -1.0
    >>> bit = np.array([0, 1] * 4)
    >>> round(o_information(np.column_stack([bit, bit, bit]), estimator="discrete"), 6)  # redundancy
    1.0
    """
    return higher_order("o_information", X, estimator=estimator, per_feature=per_feature, weights=weights,
                        **options)


@keyword_only
def s_information(X: Any, *, estimator: Any = "binning", per_feature: bool = False, weights: Any = None,
                  **options: Any) -> float | np.ndarray:
    """S-information ``S = TC + DTC = sum_i I(X_i; X_-i)`` of the features of X, in bits (James
    et al.'s exogenous information; Rosas et al. 2019). Parameters as :func:`total_correlation`;
    ``per_feature`` gives ``S(X) - S(X_-i)``."""
    return higher_order("s_information", X, estimator=estimator, per_feature=per_feature, weights=weights,
                        **options)


@dataclass(frozen=True)
class SynergyRatio:
    """The synergy ratio of App. E.2 (:func:`synergy_ratio`) and its parts, all in bits."""

    cross_entropy: float  #: student's cross-entropy = estimate of H(Y_T | X_clean)
    marginal_entropy: float  #: H(Y_T): entropy of the teacher's mean prediction over augmented samples
    mean_entropy: float  #: mean entropy of the teacher's per-sample softmax, H(Y_T | X_aug)
    ratio: float  #: cross_entropy / marginal_entropy

    @property
    def excess(self) -> float:
        """(cross-entropy - teacher's own mean entropy) / marginal: the KL part of the ratio."""
        return (self.cross_entropy - self.mean_entropy) / self.marginal_entropy


def distribution_entropy(p: Any) -> Any:
    """Entropy in bits of a probability vector, or of each row of a 2-D array of them
    (0 log 0 = 0): ``-sum_c p_c log2 p_c``. The distribution is given, not estimated from
    samples (:func:`entropy` estimates one).

    Parameters
    ----------
    p : array (..., C)
        Probabilities over C outcomes along the last axis.

    Returns
    -------
    float or ndarray
        One entropy per vector, in bits.
    """
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def _probability_rows(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"`{name}` must be samples x classes (2-D, non-empty), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or not np.allclose(arr.sum(1), 1.0, atol=1e-4):
        raise ValueError(f"`{name}` rows must be probability vectors (non-negative, summing to 1).")
    return arr


def synergy_ratio(teacher_probs: object, student_probs: object) -> SynergyRatio:
    """Synergy ratio ``H(Y_T | X_clean) / H(Y_T)`` of App. E.2: how much of a teacher's output
    entropy on augmented images a student cannot predict from the clean ones.

    Parameters
    ----------
    teacher_probs : array (M, C)
        The teacher's softmax on M augmented training samples ``aug(x)``.
    student_probs : array (M, C)
        The student's softmax on the matching clean images ``x`` (row k: the clean image whose
        augmentation gave row k of ``teacher_probs``).

    Returns
    -------
    SynergyRatio
        ``cross_entropy = mean_k -sum_c p_T[k, c] log2 q_S[k, c]`` (the paper: "the conditional
        entropy is estimated as the final cross-entropy loss ... of the converged student");
        ``marginal_entropy = H(mean_k p_T[k])`` (the paper's "marginal entropy of teacher
        predictions", the expectation over all augmented training samples); ``ratio`` their
        quotient, the proportion of the teacher's output entropy not predictable from clean images.

    Notes
    -----
    The numerator is the raw cross-entropy, not the KL: a student that matches an augmentation-
    invariant teacher exactly reaches ``mean_k H(p_T[k])``, the teacher's own conditional entropy,
    so the ratio is ``mean_entropy / marginal_entropy`` -- 0 for a confident (one-hot) teacher --
    and the best constant student (the marginal itself) gives exactly 1.
    """
    p = _probability_rows(teacher_probs, "teacher_probs")
    q = _probability_rows(student_probs, "student_probs")
    if p.shape != q.shape:
        raise ValueError(f"`teacher_probs` {p.shape} and `student_probs` {q.shape} must have the same shape.")
    log_q = np.log2(np.clip(q, np.finfo(np.float64).tiny, None))
    cross = float(np.mean(-(p * log_q).sum(1)))
    marginal = float(distribution_entropy(p.mean(0)))
    mean_entropy = float(np.mean(distribution_entropy(p)))
    if marginal <= 0:
        raise ValueError("the teacher predicts one class with certainty on every sample: H(Y_T) = 0 and "
                         "the synergy ratio is undefined.")
    return SynergyRatio(cross, marginal, mean_entropy, cross / marginal)
