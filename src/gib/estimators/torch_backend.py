"""PyTorch backend of the estimators' leave-one-out paths, on the CPU or a CUDA GPU (SPEC 3).

``get_estimator(name, device="cuda")``, or a torch tensor passed as X (its own device is used
unless ``device`` says otherwise), runs ``leave_one_out`` of ``discrete``, ``binning``, ``kde``,
``kde_upper`` and ``gcmi`` in torch, so that a training monitor computes its planes where the
model lives. Each function here mirrors one NumPy fast path step by step and returns the same
numbers (float64 throughout; the tests hold the two backends to 1e-9 bits for the plug-in
estimators and 1e-6 for the others):

- ``plugin_leave_one_out``: the 64-bit row hashes of ``plugin.py`` in int64 (wrap-around
  multiply and add give the same bits as uint64; keys are grouped by exact equality and by
  their arithmetic-shifted high part, both of which a signed sort keeps contiguous), one sort
  per key column, contingency tables for the singles.
- ``kde_leave_one_out``, ``kde_upper_leave_one_out``: distance subtraction as in ``kde.py``,
  batched over features: a block of rows holds the (features x rows x samples) column terms,
  each complement's exponents are one subtraction away from the full distances.
- ``gcmi_leave_one_out``: copula ranks by a sort per column, one Cholesky factor per
  covariance and ``logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii)``; a covariance singular to
  within the ``ridge`` (rare: columns determined by others) is finished on the host by the
  NumPy code, one subset at a time.

Constant columns of X (and of a continuous V) are found on the device and dropped before these
functions run (``kde.leave_one_out_varying``), as in NumPy.

Only X, the large array, goes to the device. The target V (one or a few columns) and the
weights are checked and prepared on the host by the NumPy code (label codes, classes, V's
copula or standardisation) and copied over, and errors are raised by the NumPy code, so both
backends fail with the same messages. ``entropy`` and ``mutual_information`` stay NumPy: a
tensor passed to them is copied to the host. X holding strings (labels) cannot live on a
device; such an X is computed by the NumPy backend.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from .._validation import as_samples, check_sample_shape
from . import gcmi, kde, plugin
from .base import LeaveOneOut

_LN2 = math.log(2.0)
DEVICE_TYPES = ("cpu", "cuda")
# Elements of one (features x rows x samples) KDE work array; two are kept, a third is made
# only to recompute underflowing rows.
_KDE_BLOCK_ELEMENTS = {"cpu": 1 << 20, "cuda": 1 << 26}


# -- devices and inputs -------------------------------------------------------------------------
def as_device(device: Any) -> torch.device:
    """Check the ``device`` option: ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or a torch.device."""
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError):
            dev = None
        if dev is None or dev.type not in DEVICE_TYPES:
            raise ValueError(
                f"`device` must be None, 'cpu', 'cuda', 'cuda:<index>' or a torch.device; got {device!r}."
            )
    else:
        raise ValueError(f"`device` must be None, a string such as 'cuda', or a torch.device; got {device!r}.")
    if dev.type not in DEVICE_TYPES:
        raise ValueError(
            f"`device` {device!r} is not supported: the estimators compute in float64 on 'cpu' or 'cuda'."
        )
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"`device` is {device!r}, but CUDA is not available here (torch.cuda.is_available() "
                "is False). Use device='cpu', or leave device=None for the NumPy backend."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"`device` is {device!r}, but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    return dev


def as_device_samples(a: Any, name: str, device: torch.device | None) -> torch.Tensor | np.ndarray:
    """``as_samples`` for the torch backend: a 2-D tensor on ``device``.

    A tensor is checked where it is (shape, dtype and one finiteness reduction) and not copied
    to the host; it moves only if ``device`` names another device. Anything else goes through
    ``as_samples`` and is then copied to ``device``, except labels (strings), which are returned
    as a NumPy array for the NumPy backend.
    """
    if not isinstance(a, torch.Tensor):
        arr = as_samples(a, name)
        if arr.dtype.kind in "US":
            return arr
        if arr.dtype.kind == "u" and arr.dtype.itemsize > 1:
            arr = arr.astype(np.int64)  # torch's wider unsigned types lack most operations
        return torch.from_numpy(np.ascontiguousarray(arr)).to(device or "cpu")
    t = a.detach()
    if device is not None:
        t = t.to(device)
    check_sample_shape(tuple(t.shape), name)
    if t.ndim == 1:
        t = t[:, None]
    if t.is_complex():
        raise TypeError(f"`{name}` has dtype {t.dtype}; pass numbers or labels.")
    if t.dtype in (torch.uint16, torch.uint32, torch.uint64):
        t = t.long()  # as for NumPy input above
    if t.is_floating_point():
        finite = torch.isfinite(t)
        if not bool(finite.all()):
            bad = int(t.numel() - finite.sum())
            raise ValueError(
                f"`{name}` contains {bad} NaN or infinite value(s); drop or impute them first."
            )
    return t


def constant_columns(a: torch.Tensor, w: np.ndarray | None) -> np.ndarray:
    """``kde.constant_columns`` on the device: columns constant over the samples of positive weight."""
    ref = a if w is None or np.all(w > 0) else a[_to(w > 0, a)]
    return _host((ref == ref[:1]).all(dim=0))


def _to(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).to(like.device)


def _host(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


# -- plug-in: discrete and binning (plugin.py) ---------------------------------------------------
def discrete_codes(a: torch.Tensor) -> torch.Tensor:
    """``plugin._column_codes_discrete`` in torch: non-negative int64 codes per column."""
    if not a.is_floating_point() or bool((a == torch.round(a)).all()):
        a = a.long()  # truncation, as NumPy's astype(int64)
        lo = a.amin(dim=0)
        if bool((a.amax(dim=0) - lo < (1 << 24)).all()):
            return a - lo
    codes = torch.empty(a.shape, dtype=torch.int64, device=a.device)
    for j in range(a.shape[1]):
        codes[:, j] = torch.unique(a[:, j], return_inverse=True)[1]
    return codes


def binning_codes(est: plugin.BinningEstimator, a: torch.Tensor) -> torch.Tensor:
    """``BinningEstimator.codes`` in torch, in the input's precision as NumPy does.

    Divisions are by tensors, never by Python scalars: CUDA turns division by a scalar into
    multiplication by its reciprocal, which can move a value on a bin edge to the other bin.
    """
    if not a.is_floating_point():
        return discrete_codes(a)
    if a.dtype not in (torch.float32, torch.float64):
        a = a.float()  # half precision: binned in float32 (NumPy cannot hold bfloat16)
    n = a.shape[1]
    if est.bin_size is not None:
        c = torch.floor(a / torch.full((n,), est.bin_size, dtype=a.dtype, device=a.device)).long()
        return c - c.amin(dim=0)
    if est.range is not None:
        lo, hi = (torch.full((n,), x, dtype=torch.float64, device=a.device) for x in est.range)
    else:
        lo, hi = a.amin(dim=0), a.amax(dim=0)
    width = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    c = torch.floor((a - lo) * (torch.full_like(width, est.n_bins) / width)).long()
    return c.clamp(0, est.n_bins - 1)


def _plugin_codes(est: plugin.PlugInEstimator, a: torch.Tensor) -> torch.Tensor:
    if isinstance(est, plugin.BinningEstimator):
        return binning_codes(est, a)
    if isinstance(est, plugin.DiscreteEstimator):
        return discrete_codes(a)
    return _to(est.codes(_host(a)), a)  # another plug-in estimator: its own codes, on the host


def _run_entropies(key: torch.Tensor, ws: torch.Tensor | None, miller_madow: bool, n_eff: int) -> torch.Tensor:
    """Entropy (nats) of each row of sorted ``key``, a variable whose cells are runs of equal values.

    Dense operations only (no per-cell arrays, no host synchronisation): each position learns
    where its run started (a running maximum), and a run's count or weight is read at its end.
    Unweighted, ``H = log N - sum_runs c log c / N`` from a table of c log c.
    """
    m, N = key.shape
    dev = key.device
    position = torch.arange(N, device=dev).expand(m, N)
    new = torch.ones((m, N), dtype=torch.bool, device=dev)
    new[:, 1:] = key[:, 1:] != key[:, :-1]
    end = torch.ones_like(new)
    end[:, :-1] = new[:, 1:]
    start = torch.cummax(torch.where(new, position, 0), dim=1).values
    if ws is None:
        counts = torch.arange(N + 1, dtype=torch.float64, device=dev)
        c_log_c = counts * torch.log(counts.clamp(min=1.0))
        run_sum = torch.where(end, c_log_c[position - start + 1], 0.0).sum(dim=1)
        h = math.log(N) - run_sum / N
        cells = end.sum(dim=1)
    else:
        cum = torch.cumsum(ws, dim=1)
        before = torch.where(start > 0, torch.gather(cum, 1, (start - 1).clamp(min=0)), 0.0)
        p = cum - before  # at a run's end: the run's weight (exactly 0 if all its weights are)
        occupied = end & (p > 0)
        h = -torch.where(occupied, p * torch.log(torch.where(occupied, p, 1.0)), 0.0).sum(dim=1)
        cells = occupied.sum(dim=1)
    if miller_madow:
        h += (cells.double() - 1) / (2.0 * n_eff)
    return h


def _sorted_entropies(keys: torch.Tensor, w: torch.Tensor | None, shift: int, miller_madow: bool, n_eff: int):
    """``plugin._sorted_entropies`` in torch: (H of the keys' high bits, H of the keys), bits."""
    if w is None:
        s, ws = torch.sort(keys, dim=1).values, None
    else:
        s, order = torch.sort(keys, dim=1)
        ws = w[order]
    # arithmetic shift: equal high bits <=> equal shifted keys, and a signed sort keeps them together
    h_high = _run_entropies(s >> shift, ws, miller_madow, n_eff)
    return h_high / _LN2, _run_entropies(s, ws, miller_madow, n_eff) / _LN2


def _table_entropy(p: torch.Tensor, n_eff: int, miller_madow: bool) -> torch.Tensor:
    positive = p > 0
    h = -torch.where(positive, p * torch.log(torch.where(positive, p, 1.0)), 0.0).sum(dim=1)
    if miller_madow:
        h += (positive.sum(dim=1).double() - 1) / (2.0 * n_eff)  # (an int tensor / float is float32)
    return h / _LN2


def plugin_leave_one_out(est: plugin.PlugInEstimator, X: torch.Tensor, vcode: np.ndarray, w: np.ndarray | None):
    """``PlugInEstimator._leave_one_out`` in torch, given V's dense codes (from the host).

    Returns (I(X;V) then every I(X_-i;V) as one array, every I(X_i;V), whether every row of
    X is distinct) in bits; the estimator warns about saturation itself.
    """
    codes = _plugin_codes(est, X)
    dev = codes.device
    N, n = codes.shape
    mm = est._miller_madow
    n_eff = est._n_eff(w, N)
    k_v = int(vcode.max()) + 1
    shift = max(1, int(k_v - 1).bit_length())
    h_v = plugin._entropy_bits(plugin._probabilities(vcode, w), n_eff, mm)
    wt = None if w is None else _to(w, codes)
    vt = _to(vcode.astype(np.int64), codes)

    r = _to(plugin._multipliers(n).view(np.int64), codes)  # same bits as the uint64 multipliers
    terms = codes * r  # int64 arithmetic wraps around: the uint64 products, bit for bit
    h_all = terms.sum(dim=1)
    block = max(1, plugin._BLOCK_ELEMENTS // N)
    hx = torch.empty(n + 1, dtype=torch.float64, device=dev)
    hxv = torch.empty(n + 1, dtype=torch.float64, device=dev)
    for start in range(0, n + 1, block):
        stop = min(n + 1, start + block)
        keys = h_all.expand(stop - start, N).clone()
        # row 0 of the first block is the joint X; row i >= 1 is X_-(i-1)
        first = max(start, 1)
        keys[first - start :] -= terms[:, first - 1 : stop - 1].T
        keys = (keys << shift) | vt
        hx[start:stop], hxv[start:stop] = _sorted_entropies(keys, wt, shift, mm, n_eff)
    mi = _host(hx + h_v - hxv)
    distinct = bool((torch.diff(torch.sort(h_all).values) != 0).sum() == N - 1)
    single = _single_information(codes, vt, k_v, wt, n_eff, h_v, mm)
    return mi, single, distinct


def _single_information(codes, vt, k_v, w, n_eff, h_v, mm) -> np.ndarray:
    """``PlugInEstimator._single_information`` in torch (same choice of tables or sorting)."""
    N, n = codes.shape
    k = int(codes.max()) + 1
    if n * k * k_v <= max(1 << 22, 4 * N * n):
        cell = torch.arange(n, device=codes.device)[None, :] * k + codes
        cell = cell * k_v + vt[:, None]
        weights = None if w is None else w[:, None].expand(N, n).ravel()
        table = torch.bincount(cell.ravel(), weights=weights, minlength=n * k * k_v)
        table = table.reshape(n, k, k_v).double() / (N if w is None else 1.0)
        hx = _table_entropy(table.sum(dim=2), n_eff, mm)
        hxv = _table_entropy(table.reshape(n, k * k_v), n_eff, mm)
        return _host(hx + h_v - hxv)
    shift = max(1, int(k_v - 1).bit_length())
    keys = (codes.T << shift) | vt
    hx, hxv = _sorted_entropies(keys, w, shift, mm, n_eff)
    return _host(hx + h_v - hxv)


# -- kde and kde_upper (kde.py) ------------------------------------------------------------------
def _weighted_log_sums(
    expo: torch.Tensor, remake: Callable[[], torch.Tensor], w: torch.Tensor, start: int, include_self: bool
) -> torch.Tensor:
    """``sum_i w_i L_i`` over the rows of an exponent block (..., rows, N), for every leading index.

    ``L_i = log sum_{j != i} w_j exp(expo_ij)`` (plus w_i with ``include_self``); row r of the
    block is sample ``start + r``. ``expo`` is consumed (clamped and exponentiated in place).
    Sums that underflow (an isolated sample) are recomputed from a fresh ``remake()`` of the
    exponents with the max-shift of ``logsumexp``, as kde.py recomputes them from the distances.
    """
    k = expo.shape[-2]
    rows = torch.arange(k, device=expo.device)
    w_rows = w[start : start + k]
    # exp is many times slower where its result is subnormal or zero (as NumPy's is, kde.py): a
    # clamped term is at most exp(-700) ~ 1e-304, and a row whose sum is that small is tiny
    # below and recomputed from unclamped exponents.
    expo.clamp_(min=kde._EXP_FLOOR)
    expo[..., rows, start + rows] = -math.inf
    s = torch.exp_(expo) @ w
    if include_self:
        s += w_rows
    tiny = s < kde._TINY_SUM
    log_s = torch.log(torch.where(tiny, 1.0, s))
    if bool(tiny.any()):
        where = tiny.nonzero(as_tuple=True)
        expo = remake()
        expo[..., rows, start + rows] = -math.inf
        shifted = torch.logsumexp(expo[where] + torch.log(w), dim=-1)
        if include_self:
            shifted = torch.logaddexp(shifted, torch.log(w_rows[where[-1]]))
        log_s[where] = shifted
    return log_s @ w_rows


def _leave_one_out_sums(
    x: torch.Tensor, w: torch.Tensor, c: Callable[[int], float], include_self: bool, y: torch.Tensor | None = None
) -> kde._Sums:
    """``kde._leave_one_out_sums`` in torch: every subset's pair sum by distance subtraction.

    Columns are pre-scaled by sqrt(c(n - 1)), so a complement's exponents are ``D_i - D(X)``
    and every other subset rescales by its factor's ratio to c(n - 1), as in kde.py. A block
    of rows holds every column's term ``D_i`` at once, (n, rows, N), in two preallocated
    buffers (a fresh allocation of that size costs page faults on every block).
    """
    N, n = x.shape
    m = 0 if y is None else y.shape[1]
    dev = x.device
    c_joint, c_single, c_comp = c(n), c(1), c(n - 1)
    scale = math.sqrt(c_comp)
    xt = (x * scale).T.contiguous()  # (n, N)
    yt = None if y is None else (y * scale).T.contiguous()
    joint, single = torch.zeros((), dtype=torch.float64, device=dev), torch.zeros(n, dtype=torch.float64, device=dev)
    comp = torch.zeros_like(single)
    if y is not None:
        c_v, c_joint_v, c_single_v, c_comp_v = c(m), c(n + m), c(1 + m), c(n - 1 + m)
        v, joint_v = torch.zeros_like(joint), torch.zeros_like(joint)
        single_v, comp_v = torch.zeros_like(single), torch.zeros_like(single)
    budget = _KDE_BLOCK_ELEMENTS.get(dev.type, _KDE_BLOCK_ELEMENTS["cpu"])
    r = max(1, min(N, budget // (max(n, m) * N)))
    term_buffer = torch.empty(n * r * N, dtype=torch.float64, device=dev)
    work_buffer = torch.empty_like(term_buffer)
    for start in range(0, N, r):
        stop = min(N, start + r)
        k = stop - start
        term = term_buffer[: n * k * N].view(n, k, N)
        work = work_buffer[: n * k * N].view(n, k, N)
        torch.sub(xt[:, start:stop, None], xt[:, None, :], out=term)
        term.square_()  # D_i of every column i, scaled by c_comp
        dist_x = term.sum(dim=0)  # D(X)

        def log_sums(fill, small=False):
            """Pair sums of the exponents that ``fill(out)`` writes ((rows, N) if ``small``)."""
            remake = (lambda: fill(None)) if small else (lambda: fill(torch.empty_like(work)))
            return _weighted_log_sums(remake() if small else fill(work), remake, w, start, include_self)

        if y is not None:
            dist_v = torch.square(yt[:, start:stop, None] - yt[:, None, :]).sum(dim=0)
            both = dist_x + dist_v
            v += log_sums(lambda out: dist_v * (-c_v / c_comp), small=True)
            joint_v += log_sums(lambda out: both * (-c_joint_v / c_comp), small=True)
            # -c (D(X) - D_i + D(V)) and -c (D_i + D(V)) from the pre-scaled pieces
            comp_v += log_sums(lambda out: torch.sub(term, both, out=out).mul_(c_comp_v / c_comp))
            single_v += log_sums(lambda out: torch.add(term, dist_v, out=out).mul_(-c_single_v / c_comp))
        joint += log_sums(lambda out: dist_x * (-c_joint / c_comp), small=True)
        comp += log_sums(lambda out: torch.sub(term, dist_x, out=out))
        single += log_sums(lambda out: torch.mul(term, -c_single / c_comp, out=out))
    if y is None:
        return kde._Sums(float(joint), _host(single), _host(comp))
    return kde._Sums(
        float(joint), _host(single), _host(comp), float(v), float(joint_v), _host(single_v), _host(comp_v)
    )


def _standardise(x: torch.Tensor, w: np.ndarray, name: str, label: object = None, floor=None) -> kde._Standardised:
    """``kde._standardise`` in torch: ``z`` is a tensor, the other fields host numbers.

    Sigmas are floored at ``floor`` (per column) if given; without it, constant columns raise the
    NumPy error."""
    if floor is None and bool((x == x[0]).all(dim=0).any()):
        kde._standardise(_host(x), w, name, label)  # raises, naming the columns
    wt = _to(w, x)
    sum_w2 = float(w @ w)
    mean = wt @ x
    var = (wt @ torch.square(x - mean)) / (1.0 - sum_w2)
    if floor is not None:
        var = torch.maximum(var, _to(np.square(floor), x))
    n_eff = float(len(x)) if np.all(w == w[0]) else 1.0 / sum_w2
    return kde._Standardised((x - mean) / torch.sqrt(var), _host(0.5 * torch.log(var)), n_eff, float(w @ np.log1p(-w)))


def _kde_group(est: kde.KDEEstimator, g: kde._Standardised, w, y=None):
    """``KDEEstimator._group_leave_one_out`` in torch: entropies (nats) of every subset."""
    n = g.z.shape[1]
    gy = None if y is None else kde._standardise(y, w, "v")
    yz = None if gy is None else _to(gy.z, g.z)
    s = _leave_one_out_sums(g.z, _to(w, g.z), est._exponent(g.n_eff), False, yz)
    total = g.log_sigma.sum()
    h = [
        est._nats(s.joint, g, n, total),
        est._nats(s.single, g, 1, g.log_sigma),
        est._nats(s.complement, g, n - 1, total - g.log_sigma),
    ]
    if gy is not None:
        m, total_v = y.shape[1], gy.log_sigma.sum()
        h += [
            est._nats(s.v, g, m, total_v),
            est._nats(s.joint_v, g, n + m, total + total_v),
            est._nats(s.single_v, g, 1 + m, g.log_sigma + total_v),
            est._nats(s.complement_v, g, n - 1 + m, total - g.log_sigma + total_v),
        ]
    return h


def _kde_inputs(X: torch.Tensor, v: np.ndarray, w: np.ndarray | None):
    """float64 X, and uniform weights made explicit with zero-weight samples dropped."""
    if X.dtype == torch.bool:
        X = X.to(torch.uint8)
    X = X.double()
    w, (v, kept) = kde._drop_unweighted(w, len(X), v, np.arange(len(X)))
    if len(kept) < len(X):
        X = X[_to(kept, X)]
    return X, v, w


def kde_leave_one_out(est: kde.KDEEstimator, X: torch.Tensor, v: np.ndarray, w: np.ndarray | None) -> LeaveOneOut:
    """``KDEEstimator._leave_one_out_varying`` in torch (X has no constant column)."""
    X, v, w = _kde_inputs(X, v, w)
    g = _standardise(X, w, "X")
    if not kde._is_discrete(v):
        h_x, h_xi, h_xc, h_v, h_xv, h_xiv, h_xcv = _kde_group(est, g, w, y=v.astype(np.float64))
        mi = (h_x + h_v - h_xv, h_xi + h_v - h_xiv, h_xc + h_v - h_xcv)
    else:
        h_all = _kde_group(est, g, w)
        floor = est.class_floor(g)
        conditional = [0.0, np.zeros(X.shape[1]), np.zeros(X.shape[1])]
        for p, idx, wb in kde._class_parts(kde._groups(v), w):
            if np.count_nonzero(wb) < 2:
                h_b = h_all  # too few samples: no information (KDEEstimator's docstring)
            else:
                gb = _standardise(X[_to(idx, X)], wb, "X", kde._label(v, idx[0]), floor)
                h_b = _kde_group(est, gb, wb)
            conditional = [acc + p * h for acc, h in zip(conditional, h_b)]
        mi = tuple(h - hc for h, hc in zip(h_all, conditional))
    joint, single, complement = (x / _LN2 for x in mi)
    return LeaveOneOut(float(joint), single, complement)


def kde_upper_leave_one_out(
    est: kde.KDEUpperEstimator, X: torch.Tensor, v: np.ndarray, w: np.ndarray | None
) -> LeaveOneOut:
    """``KDEUpperEstimator._leave_one_out`` in torch."""
    X, v, w = _kde_inputs(X, v, w)
    s = _leave_one_out_sums(X, _to(w, X), est._exponent, include_self=True)
    mi = [-s.joint, -s.single, -s.complement]
    for p, idx, wb in kde._class_parts(kde._groups(v), w):
        if len(idx) > 1:
            sb = _leave_one_out_sums(X[_to(idx, X)], _to(wb, X), est._exponent, include_self=True)
            mi = [acc + p * x for acc, x in zip(mi, sb[:3])]
    joint, single, complement = (x / _LN2 for x in mi)
    return LeaveOneOut(float(joint), single, complement)


# -- gcmi (gcmi.py) ------------------------------------------------------------------------------
def _copula(a: torch.Tensor, w: np.ndarray | None, name: str) -> torch.Tensor:
    """``gcmi._copula`` in torch: normal scores of the (weighted) mid-ranks of every column.

    Works on columns as rows (features x samples): sorting along contiguous memory is several
    times faster than along the strided sample axis.
    """
    if a.dtype == torch.bool:
        a = a.to(torch.uint8)
    N = len(a)
    ref = a if w is None else a[_to(w > 0, a)]
    if bool((ref == ref[:1]).all(dim=0).any()):
        gcmi._copula(_host(a), w, name)  # raises, naming the constant columns
    s, order = torch.sort(a.T.contiguous(), dim=1)
    idx = torch.arange(N, device=a.device).expand(s.shape)
    starts = torch.ones(s.shape, dtype=torch.bool, device=a.device)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = torch.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    # First and last sorted position of each sample's tie group.
    first = torch.cummax(torch.where(starts, idx, 0), dim=1).values
    last = torch.cummin(torch.where(ends, idx, N - 1).flip(1), dim=1).values.flip(1)
    if w is None:
        u_sorted = ((first + last).double() / 2.0 + 1.0) / (N + 1.0)  # mid-rank / (N + 1)
    else:
        m = float(np.count_nonzero(w > 0))
        ws = _to(w, a)[order]
        cum = torch.cumsum(ws, dim=1)
        below = torch.gather(cum, 1, first) - torch.gather(ws, 1, first)
        mid = 0.5 * (below + torch.gather(cum, 1, last))
        u_sorted = (m * mid + 0.5) / (m + 1.0)
    u = torch.empty_like(u_sorted).scatter_(1, order, u_sorted)
    return torch.special.ndtri(u).T.contiguous()


def _covariance(z: torch.Tensor, w: np.ndarray | None) -> tuple[torch.Tensor, float]:
    """``gcmi._covariance`` in torch (constant columns centred to exactly 0)."""
    ref = z if w is None or np.all(w > 0) else z[_to(w > 0, z)]
    varying = ~(ref == ref[:1]).all(dim=0)
    if w is None:
        zc = (z - z.mean(dim=0)) * varying
        return zc.T @ zc / (len(z) - 1.0), float(len(z))
    w = w / w.sum()
    sum_w2 = float(w @ w)
    wt = _to(w, z)
    zc = (z - wt @ z) * varying
    return (zc * wt[:, None]).T @ zc / (1.0 - sum_w2), gcmi.kish_n(sum_w2)


def _floored(c: torch.Tensor, ridge: float) -> torch.Tensor:
    """``gcmi._floored`` in torch: variances below ``ridge`` raised to it."""
    if ridge > 0:
        c = c.clone()
        torch.diagonal(c).clamp_(min=ridge)
    return c


def _factor(c: torch.Tensor, ridge: float) -> torch.Tensor | None:
    """``gcmi._factor`` in torch: the Cholesky factor of C if C is regular to within ``ridge``."""
    chol, info = torch.linalg.cholesky_ex(c)
    d, p = torch.diagonal(c), torch.diagonal(chol)
    ok = (info == 0) & (d > 0).all() & (p > 0).all() & (p * p >= ridge * d).all()
    return chol if bool(ok) else None


def _log_det(chol: torch.Tensor) -> torch.Tensor:
    return 2.0 * torch.log(torch.diagonal(chol)).sum()


def _inverse_diagonal(chol: torch.Tensor) -> torch.Tensor:
    """diag(C^-1) from C's lower Cholesky factor L: C^-1 = L^-T L^-1."""
    eye = torch.eye(len(chol), dtype=chol.dtype, device=chol.device)
    l_inv = torch.linalg.solve_triangular(chol, eye, upper=False)
    return torch.square(l_inv).sum(dim=0)


def gcmi_leave_one_out(est: gcmi.GaussianCopulaEstimator, X: torch.Tensor, v: np.ndarray, w: np.ndarray | None):
    """``GaussianCopulaEstimator._leave_one_out_varying`` in torch (X has no constant column).

    A covariance that is singular to within the ridge goes to the host, to the NumPy code's
    subset-by-subset computation (``gcmi.py``)."""
    z = _copula(X, w, "X")
    n = z.shape[1]
    if gcmi._is_discrete(v):
        return _gcmi_classes(est, z, v, w)
    zv = _to(gcmi._copula(v, w, "v"), z)
    m = zv.shape[1]
    c, n_eff = _covariance(torch.cat([z, zv], dim=1), w)
    gcmi._check_size(n_eff, n + m, "(`X`, `v`)")
    cf = _floored(c, est.ridge)
    chol_xv = _factor(cf, est.ridge)
    chol_x = chol_v = None
    if chol_xv is not None:
        chol_x, chol_v = _factor(cf[:n, :n], est.ridge), _factor(cf[n:, n:], est.ridge)
    if chol_x is None or chol_v is None:
        return est.leave_one_out_continuous(_host(c), n, n_eff)
    ld_x, ld_v, ld_xv = _log_det(chol_x), _log_det(chol_v), _log_det(chol_xv)
    # SPEC 3: logdet(C_-i,-i) = logdet(C) + log((C^-1)_ii), for C_X and for C_(X,V).
    ld_x_minus = ld_x + torch.log(_inverse_diagonal(chol_x))
    ld_xv_minus = ld_xv + torch.log(_inverse_diagonal(chol_xv)[:n])
    # Singles: det C_(Xi,V) = det C_V * (c_ii - c_iV C_V^-1 c_Vi).
    var = torch.diagonal(cf)[:n]
    half = torch.linalg.solve_triangular(chol_v, cf[n:, :n], upper=False)
    schur = var - torch.square(half).sum(dim=0)
    bias = lambda d: float(est._bias(d, n_eff))  # noqa: E731
    joint = 0.5 * (ld_x + ld_v - ld_xv) - bias(n) - bias(m) + bias(n + m)
    complement = 0.5 * (ld_x_minus + ld_v - ld_xv_minus) - bias(n - 1) - bias(m) + bias(n - 1 + m)
    single = 0.5 * torch.log(var / schur) - bias(1) - bias(m) + bias(1 + m)
    return LeaveOneOut(float(joint) / _LN2, _host(single) / _LN2, _host(complement) / _LN2)


def _gcmi_classes(est, z, v, w) -> LeaveOneOut:
    """``GaussianCopulaEstimator._leave_one_out_classes`` in torch."""
    n = z.shape[1]

    def pieces(c, n_eff, what):
        """H(X), every H(X_i), every H(X_-i) without their constants, in nats."""
        gcmi._check_size(n_eff, n, what)
        cf = _floored(c, est.ridge)
        chol = _factor(cf, est.ridge)
        if chol is not None:
            ld = _log_det(chol)
            ld_single, ld_minus = torch.log(torch.diagonal(cf)), ld + torch.log(_inverse_diagonal(chol))
        else:  # singular to within the ridge: the NumPy code, subset by subset
            ld, ld_single, ld_minus = est.loo_log_dets(_host(c), what)
            ld = torch.tensor(ld, dtype=c.dtype, device=c.device)
            ld_single, ld_minus = _to(ld_single, c), _to(ld_minus, c)
        b = lambda d: float(est._bias(d, n_eff))  # noqa: E731
        return 0.5 * ld - b(n), 0.5 * ld_single - b(1), 0.5 * ld_minus - b(n - 1)

    c, n_eff = _covariance(z, w)
    unconditional = pieces(c, n_eff, "`X`")
    joint, single, complement = unconditional
    for what, idx, wy, p in est._classes(v, w, "v"):
        cy, n_eff_y = _covariance(z[_to(idx, z)], wy)
        if n_eff_y > n:
            hj, hs, hc = pieces(cy, n_eff_y, f"`X` in {what}")
        else:  # as the NumPy code: the subsets the class is large enough for, on the host
            hj, hs, hc = est.small_class_pieces(_host(cy), n_eff_y, unconditional, f"`X` in {what}",
                                                lambda a: _to(a, cy))
        joint, single, complement = joint - p * hj, single - p * hs, complement - p * hc
    return LeaveOneOut(float(joint) / _LN2, _host(single) / _LN2, _host(complement) / _LN2)
