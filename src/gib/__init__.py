"""gib: the Generalized Information Bottleneck, measured during training and reproduced.

All information quantities are in bits; arrays are samples x features.
"""

from .estimators import LeaveOneOut, SaturationWarning, available_estimators, get_estimator
from .measures import entropy, leave_one_out, mutual_information, pmi_weights, synergy, synergy_from
from .planes import CompressionPhase, GIBPoint, IBPoint, compression_phase, gib_point, ib_point, normalise

__version__ = "0.1.0"

__all__ = [
    "CompressionPhase",
    "GIBPoint",
    "IBPoint",
    "LeaveOneOut",
    "SaturationWarning",
    "available_estimators",
    "compression_phase",
    "entropy",
    "get_estimator",
    "gib_point",
    "ib_point",
    "leave_one_out",
    "mutual_information",
    "normalise",
    "pmi_weights",
    "synergy",
    "synergy_from",
]
