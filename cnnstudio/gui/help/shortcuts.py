"""Help → Keyboard Shortcuts: every shortcut of the app, read from its QActions (and described QShortcuts).

Nothing here is a hand-written list: a new action with a shortcut shows up by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

EVERYWHERE = "Everywhere"


@dataclass(frozen=True)
class ShortcutEntry:
    keys: str  # as the platform writes it ("Ctrl+Z"; "⌘Z" on macOS)
    portable: str  # QKeySequence.PortableText ("Ctrl+Z" everywhere), for tests and searching
    text: str  # what it does
    where: str  # the workspace it belongs to, or EVERYWHERE


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip()


def _owner(obj: QObject, titles: dict[QObject, str]) -> str:
    node = obj.parent()
    while node is not None:
        if node in titles:
            return titles[node]
        node = node.parent()
    return EVERYWHERE


def collect_shortcuts(root: QWidget, workspace_titles: dict[QObject, str] | None = None) -> list[ShortcutEntry]:
    """Every shortcut of ``root``'s QActions (and QShortcuts that carry a whatsThis description).

    ``workspace_titles`` maps workspace widgets to their titles so each shortcut says where it works.
    """
    titles = workspace_titles or {}
    seen: set[tuple[str, str, str]] = set()
    entries: list[ShortcutEntry] = []

    def add(sequence: QKeySequence, text: str, where: str) -> None:
        portable = sequence.toString(QKeySequence.SequenceFormat.PortableText)
        if not portable or not text:
            return
        key = (portable, text, where)
        if key not in seen:
            seen.add(key)
            native = sequence.toString(QKeySequence.SequenceFormat.NativeText)
            entries.append(ShortcutEntry(native, portable, text, where))

    for action in root.findChildren(QAction):
        text = _clean(action.text()) or _clean(action.toolTip())
        for sequence in action.shortcuts():
            add(sequence, text, _owner(action, titles))
    for shortcut in root.findChildren(QShortcut):
        if shortcut.whatsThis():
            for sequence in shortcut.keys():
                add(sequence, shortcut.whatsThis(), _owner(shortcut, titles))
    entries.sort(key=lambda e: (e.where != EVERYWHERE, e.where, e.portable))
    return entries


def window_shortcuts(window) -> list[ShortcutEntry]:
    """All shortcuts of the main window, with every workspace built first (they are built lazily)."""
    titles: dict[QObject, str] = {}
    for entry in window._entries:
        titles[window.workspace(entry.name)] = entry.title
    return collect_shortcuts(window, titles)


class ShortcutsDialog(QDialog):
    """A table: keys, what they do, where they work."""

    def __init__(self, entries: list[ShortcutEntry], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.setObjectName("ShortcutsDialog")
        self.resize(640, 560)
        self.table = QTableWidget(len(entries), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, e in enumerate(entries):
            for col, value in enumerate((e.keys, e.text, e.where)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if col == 0:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel("Read from the app's own actions. Workspace shortcuts work while that workspace is shown.")
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        self.entries = list(entries)

    def rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(r, c).text() for c in range(3)) for r in range(self.table.rowCount())]
