"""Fully connected networks of the paper's small experiments (SPEC 4).

An :class:`MLP` keeps every hidden layer as a named block whose ``activation`` module emits the
post-activation output T, so a forward hook on ``hidden_layers()[name]`` records that layer's
representation. Factories build the nets of the ``activations``, ``functions`` and
``adversarial`` experiments; ``function_target`` and ``function_data`` give the regression
targets of the ``functions`` experiment.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import one_of, positive_int
from ._seed import check_seed, seeded

ACTIVATIONS = ("tanh", "relu", "sigmoid", "softsign", "softplus", "identity", "square")
INITS = ("truncated_normal", "default")


class Square(nn.Module):
    """Elementwise square, ``x ** 2`` (the activation of the ``functions`` nets)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


_ACTIVATION_CLASSES = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "softsign": nn.Softsign,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
    "square": Square,
}


def make_activation(name: str, argument: str = "activation") -> nn.Module:
    """A fresh activation module by name (one of ``ACTIVATIONS``).

    Each call returns a new module, so hooks on one layer never fire for another.
    """
    one_of(name, argument, ACTIVATIONS)
    return _ACTIVATION_CLASSES[name]()


def truncated_normal_(weight: torch.Tensor, fan_in: int | None = None) -> torch.Tensor:
    """Fill ``weight`` in place as in Shwartz-Ziv & Tishby 2017 and Saxe et al. 2019.

    Values are drawn from N(0, s^2) with ``s = 1 / sqrt(fan_in)`` and redrawn when they fall
    more than 2 s from 0 (TensorFlow's ``truncated_normal``). ``fan_in`` is the width of the
    layer's *input* (``weight.shape[1]`` for ``nn.Linear``), as in their code, which builds a
    ``[n_in, n_out]`` matrix with ``stddev = 1 / sqrt(n_in)``. The realised standard deviation is
    about 0.88 s because of the truncation.
    """
    fan_in = int(weight.shape[1]) if fan_in is None else positive_int(fan_in, "fan_in")
    std = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        return nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)


class MLP(nn.Module):
    """A stack of ``nn.Linear`` layers with an activation after every hidden layer.

    Parameters
    ----------
    widths : sequence of int
        Layer widths from the input to the output, e.g. ``(12, 10, 7, 5, 4, 3, 2)``; at least two.
    activation : str
        Hidden activation, one of ``ACTIVATIONS`` (``square`` is ``x ** 2``).
    init : {"truncated_normal", "default"}
        ``truncated_normal``: weights by :func:`truncated_normal_` (std 1/sqrt(fan_in), cut at
        2 std) and zero biases; ``default``: PyTorch's ``nn.Linear`` initialisation.
    bias : bool
        Whether the linear layers have biases.
    output_activation : str or None
        Activation after the output layer (None: raw outputs, e.g. logits).
    seed : int or None
        Seed for the initial weights (the global torch RNG is left untouched); None draws from
        the global RNG.

    Attributes
    ----------
    layers : nn.Sequential
        Blocks ``hidden1`` ... ``hiddenK`` (each an ``nn.Sequential`` of ``linear`` and
        ``activation``) and ``output`` (``linear`` and, if any, ``activation``).

    Examples
    --------
    >>> net = MLP([3, 4, 2], seed=0)
    >>> list(net.hidden_layers())
    ['hidden1']
    >>> net(torch.zeros(5, 3)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "tanh",
        init: str = "truncated_normal",
        bias: bool = True,
        output_activation: str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__") or len(list(widths)) < 2:
            raise ValueError(
                f"`widths` must be a sequence of at least two layer widths (input, ..., output), "
                f"got {widths!r}."
            )
        self.widths = tuple(positive_int(w, "widths") for w in list(widths))
        self.activation = one_of(activation, "activation", ACTIVATIONS)
        self.init = one_of(init, "init", INITS)
        if output_activation is not None:
            one_of(output_activation, "output_activation", ACTIVATIONS)
        self.output_activation = output_activation
        self.bias = bool(bias)

        with seeded(seed):
            blocks: list[tuple[str, nn.Module]] = []
            pairs = list(zip(self.widths[:-1], self.widths[1:]))
            for k, (n_in, n_out) in enumerate(pairs[:-1], start=1):
                linear = nn.Linear(n_in, n_out, bias=self.bias)
                block = nn.Sequential(OrderedDict(linear=linear, activation=make_activation(activation)))
                blocks.append((f"hidden{k}", block))
            out_parts: list[tuple[str, nn.Module]] = [("linear", nn.Linear(*pairs[-1], bias=self.bias))]
            if output_activation is not None:
                out_parts.append(("activation", make_activation(output_activation, "output_activation")))
            blocks.append(("output", nn.Sequential(OrderedDict(out_parts))))
            self.layers = nn.Sequential(OrderedDict(blocks))
            if self.init == "truncated_normal":
                for module in self.linear_layers():
                    truncated_normal_(module.weight)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def hidden_layers(self) -> dict[str, nn.Module]:
        """The hidden activation modules by name (``hidden1`` ...), input side first.

        A forward hook on one of them receives that layer's post-activation output T.
        """
        return {name: block.activation for name, block in self.layers.named_children() if name != "output"}

    def linear_layers(self) -> list[nn.Linear]:
        """Every ``nn.Linear`` layer, input side first."""
        return [block.linear for block in self.layers.children()]

    def extra_repr(self) -> str:
        return f"widths={self.widths}, activation={self.activation!r}, init={self.init!r}, bias={self.bias}"


# --------------------------------------------------------------------------------------------
# Factories (SPEC 4)


TWELVE_BIT_WIDTHS = (12, 10, 7, 5, 4, 3, 2)
ADVERSARIAL_WIDTHS = (784, 1024, 20, 20, 20, 10)


def twelve_bit_net(activation: str = "tanh", init: str = "truncated_normal", seed: int | None = None) -> MLP:
    """The 12-10-7-5-4-3-2 net of the 12-bit task (SPEC 4 ``activations``), 2 output logits.

    Saxe et al. 2019 end with a softmax; here the output is raw logits for
    ``cross_entropy``. Hidden layers ``hidden1`` ... ``hidden5`` (widths 10, 7, 5, 4, 3).
    """
    return MLP(TWELVE_BIT_WIDTHS, activation=activation, init=init, seed=seed)


def adversarial_net(activation: str = "tanh", init: str = "default", seed: int | None = None) -> MLP:
    """The 784-1024-20-20-20-10 MNIST net of SPEC 4 ``adversarial``, 10 output logits.

    The paper does not give the initialisation; PyTorch's default is ours (configurable).
    The last 20-unit layer, whose MI the experiment records, is ``hidden4``.
    """
    return MLP(ADVERSARIAL_WIDTHS, activation=activation, init=init, seed=seed)


# name -> (widths, activation); one hidden layer, no biases, default init (SPEC 4 ``functions``)
FUNCTION_NETS: dict[str, tuple[tuple[int, ...], str]] = {
    "addition": ((2, 4, 1), "identity"),
    "multiplication": ((2, 3, 1), "square"),
    "f1": ((3, 16, 1), "square"),
    "f2": ((3, 8, 1), "square"),
    "f3": ((4, 16, 1), "square"),
}
FUNCTION_NAMES = tuple(FUNCTION_NETS)


def function_net(name: str, seed: int | None = None) -> MLP:
    """The one-hidden-layer net of a ``functions`` target: no biases, default PyTorch init.

    ``addition`` 2-4-1 identity, ``multiplication`` 2-3-1 square, ``f1`` 3-16-1, ``f2`` 3-8-1,
    ``f3`` 4-16-1 square. The hidden layer is ``hidden1``.
    """
    one_of(name, "name", FUNCTION_NAMES)
    widths, activation = FUNCTION_NETS[name]
    return MLP(widths, activation=activation, init="default", bias=False, seed=seed)


def function_target(name: str, x: Any) -> Any:
    """The target function ``name`` on the rows of ``x``, shape (N, 1), same type as ``x``.

    ``addition`` x1 + x2, ``multiplication`` x1 x2, ``f1`` x1x2 + x1x3 + x2x3,
    ``f2`` x1^2 + x2^2 + x3^2, ``f3`` sum_{i<j} x_i x_j over 4 inputs (SPEC 4, ours).
    ``x`` is an (N, n_inputs) NumPy array or torch tensor.

    Examples
    --------
    >>> function_target("f1", np.array([[1.0, 2.0, 3.0]]))
    array([[11.]])
    """
    one_of(name, "name", FUNCTION_NAMES)
    n_inputs = FUNCTION_NETS[name][0][0]
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise ValueError(
            f"`x` has shape {tuple(x.shape)}; the {name!r} target takes {n_inputs} inputs, "
            f"pass shape (N, {n_inputs})."
        )
    if name == "addition":
        out = x[:, 0] + x[:, 1]
    elif name == "multiplication":
        out = x[:, 0] * x[:, 1]
    elif name == "f2":
        out = (x * x).sum(1)
    else:  # f1, f3: every pairwise product once
        out = sum(x[:, i] * x[:, j] for i, j in itertools.combinations(range(n_inputs), 2))
    return out[:, None]


SPLITS = ("train", "test")


def function_range(name: str, split: str = "train") -> tuple[float, float]:
    """Sampling range of the inputs: train U[-1, 1] (addition U[-10, 10]), test twice as wide."""
    one_of(name, "name", FUNCTION_NAMES)
    one_of(split, "split", SPLITS)
    half = 10.0 if name == "addition" else 1.0
    if split == "test":
        half *= 2.0
    return (-half, half)


def function_data(
    name: str, n: int = 1500, split: str = "train", seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs drawn uniformly from ``function_range(name, split)`` and their targets.

    Returns ``(x, y)``: float32 tensors of shapes (n, n_inputs) and (n, 1). The train and test
    draws of one ``seed`` come from independent streams (not the same points rescaled).
    """
    one_of(name, "name", FUNCTION_NAMES)
    one_of(split, "split", SPLITS)
    n = positive_int(n, "n")
    seed = check_seed(seed, allow_none=False)
    stream = np.random.SeedSequence(seed, spawn_key=(SPLITS.index(split),))
    generator = torch.Generator().manual_seed(int(stream.generate_state(1, np.uint64)[0] >> 1))
    low, high = function_range(name, split)
    n_inputs = FUNCTION_NETS[name][0][0]
    x = low + (high - low) * torch.rand(n, n_inputs, generator=generator, dtype=torch.float64)
    y = function_target(name, x)
    return x.float(), y.float()
