"""The Data workspace: choose a dataset, browse its samples and counts, preview augmentations."""

from cnnstudio.gui.workspaces.data.workspace import Workspace

__all__ = ["Workspace"]
