"""gib: the Generalized Information Bottleneck, measured during training and reproduced.

All information quantities are in bits; arrays are samples x features.

The public names are imported on first use (PEP 562), so ``import gib`` and the ``gib`` command
start without NumPy, SciPy or torch; ``from gib import synergy`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the submodule that defines it (one table, read by __getattr__ and __dir__)
_EXPORTS = {
    "Entropies": "estimators",
    "LeaveOneOut": "estimators",
    "SaturationWarning": "exceptions",
    "NegativeInformationWarning": "exceptions",
    "available_estimators": "estimators",
    "get_estimator": "estimators",
    "entropy": "measures",
    "leave_one_out": "measures",
    "mutual_information": "measures",
    "pmi_weights": "measures",
    "synergy": "measures",
    "synergy_from": "measures",
    "SynergyRatio": "measures",
    "synergy_ratio": "measures",
    "dual_total_correlation": "measures",
    "o_information": "measures",
    "s_information": "measures",
    "total_correlation": "measures",
    "BoundWarning": "exceptions",
    "CompressionPhase": "phases",
    "PhaseRule": "phases",
    "GIBPoint": "planes",
    "GIBReference": "references",
    "IBPoint": "planes",
    "NullReference": "references",
    "binned_agreement": "planes",
    "compression_phase": "phases",
    "gib_point": "planes",
    "gib_reference": "references",
    "ib_ceilings": "planes",
    "ib_point": "planes",
    "normalise": "phases",
    "null_predictions": "references",
    "null_trajectory": "references",
    "Monitor": "monitor",
    "default_recorders": "recorders",
    "multiplets": "interactions",
    "multiplets_nbest": "interactions",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # static tools (type checkers, the API docs) see ordinary imports
    from .estimators import Entropies, LeaveOneOut, available_estimators, get_estimator
    from .exceptions import BoundWarning, NegativeInformationWarning, SaturationWarning
    from .measures import entropy, leave_one_out, mutual_information, pmi_weights, synergy, synergy_from
    from .measures import dual_total_correlation, o_information, s_information, total_correlation
    from .interactions import multiplets, multiplets_nbest
    from .measures import SynergyRatio, synergy_ratio
    from .monitor import Monitor
    from .recorders import default_recorders
    from .phases import CompressionPhase, PhaseRule, compression_phase, normalise
    from .planes import GIBPoint, IBPoint, binned_agreement, gib_point, ib_ceilings, ib_point
    from .references import GIBReference, NullReference, gib_reference, null_predictions, null_trajectory


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:  # submodules as attributes: gib.plotting, gib.loggers, ...
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module 'gib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
