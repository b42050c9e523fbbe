"""Backbones for transfer learning: the bundled letters backbone, local weight files, torchvision models.

- The **bundled backbone** (``models/backbone-letters.safetensors``, made by ``scripts/make_backbone.py``)
  is a small CNN Studio network pretrained on printed letters; its spec travels in the safetensors
  metadata (format ``cnnstudio-backbone``), so one file is the whole backbone.
- **torchvision** classification models (resnet18, mobilenet_v3_small, efficientnet_b0 ...) are built
  without weights and get theirs from a local file or from torch's own cache (``TORCH_HOME``), filled
  by :func:`download_weights` only when the user asks.
- Weight files load without pickle code: ``torch.load(weights_only=True)`` or safetensors.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from cnnstudio.core.errors import UserError
from cnnstudio.core.paths import models_dir

BACKBONE_FORMAT = "cnnstudio-backbone"
BACKBONE_VERSION = 1
BUNDLED_BACKBONE = "backbone-letters.safetensors"
#: torchvision classification models offered by name (any other torchvision classification name works too)
TORCHVISION_BACKBONES = ("resnet18", "mobilenet_v3_small", "efficientnet_b0", "resnet50", "mobilenet_v3_large")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")  # torchvision file names end in -<sha256 prefix>.pth


@dataclass
class Backbone:
    """A pretrained network ready to transfer: its module, its freezable blocks and its head."""

    name: str
    kind: str  # "spec" (a CNN Studio network) or "torchvision"
    model: nn.Module
    blocks: list[str]  # freezable units, input to output: layer ids (spec) or top-level children (torchvision)
    head: str  # the block the target task replaces (the last linear layer)
    input_shape: tuple[int, int, int]
    preprocess: dict
    spec: dict | None = None  # for kind "spec"
    source_classes: list[str] = field(default_factory=list)
    description: str = ""
    pretrained: bool = True


@dataclass(frozen=True)
class DownloadProgress:
    done: int  # bytes received
    total: int  # bytes expected (0 when the server does not say)
    path: str


# --- weight files ---------------------------------------------------------------------------------
def load_state_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors of a ``.pth``/``.pt`` (weights only) or ``.safetensors`` file, and its metadata.

    A CNN Studio checkpoint (``{"model": state_dict, ...}``) or a ``{"state_dict": ...}`` wrapper is
    unwrapped. Anything else than a mapping of tensors is a UserError.
    """
    p = Path(path)
    if not p.is_file():
        raise UserError(f"The weights file {p} does not exist.")
    meta: dict[str, str] = {}
    if p.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(p), framework="pt") as f:
                meta = dict(f.metadata() or {})
                state = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"The weights file {p} is not a valid safetensors file ({exc}).") from None
    else:
        from cnnstudio.ml.run_folder import load_checkpoint

        state = load_checkpoint(p)["model"]  # the one checkpoint loader (weights_only=True)
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"The weights file {p} holds no network weights (a mapping of names to tensors).")
    return {str(k): v for k, v in state.items()}, meta


def save_backbone(path: str | Path, spec: dict, model: nn.Module, info: dict | None = None) -> Path:
    """Write a spec network's weights and spec as one safetensors file (atomically)."""
    from safetensors.torch import save

    from cnnstudio.core.fileio import atomic_write_bytes

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": BACKBONE_FORMAT, "version": str(BACKBONE_VERSION), "spec": json.dumps(spec),
            "info": json.dumps(info or {})}
    target = Path(path)
    atomic_write_bytes(target, save(state, metadata=meta))
    return target


def bundled_backbone_path() -> Path:
    return models_dir() / BUNDLED_BACKBONE


# --- loading ----------------------------------------------------------------------------------------
def load_backbone(source: str | Path = "bundled", weights: str | Path | None = None,
                  input_size: int = 64) -> Backbone:
    """The backbone named by ``source``: ``"bundled"``, a torchvision model name, or a backbone file.

    For a torchvision model ``weights`` is a local weights file; without it the file torch's cache holds
    (after :func:`download_weights`) is used, and without that a UserError says how to get one.
    """
    text = str(source)
    if text == "bundled":
        path = bundled_backbone_path()
        if not path.is_file():
            raise UserError(f"The bundled backbone {path} is missing; make it with scripts/make_backbone.py.")
        return _spec_backbone(path)
    if _is_torchvision_name(text):
        return _torchvision_backbone(text, weights, input_size)
    path = Path(text)
    if path.suffix.lower() in (".safetensors",) and path.is_file():
        return _spec_backbone(path)
    if path.exists():
        raise UserError(f"{path} is not a CNN Studio backbone (.safetensors made by save_backbone); for a "
                        "torchvision model give its name and the weights file with --weights.")
    names = ", ".join(TORCHVISION_BACKBONES)
    raise UserError(f"Unknown backbone {text!r}: use bundled, a torchvision model ({names}, ...) or a backbone file.")


def _spec_backbone(path: Path) -> Backbone:
    from cnnstudio.core.formats import upgrade
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model

    state, meta = load_state_file(path)
    try:
        header = {"format": meta.get("format"), "version": int(meta.get("version", "0"))}
    except ValueError:
        header = {"format": meta.get("format"), "version": 0}
    upgrade(header, BACKBONE_FORMAT, BACKBONE_VERSION, source=f"The backbone {path}")
    try:
        spec = load_spec(json.loads(meta["spec"]))
        info = json.loads(meta.get("info", "{}"))
    except (KeyError, json.JSONDecodeError):
        raise UserError(f"The backbone {path} has no readable network spec in its metadata.") from None
    model = build_model(spec)
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise UserError(f"The weights in {path} do not match the network its metadata describes.") from None
    layers = spec["layers"]
    linear = [layer["id"] for layer in layers if layer["type"] == "linear"]
    if not linear:
        raise UserError(f"The backbone {path} has no linear layer to replace as the head.")
    blocks = [layer["id"] for layer in layers if any(True for _ in model.layers[layer["id"]].parameters())]
    inp = spec["input"]
    return Backbone(
        name=str(spec.get("name") or path.stem), kind="spec", model=model, blocks=blocks, head=linear[-1],
        input_shape=(int(inp["channels"]), int(inp["height"]), int(inp["width"])),
        preprocess=dict(spec.get("preprocess") or {}), spec=spec, source_classes=list(spec.get("classes") or []),
        description=str(info.get("description") or spec.get("description") or ""),
    )


def _is_torchvision_name(name: str) -> bool:
    if "/" in name or "\\" in name or "." in name:
        return False
    from torchvision import models

    return name in models.list_models(module=models)


def _torchvision_backbone(name: str, weights: str | Path | None, input_size: int) -> Backbone:
    if not 16 <= int(input_size) <= 512:  # ImageNet networks downsample 32 times: smaller inputs vanish
        raise UserError(f"The input size of a torchvision backbone must be from 16 to 512 pixels, not {input_size}.")
    from torchvision import models

    model = models.get_model(name, weights=None)
    path = Path(weights) if weights else cached_weights_path(name)
    if path is None or not path.is_file():
        if weights:
            raise UserError(f"The weights file {weights} does not exist.")
        raise UserError(f"No pretrained weights for {name} on this computer; download them (GUI: Download, CLI: "
                        "--download) or give a weights file with --weights.")
    state, _ = load_state_file(path)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if len(missing) == len(model.state_dict()) or unexpected and len(unexpected) == len(state):
        raise UserError(f"The weights in {path} are not {name} weights.")
    if missing:
        raise UserError(f"The weights in {path} lack {len(missing)} of {name}'s tensors (e.g. {missing[0]}).")
    head = last_linear_name(model)
    blocks = [n for n, m in model.named_children() if any(True for _ in m.parameters())]
    return Backbone(
        name=name, kind="torchvision", model=model, blocks=blocks, head=head,
        input_shape=(3, int(input_size), int(input_size)),
        preprocess={"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
        description=f"torchvision {name} with weights from {path.name}",
    )


def last_linear_name(model: nn.Module) -> str:
    """The dotted name of the module's last ``nn.Linear`` (the classification head)."""
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise UserError("The backbone has no linear layer to replace as the head.")
    return names[-1]


def replace_module(model: nn.Module, dotted: str, new: nn.Module) -> None:
    parent = model
    *path, last = dotted.split(".")
    for part in path:
        parent = getattr(parent, part)
    setattr(parent, last, new)


# --- torch's cache and the one download -----------------------------------------------------------
def weights_url(name: str) -> str:
    """The URL of torchvision's default (best) pretrained weights for model ``name``."""
    from torchvision import models

    try:
        enum = models.get_model_weights(name)
    except (ValueError, KeyError):
        raise UserError(f"torchvision has no pretrained weights for {name!r}.") from None
    return str(enum.DEFAULT.url)


def cached_weights_path(name: str) -> Path | None:
    """Where torch's cache (``TORCH_HOME``/hub/checkpoints) holds ``name``'s weights, if it does."""
    path = _cache_path(weights_url(name))
    return path if path.is_file() else None


def _cache_path(url: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url.split("?")[0]).name


def download_weights(name: str, url: str | None = None, chunk: int = 1 << 16
                     ) -> Generator[DownloadProgress, None, Path]:
    """Download ``name``'s pretrained weights once into torch's cache, yielding byte progress.

    Returns the file's path (at once when it is already cached). The file name's hash prefix is
    checked as torch.hub does; a partial download never takes the final name.
    """
    import urllib.error
    import urllib.request

    url = url or weights_url(name)
    target = _cache_path(url)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:  # noqa: S310
            total = int(response.headers.get("Content-Length") or 0)
            yield DownloadProgress(0, total, str(target))
            while True:
                block = response.read(chunk)
                if not block:
                    break
                out.write(block)
                digest.update(block)
                done += len(block)
                yield DownloadProgress(done, total, str(target))
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise UserError(f"Could not download {name}'s weights from {url}: {reason}.") from None
    match = _HASH_IN_NAME.search(target.name)
    if match and match.group(1) and not digest.hexdigest().startswith(match.group(1)):
        partial.unlink(missing_ok=True)
        raise UserError(f"The download of {name}'s weights is damaged (checksum mismatch); try again.")
    partial.replace(target)
    return target
