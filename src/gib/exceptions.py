"""The warnings gib emits, in one module, and where the docs explain each.

Every warning is at most two lines, is given once per cause per run, and ends with a link to the
docs page that explains the cause and its remedies. A user silences one kind with the standard
filter, e.g. ``warnings.simplefilter("ignore", gib.exceptions.SaturationWarning)``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Hashable, MutableSet

#: the published documentation; messages link to its pages (stable names and anchors)
DOCS_URL = "https://gib-developers.github.io/gib/"


def docs_link(page: str, anchor: str = "") -> str:
    """The URL of a docs page (``"estimators"``) and optional anchor (``"saturation"``)."""
    return f"{DOCS_URL}{page}.html" + (f"#{anchor}" if anchor else "")


class GibWarning(UserWarning):
    """Base class of every warning gib emits."""


class SaturationWarning(GibWarning):
    """An estimate sits at its ceiling and carries no signal: every joint row of X is unique, so
    the plug-in I(X;V) equals H(V), or an IB point is at min(log2 N, H(X)) or H(Y)."""


class BoundWarning(GibWarning):
    """An IB estimate exceeds a bound that the true value obeys (I(T;Y) <= H(Y) for a discrete Y,
    I(X;T) <= min(log2 N, H(X)) for the plug-in estimators): KDE and GCMI can do this."""


class NegativeInformationWarning(GibWarning):
    """An estimated mutual information is below zero (``kde`` and ``gcmi`` can do this for
    independent variables: an estimator bias); the point is flagged ``negative`` in the frame."""


class TiedNeighboursWarning(GibWarning):
    """k-nearest-neighbour estimates with samples whose k-th neighbour is at distance 0 (values
    repeated at least k + 1 times, with no noise to break the ties): their neighbour counts are 0
    and the estimate is inflated."""


class StandInWarning(GibWarning):
    """A loader returned an offline stand-in instead of the data set asked for."""


def outside_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` in the calling function name the first
    frame outside the gib package: the user's line, however many of gib's functions (and
    wrappers) lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] == "gib":
        frame, level = frame.f_back, level + 1
    return level


def warn_once(seen: MutableSet | None, key: Hashable, category: type[Warning], message: str,
              link: str = "") -> None:
    """Warn ``message`` (one or two short lines) with its docs ``link``, once per ``key`` in ``seen``,
    at the caller's line outside gib.

    ``seen`` is the caller's record of what it already said (a run's set); None warns every time.
    """
    if seen is not None:
        if key in seen:
            return
        seen.add(key)
    text = message.rstrip() + (f"\n  See {link}" if link else "")
    warnings.warn(text, category, stacklevel=outside_stacklevel())
