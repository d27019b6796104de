"""CIFAR ResNets of He et al. 2016 (Sec. 4.2), for SPEC 4 ``resnet`` and ``teacher-student``.

Depth ``6k + 2``: a 3x3 stem convolution, three stages of ``k`` BasicBlocks with 16, 32 and 64
filters (stride 2 at the first block of stages 2 and 3), global average pooling and a linear
head. Shortcuts default to the paper's CIFAR choice, option A: an identity whose spatial size is
halved by taking every other pixel and whose new channels are zeros, so the shortcuts add no
parameters (10 classes: ResNet-20 has 269,722 parameters, ResNet-56 853,018, ResNet-110
1,727,962, the paper's 0.27M, 0.85M and 1.7M). Option B (a strided 1x1 convolution and batch
norm where the shape changes) is offered; it adds 2,752 parameters at any depth.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import one_of, positive_int
from ._seed import seeded

SHORTCUTS = ("A", "B")
STAGE_WIDTHS = (16, 32, 64)


class PadShortcut(nn.Module):
    """Option-A shortcut: subsample by ``stride`` and zero-pad the channels to ``out_channels``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.extra = out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        before = self.extra // 2
        return F.pad(x, (0, 0, 0, 0, before, self.extra - before))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a shortcut, ReLU after the sum (He et al. 2016)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: str = "A") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        elif shortcut == "A":
            self.shortcut = PadShortcut(in_channels, out_channels, stride)
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def check_depth(depth: object) -> int:
    """Return the number of blocks per stage ``k`` for a depth ``6k + 2``; ValueError otherwise."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"`depth` must be 6k + 2 for an integer k >= 1 (8, 14, 20, 32, 44, 56, 110, ...), got {depth!r}."
        )
    return (int(depth) - 2) // 6


class CifarResNet(nn.Module):
    """ResNet for 32x32 images (He et al. 2016, Sec. 4.2).

    Parameters
    ----------
    depth : int
        ``6k + 2`` (20, 32, 44, 56, 110, ...).
    num_classes : int
        Width of the linear head (the logits).
    in_channels : int
        Channels of the input images.
    shortcut : {"A", "B"}
        ``A``: zero-padded identity (the paper's CIFAR choice, parameter-free); ``B``: 1x1
        convolution where the shape changes.
    seed : int or None
        Seed for the initial weights (the global torch RNG is left untouched).

    Notes
    -----
    Convolutions and the head get Kaiming-normal weights (fan-in, ReLU gain), batch norms
    weight 1 and bias 0, the head's bias PyTorch's default. The 64 pooled features are the
    output of ``pool`` and the logits that of ``fc``, for forward hooks.
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        in_channels: int = 3,
        shortcut: str = "A",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        blocks_per_stage = check_depth(depth)
        self.depth = int(depth)
        self.num_classes = positive_int(num_classes, "num_classes")
        in_channels = positive_int(in_channels, "in_channels")
        self.shortcut = one_of(shortcut, "shortcut", SHORTCUTS)
        with seeded(seed):
            self.conv1 = nn.Conv2d(in_channels, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
            stages = []
            width = STAGE_WIDTHS[0]
            for s, out_width in enumerate(STAGE_WIDTHS):
                blocks = []
                for b in range(blocks_per_stage):
                    stride = 2 if (s > 0 and b == 0) else 1
                    blocks.append(BasicBlock(width, out_width, stride, self.shortcut))
                    width = out_width
                stages.append(nn.Sequential(*blocks))
            self.layer1, self.layer2, self.layer3 = stages
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.fc = nn.Linear(width, self.num_classes)
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
                elif isinstance(module, nn.BatchNorm2d):
                    nn.init.ones_(module.weight)
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.fc(self.pool(out))

    def stages(self) -> Iterator[nn.Sequential]:
        """The three stages of blocks, input side first."""
        return iter((self.layer1, self.layer2, self.layer3))

    def extra_repr(self) -> str:
        return f"depth={self.depth}, num_classes={self.num_classes}, shortcut={self.shortcut!r}"


def resnet(
    depth: int, num_classes: int = 10, in_channels: int = 3, shortcut: str = "A", seed: int | None = None
) -> CifarResNet:
    """A CIFAR ResNet of depth ``6k + 2`` (see :class:`CifarResNet`).

    Examples
    --------
    >>> count_parameters(resnet(20))
    269722
    """
    return CifarResNet(depth, num_classes=num_classes, in_channels=in_channels, shortcut=shortcut, seed=seed)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
