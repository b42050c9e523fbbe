"""The thumbnail grid of samples: one icon per image, its label under it, its box drawn on it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from cnnstudio.gui.workspaces.data.thumbnails import thumbnail

THUMB = 72


class SampleGrid(QListView):
    """A static icon grid (fast: one pixmap per item, no widgets per sample)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 18, THUMB + 26))
        self.setSpacing(4)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setStyleSheet("QListView { background: palette(base); }")

    def count(self) -> int:
        return self._model.rowCount()

    def clear(self) -> None:
        self._model.clear()

    def show_samples(self, samples, classes: list[str]) -> None:
        """Fill the grid from a :class:`~cnnstudio.gui.workspaces.data.loading.Samples`."""
        self._model.clear()
        for i in range(len(samples.images)):
            box = None if samples.boxes is None else samples.boxes[i]
            name = classes[int(samples.labels[i])]
            item = QStandardItem(QIcon(thumbnail(samples.images[i], THUMB, box)), name)
            h, w = samples.images[i].shape[:2]
            tip = f"{name} — {samples.split[i]} image #{int(samples.index[i])} ({w}×{h})"
            if box is not None and np.ndim(box) == 2:  # one box per object
                count = int(np.isfinite(box[:, 0]).sum())
                tip += f"\n{count} object{'s' if count != 1 else ''} (the class named is the largest one's)"
            elif box is not None:
                tip += "\nbox x={:.2f} y={:.2f} w={:.2f} h={:.2f}".format(*(float(v) for v in box))
            item.setToolTip(tip)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self._model.appendRow(item)
