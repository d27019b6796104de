"""Input checks at the public edge: every error names the argument and the fix."""

from __future__ import annotations

import numbers
import re
from typing import Any

import numpy as np

from ._xp import is_tensor, to_numpy

__all__ = [
    "as_array",
    "as_device_samples",
    "as_samples",
    "check_same_length",
    "check_sample_shape",
    "check_weights",
    "non_negative_float",
    "one_of",
    "positive_float",
    "positive_int",
    "renamed",
    "to_numpy",
]


def as_samples(a: Any, name: str, *, min_samples: int = 2) -> np.ndarray:
    """Check a samples x features array and return it as 2-D.

    A 1-D array is one variable (one column). Numeric data must be finite.
    """
    arr = as_array(a, name)
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            arr = np.asarray(arr, dtype=str)
    check_sample_shape(arr.shape, name, min_samples)
    if arr.ndim == 1:
        arr = arr[:, None]
    # NaN and infinities make a real array's sum non-finite: one pass without an (N, n)
    # temporary; a sum that only overflowed is settled by the extremes (two more passes)
    if arr.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            finite = bool(np.isfinite(np.sum(arr)))
        if not finite:
            finite = bool(np.isfinite(np.min(arr)) and np.isfinite(np.max(arr)))
    else:
        finite = arr.dtype.kind != "c" or bool(np.all(np.isfinite(arr)))
    if not finite:
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"`{name}` contains {bad} NaN or infinite value(s); drop or impute them first."
        )
    if arr.dtype.kind not in "biufUS":
        raise TypeError(f"`{name}` has dtype {arr.dtype}; pass numbers or labels.")
    return arr


def as_device_samples(a: Any, name: str, device: Any) -> Any:
    """``as_samples`` for computing on a torch device: a 2-D tensor on ``device``.

    A tensor is checked where it is (shape, dtype and one finiteness reduction) and not copied
    to the host; it moves only if ``device`` (a torch.device or None) names another device.
    Anything else goes through ``as_samples`` and is then copied to ``device``, except labels
    (strings), which no device holds: they are returned as a NumPy array.
    """
    import torch

    if not is_tensor(a):
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


def as_array(a: Any, name: str) -> np.ndarray:
    """``to_numpy(a)`` (any array-like or tensor as a NumPy array), with a ragged list (rows of
    different lengths) reported by name."""
    try:
        return to_numpy(a)
    except ValueError as error:
        if "inhomogeneous" not in str(error) and "sequence" not in str(error):
            raise
        raise ValueError(
            f"`{name}` is ragged (its rows have different lengths); pass a rectangular array of "
            "samples x features."
        ) from None


def check_sample_shape(shape: tuple[int, ...], name: str, min_samples: int = 2) -> None:
    """Raise unless ``shape`` is that of samples (N,) or samples x features (N, n), n >= 1 and
    N >= ``min_samples``; shared by the NumPy and torch inputs."""
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError(f"`{name}` is a scalar; pass an array of samples (shape (N,) or (N, n)).")
    if len(shape) > 2:
        raise ValueError(
            f"`{name}` has {len(shape)} dimensions (shape {shape}); pass samples x features "
            f"(2-D), e.g. `{name}.reshape(len({name}), -1)`."
        )
    if len(shape) == 2 and shape[1] == 0:
        raise ValueError(f"`{name}` has no features (shape {shape}).")
    if shape[0] < min_samples:
        raise ValueError(
            f"`{name}` has {shape[0]} sample(s); at least {min_samples} are needed to "
            "estimate an information quantity."
        )


def check_same_length(**arrays: np.ndarray) -> int:
    """All arrays have the same number of samples; return it."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"`{k}` has {v}" for k, v in lengths.items())
        raise ValueError(f"Mismatched numbers of samples: {listed}; pass one row per sample.")
    return next(iter(lengths.values()))


def check_weights(weights: Any, n_samples: int, name: str = "weights") -> np.ndarray | None:
    """Return sample weights normalised to sum 1, or None for uniform weights.

    Weights whose sum overflows (near the float maximum, 1e308) or is subnormal are divided by
    their largest value first, so they give the same distribution as any others.
    """
    if weights is None:
        return None
    w = as_array(weights, name)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` has dtype {w.dtype}; pass one non-negative number per sample.")
    w = w.astype(np.float64, copy=False)
    if w.ndim != 1 or len(w) != n_samples:
        raise ValueError(
            f"`{name}` has shape {w.shape}; pass one weight per sample, shape ({n_samples},)."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    if np.any(w < 0):
        raise ValueError(f"`{name}` contains negative values; sample weights must be >= 0.")
    largest = w.max()
    if largest <= 0:
        raise ValueError(f"`{name}` sums to 0; at least one sample needs a positive weight.")
    with np.errstate(over="ignore"):  # an overflowing sum is redone below
        total = w.sum()
    if not (np.isfinite(total) and total >= np.finfo(np.float64).tiny):
        # huge (the sum overflows) or subnormal weights: in (0, 1] the sum is at most N
        w = w / largest
        total = w.sum()
    return w / total


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def positive_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a positive finite number, got {value!r}.")
    return float(value)


def non_negative_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a non-negative finite number, got {value!r}.")
    return float(value)


def one_of(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def renamed(error: Exception, names: dict[str, str]) -> Exception:
    """``error`` with the estimator's argument names (`a`, `b`) replaced by the caller's.

    The estimators quote argument names in backticks (`a`, `a[:, a.std(axis=0) > 0]`); only
    whole words inside those quotes are renamed, so the rest of the message is untouched.
    """
    word = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    message = re.sub(r"`[^`]*`", lambda m: word.sub(lambda w: names[w.group()], m.group()), str(error))
    try:
        return type(error)(message).with_traceback(error.__traceback__)
    except Exception:  # an exception class that takes other arguments: keep it as it is
        return error


# -- checks of trajectories, fractions, bits, accuracies and seeds (the phase rule, references) --
def finite_series(values: Any, name: str) -> np.ndarray:
    """A 1-D float series of numbers with no NaN or infinity (a trajectory in bits, or steps)."""
    arr = as_array(values, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` has dtype {arr.dtype}; pass numbers (bits, or steps).")
    arr = arr.astype(float).ravel()
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"`{name}` contains {bad} NaN or infinite value(s); drop those record steps first.")
    with np.errstate(over="ignore"):  # tested here
        span = np.ptp(arr) if arr.size else 0.0
    if not np.isfinite(span):
        raise ValueError(
            f"`{name}` spans {arr.min():.3g} to {arr.max():.3g}, a range beyond floating point; "
            "pass bits (or steps) of ordinary size."
        )
    return arr


def fraction(value: Any, name: str) -> float:
    """A number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a number in [0, 1], got {value!r}.")
    return float(value)


def finite_bits(value: Any, name: str) -> float:
    """A finite number of bits >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (value >= 0 and np.isfinite(value)):
        raise ValueError(f"`{name}` must be a finite number of bits >= 0, got {value!r}.")
    return float(value)


def accuracy_fraction(value: Any, name: str) -> float:
    """An accuracy: a fraction of correct samples in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1] (a fraction of correct samples), got {value!r}.")
    return float(value)


def seed_value(value: Any, name: str = "seed") -> int:
    """A random seed: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer, got {value!r}.")
    return int(value)
