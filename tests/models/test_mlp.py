import math

import numpy as np
import pytest
import torch
from torch import nn

from gib.models import (
    ACTIVATIONS,
    FUNCTION_NAMES,
    MLP,
    adversarial_net,
    function_data,
    function_net,
    function_range,
    function_target,
    truncated_normal_,
    twelve_bit_net,
)

# std of a standard normal truncated at +-2
TRUNCATED_STD = 0.8796


def test_layer_sizes_and_names():
    net = twelve_bit_net("tanh", seed=0)
    assert [(m.in_features, m.out_features) for m in net.linear_layers()] == [
        (12, 10), (10, 7), (7, 5), (5, 4), (4, 3), (3, 2)
    ]
    assert list(net.hidden_layers()) == [f"hidden{k}" for k in range(1, 6)]
    assert net(torch.zeros(4, 12)).shape == (4, 2)
    adv = adversarial_net()
    assert [m.out_features for m in adv.linear_layers()] == [1024, 20, 20, 20, 10]
    assert all(isinstance(m, nn.Tanh) for m in adv.hidden_layers().values())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hooks_capture_post_activation_of_every_hidden_layer(activation):
    net = MLP([6, 5, 4, 3, 2], activation=activation, seed=1)
    captured = {}
    handles = [
        module.register_forward_hook(lambda mod, inp, out, name=name: captured.__setitem__(name, out))
        for name, module in net.hidden_layers().items()
    ]
    x = torch.randn(7, 6, generator=torch.Generator().manual_seed(0))
    out = net(x)
    for h in handles:
        h.remove()
    assert list(captured) == ["hidden1", "hidden2", "hidden3"]
    # recompute by hand: T_k = activation(W_k T_{k-1} + b_k)
    act = {
        "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
        "softsign": nn.functional.softsign, "softplus": nn.functional.softplus,
        "identity": lambda t: t, "square": lambda t: t**2,
    }[activation]
    t = x
    for name, linear in zip(captured, net.linear_layers()):
        t = act(linear(t))
        assert captured[name].shape == (7, linear.out_features)
        torch.testing.assert_close(captured[name], t)
    torch.testing.assert_close(out, net.linear_layers()[-1](t))


def test_output_activation_and_no_bias():
    net = MLP([3, 4, 2], activation="relu", bias=False, output_activation="sigmoid", seed=0)
    assert all(m.bias is None for m in net.linear_layers())
    out = net(torch.randn(5, 3))
    assert torch.all((out > 0) & (out < 1))


def test_truncated_normal_bounds_and_std():
    net = MLP([400, 500, 3], seed=0)
    for layer in net.linear_layers():
        fan_in = layer.in_features
        w = layer.weight.detach()
        assert w.abs().max() <= 2 / math.sqrt(fan_in) + 1e-7
        assert torch.all(layer.bias == 0)
    w = net.linear_layers()[0].weight.detach()
    assert abs(w.std().item() * math.sqrt(400) - TRUNCATED_STD) < 0.01
    assert abs(w.mean().item()) < 0.01 / math.sqrt(400) * 10


def test_truncated_normal_explicit_fan_in():
    w = truncated_normal_(torch.empty(300, 300), fan_in=4)
    assert w.abs().max() <= 1.0 + 1e-7 and w.std() > 0.4


def test_seed_is_reproducible_and_leaves_global_rng():
    state = torch.random.get_rng_state()
    a, b = twelve_bit_net(seed=3), twelve_bit_net(seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    c = twelve_bit_net(seed=4)
    assert not torch.equal(a.linear_layers()[0].weight, c.linear_layers()[0].weight)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="`activation`"):
        MLP([2, 2], activation="gelu")
    with pytest.raises(ValueError, match="`init`"):
        MLP([2, 2], init="xavier")
    with pytest.raises(ValueError, match="`widths`"):
        MLP([2])
    with pytest.raises(ValueError, match="`widths`"):
        MLP([2, 0, 1])
    with pytest.raises(ValueError, match="`seed`"):
        MLP([2, 2], seed=-1)


@pytest.mark.parametrize(
    "name, widths, activation",
    [
        ("addition", (2, 4, 1), nn.Identity),
        ("multiplication", (2, 3, 1), None),
        ("f1", (3, 16, 1), None),
        ("f2", (3, 8, 1), None),
        ("f3", (4, 16, 1), None),
    ],
)
def test_function_nets(name, widths, activation):
    net = function_net(name, seed=0)
    assert net.widths == widths
    assert all(m.bias is None for m in net.linear_layers())
    (hidden,) = net.hidden_layers().values()
    if activation is not None:
        assert isinstance(hidden, activation)
    else:
        torch.testing.assert_close(hidden(torch.tensor([-3.0, 2.0])), torch.tensor([9.0, 4.0]))


def test_function_targets_on_known_values():
    x2 = np.array([[3.0, 4.0], [-1.0, 0.5]])
    np.testing.assert_allclose(function_target("addition", x2), [[7.0], [-0.5]])
    np.testing.assert_allclose(function_target("multiplication", x2), [[12.0], [-0.5]])
    x3 = np.array([[1.0, 2.0, 3.0], [-1.0, 1.0, 0.0]])
    np.testing.assert_allclose(function_target("f1", x3), [[11.0], [-1.0]])
    np.testing.assert_allclose(function_target("f2", x3), [[14.0], [2.0]])
    x4 = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    out = function_target("f3", x4)
    assert isinstance(out, torch.Tensor) and out.shape == (1, 1) and out.item() == 35.0
    # f3 = ((sum x)^2 - sum x^2) / 2
    x = np.random.default_rng(0).uniform(-1, 1, (20, 4))
    np.testing.assert_allclose(function_target("f3", x)[:, 0], (x.sum(1) ** 2 - (x**2).sum(1)) / 2)
    with pytest.raises(ValueError, match="`x`"):
        function_target("f1", x2)
    with pytest.raises(ValueError, match="`name`"):
        function_target("f4", x2)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_data_ranges_and_reproducibility(name):
    x, y = function_data(name, 200, "train", seed=0)
    xt, yt = function_data(name, 200, "test", seed=0)
    low, high = function_range(name, "train")
    assert (low, high) == ((-10.0, 10.0) if name == "addition" else (-1.0, 1.0))
    assert function_range(name, "test") == (2 * low, 2 * high)
    assert x.dtype == torch.float32 and y.shape == (200, 1)
    assert x.min() >= low and x.max() <= high
    assert xt.min() >= 2 * low and xt.max() <= 2 * high and xt.abs().max() > high
    torch.testing.assert_close(y, function_target(name, x.double()).float())
    x2, _ = function_data(name, 200, "train", seed=0)
    assert torch.equal(x, x2)
    # test points are an independent draw, not the train points rescaled
    assert not torch.allclose(xt, 2 * x)
    assert not torch.equal(x, function_data(name, 200, "train", seed=1)[0])
    assert x.shape[1] == function_net(name).widths[0]
