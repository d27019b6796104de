"""Fig. 3a: synergistic functions are more robust to noise (SPEC 4 `synthetic`, App. E.1).

X ~ Bernoulli(0.5)^n; with probability p one uniformly chosen coordinate is forced to 1 (the
noise N is its index, 0 = none), giving X~. For f = X~_1 (no synergy), X~_1 xor X~_2 and the
xor of all n bits (most synergy), we measure I(f;N) and I(f;X) exactly, by enumerating every
(x, N) with its probability, and by the plug-in estimate on sampled data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..measures import mutual_information, synergy
from . import reporting
from .base import BaseConfig, Experiment, register

FUNCTIONS = ("x1", "xor2", "parity")
LABELS = {"x1": "f = X~1", "xor2": "f = X~1 xor X~2", "parity": "f = xor of all"}


@dataclass
class Config(BaseConfig):
    n_min: int = 2
    n_max: int = 10
    p: float = 0.5  #: probability that one coordinate is forced to 1
    n_samples: int = 100_000

    def check(self) -> None:
        if not 2 <= self.n_min <= self.n_max:
            raise ValueError("--set n_min/n_max: need 2 <= n_min <= n_max.")
        if not 0 <= self.p <= 1:
            raise ValueError(f"--set p={self.p}: a probability in [0, 1] is needed.")


PRESETS = {
    "test": dict(n_max=4, n_samples=2000, progress=False),
    "quick": dict(n_max=8, n_samples=20_000),
    "cpu": dict(n_max=10, n_samples=100_000),
    "paper": dict(n_max=10, n_samples=100_000, seeds=(0, 1, 2, 3, 4)),
}


def apply_function(name: str, x: np.ndarray) -> np.ndarray:
    if name == "x1":
        return x[:, 0]
    if name == "xor2":
        return x[:, 0] ^ x[:, 1]
    return np.bitwise_xor.reduce(x, axis=1)


def noisy(x: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Force coordinate noise-1 to 1 where noise > 0."""
    out = x.copy()
    rows = np.flatnonzero(noise > 0)
    out[rows, noise[rows] - 1] = 1
    return out


def enumeration(n: int, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (x, N) with its probability."""
    x = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int64)
    xs = np.repeat(x, n + 1, axis=0)
    noise = np.tile(np.arange(n + 1), len(x))
    prob = np.where(noise == 0, 1 - p, p / n) / len(x)
    return xs, noise, prob


def sample(n: int, p: float, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.integers(0, 2, size=(size, n))
    noise = np.where(rng.random(size) < p, rng.integers(1, n + 1, size), 0)
    return x, noise


def measure(x: np.ndarray, noise: np.ndarray, weights: np.ndarray | None) -> list[dict]:
    rows = []
    xt = noisy(x, noise)
    for name in FUNCTIONS:
        if name == "xor2" and x.shape[1] < 2:
            continue
        f = apply_function(name, xt)
        rows.append({"function": name, "measure": "I(f;N)",
                     "value": mutual_information(f, noise, "discrete", weights)})
        rows.append({"function": name, "measure": "I(f;X)",
                     "value": mutual_information(f, x, "discrete", weights)})
        rows.append({"function": name, "measure": "synergy",
                     "value": synergy(x, apply_function(name, x), "discrete", weights=weights)})
    return rows


def run(config: Config, run_dir) -> None:
    done = run_dir.table("results.parquet") if run_dir.has_table("results.parquet") else pd.DataFrame()
    frames = [done] if len(done) else []
    have = set(zip(done.get("n", []), done.get("source", []), done.get("seed", [])))
    for n in range(config.n_min, config.n_max + 1):
        jobs = [("exact", -1)] + [("sampled", s) for s in config.seeds]
        for source, seed in jobs:
            if (n, source, seed) in have:
                continue  # resume: this cell was finished by an earlier, interrupted run
            if source == "exact":
                x, noise, prob = enumeration(n, config.p)
            else:
                rng = np.random.default_rng([seed, n])
                (x, noise), prob = sample(n, config.p, config.n_samples, rng), None
            rows = pd.DataFrame(measure(x, noise, prob)).assign(n=n, source=source, seed=seed)
            frames.append(rows)
            run_dir.save_table(pd.concat(frames, ignore_index=True), "results.parquet")


def _mean_table(run_dir) -> pd.DataFrame:
    frame = run_dir.table("results.parquet")
    return frame.groupby(["source", "function", "measure", "n"], as_index=False)["value"].mean()


def figures(run_dir) -> dict:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    table = _mean_table(run_dir)
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    colours = {"x1": "#1f77b4", "xor2": "#e377c2", "parity": "#7b1fa2"}
    for ax, m in zip(axes, ("I(f;N)", "I(f;X)")):
        for name in FUNCTIONS:
            for source, style in (("exact", "-"), ("sampled", "o")):
                sel = table[(table["function"] == name) & (table["measure"] == m) & (table["source"] == source)]
                if len(sel):
                    ax.plot(sel["n"], sel["value"], style, color=colours[name], ms=4,
                            label=f"{LABELS[name]} ({source})", mfc="none" if source == "sampled" else None)
        ax.set_xlabel("number of input bits n")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{m} [bits]")
        ax.set_title(f"{m}: noise sensitivity" if m == "I(f;N)" else f"{m}: dependence on the clean input")
    axes[0].legend(fontsize=7)
    fig.suptitle("Synthetic functions under force-to-1 noise (lines exact, circles sampled)")
    return {"functions": fig}


def _falls(values: list[float], tol: float = 1e-9) -> bool:
    """Never rises along the list, and ends strictly below where it starts."""
    return all(b <= a + tol for a, b in zip(values, values[1:])) and values[-1] < values[0] - tol


def _exact_wide(table: pd.DataFrame) -> pd.DataFrame:
    exact = table[table["source"] == "exact"]
    return exact.pivot_table(index=["n", "function"], columns="measure", values="value").reset_index()


def claims(run_dir) -> list[reporting.Claim]:
    wide = _exact_wide(_mean_table(run_dir))
    checks = []
    for n, group in wide.groupby("n"):
        if n < 3:
            continue  # xor2 is the xor of all bits at n = 2
        ordered = group.set_index("function").loc[list(FUNCTIONS)]
        rising = _falls(list(-ordered["synergy"]))
        checks.append((n, rising, _falls(list(ordered["I(f;N)"])), _falls(list(ordered["I(f;X)"]))))
    holds = bool(checks) and all(r and a and b for _, r, a, b in checks)
    return [reporting.Claim(
        "more synergistic functions have lower I(f;N) and I(f;X) (Fig. 3a)",
        "exact values, for n = " + ", ".join(
            f"{n}: synergy rises {'yes' if r else 'no'}, I(f;N) falls {'yes' if a else 'no'}, "
            f"I(f;X) falls {'yes' if b else 'no'}" for n, r, a, b in checks),
        holds,
    )]


def report(run_dir) -> str:
    table = _mean_table(run_dir)
    wide = _exact_wide(table)
    lines = [
        reporting.header(run_dir, "Fig. 3a: more synergistic functions are less sensitive to noise",
                         f"p = {run_dir.config['p']}, {run_dir.config['n_samples']} samples per sampled estimate."),
        "## Exact values (enumeration)\n",
        reporting.markdown_table(wide.rename(columns={"function": "f"})),
        "\n## Sampled plug-in values (mean over seeds)\n",
        reporting.markdown_table(
            table[table["source"] == "sampled"].pivot_table(index=["n", "function"], columns="measure",
                                                             values="value").reset_index()),
        "\n## Claims\n",
        *(c.markdown() for c in claims(run_dir)),
        "\nFigure: `figures/functions.png`.\n",
    ]
    return "\n".join(lines)


register(Experiment(
    name="synthetic",
    summary="Fig. 3a: I(f;N) and I(f;X) of x1, xor2 and parity under force-to-1 noise, n = 2..10",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    claims=claims,
    preset_costs={"test": "seconds", "quick": "seconds", "cpu": "under a minute", "paper": "about a minute"},
))
