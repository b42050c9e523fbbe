"""Follow a study that other machines are filling: Refresh (F5), an automatic refresh, "Run on a cluster…".

Workers started by a launch script (docs/scale-out.md) write their trials into the shared Optuna
storage; the Experiments workspace reads the study from there (``refresh_results``), so following it is
reading it again now and then. The automatic refresh skips a tick while this window runs its own study
(whose events already redraw the views).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QWidget

#: seconds between two automatic refreshes
FOLLOW_EVERY_S = 10


class StudyFollower(QWidget):
    """Refresh and Follow for ``workspace`` (the Experiments workspace), and its cluster script."""

    def __init__(self, workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the study from its storage again, with the trials other machines "
                                       "have added (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.follow = QCheckBox(f"Follow (every {FOLLOW_EVERY_S} s)")
        self.follow.setToolTip("Refresh by itself while other machines fill the study")
        self.follow.toggled.connect(self._on_follow)
        self.cluster_button = QPushButton("Run on a cluster…")
        self.cluster_button.setToolTip("Preview and save a script that starts search workers on many GPUs or "
                                       "machines, all filling this study")
        self.cluster_button.clicked.connect(self.open_cluster_dialog)
        self.timer = QTimer(self)
        self.timer.setInterval(FOLLOW_EVERY_S * 1000)
        self.timer.timeout.connect(self._tick)
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), workspace)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.refresh)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.follow)
        layout.addStretch(1)
        layout.addWidget(self.cluster_button)

    def refresh(self) -> None:
        self.workspace.refresh_results()

    def _on_follow(self, on: bool) -> None:
        if on:
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        if not self.workspace.running and self.workspace.isVisible():
            self.refresh()

    def open_cluster_dialog(self):
        from cnnstudio.gui.workspaces.train.cluster_dialog import open_cluster_dialog

        section = dict(self.workspace.section())
        return open_cluster_dialog(self.workspace.ctx, self.workspace, "search", section)
