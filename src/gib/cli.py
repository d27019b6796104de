"""The ``gib`` command: list, run, plot and report the paper's experiments.

Everything heavy (NumPy, torch, pandas, matplotlib, the experiment modules) is imported inside
the commands, so ``gib --help`` and ``gib list`` start in a fraction of a second.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from . import __version__


def _fail(err: Exception) -> None:
    raise click.ClickException(str(err)) from err


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it unwinds as Ctrl-C does (the runs' writes
    are atomic: what they saved stays, and a rerun resumes)."""


#: SIGTERM's progress: received, and reached the command's handler
_SIGTERM = {"pending": False, "handled": False}

#: seconds after which a SIGTERM the command has not unwound from is delivered again
REDELIVER_SECONDS = 0.5


def _terminate(signum: int, frame: Any) -> None:
    # an exception raised inside a gc callback or a __del__ is printed and dropped ("Exception
    # ignored in ..."), and the command would go on as if nothing had happened: until the
    # command's handler has it, deliver the signal again a moment later
    _SIGTERM["pending"] = True
    timer = threading.Timer(REDELIVER_SECONDS, _redeliver, (signum,))
    timer.daemon = True
    timer.start()
    raise _Terminated


def _redeliver(signum: int) -> None:
    if _SIGTERM["pending"] and not _SIGTERM["handled"]:
        os.kill(os.getpid(), signum)


def _quiet_dropped_signal(hook):
    """An unraisable-exception hook that stays silent about a dropped SIGTERM (it is delivered
    again) and passes everything else to ``hook``."""
    def unraisable(report) -> None:
        if not isinstance(report.exc_value, _Terminated):
            hook(report)
    return unraisable


class _Interruptible(click.Group):
    """Ctrl-C (SIGINT) or SIGTERM anywhere in a command, its imports included: one line and exit
    status 130 or 143 (128 + the signal, as a shell reports it), not click's bare `Aborted!`, a
    traceback or a silent end; runs resume on a rerun."""

    def invoke(self, ctx: click.Context):
        previous, hook = None, sys.unraisablehook
        _SIGTERM.update(pending=False, handled=False)
        if threading.current_thread() is threading.main_thread():  # signal handlers live there only
            previous = signal.signal(signal.SIGTERM, _terminate)
            sys.unraisablehook = _quiet_dropped_signal(hook)
        try:
            result = super().invoke(ctx)
            if _SIGTERM["pending"]:  # the command ended while its SIGTERM was being dropped
                raise _Terminated
            return result
        except KeyboardInterrupt as stop:
            _SIGTERM["handled"] = True
            terminated = isinstance(stop, _Terminated)
            newline = "\n" if sys.stderr.isatty() and not terminated else ""  # after the terminal's ^C
            click.echo(f"{newline}{'terminated' if terminated else 'interrupted'}; rerun the same command to resume",
                       err=True)
            ctx.exit(128 + (signal.SIGTERM if terminated else signal.SIGINT))
        finally:
            _SIGTERM["handled"] = True
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
                sys.unraisablehook = hook


@click.group(cls=_Interruptible, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gib")
def main() -> None:
    """gib: the Generalized Information Bottleneck, measured and reproduced.

    `gib list` shows the experiments; `gib run NAME --help` lists an experiment's options.
    """


@main.command("list")
def list_() -> None:
    """List the experiments and their presets."""
    from .experiments.catalogue import CATALOGUE  # a plain table: no experiment is imported

    for name, entry in CATALOGUE.items():
        click.echo(f"{name:<16} {entry.summary}")
        for preset, cost in entry.costs.items():
            click.echo(f"{'':<16}   --preset {preset:<6} {cost}")


def _experiment_name(command: click.Command, args: list[str]) -> str | None:
    """The NAME among ``gib run`` arguments, found before click parses them (for --help)."""
    takes_value = {opt for param in command.params if isinstance(param, click.Option) and not param.is_flag
                   for opt in param.opts}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            break
        elif arg.startswith("-"):
            skip = arg in takes_value
        else:
            return arg
    return None


class _RunCommand(click.Command):
    """``gib run NAME --help`` adds NAME's ``--set`` keys (type, default, doc) and presets."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if any(a in ctx.help_option_names for a in args):
            ctx.meta["gib.experiment"] = _experiment_name(self, args)
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        name = ctx.meta.get("gib.experiment")
        if name is None:
            formatter.write_paragraph()
            formatter.write_text("`gib run NAME --help` lists the --set keys and presets of experiment NAME; "
                                 "`gib list` names the experiments.")
            return
        from .experiments.catalogue import CATALOGUE, unknown_message

        if name not in CATALOGUE:
            formatter.write_paragraph()
            formatter.write_text(unknown_message(name))
            return
        from .experiments import get_experiment
        from .experiments.base import value_text, config_fields

        try:
            exp = get_experiment(name)
        except ImportError as err:  # e.g. an optional dependency of the experiment is missing
            formatter.write_paragraph()
            formatter.write_text(f"{name}: {CATALOGUE[name].summary}. Its options need an import that failed: {err}")
            return
        formatter.write_paragraph()
        formatter.write_text(f"{name}: {exp.summary}")
        formatter.write_paragraph()
        with formatter.section(f"Presets of {name} (--preset; each sets these keys)"):
            formatter.write_dl([
                (preset, f"{exp.preset_costs.get(preset, '')}. Sets "
                 + (", ".join(f"{k}={value_text(v)}" for k, v in values.items()) or "nothing") + ".")
                for preset, values in exp.presets.items()])
        with formatter.section(f"--set KEY=VALUE keys of {name} (type, default: doc)"):
            formatter.write_dl([(f.name, f"{f.type}, default {f.default}: {f.doc}") for f in config_fields(exp.config_cls)])


@main.command(cls=_RunCommand)
@click.argument("name")
@click.option("--preset", default="quick", show_default=True, help="test | quick | cpu | paper")
@click.option("--seed", "seeds", multiple=True, type=int, help="Seed(s); repeat for several.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config value.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run directory [runs/NAME-PRESET].")
@click.option("--device", default=None, help="torch device, e.g. cuda (same as --set device=...).")
@click.option("--fresh", is_flag=True, help="Start over in an existing run directory.")
@click.option("--pdf", is_flag=True, help="Write PDF figures beside the PNGs.")
@click.option("--no-progress", is_flag=True, help="No progress bars (they show only on a terminal anyway).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no report: print only the run directory.")
def run(name, preset, seeds, sets, out, device, fresh, pdf, no_progress, quiet) -> None:
    """Run (or resume) experiment NAME; rerunning the same command resumes a killed run.

    Every option is checked before anything is written.
    """
    from .experiments import run_experiment
    from .experiments.base import parse_sets
    from .experiments.catalogue import entry

    try:
        entry(name)  # an unknown name fails (with a suggestion) before anything heavy is imported
        overrides = parse_sets(sets)
        if device:
            overrides["device"] = device
        result = run_experiment(name, preset, overrides, seeds or None, out, fresh, pdf,
                                progress=False if (no_progress or quiet) else None)
    except (ValueError, FileNotFoundError, TypeError) as err:
        _fail(err)
    click.echo(f"run directory: {result.path}")
    if not quiet:
        click.echo((result.path / "report.md").read_text())


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--pdf", is_flag=True, help="Write PDF figures beside the PNGs.")
def plot(run_dir, pdf) -> None:
    """Redraw the figures of RUN_DIR (an experiment's run, or a folder of Monitor.save())."""
    from .experiments import render
    from .monitor_report import is_monitor_folder, render as render_monitor

    try:
        (render_monitor if is_monitor_folder(run_dir) else render)(run_dir, pdf=pdf)
    except (ValueError, FileNotFoundError) as err:
        _fail(err)
    for path in sorted((Path(run_dir) / "figures").glob("*")):
        click.echo(path)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir) -> None:
    """Write and print the claim numbers of RUN_DIR (report.md); for a folder of Monitor.save(),
    the numbers of every recorded trajectory."""
    from .experiments import render
    from .monitor_report import is_monitor_folder, render as render_monitor

    try:
        click.echo((render_monitor if is_monitor_folder(run_dir) else render)(run_dir))
    except (ValueError, FileNotFoundError) as err:
        _fail(err)


def _echo_run(row: dict) -> None:
    if row.get("skipped"):
        click.echo(f"{row['run']}: finished earlier, skipped")
    elif row["status"] == "done":
        click.echo(f"{row['run']}: done in {row['seconds']:.1f} s" + (" (resumed)" if row.get("resumed") else ""))
    else:
        click.echo(f"{row['run']}: FAILED: {row['error']}", err=True)


def parse_seeds(text: str) -> list[int]:
    """``--seeds``: ``"0-4"`` -> [0, 1, 2, 3, 4]; ``"0,2,5"`` -> [0, 2, 5]; ranges and lists mix.

    >>> parse_seeds("0-2,5")
    [0, 1, 2, 5]
    """
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        try:
            if "-" in part[1:]:
                first, last = part.split("-", 1) if not part.startswith("-") else ("", part)
                low, high = int(first), int(last)
                if high < low:
                    raise ValueError
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ValueError(f"--seeds {text!r}: write a range like 0-4 or a list like 0,2,5.") from None
    if any(s < 0 for s in seeds):
        raise ValueError(f"--seeds {text!r}: seeds are non-negative integers.")
    return list(dict.fromkeys(seeds))


def parse_grid(items: Iterable[str]) -> dict[str, list[str]]:
    """``--grid``: ``["key=v1,v2", ...]`` -> {key: [v1, v2]}.

    Values are separated by commas; a value that itself holds commas (a tuple option such as
    ``activations``) is written with ``;`` between the values instead.

    >>> parse_grid(["depth=20,56", "activations=tanh,relu;sigmoid"])
    {'depth': ['20', '56'], 'activations': ['tanh,relu', 'sigmoid']}
    """
    grid: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--grid {item!r}: write key=value1,value2.")
        key, text = (s.strip() for s in item.split("=", 1))
        values = [v.strip() for v in text.split(";" if ";" in text else ",")]
        if not key or not values or any(v == "" for v in values):
            raise ValueError(f"--grid {item!r}: write key=value1,value2 with no empty value.")
        if key in grid:
            raise ValueError(f"--grid {key}=...: given twice; list all its values in one --grid.")
        if len(set(values)) != len(values):
            raise ValueError(f"--grid {item!r}: a value is listed twice.")
        grid[key] = values
    return grid


def _scheduler(executor: str, scheduler: str | None) -> str | None:
    """The scheduler address of ``--executor``/``--scheduler``: None runs a LocalCluster."""
    if scheduler and executor != "dask":
        raise ValueError("--scheduler needs --executor dask.")
    return scheduler or None


@main.command()
@click.argument("name")
@click.option("--grid", "grid", multiple=True, metavar="KEY=V1,V2",
              help="Values to sweep; repeat for more keys (`;` separates values that hold commas).")
@click.option("--preset", default="quick", show_default=True, help="test | quick | cpu | paper")
@click.option("--seeds", default="0", show_default=True, help="Seeds, e.g. 0-4 or 0,2,5; each is its own run.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: a Dask LocalCluster on this machine; dask: the --scheduler (a LocalCluster without one).")
@click.option("--scheduler", default=None, help="Address of a dask.distributed scheduler [a LocalCluster].")
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes of the LocalCluster.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Sweep directory [runs/sweep-NAME-PRESET].")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A config value shared by every run.")
@click.option("--ib-layer", default=None, help="IB layer of the summary figure [the experiment's].")
def sweep(name, grid, preset, seeds, executor, scheduler, workers, out, sets, ib_layer) -> None:
    """Run experiment NAME at every combination of the --grid values x --seeds (resumable)."""
    from .experiments.base import parse_sets
    from .sweep import sweep as run_sweep

    try:
        result = run_sweep(name, parse_grid(grid), preset, parse_seeds(seeds), parse_sets(sets), workers,
                           _scheduler(executor, scheduler), out, ib_layer, on_result=_echo_run)
    except (ValueError, FileNotFoundError, TypeError) as err:
        _fail(err)
    click.echo(f"sweep directory: {result.path}")
    for path in (result.table, result.figure):
        if path is not None:
            click.echo(path)
    if len(result.failed):
        raise click.ClickException(
            f"{len(result.failed)} of {len(result.status)} runs failed (see error.txt in each; "
            "rerun the same command to retry them): " + ", ".join(result.failed["run"]))


@main.command()
@click.option("--preset", default="cpu", show_default=True, help="The preset of every experiment.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output directory [runs/reproduce-PRESET].")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Address of a dask.distributed scheduler [a LocalCluster].")
@click.option("--workers", type=int, default=1, show_default=True, help="Runs at once.")
@click.option("--only", multiple=True, metavar="NAME", help="Only this experiment; repeat for more.")
@click.option("--publish", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Also copy the report with the run reports and figures into DIR (e.g. docs/reproduction).")
def reproduce(preset, out, executor, scheduler, workers, only, publish) -> None:
    """Run every experiment's preset and write REPRODUCTION.md with each claim and its number."""
    from .reproduce import check_publish, default_out
    from .reproduce import publish as publish_report
    from .reproduce import reproduce as run_reproduce

    try:
        if publish is not None:
            check_publish(out if out is not None else default_out(preset), publish)
        path = run_reproduce(preset, out, executor, workers, _scheduler(executor, scheduler), only or None,
                             on_result=_echo_run)
        click.echo(f"written: {path}")
        if publish is not None:
            written = publish_report(path.parent, publish)
            click.echo(f"published: {publish / 'REPRODUCTION.md'} ({len(written)} files)")
    except (ValueError, FileNotFoundError, TypeError) as err:
        _fail(err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
