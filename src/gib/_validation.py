"""Input checks at the public edge: every error names the argument and the fix."""

from __future__ import annotations

import math
import numbers
import re
import sys
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

    A 1-D array is one variable (one column). Numeric data must be finite. Containers whose
    columns have their own types (DataFrames, object arrays, lists) are converted column by
    column (``as_array``).
    """
    arr = as_array(a, name)
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
    Wide unsigned integers become int64, which torch computes with; uint64 values of 2^63 and
    more have no int64 value, so such an array is shifted by -2^63 as a whole (the top bit
    flipped): order, gaps and distinct values are kept, and every estimator is invariant to a
    shift (a plain cast would wrap them round to negative numbers, out of order).
    Anything else goes through ``as_samples`` and is then copied to ``device``, except labels
    (strings), which no device holds: they are returned as a NumPy array.
    """
    import torch

    if not is_tensor(a):
        arr = as_samples(a, name)
        if arr.dtype.kind in "US":
            return arr
        if arr.dtype == np.uint64 and arr.size and arr.max() >= 2**63:
            arr = (arr ^ np.uint64(2**63)).view(np.int64)  # x - 2^63 (docstring)
        elif arr.dtype.kind == "u" and arr.dtype.itemsize > 1:
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
    if t.dtype == torch.uint64 and t.numel() and bool((t.view(torch.int64) < 0).any()):
        t = t.view(torch.int64) ^ torch.iinfo(torch.int64).min  # x - 2^63 (docstring)
    elif t.dtype in (torch.uint16, torch.uint32, torch.uint64):
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
    """Any array-like or tensor as a NumPy array (``to_numpy``): the one input conversion.

    Containers whose columns carry their own types are converted column by column, each column
    exactly as it would be alone (``_column``): pandas DataFrames and Series (nullable and
    categorical dtypes included), object arrays, and lists that NumPy would turn into strings
    (``[[1.5, "a"]]``: the 1.5 stays a number). Missing values (NaN, None, ``pd.NA``) are NaN in
    a numeric column and an error in a label column. Columns of different kinds (floating-point
    numbers, integers or booleans, labels) cannot share one array, whose columns an estimator
    codes alike (floats binned or continuous, integers and labels as classes): that is an error
    naming the columns. A ragged list (rows of different lengths) is reported by name.
    """
    frame = _pandas_columns(a)
    if frame is not None:
        labels, columns = frame
        if not columns:
            return np.empty((len(a), 0))
        return _stack([_column(c, name, label) for label, c in zip(labels, columns)], labels, name)
    try:
        arr = to_numpy(a)
    except ValueError as error:
        if "inhomogeneous" not in str(error) and "sequence" not in str(error):
            raise
        raise ValueError(
            f"`{name}` is ragged (its rows have different lengths); pass a rectangular array of "
            "samples x features."
        ) from None
    if arr.dtype.kind in "US" and isinstance(a, (list, tuple)):
        arr = np.asarray(a, dtype=object)  # NumPy made every element a string: redo by column
    if arr.dtype != object or arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        return _column(arr, name, None)
    if arr.ndim == 2:
        labels = list(range(arr.shape[1]))
        return _stack([_column(arr[:, j], name, j) for j in labels], labels, name)
    return arr


def _pandas_columns(a: Any) -> tuple[list, list] | None:
    """(labels, columns) of a pandas DataFrame, ([None], [series]) of a Series; else None.
    pandas is not imported here: an object from it exists only if it was."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    if isinstance(a, pd.DataFrame):
        return list(a.columns), [a.iloc[:, j] for j in range(a.shape[1])]
    if isinstance(a, (pd.Series, pd.Index)):
        return [None], [a]
    return None


def _where(label: Any) -> str:
    return "" if label is None else f" (column {label!r})"


def _is_missing(x: Any) -> bool:
    """None, NaN or pandas' NA / NaT."""
    if x is None:
        return True
    if isinstance(x, (float, np.floating)):
        return bool(x != x)
    return type(x).__name__ in ("NAType", "NaTType")


def _column(values: Any, name: str, label: Any) -> np.ndarray:
    """One column (a pandas Series or a 1-D array), converted exactly as it would be alone.

    pandas' nullable dtypes give their NumPy dtype, float64 with NaN where a value is missing;
    categoricals give their categories' values. An object column is labels (strings) if any of
    its values is a string, else numbers, NumPy choosing the type (bool, int64, float64); a
    missing value is NaN among numbers and an error among labels.
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(values, (pd.Series, pd.Index)):
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            values = np.asarray(values.astype(object))
        elif dtype != object and getattr(dtype, "numpy_dtype", None) is not None:  # nullable Int64, Float64, ...
            numpy_dtype = np.dtype(dtype.numpy_dtype)
            if values.isna().any():
                if numpy_dtype.kind in "US":
                    values = values.to_numpy(dtype=object)
                else:
                    return values.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                return values.to_numpy(dtype=numpy_dtype)
        else:
            values = values.to_numpy()
    arr = np.asarray(values)
    if arr.dtype != object:
        return arr
    items = arr.tolist()
    missing = [_is_missing(x) for x in items]
    if any(isinstance(x, (str, bytes, np.str_, np.bytes_)) for x in items):
        if any(missing):
            raise ValueError(
                f"`{name}` has {sum(missing)} missing value(s) (NaN, None or pd.NA) among labels"
                f"{_where(label)}; drop those samples or give the missing a label of their own."
            )
        return np.asarray([str(x) for x in items])
    if not any(missing) and items and all(isinstance(x, (int, np.integer)) for x in items):
        for dtype in (np.int64, np.uint64):  # whole numbers exactly (NumPy's guess may be float64)
            try:
                return np.asarray(items, dtype=dtype if not all(isinstance(x, (bool, np.bool_)) for x in items)
                                  else bool)
            except OverflowError:
                continue
    numbers = [math.nan if m else x for x, m in zip(items, missing)]
    try:
        out = np.asarray(numbers)
        if out.dtype == object:
            out = out.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` holds values that are neither numbers nor labels{_where(label)} (e.g. "
            f"{type(next(x for x in items if not isinstance(x, numbers_types))).__name__}); pass "
            "numbers or strings."
        ) from None
    return out


numbers_types = (numbers.Number, np.number, np.bool_, bool)


def _kind(arr: np.ndarray) -> str:
    k = arr.dtype.kind
    return {"b": "integer", "i": "integer", "u": "integer", "f": "floating-point", "U": "label",
            "S": "label"}.get(k, k)


def _stack(columns: list[np.ndarray], labels: list, name: str) -> np.ndarray:
    """The converted columns side by side, if they are of one kind (module docstring)."""
    kinds: dict[str, list] = {}
    for label, column in zip(labels, columns):
        if column.dtype.kind == "f" and not np.all(np.isfinite(column)):  # as the column alone is
            bad = int(np.size(column) - np.count_nonzero(np.isfinite(column)))
            raise ValueError(
                f"`{name}` contains {bad} NaN or infinite value(s) (missing ones included){_where(label)}; "
                "drop or impute them first."
            )
        kinds.setdefault(_kind(column), []).append(label)
    if len(kinds) > 1:
        listed = "; ".join(f"{kind} column(s) {', '.join(map(repr, found[:4]))}{', ...' if len(found) > 4 else ''}"
                           for kind, found in kinds.items())
        raise TypeError(
            f"`{name}` mixes columns of different kinds ({listed}); an estimator codes every column "
            "of one array alike (floating-point numbers binned or continuous, integers and labels as "
            "classes), so these columns would not be coded as each is alone. Convert them to one kind "
            "first (e.g. label columns to integer codes with `pandas.factorize`, or all of them with "
            "`.astype(float)`), or pass them separately."
        )
    if next(iter(kinds)) == "label":
        return np.column_stack([c.astype(str) for c in columns])
    dtype = np.result_type(*columns)
    if _kind(np.empty(0, dtype)) != next(iter(kinds)):  # uint64 beside int64: NumPy would give float64
        raise TypeError(
            f"`{name}` mixes unsigned 64-bit integer columns with signed ones, which no integer type "
            "holds together; convert them to one type first."
        )
    return np.column_stack(columns).astype(dtype, copy=False)


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
