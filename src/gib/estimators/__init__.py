"""Estimators chosen by name; each answers entropy, mutual information and leave-one-out."""

from .base import Estimator, LeaveOneOut, available_estimators, get_estimator, register
from .gcmi import GaussianCopulaEstimator
from .kde import KDEEstimator, KDEUpperEstimator
from .plugin import BinningEstimator, DiscreteEstimator, SaturationWarning, discrete_codes

__all__ = [
    "BinningEstimator",
    "DiscreteEstimator",
    "Estimator",
    "GaussianCopulaEstimator",
    "KDEEstimator",
    "KDEUpperEstimator",
    "LeaveOneOut",
    "SaturationWarning",
    "available_estimators",
    "discrete_codes",
    "get_estimator",
    "register",
]
