"""Fast convolution of whole images with OpenCV (the same maths as the numpy reference op).

:func:`cnnstudio.core.ops.conv2d` is clear but slow on a 1920x1080 photo; here the padding is done with
``cv2.copyMakeBorder`` (the same four modes) and the sum of products with ``cv2.filter2D`` (which is a
cross-correlation, like PyTorch) anchored at the window's top-left corner, so output cell (i, j) sees the
padded window starting at (i·stride, j·stride). Each colour channel is filtered with the same 2-D kernel.
No Qt here, so the benchmark can use it headless.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.ops import PAD_MODES, as_pair, conv_output_size

COLOUR_MODES = ("rgb", "gray", "red", "green", "blue")
DISPLAY_MODES = ("clipped", "diverging", "absolute")


def select_channels(image: np.ndarray, colour_mode: str) -> np.ndarray:
    """The image as the filter sees it: RGB (H, W, 3), grayscale or one channel (H, W); uint8."""
    if colour_mode not in COLOUR_MODES:
        raise UserError(f"Unknown colour mode {colour_mode!r}.")
    if image.ndim == 2:
        return image
    if colour_mode == "rgb":
        return image
    if colour_mode == "gray":
        # ITU-R BT.601 luma, as OpenCV's and Pillow's RGB -> gray
        gray = image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114
        return np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[..., {"red": 0, "green": 1, "blue": 2}[colour_mode]])


def dilated_kernel(kernel: np.ndarray, dilation: tuple[int, int]) -> np.ndarray:
    """The kernel with ``dilation − 1`` zeros between its weights (a dilated kernel's footprint)."""
    dh, dw = dilation
    kh, kw = kernel.shape
    out = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1), np.float32)
    out[::dh, ::dw] = kernel
    return out


def output_shape(height: int, width: int, kernel_shape, stride=1, padding=0, dilation=1) -> tuple[int, int]:
    sh, sw = as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding")
    dh, dw = as_pair(dilation, "dilation", 1)
    return (conv_output_size(height, kernel_shape[0], sh, ph, dh), conv_output_size(width, kernel_shape[1], sw, pw, dw))


def filter_image(image: np.ndarray, kernel, stride=1, padding=0, pad_mode: str = "constant",
                 pad_value: float = 0.0, dilation=1, clipped: bool = False) -> np.ndarray:
    """Convolve each channel of ``image`` (H, W) or (H, W, C) with the 2-D ``kernel``.

    Returns float32, or with ``clipped`` uint8 rounded and clipped to 0..255 (OpenCV saturates while it
    filters, which halves the time of a full-HD picture compared with filtering to float and clipping).
    """
    import cv2

    if pad_mode not in PAD_MODES:
        raise UserError(f"Unknown padding mode {pad_mode!r}; choose one of {', '.join(PAD_MODES)}.")
    k = np.asarray(kernel, np.float32)
    sh, sw = as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding")
    dh, dw = as_pair(dilation, "dilation", 1)
    h, w = image.shape[:2]
    oh, ow = output_shape(h, w, k.shape, (sh, sw), (ph, pw), (dh, dw))
    if pad_mode == "reflect" and (ph >= h or pw >= w):
        raise UserError(f"Reflect padding must be smaller than the image ({w}x{h}).")
    if pad_mode == "circular" and (ph > h or pw > w):
        raise UserError(f"Circular padding cannot be larger than the image ({w}x{h}).")
    src = image
    if src.dtype in (np.uint8, np.uint16):  # OpenCV filters these directly into float32
        fits = float(pad_value).is_integer() and 0 <= pad_value <= np.iinfo(src.dtype).max
        if pad_mode == "constant" and (ph or pw) and not fits:
            src = src.astype(np.float32)
    else:
        src = src.astype(np.float32)
    if ph or pw:
        border = {"constant": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101,
                  "replicate": cv2.BORDER_REPLICATE, "circular": cv2.BORDER_WRAP}[pad_mode]
        src = cv2.copyMakeBorder(src, ph, ph, pw, pw, border, value=[float(pad_value)] * 4)
    kd = dilated_kernel(k, (dh, dw)) if (dh, dw) != (1, 1) else k
    direct_u8 = clipped and src.dtype == np.uint8
    full = cv2.filter2D(src, cv2.CV_8U if direct_u8 else cv2.CV_32F, kd, anchor=(0, 0),
                        borderType=cv2.BORDER_CONSTANT)
    out = full[: sh * (oh - 1) + 1: sh, : sw * (ow - 1) + 1: sw]
    if clipped and not direct_u8:
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if out.ndim == 2 and image.ndim == 3:
        out = out[..., None]
    return out


def filter_channel_mean(image: np.ndarray, kernel, stride=1, padding=0, pad_mode: str = "constant",
                        pad_value: float = 0.0, dilation=1) -> np.ndarray:
    """The mean over colour channels of :func:`filter_image`'s result, (H', W') float32.

    Convolution is linear, so this filters the channels' sum once with ``kernel / C`` (a third of the
    work for RGB); the sum is exact in uint16.
    """
    import cv2

    if image.ndim == 2:
        return filter_image(image, kernel, stride, padding, pad_mode, pad_value, dilation)
    channels = cv2.split(image)
    total = channels[0].astype(np.uint16) if image.dtype == np.uint8 else channels[0].astype(np.float32)
    for channel in channels[1:]:
        total = cv2.add(total, channel, dtype=cv2.CV_16U if image.dtype == np.uint8 else cv2.CV_32F)
    scaled = np.asarray(kernel, np.float64) / image.shape[2]
    pad = pad_value * image.shape[2]  # the sum of C padded channels
    return filter_image(total, scaled, stride, padding, pad_mode, pad, dilation)


def display_image(result: np.ndarray, mode: str) -> tuple[np.ndarray, tuple[float, float]]:
    """What to show for a filter result: (array, levels).

    clipped: the values clipped to 0..255 as an image (uint8, RGB or gray);
    diverging: one channel (the mean over colour channels) mapped to 0..255 so that 0 lands on 127.5 and
    ±bound on 0/255 (uint8 indices into a 256-colour blue-white-red table; ``levels`` is (−bound, bound),
    see :func:`diverging_bound`); absolute: |value| clipped to 0..255.
    """
    import cv2

    if mode not in DISPLAY_MODES:
        raise UserError(f"Unknown display mode {mode!r}.")
    if result.ndim == 3 and result.shape[2] == 1:
        result = result[..., 0]
    if mode == "clipped":
        return np.clip(result, 0, 255, out=np.empty_like(result)).astype(np.uint8), (0.0, 255.0)
    if mode == "absolute":
        return cv2.convertScaleAbs(result), (0.0, 255.0)
    single = result if result.ndim == 2 else cv2.transform(result, np.full((1, result.shape[2]), 1 / result.shape[2],
                                                                             np.float32))
    bound = diverging_bound(single)
    return cv2.convertScaleAbs(single, alpha=127.5 / bound, beta=127.5), (-bound, bound)


def diverging_bound(values: np.ndarray) -> float:
    """The |value| at which the diverging colours saturate: the 99.5th percentile of |value| (a sample of
    about 60,000 pixels), so that a few extreme pixels do not wash everything else out to white."""
    step = max(1, int(np.ceil(np.sqrt(values.size / 60_000))))
    sample = np.abs(values[::step, ::step])
    bound = float(np.percentile(sample, 99.5)) if sample.size else 0.0
    if bound <= 1e-6:
        bound = float(sample.max()) if sample.size else 0.0
    return max(bound, 1e-6)


def value_range(result: np.ndarray) -> tuple[float, float]:
    """(min, max) of a filter result, in one fast pass."""
    import cv2

    flat = result.reshape(result.shape[0], -1)
    low, high = cv2.minMaxLoc(flat)[:2]
    return float(low), float(high)


__all__ = ["COLOUR_MODES", "DISPLAY_MODES", "dilated_kernel", "display_image", "diverging_bound", "filter_channel_mean",
           "filter_image",
           "output_shape", "select_channels", "value_range"]
