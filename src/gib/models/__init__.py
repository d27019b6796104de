"""Networks of the paper's experiments: MLPs, CIFAR ResNets, text classifiers, and their
training helpers (crop/flip augmentation, FGSM adversarial training)."""

from .adversarial import adversarial_loss, fgsm
from .augment import random_crop, random_crop_flip, random_horizontal_flip
from .mlp import (
    ACTIVATIONS,
    FUNCTION_NAMES,
    MLP,
    Square,
    adversarial_net,
    function_data,
    function_net,
    function_range,
    function_target,
    make_activation,
    truncated_normal_,
    twelve_bit_net,
)
from .resnet import BasicBlock, CifarResNet, count_parameters, resnet
from .text import TokenClassifier, load_text_classifier, tiny_bert_classifier

__all__ = [
    "ACTIVATIONS",
    "FUNCTION_NAMES",
    "MLP",
    "BasicBlock",
    "CifarResNet",
    "Square",
    "TokenClassifier",
    "adversarial_loss",
    "adversarial_net",
    "count_parameters",
    "fgsm",
    "function_data",
    "function_net",
    "function_range",
    "function_target",
    "load_text_classifier",
    "make_activation",
    "random_crop",
    "random_crop_flip",
    "random_horizontal_flip",
    "resnet",
    "tiny_bert_classifier",
    "truncated_normal_",
    "twelve_bit_net",
]
