"""`python -m build` gives a wheel that installs into a fresh virtual environment, where `import
gib` and the `gib` command work from the installed files (not this source tree)."""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, **kw)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    # build from a copy, so the source tree gets no build/ or egg-info
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # --no-isolation: the build backend (setuptools) of this environment, nothing downloaded
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(source))
    (wheel,) = (tmp_path / "dist").glob("gib-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gib/py.typed" in names and "gib/experiments/catalogue.py" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    # the dependencies (numpy, torch, click, ...) from this environment, after the venv's own packages
    outer = [p for p in {*site.getsitepackages(), sysconfig.get_paths()["purelib"]} if Path(p).is_dir()]
    (purelib / "outer-site-packages.pth").write_text("\n".join(outer) + "\n")
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel))

    where = run(str(python), "-c", "import gib, gib.monitor, gib.loggers, gib.cli; print(gib.__file__); "
                                   "print(gib.synergy([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], estimator='discrete'))",
                cwd=tmp_path)
    location, xor_synergy = where.split()
    assert Path(location).is_relative_to(env_dir), location  # the installed copy, not src/
    assert (Path(location).parent / "py.typed").exists()
    assert float(xor_synergy) == 1.0
    assert "Usage: gib" in run(str(env_dir / "bin" / "gib"), "--help", cwd=tmp_path)
    assert "--preset quick" in run(str(env_dir / "bin" / "gib"), "list", cwd=tmp_path)
