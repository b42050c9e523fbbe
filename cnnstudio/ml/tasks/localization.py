"""Localization: cross-entropy plus a weighted box loss (smooth L1 or GIoU); accuracy and box IoU;
the predicted box drawn on the image."""

from __future__ import annotations

import numpy as np

from cnnstudio.ml.tasks.base import Decoded, register_runtime
from cnnstudio.ml.tasks.classification import Classification


def _smooth_l1(pred, target, reduction: str):
    import torch.nn.functional as F

    if reduction == "sum":
        return F.smooth_l1_loss(pred, target, reduction="sum", beta=0.05) / 4.0
    return F.smooth_l1_loss(pred, target, reduction="mean", beta=0.05)


def box_loss(name: str):
    """The box loss ``fn(pred, target, reduction)`` of the training option ``box_loss``."""
    from cnnstudio.ml import metrics as M

    return M.giou_loss if name == "giou" else _smooth_l1


class Localization(Classification):
    name = "localization"

    def targets(self, bundle, split: str) -> tuple:
        if split == "train":
            return bundle.train_y, bundle.train_boxes
        return bundle.val_y, bundle.val_boxes

    def augment(self, augment, x, targets: tuple, generator):
        x, boxes = augment(x, targets[1], generator)
        return x, (targets[0], boxes)

    def loss(self, outputs: tuple, targets: tuple, config, reduction: str = "mean"):
        ce = super().loss(outputs, targets, config, reduction)
        return ce + config.box_weight * box_loss(config.box_loss)(outputs[1].float(), targets[1], reduction)

    def evaluate(self, outputs: tuple, targets: tuple, num_classes: int) -> dict:
        from cnnstudio.ml import metrics as M

        result = super().evaluate(outputs, targets, num_classes)
        iou = float(M.box_iou(outputs[1], targets[1]).mean())
        result["boxes"] = outputs[1].cpu().numpy()
        result["iou"] = iou
        result["row"] = {"val_iou": round(iou, 6)}
        return result

    def decode(self, values: dict[str, np.ndarray]) -> Decoded:
        decoded = super().decode(values)
        boxes = values.get("bbox")
        if boxes is None:
            return decoded
        return Decoded(decoded.probabilities, np.asarray(boxes, np.float32).reshape(len(boxes), -1)[:, :4])

    def overlay(self, image: np.ndarray, decoded: Decoded, index: int = 0, label: str = "",
                color: tuple[int, int, int] = (230, 60, 60), names=()) -> np.ndarray:
        box = decoded.box(index)
        return image if box is None else draw_box_rgb(image, box, label, color)


def draw_box_rgb(image: np.ndarray, box, label: str = "", color: tuple[int, int, int] = (255, 64, 64),
                 thickness: int = 2) -> np.ndarray:
    """A copy of the RGB uint8 ``image`` with the normalised (x, y, w, h) ``box`` and its label drawn."""
    import cv2

    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    h, w = out.shape[:2]
    x0, y0 = int(round(box[0] * w)), int(round(box[1] * h))
    x1, y1 = int(round((box[0] + box[2]) * w)), int(round((box[1] + box[3]) * h))
    cv2.rectangle(out, (x0, y0), (x1, y1), color, thickness)
    if label:
        scale = max(0.35, min(0.8, w / 500))
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y0 - 3 if y0 - th - 4 >= 0 else min(h - 1, y1 + th + 3)
        cv2.rectangle(out, (x0, ty - th - 3), (x0 + tw + 4, ty + 2), color, -1)
        cv2.putText(out, label, (x0 + 2, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


LOCALIZATION = register_runtime(Localization())
