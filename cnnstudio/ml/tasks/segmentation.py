"""Segmentation: per-pixel cross-entropy plus soft Dice, pixel accuracy and IoU (per class and mean), argmax masks and a
colour-coded overlay.

The network's output ``masks`` is (N, K, h, w) class scores; when h, w are smaller than the image the
scores are enlarged bilinearly first (in the loss and in :func:`decode_masks`, the one decoding predict,
Live and Inspect use). Mean IoU averages the classes present in the truth or the prediction.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.ml.tasks.base import Decoded, TaskRuntime, register_runtime

#: colours (RGB) of the classes, background first (drawn transparent)
PALETTE = np.array([(0, 0, 0), (230, 60, 60), (60, 160, 230), (80, 200, 80), (240, 180, 40), (190, 90, 220),
                    (40, 200, 200), (250, 120, 170), (150, 150, 150)], dtype=np.uint8)


def _to_size(logits, size):
    import torch.nn.functional as F

    if tuple(logits.shape[2:]) == tuple(size):
        return logits
    return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)


def iou_from_confusion(confusion) -> tuple[list[float], float]:
    """Per-class IoU = TP / (TP + FP + FN) from a (K, K) confusion (row true, column predicted), and their mean
    over the classes that occur in the truth or the prediction (NaN for the others)."""
    c = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(c)
    union = c.sum(0) + c.sum(1) - tp
    iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    present = union > 0
    return [float(v) for v in iou], float(iou[present].mean()) if present.any() else 0.0


def decode_masks(raw: np.ndarray, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores (N, K, h, w) -> (per-class share of the pixels (N, K), class per pixel uint8 (N, H, W));
    ``size`` (H, W) enlarges the map first (nearest on the classes)."""
    raw = np.asarray(raw, dtype=np.float32)
    masks = raw.argmax(axis=1).astype(np.uint8)
    if size is not None and tuple(masks.shape[1:]) != tuple(size):
        import cv2

        masks = np.stack([cv2.resize(m, (size[1], size[0]), interpolation=cv2.INTER_NEAREST) for m in masks])
    k = raw.shape[1]
    shares = np.stack([(masks == c).mean(axis=(1, 2)) for c in range(k)], axis=1).astype(np.float32)
    return shares, masks


def colour_masks(image: np.ndarray, mask: np.ndarray, alpha: float = 0.55, bgr: bool = False) -> np.ndarray:
    """``image`` (RGB uint8, or BGR with ``bgr``) with ``mask``'s classes blended in their colours (the
    background left as it is). Cheap at video sizes: a lookup table and one weighted sum in OpenCV."""
    import cv2

    out = np.ascontiguousarray(image, dtype=np.uint8)
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2RGB)
    h, w = out.shape[:2]
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if m.shape != (h, w):
        m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)
    table = PALETTE[np.arange(256) % len(PALETTE)]
    lut = (table[:, ::-1] if bgr else table).reshape(256, 1, 3)
    colours = cv2.LUT(cv2.merge([m, m, m]), lut)
    blended = cv2.addWeighted(out, 1.0 - alpha, colours, alpha, 0.0)
    result = out.copy()
    cv2.copyTo(blended, m, result)  # only where the mask is not the background
    return result


class Segmentation(TaskRuntime):
    name = "segmentation"

    def targets(self, bundle, split: str) -> tuple:
        return (bundle.train_masks if split == "train" else bundle.val_masks,)

    def augment(self, augment, x, targets: tuple, generator):
        """Geometric augmentations move the mask with the image (one-hot warped, then argmax)."""
        import torch.nn.functional as F

        from cnnstudio.ml.augment import warp

        masks = targets[0]
        if augment.settings.geometric and x.shape[0]:
            forward = augment.forward_matrices(x, generator)
            x = warp(x, forward)
            k = int(masks.max()) + 1
            onehot = F.one_hot(masks, k).permute(0, 3, 1, 2).float()
            masks = warp(onehot, forward).argmax(1)
        if augment.settings.photometric:
            x = augment._colour(x, generator)
        return x, (masks,)

    def loss(self, outputs: tuple, targets: tuple, config, reduction: str = "mean"):
        """Cross-entropy plus the soft Dice loss averaged over the classes (the background, most of the
        pixels, would otherwise win for many epochs)."""
        import torch.nn.functional as F

        masks = targets[0]
        logits = _to_size(outputs[0].float(), masks.shape[1:])
        k = logits.shape[1]
        probs = logits.softmax(1)
        onehot = F.one_hot(masks, k).permute(0, 3, 1, 2).float()
        inter = (probs * onehot).sum(dim=(0, 2, 3))
        dice = (2 * inter + 1.0) / (probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3)) + 1.0)
        loss = F.cross_entropy(logits, masks) + (1.0 - dice.mean())
        return loss * masks.shape[0] if reduction == "sum" else loss

    def hits(self, outputs: tuple, targets: tuple):
        """Images with at least 95 % of their pixels right."""
        masks = targets[0]
        pred = _to_size(outputs[0].detach(), masks.shape[1:]).argmax(1)
        return ((pred == masks).float().mean(dim=(1, 2)) >= 0.95).sum()

    def check_outputs(self, outputs: tuple, num_classes: int) -> str | None:
        out = outputs[0]
        if out.ndim != 4 or out.shape[1] != num_classes:
            got = "x".join(str(s) for s in out.shape[1:])
            return (f"The segmentation network gives a {got} output, but the data has {num_classes} classes; "
                    f"end it with a 1x1 conv2d of {num_classes} out_channels.")
        return None

    def evaluate(self, outputs: tuple, targets: tuple, num_classes: int) -> dict:
        from cnnstudio.ml import metrics as M

        masks = targets[0]
        pred = _to_size(outputs[0].float(), masks.shape[1:]).argmax(1)
        confusion = M.confusion_matrix(masks, pred, num_classes).cpu()
        per_class, miou = iou_from_confusion(confusion.numpy())
        counts = (pred[:, None] == _classes(num_classes, pred.device)).flatten(2).sum(2)  # (N, K) pixels per class
        counts[:, 0] = -1  # the main class of an image is its commonest shape class, not the background
        main = counts.argmax(1)
        main = main.where(counts.max(1).values > 0, 0)
        class_iou = [None if np.isnan(v) else round(v, 6) for v in per_class]
        return {
            "accuracy": M.accuracy_from_confusion(confusion),  # pixel accuracy
            "per_class": M.per_class_accuracy(confusion),  # pixel recall per class
            "confusion": confusion.numpy(),
            "predictions": main.cpu().numpy(),
            "boxes": None,
            "miou": miou,
            "class_iou": class_iou,
            "row": {"val_miou": round(miou, 6), "val_class_iou": class_iou},
        }

    def decode(self, values: dict[str, np.ndarray]) -> Decoded:
        raw = values["masks"] if "masks" in values else next(iter(values.values()))
        shares, masks = decode_masks(raw)
        return Decoded(shares, None, None, masks)

    def overlay(self, image: np.ndarray, decoded: Decoded, index: int = 0, label: str = "",
                color: tuple[int, int, int] = (230, 60, 60), names=()) -> np.ndarray:
        """The predicted classes blended in over the image, one colour per class."""
        return image if decoded.masks is None else colour_masks(image, decoded.masks[index])


def _classes(k: int, device):
    import torch

    return torch.arange(k, device=device).view(1, k, 1, 1)


SEGMENTATION = register_runtime(Segmentation())
