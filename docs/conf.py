"""Sphinx configuration of gib's documentation site.

Build it with ``sphinx-build -b html docs site`` (the ``docs`` extra installs what it needs).
Pages are MyST Markdown with ``$...$`` mathematics, the API reference comes from the NumPy-style
docstrings (numpydoc), the gallery runs ``examples/`` (sphinx-gallery), and MathJax is copied
into the site from the installed ``sphinx-mathjax-offline`` package, so the site reads offline.
``GIB_GALLERY_TINY=1`` runs the gallery on tiny data (the tests); ``-D plot_gallery=0`` skips it.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout's gib, installed or not
sys.path.insert(0, str(DOCS / "_ext"))

import gib  # noqa: E402

project = "gib"
author = "the gib developers"
copyright = "the gib developers"
release = version = gib.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 from the package into _static/mathjax: no CDN
    "gib_docs",  # the experiment tables, the API module list, gib.NAME cross-references
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["api/modules.rst", "_build", "_templates", "_ext", "reproduction/**/metrics.parquet",
                    "gallery/*.ipynb", "gallery/*.py", "gallery/*.zip", "gallery/*.json"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["gib.css"]

# -- Markdown pages: MyST with dollar maths -------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links resolve to the heading's anchor
myst_dmath_double_inline = True

# -- API reference ---------------------------------------------------------------------------------
autosummary_generate = ["api/modules.rst"]  # written by gib_docs from its API_MODULES
autosummary_imported_members = False
autosummary_ignore_module_all = False  # a module's __all__, where it has one, is its API
import gib_docs  # noqa: E402

autosummary_context = {"api": gib_docs.api_contents()}  # what each module page documents in full
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
maximum_signature_line_length = 88  # longer signatures: one parameter a line
numpydoc_show_class_members = False  # the members are documented in full below the class
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()
trim_doctest_flags = True  # "# doctest: +SKIP" is for pytest, not for readers
python_use_unqualified_type_names = True
add_module_names = False
toc_object_entries_show_parents = "hide"

# every cross-reference must resolve (a raw or broken :func: is a build warning), except names
# of other libraries: the site links no other project's inventory (it builds offline)
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|torch|pandas|pd|matplotlib|scipy|sklearn|transformers|lightning|"
               r"collections|typing|typing_extensions|os|pathlib|concurrent|dask|distributed|"
               r"tensorboard|wandb|array_api_compat|click|types|abc|dataclasses|enum|io|"
               r"contextlib|argparse|logging|filelock|tqdm|json|re|functools|hashlib)\b.*"),
    (r"py:.*", r"(Path|PathLike|Callable|Iterable|Iterator|Sequence|Mapping|Any|Literal|"
               r"ArrayLike|NDArray|Tensor|DataFrame|Series|Figure|Axes|Module|Trainer|"
               r"TrainerCallback|Callback|LightningModule|Self|Optional|Union|TypeAlias|"
               r"ndarray|dtype|Generator|Number|Hashable|Collection|MutableMapping|"
               r"Protocol|NamedTuple|TextIO|IO|ModuleType|Tokenizer|PreTrainedTokenizerBase|"
               r"Client|Future|Event)$"),
    # private helpers named in signatures or as bases: not part of the documented API
    (r"py:.*", r"(.*\.)?_\w+"),
    (r"py:class", r"tuple\[int"),  # Annotated[tuple[int, ...], ...] of the experiment configs, split
    (r"py:class", r"(array-like|array_like|optional|callable|default|.*\bor\b.*|.* of .*)"),
]

# -- Gallery ---------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": r".*\.py$",  # every example runs at build time and shows its figures
    "reset_argv": "gib_docs.gallery_arguments",
    "within_subsection_order": "gib_docs.GalleryOrder",  # from the measures to the training loops
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    # run every example at every build: a tiny-data build (the tests) and a full one share
    # docs/gallery, and neither may show the other's output
    "run_stale_examples": True,
    "write_computation_times": False,
    "show_signature": False,
    "image_scrapers": ("gib_docs.figure_scraper", "matplotlib"),  # gib.plotting's figures, pyplot's
    "matplotlib_animations": False,
}

# -- Page layout -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "gib"
html_show_sourcelink = False
html_copy_source = False
html_baseurl = "https://gib-developers.github.io/gib/"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_depth": 3,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
}
# the section navigation where a section has pages (experiments, gallery, API), none elsewhere
_SINGLE_PAGES = ["index", "theory", "estimators", "planes", "training", "cli", "benchmarks", "architecture"]
html_sidebars = {"**": ["sidebar-nav-bs"], **{page: [] for page in _SINGLE_PAGES}}
