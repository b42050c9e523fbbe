"""The model a robustness experiment studies, with the data it was trained on, in pixel space.

:class:`PixelModel` wraps a trained network so that it takes images in [0, 1] and returns logits: the
attacks and transformations work on pixels (clamped to [0, 1]) while the network keeps its own
normalisation. A :class:`Subject` comes from a run folder (:func:`subject_from_run`) or is trained on
the spot (:func:`train_subject`, a generator of trainer events, a few seconds for LeNet-5 on the digits).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import torch
from torch import nn

from cnnstudio.core.errors import UserError

#: the model the Lab trains when none is loaded: LeNet-5 on the built-in digits, no augmentation
DEFAULT_SPEC = "lenet5"
DEFAULT_DATA = {"source": "digits", "val_fraction": 0.2, "seed": 0}
DEFAULT_TRAINING = {"epochs": 6, "seed": 0, "batch_size": 32, "lr": 0.002}


class PixelModel(nn.Module):
    """``logits = net((x - mean) / std)`` for ``x`` in [0, 1]; the box output of a localizer is dropped."""

    def __init__(self, net: nn.Module, mean, std, channels: int):
        super().__init__()
        self.net = net
        mean = [float(v) for v in mean] if len(mean) == channels else [float(mean[0])] * channels
        std = [float(v) for v in std] if len(std) == channels else [float(std[0])] * channels
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net((x - self.mean) / self.std)
        return out[0] if isinstance(out, tuple) else out


def pixel_model(spec: dict, net: nn.Module) -> PixelModel:
    from cnnstudio.ml.trainer import preprocess_of

    pre = preprocess_of(spec)
    return PixelModel(net, pre.mean, pre.std, int(spec["input"]["channels"])).eval()


@dataclass
class Subject:
    """A trained model in pixel space, its spec and data (fitted to the network's input), and where from."""

    model: PixelModel
    spec: dict
    data: object  # DatasetBundle
    data_config: dict
    training: dict
    name: str

    @property
    def classes(self) -> list[str]:
        return list(self.data.classes)


def predict(model: nn.Module, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Softmax probabilities (N, classes) of pixel images ``x``, in batches, without gradients."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, int(x.shape[0]), batch):
            out.append(torch.softmax(model(x[start:start + batch].to(device)), 1).cpu())
    return torch.cat(out) if out else torch.zeros(0)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    if len(y) == 0:
        return float("nan")
    return float((predict(model, x).argmax(1) == y.cpu()).float().mean())


def subject_from_run(run_dir) -> Subject:
    """The model of a run folder (last checkpoint) with the dataset of its config."""
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.runs import load_run, load_run_model

    info = load_run(run_dir)
    spec, net = load_run_model(info.path)
    data_config = dict(info.config.get("data") or {})
    if not data_config:
        raise UserError(f"The run {info.path} does not record its dataset, so it cannot be evaluated here.")
    inp = spec["input"]
    data = load_dataset(data_config).fit_to(int(inp["channels"]), int(inp["height"]), int(inp["width"]))
    return Subject(pixel_model(spec, net), spec, data, data_config, dict(info.training), info.path.name)


def train_subject(spec=DEFAULT_SPEC, data_config: dict | None = None, training: dict | None = None,
                  augment: dict | None = None, control=None, name: str = "") -> Generator[object, None, Subject]:
    """Train ``spec`` on ``data_config`` (default LeNet-5 on the digits); yields trainer events, returns it.

    ``augment`` (the data config's "augment" dict) trains with that augmentation: the Lab's "fix".
    """
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.trainer import TrainConfig

    spec = load_spec(spec)
    data_config = dict(data_config or DEFAULT_DATA)
    if augment is not None:
        data_config["augment"] = dict(augment)
    config = TrainConfig.from_dict({**DEFAULT_TRAINING, **(training or {})})
    inp = spec["input"]
    data = load_dataset(data_config).fit_to(int(inp["channels"]), int(inp["height"]), int(inp["width"]))
    spec = dict(spec)
    spec["classes"] = list(data.classes)
    net = yield from train_fresh(spec, data, config, control, data_config)
    return Subject(pixel_model(spec, net.cpu()), spec, data, data_config, config.to_dict(),
                   name or f"{spec.get('name', 'network')} on {data.name}")


def train_fresh(spec: dict, data, config, control=None, data_config: dict | None = None):
    """Train a network built afresh from ``spec`` (seeded by the config) on ``data``, yielding the
    trainer's events; returns the trained network in eval mode. A failed or cancelled run is a UserError."""
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import Failed, Finished, train

    torch.manual_seed(config.seed)
    net = build_model(spec)
    end = None
    for event in train(spec, data, config, None, control, data_config=data_config, export=False, model=net):
        if isinstance(event, (Finished, Failed)):
            end = event
        yield event
    if isinstance(end, Failed):
        raise UserError(end.message)
    if end is None or end.status == "cancelled":
        raise UserError("Training was cancelled.")
    return net.eval()


def drive(gen: Generator):
    """Run a generator to its end and return its value (for callers that want no progress)."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def image_pixels(path, spec: dict) -> torch.Tensor:
    """An image file as the (C, H, W) [0, 1] pixels the network sees (its preprocessing without the
    normalisation: gray or RGB, crop to the ink and inversion as the spec says, resize)."""
    from cnnstudio.core.model_meta import ModelMeta
    from cnnstudio.ml.preprocess import load_image, to_model_input

    meta = ModelMeta.from_spec(spec)
    x = torch.from_numpy(to_model_input(load_image(path), meta))[0]
    channels = x.shape[0]
    pre = meta.preprocess
    mean = torch.tensor([float(v) for v in pre.mean] * (channels if len(pre.mean) == 1 else 1)).view(-1, 1, 1)
    std = torch.tensor([float(v) for v in pre.std] * (channels if len(pre.std) == 1 else 1)).view(-1, 1, 1)
    return (x * std + mean).clamp(0.0, 1.0)
