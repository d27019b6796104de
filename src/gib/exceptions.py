"""The project's warning classes, one per concept (each a UserWarning)."""

from __future__ import annotations


class TiedNeighboursWarning(UserWarning):
    """k-nearest-neighbour estimates with samples whose k-th neighbour is at distance 0 (values
    repeated at least k + 1 times, with no noise to break the ties): their neighbour counts are 0
    and the estimate is inflated."""
