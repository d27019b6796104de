"""`gib reproduce`: every registered experiment's preset, one run each, and one REPRODUCTION.md.

The runs go through the sweep machinery (:func:`gib.sweep.execute`: tasks on Dask,
finished runs skipped, interrupted runs resumed, a failing run recorded while the others go on),
each in ``<out>/<experiment>``. REPRODUCTION.md then lists, per experiment, each paper claim
(the experiment's ``claims(run_dir)``) with the number measured, whether it holds and whether it
goes beyond the null predictors of the GIB plane (``Claim.beyond_null``, "-" where not measured), the
figures beside it (relative links), the time the run took, the data it used, and the total wall
time; experiments whose module cannot be imported are listed as missing. The paper's other
observations that some experiments measure (``observations(run_dir)``) are listed apart from the
claims. Each invocation is appended to ``invocations.json``, so the report of a reproduction
resumed over several invocations gives their summed wall time. :func:`publish` copies the report
with the run reports and figures it links to into a folder of the repository (``--publish``).
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .sweep import RunTask, execute, save_status

REPORT = "REPRODUCTION.md"
#: one entry per invocation of `gib reproduce` on an output directory (start time, wall seconds,
#: the runs it found finished): a resumed reproduction reports the wall time of all of them
INVOCATIONS = "invocations.json"
NO_CLAIMS = "the experiment registers no claims"


@dataclass
class Missing:
    """An experiment (or a module meant to register some) that cannot be run."""

    name: str
    reason: str


@dataclass
class Outcome:
    """One experiment's run as it goes into the report."""

    name: str
    status: dict
    claims: list = field(default_factory=list)
    claims_error: str = ""
    observations: list = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    data: list[str] = field(default_factory=list)


def default_out(preset: str) -> Path:
    return Path("runs") / f"reproduce-{preset}"


def available() -> tuple[dict, list[Missing]]:
    """The registered experiments, and the experiment modules that could not be imported (why)."""
    from .experiments.base import REGISTRY
    from .experiments.catalogue import MODULES

    missing = []
    for module in MODULES:
        try:
            importlib.import_module(f"gib.experiments.{module}")
        except Exception as err:  # noqa: BLE001 - any import failure makes the module's experiments missing
            missing.append(Missing(f"gib.experiments.{module}", f"not importable: {type(err).__name__}: {err}"))
    return dict(sorted(REGISTRY.items())), missing


def data_sources(run_dir: Path) -> list[str]:
    """What data a run used, as its outputs say: ``data.json`` entries naming a source, lines of
    report.md about data or sources, else the config's data/path options; for a run made of
    sub-runs (``estimators``, ``svw``) that states nothing itself, what its sub-runs say. An entry
    whose text another entry already contains is left out."""
    found: list[str] = []
    data_json = run_dir / "data.json"
    if data_json.exists():
        try:
            info = json.loads(data_json.read_text())
        except json.JSONDecodeError:
            info = {}
        found += [f"{key}: {value}" for key, value in info.items() if "source" in key.lower()]
    report = run_dir / "report.md"
    if report.exists():
        for line in report.read_text().splitlines():
            text = line.strip()
            if text.startswith(("|", "#", "- **Claim", "- measured", "- loader note")) or not text:
                continue
            if re.search(r"\b(data|dataset|source|stand-in)\b", text, re.IGNORECASE):
                label = re.search(r"\bdata\b[^:.]{0,40}:[*\s]*", text, re.IGNORECASE)  # "Data:", "**Data (x):**"
                found.append((text[label.end():] if label else text.lstrip("-* ")).strip()[:400])
    if not found:
        subs = sorted(p.parent for p in run_dir.glob("*/config.json"))
        found += [line for sub in subs for line in data_sources(sub) if not line.startswith(("not stated", "config "))]
    if not found:
        config_path = run_dir / "config.json"
        config = json.loads(config_path.read_text()).get("config", {}) if config_path.exists() else {}
        found += [f"config {key} = {value!r}" if value is not None else f"config {key} not set (the experiment's default data)"
                  for key, value in config.items() if re.search(r"data|path|dataset|corpus|model$", key)]
    kept: list[str] = []
    for line in found:
        if any(_value(line) in other for other in kept):
            continue
        kept = [other for other in kept if _value(other) not in line] + [line]
    return kept or ["not stated in the run's report or config"]


def _value(entry: str) -> str:
    """An entry without its ``key: `` label (``source: X`` -> ``X``)."""
    key, sep, value = entry.partition(": ")
    return value if sep and re.fullmatch(r"\w+", key) else entry


def _seconds(value) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "?"
    if value != value:
        return "?"
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)} min {seconds:.0f} s" if minutes else f"{seconds:.1f} s"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _outcome(name: str, experiment, row: dict, path: Path) -> Outcome:
    outcome = Outcome(name, row)
    if row["status"] != "done":
        return outcome
    from .runs import RunDir

    outcome.figures = sorted((path / "figures").glob("*.png"))
    outcome.data = data_sources(path)
    run_dir = RunDir.load(path)
    if experiment.claims is None:
        outcome.claims_error = NO_CLAIMS
    else:
        try:
            outcome.claims = _with_setup(experiment.claims(run_dir), run_dir)
        except Exception as err:  # noqa: BLE001 - one experiment's broken claims must not sink the report
            outcome.claims_error = f"claims could not be computed: {type(err).__name__}: {err}"
    if experiment.observations is not None:
        try:
            outcome.observations = _with_setup(experiment.observations(run_dir), run_dir)
        except Exception as err:  # noqa: BLE001 - as for the claims
            outcome.claims_error += f"{'; ' if outcome.claims_error else ''}observations could not be computed: " \
                                    f"{type(err).__name__}: {err}"
    return outcome


def _with_setup(claims, run_dir) -> list:
    """The claims, each naming the run it reads (its own ``setup``, else the run's)."""
    import dataclasses

    from .experiments.reporting import run_setup

    return [c if c.setup else dataclasses.replace(c, setup=run_setup(run_dir)) for c in claims]


def record_invocation(out: Path, started: float, wall: float, rows: list[dict]) -> list[dict]:
    """Append this invocation to ``out/invocations.json`` and return all of them."""
    from .runs import atomic_write

    path = out / INVOCATIONS
    try:
        invocations = json.loads(path.read_text()) if path.exists() else []
    except json.JSONDecodeError:
        invocations = []
    invocations.append({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(wall, 1),
        "ran": [row["run"] for row in rows if row.get("status") == "done" and not row.get("skipped")],
    })
    atomic_write(path, lambda p: p.write_text(json.dumps(invocations, indent=1)))
    return invocations


def _base_claim(claim) -> str:
    """The paper's claim without a variant's ``[experiment, key=value]`` prefix."""
    return re.sub(r"^\[[^\]]*\]\s*", "", claim.claim)


def _numbered(pairs, start: int = 1) -> list[tuple[int, Outcome, object, int | None]]:
    """Number the rows; a row whose claim and measured numbers equal an earlier row's re-reads
    the same measurement (a variant that reuses another run's data) and points at that row."""
    seen: dict[tuple[str, str], int] = {}
    rows = []
    for number, (outcome, claim) in enumerate(pairs, start):
        key = (_base_claim(claim), claim.measured)
        rows.append((number, outcome, claim, seen.get(key)))
        seen.setdefault(key, number)
    return rows


def _tally(rows) -> str:
    """"**2 hold, 9 do not hold, 4 are uncertain**" over the distinct measurements."""
    distinct = [c for _, _, c, same in rows if same is None]
    held = sum(c.holds is True for c in distinct)
    failed = sum(c.holds is False for c in distinct)
    unsure = sum(c.holds is None for c in distinct)
    return (f"**{held} hold{'s' if held == 1 else ''}, {failed} do{'es' if failed == 1 else ''} not hold, "
            f"{unsure} {'is' if unsure == 1 else 'are'} uncertain**")


def _null_summary(rows) -> list[str]:
    """Per condition, over the distinct measurements: how many GIB compressions a claim rests on go
    beyond the null predictors (paired per seed), how many do not, how many are uncertain, and
    how many conditions do not compress at all (SPEC 2, "References for the GIB plane")."""
    counts = {"yes": 0, "no": 0, "uncertain": 0}
    not_compressing = 0
    for _, _, claim, same in rows:
        if same is not None or claim.evidence is None or claim.beyond_null is None:
            continue
        gib = claim.evidence[claim.evidence["plane"] == "GIB"].set_index("condition")
        for (condition, plane), wanted in (claim.expected or {}).items():
            if plane != "GIB" or not wanted or condition not in gib.index:
                continue
            row = gib.loc[condition]
            if row["verdict"] != "compresses":
                not_compressing += 1
            elif row["beyond_null"] in counts:
                counts[row["beyond_null"]] += 1
    total = sum(counts.values()) + not_compressing
    if not total:
        return []
    return [f"Beyond the null, per condition: of the {total} conditions whose GIB compression a claim rests on "
            f"(distinct measurements), {counts['yes']} compress and go beyond the null predictors at the same "
            f"accuracy (paired per seed), {counts['no']} compress no more than the null does, {counts['uncertain']} "
            f"compress but cannot be told from the null, and {not_compressing} do not compress or are uncertain "
            "themselves.", ""]


def _claim_rows(rows) -> list[str]:
    from .experiments.reporting import beyond_text, holds_text

    lines = []
    for number, o, c, same in rows:
        verdict = f"**{holds_text(c.holds)}**" if same is None else f"{holds_text(c.holds)} (as #{same}, not counted)"
        measured = c.measured if same is None else f"the same numbers as #{same}: the same run data read the same way"
        lines.append(f"| {number} | [{o.name}](#{o.name}) | {_cell(c.claim)} | {_cell(c.setup)} | {_cell(measured)} | "
                     f"{verdict} | {beyond_text(c.beyond_null)} |")
    return lines


def _claims_figures(out: Path, outcomes: list[Outcome]) -> list[str]:
    """Draw each experiment's claims figure (:func:`gib.plotting.verdict_figure`) from the seed
    tables its claims rest on, into ``out/figures``, one per sub-experiment of a variant
    experiment (rows grouped by variant); return the markdown that shows them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from .plotting import verdict_figure

    lines = []
    for outcome in outcomes:
        groups: dict[str, dict] = {}
        for claim in outcome.claims + outcome.observations:
            if claim.evidence is None or not claim.expected:
                continue
            prefix = re.match(r"^\[([^,\]]*)(?:,\s*\w+=([^\]]*))?\]", claim.claim)
            group, label = (prefix.group(1), prefix.group(2) or "") if prefix else ("", "")
            tables, expected = groups.setdefault(group, ({}, {}))
            planes = {p for _, p in claim.expected}
            rows = claim.evidence[claim.evidence["plane"].isin(planes)]
            tables[label] = rows if label not in tables else pd.concat([tables[label], rows]).drop_duplicates(
                subset=["condition", "plane"], ignore_index=True)
            expected.update(claim.expected)
        for group, (tables, expected) in groups.items():
            tables = {k: v for k, v in tables.items() if len(v)}
            if not tables:
                continue
            name = outcome.name + (f"-{group}" if group else "")
            fig = verdict_figure(tables, title=f"{outcome.name}{' (' + group + ')' if group else ''}: each "
                                               "condition's complexity drop and the null's, intervals over seeds",
                                 expected=expected)
            path = out / "figures" / f"claims-{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=110)
            plt.close(fig)
            lines += [f"![{name}: the claims at a glance](figures/{path.name})", ""]
    return lines


def write_report(out: Path, preset: str, outcomes: list[Outcome], missing: list[Missing], wall: float,
                 executor: str, invocations: list[dict] | None = None) -> str:
    from .phases import DEFAULT_RULE
    from .verdicts import DEFAULT_SEED_RULE

    claims = _numbered([(o, c) for o in outcomes for c in o.claims])
    observations = _numbered([(o, c) for o in outcomes for c in o.observations], start=len(claims) + 1)
    distinct = sum(same is None for *_, same in claims)
    total_run = sum(float(o.status.get("seconds") or 0) for o in outcomes if o.status["status"] == "done")
    invocations = invocations or [{"seconds": wall}]
    if len(invocations) > 1:
        timing = (f"Wall time: {_seconds(sum(float(i['seconds']) for i in invocations))} over "
                  f"{len(invocations)} invocations of `gib reproduce` on this directory (this one: {_seconds(wall)}; "
                  f"each listed in `{INVOCATIONS}`)")
    else:
        timing = f"Total wall time of this invocation: {_seconds(wall)}"
    repeats = len(claims) - distinct
    lines = [
        "# Reproduction of the paper's claims",
        "",
        f"`gib reproduce --preset {preset}` (gib {__version__}, executor `{executor}`): "
        f"{len(outcomes)} experiment(s) run, {len(missing)} missing. Of the {distinct} distinct measurements of "
        f"the paper's claims, {_tally(claims)}"
        + ((f" ({repeats} more rows re-read a measurement of another row and are not counted)" if repeats > 1 else
            " (1 more row re-reads a measurement of another row and is not counted)") if repeats else "")
        + (f"; of the other observations of the paper, {_tally(observations)}" if observations else "")
        + ". Each row names the run it reads: preset, seeds, training length and data (the original or an "
          "offline stand-in). All information values in bits.",
        "",
        f"{timing}; the runs' own times add up to "
        f"{_seconds(total_run)} (a run finished by an earlier invocation keeps the time it took then).",
        "",
        "## How a verdict is read",
        "",
        f"The phase rule (`gib.phases.PhaseRule`): {DEFAULT_RULE.describe()}",
        "",
        DEFAULT_SEED_RULE.describe(DEFAULT_RULE),
        "",
        *_null_summary(claims + observations),
    ]
    figures = _claims_figures(out, outcomes)
    if figures:
        lines += ["## The claims at a glance", "",
                  "Per experiment, each condition's complexity drop after its peak (filled, with its interval over "
                  "seeds) and the null predictors' drop over the same steps and seeds (open), as shares of the "
                  "network's complexity range; the colour is the verdict over seeds, and the paper's expectation "
                  "is beside each name.", "", *figures]
    lines += [
        "## Claims",
        "",
        "| # | experiment | claim | run | measured | verdict | beyond the null |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += _claim_rows(claims)
    for o in outcomes:
        if not o.claims and not o.observations:
            why = o.claims_error or f"run {o.status['status']}: {o.status.get('error', '')}"
            lines.append(f"| - | [{o.name}](#{o.name}) | - | - | {_cell(why)} | - | - |")
    if observations:
        lines += ["", "## Other observations of the paper", "",
                  "Statements of the paper's text and figures that are not among its claims to reproduce (the "
                  "theory page's list of experiments), measured the same way.", "",
                  "| # | experiment | observation | run | measured | verdict | beyond the null |",
                  "|---|---|---|---|---|---|---|",
                  *_claim_rows(observations)]
    lines += ["", "## Experiments", "", "| experiment | status | time | run directory |", "|---|---|---|---|"]
    for o in outcomes:
        note = " (resumed)" if o.status.get("resumed") else ""
        lines.append(f"| {o.name} | {o.status['status']}{note} | {_seconds(o.status.get('seconds'))} | "
                     f"[{o.name}/]({o.name}/) |")
    for o in outcomes:
        lines += ["", f"## {o.name}", ""]
        if o.status["status"] != "done":
            lines += [f"**Failed**: `{o.status.get('error', '')}`. Traceback: [{o.name}/error.txt]({o.name}/error.txt).",
                      "A rerun of the same command retries it (and resumes from its checkpoints)."]
            continue
        lines += [f"- time: {_seconds(o.status.get('seconds'))}" + (" (resumed run)" if o.status.get("resumed") else ""),
                  f"- report: [{o.name}/report.md]({o.name}/report.md)",
                  "- data: " + ("; ".join(o.data) if o.data else "?"), ""]
        if o.claims:
            lines += [c.markdown() for c in o.claims]
        elif not o.observations or o.claims_error != NO_CLAIMS:  # observations only: no "No claims" line
            lines.append(f"No claims: {o.claims_error}.")
        if o.observations:
            lines += ["", "Other observations of the paper (not among its claims to reproduce):", ""]
            lines += [c.markdown() for c in o.observations]
        lines.append("")
        for figure in o.figures:
            relative = figure.relative_to(out).as_posix()
            lines.append(f"![{o.name}: {figure.stem}]({relative})")
            lines.append("")
    if missing:
        lines += ["## Missing", ""]
        lines += [f"- `{m.name}`: {m.reason}" for m in missing]
        lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    (out / REPORT).write_text(text)
    return text


#: what :func:`publish` copies out of a reproduction directory: the report, every run's and
#: sub-run's report, the claims figures and each run's figures (the ones REPRODUCTION.md links to) and every run's and
#: sub-run's result tables (``metrics.parquet``, ``results.parquet``) and data record (``data.json``), so the
#: claims and reports can be recomputed from what is published; the checkpoints and the figures of the sub-runs of
#: `estimators` and `svw`, which their own figures stack, stay behind
PUBLISHED = (REPORT, "**/report.md", "figures/*.png", "*/figures/*.png", "*/*.parquet", "*/*/*.parquet",
             "*/data.json", "*/*/data.json")

#: an absolute path as written into reports (POSIX, or a Windows drive)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:/|[A-Za-z]:\\)[^\s,;()`'\"<>|]+")


def public_path(path: str) -> str:
    """A machine's path as a published report names it: a file of an installed package by the
    package-relative path (``mnist/data/mnist.pkl.gz (installed package)``), a file under the home
    folder as ``~/...``, anything else by its name alone."""
    text = path.rstrip(".")
    parts = Path(text).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            inside = parts[parts.index(marker) + 1:]
            return (f"{'/'.join(inside)} (installed package)" if inside else marker) + path[len(text):]
    home = str(Path.home())
    if home not in ("/", "") and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home):] + path[len(text):]
    return (Path(text).name or text) + path[len(text):]


def public_text(text: str) -> str:
    """``text`` with every absolute path replaced by :func:`public_path`."""
    return _ABSOLUTE_PATH.sub(lambda m: public_path(m.group(0)), text)


def _palette_png(source: Path, target: Path) -> None:
    """Re-encode a figure as a 256-colour palette PNG (about a third of the size; plots have few
    colours, so nothing visible is lost), for a report meant to live in a repository."""
    from PIL import Image

    with Image.open(source) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
    palette.save(target, format="PNG", optimize=True)


def _public_table(source: Path, target: Path) -> None:
    """Copy a result table with every text cell through :func:`public_text` (a run records its
    data source, which names the file it read), the numbers untouched."""
    import pandas as pd

    table = pd.read_parquet(source)
    for column in table.columns:
        if pd.api.types.is_string_dtype(table[column]) or table[column].dtype == object:
            table[column] = table[column].map(lambda cell: public_text(cell) if isinstance(cell, str) else cell)
    table.to_parquet(target, index=False)


def check_publish(out: str | Path, dest: str | Path) -> None:
    """Raise ValueError unless ``dest`` may receive a published report of ``out`` (see
    :func:`publish`); called before a reproduction starts, so a bad ``--publish`` fails at once."""
    out, dest = Path(out).resolve(), Path(dest)
    if dest.resolve() == out or out in dest.resolve().parents:
        raise ValueError(f"--publish {dest}: must lie outside the reproduction directory {out}.")
    if dest.exists() and not (dest / REPORT).is_file() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(f"--publish {dest}: exists and holds no earlier {REPORT}; give an empty or new directory.")


def publish(out: str | Path, dest: str | Path, small_figures: bool = True) -> list[Path]:
    """Copy a reproduction's REPRODUCTION.md with the run reports and figures it links to, and the
    runs' result tables, into ``dest`` (e.g. ``docs/reproduction`` of the repository), keeping the
    relative layout so the links work there; figures become 256-colour PNGs unless
    ``small_figures`` is False, and the reports name files by package or file name, not by the
    paths of the machine that ran them (:func:`public_text`).

    ``dest`` is replaced when it holds an earlier published report and must otherwise be empty or
    absent, so nothing else is overwritten. Returns the files written.
    """
    out, dest = Path(out), Path(dest)
    if not (out / REPORT).is_file():
        raise FileNotFoundError(f"publish: {out / REPORT} does not exist; run `gib reproduce` with this --out first.")
    check_publish(out, dest)
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    for pattern in PUBLISHED:
        for source in sorted(out.glob(pattern)):
            target = dest / source.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            if small_figures and source.suffix == ".png":
                _palette_png(source, target)
            elif source.suffix in (".md", ".json"):
                target.write_text(public_text(source.read_text()))
            elif source.suffix == ".parquet":
                _public_table(source, target)
            else:
                shutil.copyfile(source, target)
            written.append(target)
    return written


def reproduce(preset: str = "cpu", out: str | Path | None = None, executor: str = "local", workers: int = 1,
              scheduler: str | None = None, only: Iterable[str] | None = None,
              on_result: Callable[[dict], None] | None = None) -> Path:
    """Run every registered experiment's ``preset`` (or those in ``only``) and write REPRODUCTION.md.

    Parameters
    ----------
    preset : str
        The preset of every experiment (test, quick, cpu, paper).
    out : path, optional
        Where the runs and the report go [runs/reproduce-PRESET].
    executor : str
        The executor named in the report (``gib reproduce --executor``).
    workers, scheduler
        As for :func:`gib.sweep.execute`; one worker by default, so each run's time is its own.
    only : iterable of str, optional
        Experiment names to run; a name that is not registered is reported as missing.
    on_result : callable, optional
        Called with each run's status row as it arrives.

    Returns
    -------
    Path
        The REPRODUCTION.md written.
    """
    start, started = time.perf_counter(), time.time()
    out = Path(out) if out is not None else default_out(preset)
    registered, missing = available()
    names = list(dict.fromkeys(only)) if only else list(registered)
    chosen = []
    for name in names:
        if name not in registered:
            broken = "; ".join(f"{m.name} {m.reason}" for m in missing)
            missing.append(Missing(name, "not registered" + (f" (modules that failed to import: {broken})" if broken else "")))
        elif preset not in registered[name].presets:
            missing.append(Missing(name, f"has no preset {preset!r} (it has {', '.join(registered[name].presets)})"))
        else:
            chosen.append(name)
    if only:  # modules that failed to import matter only when they might hold a chosen name
        missing = [m for m in missing if not m.name.startswith("gib.experiments.")]
    out.mkdir(parents=True, exist_ok=True)
    tasks = [RunTask(name, name, preset, str(out / name)) for name in chosen]
    rows = execute(tasks, workers, scheduler, on_result) if tasks else []
    save_status(rows, out / "status.parquet")
    outcomes = [_outcome(task.label, registered[task.label], row, Path(task.path)) for task, row in zip(tasks, rows)]
    wall = time.perf_counter() - start
    invocations = record_invocation(out, started, wall, rows)
    write_report(out, preset, outcomes, missing, wall, executor, invocations)
    return out / REPORT
