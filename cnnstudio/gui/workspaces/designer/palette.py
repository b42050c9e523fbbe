"""The palette: every registry layer type, grouped by category, searchable, dragged onto the stack."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from cnnstudio.core.registry import LAYER_TYPES, categories
from cnnstudio.gui.workspaces.designer.icons import layer_icon, layer_pixmap

#: drag payload of a palette entry: the layer type name (UTF-8)
LAYER_TYPE_MIME = "application/x-cnnstudio-layer-type"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class PaletteTree(QTreeWidget):
    """The tree of layer types; a drag carries the type name."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIndentation(12)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt API
        return [LAYER_TYPE_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802 - Qt API
        mime = QMimeData()
        names = [self.type_of(item) for item in items if self.type_of(item)]
        if names:
            mime.setData(LAYER_TYPE_MIME, names[0].encode("utf-8"))
            mime.setText(names[0])
        return mime

    @staticmethod
    def type_of(item: QTreeWidgetItem | None) -> str | None:
        """The layer type of a palette entry; None for a category heading.

        Headings are checked by parent, never by reading their (unset) data role: PySide6 6.12 on
        Python 3.11 returns an invalid QVariant as None with one reference too few.
        """
        if item is None or item.parent() is None:
            return None
        return item.data(0, TYPE_ROLE)

    def startDrag(self, actions) -> None:  # noqa: N802 - Qt API
        item = self.currentItem()
        name = self.type_of(item)
        if not name:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        layer_type = LAYER_TYPES[name]
        drag.setPixmap(layer_pixmap(layer_type.category, layer_type.name, 28))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Search box over the grouped layer types. Double-click (or Enter) asks to insert that type."""

    insert_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter the layer types by name, category or description")
        self.tree = PaletteTree(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._groups: dict[str, QTreeWidgetItem] = {}
        self._fill()
        self._fit_width()
        self.search.textChanged.connect(self.filter)
        self.tree.itemActivated.connect(self._activated)

    def _fit_width(self) -> None:
        """Wide enough for the longest title ("Global average pooling") in this font: nothing elided."""
        scroll_bar = self.tree.style().pixelMetric(self.tree.style().PixelMetric.PM_ScrollBarExtent)
        self.setMinimumWidth(self.tree.sizeHintForColumn(0) + 2 * self.tree.frameWidth() + scroll_bar + 4)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._fit_width()  # the font is final once shown (a desktop's 11 pt, say)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == event.Type.FontChange and self._items:
            self._fit_width()

    def _fill(self) -> None:
        order = list(categories())
        by_category: dict[str, list] = {}
        for layer_type in LAYER_TYPES.values():
            by_category.setdefault(layer_type.category, []).append(layer_type)
        order += [c for c in by_category if c not in order]
        bold = self.font()
        bold.setBold(True)
        for category in order:
            types = by_category.get(category)
            if not types:
                continue
            group = QTreeWidgetItem(self.tree, [category])
            group.setFont(0, bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setToolTip(0, f"{category} layers — drag one onto the layer stack")
            self._groups[category] = group
            for layer_type in types:
                item = QTreeWidgetItem(group, [layer_type.title])
                item.setIcon(0, layer_icon(category, layer_type.name))
                item.setData(0, TYPE_ROLE, layer_type.name)
                item.setToolTip(
                    0,
                    f"<b>{layer_type.title}</b> ({layer_type.name})<br>{layer_type.help}"
                    "<br><i>Drag onto the stack, or double-click to insert after the selection.</i>",
                )
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
                )
                self._items[layer_type.name] = item
            group.setExpanded(True)

    def type_names(self) -> list[str]:
        return list(self._items)

    def visible_type_names(self) -> list[str]:
        return [name for name, item in self._items.items() if not item.isHidden()]

    def filter(self, text: str) -> None:
        needle = text.strip().lower()
        for name, item in self._items.items():
            layer_type = LAYER_TYPES[name]
            haystack = f"{name} {layer_type.title} {layer_type.category} {layer_type.help}".lower()
            item.setHidden(bool(needle) and needle not in haystack)
        for group in self._groups.values():
            visible = any(not group.child(i).isHidden() for i in range(group.childCount()))
            group.setHidden(not visible)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        name = PaletteTree.type_of(item)
        if name:
            self.insert_requested.emit(name)
