"""gib as a dependency: `python -m build` gives, without warnings, a wheel whose metadata asks
for a torch range (never one release), keeps Dask in the sweep extra, ships the LICENSE and names
the project's URLs; the wheel installs into a fresh virtual environment, where `import gib` and
the `gib` command work from the installed files; and gib imports and runs its non-sweep commands
without Dask, while a sweep without it names the pip command that installs it."""

import email
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
URL = "https://github.com/gib-developers/gib"


def run(*args, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")}
    done = subprocess.run(args, capture_output=True, text=True, env={**env, **kw.pop("env", {})}, timeout=300, **kw)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(wheel, sdist, the build's output), built from a copy so the source tree gets no build/."""
    tmp = tmp_path_factory.mktemp("build")
    source = tmp / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    # --no-isolation: the build backend (setuptools) of this environment, nothing downloaded
    output = run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp / "dist"), str(source))
    (wheel,) = (tmp / "dist").glob("gib-*.whl")
    (sdist,) = (tmp / "dist").glob("gib-*.tar.gz")
    return wheel, sdist, output


def metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_build_gives_no_warnings(built):
    _, _, output = built
    flagged = [line for line in output.splitlines() if "warn" in line.lower() or "deprecat" in line.lower()]
    assert not flagged, "\n".join(flagged)


def test_metadata_keeps_the_users_torch_and_dask_optional(built):
    wheel, _, _ = built
    meta = metadata(wheel)
    requirements = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    base = {r.name: r for r in requirements if r.marker is None}
    torch = base["torch"]
    operators = {spec.operator for spec in torch.specifier}
    assert operators == {">=", "<"}, torch  # a range, never == one release
    assert torch.specifier.contains("2.13.0") and not torch.specifier.contains("3.0.0")
    assert not torch.specifier.contains("2.2.0")  # older than the unsigned dtypes gib names
    assert "dask" not in base and "distributed" not in base
    sweep = [r for r in requirements if r.name == "dask" and r.marker is not None]
    assert [str(r.marker) for r in sweep] == ['extra == "sweep"'] and "distributed" in sweep[0].extras
    assert "sweep" in meta.get_all("Provides-Extra") and "dask" in meta.get_all("Provides-Extra")
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    assert meta["Author"] == "The gib developers"
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL"))
    assert urls == {"Homepage": URL, "Documentation": "https://gib-developers.github.io/gib/", "Source": URL,
                    "Issues": f"{URL}/issues"}
    assert any(c.startswith("Programming Language :: Python :: 3") for c in meta.get_all("Classifier"))


def test_the_license_is_shipped(built):
    wheel, sdist, _ = built
    import tarfile

    names = zipfile.ZipFile(wheel).namelist()
    (license_file,) = [n for n in names if n.endswith("licenses/LICENSE")]
    text = zipfile.ZipFile(wheel).read(license_file).decode()
    assert text.startswith("MIT License") and "The gib developers" in text
    assert text == (ROOT / "LICENSE").read_text()
    with tarfile.open(sdist) as archive:
        assert any(n.endswith("/LICENSE") for n in archive.getnames())


def test_wheel_installs_and_runs_in_a_fresh_venv(built, tmp_path):
    wheel, _, _ = built
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


#: a child process in which Dask is not installed: its modules cannot be found
WITHOUT_DASK = textwrap.dedent("""
    import importlib.abc, sys

    class NoDask(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("dask", "distributed"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoDask())
""")


def test_gib_works_without_dask_and_a_sweep_names_the_extra(tmp_path):
    script = WITHOUT_DASK + textwrap.dedent("""
        import gib, gib.monitor, gib.experiments, gib.cli
        from click.testing import CliRunner
        listed = CliRunner().invoke(gib.cli.main, ["list"])
        assert listed.exit_code == 0, listed.output
        assert not any(name.split(".")[0] in ("dask", "distributed") for name in sys.modules)
        from gib.sweep import sweep
        try:
            sweep("activations", {"lr": [0.1]}, preset="test", out="never-written")
        except ImportError as err:
            print(err)
    """)
    out = run(sys.executable, "-c", script, cwd=tmp_path, env={"PYTHONPATH": str(ROOT / "src")})
    assert "pip install 'gib[sweep]'" in out and "dask" in out
    assert not (tmp_path / "never-written").exists()  # the error comes before anything is written
