"""NumberGrid: a small grid of numbers, painted like the lecture's slides, optionally editable.

Cells can be highlighted (the kernel window, the output cell), carry a small subscript (the kernel weight
on top of an input value), be fixed (a padding ring, drawn grey and not editable), be blank (an output not
computed yet), and be tinted by value as a heat map. Click a cell and type, or double-click it, to edit.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QLineEdit, QSizePolicy, QWidget

from cnnstudio.core.ops import format_number
from cnnstudio.gui.theme import is_dark, mix, readable_on

WINDOW_COLOUR = QColor(37, 99, 235)  # blue: the kernel window
OUTPUT_COLOUR = QColor(22, 163, 74)  # green: the output cell (the lecture's colours)
PICK_COLOUR = QColor(234, 88, 12)  # orange: the value a max/min pool picks


def diverging_colour(value: float, scale: float, alpha: int = 255) -> QColor:
    """Blue for negative, white for zero, red for positive; ``scale`` is the value of full colour."""
    if not np.isfinite(value) or scale <= 0:
        return QColor(255, 255, 255, alpha)
    t = max(-1.0, min(1.0, value / scale))
    if t >= 0:
        return QColor(255, int(255 - 175 * t), int(255 - 195 * t), alpha)
    t = -t
    return QColor(int(255 - 200 * t), int(255 - 130 * t), 255, alpha)


class NumberGrid(QWidget):
    """A grid of numbers; see the module docstring."""

    values_changed = Signal()  # after the user edited a cell
    invalid_entry = Signal(str)  # a sentence saying why a typed value was not taken
    cell_clicked = Signal(int, int)

    def __init__(self, values=None, parent: QWidget | None = None, *, editable: bool = False,
                 cell_size: int = 38, heat: bool = False, tint: QColor | None = None):
        super().__init__(parent)
        self._values = np.zeros((1, 1))
        self._editable = editable
        self._cell = cell_size
        self._heat = heat
        self._tint = tint
        self._fixed = np.zeros((1, 1), bool)
        self._blank = np.zeros((1, 1), bool)
        self._highlights: list[tuple[set, QColor, bool]] = []  # cells, colour, filled
        self._subscripts: dict[tuple[int, int], str] = {}
        self._current: tuple[int, int] | None = None
        self._editor: QLineEdit | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if editable else Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_values(np.zeros((3, 3)) if values is None else values)

    # --- data ------------------------------------------------------------------------------------
    def set_values(self, values) -> None:
        arr = np.array(values, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError("NumberGrid shows 2-D grids")
        reshaped = arr.shape != self._values.shape
        self._values = arr
        if reshaped:
            self._fixed = np.zeros(arr.shape, bool)
            self._blank = np.zeros(arr.shape, bool)
            self._highlights = []
            self._subscripts = {}
            self._current = None
            self._fit()
        self.update()

    def values(self) -> np.ndarray:
        return self._values.copy()

    def shape(self) -> tuple[int, int]:
        return self._values.shape

    def set_fixed(self, mask) -> None:
        """Cells that are part of the picture but not of the data (a padding ring): grey, not editable."""
        self._fixed = np.asarray(mask, bool).reshape(self._values.shape)
        self.update()

    def set_blank(self, mask) -> None:
        """Cells drawn empty (outputs not computed yet)."""
        self._blank = np.asarray(mask, bool).reshape(self._values.shape)
        self.update()

    def set_highlights(self, highlights: list[tuple[set, QColor, bool]]) -> None:
        """``[(cells, colour, filled), ...]``: outline (and lightly fill) groups of (row, col) cells."""
        self._highlights = [(set(cells), QColor(colour), filled) for cells, colour, filled in highlights]
        self.update()

    def set_subscripts(self, subscripts: dict[tuple[int, int], str]) -> None:
        self._subscripts = dict(subscripts)
        self.update()

    def set_heat(self, on: bool) -> None:
        self._heat = on
        self.update()

    def set_cell_size(self, size: int) -> None:
        self._cell = max(14, int(size))
        self._fit()
        self.update()

    def _fit(self) -> None:
        # a fixed minimum size too, so that layouts with word-wrapped labels never squeeze the grid
        self.setMinimumSize(self.sizeHint())
        self.updateGeometry()
        self.adjustSize()

    def cell_size(self) -> int:
        return self._cell

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if editable else Qt.FocusPolicy.NoFocus)

    # --- geometry --------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        rows, cols = self._values.shape
        return QSize(cols * self._cell + 1, rows * self._cell + 1)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.sizeHint()

    def cell_rect(self, row: int, col: int) -> QRect:
        return QRect(col * self._cell, row * self._cell, self._cell, self._cell)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        row, col = pos.y() // self._cell, pos.x() // self._cell
        rows, cols = self._values.shape
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    # --- painting --------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        rows, cols = self._values.shape
        finite = self._values[np.isfinite(self._values) & ~self._fixed & ~self._blank]
        scale = float(np.max(np.abs(finite))) if finite.size else 1.0
        base_font = QFont(self.font())
        metrics_width = self._cell - 6
        big = QFont(base_font)
        big.setPointSizeF(max(7.0, min(12.5, self._cell * 0.32)))
        small = QFont(base_font)
        small.setPointSizeF(max(6.0, big.pointSizeF() * 0.62))
        small.setBold(True)
        grid_pen = QPen(QColor(150, 150, 150), 1)
        palette = self.palette()
        dark = is_dark(palette)
        base = palette.color(QPalette.ColorRole.Base)
        fills = {}
        for cells, colour, filled in self._highlights:
            if filled:
                light = QColor(colour)
                light.setAlpha(55)
                for cell in cells:
                    fills[cell] = light
        for r in range(rows):
            for c in range(cols):
                rect = self.cell_rect(r, c)
                value = self._values[r, c]
                # the lecture's light cells; in a dark theme the same tints, darkened towards the base colour
                if self._fixed[r, c]:
                    bg = palette.color(QPalette.ColorRole.Mid) if dark else QColor(222, 222, 222)
                elif self._blank[r, c]:
                    bg = base if dark else QColor(248, 248, 248)
                elif self._heat:
                    bg = diverging_colour(value, scale)
                    bg = mix(bg, base, 0.35) if dark else bg
                elif self._tint is not None:
                    bg = mix(QColor(self._tint), base, 0.78) if dark else QColor(self._tint)
                else:
                    bg = base if dark else QColor(255, 255, 255)
                painter.fillRect(rect, bg)
                if (r, c) in fills:
                    painter.fillRect(rect, fills[(r, c)])
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if self._blank[r, c]:
                    continue
                text = format_number(value, 3 if abs(value) < 100 else 1)
                font = QFont(big)
                fm = QFontMetrics(font)
                while fm.horizontalAdvance(text) > metrics_width and font.pointSizeF() > 6:
                    font.setPointSizeF(font.pointSizeF() - 0.5)
                    fm = QFontMetrics(font)
                painter.setFont(font)
                ink = readable_on(bg)
                painter.setPen(mix(ink, bg, 0.4) if self._fixed[r, c] else ink)
                sub = self._subscripts.get((r, c))
                text_rect = rect.adjusted(0, 0, 0, -int(self._cell * 0.18)) if sub else rect
                painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, text)
                if sub:
                    painter.setFont(small)
                    painter.setPen(QColor(140, 180, 255) if readable_on(bg).lightness() > 128 else QColor(29, 78, 216))
                    painter.drawText(rect.adjusted(2, 0, -3, -1),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, sub)
        for cells, colour, _filled in self._highlights:
            painter.setPen(QPen(colour, 3))
            for (r, c) in cells:
                if 0 <= r < rows and 0 <= c < cols:
                    painter.drawRect(self.cell_rect(r, c).adjusted(1, 1, -1, -1))
        if self._current is not None and self._editable and self.hasFocus():
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 2, Qt.PenStyle.DashLine))
            painter.drawRect(self.cell_rect(*self._current).adjusted(2, 2, -2, -2))
        painter.end()

    # --- editing ---------------------------------------------------------------------------------
    def _editable_cell(self, cell) -> bool:
        return self._editable and cell is not None and not self._fixed[cell]

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        cell = self.cell_at(event.position().toPoint())
        if cell is not None:
            self.cell_clicked.emit(*cell)
            if self._editable_cell(cell):
                self._current = cell
                self.setFocus()
                self.update()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        cell = self.cell_at(event.position().toPoint())
        if self._editable_cell(cell):
            self.edit_cell(*cell)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if not self._editable or self._current is None:
            super().keyPressEvent(event)
            return
        key = event.key()
        moves = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0)}
        if key in moves:
            self._move(*moves[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2):
            self.edit_cell(*self._current)
        elif event.text() and event.text() in "0123456789-.+−":
            self.edit_cell(*self._current, initial=event.text())
        else:
            super().keyPressEvent(event)

    def _move(self, dr: int, dc: int) -> None:
        rows, cols = self._values.shape
        r, c = self._current or (0, 0)
        for _ in range(rows * cols):
            r, c = (r + dr) % rows, (c + dc) % cols
            if not self._fixed[r, c]:
                break
        self._current = (r, c)
        self.update()

    def edit_cell(self, row: int, col: int, initial: str | None = None) -> None:
        """Open an in-place editor on a cell (typing replaces the value; Enter keeps it, Esc cancels)."""
        self._close_editor(commit=False)
        self._current = (row, col)
        editor = _CellEditor(self)
        editor.setGeometry(self.cell_rect(row, col).adjusted(1, 1, 0, 0))
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        editor.setText(initial if initial is not None else format_number(self._values[row, col], 6).replace("−", "-"))
        if initial is None:
            editor.selectAll()
        # bound methods, not lambdas holding this grid: the editor (its child) is deleted on its own, and a
        # lambda freed in its destructor could drop the last reference to a parentless grid, deleting the
        # grid, and the editor again, inside the editor's destructor (a crash)
        editor.committed.connect(self._commit_editor)
        editor.cancelled.connect(self._cancel_editor)
        self._editor = editor
        editor.show()
        editor.setFocus()

    def editor(self) -> QLineEdit | None:
        return self._editor

    def _commit_editor(self) -> None:
        if self.sender() is self._editor:
            self._close_editor(commit=True)

    def _cancel_editor(self) -> None:
        if self.sender() is self._editor:
            self._close_editor(commit=False)

    def _close_editor(self, commit: bool) -> None:
        editor, self._editor = self._editor, None
        if editor is None:
            return
        text = editor.text().strip().replace("−", "-").replace(",", ".")
        editor.hide()
        editor.deleteLater()
        self.setFocus()
        if not commit or self._current is None:
            return
        try:
            value = float(text)
        except ValueError:
            self.invalid_entry.emit(f"“{text}” is not a number; the cell keeps its value.")
            return
        if not np.isfinite(value):
            self.invalid_entry.emit("Only finite numbers can go into the grid.")
            return
        if value != self._values[self._current]:
            self._values[self._current] = value
            self.update()
            self.values_changed.emit()

    def set_cell(self, row: int, col: int, value: float) -> None:
        """Set one cell as if the user typed it (emits ``values_changed``)."""
        self._values[row, col] = float(value)
        self.update()
        self.values_changed.emit()


class _CellEditor(QLineEdit):
    committed = Signal()
    cancelled = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self._done = False
        self.setFrame(False)
        self.setStyleSheet("QLineEdit { border: 2px solid #2563eb; background: palette(base); color: palette(text); }")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
            self._finish(self.committed)
        elif event.key() == Qt.Key.Key_Escape:
            self._finish(self.cancelled)
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().focusOutEvent(event)
        self._finish(self.committed)

    def _finish(self, signal) -> None:
        if not self._done:
            self._done = True
            signal.emit()


__all__ = ["OUTPUT_COLOUR", "PICK_COLOUR", "WINDOW_COLOUR", "NumberGrid", "diverging_colour"]
