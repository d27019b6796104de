import pytest
import torch
import torch.nn.functional as F

from gib.models import MLP, adversarial_loss, fgsm


def setup(seed=0, n=16):
    g = torch.Generator().manual_seed(seed)
    model = MLP([20, 8, 3], seed=seed)
    x = torch.rand(n, 20, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    return model, x, y


@pytest.mark.parametrize("train", [True, False])
def test_fgsm_bounded_clipped_and_side_effect_free(train):
    model, x, y = setup()
    model.train(train)
    eps = 0.1
    x_adv = fgsm(model, x, y, eps)
    assert x_adv.shape == x.shape and not x_adv.requires_grad
    assert (x_adv - x).abs().max() <= eps + 1e-7
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert all(p.grad is None for p in model.parameters())
    assert model.training is train
    # away from the clip, every coordinate moves by exactly eps along the gradient sign
    x_in = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x_in), y), x_in)
    inside = (x > eps) & (x < 1 - eps) & (grad != 0)
    torch.testing.assert_close((x_adv - x)[inside], eps * grad.sign()[inside])


def test_fgsm_increases_loss_and_keeps_existing_grads():
    model, x, y = setup(1)
    F.cross_entropy(model(x), y).backward()
    before = [p.grad.clone() for p in model.parameters()]
    x_adv = fgsm(model, x, y, 0.05)
    for p, g in zip(model.parameters(), before):
        assert torch.equal(p.grad, g)
    with torch.no_grad():
        assert F.cross_entropy(model(x_adv), y) > F.cross_entropy(model(x), y)


def test_fgsm_under_no_grad_and_zero_eps():
    model, x, y = setup()
    with torch.no_grad():
        x_adv = fgsm(model, x, y, 0.2)
    assert (x_adv - x).abs().max() > 0
    assert torch.equal(fgsm(model, x, y, 0.0), x)


def test_adversarial_loss_is_mean_of_clean_and_adversarial():
    model, x, y = setup(2)
    loss = adversarial_loss(model, x, y, 0.1)
    assert loss.requires_grad
    clean = F.cross_entropy(model(x), y)
    adv = F.cross_entropy(model(fgsm(model, x, y, 0.1)), y)
    torch.testing.assert_close(loss, (clean + adv) / 2)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_bad_eps():
    model, x, y = setup()
    for eps in (-0.1, float("nan"), "0.1"):
        with pytest.raises(ValueError, match="`eps`"):
            fgsm(model, x, y, eps)
