"""Detection: CenterNet-style targets and loss on the detect_head's grid, decoding with NMS, mAP.

The head's raw output ``detections`` is (N, K + 4, GH, GW): per cell K class logits, then tx, ty, tw, th.
Training: each object is assigned to the cell holding its centre; the class map learns a Gaussian bump
around that cell with the penalty-reduced focal loss of CenterNet (Zhou et al. 2019), the box values at
that cell learn the centre offset (L1) and the box (GIoU). Decoding (:func:`decode_detections`, the one
implementation that predict, Live, Inspect and the validation use): sigmoid, 3x3 local maxima above
the score threshold, boxes from the cell, then per-class non-maximum suppression
(``torchvision.ops.batched_nms``). Validation reports mAP@0.5 and mAP@0.5:0.95 (torchmetrics'
MeanAveragePrecision, COCO's definition) and, as its accuracy, the share of objects whose centre cell
gives the right class.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.tasks.detection import MAX_OBJECTS, NMS_IOU, SCORE_THRESHOLD
from cnnstudio.ml.tasks.base import Decoded, TaskRuntime, register_runtime

BOX_VALUES = 4
TRUTH = (40, 180, 80)  # RGB green: the true objects, as Inspect draws a localizer's true box
#: colours (RGB) of the classes' boxes, cycled
PALETTE = ((230, 60, 60), (60, 160, 230), (80, 200, 80), (240, 180, 40), (190, 90, 220), (40, 200, 200),
           (250, 120, 170), (150, 150, 150))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def objects_of(bundle, split: str):
    """The (N, M, 5) objects of a split: the bundle's, or its one box per image as a single object."""
    import torch

    objects = bundle.train_objects if split == "train" else bundle.val_objects
    if objects is not None:
        return objects
    y, boxes = (bundle.train_y, bundle.train_boxes) if split == "train" else (bundle.val_y, bundle.val_boxes)
    return torch.cat([y[:, None].float(), boxes.float()], dim=1)[:, None, :].contiguous()


def encode_targets(objects, grid_h: int, grid_w: int, num_classes: int) -> dict:
    """The training targets of (N, M, 5) ``objects`` on a GH x GW grid: ``heat`` (N, K, GH, GW) Gaussian
    bumps peaking at 1 on each object's centre cell, ``row``/``col`` (N, M) those cells, ``offset``
    (N, M, 2) the centre within the cell, ``valid`` (N, M) real objects (not padding)."""
    import torch
    import torch.nn.functional as F

    centres = object_cells(objects, grid_h, grid_w)
    boxes, valid, cls = centres["boxes"], centres["valid"], centres["cls"]
    row, col = centres["row"].float(), centres["col"].float()
    sigma = ((boxes[..., 2] * grid_w + boxes[..., 3] * grid_h) / 6.0).clamp(min=0.35)
    gx = torch.arange(grid_w, device=objects.device, dtype=torch.float32)
    gy = torch.arange(grid_h, device=objects.device, dtype=torch.float32)
    d2 = (gx.view(1, 1, 1, -1) - col[..., None, None]) ** 2 + (gy.view(1, 1, -1, 1) - row[..., None, None]) ** 2
    bumps = torch.exp(-d2 / (2 * sigma[..., None, None] ** 2)) * valid[..., None, None]
    onehot = F.one_hot(cls.clamp(min=0), num_classes).float() * valid[..., None]
    heat = (bumps[:, :, None] * onehot[..., None, None]).amax(dim=1) if objects.shape[1] else \
        torch.zeros(objects.shape[0], num_classes, grid_h, grid_w, device=objects.device)
    return {**centres, "heat": heat}


def object_cells(objects, grid_h: int, grid_w: int) -> dict:
    """Where (N, M, 5) ``objects`` sit on a GH x GW grid: ``row``/``col`` (N, M) of each centre cell,
    ``offset`` (N, M, 2) the centre within it, ``valid`` (real objects), ``cls`` and ``boxes``."""
    import torch

    cls, boxes = objects[..., 0], objects[..., 1:].float()
    cx = (boxes[..., 0] + boxes[..., 2] / 2) * grid_w
    cy = (boxes[..., 1] + boxes[..., 3] / 2) * grid_h
    col = cx.floor().clamp(0, grid_w - 1)
    row = cy.floor().clamp(0, grid_h - 1)
    return {"row": row.long(), "col": col.long(), "offset": torch.stack([cx - col, cy - row], dim=-1),
            "valid": cls >= 0, "cls": cls.long(), "boxes": boxes}


def _at_centres(out, enc: dict):
    """The head's values (N, M, K + 4) at each object's centre cell."""
    import torch

    n, m = enc["row"].shape
    images = torch.arange(n, device=out.device)[:, None].expand(n, m)
    return out[images, :, enc["row"], enc["col"]]


def detection_loss(out, objects, reduction: str = "mean"):
    """Focal loss on the class map plus L1 (centre offset) and GIoU (box) at the object centres."""
    import torch
    import torch.nn.functional as F

    from cnnstudio.ml import metrics as M

    out = out.float()
    k = out.shape[1] - BOX_VALUES
    enc = encode_targets(objects, out.shape[2], out.shape[3], k)
    logits, heat = out[:, :k], enc["heat"]
    p = torch.sigmoid(logits)
    pos = heat >= 1.0 - 1e-4
    focal = torch.where(pos, (1 - p) ** 2 * -F.logsigmoid(logits),
                        (1 - heat) ** 4 * p ** 2 * -F.logsigmoid(-logits)).sum()
    valid = enc["valid"]
    count = valid.sum().clamp(min=1)
    box_loss = out.new_zeros(())
    if bool(valid.any()):
        s = torch.sigmoid(_at_centres(out, enc)[..., k:])[valid]  # (P, 4)
        offset = F.l1_loss(s[:, :2], enc["offset"][valid], reduction="sum")
        gw, gh = out.shape[3], out.shape[2]
        cx = (enc["col"][valid] + s[:, 0]) / gw
        cy = (enc["row"][valid] + s[:, 1]) / gh
        pred = torch.stack([cx - s[:, 2] / 2, cy - s[:, 3] / 2, s[:, 2], s[:, 3]], dim=1)
        box_loss = offset + 2.0 * M.giou_loss(pred, enc["boxes"][valid], reduction="sum")
    loss = (focal + box_loss) / count
    return loss * out.shape[0] if reduction == "sum" else loss


def decode_detections(raw: np.ndarray, score_threshold: float = SCORE_THRESHOLD, nms_iou: float = NMS_IOU,
                      max_objects: int = MAX_OBJECTS) -> tuple[np.ndarray, list[np.ndarray]]:
    """Raw head output (N, K + 4, GH, GW) -> (class scores (N, K): each class's best cell, and per image
    an (M, 6) float32 array of objects ``x, y, w, h, score, class``, best first; boxes are fractions of
    the input). The decoding the exported model's metadata describes."""
    raw = np.asarray(raw, dtype=np.float32)
    n, channels, gh, gw = raw.shape
    k = channels - BOX_VALUES
    scores = _sigmoid(raw[:, :k])
    padded = np.pad(scores, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    peak = scores >= score_threshold
    for dy in range(3):
        for dx in range(3):
            if dy != 1 or dx != 1:
                peak &= scores >= padded[:, :, dy:dy + gh, dx:dx + gw]
    img, cls, row, col = np.nonzero(peak)
    best = scores.reshape(n, k, -1).max(axis=2) if k else np.zeros((n, 0), np.float32)
    empty = np.zeros((0, 6), np.float32)
    if not len(img):
        return best, [empty for _ in range(n)]
    s = _sigmoid(raw[img, k:, row, col])  # (P, 4)
    cx, cy = (col + s[:, 0]) / gw, (row + s[:, 1]) / gh
    x0, y0 = np.clip(cx - s[:, 2] / 2, 0, 1), np.clip(cy - s[:, 3] / 2, 0, 1)
    x1, y1 = np.clip(cx + s[:, 2] / 2, 0, 1), np.clip(cy + s[:, 3] / 2, 0, 1)
    score = scores[img, cls, row, col]
    keep = _nms(np.stack([x0, y0, x1, y1], 1), score, img * max(k, 1) + cls, nms_iou)
    found = np.stack([x0, y0, x1 - x0, y1 - y0, score, cls.astype(np.float32)], 1).astype(np.float32)[keep]
    owner = img[keep]
    per_image = []
    for i in range(n):
        mine = found[owner == i]
        per_image.append(mine[np.argsort(-mine[:, 4], kind="stable")][:max_objects])
    return best, per_image


def _nms(boxes: np.ndarray, scores: np.ndarray, groups: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by per-group non-maximum suppression (torchvision.ops.batched_nms)."""
    import torch
    from torchvision.ops import batched_nms

    kept = batched_nms(torch.from_numpy(boxes.astype(np.float32)), torch.from_numpy(scores.astype(np.float32)),
                       torch.from_numpy(groups.astype(np.int64)), float(iou))
    return kept.numpy()


def mean_average_precision(predicted: list[np.ndarray], truth: list[np.ndarray]) -> dict[str, float]:
    """COCO mAP@0.5 and mAP@0.5:0.95 (torchmetrics' MeanAveragePrecision) of per-image predictions
    (M, 6) ``x, y, w, h, score, class`` against true objects (T, 5) ``class, x, y, w, h``."""
    import torch
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(box_format="xywh", iou_type="bbox")
    preds, targets = [], []
    for found, true in zip(predicted, truth):
        found = np.asarray(found, np.float32).reshape(-1, 6)
        true = np.asarray(true, np.float32).reshape(-1, 5)
        true = true[true[:, 0] >= 0]
        preds.append({"boxes": torch.from_numpy(found[:, :4].copy()), "scores": torch.from_numpy(found[:, 4].copy()),
                      "labels": torch.from_numpy(found[:, 5].astype(np.int64))})
        targets.append({"boxes": torch.from_numpy(true[:, 1:].copy()), "labels": torch.from_numpy(true[:, 0].astype(np.int64))})
    metric.update(preds, targets)
    result = metric.compute()
    fix = lambda v: max(0.0, float(v))  # noqa: E731 - torchmetrics says -1 when there is nothing to score
    return {"map50": fix(result["map_50"]), "map": fix(result["map"])}


class Detection(TaskRuntime):
    name = "detection"

    # --- training ---------------------------------------------------------------------------------
    def targets(self, bundle, split: str) -> tuple:
        return (objects_of(bundle, split),)

    def augment(self, augment, x, targets: tuple, generator):
        """Geometric augmentations move every object's box with the image; colour ones leave them."""
        import torch

        from cnnstudio.ml.augment import transform_boxes, warp

        objects = targets[0]
        if augment.settings.geometric and x.shape[0]:
            forward = augment.forward_matrices(x, generator)
            x = warp(x, forward)
            n, m = objects.shape[:2]
            moved = transform_boxes(objects[..., 1:].reshape(-1, 4), forward.repeat_interleave(m, 0)).view(n, m, 4)
            alive = (objects[..., 0] >= 0) & (moved[..., 2] > 1e-3) & (moved[..., 3] > 1e-3)
            objects = torch.cat([torch.where(alive, objects[..., 0], -1.0)[..., None], moved], dim=-1)
        if augment.settings.photometric:
            x = augment._colour(x, generator)
        return x, (objects,)

    def loss(self, outputs: tuple, targets: tuple, config, reduction: str = "mean"):
        return detection_loss(outputs[0], targets[0], reduction)

    def hits(self, outputs: tuple, targets: tuple):
        """Images whose every object is found: its centre cell scores its class best and above 0.5."""
        out, objects = outputs[0].detach(), targets[0]
        k = out.shape[1] - BOX_VALUES
        enc = object_cells(objects, out.shape[2], out.shape[3])
        logits = _at_centres(out, enc)[..., :k]
        right = (logits.argmax(-1) == enc["cls"]) & (logits.gather(-1, enc["cls"].clamp(min=0)[..., None])[..., 0] > 0)
        return (right | ~enc["valid"]).all(dim=1).sum()

    def check_outputs(self, outputs: tuple, num_classes: int) -> str | None:
        out = outputs[0]
        if out.ndim != 4 or out.shape[1] != num_classes + BOX_VALUES:
            got = "x".join(str(s) for s in out.shape[1:])
            return (f"The detector gives a {got} output, but the data has {num_classes} classes; its detection "
                    f"head needs num_classes {num_classes} ({num_classes + BOX_VALUES} channels).")
        return None

    def evaluate(self, outputs: tuple, targets: tuple, num_classes: int) -> dict:
        import torch

        from cnnstudio.ml import metrics as M

        out, objects = outputs[0].float(), targets[0]
        k = out.shape[1] - BOX_VALUES
        enc = object_cells(objects, out.shape[2], out.shape[3])
        at = _at_centres(out, enc)[..., :k].argmax(-1)  # (N, M) the class each object's centre cell gives
        valid = enc["valid"]
        confusion = M.confusion_matrix(enc["cls"][valid], at[valid], num_classes).cpu()
        area = torch.where(valid, enc["boxes"][..., 2] * enc["boxes"][..., 3], -1.0)
        largest = area.argmax(1) if objects.shape[1] else torch.zeros(len(out), dtype=torch.long, device=out.device)
        overall = out[:, :k].flatten(2).amax(2).argmax(1)
        main = at.gather(1, largest[:, None])[:, 0] if objects.shape[1] else overall
        has = valid.any(1)
        predictions = torch.where(has, main, overall)
        raw = out.cpu().numpy()
        truth = objects.float().cpu().numpy()
        _, found = decode_detections(raw)
        maps = mean_average_precision(found, list(truth))
        return {
            "accuracy": M.accuracy_from_confusion(confusion),
            "per_class": M.per_class_accuracy(confusion),
            "confusion": confusion.numpy(),
            "predictions": predictions.cpu().numpy(),
            "boxes": None,
            "map50": maps["map50"],
            "map": maps["map"],
            "row": {"val_map50": round(maps["map50"], 6), "val_map": round(maps["map"], 6)},
        }

    # --- inference --------------------------------------------------------------------------------
    def decode(self, values: dict[str, np.ndarray]) -> Decoded:
        raw = values["detections"] if "detections" in values else next(iter(values.values()))
        best, found = decode_detections(raw)
        return Decoded(best, None, tuple(found))

    def overlay(self, image: np.ndarray, decoded: Decoded, index: int = 0, label: str = "",
                color: tuple[int, int, int] = (230, 60, 60), names=()) -> np.ndarray:
        """Every object found: its box and "class score", one colour per class."""
        return draw_objects(image, decoded.objects_of(index), names)


def object_label(names, cls: int, score: float | None = None) -> str:
    name = names[cls] if 0 <= cls < len(names) else f"class {cls}"
    return name if score is None else f"{name} {score:.0%}"


def draw_objects(image: np.ndarray, objects, names=(), truth=None) -> np.ndarray:
    """``image`` (RGB uint8) with predicted ``objects`` (M, 6) drawn ("class score", a colour per class),
    and true objects (T, 5) ``class, x, y, w, h`` in green with their class when ``truth`` is given."""
    from cnnstudio.ml.tasks.localization import draw_box_rgb

    out = np.ascontiguousarray(image, dtype=np.uint8)
    if truth is not None:
        for row in np.asarray(truth, np.float32).reshape(-1, 5):
            if row[0] >= 0:
                out = draw_box_rgb(out, row[1:5], object_label(names, int(row[0])), TRUTH, 1)
    for row in np.asarray(objects).reshape(-1, 6):
        cls = int(row[5])
        out = draw_box_rgb(out, row[:4], object_label(names, cls, float(row[4])), PALETTE[cls % len(PALETTE)])
    return out


DETECTION = register_runtime(Detection())
