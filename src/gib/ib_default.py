"""The IB plane's default estimator: ``kde_upper`` on each layer, with Gaussian noise set at
every record step to a fixed fraction of that layer's own spread.

Why not binning
---------------
A plug-in estimate of I(X;T) counts the distinct binned rows of T. A probe set of N distinct
inputs through any layer wider than a few units gives N distinct rows at any bin count that
still resolves the activations, so binning reports I(X;T) = log2 N and I(T;Y) = H(Y) for every
layer at every record step: a plane without signal (``docs/ib-default.md`` has the
measurements; two bins leave a 128-unit layer at its ceiling too).

The rule
--------
Saxe et al. (2018) and Goldfeld et al. (2019) make I(X;T) finite by reading the layer through
additive Gaussian noise, T + N(0, s2 I); Saxe et al. bound the information of the noisy layer
with the Kolchinsky-Tracey pairwise-distance estimator, gib's ``kde_upper``: with X of
distinct rows,

$$ I(X;T) \\le -\\frac{1}{N}\\sum_i \\log_2 \\frac{1}{N}\\sum_j e^{-\\lVert t_i - t_j\\rVert^2 / 2 s^2}, $$

and I(T;Y) is the same expression less its within-class average. The estimate lies between 0
(all samples within the noise of each other) and log2 N (every sample farther than the noise
from every other), so s2 is the ruler. The default sets it, per layer and per record step, to

    s2 = NOISE_FRACTION * median over pairs i < j of |t_i - t_j|^2,

the layer's typical squared distance between two probe samples (``NOISE_FRACTION`` = 0.1).

Per record, not fixed once: a variance fixed in the activations' units (Saxe et al.'s 0.1 for
MNIST, or one taken from the untrained network at the first record) is overtaken by the growth
of the activations during training: on the MNIST CNN of ``docs/ib-default.md`` every layer but
the first is back at log2 N after one epoch whatever fraction of its initial nearest-neighbour
distance the noise was. A noise tied to the layer's current spread is a ruler fixed in the
layer's own units: the estimate does not change when a layer's activations are scaled, so it
reports how the samples are arranged relative to their spread (how far they cluster, the
geometric reading of compression of Goldfeld et al.), not how large the weights have grown.
The spread is the median of all pairwise distances, a global scale: a local one (the
nearest-neighbour distance, as Wickstrøm et al. 2019 use for their kernel width) shrinks as
the samples cluster and so cancels the clustering it should measure.

Wide layers are first reduced to ``SKETCH_WIDTH`` columns by
:func:`gib.estimators.kde.sketch_columns` (a fixed count sketch, squared distances kept in
expectation), the estimator's ``sketch`` option: the pair sums of a 37 000-wide convolutional
map then cost as much as those of a 4096-wide layer (the measured difference to the exact
estimate is in ``docs/ib-default.md``).

The rule is deterministic: the same activations give the same estimator, options and values.

References
----------
Saxe, Bansal, Dapello, Advani, Kolchinsky, Tracey & Cox, "On the information bottleneck theory
of deep learning", ICLR 2018 / J. Stat. Mech. 2019. Kolchinsky & Tracey, "Estimating mixture
entropy with pairwise distances", Entropy 19 (2017) 361. Goldfeld, van den Berg, Greenewald,
Melnyk, Nguyen, Kingsbury & Polyanskiy, "Estimating information flow in deep neural networks",
ICML 2019. Wickstrøm, Løkse, Kampffmeyer, Yu, Principe & Jenssen, "Information plane analysis of
deep neural networks via matrix-based Renyi's entropy and tensor kernels", arXiv:1909.11396
(2019).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._validation import as_samples, check_same_length, positive_float
from .planes import ib_ceilings
from .estimators.kde import sketch_columns

#: The estimator the default rule names.
DEFAULT_IB_ESTIMATOR = "kde_upper"
#: s2 = NOISE_FRACTION * (median squared distance between two probe rows of the layer), chosen by
#: ``benchmarks/ib_default_study.py`` (``docs/ib-default.md``).
NOISE_FRACTION = 0.1
#: Layers wider than this are sketched to at most this many columns (``kde_upper``'s ``sketch``).
SKETCH_WIDTH = 4096
#: The noise of a layer whose probe rows are all equal (any value gives I = 0 there).
CONSTANT_LAYER_NOISE = 1.0
#: The most probe rows the default estimates on: a larger probe is thinned to this many evenly
#: spaced rows (:func:`probe_rows`), since the pair sums cost N^2 per layer and record.
MAX_SAMPLES = 1000
_LN2 = math.log(2.0)


def _host_samples(T: Any, name: str) -> np.ndarray:
    """T as a floating-point (N, d) NumPy array, float32 kept (the Gram product's precision)."""
    if hasattr(T, "detach") and hasattr(T, "cpu"):  # a torch tensor
        T = T.detach()
        T = (T.float() if str(T.dtype) in ("torch.bfloat16", "torch.float16") else T).cpu().numpy()
    T = as_samples(T, name)
    if T.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` has dtype {T.dtype}; a layer's activations are numbers.")
    if T.dtype not in (np.float32, np.float64):
        T = T.astype(np.float64)
    return T  # as_samples has refused NaN and infinities, naming the argument


def squared_distances(T: Any, sketch: int | None = None) -> np.ndarray:
    """The (N, N) float64 matrix of squared Euclidean distances between the rows of ``T``
    (any shape, first axis = samples; flattened), from one Gram product of the centred rows;
    with ``sketch``, of the rows of ``sketch_columns(T, sketch)`` (``kde_upper``'s option).

    The product runs in T's precision (float32 activations: float32, the cost of a record step
    on a wide layer); centring first keeps the cancellation in ``|a|^2 + |b|^2 - 2 a.b`` at the
    scale of the spread, not of the mean. Entries are clipped at 0 and the diagonal is exactly 0.
    """
    return _squared_distances(_host_samples(T, "T"), sketch)


def _squared_distances(T: np.ndarray, sketch: int | None) -> np.ndarray:
    """:func:`squared_distances` of a T already checked (:func:`_host_samples`): one pass over a
    wide layer fewer in a record step."""
    if sketch is not None:
        T = sketch_columns(T, sketch)
    centred = T - T.mean(axis=0, dtype=np.float64).astype(T.dtype)
    gram = (centred @ centred.T).astype(np.float64)
    norms = np.einsum("ij,ij->i", centred, centred, dtype=np.float64)
    d2 = norms[:, None] + norms[None, :] - 2.0 * gram
    np.maximum(d2, 0.0, out=d2)
    np.fill_diagonal(d2, 0.0)
    return d2


def typical_squared_distance(d2: np.ndarray) -> float:
    """The median over pairs i < j of a squared-distance matrix: the layer's spread."""
    return float(np.median(d2[_upper_triangle(len(d2))]))


@functools.lru_cache(maxsize=4)
def _upper_triangle(n: int) -> np.ndarray:
    """The boolean mask of the pairs i < j of n samples, kept for the next record step."""
    return np.triu(np.ones((n, n), dtype=bool), 1)


def noise_from_distances(d2: np.ndarray, fraction: float = NOISE_FRACTION) -> float:
    """The default noise variance of a layer from its squared-distance matrix: ``fraction``
    times :func:`typical_squared_distance`, to 4 significant digits so that the number a row or
    a config prints is the number used; :data:`CONSTANT_LAYER_NOISE` when that median is 0
    (a layer whose rows are mostly equal: its estimate is then near 0 at any noise)."""
    spread = typical_squared_distance(d2)
    if not spread > 0:
        return CONSTANT_LAYER_NOISE
    return float(f"{fraction * spread:.4g}")


def probe_rows(n: int, max_samples: int | None = MAX_SAMPLES) -> np.ndarray:
    """The rows of a probe of ``n`` samples that the default estimates on: all of them when
    ``n <= max_samples`` (or ``max_samples`` is None), else ``max_samples`` evenly spaced rows,
    the first and the last among them.

    Examples
    --------
    >>> probe_rows(5, 3)
    array([0, 2, 4])
    """
    if max_samples is None or n <= max_samples:
        return np.arange(n)
    if max_samples < 2:
        raise ValueError(f"`max_samples` must be at least 2 (or None: every row), got {max_samples!r}.")
    return np.unique(np.linspace(0, n - 1, max_samples).round().astype(np.int64))


def sketch_width(T: Any) -> int | None:
    """``kde_upper``'s ``sketch`` option for a layer: :data:`SKETCH_WIDTH` when the layer is
    wider, else None."""
    width = math.prod(np.shape(T)[1:])
    return SKETCH_WIDTH if width > SKETCH_WIDTH else None


def layer_options(T: Any, fraction: float = NOISE_FRACTION, d2: np.ndarray | None = None) -> dict[str, Any]:
    """The default ``kde_upper`` options of one layer's probe activations ``T`` (module
    docstring): ``{"noise_variance": s2}``, plus ``"sketch"`` for a layer wider than
    :data:`SKETCH_WIDTH`. ``d2``: T's squared distances when already computed (sketched when
    the layer is wide).

    Examples
    --------
    >>> layer_options(np.array([[0.0], [1.0], [3.0], [7.0]]))  # squared gaps 1, 4, 9, 16, 36, 49
    {'noise_variance': 1.25}
    """
    fraction = positive_float(fraction, "fraction")
    sketch = sketch_width(T)
    if d2 is None:
        d2 = squared_distances(T, sketch)
    options: dict[str, Any] = {"noise_variance": noise_from_distances(d2, fraction)}
    if sketch is not None:
        options["sketch"] = sketch
    return options


def default_ib_estimator(layers: Mapping[str, Any], X: Any = None, y: Any = None, *, fraction: float = NOISE_FRACTION,
                         max_samples: int | None = MAX_SAMPLES) -> dict[str, tuple[str, dict[str, Any]]]:
    """The default IB estimator of every layer, from the layers' probe activations at one record.

    Parameters
    ----------
    layers : {name: array (N, ...)}
        Each layer's activations T on the probe set at this record step (NumPy arrays or
        tensors; flattened per sample), the model's output included if its IB point is recorded.
    X, y : array (N, ...), optional
        The probe inputs and targets, only checked for length against the layers.
    fraction : float
        s2 as a multiple of the layer's median squared pairwise distance.
    max_samples : int or None
        A probe of more rows is thinned to the ``probe_rows(N, max_samples)`` (None: every row).

    Returns
    -------
    {name: (estimator, options)}
        ``("kde_upper", {"noise_variance": s2})`` per layer, with ``"sketch": SKETCH_WIDTH`` for
        a layer wider than :data:`SKETCH_WIDTH`; s2 > 0 to 4 significant digits, deterministic
        given the activations. With ``rows = probe_rows(N, max_samples)``,
        ``gib.ib_point(T[rows], X[rows], y[rows], estimator, **options)`` gives the layer's point
        under it (all rows for N <= max_samples); :func:`estimator_label` writes it for a row.

    Examples
    --------
    >>> T = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> default_ib_estimator({"fc": T})
    {'fc': ('kde_upper', {'noise_variance': 1.25})}
    """
    fraction = positive_float(fraction, "fraction")
    if not isinstance(layers, Mapping) or not layers:
        raise TypeError("`layers` must be a non-empty mapping {layer name: activations (N, ...)}.")
    hosted = {name: _host_samples(T, f"layers[{name!r}]") for name, T in layers.items()}
    lengths = {f"layers[{name!r}]": T for name, T in hosted.items()}
    if X is not None:
        lengths["X"] = as_samples(X, "X")
    if y is not None:
        lengths["y"] = as_samples(y, "y")
    n = check_same_length(**lengths)
    rows = probe_rows(n, max_samples)
    return {name: (DEFAULT_IB_ESTIMATOR, layer_options(T if len(rows) == n else T[rows], fraction))
            for name, T in hosted.items()}


def estimator_label(name: str, options: Mapping[str, Any]) -> str:
    """One string naming an estimator and its options, for a row or a config:
    ``estimator_label("kde_upper", {"noise_variance": 0.0123})`` is
    ``"kde_upper(noise_variance=0.0123)"``; no options: the bare name."""
    if not options:
        return str(name)
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in sorted(options.items()))})"


class KDEUpperIB:
    """The ``kde_upper`` IB point of many layers on one probe set, each from one distance matrix.

    What depends only on the probe set, the groups of samples sharing a row of X and a row of y,
    is computed here once. :meth:`KDEUpperIB.default_point` (the default rule) and
    :meth:`KDEUpperIB.point` (given options) then need one Gram product of T (:func:`squared_distances`) and O(N^2) work, and
    equal ``gib.ib_point(T[rows], X[rows], y[rows], "kde_upper", **options)`` (up to the Gram
    product's rounding in float32), which computes the same sums by direct summation, six passes
    over T.

    Parameters
    ----------
    X : array (N, ...)
        The X of I(X;T); its distinct rows are the groups (a probe of distinct inputs: singletons).
    y : array (N,) or (N, k)
        The targets; their distinct rows are the classes.
    max_samples : int or None
        A probe of more rows is estimated on ``rows = probe_rows(N, max_samples)`` alone (each T
        is thinned the same way); None: every row.

    Attributes
    ----------
    rows : array of int
        The probe rows the points are estimated on.
    ceilings : (float, float)
        ``gib.ib_ceilings(X[rows], y[rows], "kde_upper")``: min(log2 n, H(X)) and H(Y) of those rows.
    """

    def __init__(self, X: Any, y: Any, max_samples: int | None = MAX_SAMPLES):
        X, y = as_samples(X, "X"), as_samples(y, "y")
        self.n = check_same_length(X=X, y=y)
        self.rows = probe_rows(self.n, max_samples)
        X, y = X[self.rows], y[self.rows]
        self.x_codes = np.unique(X, axis=0, return_inverse=True)[1].ravel()
        self.y_codes = np.unique(y, axis=0, return_inverse=True)[1].ravel()
        self.ceilings = ib_ceilings(X, y, estimator=DEFAULT_IB_ESTIMATOR)

    def distances(self, T: Any, sketch: int | None = None) -> np.ndarray:
        """:func:`squared_distances` of T's ``rows``, T checked against the probe's length."""
        T = _host_samples(T, "T")
        if len(T) != self.n:
            raise ValueError(f"`T` has {len(T)} samples but the probe set {self.n}; pass the layer's probe "
                             "activations.")
        return _squared_distances(T if len(self.rows) == self.n else T[self.rows], sketch)

    def default_point(self, T: Any, fraction: float = NOISE_FRACTION) -> tuple[dict[str, Any], float, float]:
        """(options, I(X;T), I(T;Y)) of one layer under the default rule, from one distance
        matrix: the options are :func:`layer_options`' (the row's parameters), the two
        informations in bits."""
        sketch = sketch_width(T)
        d2 = self.distances(T, sketch)
        options = layer_options(T[:2], fraction, d2)  # the width decides the sketch; d2 the noise
        return (options, *self.point(T, d2=d2, **options))

    def point(self, T: Any, noise_variance: float, sketch: int | None = None,
              d2: np.ndarray | None = None) -> tuple[float, float]:
        """(I(X;T), I(T;Y)) in bits of the noisy layer T + N(0, noise_variance I) (T sketched to
        ``sketch`` columns first, as ``kde_upper`` does); ``d2``: those squared distances when
        already computed."""
        noise_variance = positive_float(noise_variance, "noise_variance")
        kernel = np.exp((self.distances(T, sketch) if d2 is None else d2) * (-0.5 / noise_variance))
        log_all = np.log(kernel.mean(axis=1))
        return (float(np.mean(self._log_within(kernel, self.x_codes) - log_all)) / _LN2,
                float(np.mean(self._log_within(kernel, self.y_codes) - log_all)) / _LN2)

    @staticmethod
    def _log_within(kernel: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Per sample i, log of the mean of kernel[i, j] over the j in i's group."""
        counts = np.bincount(codes)
        if len(counts) == len(codes):  # every sample its own group: log(kernel[i, i]) = 0
            return np.zeros(len(codes))
        if len(counts) <= 256:  # few groups: one product with the group indicator
            indicator = np.zeros((len(codes), len(counts)))
            indicator[np.arange(len(codes)), codes] = 1.0
            sums = (kernel @ indicator)[np.arange(len(codes)), codes]
        else:
            sums = np.empty(len(codes))
            for group in np.flatnonzero(counts):
                idx = np.flatnonzero(codes == group)
                sums[idx] = kernel[np.ix_(idx, idx)].sum(axis=1)
        return np.log(sums / counts[codes])
