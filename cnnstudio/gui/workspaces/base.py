"""The base class of every workspace."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from cnnstudio.gui.context import AppContext


class WorkspaceBase(QWidget):
    """One workspace of the main window.

    Subclasses take ``(ctx, parent=None)``; they read and edit the project through ``ctx.document``
    and ``ctx.edit``, never keeping a private copy of project state.
    """

    #: the suffixes :meth:`open_file` accepts (lower case, with dot); used for drag-and-drop.
    accepted_suffixes: tuple[str, ...] = ()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx

    def activated(self) -> None:
        """Called each time the workspace becomes the visible one."""

    def open_file(self, path: Path) -> bool:
        """Open a dropped or pasted file (an image, say). Return False if this workspace cannot."""
        return False

    def smoke_ready(self) -> bool:
        """For the smoke test: True once the workspace shows its content (async loads finished)."""
        return True

    def shutdown(self) -> None:
        """Stop timers, cameras and worker threads; called once when the window closes."""
