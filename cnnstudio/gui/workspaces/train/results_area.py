"""The confusion matrix and the run history: side by side where there is room, else as two tabs.

At 1280x720 the two do not fit side by side without eliding counts and column titles; a wide window
shows both at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QStackedLayout, QTabWidget, QWidget

#: side by side from this width of the area on (else tabs)
SIDE_BY_SIDE_WIDTH = 980


class ResultsArea(QWidget):
    def __init__(self, panes: list[tuple[QWidget, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self._panes = panes
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._layout = QStackedLayout(self)
        self._layout.addWidget(self.tabs)
        self._layout.addWidget(self.splitter)
        self._wide: bool | None = None
        self._arrange(False)

    @property
    def side_by_side(self) -> bool:
        return bool(self._wide)

    def _arrange(self, wide: bool) -> None:
        if wide == self._wide:
            return
        self._wide = wide
        current = self.tabs.currentIndex()
        for pane, title in self._panes:
            if wide:
                self.splitter.addWidget(pane)
                pane.show()  # reparented widgets are hidden; the tab widget shows only its current page
            else:
                self.tabs.addTab(pane, title)
        if wide:
            self.splitter.setSizes([1, 1])
            self._layout.setCurrentWidget(self.splitter)
        else:
            self.tabs.setCurrentIndex(max(0, current))
            self._layout.setCurrentWidget(self.tabs)

    def show_pane(self, pane: QWidget) -> None:
        """Bring ``pane`` to the front (its tab when the panes are tabs)."""
        index = self.tabs.indexOf(pane)
        if index >= 0:
            self.tabs.setCurrentIndex(index)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._arrange(event.size().width() >= SIDE_BY_SIDE_WIDTH)
