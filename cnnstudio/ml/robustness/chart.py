"""PNG plots without Qt (for the CLI): line charts, bar charts and captioned image rows, drawn with OpenCV.

Small and plain on purpose: axes with ticks, a grid, a legend, one colour per series (the GUI's plots
are pyqtgraph; these are the files ``cnnstudio transfer`` and ``cnnstudio robustness`` write).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

COLOURS = ((180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148), (75, 86, 140))  # BGR
_FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX


def _ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _label(v: float) -> str:
    return f"{v:g}" if abs(v) >= 0.01 or v == 0 else f"{v:.0e}"


def _write(path: str | Path, image: np.ndarray) -> Path:
    import cv2

    from cnnstudio.core.errors import UserError
    from cnnstudio.core.fileio import atomic_write_bytes

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise UserError(f"Could not encode the plot {path}.")
    target = Path(path)
    try:
        atomic_write_bytes(target, buf.tobytes())
    except OSError as exc:
        raise UserError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return target


def line_chart(series: dict[str, tuple[list[float], list[float]]], path: str | Path, title: str = "",
               xlabel: str = "", ylabel: str = "", ylim: tuple[float, float] | None = (0.0, 1.0),
               size: tuple[int, int] = (900, 560), dashed: tuple[str, ...] = (),
               marks: dict[str, float] | None = None, legend: str = "bottom") -> Path:
    """Write a line chart: ``series`` name -> (xs, ys); ``marks`` label -> x of a vertical line;
    ``legend`` in the "bottom" or "top" right corner (where the curves leave room)."""
    import cv2

    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 80, 30, 64, 70
    xs_all = [x for xs, _ in series.values() for x in xs]
    ys_all = [y for _, ys in series.values() for y in ys if math.isfinite(y)]
    x0, x1 = (min(xs_all), max(xs_all)) if xs_all else (0.0, 1.0)
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    if ylim is None:
        y0, y1 = (min(ys_all), max(ys_all)) if ys_all else (0.0, 1.0)
        pad = (y1 - y0) * 0.08 or 0.5
        y0, y1 = y0 - pad, y1 + pad
    else:
        y0, y1 = ylim

    def px(x, y):
        return (int(left + (x - x0) / (x1 - x0) * (w - left - right)),
                int(h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom)))

    for t in _ticks(y0, y1):
        p = px(x0, t)
        cv2.line(img, (left, p[1]), (w - right, p[1]), (225, 225, 225), 1)
        cv2.putText(img, _label(t), (8, p[1] + 5), _FONT, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    for t in _ticks(x0, x1, 8):
        p = px(t, y0)
        cv2.line(img, (p[0], top), (p[0], h - bottom), (235, 235, 235), 1)
        cv2.putText(img, _label(t), (p[0] - 12, h - bottom + 20), _FONT, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (90, 90, 90), 1)
    for label, x in (marks or {}).items():
        p = px(x, y1)
        cv2.line(img, (p[0], top), (p[0], h - bottom), (150, 150, 150), 1, cv2.LINE_AA)
        cv2.putText(img, label, (p[0] + 4, top + 16), _FONT, 0.45, (110, 110, 110), 1, cv2.LINE_AA)
    for i, (name, (xs, ys)) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        pts = [px(x, y) for x, y in zip(xs, ys) if math.isfinite(y)]
        for a, b in zip(pts, pts[1:]):
            if name in dashed:
                for k in range(0, 10, 2):
                    pa = (a[0] + (b[0] - a[0]) * k // 10, a[1] + (b[1] - a[1]) * k // 10)
                    pb = (a[0] + (b[0] - a[0]) * (k + 1) // 10, a[1] + (b[1] - a[1]) * (k + 1) // 10)
                    cv2.line(img, pa, pb, colour, 2, cv2.LINE_AA)
            else:
                cv2.line(img, a, b, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, p, 4, colour, -1, cv2.LINE_AA)
        ly = top + 20 + 22 * i if legend == "top" else h - bottom - 12 - 22 * (len(series) - 1 - i)
        cv2.line(img, (w - right - 230, ly - 4), (w - right - 200, ly - 4), colour, 3)
        cv2.putText(img, name[:28], (w - right - 194, ly), _FONT, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    cv2.putText(img, title, (left, 32), _FONT, 0.7, (20, 20, 20), 2, cv2.LINE_AA)
    cv2.putText(img, xlabel, (w // 2 - 4 * len(xlabel), h - 22), _FONT, 0.55, (40, 40, 40), 1, cv2.LINE_AA)
    cv2.putText(img, ylabel, (8, top - 10), _FONT, 0.5, (40, 40, 40), 1, cv2.LINE_AA)
    return _write(path, img)


def bar_chart(groups: dict[str, dict[str, float]], path: str | Path, title: str = "", ylabel: str = "",
              ylim: tuple[float, float] = (0.0, 1.0), size: tuple[int, int] = (900, 520)) -> Path:
    """Grouped bars: ``groups`` group -> {bar name -> value}; bar names share colours across groups."""
    import cv2

    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 70, 30, 60, 60
    names = list(dict.fromkeys(n for bars in groups.values() for n in bars))
    y0, y1 = ylim

    def py(v):
        return int(h - bottom - (min(max(v, y0), y1) - y0) / (y1 - y0) * (h - top - bottom))

    for t in _ticks(y0, y1):
        cv2.line(img, (left, py(t)), (w - right, py(t)), (225, 225, 225), 1)
        cv2.putText(img, _label(t), (10, py(t) + 5), _FONT, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    slot = (w - left - right) / max(1, len(groups))
    bar = slot * 0.8 / max(1, len(names))
    for g, (group, bars) in enumerate(groups.items()):
        gx = left + g * slot + slot * 0.1
        for k, name in enumerate(names):
            if name not in bars or not math.isfinite(bars[name]):
                continue
            x = int(gx + k * bar)
            cv2.rectangle(img, (x, py(bars[name])), (int(x + bar - 4), py(y0)), COLOURS[k % len(COLOURS)], -1)
            cv2.putText(img, f"{bars[name]:.3f}", (x, py(bars[name]) - 6), _FONT, 0.42, (30, 30, 30), 1, cv2.LINE_AA)
        cv2.putText(img, group[:30], (int(gx), h - bottom + 24), _FONT, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    for k, name in enumerate(names):
        cv2.rectangle(img, (w - right - 220, top + 8 + 22 * k), (w - right - 204, top + 22 + 22 * k),
                      COLOURS[k % len(COLOURS)], -1)
        cv2.putText(img, name[:26], (w - right - 198, top + 21 + 22 * k), _FONT, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    cv2.line(img, (left, py(y0)), (w - right, py(y0)), (90, 90, 90), 1)
    cv2.putText(img, title, (left, 34), _FONT, 0.7, (20, 20, 20), 2, cv2.LINE_AA)
    cv2.putText(img, ylabel, (8, top - 12), _FONT, 0.5, (40, 40, 40), 1, cv2.LINE_AA)
    return _write(path, img)


def to_display(image: np.ndarray) -> np.ndarray:
    """A (C, H, W) or (H, W) float image in [0, 1] as a BGR uint8 picture."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else np.transpose(a[:3][::-1], (1, 2, 0))  # RGB -> BGR
    a = (a.clip(0.0, 1.0) * 255).round().astype(np.uint8)
    return np.repeat(a[..., None], 3, 2) if a.ndim == 2 else a


def heat_display(heat: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.applyColorMap((np.asarray(heat).clip(0, 1) * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)


def image_row(panels: list[tuple[np.ndarray, str]], path: str | Path, title: str = "", cell: int = 224,
              separators: tuple[str, ...] = ()) -> Path:
    """Write images side by side (each scaled to ``cell`` pixels, nearest neighbour) with captions.

    ``separators`` (one per gap, e.g. "+" and "=" for the panda figure) are drawn between panels.
    """
    import cv2

    gap, cap = 48, 56
    w = len(panels) * cell + (len(panels) + 1) * gap
    h = cell + cap + 60
    img = np.full((h, w, 3), 255, np.uint8)
    cv2.putText(img, title, (gap, 34), _FONT, 0.7, (20, 20, 20), 2, cv2.LINE_AA)
    for i, (pic, caption) in enumerate(panels):
        pic = pic if pic.dtype == np.uint8 and pic.ndim == 3 else to_display(pic)
        pic = cv2.resize(pic, (cell, cell), interpolation=cv2.INTER_NEAREST)
        x = gap + i * (cell + gap)
        img[50:50 + cell, x:x + cell] = pic
        for j, line in enumerate(caption.split("\n")[:2]):
            cv2.putText(img, line[:34], (x, 50 + cell + 22 + 20 * j), _FONT, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
        if i < len(separators):
            cv2.putText(img, separators[i], (x + cell + gap // 2 - 10, 50 + cell // 2 + 10), _FONT, 1.0,
                        (30, 30, 30), 2, cv2.LINE_AA)
    return _write(path, img)
