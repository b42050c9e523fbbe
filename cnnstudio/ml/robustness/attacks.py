"""Adversarial examples: FGSM (Goodfellow et al. 2015) and PGD (Madry et al. 2018), untargeted and targeted.

Written here in a few lines rather than taken from torchattacks: its current release pins
requests 2.25 / urllib3 1.26 (it would downgrade them), and its attacks assume a model that takes
[0, 1] pixels, which :class:`cnnstudio.ml.robustness.subject.PixelModel` gives us anyway.

Both work on a model that takes pixels in [0, 1] and keep the adversarial image in [0, 1] and within
``eps`` of the original in the L-infinity norm. Untargeted attacks push the true class's loss up;
targeted ones pull the loss of ``target`` down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ATTACKS = {"fgsm": "FGSM (one signed-gradient step)", "pgd": "PGD (projected gradient descent, 10 steps)"}


def _gradient(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, targeted: bool) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x), labels)
        (grad,) = torch.autograd.grad(-loss if targeted else loss, x)
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
         target: torch.Tensor | None = None) -> torch.Tensor:
    """``x + eps * sign(grad)`` (towards ``target`` when given), clamped to [0, 1]."""
    if eps <= 0:
        return x.detach().clone()
    labels = y if target is None else target
    grad = _gradient(model, x, labels, target is not None)
    return (x.detach() + eps * grad.sign()).clamp(0.0, 1.0)


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = 10,
        alpha: float | None = None, target: torch.Tensor | None = None, random_start: bool = True,
        seed: int = 0) -> torch.Tensor:
    """``steps`` signed-gradient steps of ``alpha`` (default 2.5 eps / steps), each projected back into
    the eps-ball around ``x`` and [0, 1]; starts at a seeded random point of the ball."""
    x0 = x.detach()
    if eps <= 0:
        return x0.clone()
    alpha = 2.5 * eps / steps if alpha is None else alpha
    labels = y if target is None else target
    adv = x0.clone()
    if random_start:
        gen = torch.Generator(device="cpu").manual_seed(seed)
        noise = (torch.rand(x0.shape, generator=gen) * 2 - 1).to(x0.device) * eps
        adv = (x0 + noise).clamp(0.0, 1.0)
    for _ in range(int(steps)):
        grad = _gradient(model, adv, labels, target is not None)
        adv = adv + alpha * grad.sign()
        adv = torch.min(torch.max(adv, x0 - eps), x0 + eps).clamp(0.0, 1.0)
    return adv.detach()


def run_attack(kind: str, model: nn.Module, x, y, eps: float, target=None, steps: int = 10) -> torch.Tensor:
    if kind == "fgsm":
        return fgsm(model, x, y, eps, target)
    if kind == "pgd":
        return pgd(model, x, y, eps, steps=steps, target=target)
    raise ValueError(f"unknown attack {kind!r}")


@dataclass(frozen=True)
class AttackExample:
    """The lecture's panda: the image, the (amplified) perturbation and the predictions before and after."""

    image: np.ndarray  # (C, H, W) in [0, 1]
    adversarial: np.ndarray
    perturbation: np.ndarray  # adversarial - image, in [-eps, eps]
    label: int
    before: int
    before_confidence: float
    after: int
    after_confidence: float
    target: int | None
    eps: float
    kind: str

    def amplified(self) -> np.ndarray:
        """The perturbation stretched to [0, 1] (0.5 = unchanged) so that it can be seen."""
        top = float(np.abs(self.perturbation).max()) or 1.0
        return (0.5 + 0.5 * self.perturbation / top).clip(0.0, 1.0)


def attack_example(model: nn.Module, image: torch.Tensor, label: int, kind: str = "fgsm", eps: float = 0.1,
                   target: int | None = None, steps: int = 10) -> AttackExample:
    """Attack one (C, H, W) pixel image and report what the model says before and after."""
    device = next(model.parameters()).device
    x = image.detach().unsqueeze(0).to(device)
    y = torch.tensor([int(label)], device=device)
    t = None if target is None else torch.tensor([int(target)], device=device)
    adv = run_attack(kind, model, x, y, eps, t, steps)
    with torch.no_grad():
        p0 = torch.softmax(model(x), 1)[0].cpu()
        p1 = torch.softmax(model(adv), 1)[0].cpu()
    img, adv_np = x[0].cpu().numpy(), adv[0].cpu().numpy()
    return AttackExample(img, adv_np, adv_np - img, int(label), int(p0.argmax()), float(p0.max()),
                         int(p1.argmax()), float(p1.max()), target, float(eps), kind)


def accuracy_under_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, kind: str = "fgsm",
                          target: torch.Tensor | None = None, steps: int = 10, batch: int = 256) -> dict:
    """Accuracy on the attacked images and, for a targeted attack, how often the target class is hit."""
    model.eval()
    device = next(model.parameters()).device
    correct = hits = 0
    for start in range(0, int(x.shape[0]), batch):
        xb, yb = x[start:start + batch].to(device), y[start:start + batch].to(device)
        tb = None if target is None else target[start:start + batch].to(device)
        adv = run_attack(kind, model, xb, yb, eps, tb, steps)
        with torch.no_grad():
            pred = model(adv).argmax(1)
        correct += int((pred == yb).sum())
        if tb is not None:
            hits += int((pred == tb).sum())
    n = max(1, int(x.shape[0]))
    return {"eps": float(eps), "accuracy": correct / n, "target_hit": hits / n if target is not None else None}


def epsilon_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilons, kind: str = "fgsm",
                  targeted: bool = False, steps: int = 10, control=None):
    """Generator: one :func:`accuracy_under_attack` row per epsilon (targeted: the next class as target)."""
    num_classes = int(model(x[:1].to(next(model.parameters()).device)).shape[1])
    target = (y + 1) % num_classes if targeted else None
    for eps in epsilons:
        if control is not None and control.cancelled:
            return
        yield accuracy_under_attack(model, x, y, float(eps), kind, target, steps)
