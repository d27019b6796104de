"""Send the plane values a :class:`gib.Monitor` records to experiment trackers.

``Monitor(..., log=...)`` takes ``"tensorboard"``, ``"wandb"``, ``"csv"``, a callable
``log(metrics: dict[str, float], step: int)`` (the signature of Lightning's
``Logger.log_metrics``), any object with such a ``log_metrics`` method (a Lightning logger,
one of the classes below), or a list of these. After every record the new points are sent as
scalars, at the record's step, under names that stay the same for the whole run: two per
plane point, its complexity and its prediction.

======================================  =========================================================
``gib/IB/<layer>/complexity``           I(X;T) of a watched layer (``output``: the model output)
``gib/IB/<layer>/prediction``           I(T;Y)
``gib/GIB/complexity``                  C = -S(X->Z) of the GIB features (SPEC 2)
``gib/GIB/prediction``                  P = I(Yhat;Y)
======================================  =========================================================

The rest of a record (the probe's accuracy and loss, the synergy and joint information, the
ceilings and flags of each point, the null references, the caller's metrics) stays in the
monitor's frame. When a monitor records several estimators, synergy kinds or GIB feature sets,
the names carry what tells them apart, in the frame's column order, e.g.
``gib/IB/<layer>/<estimator>/complexity`` and ``gib/GIB/<estimator>/<kind>/complexity``; which
parts a name carries is fixed at the first record, so a name never changes during a run. The
trainer callbacks (:mod:`gib.lightning`, :mod:`gib.huggingface`) send the same names through
their trainer's own loggers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

PREFIX = "gib"
#: the planes whose points are sent
PLANES = ("IB", "GIB")
#: the measures of a point that are sent: the two coordinates of the information plane
MEASURES = ("complexity", "prediction")
#: the columns that can tell two rows of one plane apart, in the frame's order
_QUALIFIERS = ("layer", "estimator", "kind")


class ScalarNames:
    """Names for a monitor's rows, fixed at the first record (see the module docstring)."""

    def __init__(self, prefix: str = PREFIX):
        self.prefix = prefix
        self._first: dict[str, dict[str, set]] | None = None

    def __call__(self, rows: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, float]]:
        """{step: {name: value}} of the complexity and prediction rows of the IB and GIB planes
        among ``rows``."""
        rows = [r for r in rows if r["plane"] in PLANES and r["measure"] in MEASURES]
        if self._first is None:
            self._first = {}
            for row in rows:
                seen = self._first.setdefault(row["plane"], {c: set() for c in _QUALIFIERS})
                for column in _QUALIFIERS:
                    seen[column].add(row[column])
        out: dict[int, dict[str, float]] = {}
        for row in rows:
            out.setdefault(int(row["step"]), {})[self.name(row)] = float(row["value"])
        return out

    def name(self, row: Mapping[str, Any]) -> str:
        """The scalar name of one plane row."""
        seen = (self._first or {}).get(row["plane"], {})
        parts = [self.prefix, row["plane"]]
        for column in _QUALIFIERS:
            values = seen.get(column, set())
            # a layer always names an IB point; any other part only where the first record varied
            # in it, or where this row brings a value the first record did not have
            if (row["plane"] == "IB" and column == "layer") or len(values) > 1 or row[column] not in values:
                parts.append(str(row[column]))
        return "/".join([*parts, row["measure"]])


class TensorBoard:
    """Scalars into TensorBoard event files (``torch.utils.tensorboard``; extra ``gib[tensorboard]``).

    Parameters
    ----------
    log_dir : path, optional
        Where the event files go; default: SummaryWriter's ``runs/<date>_<host>``.
    writer : SummaryWriter, optional
        An open writer to add to instead (it is then left open by :meth:`close`).
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, *, writer: Any = None):
        self._own = writer is None
        if writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:  # torch's module needs the tensorboard package
                raise ImportError("log='tensorboard' needs TensorBoard: pip install 'gib[tensorboard]'.") from err
            writer = SummaryWriter(log_dir=None if log_dir is None else os.fspath(log_dir))
        self.writer = writer

    @property
    def log_dir(self) -> str:
        return self.writer.log_dir if hasattr(self.writer, "log_dir") else self.writer.get_logdir()

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        """Flush, and close the writer if this logger made it."""
        self.flush()
        if self._own:
            self.writer.close()


class Wandb:
    """Scalars into a Weights & Biases run (extra ``gib[wandb]``).

    The scalars are plotted against their own step metric ``gib/step`` (W&B's ``define_metric``),
    so they never clash with the step counter of whatever else logs to the same run.

    Parameters
    ----------
    run : wandb Run, optional
        The run to log to; default: the active ``wandb.run``, else a new one started with
        ``wandb.init(**init)`` (``project="gib"`` unless given; ``WANDB_MODE=offline`` works
        without a network) and finished by :meth:`close`.
    step_metric : str
        The x-axis of gib's scalars, logged with each record (``train/global_step`` puts them on
        a Hugging Face Trainer's axis).
    **init
        Passed to ``wandb.init`` when a run is started.
    """

    STEP = f"{PREFIX}/step"

    def __init__(self, run: Any = None, *, step_metric: str = STEP, **init: Any):
        try:
            import wandb
        except ImportError as err:
            raise ImportError("log='wandb' needs Weights & Biases: pip install 'gib[wandb]'.") from err
        self._own = False
        if run is None:
            run = wandb.run
        if run is None:
            run = wandb.init(**{"project": PREFIX, **init})
            self._own = True
        self.run, self.step_metric = run, step_metric
        run.define_metric(step_metric)
        run.define_metric(f"{PREFIX}/*", step_metric=step_metric)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self.run.log({**metrics, self.step_metric: step})

    def close(self) -> None:
        """Finish the W&B run if this logger started it."""
        if self._own:
            self.run.finish()


class CSV:
    """Scalars appended to a tidy CSV file: one ``step,name,value`` line per scalar.

    Parameters
    ----------
    path : path
        The file; its folder is created, and an existing file is appended to.
    """

    COLUMNS = ("step", "name", "value")

    def __init__(self, path: str | os.PathLike = "gib_scalars.csv"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = self.path.open("a", newline="")
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(self.COLUMNS)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        for name, value in metrics.items():
            self._writer.writerow((int(step), name, repr(float(value))))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


_BY_NAME: dict[str, Callable[[], Any]] = {"tensorboard": TensorBoard, "wandb": Wandb, "csv": CSV}
LOGGER_NAMES = tuple(_BY_NAME)


class _Function:
    def __init__(self, function: Callable[[dict, int], Any]):
        self.function = function

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self.function(dict(metrics), step)


def _sink(spec: Any) -> tuple[Any, bool]:
    """(a logger with ``log_metrics``, whether gib made it and so closes it)."""
    if isinstance(spec, str):
        if spec not in _BY_NAME:
            raise ValueError(f"`log` {spec!r} is not a logger; choose from {', '.join(map(repr, LOGGER_NAMES))}, "
                             "or pass a callable log(metrics, step).")
        return _BY_NAME[spec](), True
    if callable(getattr(spec, "log_metrics", None)):
        return spec, False
    if callable(spec):
        return _Function(spec), False
    raise TypeError(f"`log` must be a logger name ({', '.join(LOGGER_NAMES)}), a callable log(metrics, step), an "
                    f"object with log_metrics(metrics, step), or a list of these; got {type(spec).__name__}.")


class Loggers:
    """What a monitor's ``log=`` option becomes: call it with a record's new rows.

    Parameters
    ----------
    log : str, callable, logger or sequence of them, optional
        See the module docstring; None or an empty list logs nothing.
    """

    def __init__(self, log: Any = None):
        specs: Sequence = [] if log is None else log if isinstance(log, (list, tuple)) else [log]
        self._sinks = [_sink(spec) for spec in specs]
        self.names = ScalarNames()

    def __bool__(self) -> bool:
        return bool(self._sinks)

    def add(self, logger: Any) -> None:
        """Also send to ``logger`` (closed by :meth:`close` only if gib made it from a name)."""
        self._sinks.append(_sink(logger))

    def __call__(self, rows: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, float]]:
        """Send ``rows`` to every logger; return what was sent, {step: {name: value}}."""
        if not self._sinks:
            return {}
        by_step = self.names(rows)
        for sink, _ in self._sinks:
            for step, metrics in sorted(by_step.items()):
                sink.log_metrics(metrics, step)
            # make each record visible as it happens (TensorBoard, the CSV, Lightning's loggers)
            for method in ("flush", "save"):
                if callable(getattr(sink, method, None)):
                    getattr(sink, method)()
                    break
        return by_step

    def close(self) -> None:
        """Close the loggers gib made from names; others belong to the caller."""
        for sink, own in self._sinks:
            if own:
                sink.close()
        self._sinks = [(sink, own) for sink, own in self._sinks if not own]
