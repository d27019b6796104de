"""What every experiment shares: configs with declared constraints, presets and ``--set``
overrides, the registry, seeding, record schedules and tidy frames. The training loops are
written inline in each experiment, with :func:`gib.runs.resume` and :func:`gib.runs.save`."""

from __future__ import annotations

import dataclasses
import json
import random
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Annotated, Any

import numpy as np
import pandas as pd
import torch

from ..measures import SYNERGY_KINDS
from ..models.resnet import check_depth
from ..monitor import COLUMNS, null_references
from ..references import NULL_FAMILIES
from ..runs import RunDir
from .constraints import AtLeast, Check, NonEmpty, NonNegative, OneOf, check_fields, describe, value_text

PRESETS = ("test", "quick", "cpu", "paper")


def _torch_device(name: str) -> None:
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"not a torch device ({err})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("torch sees no CUDA device here; use cpu")


#: a BasicBlock CIFAR ResNet depth (`resnet`, `pca-dims`, `teacher-student`)
DEPTH = Check(check_depth, "of the form 6k + 2")


def key_value(item: str) -> None:
    key, equals, _ = item.partition("=")
    if not equals or not key.strip():
        raise ValueError("write each option as key=value")


def _option_value(text: str) -> Any:
    """An estimator option's value from its ``--set`` text: an int, a float, true/false, none, or
    else the string itself."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _estimator_names() -> tuple[str, ...]:
    """The estimators of both planes: those that take sample weights, as the GIB plane's PMI
    weights need (``ksg`` does not)."""
    from ..estimators import available_estimators

    return tuple(available_estimators(weights=True))


class _PlaneEstimator(OneOf):
    """An estimator for both planes: a registered one that takes sample weights; the others are
    named with the reason."""

    def describe(self) -> str:
        return super().describe() + " (those that take sample weights, as the GIB plane needs)"

    def problem(self, value: Any) -> str | None:
        from ..estimators import available_estimators

        if value in available_estimators() and value not in self.values():
            return (f"{value!r} takes no sample weights, and the GIB plane weights the samples by their PMI; "
                    f"choose from {', '.join(map(str, self.values()))}")
        return super().problem(value)


@dataclass
class BaseConfig:
    """Options every experiment has (SPEC 4 rows `estimators`, `svw` apply everywhere).

    Each field declares its valid values in its annotation (:mod:`.constraints`), checked when
    the config is made; :meth:`check` adds the relations between fields.
    """

    #: seeds, one run of every condition each (also --seed S, repeatable)
    seeds: Annotated[tuple[int, ...], NonEmpty] = (0,)
    #: estimator of both planes: binning, kde, gcmi, ... (one that takes sample weights)
    estimator: Annotated[str, _PlaneEstimator(_estimator_names)] = "binning"
    synergy: Annotated[str, OneOf(SYNERGY_KINDS)] = "featurewise"  #: featurewise | sum_vs_whole (Appendix I)
    n_bins: Annotated[int, AtLeast(2)] = 30  #: bins per column of the binning estimator
    #: torch device of the training: cpu, cuda, cuda:1, ... (also --device)
    device: Annotated[str, Check(_torch_device, "naming a torch device")] = "cpu"
    threads: Annotated[int, NonNegative] = 0  #: torch CPU threads (0: torch's default); 1 is fastest for tiny nets
    progress: bool = True  #: progress bars (shown only on a terminal; --quiet or --no-progress: none)
    #: null predictors recorded beside the GIB plane at the network's accuracy (SPEC 2,
    #: "References for the GIB plane"): linear | random | none
    null: Annotated[str | None, OneOf(NULL_FAMILIES)] = "linear"
    null_seeds: Annotated[int, AtLeast(1)] = 3  #: null predictors averaged
    #: options of ``estimator`` as key=value pairs, e.g. ``--set estimator=kde --set
    #: estimator_options=bandwidth_scale=0.5`` (several: comma-separated); binning's bins are ``n_bins``
    estimator_options: Annotated[tuple[str, ...], Check(key_value, "of the form key=value")] = ()

    def __post_init__(self) -> None:
        check_fields(self)

    def estimator_kwargs(self) -> dict:
        """The keyword options of ``estimator`` in every plane of the run: ``n_bins`` for
        binning, then ``estimator_options`` with each value read as a number, true/false, none
        or else a string."""
        options = {"n_bins": self.n_bins} if self.estimator == "binning" else {}
        for item in self.estimator_options:
            key, value = (part.strip() for part in item.split("=", 1))
            if key == "n_bins" and self.estimator == "binning":
                raise ValueError("--set estimator_options=n_bins=...: binning's bins have their own key; "
                                 "use --set n_bins=... instead.")
            options[key] = _option_value(value)
        return options

    def check(self) -> None:
        """Check what the fields' declared constraints cannot: here the estimator's options;
        an experiment adds the relations between its fields (calling ``super().check()``).
        :func:`make_config` calls it before a run directory is touched."""
        from ..estimators import get_estimator

        try:
            get_estimator(self.estimator, **self.estimator_kwargs())  # its options, checked now
        except (TypeError, ValueError) as error:
            raise ValueError(f"--set estimator={self.estimator} with estimator_options="
                             f"{','.join(self.estimator_options) or '(none)'}: {error}") from None

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        if not values["estimator_options"]:
            # left out when unset, so that a run stored before the key existed still resumes
            del values["estimator_options"]
        return values


def _parse(value: str, annotation: Any, name: str) -> Any:
    """Parse a ``--set`` string into the field's type."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value.lower() in ("none", "null", ""):
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse(value, inner[0], name)
    if origin in (tuple, list):
        inner = args[0] if args else str
        items = [v for v in value.split(",") if v != ""]
        return tuple(_parse(v, inner, name) for v in items)
    try:
        if annotation is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if annotation is int:
            return int(value)
        if annotation is float:
            return float(value)
    except ValueError:
        raise ValueError(f"--set {name}={value!r}: expected {getattr(annotation, '__name__', annotation)}.") from None
    return value


def make_config(config_cls: type, presets: Mapping[str, Mapping[str, Any]], preset: str,
                overrides: Mapping[str, str] | None = None, seeds: Iterable[int] | None = None) -> Any:
    """Build a config from a preset, then ``--set key=value`` strings, then the ``--seed`` values."""
    if preset not in presets:
        raise ValueError(f"`preset` must be one of {', '.join(map(repr, presets))}; got {preset!r}.")
    hints = typing.get_type_hints(config_cls)
    values = dict(presets[preset])
    names = {f.name for f in fields(config_cls)}
    for key, raw in (overrides or {}).items():
        if key not in names:
            import difflib

            close = difflib.get_close_matches(key, sorted(names), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"--set {key}=...: unknown key.{hint} This experiment takes: {', '.join(sorted(names))} "
                             "(`gib run NAME --help` explains each).")
        values[key] = _parse(raw, hints[key], key) if isinstance(raw, str) else raw
    if seeds:
        values["seeds"] = tuple(int(s) for s in seeds)
    # every option is checked here, before `run_experiment` writes anything: the declared
    # constraints when the dataclass is made, then the relations between fields
    config = config_cls(**values)
    check = getattr(config, "check", None)
    if check:
        check()
    return config


@dataclass(frozen=True)
class FieldDoc:
    """One ``--set`` key of an experiment's config, as ``gib run NAME --help`` lists it."""

    name: str
    #: how to write the value, then its declared constraints: ``int >= 1``, ``float or none``,
    #: ``str in {tanh, relu}``, ``int,int,... non-empty, each >= 1``
    type: str
    default: str  #: the dataclass default, written as ``--set`` takes it
    doc: str  #: the field's ``#:`` comment


def _type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(inner) + (" or none" if type(None) in args else "")
    if origin in (tuple, list):
        item = _type_name(args[0]) if args else "str"
        return f"{item},{item},..."
    return getattr(annotation, "__name__", str(annotation))


def _field_comments(cls: type) -> dict[str, str]:
    """``#:`` comments of a class's annotated fields: on the field's own (last) line, else on the
    lines right above it (Sphinx's convention)."""
    import ast
    import inspect
    import textwrap

    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    node = ast.parse(source).body[0]
    docs = {}
    for item in getattr(node, "body", []):
        if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
            continue
        own = lines[item.end_lineno - 1]
        if "#:" in own:
            docs[item.target.id] = own.split("#:", 1)[1].strip()
            continue
        above, row = [], item.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#:"):
            above.insert(0, lines[row].strip()[2:].strip())
            row -= 1
        if above:
            docs[item.target.id] = " ".join(above)
    return docs


def config_fields(config_cls: type) -> list[FieldDoc]:
    """Every ``--set`` key of ``config_cls`` with its type, default and one-line doc, in field
    order; a field redefined without a comment keeps the doc of the class it overrides."""
    docs: dict[str, str] = {}
    for cls in reversed(config_cls.__mro__):
        if dataclasses.is_dataclass(cls):
            docs.update(_field_comments(cls))
    hints = typing.get_type_hints(config_cls)
    out = []
    for f in fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        kind, valid = _type_name(hints[f.name]), describe(config_cls, f.name)
        if valid:  # `float > 0 or none`: the constraint is on the value, none is always allowed
            optional = kind.endswith(" or none")
            kind = kind.removesuffix(" or none") + f" {valid}" + (" or none" if optional else "")
        out.append(FieldDoc(f.name, kind, value_text(default), docs.get(f.name, "")))
    return out


def parse_sets(items: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> {"a": "1", "b": "x"} with a clear error for a missing ``=``."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: write key=value.")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def random_subset(n: int, size: int, rng: np.random.Generator, sort: bool = False) -> np.ndarray:
    """``size`` indices of ``range(n)`` drawn by ``rng`` without replacement (all n when ``size``
    is 0 or at least n), in the drawn order or, with ``sort``, ascending."""
    order = rng.permutation(n)
    chosen = order if not size or size >= n else order[:size]
    return np.sort(chosen) if sort else chosen


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The randomness of one epoch (shuffling, augmentation) depends on (seed, epoch) only, so a
    resumed run draws exactly what an uninterrupted one would."""
    return torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))


@dataclass
class Experiment:
    """A registered experiment: its config class, presets, runner, figures and report.

    ``summary`` and ``preset_costs`` come from :mod:`gib.experiments.catalogue` (their one home,
    which `gib list` reads without importing the experiment) when :func:`register` is called.
    """

    name: str
    config_cls: type
    presets: dict[str, dict]
    run: Callable[[Any, RunDir], None]
    figures: Callable[[RunDir], dict]
    report: Callable[[RunDir], str]
    summary: str = ""
    preset_costs: dict[str, str] = field(default_factory=dict)
    #: the paper's claims measured in a run (reporting.Claim list); used by `gib reproduce`
    claims: Callable[[RunDir], list] | None = None
    #: other observations of the paper measured in a run (reporting.Claim list), reported by
    #: `gib reproduce` apart from the claims
    observations: Callable[[RunDir], list] | None = None


REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to the registry, with its summary and preset costs from the catalogue."""
    from .catalogue import CATALOGUE

    listed = CATALOGUE.get(experiment.name)
    if listed is None:
        raise ValueError(f"experiment {experiment.name!r} is not in gib.experiments.catalogue; add its entry "
                         "(module, summary, preset costs) there.")
    if set(listed.presets) != set(experiment.presets):
        raise ValueError(f"experiment {experiment.name!r}: the catalogue lists presets {listed.presets}, the "
                         f"module defines {tuple(experiment.presets)}; keep them the same.")
    if (experiment.summary and experiment.summary != listed.summary) or (
            experiment.preset_costs and experiment.preset_costs != dict(listed.costs)):
        raise ValueError(f"experiment {experiment.name!r}: its summary and preset costs live in "
                         "gib.experiments.catalogue only; change them there.")
    experiment.summary = listed.summary
    experiment.preset_costs = dict(listed.costs)
    REGISTRY[experiment.name] = experiment
    return experiment


def shared_null(config: BaseConfig, features: Any, y: Any, estimators: Any, **monitor_options: Any) -> dict | None:
    """The ``null=`` of every Monitor an experiment builds on one probe set: one
    :class:`gib.planes.NullReference` per GIB estimator, built once so that its null points are
    computed once for all those Monitors; None when ``config.null`` is none.

    ``features``, ``y`` and ``estimators`` are the Monitors' GIB features, targets and estimator
    spec; ``monitor_options`` their ``task``, ``gib_target``, ``output_bins`` or ``mi_device``.
    """
    if config.null is None:
        return None
    return null_references(features, y, estimators, family=config.null, n_seeds=config.null_seeds,
                           **monitor_options)


def rows_with(rows: list[dict], **columns: Any) -> list[dict]:
    return [{**columns, **row} for row in rows]


def record_schedule(epochs: int, every: int, log_points: int = 0) -> set[int]:
    """Record epochs: 0, every, 2 * every, ..., the last epoch, plus ``log_points`` log-spaced
    epochs for the fast early dynamics."""
    steps = set(range(0, epochs + 1, every)) | {epochs}
    if log_points:
        steps |= {int(e) for e in np.unique(np.geomspace(1, max(epochs, 1), log_points).astype(int))}
    return steps


def condition_frame(rows: list[dict], condition: str, seed: int) -> pd.DataFrame:
    """A Monitor's rows of one condition and seed, as a tidy frame."""
    return pd.DataFrame(rows_with(rows, condition=condition, seed=seed), columns=["condition", "seed", *COLUMNS])


def merge_frames(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["condition", "seed", *COLUMNS])
    return pd.concat(frames, ignore_index=True)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)
