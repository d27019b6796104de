"""The ``gib`` command: list, run, plot and report the paper's experiments."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__


def _fail(err: Exception) -> None:
    raise click.ClickException(str(err)) from err


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gib")
def main() -> None:
    """gib: the Generalized Information Bottleneck, measured and reproduced."""


@main.command("list")
def list_() -> None:
    """List the experiments and their presets."""
    from .experiments import experiments

    for name, exp in experiments().items():
        click.echo(f"{name:<16} {exp.summary}")
        for preset in exp.presets:
            cost = exp.preset_costs.get(preset, "")
            click.echo(f"{'':<16}   --preset {preset:<6} {cost}")


@main.command()
@click.argument("name")
@click.option("--preset", default="quick", show_default=True, help="test | quick | cpu | paper")
@click.option("--seed", "seeds", multiple=True, type=int, help="Seed(s); repeat for several.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config value.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run directory [runs/NAME-PRESET].")
@click.option("--device", default=None, help="torch device, e.g. cuda (same as --set device=...).")
@click.option("--fresh", is_flag=True, help="Start over in an existing run directory.")
@click.option("--pdf", is_flag=True, help="Write PDF figures beside the PNGs.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def run(name, preset, seeds, sets, out, device, fresh, pdf, no_progress) -> None:
    """Run (or resume) experiment NAME; rerunning the same command resumes a killed run."""
    from .experiments import run_experiment
    from .experiments.base import parse_sets

    try:
        overrides = parse_sets(sets)
        if device:
            overrides["device"] = device
        result = run_experiment(name, preset, overrides, seeds or None, out, fresh, pdf,
                                progress=False if no_progress else None)
    except (ValueError, FileNotFoundError, TypeError) as err:
        _fail(err)
    click.echo(f"run directory: {result.path}")
    click.echo((result.path / "report.md").read_text())


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--pdf", is_flag=True, help="Write PDF figures beside the PNGs.")
def plot(run_dir, pdf) -> None:
    """Redraw the figures of RUN_DIR."""
    from .experiments import render

    try:
        render(run_dir, pdf=pdf)
    except (ValueError, FileNotFoundError) as err:
        _fail(err)
    for path in sorted((Path(run_dir) / "figures").glob("*")):
        click.echo(path)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir) -> None:
    """Write and print the claim numbers of RUN_DIR (report.md)."""
    from .experiments import render

    try:
        click.echo(render(run_dir))
    except (ValueError, FileNotFoundError) as err:
        _fail(err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
