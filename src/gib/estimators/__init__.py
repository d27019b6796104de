"""Estimators chosen by name; each answers entropy, mutual information, leave-one-out and the
subset entropies of the higher-order measures."""

from .base import Entropies, Estimator, LeaveOneOut, available_estimators, get_estimator, register
from .gcmi import GaussianCopulaEstimator
from .kde import KDEEstimator, KDEUpperEstimator
from .ksg import KSGEstimator
from .plugin import (
    BinningEstimator,
    DiscreteEstimator,
    PlugInEstimator,
    SaturationWarning,
    code_information,
    discrete_codes,
    row_codes,
)
from .renyi import RenyiEstimator

# ksg's estimate is a mean of digamma functions of neighbour counts: it takes no sample weights
# (KSGEstimator._check_weights refuses them)
KSGEstimator.supports_weights = False

__all__ = [
    "BinningEstimator",
    "DiscreteEstimator",
    "Entropies",
    "Estimator",
    "GaussianCopulaEstimator",
    "KDEEstimator",
    "KDEUpperEstimator",
    "KSGEstimator",
    "LeaveOneOut",
    "PlugInEstimator",
    "RenyiEstimator",
    "SaturationWarning",
    "available_estimators",
    "code_information",
    "discrete_codes",
    "get_estimator",
    "register",
    "row_codes",
]
