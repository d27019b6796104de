"""Constraints declared on config fields: the one check, its messages and the --help text."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import pytest

from gib.experiments import experiments
from gib.experiments.base import config_fields, make_config
from gib.experiments.constraints import (
    AtLeast, Check, Distinct, Fraction, NonEmpty, NonNegative, OneOf, Positive, Range, check_fields, declared, describe,
)


def _even(value: int) -> None:
    if value % 2:
        raise ValueError(f"{value} is odd.")


@dataclass
class Toy:
    count: Annotated[int, AtLeast(1)] = 1
    rate: Annotated[float, Positive] = 0.5
    share: Annotated[float, Range(0, 1, low_open=True)] = 1.0
    size: Annotated[int | None, AtLeast(2)] = None
    kind: Annotated[str, OneOf(("a", "b"))] = "a"
    kinds: Annotated[tuple[str, ...], NonEmpty, Distinct, OneOf(lambda: ("a", "b", "c"))] = ("a",)
    weights: Annotated[tuple[float, ...], NonNegative] = ()
    even: Annotated[int, Check(_even, "an even number")] = 0
    free: int = 3  # no constraint

    def __post_init__(self):
        check_fields(self)


@pytest.mark.parametrize("changes, message", [
    ({"count": 0}, "--set count=0: must be >= 1."),
    ({"rate": 0.0}, "--set rate=0.0: must be > 0."),
    ({"rate": math.inf}, "--set rate=inf: must be a finite number > 0."),
    ({"rate": math.nan}, "--set rate=nan: must be a finite number > 0."),
    ({"rate": True}, "--set rate=true: must be a finite number > 0."),  # a bool is no number here
    ({"share": 0.0}, "--set share=0.0: must be in (0, 1]."),
    ({"share": 1.5}, "--set share=1.5: must be in (0, 1]."),
    ({"size": 1}, "--set size=1: must be >= 2."),
    ({"kind": "z"}, "--set kind=z: unknown 'z'; choose from a, b."),
    ({"kinds": ()}, "--set kinds=: give at least one value."),
    ({"kinds": ("a", "a")}, "--set kinds=a,a: the values must differ."),
    ({"kinds": ("a", "d")}, "--set kinds=a,d: unknown 'd'; choose from a, b, c."),
    ({"weights": (1.0, -2.0)}, "--set weights=1.0,-2.0: each must be >= 0 (not -2.0)."),
    ({"even": 3}, "--set even=3: 3 is odd."),
])
def test_a_bad_value_names_the_key_the_value_and_the_valid_values(changes, message):
    with pytest.raises(ValueError) as caught:
        Toy(**changes)
    assert str(caught.value) == message


def test_bounds_none_and_unconstrained_fields_pass():
    Toy(count=1, rate=1e-12, share=1.0, size=None, kinds=("c", "b"), weights=(0.0,), even=4, free=-7)
    assert Fraction.problem(0) is None and Fraction.problem(1) is None and Fraction.problem(1.01)
    assert set(declared(Toy)) == {"count", "rate", "share", "size", "kind", "kinds", "weights", "even"}


def test_describe_is_what_help_shows():
    assert describe(Toy, "count") == ">= 1"
    assert describe(Toy, "share") == "in (0, 1]"
    assert describe(Toy, "kinds") == "non-empty, distinct, each in {a, b, c}"
    assert describe(Toy, "weights") == "each >= 0"
    assert describe(Toy, "free") == ""
    assert Range(high=3, high_open=True).describe() == "< 3"


def test_every_experiment_declares_its_fields_and_help_shows_them():
    for name, exp in experiments().items():
        shown = {f.name: f.type for f in config_fields(exp.config_cls)}
        for key, constraints in declared(exp.config_cls).items():
            assert constraints, f"{name}.{key}"
            assert describe(exp.config_cls, key) in shown[key], (name, key, shown[key])
        # the presets satisfy their own constraints
        for preset in exp.presets:
            make_config(exp.config_cls, exp.presets, preset)
    fields = {f.name: f for f in config_fields(experiments()["functions"].config_cls)}
    assert fields["epochs"].type == "int >= 1"
    assert fields["addition_lr"].type == "float > 0 or none"
    assert fields["functions"].type.startswith("str,str,... non-empty, each in {addition, multiplication")


def test_a_redeclared_field_keeps_a_constraint():
    # `functions` redefines n_bins and `pca-dims` depths: both must still be checked
    with pytest.raises(ValueError, match="--set n_bins=1: must be >= 2"):
        make_config(experiments()["functions"].config_cls, experiments()["functions"].presets, "test", {"n_bins": "1"})
    pca = experiments()["pca-dims"]
    with pytest.raises(ValueError, match="--set depths=9: `depth` must be 6k \\+ 2"):
        make_config(pca.config_cls, pca.presets, "test", {"depths": "9"})
