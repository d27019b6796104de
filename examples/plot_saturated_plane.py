"""
A saturated IB plane and its remedy
===================================

A plug-in estimate of :math:`I(X;T)` is an entropy of the :math:`N` probe rows. Once every
probe row of a layer is distinct, with fine bins and a wide layer, it is exactly
:math:`\\min(\\log_2 N, H(X))` and :math:`I(T;Y) = H(Y)`, whatever the network does: the IB plane
is *saturated* (:ref:`saturated-ib-plane`). :func:`gib.ib_point` flags such a point and warns.
Here a 32-unit tanh layer on 512 distinct inputs sits at the ceiling under 30 bins a unit, and
so does the Kolchinsky-Tracey bound of the noisy layer :math:`T + \\mathcal N(0, s^2 I)`
(``kde_upper``) when the noise is small against the gaps between rows. The remedy
(:ref:`saturation-remedies`), and the Monitor's IB default (:mod:`gib.ib_default`): choose
:math:`s^2` against the layer's own scale, 0.1 of the median squared distance between its rows
at each record (and report it: the plane is that of the noisy channel).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import gib

tiny = os.environ.get("GIB_GALLERY_TINY") == "1"  # the tests: fewer samples and epochs
n_samples, epochs, every = (128, 20, 10) if tiny else (512, 300, 30)

rng = np.random.default_rng(0)
X = rng.standard_normal((n_samples, 8)).astype(np.float32)
y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(np.int64)
torch.manual_seed(0)
hidden = nn.Sequential(nn.Linear(8, 32), nn.Tanh())
model = nn.Sequential(hidden, nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
inputs, targets = torch.as_tensor(X), torch.as_tensor(y)

estimators = {
    "binning, 30 bins": ("binning", {"n_bins": 30}),
    "kde_upper, s2 = 0.001": ("kde_upper", {"noise_variance": 1e-3}),
    "the IB default: s2 from the layer": ("kde_upper", None),  # options chosen at each record
}
points = {name: [] for name in estimators}
steps = []
for epoch in range(epochs + 1):
    if epoch > 0:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
    if epoch % every == 0:
        with torch.no_grad():
            T = hidden(inputs).numpy()
        steps.append(epoch)
        for name, (estimator, options) in estimators.items():
            if options is None:  # the default rule: s2 = 0.1 x the median squared pairwise distance
                options = gib.ib_default.layer_options(T)
            # warn=False: the flag is read below; with warn=True a saturated point warns
            points[name].append(gib.ib_point(T, X, y, estimator=estimator, warn=False, **options))

saturated = {name: float(np.mean([p.saturated for p in pts])) for name, pts in points.items()}
for name, pts in points.items():
    print(f"{name}: I(X;T) from {pts[0].complexity:.3f} to {pts[-1].complexity:.3f} bits "
          f"(ceiling {pts[0].complexity_ceiling:.3f}); saturated at {saturated[name]:.0%} of the steps")

# %%
# The planes
# ----------
# Under 30 bins, and with too little noise, every point is at the ceiling (dashed): the
# trajectory is a single point and says nothing. With the noise set from the layer's scale the
# bound traces a path.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
for ax, (name, pts) in zip(axes, points.items()):
    complexity = [p.complexity for p in pts]
    prediction = [p.prediction for p in pts]
    ax.scatter(complexity, prediction, c=steps, cmap="Blues_r", edgecolors="black", linewidths=0.3)
    ax.plot(complexity, prediction, color="grey", linewidth=0.5)
    ax.axvline(pts[0].complexity_ceiling, linestyle="--", color="black", linewidth=0.8)
    ax.set_title(f"{name}\nsaturated at {saturated[name]:.0%} of the steps", fontsize=9)
    ax.set_xlabel("I(X;T) in bits")
axes[0].set_ylabel("I(T;Y) in bits")
fig.tight_layout()
