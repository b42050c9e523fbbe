"""Inspect: look inside a model — feature maps, kernels, predictions, saliency, similar images, mistakes."""

from cnnstudio.gui.workspaces.inspect.workspace import InspectWorkspace as Workspace

__all__ = ["Workspace"]
