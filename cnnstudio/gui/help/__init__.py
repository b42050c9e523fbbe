"""The Help menu's windows: the user guide rendered in-app and the list of keyboard shortcuts."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

#: the guide page for each workspace (F1 opens the page of the workspace on screen)
WORKSPACE_PAGES = {"playground": "playground", "designer": "designer", "data": "datasets", "train": "training",
                   "inspect": "inspect", "live": "live", "robustness": "lab"}


class HelpActions:
    """Adds User Guide (F1) and Keyboard Shortcuts to ``menu`` of the main ``window``; keeps their windows."""

    def __init__(self, window, menu: QMenu):
        self.window = window
        self.guide = None
        self.shortcuts = None
        first = menu.actions()[0] if menu.actions() else None
        self.action_guide = QAction("&User Guide", window)
        self.action_guide.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.action_guide.setStatusTip("The user guide, opened at the page of the workspace on screen")
        self.action_guide.triggered.connect(lambda _c=False: self.show_guide())
        self.action_shortcuts = QAction("&Keyboard Shortcuts", window)
        self.action_shortcuts.setStatusTip("Every keyboard shortcut of the app")
        self.action_shortcuts.triggered.connect(lambda _c=False: self.show_shortcuts())
        menu.insertAction(first, self.action_guide)
        menu.insertAction(first, self.action_shortcuts)
        if first is not None:
            menu.insertSeparator(first)

    def show_guide(self, page: str | None = None):
        from cnnstudio.gui.help.guide import UserGuide

        if self.guide is None:
            self.guide = UserGuide(self.window)
        name = page or WORKSPACE_PAGES.get(self.window.current_workspace_name(), "")
        if not name or not self.guide.open_page(name):
            if self.guide.current_page() is None and self.guide.pages():
                self.guide.open_page(self.guide.pages()[0][1])
        self.guide.show()
        self.guide.raise_()
        return self.guide

    def show_shortcuts(self):
        from cnnstudio.gui.help.shortcuts import ShortcutsDialog, window_shortcuts

        if self.shortcuts is not None:
            self.shortcuts.close()
            self.shortcuts.deleteLater()
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # the workspaces not built yet are built now
        try:
            entries = window_shortcuts(self.window)
        finally:
            QApplication.restoreOverrideCursor()
        self.shortcuts = ShortcutsDialog(entries, self.window)
        self.shortcuts.show()
        return self.shortcuts
