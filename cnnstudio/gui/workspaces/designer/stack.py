"""The layer stack: one block per layer with its description, output shape and parameter count.

A list model holds plain rows computed from the document; refreshing updates the rows in place
(``dataChanged``) when the layer ids are unchanged, so an edit repaints, never rebuilds. Drops (palette
types and reordering drags) are handed to a callback that edits the document; the view never changes
its rows by itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from cnnstudio.gui.workspaces.designer.icons import category_colour, layer_pixmap
from cnnstudio.gui.workspaces.designer.palette import LAYER_TYPE_MIME

#: drag payload of blocks being reordered: JSON list of layer ids
LAYER_IDS_MIME = "application/x-cnnstudio-layer-ids"
ERROR_BG = QColor("#ffebee")
ERROR_EDGE = QColor("#e53935")
FROZEN = QColor("#5c7f99")
ROW_HEIGHT = 50


@dataclass(frozen=True)
class BlockRow:
    """What one block shows (all plain data, compared to decide what to repaint)."""

    id: str
    type: str
    title: str
    category: str
    description: str
    shape_text: str
    params: int
    trainable: bool
    error: str | None
    help: str = ""

    @property
    def tooltip(self) -> str:
        lines = [f"<b>{self.id}</b> — {self.title}", self.description]
        if self.error:
            lines.insert(0, f"<span style='color:#c62828'><b>Problem:</b> {self.error}</span>")
        lines.append(
            f"output {self.shape_text}, {self.params:,} parameters" + ("" if self.trainable else " (frozen)")
        )
        if self.help:
            lines.append(f"<i>{self.help}</i>")
        return "<br>".join(lines)


ROW_ROLE = Qt.ItemDataRole.UserRole + 10
ID_ROLE = Qt.ItemDataRole.UserRole + 11


class StackModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[BlockRow] = []
        #: called with (mime data, gap index) for every accepted drop; set by the workspace
        self.drop_handler: Callable[[QMimeData, int], None] | None = None

    # --- content -------------------------------------------------------------------------------
    def rows(self) -> list[BlockRow]:
        return list(self._rows)

    def ids(self) -> list[str]:
        return [row.id for row in self._rows]

    def set_rows(self, rows: list[BlockRow]) -> bool:
        """Show ``rows``; True when the model was reset (ids changed), False when updated in place."""
        if [r.id for r in rows] != [r.id for r in self._rows]:
            self.beginResetModel()
            self._rows = list(rows)
            self.endResetModel()
            return True
        changed = [i for i, (old, new) in enumerate(zip(self._rows, rows, strict=True)) if old != new]
        self._rows = list(rows)
        if changed:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[-1]))
        return False

    # --- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.id}: {row.description}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.id}, {row.description}, output {row.shape_text}, {row.params} parameters"
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802 - Qt API
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802 - Qt API
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt API
        return [LAYER_IDS_MIME, LAYER_TYPE_MIME]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802 - Qt API
        mime = QMimeData()
        ids = [self._rows[i.row()].id for i in sorted(indexes, key=lambda i: i.row()) if i.isValid()]
        mime.setData(LAYER_IDS_MIME, json.dumps(ids).encode("utf-8"))
        return mime

    def canDropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802 - Qt API
        return data.hasFormat(LAYER_IDS_MIME) or data.hasFormat(LAYER_TYPE_MIME)

    def dropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802 - Qt API
        """Work out the gap index and hand the drop to the workspace after the drag has finished.

        Returns False for moves so the view does not remove rows itself: the document edit does.
        """
        if not self.canDropMimeData(data, action, row, column, parent) or self.drop_handler is None:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._rows)
        copy = QMimeData()
        for fmt in (LAYER_IDS_MIME, LAYER_TYPE_MIME):
            if data.hasFormat(fmt):
                copy.setData(fmt, data.data(fmt))
        handler = self.drop_handler
        QTimer.singleShot(0, lambda: handler(copy, row))
        return not data.hasFormat(LAYER_IDS_MIME)


class BlockDelegate(QStyledItemDelegate):
    """Paints a block: colour stripe and icon by category, id and description, shape and params."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._font_key = ""
        self._fonts: tuple = ()

    def _font_set(self, font: QFont) -> tuple:
        """(font, bold, metrics, bold metrics), rebuilt only when the view's font changes."""
        key = font.key()
        if key != self._font_key:
            bold = QFont(font)
            bold.setBold(True)
            self._fonts = (QFont(font), bold, QFontMetricsF(font), QFontMetricsF(bold))
            self._font_key = key
        return self._fonts

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt API
        return QSize(option.rect.width() or 300, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row: BlockRow | None = index.data(ROW_ROLE)
        if row is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        palette = option.palette
        rect = QRectF(option.rect).adjusted(4, 3, -4, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        base = palette.color(palette.ColorRole.Base)
        if row.error:
            fill = QColor("#4a1f1f") if base.lightness() < 128 else ERROR_BG
            edge = ERROR_EDGE
        else:
            fill = palette.color(palette.ColorRole.AlternateBase) if not row.trainable else base
            edge = palette.color(palette.ColorRole.Mid)
        if selected:
            edge = palette.color(palette.ColorRole.Highlight)
            fill = QColor(
                int(fill.red() * 0.82 + edge.red() * 0.18),
                int(fill.green() * 0.82 + edge.green() * 0.18),
                int(fill.blue() * 0.82 + edge.blue() * 0.18),
            )
        painter.setPen(QPen(edge, 2.0 if (selected or row.error) else 1.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(Qt.PenStyle.NoPen)
        stripe_colour = (
            ERROR_EDGE if row.error else (category_colour(row.category) if row.trainable else FROZEN)
        )
        painter.setBrush(stripe_colour)
        painter.drawRoundedRect(QRectF(rect.left(), rect.top(), 6, rect.height()), 3, 3)
        painter.drawPixmap(
            QPointF(rect.left() + 14, rect.top() + (rect.height() - 22) / 2),
            layer_pixmap(row.category, row.type, 22),
        )

        font, bold, fm, bold_fm = self._font_set(option.font)
        text = palette.color(palette.ColorRole.Text)
        muted = QColor(text)
        muted.setAlpha(165)
        left = rect.left() + 44
        width = rect.right() - 10 - left
        line_h = fm.height()
        top_line = QRectF(left, rect.top() + 5, width, line_h)
        bottom_line = QRectF(left, rect.bottom() - 5 - line_h, width, line_h)
        right_v = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        left_v = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

        shape = row.shape_text
        params = ("❄ frozen · " if not row.trainable else "") + (
            f"{row.params:,} params" if row.params else "no params"
        )
        shape_w = bold_fm.horizontalAdvance(shape) + 8
        params_w = fm.horizontalAdvance(params) + 8
        painter.setFont(bold)
        painter.setPen(ERROR_EDGE if row.error else text)
        painter.drawText(top_line, right_v, shape)
        painter.setPen(text)
        title = bold_fm.elidedText(f"{row.id}  ·  {row.title}", Qt.TextElideMode.ElideRight, width - shape_w)
        painter.drawText(top_line.adjusted(0, 0, -shape_w, 0), left_v, title)
        painter.setFont(font)
        painter.setPen(FROZEN if not row.trainable else muted)
        painter.drawText(bottom_line, right_v, params)
        detail = fm.elidedText(row.error or row.description, Qt.TextElideMode.ElideRight, width - params_w)
        painter.setPen(ERROR_EDGE if row.error else muted)
        painter.drawText(bottom_line.adjusted(0, 0, -params_w, 0), left_v, detail)
        painter.restore()


class StackView(QListView):
    """The list of blocks; drag to reorder, drop palette entries to insert."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stack_model = StackModel(self)
        self.setModel(self.stack_model)
        self.setItemDelegate(BlockDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSpacing(0)
        self.setMouseTracking(True)
        self.setAccessibleName("Layer stack")

    def selected_ids(self) -> list[str]:
        rows = sorted(index.row() for index in self.selectionModel().selectedIndexes())
        ids = self.stack_model.ids()
        return [ids[r] for r in rows if 0 <= r < len(ids)]

    def current_id(self) -> str | None:
        """The id of the current block (read from the model's rows, not through QVariant)."""
        row = self.currentIndex().row()
        ids = self.stack_model.ids()
        return ids[row] if 0 <= row < len(ids) else None

    def select_ids(self, ids: list[str], current: str | None = None) -> None:
        """Select the blocks ``ids`` (e.g. after a reset), making ``current`` (or the last) current."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        model_ids = self.stack_model.ids()
        selection = QItemSelection()
        for layer_id in ids:
            if layer_id in model_ids:
                index = self.stack_model.index(model_ids.index(layer_id))
                selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.selectionModel().select(selection, flags)
        target = current if current in model_ids else (ids[-1] if ids and ids[-1] in model_ids else None)
        if target is not None:
            index = self.stack_model.index(model_ids.index(target))
            self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scrollTo(index)
