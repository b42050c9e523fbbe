"""The Experiments workspace: hyperparameter search on Optuna (see workspace.py)."""

from cnnstudio.gui.workspaces.experiments.workspace import Workspace

__all__ = ["Workspace"]
