"""Feature maps, kernels and overlays as uint8 images, shared by the Inspect workspace and the CLI.

Every channel is auto-levelled on its own (its min maps to the colour map's first colour, its max to the
last) because channel magnitudes differ by orders of magnitude between layers and filters; a constant
channel is drawn in the colour map's lowest colour. Tiles are enlarged with nearest-neighbour so a 5x5 map
stays a readable 5x5 checkerboard, and laid out in a near-square grid with the channel index on each tile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Anchor colours of matplotlib's "viridis" (perceptually uniform, colour-blind safe), interpolated to 256.
_VIRIDIS_ANCHORS = np.array(
    [
        (68, 1, 84), (72, 36, 117), (65, 68, 135), (53, 95, 141), (42, 120, 142), (33, 145, 140),
        (34, 168, 132), (68, 191, 112), (122, 209, 81), (189, 223, 38), (253, 231, 37),
    ],
    dtype=np.float32,
)
_GRAY_ANCHORS = np.array([(0, 0, 0), (255, 255, 255)], dtype=np.float32)
_JET_ANCHORS = np.array(
    [(0, 0, 128), (0, 0, 255), (0, 128, 255), (0, 255, 255), (128, 255, 128), (255, 255, 0), (255, 128, 0), (255, 0, 0), (128, 0, 0)],
    dtype=np.float32,
)


def _lut(anchors: np.ndarray) -> np.ndarray:
    pos = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, pos, anchors[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


COLORMAPS: dict[str, np.ndarray] = {"viridis": _lut(_VIRIDIS_ANCHORS), "gray": _lut(_GRAY_ANCHORS), "jet": _lut(_JET_ANCHORS)}


def colormap(name: str) -> np.ndarray:
    """The (256, 3) uint8 lookup table of a colour map name ("viridis", "gray", "jet")."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colour map {name!r}; choose one of {sorted(COLORMAPS)}")
    return COLORMAPS[name]


def auto_level(maps: np.ndarray) -> np.ndarray:
    """Scale each channel of (C, H, W) to uint8 0..255 from its own min..max (constant channels -> 0)."""
    x = np.asarray(maps, dtype=np.float32)
    flat = x.reshape(x.shape[0], -1)
    lo = flat.min(axis=1).reshape(-1, 1, 1)
    span = (flat.max(axis=1).reshape(-1, 1, 1) - lo)
    span = np.where(span > 1e-12, span, np.inf)
    out = (x - lo) / span * 255.0
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).clip(0, 255).astype(np.uint8)


def as_maps(array: np.ndarray) -> np.ndarray:
    """Any activation (with or without the batch dimension) as (C, H, W) maps to draw.

    (C, H, W) stays, a vector (F,) becomes F one-pixel maps drawn as a single strip, (H, W) one channel.
    """
    a = np.asarray(array)
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 4:  # e.g. (N, C, H, W) with N > 1: first sample
        a = a[0]
    if a.ndim == 3:
        return a
    if a.ndim == 2:
        if a.shape[0] == 1:  # (1, F): a batch of one vector
            return a.reshape(1, 1, -1)
        return a[None]
    if a.ndim == 1:
        return a.reshape(1, 1, -1)
    return a.reshape(1, 1, -1) if a.size else np.zeros((1, 1, 1), np.float32)


def is_spatial(array: np.ndarray) -> bool:
    """True when an activation has channels with a height and width larger than 1 (a feature map)."""
    maps = as_maps(array)
    return maps.shape[1] > 1 and maps.shape[2] > 1


@dataclass(frozen=True)
class GridLayout:
    """Where each tile of a rendered grid lies, for hit-testing clicks: tile i at rects[i] = (x, y, w, h)."""

    rects: tuple[tuple[int, int, int, int], ...]
    width: int
    height: int

    def tile_at(self, x: float, y: float) -> int | None:
        for index, (rx, ry, rw, rh) in enumerate(self.rects):
            if rx <= x < rx + rw and ry <= y < ry + rh:
                return index
        return None


def tile_scale(height: int, width: int, min_size: int = 48, max_size: int = 160) -> int:
    """The integer enlargement that brings a map's larger side to at least ``min_size`` pixels."""
    side = max(1, height, width)
    scale = max(1, math.ceil(min_size / side))
    while scale > 1 and side * scale > max_size:
        scale -= 1
    return scale


def colorize(levelled: np.ndarray, cmap: str = "viridis") -> np.ndarray:
    """uint8 (..., H, W) -> uint8 (..., H, W, 3) through a colour map."""
    return colormap(cmap)[levelled]


def render_grid(
    maps: np.ndarray,
    cmap: str = "viridis",
    columns: int | None = None,
    tile: int = 48,
    gap: int = 2,
    labels: bool = True,
    max_channels: int = 256,
    background: tuple[int, int, int] = (32, 32, 32),
) -> tuple[np.ndarray, GridLayout]:
    """Channels of ``maps`` (C, H, W) as one RGB uint8 grid image and its tile layout.

    A vector activation (1, 1, F) is drawn as one horizontal strip (one tile, one pixel per feature).
    At most ``max_channels`` tiles are drawn (the first ones).
    """
    maps = as_maps(maps)
    count = min(maps.shape[0], max_channels)
    maps = maps[:count]
    h, w = maps.shape[1:]
    if h == 1 and count == 1:  # a feature vector: a strip about 8 px high, up to 512 wide
        sx = max(1, 512 // max(1, w))
        sy = max(8, sx)
        scale_y, scale_x = sy, sx
    else:
        scale_y = scale_x = tile_scale(h, w, min_size=tile)
    levelled = auto_level(maps)
    coloured = colorize(levelled, cmap)  # (C, h, w, 3)
    coloured = np.repeat(np.repeat(coloured, scale_y, axis=1), scale_x, axis=2)
    return tile_images(coloured, columns=columns, gap=gap, labels=labels, background=background)


def tile_images(
    tiles: np.ndarray,
    columns: int | None = None,
    gap: int = 2,
    labels: bool = True,
    background: tuple[int, int, int] = (32, 32, 32),
) -> tuple[np.ndarray, GridLayout]:
    """Equal-sized RGB uint8 tiles (N, h, w, 3) in a near-square grid with their index, and its layout."""
    count, th, tw = tiles.shape[:3]
    cols = columns or max(1, math.ceil(math.sqrt(count * th / max(1, tw))))
    cols = max(1, min(cols, count))
    rows = math.ceil(count / cols)
    out_h = rows * th + (rows + 1) * gap
    out_w = cols * tw + (cols + 1) * gap
    image = np.empty((out_h, out_w, 3), np.uint8)
    image[:] = background
    rects = []
    for i in range(count):
        r, c = divmod(i, cols)
        y = gap + r * (th + gap)
        x = gap + c * (tw + gap)
        image[y : y + th, x : x + tw] = tiles[i]
        rects.append((x, y, tw, th))
    if labels and count > 1 and th >= 20 and tw >= 20:
        _draw_labels(image, rects)
    return image, GridLayout(tuple(rects), out_w, out_h)


def _draw_labels(image: np.ndarray, rects: list[tuple[int, int, int, int]]) -> None:
    import cv2

    for index, (x, y, _w, h) in enumerate(rects):
        text = str(index)
        scale = 0.32 if h < 64 else 0.4
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(image, (x, y), (x + tw + 3, y + th + 4), (0, 0, 0), -1)
        cv2.putText(image, text, (x + 1, y + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def render_channel(channel: np.ndarray, cmap: str = "viridis", size: int = 224) -> np.ndarray:
    """One (H, W) map enlarged (nearest-neighbour) to about ``size`` pixels, colour-mapped, uint8 RGB."""
    ch = np.asarray(channel, dtype=np.float32)
    if ch.ndim == 1:
        ch = ch[None]
    coloured = colorize(auto_level(ch[None])[0], cmap)
    scale = max(1, size // max(ch.shape))
    return np.repeat(np.repeat(coloured, scale, axis=0), scale, axis=1)


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """A gray (H, W) / (H, W, 1) or RGB uint8 image as contiguous (H, W, 3) uint8."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def overlay_heatmap(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """A heat map in [0, 1] (any size) blended over an image (uint8 gray or RGB) -> uint8 RGB."""
    import cv2

    base = to_rgb_uint8(image)
    h, w = base.shape[:2]
    heat = np.asarray(heat, dtype=np.float32)
    if heat.shape != (h, w):
        heat = cv2.resize(heat, (w, h), interpolation=cv2.INTER_LINEAR)
    coloured = colormap(cmap)[(np.clip(heat, 0, 1) * 255).astype(np.uint8)].astype(np.float32)
    out = base.astype(np.float32) * (1 - alpha) + coloured * alpha
    return out.clip(0, 255).astype(np.uint8)


def draw_box(
    image: np.ndarray,
    box: tuple[float, float, float, float],
    label: str = "",
    color: tuple[int, int, int] = (255, 64, 64),
    thickness: int = 2,
) -> np.ndarray:
    """Draw a normalised (x, y, w, h) box with a label on a copy of an RGB uint8 image (the localization
    task's overlay: cnnstudio.ml.tasks.localization.draw_box_rgb)."""
    from cnnstudio.ml.tasks.localization import draw_box_rgb

    return draw_box_rgb(to_rgb_uint8(image), box, label, color, thickness)


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a small image so its larger side is about ``size`` pixels."""
    img = to_rgb_uint8(image)
    scale = max(1, size // max(img.shape[:2]))
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


def save_png(image: np.ndarray, path) -> None:
    """Write an RGB uint8 image as PNG (raises OSError when it cannot be written)."""
    import cv2

    rgb = to_rgb_uint8(image)
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode {path} as PNG")
    from cnnstudio.core.fileio import atomic_write_bytes

    atomic_write_bytes(path, data.tobytes())
