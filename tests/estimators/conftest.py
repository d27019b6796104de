"""The one backend fixture: every leave-one-out test runs on NumPy, on torch's CPU and, when a
GPU is present, on CUDA, against the direct per-subset computation (always NumPy).

``backend.X(X)`` hands X over as the backend's array (NumPy array, CPU tensor, CUDA tensor):
a tensor runs the estimators' array-API code in torch on its own device. ``backend.tol(name,
own)`` is the test's own tolerance on NumPy and, on torch, no tighter than today's cross-backend
tolerances: 1e-9 bits for the plug-in estimators, 1e-6 for the kernel and copula estimators.
``entropy`` and ``mutual_information`` always compute in NumPy, so tests of those alone do not
take the fixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

PLUGIN_TOL, KERNEL_TOL = 1e-9, 1e-6  # bits, torch against NumPy's direct computation
PLUGIN = ("discrete", "binning")


def _backends() -> list[str]:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return ["numpy"]
    return ["numpy", "torch-cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@dataclass(frozen=True)
class Backend:
    name: str  # "numpy", "torch-cpu" or "cuda"

    @property
    def device(self) -> str | None:
        """The estimators' ``device`` option that selects this backend (None: NumPy)."""
        return {"numpy": None, "torch-cpu": "cpu", "cuda": "cuda"}[self.name]

    def X(self, X: np.ndarray):
        """``X`` as this backend's array."""
        if self.name == "numpy":
            return X
        import torch

        return torch.from_numpy(np.ascontiguousarray(X)).to(self.device)

    def tol(self, estimator: str, own: float) -> float:
        if self.name == "numpy":
            return own
        return max(own, PLUGIN_TOL if estimator in PLUGIN else KERNEL_TOL)


@pytest.fixture(params=_backends())
def backend(request):
    if request.param != "numpy":
        import torch

        # Two shared cores: torch's thread pool only adds contention at the tests' sizes.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        yield Backend(request.param)
        torch.set_num_threads(threads)
    else:
        yield Backend(request.param)

