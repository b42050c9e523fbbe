"""The Lab workspace: transfer learning and the robustness lab (adversarial examples, natural
transformations, dataset bias, adversarial fairness)."""

from cnnstudio.gui.workspaces.robustness.workspace import Workspace

__all__ = ["Workspace"]
