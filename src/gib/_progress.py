"""Progress bars that nest cleanly and stay quiet when nobody watches (one home for tqdm).

Off a terminal (a log file, CI, a pipe) a tqdm bar writes one line per refresh, and a nested
bar's cursor movements show as ``[A`` fragments; there every bar made here is off. In a notebook
(tqdm's widget bars) and on a terminal they show, each below the bars already open, and vanish
when done (``leave=False``), so they never pile up under a Trainer's own bar.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any


def progress_bar(iterable: Iterable | None = None, *, enabled: bool = True, **options: Any):
    """A ``tqdm.auto`` bar, off when ``enabled`` is False or standard error is not a terminal.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over (or pass ``total=`` and call ``update``).
    enabled : bool
        False: no bar at all (``--quiet``, ``progress=False``).
    **options
        Passed to tqdm (``desc``, ``total``, ``unit``, ``initial``, ...).
    """
    from tqdm.auto import tqdm

    widget = tqdm.__module__.startswith("tqdm.notebook")
    on_terminal = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    options.setdefault("leave", False)
    options.setdefault("dynamic_ncols", True)
    return tqdm(iterable, disable=not (enabled and (widget or on_terminal)), **options)


def steps_bar(start: int, last: int, desc: str, *, unit: str = "epoch", enabled: bool = True):
    """The bar of a resumable loop over steps ``start..last``, step 0 (recorded before any
    training) not counted: ``last`` steps in all, those before ``start`` done already; off when
    ``enabled`` is False or nothing is left to run."""
    return progress_bar(total=last, initial=max(0, start - 1), desc=desc, unit=unit,
                        enabled=enabled and start <= last)
