"""
Synergy of XOR, redundancy of a copy
====================================

The feature-wise synergy of two inputs about a target,
:math:`S(X \\to V) = \\frac1n \\sum_i II_i(V)` with
:math:`II_i(V) = I(X;V) - I(X_i;V) - I(X_{-i};V)`
(:ref:`the definition <synergy>`), is positive when the features inform the target only
together and negative when they repeat each other. Two closed forms pin it: the XOR of two fair
bits is pure synergy, :math:`S = 1` bit, and a bit copied into both features is pure
redundancy, :math:`S = -1` bit.
"""

# %%
# The four patterns of two fair bits, exactly, with the plug-in estimator
# ------------------------------------------------------------------------
# :func:`gib.leave_one_out` gives the :math:`2n + 1` informations the synergy is made of in one
# call: :math:`I(X;V)`, every :math:`I(X_i;V)` and every :math:`I(X_{-i};V)`.
import itertools
import os

import matplotlib.pyplot as plt
import numpy as np

import gib

bits = np.array(list(itertools.product([0, 1], repeat=2)))
cases = {
    "XOR: V = X1 xor X2": (bits, bits[:, 0] ^ bits[:, 1]),
    "copy: X = (B, B), V = B": (np.c_[bits[:, 0], bits[:, 0]], bits[:, 0]),
}
parts = {}
for name, (X, v) in cases.items():
    loo = gib.leave_one_out(X, v, estimator="discrete")
    synergy = gib.synergy(X, v, estimator="discrete")
    parts[name] = (loo, synergy)
    print(f"{name}: I(X;V) = {loo.joint:.3f}, I(X_i;V) = {np.round(loo.single, 3)}, "
          f"I(X_-i;V) = {np.round(loo.complement, 3)}, S = {synergy:+.3f} bits")

xor_synergy = parts["XOR: V = X1 xor X2"][1]
copy_synergy = parts["copy: X = (B, B), V = B"][1]

# %%
# Sampled data and a noisy target
# -------------------------------
# With sampled bits and a target flipped with probability :math:`p`, the synergy of XOR falls
# from 1 bit towards 0 as the noise destroys the joint information, while the copy stays
# redundant. ``GIB_GALLERY_TINY=1`` (the tests) uses fewer samples.
n_samples = 400 if os.environ.get("GIB_GALLERY_TINY") == "1" else 20_000
rng = np.random.default_rng(0)
flips = np.linspace(0, 0.5, 6)
curves = {"XOR": [], "copy": []}
for p in flips:
    X = rng.integers(0, 2, size=(n_samples, 2))
    noise = (rng.random(n_samples) < p).astype(int)
    curves["XOR"].append(gib.synergy(X, (X[:, 0] ^ X[:, 1]) ^ noise, estimator="discrete"))
    copy = np.c_[X[:, 0], X[:, 0]]
    curves["copy"].append(gib.synergy(copy, X[:, 0] ^ noise, estimator="discrete"))

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
labels = ["I(X;V)", "I(X1;V)", "I(X2;V)", "I(X-1;V)", "I(X-2;V)", "S(X->V)"]
for k, (name, (loo, synergy)) in enumerate(parts.items()):
    values = [loo.joint, *loo.single, *loo.complement, synergy]
    left.bar(np.arange(len(values)) + 0.4 * k - 0.2, values, width=0.4, label=name)
left.axhline(0, color="black", linewidth=0.8)
left.set_xticks(range(len(labels)), labels, rotation=30)
left.set_ylabel("bits")
left.set_title("the parts of the synergy, exact")
left.legend(fontsize=8)
for name, values in curves.items():
    right.plot(flips, values, marker="o", label=name)
right.axhline(0, color="black", linewidth=0.8)
right.set_xlabel("probability p that the target is flipped")
right.set_ylabel("S(X->V) in bits")
right.set_title(f"sampled, N = {n_samples}")
right.legend()
fig.tight_layout()
