"""
Finding the synergistic and redundant triplets
==============================================

:func:`gib.multiplets` measures every subset of variables of the given sizes (its "multiplets")
at once, each subset entropy estimated once. Here it searches a synthetic system whose answer is
known: twelve binary variables among which two XOR triplets are planted (each variable of a
triplet is the exclusive or of the other two: one bit of pure synergy, an O-information of
-1 bit), one redundant triplet (a bit and two noisy copies of it: a positive O-information),
and five independent noise variables. Among the 220 triplets and 495 quadruplets, the most
negative O-information must point at the XOR triplets and the most positive at the copies.
"""

# %%
# A system with a known answer
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

import gib
from gib.plotting import multiplets_landscape

N_SAMPLES = 2000
rng = np.random.default_rng(0)
a, b, c, d, e = rng.integers(0, 2, size=(5, N_SAMPLES))
flip = lambda p: (rng.random(N_SAMPLES) < p).astype(int)  # noqa: E731  (a noisy copy's flips)
X = np.column_stack([
    a, b, a ^ b,                     # 0, 1, 2: an XOR triplet
    c, d, c ^ d,                     # 3, 4, 5: another
    e, e ^ flip(0.05), e ^ flip(0.1),  # 6, 7, 8: a bit and two noisy copies (redundancy)
    rng.integers(0, 2, size=(N_SAMPLES, 3)),  # 9, 10, 11: independent noise
])

# %%
# Every triplet and quadruplet
# ----------------------------
# The variables are bits, so the exact plug-in estimator (``discrete``) applies. The table has
# one row per multiplet: its columns, its order and its O-information in bits.
frame = gib.multiplets(X, "o_information", orders=(3, 4), estimator="discrete")
print(frame.groupby("order")["value"].describe().round(3))

# %%
# The most synergistic and the most redundant
# -------------------------------------------
# The O-information is negative where synergy dominates and positive where redundancy does.
synergistic = gib.multiplets_nbest(frame, n=4, kind="synergy", order=3)
redundant = gib.multiplets_nbest(frame, n=2, kind="redundancy", order=3)
print(synergistic, redundant, sep="\n\n")

# %%
# Synergy about a target
# ----------------------
# With a target y, ``measure="synergy"`` gives the feature-wise synergy of each multiplet about
# it (:func:`gib.synergy`): y = x9 XOR x10 is told by the pair (9, 10) together and by neither
# alone, one bit.
y = X[:, 9] ^ X[:, 10]
about_y = gib.multiplets(X, "synergy", orders=2, estimator="discrete", target=y)
print(gib.multiplets_nbest(about_y, n=3, kind="synergy"))

# %%
# The landscape
# -------------
# The distribution of the O-information per order, as hoi draws it: almost every multiplet sits
# at 0 (independent variables), the planted triplets (and the quadruplets that contain them) at
# -1 bit and above 0.
fig = multiplets_landscape(frame, title="two XOR triplets, one redundant triplet, noise")

# the gallery shows the figures that pyplot holds: draw ours into one
canvas = FigureCanvasAgg(fig)
canvas.draw()
shown = plt.figure(figsize=fig.get_size_inches(), dpi=fig.dpi)
shown.figimage(np.asarray(canvas.buffer_rgba()))
