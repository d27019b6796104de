import pytest
import torch

from gib.models import random_crop, random_crop_flip, random_horizontal_flip


def images(n=6, c=2, h=8, w=8, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed)) + 0.5  # no zeros


def test_shapes_and_reproducibility():
    x = images()
    a = random_crop_flip(x, generator=torch.Generator().manual_seed(7))
    b = random_crop_flip(x, generator=torch.Generator().manual_seed(7))
    c = random_crop_flip(x, generator=torch.Generator().manual_seed(8))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_crop_is_a_shift_of_the_zero_padded_image():
    x = images(n=40)
    p = 4
    out = random_crop(x, padding=p, generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (p, p, p, p))
    offsets = []
    for k in range(len(x)):
        matches = [
            (dy, dx)
            for dy in range(2 * p + 1)
            for dx in range(2 * p + 1)
            if torch.equal(out[k], padded[k, :, dy : dy + 8, dx : dx + 8])
        ]
        assert len(matches) == 1  # images have no zeros, so the window is unique
        offsets.append(matches[0])
    # offsets differ between samples (per-sample draws) and reach both extremes of a coordinate
    assert len(set(offsets)) > 10
    assert torch.equal(random_crop(x, padding=0), x)


def test_flip_flips():
    x = images(n=64)
    out = random_horizontal_flip(x, generator=torch.Generator().manual_seed(0))
    flipped = [torch.equal(out[k], x[k].flip(-1)) for k in range(len(x))]
    kept = [torch.equal(out[k], x[k]) for k in range(len(x))]
    assert all(f != k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54
    assert torch.equal(random_horizontal_flip(x, p=1.0), x.flip(-1))
    assert torch.equal(random_horizontal_flip(x, p=0.0), x)


def test_global_rng_when_no_generator():
    x = images()
    torch.manual_seed(0)
    a = random_crop_flip(x)
    torch.manual_seed(0)
    assert torch.equal(a, random_crop_flip(x))


def test_bad_arguments():
    with pytest.raises(ValueError, match="`x`"):
        random_crop(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="`padding`"):
        random_crop(images(), padding=-1)
    with pytest.raises(ValueError, match="`p`"):
        random_horizontal_flip(images(), p=1.5)
