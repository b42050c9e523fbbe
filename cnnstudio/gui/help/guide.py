"""Help → User Guide: the Markdown pages of ``docs/`` rendered in a window, with a contents list.

Links between pages (``training.md#per-epoch-weights``) open the page and scroll to the heading; images
(``images/designer.png``) load from beside the page; web links open in the browser.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.paths import docs_dir

#: the order of the contents list; other pages follow in name order
PAGE_ORDER = ("playground", "designer", "datasets", "training", "inspect", "live", "lab", "spec-format")


def guide_pages(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(title, path) of every user-guide page, the workspaces first in the app's order."""
    folder = folder or docs_dir()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.md"))
    rank = {name: i for i, name in enumerate(PAGE_ORDER)}
    files.sort(key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
    return [(page_title(p), p) for p in files]


def page_title(path: Path) -> str:
    """The page's first "# " heading, else its file name."""
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return re.sub(r"[`*]", "", line[2:]).strip()  # plain text: the list shows no Markdown
    except OSError:
        pass
    return path.stem.replace("-", " ").capitalize()


def heading_slug(text: str) -> str:
    """A heading's anchor as GitHub makes it: "Per-epoch weights (epochN.pt)" -> "per-epoch-weights-epochnpt"."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


class UserGuide(QDialog):
    """The guide window: contents on the left, the page on the right. ``open_page("inspect")``."""

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("CNN Studio — User Guide")
        self.setObjectName("UserGuide")
        self.resize(1000, 700)
        self._folder = folder or docs_dir()
        self._current: Path | None = None
        self.contents = QListWidget()
        self.contents.setToolTip("The guide's pages")
        self.contents.setMaximumWidth(300)
        self.contents.setWordWrap(True)
        self.contents.setSpacing(2)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # every link goes through _follow (pages, anchors, the web)
        self.browser.anchorClicked.connect(self._follow)
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.hide()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.contents)
        split.addWidget(self.browser)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 780])
        layout = QVBoxLayout(self)
        layout.addWidget(self.missing)
        layout.addWidget(split, 1)
        self._pages = guide_pages(self._folder)
        for title, path in self._pages:
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(path.name)
            self.contents.addItem(item)
        self.contents.currentItemChanged.connect(self._on_item)
        if self._pages:
            self.contents.setCurrentRow(0)
        else:
            self.missing.setText(f"The user guide is not installed with this copy of CNN Studio (no pages in {self._folder}).")
            self.missing.show()
            self.browser.setPlainText("The user guide's pages were not found.")

    # --- API -------------------------------------------------------------------------------------
    def pages(self) -> list[tuple[str, Path]]:
        return list(self._pages)

    def current_page(self) -> Path | None:
        return self._current

    def open_page(self, name: str | Path, fragment: str = "") -> bool:
        """Show a page by stem ("inspect"), file name or path; scroll to ``fragment`` (a heading's anchor)."""
        path = Path(name)
        if path.suffix != ".md":
            path = path.with_name(path.name + ".md")
        if not path.is_absolute():
            path = self._folder / path
        path = path.resolve()
        if not path.is_file():
            return False
        if path != self._current:
            self._current = path
            self.browser.setSource(QUrl.fromLocalFile(str(path)), QTextDocument.ResourceType.MarkdownResource)
            self._select_item(path)
        if fragment:
            self.scroll_to(fragment)
        else:
            self.browser.verticalScrollBar().setValue(0)
        return True

    def scroll_to(self, fragment: str) -> bool:
        """Scroll to the heading whose anchor is ``fragment``; False when the page has none."""
        doc = self.browser.document()
        block = doc.begin()
        while block.isValid():
            if block.blockFormat().headingLevel() > 0 and heading_slug(block.text()) == fragment.lower():
                top = doc.documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                return True
            block = block.next()
        return False

    def text(self) -> str:
        return self.browser.toPlainText()

    # --- internals -------------------------------------------------------------------------------
    def _select_item(self, path: Path) -> None:
        for row in range(self.contents.count()):
            item = self.contents.item(row)
            if Path(item.data(Qt.ItemDataRole.UserRole)).resolve() == path:
                self.contents.blockSignals(True)
                self.contents.setCurrentRow(row)
                self.contents.blockSignals(False)
                return

    def _on_item(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.open_page(Path(item.data(Qt.ItemDataRole.UserRole)))

    def _follow(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        if not url.path():  # "#heading" on the same page
            self.scroll_to(url.fragment())
            return
        base = self._current.parent if self._current is not None else self._folder
        target = (base / url.path()).resolve() if not Path(url.path()).is_absolute() else Path(url.toLocalFile())
        if target.suffix == ".md" and target.is_file():
            self.open_page(target, url.fragment())
        elif target.exists():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
