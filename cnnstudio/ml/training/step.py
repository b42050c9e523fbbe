"""One optimisation step: forward, the task's loss, backward and the optimizer (with the AMP scaler)."""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.tasks import TaskRuntime, as_outputs


def make_optimizer(cfg: Any, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


class TrainStep:
    """``step(x, targets)`` trains on one batch and returns its (detached) mean loss and hits."""

    def __init__(self, model: torch.nn.Module, task: TaskRuntime, cfg: Any, amp: bool):
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise UserError("Every layer of the network is frozen; unfreeze at least one layer to train.")
        self.model, self.task, self.cfg = model, task, cfg
        self.optimizer = make_optimizer(cfg, params)
        self.scaler = torch.amp.GradScaler("cuda") if amp else None
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.float16)) if amp else contextlib.nullcontext

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def __call__(self, xb: torch.Tensor, targets: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        with self.autocast():
            outputs = as_outputs(self.model(xb))
            loss = self.task.loss(outputs, targets, self.cfg)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        return loss.detach(), self.task.hits(outputs, targets)

    # --- resumable state ------------------------------------------------------------------------
    def state(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict() if self.scaler else {}}

    def load_state(self, payload: dict) -> None:
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.scaler is not None and payload.get("scaler"):
            self.scaler.load_state_dict(payload["scaler"])
