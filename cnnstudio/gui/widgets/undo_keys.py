"""Ctrl+Z / redo pressed in a spin box undoes the project edit, not the box's own text history.

A QSpinBox keeps a private text-undo history and claims the undo keys (ShortcutOverride), so a user
who changed a value, saw it applied, and pressed Ctrl+Z with the focus still in the box got nothing:
the Edit menu's project undo never fired. :func:`route_undo_keys` lets those keys through to the
window's undo action once the box's value is committed; text still being typed is undone locally.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox


class _ProjectUndoKeys(QObject):
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(obj, QAbstractSpinBox)
            and (event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)
                 or _is_ctrl_y(event))
            and not is_typing(obj)
        ):
            event.ignore()  # not overridden: the key becomes the window's undo/redo shortcut
            return True
        return False


_FILTER: _ProjectUndoKeys | None = None


def _is_ctrl_y(event) -> bool:
    """Ctrl+Y, the window's redo key on every platform (not a standard redo key on Linux and macOS)."""
    return QKeySequence(event.keyCombination()) == QKeySequence("Ctrl+Y")


def route_undo_keys(*spins: QAbstractSpinBox) -> None:
    """Send committed-state Ctrl+Z / redo in these spin boxes to the project's undo stack."""
    global _FILTER
    if _FILTER is None:
        _FILTER = _ProjectUndoKeys()
    for spin in spins:
        spin.installEventFilter(_FILTER)


def is_typing(spin: QAbstractSpinBox) -> bool:
    """Whether the box shows text that is not yet its value (typed, Enter not pressed)."""
    value = spin.value()
    if spin.specialValueText() and value == spin.minimum():
        shown = spin.specialValueText()
    else:
        shown = spin.prefix() + spin.textFromValue(value) + spin.suffix()
    return spin.text() != shown
