"""Constraints declared on config fields, and the one check that reads them.

A config field states what values it takes in its annotation::

    epochs: Annotated[int, AtLeast(1)] = 1000  #: training epochs
    lr: Annotated[float, Positive] = 0.01  #: learning rate
    activations: Annotated[tuple[str, ...], NonEmpty, OneOf(ACTIVATIONS)] = ACTIVATIONS

:func:`check_fields` checks every declared constraint of a config and raises a ValueError that
names the ``--set`` key, the value and the valid values; ``gib run NAME --help`` shows the same
text beside the key's type (:func:`describe`). An item constraint (:class:`Range`,
:class:`OneOf`, :class:`Check`) on a tuple field holds for each item; :data:`NonEmpty` and
:data:`Distinct` are about the tuple itself. None (an optional field left unset) satisfies every
constraint. Relations between fields (``probe_size <= train_size``) stay in the config's
``check`` method.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any


def value_text(value: Any) -> str:
    """A value as ``--set`` writes it: tuples comma-joined, None as none, bools lower-case."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(value_text(v) for v in value)
    return str(value)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Range:
    """A finite number between ``low`` and ``high`` (None: unbounded), the bounds included
    unless ``low_open`` / ``high_open``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        low = None if self.low is None else f"{'>' if self.low_open else '>='} {_number(self.low)}"
        high = None if self.high is None else f"{'<' if self.high_open else '<='} {_number(self.high)}"
        if low and high:
            return (f"in {'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}"
                    f"{')' if self.high_open else ']'}")
        return low or high or "a finite number"

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"must be a finite number {self.describe()}"
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        return f"must be {self.describe()}" if too_low or too_high else None


def AtLeast(low: float) -> Range:  # noqa: N802 - reads as a constraint, like the classes
    """``value >= low``."""
    return Range(low=low)


Positive = Range(low=0, low_open=True)  #: ``value > 0``
NonNegative = Range(low=0)  #: ``value >= 0``
Fraction = Range(0, 1)  #: ``0 <= value <= 1``
EPOCH_FRACTION = Range(0, 1, low_open=True)  #: a fraction of the epochs: ``0 < value <= 1``


@dataclass(frozen=True)
class OneOf:
    """One of ``choices``: a tuple, or a function returning one (a registry read when checked)."""

    choices: tuple | Callable[[], Iterable]

    def values(self) -> tuple:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def describe(self) -> str:
        return "in {" + ", ".join(map(str, self.values())) + "}"

    def problem(self, value: Any) -> str | None:
        values = self.values()
        return None if value in values else f"unknown {value!r}; choose from {', '.join(map(str, values))}"


@dataclass(frozen=True)
class Check:
    """``test(value)`` raises a ValueError (its message, naming the value, is the problem) for
    a bad value; ``text`` says what the valid values are."""

    test: Callable[[Any], Any]
    text: str

    def describe(self) -> str:
        return self.text

    def problem(self, value: Any) -> str | None:
        try:
            self.test(value)
        except (ValueError, TypeError) as err:
            return str(err).rstrip(".")
        return None


@dataclass(frozen=True)
class _Whole:
    """A constraint on a tuple as a whole."""

    text: str
    holds: Callable[[tuple], bool]
    failure: str

    def describe(self) -> str:
        return self.text

    def problem(self, value: Any) -> str | None:
        return None if self.holds(value) else self.failure


NonEmpty = _Whole("non-empty", lambda v: len(v) > 0, "give at least one value")  #: a tuple with an item
Distinct = _Whole("distinct", lambda v: len(set(v)) == len(v), "the values must differ")  #: no repeats


def declared(config_cls: type) -> dict[str, tuple]:
    """``{field name: its constraints}`` of a dataclass, for the fields that declare any."""
    hints = typing.get_type_hints(config_cls, include_extras=True)
    out = {}
    for f in fields(config_cls):
        hint = hints[f.name]
        if typing.get_origin(hint) is typing.Annotated:
            out[f.name] = tuple(m for m in hint.__metadata__ if hasattr(m, "problem"))
    return out


def describe(config_cls: type, name: str) -> str:
    """The declared constraints of field ``name`` in words (empty when it declares none)."""
    found = declared(config_cls).get(name, ())
    hints = typing.get_type_hints(config_cls)
    items = typing.get_origin(hints[name]) in (tuple, list)
    return ", ".join(("each " if items and not isinstance(c, _Whole) else "") + c.describe() for c in found)


def check_fields(config: Any) -> None:
    """Check every declared constraint of ``config``.

    Raises
    ------
    ValueError
        ``--set KEY=VALUE: what is wrong``, naming the valid values.
    """
    for name, constraints in declared(type(config)).items():
        value = getattr(config, name)
        if value is None:
            continue
        for constraint in constraints:
            if isinstance(value, (tuple, list)) and not isinstance(constraint, _Whole):
                bad = [(v, p) for v in value if (p := constraint.problem(v))]
                problem = None if not bad else bad[0][1] if not isinstance(constraint, Range) else \
                    f"each {bad[0][1]} (not {bad[0][0]!r})"
            else:
                problem = constraint.problem(value)
            if problem:
                raise ValueError(f"--set {name}={value_text(value)}: {problem}.")
