"""What a model file says about itself: the ONNX ``metadata_props`` CNN Studio writes and reads.

Any runner (our Live view, ``cnnstudio predict``, Inspect, Netron) can use an exported model without
side files. Models from other tools have none of these keys; :func:`ModelMeta.from_props` then falls
back to what the graph says (input shape) and generic class names.

Preprocessing turns a natural image (a photo, a camera frame: uint8, dark ink on light paper) into
the network input: convert to gray or RGB, crop to the ink when ``crop_to_content`` (MNIST-style size
normalisation: the digit's bounding box, squared, fills the input as the training digits do), resize
to ``input_shape``, scale to [0, 1], invert when ``invert`` (MNIST-style digits are light ink on
dark), then ``(x - mean) / std`` per channel.
Datasets already hold images in the network's [0, 1] space, so only mean/std applies to them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

META_FORMAT = "cnnstudio-onnx"
META_VERSION = 1


@dataclass(frozen=True)
class Preprocess:
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    scale: float = 1.0 / 255.0
    invert: bool = False
    resize: str = "stretch"  # "stretch" to the input size, or "letterbox"
    crop_to_content: bool = False  # gray models: crop to the ink's bounding box before resizing

    @classmethod
    def from_dict(cls, data: dict | None, channels: int = 1) -> Preprocess:
        data = dict(data or {})
        mean = tuple(float(v) for v in data.get("mean", [0.0] * channels))
        std = tuple(float(v) for v in data.get("std", [1.0] * channels))
        return cls(
            mean=mean,
            std=std,
            scale=float(data.get("scale", 1.0 / 255.0)),
            invert=bool(data.get("invert", False)),
            resize=str(data.get("resize", "stretch")),
            crop_to_content=bool(data.get("crop_to_content", False)),
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "mean": list(self.mean), "std": list(self.std)}


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
                shape = tuple(int(v) for v in json.loads(props["input_shape"]))
                if len(shape) != 3 or min(shape) < 1:
                    raise ValueError(f"input_shape {shape}")
                spec = json.loads(props["spec"]) if props.get("spec") else None
                return cls(
                    input_shape=shape,  # type: ignore[arg-type]
                    class_names=tuple(str(c) for c in json.loads(props.get("class_names", "[]"))),
                    task=props.get("task", "classification"),
                    preprocess=Preprocess.from_dict(json.loads(props.get("preprocess", "{}")), shape[0]),
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
