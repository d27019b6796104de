"""MkDocs hook: fill each experiment page's tables from the code, so the docs cannot drift.

A page line ``<!-- gib:presets NAME -->`` becomes the table of NAME's presets (what each costs
and sets), ``<!-- gib:options NAME -->`` the table of its ``--set`` keys (type, default, doc),
the same text ``gib run NAME --help`` prints (gib.experiments.base.config_fields).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_MARK = re.compile(r"^<!-- gib:(presets|options) ([\w-]+) -->$", re.MULTILINE)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(kind: str, name: str) -> str:
    from gib.experiments import get_experiment
    from gib.experiments.base import value_text, config_fields

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


def on_config(config, **kwargs):
    src = Path(config["config_file_path"]).parent / "src"
    if src.is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))  # the checkout's gib, installed or not
    return config


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    return _MARK.sub(lambda m: _table(m.group(1), m.group(2)), markdown)
