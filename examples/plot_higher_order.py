"""
Higher-order measures: O-information and its gradients
=======================================================

How the :math:`n` features of :math:`X` depend on one another beyond pairs (Rosas et al. 2019),
from the entropies of their subsets (:ref:`the definitions <higher-order>`): the total
correlation TC (all dependence), the dual total correlation DTC (what two or more features
share), the O-information :math:`\\Omega = \\mathrm{TC} - \\mathrm{DTC}` (positive when
redundancy dominates, negative when synergy does) and the S-information
:math:`\\Sigma = \\mathrm{TC} + \\mathrm{DTC}`.
"""

# %%
# Closed forms: an XOR triplet and copies of a bit
# ------------------------------------------------
# An XOR triplet (:math:`X_3 = X_1 \oplus X_2`) has :math:`\Omega = -1` bit; :math:`k` copies of a
# fair bit have :math:`\mathrm{TC} = k - 1`, :math:`\mathrm{DTC} = 1` and :math:`\Omega = k - 2`.
import itertools
import os

import matplotlib.pyplot as plt
import numpy as np

import gib

bits = np.array(list(itertools.product([0, 1], repeat=2)))
xor = np.c_[bits, bits[:, 0] ^ bits[:, 1]]
copies = np.repeat(bits[:, :1], 4, axis=1)
measures = {"TC": gib.total_correlation, "DTC": gib.dual_total_correlation,
            "O": gib.o_information, "S": gib.s_information}
table = {name: {m: f(X, estimator="discrete") for m, f in measures.items()}
         for name, X in {"XOR triplet": xor, "4 copies of a bit": copies}.items()}
for name, values in table.items():
    print(name + ": " + ", ".join(f"{m} = {v:+.3f}" for m, v in values.items()) + " bits")

xor_o = table["XOR triplet"]["O"]
copies_o = table["4 copies of a bit"]["O"]

# %%
# Which features carry the synergy: the per-feature gradients
# -----------------------------------------------------------
# ``per_feature=True`` gives :math:`\Omega(X) - \Omega(X_{-i})` for every feature (Scagliarini
# et al. 2023). Here six Gaussian features: three noisy copies of one source (redundant), two
# independent sources and their sum (synergistic), estimated with ``gcmi``.
# ``GIB_GALLERY_TINY=1`` (the tests) uses fewer samples.
n_samples = 500 if os.environ.get("GIB_GALLERY_TINY") == "1" else 5000
rng = np.random.default_rng(0)
source, a, b = rng.standard_normal((3, n_samples))
X = np.c_[source[:, None] + 0.3 * rng.standard_normal((n_samples, 3)), a, b, a + b + 0.3 * rng.standard_normal(n_samples)]
gradients = gib.o_information(X, estimator="gcmi", per_feature=True)
whole = gib.o_information(X, estimator="gcmi")
print(f"O(X) = {whole:+.3f} bits; O(X) - O(X_-i) = {np.round(gradients, 3)}")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
for k, (name, values) in enumerate(table.items()):
    left.bar(np.arange(4) + 0.4 * k - 0.2, list(values.values()), width=0.4, label=name)
left.axhline(0, color="black", linewidth=0.8)
left.set_xticks(range(4), list(measures))
left.set_ylabel("bits")
left.set_title("closed forms (discrete)")
left.legend(fontsize=8)
colours = ["tab:blue"] * 3 + ["tab:red"] * 3
right.bar(range(6), gradients, color=colours)
right.axhline(0, color="black", linewidth=0.8)
right.set_xticks(range(6), ["copy 1", "copy 2", "copy 3", "a", "b", "a + b"], rotation=30)
right.set_ylabel("O(X) - O(X_-i) in bits")
right.set_title("blue: redundant copies, red: a synergistic sum (gcmi)")
fig.tight_layout()
