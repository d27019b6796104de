"""Sphinx extension of gib's docs: tables generated from the code, the API pages, short names.

- A page line ``<!-- gib:presets NAME -->`` becomes the table of experiment NAME's presets (what
  each costs and sets), ``<!-- gib:options NAME -->`` the table of its ``--set`` keys (type,
  default, doc): the text ``gib run NAME --help`` prints (:func:`gib.experiments.base.config_fields`),
  so the pages cannot drift from the code.
- ``api/modules.rst`` (written at each build, included by ``api/index.md``) is the autosummary
  of the modules in ``API_MODULES`` that this checkout has (one page each, from
  ``_templates/autosummary/module.rst``); a module not (yet) in the package is left out. ``<!-- gib:public-names -->`` becomes the summary
  of every name ``import gib`` exports.
- A cross-reference to a name gib re-exports (``:func:`gib.synergy```) resolves to the page of
  its defining module (``gib.measures.synergy``): each object is documented once.
- :class:`GalleryArguments` gives each example in ``examples/`` its command line for the
  gallery's build-time run (``GIB_GALLERY_TINY=1``: tiny data, as the tests run them).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import tempfile
from pathlib import Path

# the API reference, in reading order; add a module here and it gets its page
API_MODULES = [
    "gib.measures",
    "gib.planes",
    "gib.phases",
    "gib.verdicts",
    "gib.references",
    "gib.interactions",
    "gib.ib_default",
    "gib.monitor",
    "gib.recorders",
    "gib.loggers",
    "gib.lightning",
    "gib.huggingface",
    "gib.estimators",
    "gib.estimators.base",
    "gib.estimators.plugin",
    "gib.estimators.kde",
    "gib.estimators.gcmi",
    "gib.estimators.ksg",
    "gib.estimators.renyi",
    "gib.exceptions",
    "gib.plotting",
    "gib.features",
    "gib.text",
    "gib.data",
    "gib.data.twelve_bit",
    "gib.runs",
    "gib.sweep",
    "gib.experiments",
    "gib.experiments.catalogue",
    "gib.experiments.base",
    "gib.experiments.constraints",
    "gib.experiments.reporting",
    "gib.experiments.resampling",
]

_MARK = re.compile(r"^<!-- gib:(presets|options) ([\w-]+) -->$", re.MULTILINE)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def experiment_table(kind: str, name: str) -> str:
    """The Markdown table of experiment ``name``'s presets (``kind="presets"``) or options."""
    from gib.experiments import get_experiment
    from gib.experiments.base import config_fields, value_text

    exp = get_experiment(name)
    if kind == "presets":
        rows = ["| preset | cost (measured on the project's 2-core machine) | sets |", "|---|---|---|"]
        for preset, values in exp.presets.items():
            sets = ", ".join(f"`{k}={value_text(v)}`" for k, v in values.items()) or "nothing"
            rows.append(f"| `{preset}` | {_cell(exp.preset_costs.get(preset, ''))} | {_cell(sets)} |")
    else:
        rows = ["| `--set` key | type | default | what it is |", "|---|---|---|---|"]
        for f in config_fields(exp.config_cls):
            rows.append(f"| `{f.name}` | `{_cell(f.type)}` | `{_cell(f.default)}` | {_cell(f.doc)} |")
    return "\n".join(rows)


def present_modules() -> list[str]:
    """The modules of :data:`API_MODULES` that this checkout has."""
    found = []
    for name in API_MODULES:
        try:
            if importlib.util.find_spec(name) is not None:
                found.append(name)
        except ModuleNotFoundError:  # a parent package absent
            pass
    return found


def _write_api_modules(app, config) -> None:
    """Write ``api/modules.rst``, the autosummary of the present API modules, before autosummary
    reads its sources (it reads files, not what ``source-read`` makes of them)."""
    items = "".join(f"   {name}\n" for name in present_modules())
    text = f".. autosummary::\n   :toctree: generated\n\n{items}"
    path = Path(app.srcdir, "api", "modules.rst")
    if not path.exists() or path.read_text() != text:  # unchanged: Sphinx's cache stays valid
        path.write_text(text)


def _public_names() -> str:
    import gib

    items = "".join(f"   gib.{name}\n" for name in sorted(gib._EXPORTS, key=str.lower))
    return f"```{{eval-rst}}\n.. autosummary::\n   :nosignatures:\n\n{items}```"


_DIR_LINK = re.compile(r"\]\(([\w-]+)/\)")


def _reproduction(app, docname: str, text: str) -> str:
    """A published reproduction's Markdown, made to read as a site page: a run folder's link
    goes to its report, ``C*`` stays literal (not the start of an emphasis), a citation of the
    repository's notes links to the theory page, and the report page lists the run reports in
    its table of contents (a sub-run's report is listed in its experiment's)."""
    here = Path(app.srcdir, docname).parent
    text = _DIR_LINK.sub(lambda m: f"]({m.group(1)}/report.md)" if (here / m.group(1) / "report.md").exists()
                         else m.group(0), text)
    text = re.sub(r"(?<![\\`])C\*", r"C\\*", _cite_pages_markdown(text))
    if docname == "reproduction/REPRODUCTION":
        text += "\n\n```{toctree}\n:hidden:\n:glob:\n\n*/report\n```\n"
    else:  # an experiment's report: its sub-runs' reports (estimators, svw), listed and linked
        subs = sorted(d.name for d in here.iterdir() if (d / "report.md").is_file())
        if subs:
            text += "\n\n## The sub-runs' reports\n\n" + "".join(f"- [{s}]({s}/report.md)\n" for s in subs)
            text += "\n```{toctree}\n:hidden:\n:glob:\n\n*/report\n```\n"
    return text


def _source_read(app, docname, source):
    text = _MARK.sub(lambda m: _cite_pages_markdown(experiment_table(m.group(1), m.group(2))), source[0])
    if docname.startswith("reproduction/"):
        text = _reproduction(app, docname, text)
    source[0] = text.replace("<!-- gib:public-names -->", _public_names())


def canonical_name(target: str, module: str | None = None) -> str | None:
    """Where the object a cross-reference names is documented: ``gib.synergy`` ->
    ``gib.measures.synergy``, ``gib.Monitor.record`` -> ``gib.monitor.Monitor.record``,
    ``gib.estimators.row_codes`` -> ``gib.estimators.plugin.row_codes`` (its defining module and
    qualified name); ``module`` is the module the reference was written in. None if not gib's."""
    target = target.lstrip("~.")
    candidates = [target] + ([f"{module}.{target}"] if module else [])
    for name in candidates:
        parts = name.split(".")
        if parts[0] != "gib":
            continue
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            rest, tail = parts[cut:], []
            try:
                for attr in rest:
                    parent, obj = obj, getattr(obj, attr)
            except AttributeError:
                break
            home, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
            if not (isinstance(home, str) and isinstance(qual, str)):  # a constant: its parent's home
                home, qual = getattr(parent, "__module__", None), getattr(parent, "__qualname__", None)
                tail = [rest[-1]]
                if getattr(parent, "__name__", None) == ".".join(parts[:-1]) and len(rest) == 1:
                    home, qual, tail = parent.__name__, None, [rest[-1]]  # a module's constant
            if isinstance(home, str) and home.startswith("gib"):
                found = ".".join(p for p in [home, qual, *tail] if p)
                if found != name:
                    return found
            break
    return None


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = canonical_name(node["reftarget"], node.get("py:module"))
    if target is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node.get("refdoc", app.env.docname), app.builder, node["reftype"],
                               target, node, contnode)


def api_contents() -> dict[str, dict[str, list[str]]]:
    """For each present API module: ``full``, the names its page documents in full (defined
    there, in a private module or in a module without a page of its own; a name a package
    re-exports from a module with its own page is only summarised there, with a link), and
    ``constants``, its public module-level UPPER_CASE constants (assigned in its source)."""
    import ast
    import inspect

    modules = present_modules()
    contents = {}
    for name in modules:
        module = importlib.import_module(name)
        full = []
        for attr in dir(module):
            home = getattr(getattr(module, attr), "__module__", name)
            if home == name or home not in modules and str(home).startswith("gib"):
                full.append(attr)
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError):
            tree = ast.Module(body=[], type_ignores=[])
        constants = [target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                     for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                     if isinstance(target, ast.Name) and target.id.isupper() and not target.id.startswith("_")]
        contents[name] = {"full": full, "constants": constants}
    return contents


# The docstrings write subsets and formulas as plain text, X_-i, X_{ij} or |d_j|: to
# reStructuredText "X_" is a link and "|d_j|" a substitution. Outside literals, such an
# underscore and an opening bar are escaped, so the text reads as written.
_LITERAL = re.compile(r"(``.+?``|`[^`]+`_?_?|:\w+:`[^`]+`)")
_UNDERSCORE = re.compile(r"(?<=[A-Za-z0-9)\]])_(?=[-{(;,.:)\s]|$)")
_BAR = re.compile(r"(?<![\w|\\])\|(?=[^\s|+-])")


def _escape_plain(line: str) -> str:
    stripped = line.lstrip()
    table = stripped.startswith(("|", "+")) and stripped.rstrip().endswith(("|", "+"))
    if table or stripped.startswith((">>>", "...", "..")):  # tables, doctests, directives
        return line
    parts = _LITERAL.split(line)
    for i in range(0, len(parts), 2):  # the text between literals and roles
        parts[i] = _BAR.sub(r"\\|", _UNDERSCORE.sub(r"\\_", parts[i]))
    return "".join(parts)


# Docstrings written for the repository cite its notes by name; on the site each such citation
# becomes a link to the page section that holds the same text.
_SECTIONS = {"1": ("Notation", "notation"), "2": ("Measures", "measures"), "3": ("Estimators", "estimators"),
             "4": ("The experiments and the claims", "experiments"), "5": ("Data without a network", "data")}
_CITATIONS = [
    (re.compile(r"SPEC ([1-5])"), lambda m: ":ref:`theory: {} <{}>`".format(*_SECTIONS[m.group(1)])),
    (re.compile(r"README,? \"?Watching a model train\"?"), lambda m: ":doc:`/training`"),
    (re.compile(r"README:? \"?Reading a saturated IB plane\"?"), lambda m: ":ref:`saturated-ib-plane`"),
    (re.compile(r"README,? estimator table"), lambda m: ":ref:`estimator-table`"),
    (re.compile(r"\(see the README\)"), lambda m: "(:doc:`/cli`)"),
    (re.compile(r"STYLE\.md[,:]\s*|;\s*STYLE\.md"), lambda m: ""),
]


def _cite_pages(line: str) -> str:
    for pattern, replace in _CITATIONS:
        line = pattern.sub(replace, line)
    return line


def _cite_pages_markdown(text: str) -> str:
    """The same citations in a Markdown page (MyST roles)."""
    return re.sub(r":(ref|doc):`", r"{\1}`", _cite_pages(text))


_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}$")


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = [_cite_pages(line) for line in lines]
    for k in range(1, len(lines)):  # a section title the citations lengthened keeps its underline
        under = lines[k].strip()
        if _UNDERLINE.match(under) and lines[k - 1].strip() and len(under) < len(lines[k - 1].strip()):
            lines[k] = lines[k][: len(lines[k]) - len(lines[k].lstrip())] + under[0] * len(lines[k - 1].strip())
    in_literal, indent = False, 0
    for k, line in enumerate(lines):
        width = len(line) - len(line.lstrip())
        if in_literal and line.strip() and width <= indent:
            in_literal = False
        if not in_literal:
            lines[k] = _escape_plain(line)
        if line.rstrip().endswith("::"):  # a literal block follows, indented
            in_literal, indent = True, width


class GalleryArguments:
    """The command line of each example when the gallery runs it (sphinx-gallery's ``reset_argv``).

    Output goes to a temporary folder; ``GIB_GALLERY_TINY=1`` shrinks every run to seconds.
    """

    FULL = {
        "own_loop": ["--epochs", "300", "--every", "25"],
        "tensorboard_logging": ["--epochs", "200", "--every", "20", "--samples", "1000"],
        "lightning_trainer": ["--epochs", "20"],
        "huggingface_trainer": ["--samples", "200", "--probe", "100", "--epochs", "2", "--max-length", "48"],
    }
    TINY = {
        "own_loop": ["--epochs", "20", "--every", "10"],
        "tensorboard_logging": ["--epochs", "4", "--every", "2", "--samples", "100"],
        "lightning_trainer": ["--epochs", "2"],
        "huggingface_trainer": ["--samples", "8", "--probe", "8", "--max-length", "12", "--epochs", "2",
                                "--batch-size", "8"],
    }
    OUT = {"tensorboard_logging": "--logdir"}

    def __call__(self, gallery_conf, script_vars):
        name = Path(script_vars["src_file"]).stem
        table = self.TINY if os.environ.get("GIB_GALLERY_TINY") == "1" else self.FULL
        if name not in table:
            return []  # a plot_* script: no arguments (it reads GIB_GALLERY_TINY itself)
        out = tempfile.mkdtemp(prefix=f"gib-gallery-{name}-")
        return [*table[name], self.OUT.get(name, "--out"), out]

    def __repr__(self) -> str:  # a stable value, so that Sphinx's environment stays cached
        return "GalleryArguments()"


def setup(app):
    app.connect("config-inited", _write_api_modules)
    app.connect("source-read", _source_read)
    app.connect("missing-reference", _missing_reference)
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


gallery_arguments = GalleryArguments()


class GalleryOrder:
    """The gallery's order (sphinx-gallery's ``within_subsection_order``): the measures first,
    then the planes, then the training loops; an example not listed comes last, by name."""

    ORDER = ["plot_synergy_xor", "plot_higher_order", "plot_saturated_plane", "plot_mlp_ib_plane", "own_loop",
             "tensorboard_logging", "lightning_trainer", "huggingface_trainer"]

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename: str):
        stem = Path(filename).stem
        return (self.ORDER.index(stem) if stem in self.ORDER else len(self.ORDER), stem)

    def __repr__(self) -> str:
        return "GalleryOrder()"


class FigureScraper:
    """The gallery's images of the figures gib draws: :mod:`gib.plotting` makes matplotlib
    Figures without pyplot (nothing leaks into a global registry), which sphinx-gallery's own
    scraper does not see; every such Figure an example holds in a global is shown once (this
    scraper runs first, and leaves pyplot's figures to sphinx-gallery's)."""

    def __call__(self, block, block_vars, gallery_conf):
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure
        from sphinx_gallery.scrapers import figure_rst

        # runs before sphinx-gallery's own scraper: pyplot's open figures are its to show
        pyplot = {id(plt.figure(number)) for number in plt.get_fignums()}
        shown = []
        for value in list(block_vars["example_globals"].values()):
            if isinstance(value, Figure) and id(value) in pyplot:
                value._gib_shown = True
            if isinstance(value, Figure) and not getattr(value, "_gib_shown", False):
                path = next(block_vars["image_path_iterator"])
                value.savefig(path)
                value._gib_shown = True
                shown.append(figure_rst([path], gallery_conf["src_dir"]))
        return "".join(shown)

    def __repr__(self) -> str:
        return "FigureScraper()"


figure_scraper = FigureScraper()  # the instance conf.py names (sphinx-gallery wants a callable)
