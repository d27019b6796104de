"""The one interface every estimator answers (STYLE.md: 'One interface carries the speed').

An estimator is built by name with its options (``get_estimator("binning", n_bins=30)``) and
answers three questions, all in bits:

- ``entropy(a, weights)``: H(A);
- ``mutual_information(a, b, weights)``: I(A;B);
- ``leave_one_out(X, v, weights)``: I(X;V), every I(X_i;V) and every I(X_-i;V) in one call.

Measures (synergy, GIB points) are written once against this interface and never loop over
features themselves. The base class supplies the plain per-subset ``leave_one_out`` that the
fast paths are tested against.

Estimators with a torch backend (``discrete``, ``binning``, ``kde``, ``kde_upper``, ``gcmi``)
take a ``device`` option; with it set, or with a torch tensor as X, ``leave_one_out`` runs in
torch on that device (see ``torch_backend.py``). ``entropy`` and ``mutual_information`` always
run in NumPy.
"""

from __future__ import annotations

import inspect
import sys
from abc import ABC, abstractmethod
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .._validation import as_samples, check_same_length, check_weights


class LeaveOneOut(NamedTuple):
    """I(X;V) with the feature-wise pieces that synergy needs, in bits."""

    joint: float  #: I(X;V)
    single: np.ndarray  #: I(X_i;V), shape (n,)
    complement: np.ndarray  #: I(X_-i;V), shape (n,)


def _is_tensor(a: Any) -> bool:
    """Whether ``a`` is a torch tensor, without importing torch when nobody has."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def check_device(device: Any) -> Any:
    """The ``device`` option of the estimators with a torch backend: None (NumPy), or a
    torch.device from ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or a torch.device."""
    if device is None:
        return None
    from .torch_backend import as_device

    return as_device(device)


class Estimator(ABC):
    """Base class: subclasses set ``name`` and implement the ``_``-prefixed methods on checked
    2-D arrays and normalised weights (``None`` means uniform).

    A subclass with a torch backend sets ``torch_backend = True`` and ``device`` (from
    ``check_device``); its ``_leave_one_out`` then also receives X as a tensor on the device.
    """

    name: ClassVar[str]
    torch_backend: ClassVar[bool] = False
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
        if self.torch_backend and (self.device is not None or _is_tensor(X)):
            from .torch_backend import as_device_samples

            X = as_device_samples(X, "X", self.device)  # a tensor stays on its device
        else:
            X = as_samples(X, "X")
        v = as_samples(v, "v")
        n = check_same_length(X=X, v=v)
        if X.shape[1] < 2:
            raise ValueError(
                f"`X` has {X.shape[1]} feature; leave-one-out needs at least 2 features "
                "(X_-i would be empty)."
            )
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

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters
        shown = [f"{k}={getattr(self, k)!r}" for k in params if k != "self" and hasattr(self, k)]
        return f"{type(self).__name__}({', '.join(shown)})"


_REGISTRY: dict[str, type[Estimator]] = {}


def register(cls: type[Estimator]) -> type[Estimator]:
    """Class decorator: make an estimator available by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_estimators() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


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
                f"options {sorted(options)} were given with an estimator instance; "
                "set them when building it instead."
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
            f"unknown option(s) {', '.join(map(repr, unknown))} for estimator {estimator!r}; "
            f"it takes: {', '.join(accepted) or 'no options'}."
        )
    return cls(**options)
