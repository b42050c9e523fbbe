"""The project's "data" settings: which dataset, its parameters, and the augmentations.

Pure Python (no torch, no Qt), so the CLI, the Data workspace and the trainer agree on one schema:
:func:`normalize_data_config` fills defaults and raises :class:`UserError` with one clear sentence for
anything invalid.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError

#: source key -> title shown to the user
SOURCES: dict[str, str] = {
    "digits": "Digits (built-in, 1,797 handwritten 28×28)",
    "shapes": "Shapes (built-in generator, localization)",
    "multishapes": "Multishapes (built-in generator, detection: 0 to 6 shapes per image)",
    "scenes": "Scenes (built-in generator, segmentation: a class for every pixel)",
    "folder": "Image folder (one sub-folder per class)",
    "yolo": "YOLO folder (images/ + labels/, localization; every object for detection)",
    "coco": "COCO folder (images + instances JSON, detection)",
    "mnist": "MNIST (torchvision, local folder)",
    "fashion-mnist": "Fashion-MNIST (torchvision, local folder)",
    "cifar10": "CIFAR-10 (torchvision, local folder)",
}

BUILTIN_SOURCES = ("digits", "shapes", "multishapes", "scenes")
FOLDER_SOURCES = ("folder", "yolo", "coco")
TORCHVISION_SOURCES = ("mnist", "fashion-mnist", "cifar10")
#: the sources a command line or a launch script names (the rest are folders given by their path)
NAMED_SOURCES = BUILTIN_SOURCES + TORCHVISION_SOURCES
LOCALIZATION_SOURCES = ("shapes", "yolo")

SHAPE_CLASSES = ("circle", "square", "triangle", "star", "cross")


@dataclass(frozen=True)
class NumberField:
    """One numeric setting: its kind, default and allowed range (inclusive)."""

    name: str
    title: str
    kind: str  # "int" | "float"
    default: float
    minimum: float
    maximum: float
    help: str = ""


#: numeric settings shared by several sources
COMMON_FIELDS = (
    NumberField("val_fraction", "Validation fraction", "float", 0.2, 0.05, 0.5,
                "Share of the images held out for validation (stratified by class)."),
    NumberField("seed", "Seed", "int", 0, 0, 2**31 - 1, "Seed of the train/validation split (and of shapes)."),
)

#: per-source numeric settings
SOURCE_FIELDS: dict[str, tuple[NumberField, ...]] = {
    "digits": (),
    "shapes": (
        NumberField("num_samples", "Images", "int", 2000, 50, 200_000, "How many images to generate."),
        NumberField("image_size", "Image size", "int", 64, 24, 256, "Width and height of each image in pixels."),
    ),
    "multishapes": (
        NumberField("num_samples", "Images", "int", 2000, 20, 200_000, "How many images to generate."),
        NumberField("image_size", "Image size", "int", 96, 32, 512, "Width and height of each image in pixels."),
    ),
    "scenes": (
        NumberField("num_samples", "Images", "int", 2000, 20, 200_000, "How many images to generate."),
        NumberField("image_size", "Image size", "int", 64, 32, 512, "Width and height of each image in pixels."),
    ),
    "folder": (
        NumberField("image_size", "Image size", "int", 64, 8, 512, "Images are resized to this square size."),
        NumberField("max_samples", "Max images", "int", 0, 0, 10_000_000, "0 = all; else a seeded subset."),
    ),
    "yolo": (
        NumberField("image_size", "Image size", "int", 64, 8, 512, "Images are resized to this square size."),
        NumberField("max_samples", "Max images", "int", 0, 0, 10_000_000, "0 = all; else a seeded subset."),
    ),
    "coco": (
        NumberField("image_size", "Image size", "int", 96, 8, 512, "Images are resized to this square size."),
        NumberField("max_samples", "Max images", "int", 0, 0, 10_000_000, "0 = all; else a seeded subset."),
    ),
    "mnist": (
        NumberField("max_samples", "Max images", "int", 0, 0, 10_000_000, "0 = all; else a seeded subset."),
    ),
    "fashion-mnist": (
        NumberField("max_samples", "Max images", "int", 0, 0, 10_000_000, "0 = all; else a seeded subset."),
    ),
    "cifar10": (
        NumberField("max_samples", "Max images", "int", 0, 0, 10_000_000, "0 = all; else a seeded subset."),
    ),
}

#: channel choice for folder sources
CHANNEL_CHOICES = ("auto", "gray", "rgb")

#: augmentation settings: name -> (title, default, minimum, maximum, help)
AUGMENT_FIELDS: tuple[NumberField, ...] = (
    NumberField("shift", "Shift", "float", 0.0, 0.0, 0.5, "Largest shift as a fraction of the image size."),
    NumberField("rotation", "Rotation (°)", "float", 0.0, 0.0, 180.0, "Largest rotation in degrees."),
    NumberField("scale", "Scale", "float", 0.0, 0.0, 0.5, "Largest zoom in or out (0.1 = ±10%)."),
    NumberField("flip", "Horizontal flip", "float", 0.0, 0.0, 1.0, "Probability of a left-right mirror."),
    NumberField("vflip", "Vertical flip", "float", 0.0, 0.0, 1.0, "Probability of an upside-down mirror."),
    NumberField("noise", "Noise", "float", 0.0, 0.0, 0.5, "Standard deviation of added Gaussian noise."),
    NumberField("brightness", "Brightness", "float", 0.0, 0.0, 1.0, "Colour jitter: brightness ± this."),
    NumberField("contrast", "Contrast", "float", 0.0, 0.0, 1.0, "Colour jitter: contrast ± this."),
    NumberField("saturation", "Saturation", "float", 0.0, 0.0, 1.0, "Colour jitter: saturation ± this."),
    NumberField("hue", "Hue", "float", 0.0, 0.0, 0.5, "Colour jitter: hue shift ± this (fraction of a turn)."),
)


def augment_defaults() -> dict[str, float]:
    return {f.name: f.default for f in AUGMENT_FIELDS}


def source_defaults(source: str) -> dict[str, Any]:
    """The full default "data" dict for one source."""
    if source not in SOURCES:
        raise UserError(f"Unknown data source '{source}'; choose one of: {', '.join(SOURCES)}.")
    out: dict[str, Any] = {"source": source, "path": ""}
    for f in COMMON_FIELDS + SOURCE_FIELDS[source]:
        out[f.name] = f.default
    if source in FOLDER_SOURCES:
        out["channels"] = "auto"
    if source in TORCHVISION_SOURCES:
        out["download"] = False
    out["augment"] = {}
    return out


def _number(field: NumberField, value: Any, where: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where} '{field.name}' must be a number, not {value!r}.")
    if field.kind == "int":
        if float(value) != int(value):
            raise UserError(f"{where} '{field.name}' must be a whole number, not {value!r}.")
        value = int(value)
    else:
        value = float(value)
    if not field.minimum <= value <= field.maximum:
        raise UserError(
            f"{where} '{field.name}' must be between {field.minimum:g} and {field.maximum:g}, not {value:g}."
        )
    return value


def normalize_augment(augment: Any) -> dict[str, float]:
    """Fill augmentation defaults and check ranges; unknown keys are an error (a typo would do nothing)."""
    if augment is None:
        augment = {}
    if not isinstance(augment, dict):
        raise UserError("The augmentation settings must be a dictionary of names to numbers.")
    known = {f.name: f for f in AUGMENT_FIELDS}
    unknown = sorted(set(augment) - set(known))
    if unknown:
        raise UserError(f"Unknown augmentation '{unknown[0]}'; known: {', '.join(known)}.")
    return {name: float(_number(f, augment.get(name, f.default), "Augmentation")) for name, f in known.items()}


def augment_active(augment: dict) -> bool:
    """True when any augmentation would change an image."""
    return any(float(v) > 0 for v in normalize_augment(augment).values())


def normalize_data_config(config: Any) -> dict[str, Any]:
    """A complete, validated copy of a "data" dict (defaults filled in for the chosen source)."""
    if isinstance(config, str):
        config = {"source": config}
    if not isinstance(config, dict):
        raise UserError("The data settings must be a dictionary with at least a 'source'.")
    source = config.get("source", "digits")
    if not isinstance(source, str) or source not in SOURCES:
        raise UserError(f"Unknown data source {source!r}; choose one of: {', '.join(SOURCES)}.")
    out = source_defaults(source)
    for key, value in config.items():
        if key not in out and key not in ("augment",):
            # keys of other sources are kept (switching sources back and forth keeps them) but unchecked
            out[key] = copy.deepcopy(value)
    for f in COMMON_FIELDS + SOURCE_FIELDS[source]:
        if f.name in config:
            out[f.name] = _number(f, config[f.name], "Data setting")
    path = config.get("path", "")
    if path is None:
        path = ""
    if not isinstance(path, str):
        raise UserError(f"The data path must be text, not {path!r}.")
    out["path"] = path
    if source in FOLDER_SOURCES and not path.strip():
        raise UserError(f"Choose a folder for the '{source}' data source.")
    if "channels" in out:
        channels = config.get("channels", "auto")
        if channels not in CHANNEL_CHOICES:
            raise UserError(f"'channels' must be one of {', '.join(CHANNEL_CHOICES)}, not {channels!r}.")
        out["channels"] = channels
    if "download" in out:
        out["download"] = bool(config.get("download", False))
    out["augment"] = normalize_augment(config.get("augment"))
    return out


def describe_data_config(config: dict) -> str:
    """One line for status bars and run records: "shapes, 2000 images 64×64, seed 0"."""
    cfg = normalize_data_config(config)
    source = cfg["source"]
    if source in ("shapes", "multishapes", "scenes"):
        return f"{source}, {cfg['num_samples']} images {cfg['image_size']}×{cfg['image_size']}, seed {cfg['seed']}"
    if source in FOLDER_SOURCES:
        return f"{source} {cfg['path']} at {cfg['image_size']}×{cfg['image_size']}"
    if source in TORCHVISION_SOURCES:
        subset = f", {cfg['max_samples']} images" if cfg["max_samples"] else ""
        return f"{source}{subset}, official test split for validation"
    return f"{source}, validation {cfg['val_fraction']:.0%}, seed {cfg['seed']}"


def guess_folder_source(path: str | Path) -> str:
    """"yolo" for a folder in YOLO layout (images/ and labels/, at the top or one level down), else "folder"."""
    root = Path(path)
    if (root / "images").is_dir() and (root / "labels").is_dir():
        return "yolo"
    if any(root.glob("*.json")) or any(root.glob("annotations/*.json")):
        return "coco"
    if any((images.parent / "labels").is_dir() for images in root.glob("*/images")):
        return "yolo"
    return "folder"


def data_help(names: tuple[str, ...] = NAMED_SOURCES, folders: str = "image folder, YOLO or COCO") -> str:
    """The ``--data`` help of a command that takes ``names`` and folders of the kinds ``folders``."""
    return f"{', '.join(names)}, or a folder ({folders}; default: {names[0]})"


def data_config_from_argument(text: str, base: dict | None = None, names: tuple[str, ...] = NAMED_SOURCES) -> dict:
    """The "data" dict for a command-line ``--data`` value: a source name or a dataset folder.

    The one reading of ``--data`` for every command (train, hpo, transfer); ``names`` are the named sources
    the command takes. ``base`` (the project's data dict, say) supplies seed, split and augmentation; a folder
    becomes an image-folder, YOLO or COCO source. Raises UserError for a folder that does not exist, a file,
    or a name that is not one of ``names``.
    """
    base = dict(base or {})
    keep = {k: base[k] for k in ("seed", "val_fraction", "augment") if k in base}
    if text in NAMED_SOURCES and text not in names:
        raise UserError(f"The data cannot be {text} here: use {' or '.join(names)}, or a dataset folder.")
    if text in NAMED_SOURCES:
        if base.get("source") == text:
            return normalize_data_config(base)
        return normalize_data_config({**source_defaults(text), **keep})
    path = Path(text).expanduser()
    if path.is_dir():
        source = guess_folder_source(path)
        return normalize_data_config({**source_defaults(source), **keep, "path": str(path)})
    if path.exists():
        raise UserError(f"The data {text} is a file; give a folder of images (one sub-folder per class).")
    if any(sep in text for sep in ("/", "\\")) or text.startswith((".", "~")):
        raise UserError(f"The data folder {text} does not exist.")
    raise UserError(f"Unknown data {text!r}: use {', '.join(names)} or a dataset folder.")
