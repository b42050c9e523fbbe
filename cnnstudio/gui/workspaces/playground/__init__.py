"""The Playground workspace: convolution and pooling on photos and on the lecture's grids, step by step.

Pages: Image (a photo with a kernel, padding, stride, dilation), Step-through (the lecture's 5x5
animation), Colour channels (a 3-channel kernel with a bias), Pooling, and Exercises.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from cnnstudio.core.exercises import grid_examples
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.playground.conv_step_page import ConvStepPage
from cnnstudio.gui.workspaces.playground.exercises_page import ExercisesPage
from cnnstudio.gui.workspaces.playground.image_page import ImagePage
from cnnstudio.gui.workspaces.playground.image_source import IMAGE_SUFFIXES
from cnnstudio.gui.workspaces.playground.pool_step_page import PoolStepPage


def _grab_snapshot() -> np.ndarray:
    """One webcam picture (on a worker thread; the camera module loads OpenCV)."""
    from cnnstudio.gui.workspaces.playground.camera import grab_snapshot

    return grab_snapshot()


class Workspace(WorkspaceBase):
    accepted_suffixes = IMAGE_SUFFIXES

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        conv_examples = [e for e in grid_examples() if e.kind == "conv"]
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.image_page = ImagePage(settings=ctx.settings)
        self.step_page = ConvStepPage([e for e in conv_examples if e.input.shape[0] == 1])
        self.colour_page = ConvStepPage([e for e in conv_examples if e.input.shape[0] > 1])
        self.pool_page = PoolStepPage()
        self.exercises_page = ExercisesPage()
        self._pages: list[QWidget] = []
        for page, title in ((self.image_page, "Image"), (self.step_page, "Step-through"),
                            (self.colour_page, "Colour channels"), (self.pool_page, "Pooling"),
                            (self.exercises_page, "Exercises")):
            self.tabs.addTab(self._scrollable(page), title)
            self._pages.append(page)
        tips = ("Apply a kernel to a photo", "The lecture's convolution animation, step by step",
                "A 3-channel kernel with a bias: each channel's sum and the total",
                "Max, min, average and median pooling, step by step", "The lecture's questions: work them out, then check")
        for index, tip in enumerate(tips):
            self.tabs.setTabToolTip(index, tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self._snapshot = WorkerGroup(self)  # the camera snapshot
        for page in (self.image_page, self.step_page, self.colour_page, self.pool_page):
            page.status.connect(lambda text: self.ctx.show_status(text, 8000))
        self.image_page.camera_requested.connect(self.take_snapshot)
        self.exercises_page.open_example.connect(self.open_example)
        self.tabs.currentChanged.connect(self._pause_hidden_animations)

    @staticmethod
    def _scrollable(page: QWidget) -> QScrollArea:
        # each page scrolls as a whole when the window is smaller than the page's layout needs
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        return scroll

    def current_page(self) -> QWidget:
        return self._pages[self.tabs.currentIndex()]

    def show_page(self, page: QWidget) -> None:
        self.tabs.setCurrentIndex(self._pages.index(page))

    # --- WorkspaceBase ---------------------------------------------------------------------------
    def open_file(self, path: Path) -> bool:
        if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
            return False
        self.show_page(self.image_page)
        return self.image_page.open_path(Path(path))

    def smoke_ready(self) -> bool:
        return self.image_page.image() is not None

    def shutdown(self) -> None:
        for page in (self.step_page, self.colour_page, self.pool_page):
            page.shutdown()
        self._snapshot.shutdown()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._pause_hidden_animations()
        super().hideEvent(event)

    def _pause_hidden_animations(self, *_args) -> None:
        for page in (self.step_page, self.colour_page, self.pool_page):
            if page is not self.current_page() or not self.isVisible():
                page.controls.pause()

    # --- actions ---------------------------------------------------------------------------------
    def open_example(self, name: str) -> None:
        """Show a bundled grid example in the page that steps through it."""
        for page in (self.step_page, self.colour_page):
            if name in page.example_names():
                page.load_example(name)
                self.show_page(page)
                return
        for example in grid_examples():
            if example.name == name and example.kind == "pool":
                self.pool_page.load_example(example)
                self.show_page(self.pool_page)
                return

    def open_conv(self, x: np.ndarray, kernel: np.ndarray, bias: float = 0.0, *, stride: int = 1, dilation: int = 1,
                  padding: int = 0, title: str = "From the model", description: str = "", step: int = 0) -> ConvStepPage:
        """Step through a given convolution (input (C, H, W), kernel (C, kh, kw)) at output step ``step``:
        Inspect opens a feature-map neuron here. One channel goes to Step-through, more to Colour channels."""
        from cnnstudio.gui.workspaces.playground.conv_params import ConvParams

        page = self.step_page if np.shape(x)[0] == 1 else self.colour_page
        page.load_grids(x, kernel, bias, ConvParams(padding=padding, stride=stride, dilation=dilation), title,
                        description, step)
        self.show_page(page)
        return page

    def take_snapshot(self) -> None:
        if self._snapshot.busy():
            return
        self.image_page.camera_button.setEnabled(False)
        self.image_page.show_message("Opening the camera…")
        self._snapshot.run(_grab_snapshot, tag="snapshot", on_done=lambda image: self._on_snapshot(image, ""),
                           on_error=lambda message: self._on_snapshot(None, message),
                           failure="The camera could not be used")

    def _on_snapshot(self, image: np.ndarray | None, error: str) -> None:
        self.image_page.camera_button.setEnabled(True)
        if image is None:
            self.image_page.show_message(error, error=True)
            return
        self.show_page(self.image_page)
        self.image_page.set_image(image, "Camera snapshot")


__all__ = ["Workspace"]
