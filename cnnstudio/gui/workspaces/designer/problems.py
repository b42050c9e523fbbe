"""The problems list: every sentence inference reports; activating one selects its layer."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget


class ProblemsList(QListWidget):
    layer_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setToolTip("What stops this network from being built; click a problem to select its layer")
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)
        self._messages: list[str] = []
        self._owners: list[str | None] = []  # layer id per row (kept in Python: see _activated)

    def messages(self) -> list[str]:
        return list(self._messages)

    def set_problems(self, problems: list[str], layer_errors: dict[str, str]) -> None:
        """``problems``: all sentences; ``layer_errors``: layer id -> its message (to link them)."""
        if problems == self._messages:
            return
        self._messages = list(problems)
        self._owners = []
        self.clear()
        if not problems:
            item = QListWidgetItem(
                self.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
                "No problems: the network can be built and trained.",
            )
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(item)
            return
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for message in problems:
            item = QListWidgetItem(icon, message)
            item.setToolTip(message)
            owner = next((lid for lid, err in layer_errors.items() if err and message in err), None)
            self._owners.append(owner)
            item.setForeground(QColor("#c62828"))
            self.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        # Row lookup instead of item.data(): reading an unset role returns an invalid QVariant, which
        # PySide6 6.12 on Python 3.11 converts to None with one reference too few (it crashes later).
        row = self.row(item)
        owner = self._owners[row] if 0 <= row < len(self._owners) else None
        if owner:
            self.layer_activated.emit(owner)
