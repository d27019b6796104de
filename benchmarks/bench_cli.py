"""How fast the `gib` command answers, beside the cost of importing NumPy, in one run.

Each command runs as a fresh process (as a user types it), best of ``--repeats``:
``gib --help``, ``gib list``, ``gib run functions --help`` (which imports the experiment), and
for scale ``python -c "import numpy"`` and ``python -c "pass"`` (the interpreter alone). The
goal: ``gib --help`` and ``gib list`` well under a second, no slower than importing NumPy.

Run: ``.venv/bin/python benchmarks/bench_cli.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def best_of(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> list[tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    script = Path(sys.executable).with_name("gib")
    gib = [str(script)] if script.exists() else ([shutil.which("gib")] if shutil.which("gib") else
                                                  [sys.executable, "-m", "gib.cli"])
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ('python -c "import numpy"', [sys.executable, "-c", "import numpy"]),
        ("gib --help", [*gib, "--help"]),
        ("gib list", [*gib, "list"]),
        ("gib run functions --help", [*gib, "run", "functions", "--help"]),
    ]
    times = [(label, best_of(command, args.repeats)) for label, command in rows]
    numpy = dict(times)['python -c "import numpy"']
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; best of {args.repeats}, "
          "each a fresh process. Times in seconds.\n")
    print("| command | time (s) | / import numpy |")
    print("|---|---|---|")
    for label, seconds in times:
        print(f"| `{label}` | {seconds:.3f} | {seconds / numpy:.2f} |")
    return times


if __name__ == "__main__":
    main()
