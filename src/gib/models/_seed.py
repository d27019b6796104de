"""Seeded model construction that leaves the global torch RNG as it was."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import torch


def check_seed(seed: object, name: str = "seed", allow_none: bool = True) -> int | None:
    """Return ``seed`` as an int (or None when allowed); errors name the argument."""
    if seed is None and allow_none:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        allowed = "a non-negative integer or None" if allow_none else "a non-negative integer"
        raise ValueError(f"`{name}` must be {allowed}, got {seed!r}.")
    return int(seed)


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run the block under ``torch.manual_seed(seed)``, restoring the CPU RNG afterwards.

    ``None`` runs the block on the global RNG unchanged.
    """
    seed = check_seed(seed)
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
