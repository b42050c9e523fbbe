"""Export a built network: ONNX with CNN Studio's metadata, and a standalone PyTorch source file.

The ONNX file has one input ``input`` (N, C, H, W) with a dynamic batch, the output ``logits`` and,
for localization, ``bbox``. Its ``metadata_props`` are :meth:`ModelMeta.to_props` of the spec
(class names, input shape, preprocessing, the spec itself), so any runner can use it alone.
PyTorch's TorchScript-based exporter (``dynamo=False``) is used: for these small static graphs it
takes about 0.1 s where the ``torch.export``-based one takes about 3 s (and starts a progress thread
and prints to stdout); the trainer exports at the end of every run.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.core.fileio import atomic_write_bytes
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.ml.codegen import export_torch_code, torch_source

__all__ = [
    "MIN_OPSET", "export_onnx", "export_torch_code", "latest_checkpoint", "load_export_source", "onnx_parity",
    "output_names", "torch_source",
]

MIN_OPSET = 17


def output_names(spec: dict) -> list[str]:
    return ["logits", "bbox"] if spec.get("task") == "localization" else ["logits"]


def _legacy_export(model, dummy, path: Path, outputs: list[str], opset: int) -> None:
    dynamic = {"input": {0: "batch"}, **{name: {0: "batch"} for name in outputs}}
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["input"],
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=opset,
        do_constant_folding=True,
        dynamo=False,
    )


def export_onnx(model: torch.nn.Module, spec: dict, path: str | os.PathLike, opset: int = MIN_OPSET) -> Path:
    """Write ``model`` as ONNX to ``path`` (atomically) with the spec's metadata; returns the path."""
    import onnx

    if opset < MIN_OPSET:
        raise UserError(f"ONNX export needs opset {MIN_OPSET} or newer (asked for {opset}).")
    from torch.onnx import _constants  # private, hence the fallback: without it torch's error says it

    max_opset = getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", opset)
    if opset > max_opset:
        raise UserError(f"This PyTorch exports ONNX up to opset {max_opset} (asked for {opset}).")
    target = Path(path)
    outputs = output_names(spec)
    c, h, w = (int(spec["input"][k]) for k in ("channels", "height", "width"))
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with tempfile.TemporaryDirectory(prefix="cnnstudio-onnx-") as tmp:
            raw = Path(tmp) / "model.onnx"
            dummy = torch.zeros(2, c, h, w, device=device)
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                _legacy_export(model, dummy, raw, outputs, opset)
            proto = onnx.load(str(raw))
    finally:
        model.train(was_training)
    del proto.metadata_props[:]
    for key, value in ModelMeta.from_spec(spec).to_props().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "CNN Studio"
    onnx.checker.check_model(proto)
    atomic_write_bytes(target, proto.SerializeToString())
    return target


def onnx_parity(model: torch.nn.Module, path: str | os.PathLike, batch: int = 4, seed: int = 0) -> float:
    """Largest absolute difference between ONNX Runtime and torch on a seeded random batch."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shape = session.get_inputs()[0].shape
    spec = getattr(model, "spec", None)
    if spec is not None:
        c, h, w = (int(spec["input"][k]) for k in ("channels", "height", "width"))
    else:
        c, h, w = (int(d) for d in shape[1:])
    x = np.random.default_rng(seed).standard_normal((batch, c, h, w)).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = model(torch.from_numpy(x).to(device))
    finally:
        model.train(was_training)
    expected = expected if isinstance(expected, tuple) else (expected,)
    if len(expected) != len(got):
        raise UserError(f"The ONNX model has {len(got)} outputs but the network has {len(expected)}.")
    return max(float(np.max(np.abs(e.detach().cpu().numpy() - g))) for e, g in zip(expected, got))


def latest_checkpoint(run_dir: str | os.PathLike) -> Path:
    """The checkpoint holding a run's final weights: ``checkpoints/last.pt`` when it exists.

    The trainer also writes ``best.pt`` and per-epoch ``epoch{N}.pt`` files, whose modification times
    say nothing about which weights are final, so ``last.pt`` is chosen by name. Without it (a folder
    put together by hand) the highest ``epoch{N}.pt``, else the newest ``*.pt`` file is used.
    """
    from cnnstudio.ml.runs import LAST_CHECKPOINT, epoch_checkpoints

    folder = Path(run_dir) / "checkpoints"
    if (folder / LAST_CHECKPOINT).is_file():
        return folder / LAST_CHECKPOINT
    by_epoch = epoch_checkpoints(run_dir)
    if by_epoch:
        return by_epoch[-1][1]
    files = sorted(p for p in folder.glob("*.pt") if p.is_file()) if folder.is_dir() else []
    if not files:
        raise UserError(f"The run folder {run_dir} has no checkpoints (checkpoints/*.pt); was it trained?")
    return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def load_state_dict_file(path: str | os.PathLike) -> dict:
    """A state dict from a checkpoint: a plain ``state_dict`` or a dict holding it under ``"model"``.

    Loaded with ``weights_only=True``: a checkpoint cannot run code.
    """
    import pickle

    try:
        payload = torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"The checkpoint {path} does not exist.") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise UserError(f"The checkpoint {path} cannot be read ({first}).") from None
    if isinstance(payload, dict) and isinstance(payload.get("model"), dict):
        payload = payload["model"]
    if not isinstance(payload, dict) or not all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise UserError(f"The checkpoint {path} holds no model weights (a state dict).")
    return payload


def load_export_source(source: str | os.PathLike, seed: int = 0, checkpoint: str | None = None):
    """``(spec, model, origin)`` for export: a run folder's checkpoint, or a spec with seeded weights."""
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model

    folder = Path(source)
    if folder.is_dir():
        if not (folder / "spec.json").is_file():
            raise UserError(f"The folder {folder} is not a training run (it has no spec.json).")
        spec = load_spec(folder / "spec.json")
        model = build_model(spec)
        ckpt = folder / "checkpoints" / checkpoint if checkpoint else latest_checkpoint(folder)
        state = load_state_dict_file(ckpt)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            first = (str(exc).strip().splitlines() or ["mismatch"])[0][:200]
            raise UserError(f"The checkpoint {ckpt} does not fit the run's network ({first}).") from None
        return spec, model.eval(), f"weights of {ckpt.name}"
    if checkpoint:
        raise UserError("--checkpoint applies to a training run folder, not to a spec.")
    spec = load_spec(source)
    if not -(2**63) <= seed < 2**64:  # what torch.manual_seed takes
        raise UserError(f"The seed {seed} is out of range; use a number from 0 to {2**63 - 1:,}.")
    torch.manual_seed(seed)
    model = build_model(spec).eval()
    return spec, model, f"fresh weights, seed {seed}"
