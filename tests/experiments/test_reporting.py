"""The one report layout: a typed Report rendered by render_report."""

import dataclasses
from types import SimpleNamespace

import pandas as pd
import pytest

from gib.experiments import reporting
from gib.experiments.reporting import Claim, Report, Section, render_report

CONFIG = {"preset": "test", "seeds": [0, 1], "estimator": "kde", "synergy": "featurewise"}


def run(config=CONFIG):
    return SimpleNamespace(experiment="demo", config=config)


def test_a_report_renders_its_parts_in_order():
    report = Report.of(
        run(), "Fig. 9: a demo", note="Data: generated.", data="Data: made here.", setup="Two nets.\n",
        sections=(s for s in [Section("Numbers", reporting.markdown_table(pd.DataFrame({"a": [0.5], "b": ["x"]}))),
                              Section(None, "## Brings its own heading\n\nBody.\n"),
                              Section("Empty table", "")]),
        claims=[Claim("A holds", "measured 1", True), Claim("B holds", "measured 2", False, beyond_null=True)],
        figures={"planes.png": "Fig. 9", "metrics.png": ""},
    )
    assert isinstance(report.sections, tuple) and isinstance(report.claims, tuple)
    text = render_report(report)
    assert text == (
        "# Fig. 9: a demo\n\n"
        "Experiment `demo`, preset `test`, seeds [0, 1], estimator `kde`, synergy `featurewise`. All information "
        "values in bits. Data: generated.\n\n"
        "Data: made here.\n\n"
        "Two nets.\n\n"
        "## Numbers\n\n| a | b |\n|---|---|\n| 0.500 | x |\n\n"
        "## Brings its own heading\n\nBody.\n\n"
        "## Empty table\n\n"
        "## Claims\n\n"
        "- **Claim:** A holds\n  - measured: measured 1\n  - **holds** in this run\n"
        "- **Claim:** B holds\n  - measured: measured 2\n  - **does not hold** in this run\n"
        "  - beyond the null: yes\n\n"
        "Figures: `figures/planes.png` (Fig. 9), `figures/metrics.png`.\n"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.title = "other"


def test_absent_parts_leave_no_trace_and_one_figure_is_singular():
    text = render_report(Report.of(run(), "T", figures={"planes.png": ""}))
    assert text == ("# T\n\nExperiment `demo`, preset `test`, seeds [0, 1], estimator `kde`, synergy `featurewise`. "
                    "All information values in bits.\n\nFigure: `figures/planes.png`.\n")
    assert "## Claims" not in text and "\n\n\n" not in text


def test_estimator_options_are_stated_when_set():
    text = render_report(Report.of(run({**CONFIG, "estimator_options": ["bandwidth_scale=0.5", "min_class_sigma=0.01"]}),
                                   "T"))
    assert "Estimator options: bandwidth_scale=0.5, min_class_sigma=0.01." in text
    assert "Estimator options" not in render_report(Report.of(run(), "T"))


def test_plane_selection_names_the_planes_it_reads():
    assert reporting.plane_selection(run(), "h2") == dict(ib_layer="h2", estimator="kde", kind="featurewise")
    assert reporting.plane_selection(run(), "h2", "input")["gib_layer"] == "input"


def test_bullets():
    assert reporting.bullets(["a", "b"]) == "- a\n- b"
    assert reporting.bullets([]) == ""
