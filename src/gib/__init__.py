"""gib: the Generalized Information Bottleneck, measured during training and reproduced.

All information quantities are in bits; arrays are samples x features.
"""

from .estimators import LeaveOneOut, SaturationWarning, available_estimators, get_estimator
from .measures import entropy, leave_one_out, mutual_information, pmi_weights, synergy, synergy_from
from .planes import (
    BoundWarning,
    CompressionPhase,
    GIBPoint,
    GIBReference,
    IBPoint,
    NullReference,
    binned_agreement,
    compression_phase,
    gib_point,
    gib_reference,
    ib_ceilings,
    ib_point,
    normalise,
    null_predictions,
    null_trajectory,
)

__version__ = "0.1.0"

__all__ = [
    "BoundWarning",
    "CompressionPhase",
    "Monitor",
    "GIBPoint",
    "GIBReference",
    "IBPoint",
    "NullReference",
    "LeaveOneOut",
    "SaturationWarning",
    "available_estimators",
    "binned_agreement",
    "compression_phase",
    "entropy",
    "get_estimator",
    "gib_point",
    "gib_reference",
    "ib_ceilings",
    "ib_point",
    "leave_one_out",
    "mutual_information",
    "normalise",
    "null_predictions",
    "null_trajectory",
    "pmi_weights",
    "synergy",
    "synergy_from",
]


def __getattr__(name: str):
    # the Monitor needs torch; importing it lazily keeps `import gib` light for NumPy-only use
    if name == "Monitor":
        from .monitor import Monitor

        return Monitor
    raise AttributeError(f"module 'gib' has no attribute {name!r}")
