"""The Train workspace: settings, Start/Pause/Stop, live curves, confusion matrix, run history."""

from cnnstudio.gui.workspaces.train.workspace import Workspace

__all__ = ["Workspace"]
