"""The Designer workspace: build conv/pool/dense networks with live shapes and parameter counts."""

from cnnstudio.gui.workspaces.designer.workspace import Workspace

__all__ = ["Workspace"]
