"""What `gib list` shows, readable without importing an experiment (no torch, pandas or
matplotlib): each experiment's module, one-line summary, and the cost of each preset.

This table is the one home of those texts: :func:`gib.experiments.base.register` fills an
experiment's ``summary`` and ``preset_costs`` from it, and refuses an experiment that is not
listed here. Costs were measured on the project's 2-core machine (the docs, :ref:`preset-costs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Entry:
    """One experiment as listed: ``gib.experiments.<module>`` registers it."""

    name: str
    module: str
    summary: str
    costs: MappingProxyType  #: preset -> what it costs, in words

    @property
    def presets(self) -> tuple[str, ...]:
        return tuple(self.costs)


def _entry(name: str, module: str, summary: str, **costs: str) -> Entry:
    return Entry(name, module, summary, MappingProxyType(dict(costs)))


#: where the cpu presets' times in docs/reproduction were measured (`gib reproduce --preset cpu --workers 2`)
_PUBLISHED = " in the published reproduction (two runs at once, next to other jobs)"

_ENTRIES = (
    _entry("synthetic", "synthetic",
           "Fig. 3a: I(f;N) and I(f;X) of x1, xor2 and parity under force-to-1 noise, n = 2..10",
           test="seconds", quick="seconds", cpu=f"under a minute (2.6 s{_PUBLISHED})",
           paper="about a minute"),
    _entry("activations", "activations",
           "Fig. 2: 12-bit task, five activations, IB (last hidden layer) vs GIB (input bits)",
           test="seconds", quick="about 3 min on 2 cores",
           cpu=f"21 min (next to another run on the 2 cores); 47 min{_PUBLISHED}",
           paper="10000 epochs x 5 seeds: hours on CPU"),
    _entry("functions", "functions",
           "Fig. 4: five simple functions, one-hidden-layer nets, IB (hidden layer) vs GIB (raw inputs)",
           test="~5 s CPU (20-50 s wall on the loaded 2-core machine, mostly drawing figures)",
           quick="1 seed x 5 functions x 1000 epochs: ~22 s CPU, ~2 min wall on the loaded 2-core machine",
           cpu=f"3 seeds: ~40 s CPU, ~2.5 min wall on the loaded 2-core machine; 1.3 min{_PUBLISHED}",
           paper="5 seeds (the paper's protocol): ~55 s CPU, ~2.5 min wall; no GPU needed"),
    # the image experiments: loading the offline MNIST pickle is ~25 s of each
    _entry("adversarial", "adversarial",
           "Fig. 7: MNIST under weak/strong FGSM training, IB (last 20-unit layer) vs GIB (pixels)",
           test="seconds on tiny data files (+~25 s to load the offline data)",
           quick="1.4 min on 2 idle cores (11 min when 8 jobs shared them)",
           cpu=f"8 min on 2 idle cores; 17 min{_PUBLISHED}",
           paper="10000 epochs on 60000 images per eps: days on CPU, a GPU (--device cuda)"),
    _entry("teacher-student", "teacher_student",
           "Fig. 3b: teacher-student synergy ratio with augmentation vs generalization gap, CIFAR ResNets",
           test="about 7 s on a tiny CIFAR folder (+ about 9 s to load the MNIST stand-in)",
           quick="about 5 min on 2 loaded cores (4 pairs; 1.6 min of CPU time)",
           cpu=f"about 21 min on 2 loaded cores (9 pairs; 9 min of CPU time); 16 min{_PUBLISHED}",
           paper="8 depths x 3 seeds x 400 epochs of full CIFAR-10: a GPU (--device cuda), many hours"),
    _entry("resnet", "resnet",
           "Fig. 5: CIFAR ResNets of several depths, IB (logits) vs GIB (Kernel PCA of the images)",
           test="seconds on tiny data files (+~25 s to load the offline data)",
           quick="2.3 min on 2 idle cores (41 min when 8 jobs shared them)",
           cpu=f"13.5 min on 2 idle cores; 52 min{_PUBLISHED}",
           paper="4 depths x 200 epochs on 50000 images: a GPU (--device cuda); the MI adds ~0.6 s "
                 "per epoch with kpca50, ~4.6 s with --set pca=none (5000 probe images, 2 CPU cores)"),
    _entry("pca-dims", "pca_dims",
           "App. H: GIB on 25, 50 and 100 Kernel PCA components of the same ResNet training run",
           test="seconds on tiny data files (+~25 s to load the offline data)",
           quick="1 min on 2 idle cores (8 min when 8 jobs shared them)",
           cpu=f"10 min on 2 idle cores; 29 min{_PUBLISHED}",
           paper="one ResNet-20, 200 epochs on 50000 images: a GPU (--device cuda)"),
    _entry("bert", "bert",
           "Fig. 6: BERT fine-tuning on AG News, standard vs unlearning; IB (logits) vs GIB (token ids)",
           test="tiny random BERT: ~13 s CPU with imports and figures, 20-35 s wall on the loaded 2-core machine",
           quick="MiniLM, 480 BBC texts x 64 tokens: 3.2 min CPU (1 thread), 11 min wall on the loaded "
                 "2-core machine",
           cpu="MiniLM, 1780 BBC texts, 6 epochs in all: 18 min wall (next to another run on the 2 cores, "
               f"in `gib reproduce --preset cpu --workers 2`); 45 min{_PUBLISHED}",
           paper="bert-base-uncased on 120k AG News texts, 9 epochs in all: hours; needs a GPU (--device cuda)"),
    _entry("estimators", "variants",
           "App. F: activations and functions under binning, kde and gcmi, planes side by side",
           test="seconds", quick="the sub-experiments' quick presets, once per variant",
           cpu="the sub-experiments' quick presets, once per variant (as quick; --set base_preset=cpu for "
               f"their cpu presets, ~1-1.5 h on 2 cores); as quick, 83 min{_PUBLISHED}",
           paper="the paper presets, once per variant"),
    _entry("svw", "variants",
           "App. I: activations and functions with featurewise and sum-vs-whole GIB, side by side",
           test="seconds", quick="the sub-experiments' quick presets, once per variant",
           cpu="the sub-experiments' quick presets, once per variant (as quick; --set base_preset=cpu for "
               f"their cpu presets, ~1-1.5 h on 2 cores); as quick, 12.5 min{_PUBLISHED}",
           paper="the paper presets, once per variant"),
)

CATALOGUE: MappingProxyType = MappingProxyType({e.name: e for e in sorted(_ENTRIES, key=lambda e: e.name)})
#: the modules that register experiments, in the order they are imported
MODULES: tuple[str, ...] = tuple(dict.fromkeys(e.module for e in _ENTRIES))


def entry(name: str) -> Entry:
    """The catalogue entry of experiment ``name``; a ValueError suggesting the closest names."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    raise ValueError(unknown_message(name))


def unknown_message(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(CATALOGUE), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown experiment {name!r}.{hint} `gib list` shows: {', '.join(CATALOGUE)}."
