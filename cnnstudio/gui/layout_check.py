"""Find text that does not fit: clipped labels and buttons, cut header titles and cells, sideways scrolling.

Used by the GUI tests at 1280x720 and by the smoke test (``cnnstudio --smoke-test``), which prints what it
finds. Only what is visible on screen is checked; word-wrapped and rich-text labels wrap instead of clipping.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionViewItem,
    QTableWidget,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QWidget,
)

#: a scroll area may scroll sideways when it says so with this property (an image shown at 100 %, say)
ALLOW_HSCROLL = "allowHorizontalScroll"


def _visible(widget: QWidget, root: QWidget) -> bool:
    size = QWidget.size(widget)  # not widget.width(): some widgets name a child "width"
    return widget.isVisibleTo(root) and size.width() > 0 and size.height() > 0


def _name(widget: QWidget) -> str:
    return f"{type(widget).__name__}{'#' + widget.objectName() if widget.objectName() else ''}"


def _might_be_rich(text: str) -> bool:
    """Qt::mightBeRichText (not in PySide6), near enough: a tag somewhere."""
    return "<" in text and ">" in text


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def label_problem(label: QLabel) -> str | None:
    text = label.text()
    if not text or label.wordWrap() or label.pixmap() is not None and not label.pixmap().isNull():
        return None
    if label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and _might_be_rich(text)
    ):
        return None
    fm = label.fontMetrics()
    needed = max(fm.horizontalAdvance(line) for line in text.split("\n"))
    room = label.contentsRect().width() - 2 * label.margin() - 2 * label.indent() if label.indent() > 0 else (
        label.contentsRect().width() - 2 * label.margin())
    if needed > room + 1:
        return f"{_name(label)} '{text[:40]}' needs {needed}px, has {room}px"
    return None


def button_problem(button: QAbstractButton) -> str | None:
    text = _plain(button.text())
    if not text:
        return None
    if isinstance(button, QToolButton) and button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly:
        return None
    fm = button.fontMetrics()
    needed = max(fm.horizontalAdvance(line) for line in text.split("\n"))
    style = button.style()
    if isinstance(button, (QCheckBox, QRadioButton)):
        indicator = QStyle.PixelMetric.PM_IndicatorWidth if isinstance(button, QCheckBox) else \
            QStyle.PixelMetric.PM_ExclusiveIndicatorWidth
        spacing = QStyle.PixelMetric.PM_CheckBoxLabelSpacing if isinstance(button, QCheckBox) else \
            QStyle.PixelMetric.PM_RadioButtonLabelSpacing
        needed += style.pixelMetric(indicator, None, button) + style.pixelMetric(spacing, None, button)
    elif not button.icon().isNull():
        needed += button.iconSize().width() + 4
    if isinstance(button, QPushButton) and button.menu() is not None:
        needed += style.pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, None, button)
    room = QWidget.width(button) - (2 if isinstance(button, (QPushButton, QToolButton)) else 0)
    if needed > room:
        return f"{_name(button)} '{text[:40]}' needs {needed}px, has {room}px"
    return None


def header_problems(view: QAbstractItemView) -> list[str]:
    """Header titles cut short (a column narrower than its title)."""
    out = []
    header = view.horizontalHeader() if hasattr(view, "horizontalHeader") else view.header()
    if header is None or header.isHidden():
        return out
    model = view.model()
    fm = header.fontMetrics()
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        text = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
        needed = fm.horizontalAdvance(text) + 8
        size = header.sectionSize(section)
        if isinstance(header, QHeaderView) and size and needed > size:
            out.append(f"{_name(view)} header '{text}' needs {needed}px, has {size}px")
    return out


def item_problems(view: QAbstractItemView) -> list[str]:
    """Cells of tables and trees whose text is elided (narrower than their delegate asks for)."""
    out = []
    model = view.model()
    if model is None or model.rowCount() > 400:
        return out
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    viewport = view.viewport().rect()

    def check(parent):
        for row in range(model.rowCount(parent)):
            for col in range(model.columnCount(parent)):
                index = model.index(row, col, parent)
                rect = view.visualRect(index)
                text = str(model.data(index) or "")
                if not text or not rect.isValid() or not viewport.intersects(rect):
                    continue
                needed = view.itemDelegateForIndex(index).sizeHint(option, index).width()
                if needed > rect.width():
                    out.append(f"{_name(view)} cell '{text[:40]}' needs {needed}px, has {rect.width()}px")
            first = model.index(row, 0, parent)
            if isinstance(view, QTreeWidget) and view.isExpanded(first):
                check(first)

    check(view.rootIndex())
    return out


def layout_problems(root: QWidget) -> list[str]:
    """Every visible piece of text under ``root`` that does not fit, and unwanted sideways scroll bars."""
    problems: list[str] = []
    for widget in root.findChildren(QWidget):
        if not _visible(widget, root):
            continue
        problem = None
        if isinstance(widget, QLabel):
            problem = label_problem(widget)
        elif isinstance(widget, QAbstractButton):
            problem = button_problem(widget)
        if problem:
            problems.append(problem)
        if isinstance(widget, (QTableWidget, QTreeWidget)):
            problems += header_problems(widget)
            problems += item_problems(widget)
        if isinstance(widget, QAbstractScrollArea) and not isinstance(widget, QHeaderView):
            bar = widget.horizontalScrollBar()
            if bar.isVisible() and bar.maximum() > 0 and not widget.property(ALLOW_HSCROLL):
                problems.append(f"{_name(widget)} scrolls sideways ({bar.maximum()}px)")
    return problems


def tab_pages(root: QWidget) -> list[tuple[QTabWidget, int]]:
    """The (tab widget, index) pairs of every tab page under ``root`` (to visit each one)."""
    return [(tabs, i) for tabs in root.findChildren(QTabWidget) for i in range(tabs.count())]


__all__ = ["ALLOW_HSCROLL", "layout_problems", "tab_pages"]
