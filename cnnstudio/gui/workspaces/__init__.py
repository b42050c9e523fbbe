"""The app's workspaces, one sub-package each, shown in this order when they exist.

Each sub-package exposes ``Workspace``, a :class:`cnnstudio.gui.workspaces.base.WorkspaceBase`
subclass. The main window builds a workspace the first time it is shown, so start-up stays fast.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkspaceEntry:
    name: str  # module name and screenshot name, lower case
    title: str
    tooltip: str


ALL_WORKSPACES = (
    WorkspaceEntry("playground", "Playground", "Convolution and pooling on images and small grids, step by step"),
    WorkspaceEntry("designer", "Designer", "Build conv/pool/dense networks with live shapes and parameter counts"),
    WorkspaceEntry("data", "Data", "Choose a dataset, browse samples and preview augmentations"),
    WorkspaceEntry("train", "Train", "Train the network on GPU or CPU with live curves"),
    WorkspaceEntry("inspect", "Inspect", "Feature maps, learned kernels, predictions, saliency, similar images"),
    WorkspaceEntry("live", "Live", "Run a model live on a webcam or video with ONNX Runtime"),
    WorkspaceEntry("experiments", "Experiments",
                   "Hyperparameter search: grid, random and Bayesian (Optuna) studies over settings and layers"),
    WorkspaceEntry("robustness", "Lab", "Transfer learning, adversarial examples, shifts, dataset bias, fairness"),
)


def available_workspaces() -> list[WorkspaceEntry]:
    """The workspaces that are built (their sub-package exists)."""
    return [w for w in ALL_WORKSPACES if importlib.util.find_spec(f"{__name__}.{w.name}") is not None]
