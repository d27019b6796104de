import pytest
import torch

from gib.models import CifarResNet, count_parameters, resnet


def test_resnet20_output_shape_and_parameter_count():
    net = resnet(20, seed=0).eval()
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    # option A (parameter-free shortcuts): He et al.'s 0.27M
    assert count_parameters(net) == 269_722


def test_resnet56_and_option_b_counts():
    assert count_parameters(resnet(56)) == 853_018  # 0.85M
    # option B: two 1x1 conv + BN shortcuts (16->32, 32->64)
    assert count_parameters(resnet(20, shortcut="B")) == 269_722 + 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64


def test_in_channels_classes_and_block_count():
    net = resnet(8, num_classes=4, in_channels=1, seed=0)
    assert net(torch.zeros(3, 1, 32, 32)).shape == (3, 4)
    assert [len(stage) for stage in net.stages()] == [1, 1, 1]
    assert [len(stage) for stage in resnet(32).stages()] == [5, 5, 5]


def test_option_a_shortcut_halves_and_zero_pads():
    net = resnet(20, shortcut="A")
    block = net.layer2[0]
    x = torch.randn(1, 16, 8, 8)
    out = block.shortcut(x)
    assert out.shape == (1, 32, 4, 4)
    torch.testing.assert_close(out[:, 8:24], x[:, :, ::2, ::2])
    assert out[:, :8].abs().sum() == 0 and out[:, 24:].abs().sum() == 0


def test_seeded_and_hooks_on_logits_and_features():
    a, b = resnet(8, seed=1), resnet(8, seed=1)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    seen = {}
    a.pool.register_forward_hook(lambda m, i, o: seen.__setitem__("features", o))
    a(torch.randn(2, 3, 32, 32))
    assert seen["features"].shape == (2, 64)


@pytest.mark.parametrize("depth", [21, 2, 0, -4, 20.0, "20", True])
def test_bad_depth_names_depth_and_rule(depth):
    with pytest.raises(ValueError, match=r"`depth` must be 6k \+ 2"):
        resnet(depth)


def test_bad_shortcut():
    with pytest.raises(ValueError, match="`shortcut`"):
        CifarResNet(20, shortcut="C")
