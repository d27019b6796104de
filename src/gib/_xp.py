"""The array namespace of the estimators, and the few functions it lacks (one home).

Every estimator is written once against the array API: ``xp = namespace(X)`` gives the
``array_api_compat`` namespace of X (NumPy's, or torch's for a tensor on any device), and the
code calls ``xp.`` functions and array operators only. What the standard does not have lives
here and nowhere else, each with a NumPy branch that calls NumPy (or SciPy) itself, so that
the NumPy paths pay nothing for the abstraction:

- counting and running extremes: ``bincount``, ``run_sums``, ``cummax``, ``cummin``;
- special functions: ``ndtri``, ``logsumexp``, ``logaddexp``;
- sorting: ``sort`` (unstable: NumPy's fastest), ``sort_with_indices``, ``scatter``;
- linear algebra: ``cholesky`` (None when the matrix is not positive definite),
  ``solve_triangular``;
- writes into existing buffers where the kernel estimators' speed depends on them
  (``subtract``, ``subtract_outer``, ``multiply``, ``add``, ``sum_into``, ``exp_``, ``square_``, ``clamp_min_``);
- moving data: ``device`` (an array's, for ``xp.empty(..., device=...)``), ``to_numpy`` (results to the host), ``asarray`` (a host array next to another
  array), ``contiguous``, ``rows`` / ``columns`` (host indices into an array on any device);
- the ``device`` option: ``as_device``.

torch is imported only when a tensor or a device is seen, so ``import gib`` stays NumPy-only.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from array_api_compat import device as device  # the device of an array ("cpu" for NumPy's)
from scipy import linalg as _scipy_linalg
from scipy import special as _scipy_special

DEVICE_TYPES = ("cpu", "cuda")


def _torch():
    import torch

    return torch


# -- namespaces, devices, moving data --------------------------------------------------------
def namespace(*arrays: Any):
    """The array-API namespace of the arrays (NumPy's for NumPy arrays, torch's for tensors)."""
    return array_namespace(*arrays)


def is_numpy(a: Any) -> bool:
    return isinstance(a, np.ndarray)


def is_tensor(a: Any) -> bool:
    """Whether ``a`` is a torch tensor, without importing torch when nobody has."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def device_type(a: Any) -> str:
    """``"numpy"`` for a NumPy array, else the tensor's device type (``"cpu"``, ``"cuda"``)."""
    return "numpy" if is_numpy(a) else a.device.type


def to_numpy(a: Any) -> np.ndarray:
    """Return ``a`` as a NumPy array; torch tensors are detached and moved to the CPU (bfloat16,
    which NumPy lacks, as float32: it holds every bfloat16 value exactly)."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu()
        if str(a.dtype) == "torch.bfloat16":
            a = a.float()
        a = a.numpy()
    return np.asarray(a)


def asarray(a: np.ndarray, like: Any) -> Any:
    """The host array ``a`` in the namespace and on the device of ``like`` (no copy for NumPy)."""
    if is_numpy(like):
        return a
    torch = _torch()
    if isinstance(a, torch.Tensor):
        return a.to(like.device)
    return torch.from_numpy(np.ascontiguousarray(a)).to(like.device)


def contiguous(a: Any) -> Any:
    """``a`` laid out row-major (a copy only if it is not already)."""
    return np.ascontiguousarray(a) if is_numpy(a) else a.contiguous()


def rows(a: Any, index: np.ndarray) -> Any:
    """``a[index]`` for a host index (integers or a boolean mask) into an array on any device."""
    return a[index] if is_numpy(a) else a[asarray(index, a)]


def columns(a: Any, index: np.ndarray) -> Any:
    """``a[:, index]`` for a host index (integers or a boolean mask)."""
    return a[:, index] if is_numpy(a) else a[:, asarray(index, a)]


def kind(a: Any) -> str:
    """NumPy's one-letter dtype kind ('b', 'i', 'u', 'f', 'c', 'U', 'S', ...) for either library."""
    if is_numpy(a):
        return a.dtype.kind
    torch = _torch()
    if a.dtype == torch.bool:
        return "b"
    if a.is_floating_point():
        return "f"
    if a.is_complex():
        return "c"
    return "u" if a.dtype in (torch.uint8, torch.uint16, torch.uint32, torch.uint64) else "i"


def as_device(device: Any, name: str = "device") -> Any:
    """Check the ``device`` option (its errors name the argument ``name``): ``"cpu"``, ``"cuda"``,
    ``"cuda:<index>"`` or a torch.device."""
    torch = _torch()
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError):
            dev = None
        if dev is None or dev.type not in DEVICE_TYPES:
            raise ValueError(
                f"`{name}` must be None, 'cpu', 'cuda', 'cuda:<index>' or a torch.device; got {device!r}."
            )
    else:
        raise ValueError(f"`{name}` must be None, a string such as 'cuda', or a torch.device; got {device!r}.")
    if dev.type not in DEVICE_TYPES:
        raise ValueError(
            f"`{name}` {device!r} is not supported: the estimators compute in float64 on 'cpu' or 'cuda'."
        )
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"`{name}` is {device!r}, but CUDA is not available here (torch.cuda.is_available() "
                f"is False). Use {name}='cpu', or leave {name}=None for the NumPy backend."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"`{name}` is {device!r}, but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    return dev


# -- counting, running extremes --------------------------------------------------------------
def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """Counts (or sums of ``weights``) of the non-negative integers in 1-D ``x``."""
    if is_numpy(x):
        return np.bincount(x, weights=weights, minlength=minlength)
    return _torch().bincount(x, weights=weights, minlength=minlength)


def run_sums(values: Any, starts: Any) -> Any:
    """Sums of the runs of 1-D ``values`` that begin at the sorted positions ``starts``."""
    if is_numpy(values):
        return np.add.reduceat(values, starts)
    torch = _torch()
    marks = torch.zeros(len(values), dtype=torch.int64, device=values.device)
    marks[starts] = 1
    run = torch.cumsum(marks, dim=0) - 1
    return torch.zeros(len(starts), dtype=values.dtype, device=values.device).index_add_(0, run, values)


def cummax(a: Any, axis: int) -> Any:
    return np.maximum.accumulate(a, axis=axis) if is_numpy(a) else _torch().cummax(a, dim=axis).values


def cummin(a: Any, axis: int) -> Any:
    return np.minimum.accumulate(a, axis=axis) if is_numpy(a) else _torch().cummin(a, dim=axis).values


# -- special functions -------------------------------------------------------------------------
def ndtri(u: Any) -> Any:
    """The inverse of the standard normal CDF."""
    return _scipy_special.ndtri(u) if is_numpy(u) else _torch().special.ndtri(u)


def logsumexp(a: Any, axis: int) -> Any:
    return _scipy_special.logsumexp(a, axis=axis) if is_numpy(a) else _torch().logsumexp(a, dim=axis)


def logaddexp(a: Any, b: Any) -> Any:
    return np.logaddexp(a, b) if is_numpy(a) else _torch().logaddexp(a, b)


# -- sorting ------------------------------------------------------------------------------------
def sort(a: Any, axis: int = -1) -> Any:
    """Sorted values along ``axis``; not stable (NumPy's default introsort is its fastest, where
    the array API's ``sort`` asks for a stable one)."""
    return np.sort(a, axis=axis) if is_numpy(a) else _torch().sort(a, dim=axis).values


def sort_with_indices(a: Any, axis: int = -1, stable: bool = False) -> tuple[Any, Any]:
    """(sorted values, the indices that sort ``a``) along ``axis``."""
    if is_numpy(a):
        order = np.argsort(a, axis=axis, kind="stable" if stable else None)
        return np.take_along_axis(a, order, axis=axis), order
    values, order = _torch().sort(a, dim=axis, stable=stable)
    return values, order


def scatter(values: Any, indices: Any, axis: int) -> Any:
    """The array ``out`` with ``out[..., indices[..., j], ...] = values[..., j, ...]`` along
    ``axis``: undoes a sort by ``indices``."""
    if is_numpy(values):
        out = np.empty_like(values)
        np.put_along_axis(out, indices, values, axis=axis)
        return out
    return _torch().empty_like(values).scatter_(axis, indices, values)


# -- linear algebra ---------------------------------------------------------------------------
def cholesky(c: Any) -> Any | None:
    """Lower Cholesky factor of ``c``, or None where ``c`` is not (numerically) positive definite."""
    if is_numpy(c):
        try:
            return np.linalg.cholesky(c)
        except np.linalg.LinAlgError:
            return None
    chol, info = _torch().linalg.cholesky_ex(c)
    return chol if int(info) == 0 else None


def solve_triangular(lower: Any, b: Any) -> Any:
    """``L^-1 b`` for a lower-triangular ``L``."""
    if is_numpy(lower):
        return _scipy_linalg.solve_triangular(lower, b, lower=True, check_finite=False)
    return _torch().linalg.solve_triangular(lower, b, upper=False)


# -- writes into existing buffers --------------------------------------------------------------
def subtract(a: Any, b: Any, out: Any) -> Any:
    return np.subtract(a, b, out=out) if is_numpy(out) else _torch().sub(a, b, out=out)


def subtract_outer(a: Any, b: Any, out: Any) -> Any:
    """``out[i, j] = a[i] - b[j]`` for 1-D ``a`` and ``b``."""
    return np.subtract.outer(a, b, out=out) if is_numpy(out) else _torch().sub(a[:, None], b[None, :], out=out)


def multiply(a: Any, b: Any, out: Any) -> Any:
    return np.multiply(a, b, out=out) if is_numpy(out) else _torch().mul(a, b, out=out)


def add(a: Any, b: Any, out: Any) -> Any:
    return np.add(a, b, out=out) if is_numpy(out) else _torch().add(a, b, out=out)


def sum_into(a: Any, axis: int, out: Any) -> Any:
    return np.sum(a, axis=axis, out=out) if is_numpy(out) else _torch().sum(a, dim=axis, out=out)


def exp_(a: Any) -> Any:
    return np.exp(a, out=a) if is_numpy(a) else a.exp_()


def square_(a: Any) -> Any:
    return np.square(a, out=a) if is_numpy(a) else a.square_()


def clamp_min_(a: Any, floor: float) -> Any:
    return np.maximum(a, floor, out=a) if is_numpy(a) else a.clamp_(min=floor)


# -- nearest neighbours, digamma (the k-NN estimators, ``estimators.ksg``) ---------------------
def kth_smallest(a: Any, k: int) -> Any:
    """The k-th smallest value (1-based, ties counted with multiplicity) along the last axis."""
    if is_numpy(a):
        return np.partition(a, k - 1, axis=-1)[..., k - 1]
    return _torch().kthvalue(a, k, dim=-1).values


def digamma(a: Any) -> Any:
    return _scipy_special.psi(a) if is_numpy(a) else _torch().special.digamma(a)


# -- BLAS threads --------------------------------------------------------------------------------
_blas_pools: Any = None


def one_blas_thread(enabled: bool = True):
    """Context manager: NumPy's BLAS / LAPACK on one thread (a no-op if not ``enabled`` or
    without threadpoolctl). On small matrices BLAS threads cost more than they save, most of
    all on shared cores: a 200 x 200 ``eigvalsh`` takes 3 ms of CPU on one thread and 40 ms on
    two loaded cores. (``estimators.gcmi`` enables it by its matrices' size.)"""
    import contextlib

    global _blas_pools
    if not enabled:
        return contextlib.nullcontext()
    if _blas_pools is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_pools = ThreadpoolController().select(user_api="blas")
        except Exception:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _blas_pools = False
    return _blas_pools.limit(limits=1) if _blas_pools else contextlib.nullcontext()


def count_less(sorted_rows: Any, values: Any) -> Any:
    """Per row r, how many entries of the ascending row ``sorted_rows[r]`` are strictly below
    ``values[r]``: a binary search per row (``torch.searchsorted``; on NumPy, vectorised over
    the rows), O(log N) instead of a pass over the row."""
    if not is_numpy(sorted_rows):
        return _torch().searchsorted(sorted_rows, values[:, None], side="left")[:, 0]
    rows, n = sorted_rows.shape
    lo, hi = np.zeros(rows, dtype=np.int64), np.full(rows, n, dtype=np.int64)
    index = np.arange(rows)
    for _ in range(max(1, int(n).bit_length())):
        active = lo < hi
        mid = (lo + hi) // 2
        below = active & (sorted_rows[index, np.minimum(mid, n - 1)] < values)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    return lo


def maximum(a: Any, b: Any, out: Any) -> Any:
    return np.maximum(a, b, out=out) if is_numpy(out) else _torch().maximum(a, b, out=out)


def minimum(a: Any, b: Any, out: Any) -> Any:
    return np.minimum(a, b, out=out) if is_numpy(out) else _torch().minimum(a, b, out=out)


def abs_(a: Any) -> Any:
    return np.abs(a, out=a) if is_numpy(a) else a.abs_()
