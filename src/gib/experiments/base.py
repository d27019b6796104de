"""What every experiment shares: configs with presets and ``--set`` overrides, the registry,
and the resumable train-and-record loop."""

from __future__ import annotations

import dataclasses
import json
import random
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..monitor import COLUMNS, Monitor, null_references
from ..planes import NULL_FAMILIES
from ..runs import RunDir

PRESETS = ("test", "quick", "cpu", "paper")


@dataclass
class BaseConfig:
    """Options every experiment has (SPEC 4 rows `estimators`, `svw` apply everywhere)."""

    seeds: tuple[int, ...] = (0,)  #: seeds, one run of every condition each (also --seed S, repeatable)
    estimator: str = "binning"  #: estimator of both planes: binning, kde, gcmi, ...
    synergy: str = "featurewise"  #: featurewise | sum_vs_whole (Appendix I)
    n_bins: int = 30  #: bins per column of the binning estimator
    device: str = "cpu"  #: torch device of the training: cpu, cuda, cuda:1, ... (also --device)
    threads: int = 0  #: torch CPU threads (0: torch's default); 1 is fastest for tiny nets
    progress: bool = True  #: progress bars (shown only on a terminal; --quiet or --no-progress: none)
    #: null predictors recorded beside the GIB plane at the network's accuracy (SPEC 2,
    #: "References for the GIB plane"): linear | random | none
    null: str | None = "linear"
    null_seeds: int = 3  #: null predictors averaged

    def __post_init__(self) -> None:
        if self.null is not None and self.null not in NULL_FAMILIES:
            raise ValueError(f"--set null={self.null!r}: one of {', '.join(NULL_FAMILIES)} or none.")
        if isinstance(self.null_seeds, bool) or not isinstance(self.null_seeds, int) or self.null_seeds < 1:
            raise ValueError(f"--set null_seeds={self.null_seeds!r}: a positive integer.")

    def estimator_options(self) -> dict:
        """Options of ``estimator`` (binning takes n_bins; the others their defaults)."""
        return {"n_bins": self.n_bins} if self.estimator == "binning" else {}

    def validate(self) -> None:
        """Check the options every experiment shares; :func:`make_config` calls it (then the
        experiment's own ``check``) before a run directory is touched."""
        from ..estimators import available_estimators, get_estimator
        from ..measures import SYNERGY_KINDS

        if self.estimator not in available_estimators():
            raise ValueError(f"--set estimator={self.estimator!r}: choose from {', '.join(available_estimators())}.")
        if self.synergy not in SYNERGY_KINDS:
            raise ValueError(f"--set synergy={self.synergy!r}: choose from {', '.join(SYNERGY_KINDS)}.")
        if self.n_bins < 2:
            raise ValueError(f"--set n_bins={self.n_bins}: at least 2 bins are needed.")
        if self.threads < 0:
            raise ValueError(f"--set threads={self.threads}: 0 (torch's default) or a positive count.")
        if not self.seeds:
            raise ValueError("--set seeds: give at least one seed, e.g. seeds=0,1,2.")
        get_estimator(self.estimator, **self.estimator_options())  # its options, checked now
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"--device {self.device!r}: not a torch device ({err}); e.g. cpu, cuda, cuda:1.") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"--device {self.device}: torch sees no CUDA device here; use --device cpu.")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


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
    """Build a config from a preset, then ``--set key=value`` strings, then ``--seed``s."""
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
    config = config_cls(**values)
    # every option is checked here, before `run_experiment` writes anything
    validate = getattr(config, "validate", None)
    if validate:
        validate()
    check = getattr(config, "check", None)
    if check:
        check()
    return config


@dataclass(frozen=True)
class FieldDoc:
    """One ``--set`` key of an experiment's config, as ``gib run NAME --help`` lists it."""

    name: str
    type: str  #: how to write the value, e.g. ``int``, ``float or none``, ``str,str,...``
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


def value_text(value: Any) -> str:
    """A value as ``--set`` writes it: tuples comma-joined, None as none, bools lower-case."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(value_text(v) for v in value)
    return str(value)


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
        out.append(FieldDoc(f.name, _type_name(hints[f.name]), value_text(default), docs.get(f.name, "")))
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


class ConditionLoop:
    """Train one model under one condition, recording planes and checkpointing as it goes.

    Epoch 0 is recorded before any training. At every record step the model, optimizer,
    scheduler, torch RNG and all recorded rows are checkpointed; a rerun restores them and
    continues from the next epoch, so it ends identical to an uninterrupted run as long as each
    epoch's randomness comes from ``epoch_generator(seed, epoch)``.
    """

    def __init__(self, run: RunDir, key: str, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 monitor: Monitor, scheduler: Any = None, condition: str = "", seed: int = 0):
        self.run, self.key = run, key
        self.model, self.optimizer, self.scheduler, self.monitor = model, optimizer, scheduler, monitor
        self.condition, self.seed = condition, seed
        self.extra: dict = {}

    def fit(self, epochs: int, train_epoch: Callable[[int], Mapping[str, float] | None],
            record_at: Callable[[int], bool], progress: bool = True,
            metrics: Callable[[int], Mapping[str, float]] | None = None) -> pd.DataFrame:
        start = 0
        state = self.run.load_checkpoint(self.key)
        if state is not None:
            with self.run.restoring(self.key):  # another run's or model's checkpoint: a clear error
                self.model.load_state_dict(state["model"])
                self.optimizer.load_state_dict(state["optimizer"])
                if self.scheduler is not None and state.get("scheduler") is not None:
                    self.scheduler.load_state_dict(state["scheduler"])
                self.monitor.load_state_dict(state["monitor"])
                torch.set_rng_state(state["torch_rng"])
                self.extra = state.get("extra", {})
                start = state["epoch"] + 1
                if state.get("done"):
                    start = epochs + 1
        bar = None
        if progress and start <= epochs:
            from .._progress import progress_bar

            bar = progress_bar(total=epochs, initial=max(0, start - 1), desc=self.key, unit="epoch")
        try:
            for epoch in range(start, epochs + 1):
                train_metrics = {}
                if epoch > 0:
                    self.model.train()
                    train_metrics = dict(train_epoch(epoch) or {})
                    if self.scheduler is not None:
                        self.scheduler.step()
                    if bar is not None:
                        bar.update(1)
                if record_at(epoch) or epoch == epochs:
                    extra = dict(train_metrics)
                    if metrics is not None:
                        extra.update(metrics(epoch))
                    self.monitor.record(epoch, epoch, extra)
                    self._checkpoint(epoch, done=epoch == epochs)
        finally:
            if bar is not None:
                bar.close()
        return self.frame()

    def _checkpoint(self, epoch: int, done: bool) -> None:
        self.run.save_checkpoint(self.key, {
            "epoch": epoch,
            "done": done,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "monitor": self.monitor.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "extra": self.extra,
        })

    def frame(self) -> pd.DataFrame:
        rows = rows_with(self.monitor.rows, condition=self.condition, seed=self.seed)
        return pd.DataFrame(rows, columns=["condition", "seed", *COLUMNS])


def merge_frames(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["condition", "seed", *COLUMNS])
    return pd.concat(frames, ignore_index=True)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)
