"""Fast gradient sign attacks and the adversarial training loss of SPEC 4 ``adversarial``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_eps(eps: object) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"`eps` must be a finite number >= 0 (the L-inf attack size), got {eps!r}.")
    return float(eps)


def fgsm(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    loss_fn: LossFn = F.cross_entropy,
    clip: tuple[float, float] | None = (0.0, 1.0),
) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al. 2015): ``x + eps * sign(grad_x loss)``.

    Parameters
    ----------
    model : nn.Module
        Maps ``x`` to the outputs ``loss_fn`` takes (logits for ``cross_entropy``).
    x, y : torch.Tensor
        Clean inputs and their targets.
    eps : float
        Size of the perturbation in the L-infinity norm.
    loss_fn : callable
        ``loss_fn(model(x), y)`` returning a scalar.
    clip : (low, high) or None
        Range the adversarial inputs are clipped to (pixels in [0, 1] by default).

    Returns
    -------
    torch.Tensor
        Adversarial inputs, detached, shape of ``x``.

    Notes
    -----
    Only the gradient with respect to the input is computed (``torch.autograd.grad``), so the
    parameters' ``.grad`` stay as they were, and the model stays in its current mode. A model
    with batch norm in training mode still updates its running statistics on this forward pass.
    """
    eps = _check_eps(eps)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("`x` must be a floating-point torch.Tensor of inputs.")
    x_in = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(model(x_in), y)
        if loss.ndim != 0:
            raise ValueError(
                f"`loss_fn` returned shape {tuple(loss.shape)}; it must reduce to a scalar "
                "(e.g. reduction='mean')."
            )
        (grad,) = torch.autograd.grad(loss, x_in)
    x_adv = x.detach() + eps * grad.sign()
    if clip is not None:
        x_adv = x_adv.clamp(clip[0], clip[1])
    return x_adv


def adversarial_loss(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    loss_fn: LossFn = F.cross_entropy,
    clip: tuple[float, float] | None = (0.0, 1.0),
) -> torch.Tensor:
    """Mean of the clean loss and the loss on FGSM examples of every input (SPEC 4).

    ``0.5 * (loss_fn(model(x), y) + loss_fn(model(fgsm(model, x, y, eps)), y))``; the
    adversarial inputs are constants, the gradient flows through both model calls.
    """
    x_adv = fgsm(model, x, y, eps, loss_fn=loss_fn, clip=clip)
    return 0.5 * (loss_fn(model(x), y) + loss_fn(model(x_adv), y))
