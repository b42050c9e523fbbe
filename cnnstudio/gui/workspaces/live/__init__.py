"""Live: a model on a webcam, a video file or an image slideshow, with overlays and speed figures."""

from cnnstudio.gui.workspaces.live.workspace import LiveWorkspace as Workspace

__all__ = ["Workspace"]
