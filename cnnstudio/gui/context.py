"""The application context every workspace receives: the document, its undo stack and app services."""

from __future__ import annotations

import copy
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from cnnstudio.core.project import RECORDED_SECTIONS, ProjectDocument


class SetSectionCommand(QUndoCommand):
    """Replace one section of the document; undo puts the old value back.

    Commands with the same ``merge_key`` pushed one after another merge into one undo step
    (typing in a spin box is one edit, not twenty).
    """

    _MERGE_ID = 1001

    def __init__(self, document: ProjectDocument, section: str, new: Any, text: str, merge_key: str | None):
        super().__init__(text)
        self._doc = document
        self._section = section
        self._old = document.get(section)
        self._new = copy.deepcopy(new)
        self._merge_key = merge_key

    def id(self) -> int:  # noqa: A003 - Qt API
        return self._MERGE_ID if self._merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, SetSectionCommand):
            return False
        if other._merge_key != self._merge_key or other._section != self._section:
            return False
        self._new = copy.deepcopy(other._new)
        return True

    def redo(self) -> None:
        self._doc.set(self._section, self._new)

    def undo(self) -> None:
        self._doc.set(self._section, self._old)


class AppContext(QObject):
    """Shared state and services. Workspaces get it in their constructor.

    - ``document``: the :class:`ProjectDocument` (source of truth; subscribe to its events).
    - ``undo_stack``: every undoable edit goes through :meth:`edit`.
    - ``settings``: QSettings for view preferences.
    - ``device_label``: the compute device, filled in by a background detection (``device_changed``).
    """

    device_changed = Signal(str)
    status_message = Signal(str, int)  # text, timeout in ms (0 = until replaced)

    def __init__(self, document: ProjectDocument | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document or ProjectDocument()
        self.undo_stack = QUndoStack(self)
        self.settings = QSettings()
        self.device_label = "detecting…"
        self.device_kind = ""
        self.library_versions: dict[str, str] = {}
        # the document's dirty flag is exact by itself (it compares with the file); the stack's clean
        # index is not: runs are recorded outside the stack, so "stack clean" need not mean "saved"
        self.document.replaced.connect(self._on_document_replaced)

    def edit(self, section: str, new_value: Any, text: str, merge_key: str | None = None) -> None:
        """Change a document section as one undoable step named ``text``.

        Runs are not edits (:meth:`ProjectDocument.add_run` records them): undo never removes one.
        """
        if section in RECORDED_SECTIONS:
            raise KeyError(f"the section {section!r} is not edited through the undo stack")
        if new_value == self.document.get(section):
            return
        self.undo_stack.push(SetSectionCommand(self.document, section, new_value, text, merge_key))

    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.status_message.emit(text, timeout_ms)

    def set_device(self, kind: str, label: str) -> None:
        self.device_kind = kind
        self.device_label = label
        self.device_changed.emit(label)

    def _on_document_replaced(self) -> None:
        if shiboken6.isValid(self.undo_stack):  # the document may outlive this context (and its stack)
            self.undo_stack.clear()
