"""Estimators chosen by name; each answers entropy, mutual information, leave-one-out and the
subset entropies of the higher-order measures."""

from .base import Entropies, Estimator, LeaveOneOut, available_estimators, get_estimator, register
from .gcmi import GaussianCopulaEstimator
from .kde import KDEEstimator, KDEUpperEstimator
from .plugin import (
    BinningEstimator,
    DiscreteEstimator,
    PlugInEstimator,
    SaturationWarning,
    code_information,
    discrete_codes,
    row_codes,
)

__all__ = [
    "BinningEstimator",
    "DiscreteEstimator",
    "Entropies",
    "Estimator",
    "GaussianCopulaEstimator",
    "KDEEstimator",
    "KDEUpperEstimator",
    "LeaveOneOut",
    "PlugInEstimator",
    "SaturationWarning",
    "available_estimators",
    "code_information",
    "discrete_codes",
    "get_estimator",
    "register",
    "row_codes",
]
