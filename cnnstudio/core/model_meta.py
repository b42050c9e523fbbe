"""What a model file says about itself: the ONNX ``metadata_props`` CNN Studio writes and reads.

Any runner (our Live view, ``cnnstudio predict``, Inspect, Netron) can use an exported model without
side files. Models from other tools have none of these keys; :func:`ModelMeta.from_props` then falls
back to what the graph says (input shape) and generic class names.

Preprocessing turns a natural image (a photo, a camera frame, a file: uint8) into the network input,
the same way the training images were made (:func:`cnnstudio.ml.preprocess.training_preprocess`
derives it from the data pipeline): convert to gray or RGB; decide the image's ink polarity
(``polarity``: ``"auto"`` reads paper vs ink from the image's border as a document scanner does,
``"invert"`` assumes the image's ink is the opposite of the network's ``ink``, ``"keep"`` that it is
the same); crop to the ink when ``crop_to_content`` (size normalisation: the ink's bounding box,
squared, plus ``crop_margin`` per side, fills the input as the training images' content does); resize
to ``input_shape``; scale to [0, 1]; flip when the image's ink is not the network's ``ink``
(``"light"``: light ink on dark, like MNIST; ``"dark"``: dark ink on light paper; ``""``: unknown,
only ``"invert"`` flips); then ``(x - mean) / std`` per channel.
Datasets already hold images in the network's [0, 1] space, so only mean/std applies to them.

Metadata version 2 replaced version 1's ``invert`` flag by ``polarity`` and ``ink`` (migrated on read:
``invert: true`` is ``polarity: "invert", ink: "light"``, ``invert: false`` is ``polarity: "keep"``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cnnstudio.core.formats import register_migration, upgrade

META_FORMAT = "cnnstudio-onnx"
META_VERSION = 2
POLARITIES = ("keep", "invert", "auto")
INKS = ("light", "dark", "")
DEFAULT_CROP_MARGIN = 0.06


@dataclass(frozen=True)
class Preprocess:
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    scale: float = 1.0 / 255.0
    polarity: str = "keep"  # "keep", "invert" or "auto" (decide from the image's border)
    ink: str = ""  # the training images' ink: "light" (on dark), "dark" (on light) or "" (unknown)
    resize: str = "stretch"  # "stretch" to the input size, or "letterbox"
    crop_to_content: bool = False  # gray models: crop to the ink's bounding box before resizing
    crop_margin: float = DEFAULT_CROP_MARGIN  # the crop's margin on each side, a fraction of the ink's size

    def __post_init__(self) -> None:
        if self.polarity not in POLARITIES:
            raise ValueError(f"polarity must be one of {POLARITIES}, not {self.polarity!r}")
        if self.ink not in INKS:
            raise ValueError(f"ink must be 'light', 'dark' or '', not {self.ink!r}")

    @property
    def invert(self) -> bool:
        """True when every image is flipped (``polarity: "invert"``, version 1's ``invert: true``)."""
        return self.polarity == "invert"

    @classmethod
    def from_dict(cls, data: dict | None, channels: int = 1) -> Preprocess:
        """A spec's or model's "preprocess" object; version 1's ``invert`` key is read as polarity."""
        data = migrate_preprocess(dict(data or {}))
        mean = tuple(float(v) for v in data.get("mean", [0.0] * channels))
        std = tuple(float(v) for v in data.get("std", [1.0] * channels))
        polarity, ink = str(data.get("polarity", "keep")), str(data.get("ink", ""))
        if polarity not in POLARITIES or ink not in INKS:
            raise ValueError(f"preprocess polarity {polarity!r} / ink {ink!r} is not known")
        return cls(
            mean=mean,
            std=std,
            scale=float(data.get("scale", 1.0 / 255.0)),
            polarity=polarity,
            ink=ink,
            resize=str(data.get("resize", "stretch")),
            crop_to_content=bool(data.get("crop_to_content", False)),
            crop_margin=float(data.get("crop_margin", DEFAULT_CROP_MARGIN)),
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "mean": list(self.mean), "std": list(self.std)}


def migrate_preprocess(data: dict) -> dict:
    """A version-1 "preprocess" object (``invert``) in version 2's terms (``polarity`` and ``ink``)."""
    if "invert" not in data or "polarity" in data:
        data.pop("invert", None)
        return data
    data = dict(data)
    if bool(data.pop("invert")):
        data.update(polarity="invert", ink=data.get("ink") or "light")
    else:
        data.setdefault("polarity", "keep")
    return data


@register_migration(META_FORMAT, 1)
def _meta_v1_to_v2(data: dict) -> dict:
    data["preprocess"] = migrate_preprocess(dict(data.get("preprocess") or {}))
    return data


@dataclass(frozen=True)
class ModelMeta:
    input_shape: tuple[int, int, int]  # channels, height, width
    class_names: tuple[str, ...] = ()
    task: str = "classification"  # or "localization"
    preprocess: Preprocess = field(default_factory=Preprocess)
    name: str = ""
    spec: dict | None = None
    ours: bool = True  # False: read from a model another tool exported

    @property
    def channels(self) -> int:
        return self.input_shape[0]

    def class_name(self, index: int) -> str:
        if 0 <= index < len(self.class_names):
            return self.class_names[index]
        return f"class {index}"

    def to_props(self) -> dict[str, str]:
        """The ONNX ``metadata_props`` (string to string)."""
        props = {
            "cnnstudio.format": META_FORMAT,
            "cnnstudio.version": str(META_VERSION),
            "name": self.name,
            "task": self.task,
            "input_shape": json.dumps(list(self.input_shape)),
            "class_names": json.dumps(list(self.class_names)),
            "preprocess": json.dumps(self.preprocess.to_dict()),
        }
        if self.spec is not None:
            props["spec"] = json.dumps(self.spec)
        return props

    @classmethod
    def from_spec(cls, spec: dict) -> ModelMeta:
        inp = spec["input"]
        shape = (int(inp["channels"]), int(inp["height"]), int(inp["width"]))
        return cls(
            input_shape=shape,
            class_names=tuple(str(c) for c in spec.get("classes", [])),
            task=str(spec.get("task", "classification")),
            preprocess=Preprocess.from_dict(spec.get("preprocess"), shape[0]),
            name=str(spec.get("name", "")),
            spec=spec,
        )

    @classmethod
    def from_props(cls, props: dict[str, str], graph_input_shape: Any = None, num_outputs: int | None = None) -> ModelMeta:
        """Read our keys; for a foreign model use the graph's input shape (N, C, H, W)."""
        if props.get("cnnstudio.format") == META_FORMAT:
            try:
                version = int(props.get("cnnstudio.version", "1"))
                preprocess = json.loads(props.get("preprocess", "{}"))
                preprocess = upgrade({"format": META_FORMAT, "version": version, "preprocess": preprocess},
                                     META_FORMAT, META_VERSION, source="The model's metadata")["preprocess"]
                shape = tuple(int(v) for v in json.loads(props["input_shape"]))
                if len(shape) != 3 or min(shape) < 1:
                    raise ValueError(f"input_shape {shape}")
                spec = json.loads(props["spec"]) if props.get("spec") else None
                return cls(
                    input_shape=shape,  # type: ignore[arg-type]
                    class_names=tuple(str(c) for c in json.loads(props.get("class_names", "[]"))),
                    task=props.get("task", "classification"),
                    preprocess=Preprocess.from_dict(preprocess, shape[0]),
                    name=props.get("name", ""),
                    spec=spec,
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # JSONDecodeError is a ValueError
                from cnnstudio.core.errors import UserError

                raise UserError(f"The model's CNN Studio metadata is corrupt ({exc}).") from None
        shape = _shape_from_graph(graph_input_shape)
        names: tuple[str, ...] = ()
        for key in ("class_names", "names", "labels", "classes"):
            if key in props:
                names = _parse_names(props[key])
                break
        if not names and num_outputs:
            names = tuple(f"class {i}" for i in range(num_outputs))
        return cls(input_shape=shape, class_names=names, preprocess=Preprocess.from_dict({}, shape[0]), ours=False)


def _shape_from_graph(shape: Any) -> tuple[int, int, int]:
    from cnnstudio.core.errors import UserError

    dims = list(shape or [])
    if len(dims) != 4:
        raise UserError(f"This model's input has shape {dims}; an image model takes N x C x H x W.")
    c, h, w = dims[1:]
    if not all(isinstance(d, int) and d > 0 for d in (c, h, w)):
        raise UserError(f"This model's input size {dims} is not fixed; CNN Studio needs a fixed C x H x W.")
    if c not in (1, 3):
        raise UserError(f"This model takes {c} input channels; CNN Studio runs image models with 1 or 3.")
    return (c, h, w)


def _parse_names(text: str) -> tuple[str, ...]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            import ast

            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return tuple(s.strip() for s in text.split(",") if s.strip())
    if isinstance(value, dict):
        keys = list(value)
        if all(str(k).strip().lstrip("-").isdecimal() for k in keys):
            keys.sort(key=lambda k: int(k))  # {"0": "cat", "1": "dog"}: by index
        return tuple(str(value[k]) for k in keys)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return ()
