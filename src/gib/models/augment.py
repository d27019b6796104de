"""Crop-and-flip augmentation of CIFAR training (He et al. 2016), on batches of tensors.

Every sample gets its own offsets and flip, drawn from a ``torch.Generator`` so that a seeded
generator gives the same batch again; the work is vectorised over the batch.
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F


def _check_images(x: object, name: str = "x") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor of images (N, C, H, W), got {type(x).__name__}.")
    if x.ndim != 4:
        raise ValueError(
            f"`{name}` has shape {tuple(x.shape)}; pass a batch of images (N, C, H, W), "
            f"e.g. `{name}.unsqueeze(0)` for one image."
        )
    return x


def _draw_device(x: torch.Tensor, generator: torch.Generator | None) -> torch.device:
    # random numbers are drawn where the generator lives, then moved to the images
    return generator.device if generator is not None else x.device


def random_crop(x: torch.Tensor, padding: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero-pad every image by ``padding`` pixels and crop it back to H x W at a random offset.

    Parameters
    ----------
    x : torch.Tensor
        Images, shape (N, C, H, W).
    padding : int
        Zero padding on each side; offsets are uniform over the ``(2 padding + 1)^2`` positions.
    generator : torch.Generator or None
        Source of the offsets (None: the global RNG).

    Returns
    -------
    torch.Tensor
        Cropped images, same shape, dtype and device as ``x``.
    """
    x = _check_images(x)
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
        raise ValueError(f"`padding` must be a non-negative integer, got {padding!r}.")
    if padding == 0 or x.shape[0] == 0:
        return x.clone()
    n, _, h, w = x.shape
    device = _draw_device(x, generator)
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator, device=device).to(x.device)
    padded = F.pad(x, (padding, padding, padding, padding)).permute(0, 2, 3, 1)  # N, H+2p, W+2p, C
    rows = offsets[0][:, None] + torch.arange(h, device=x.device)  # N, H
    cols = offsets[1][:, None] + torch.arange(w, device=x.device)  # N, W
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()


def random_horizontal_flip(
    x: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``.

    Returns a new tensor of the shape of ``x`` (N, C, H, W).
    """
    x = _check_images(x)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"`p` must be a probability in [0, 1], got {p!r}.")
    device = _draw_device(x, generator)
    flip = (torch.rand(x.shape[0], generator=generator, device=device) < p).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_crop_flip(
    x: torch.Tensor, padding: int = 4, flip_p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    """CIFAR augmentation: :func:`random_crop` with ``padding`` then :func:`random_horizontal_flip`.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> random_crop_flip(torch.rand(8, 3, 32, 32), generator=g).shape
    torch.Size([8, 3, 32, 32])
    """
    return random_horizontal_flip(random_crop(x, padding, generator), flip_p, generator)
