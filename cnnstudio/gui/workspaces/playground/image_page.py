"""The image page: a photo, a kernel, padding/stride/dilation, and the result beside the original."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.kernels import PRESETS
from cnnstudio.gui.theme import set_tone
from cnnstudio.gui.workspaces.playground.conv_params import ConvParamsEditor
from cnnstudio.gui.workspaces.playground.image_filter import (
    display_image,
    filter_channel_mean,
    filter_image,
    select_channels,
    value_range,
)
from cnnstudio.gui.workspaces.playground.image_source import (
    IMAGE_SUFFIXES,
    fit_size,
    load_image,
    qimage_to_array,
    samples,
)
from cnnstudio.gui.workspaces.playground.image_views import LinkedImageViews
from cnnstudio.gui.workspaces.playground.kernel_editor import KernelEditor

COLOUR_TITLES = {
    "rgb": "RGB (each channel filtered)",
    "gray": "Grayscale",
    "red": "Red channel",
    "green": "Green channel",
    "blue": "Blue channel",
}
DISPLAY_TITLES = {
    "clipped": ("Clipped to 0…255", "Values below 0 show black, above 255 white, as a picture would"),
    "diverging": ("Diverging colours", "Negative values blue, zero white, positive red (colour images: the mean "
                                       "of the channels)"),
    "absolute": ("Absolute value", "|value| clipped to 0…255: strong responses of either sign light up"),
}
SMALL_IMAGE = 1_000_000  # values; below this the value range is always worked out and shown
FILE_FILTER = "Pictures (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"


class ImagePage(QWidget):
    """Convolve a whole picture; see the module docstring."""

    status = Signal(str)
    camera_requested = Signal()

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None):
        super().__init__(parent)
        self._settings = settings
        self._image: np.ndarray | None = None
        self._source_title = ""
        self._last_ms = 0.0
        self._timed = False
        self._update_timer = QTimer(self, singleShot=True, interval=0)
        self._update_timer.timeout.connect(self.recompute)

        # --- source ---
        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("A bundled photo to filter (or open, paste or drop your own)")
        self.sample_combo.addItem("Choose a sample photo…", None)
        for sample in samples():
            self.sample_combo.addItem(sample.title, str(sample.path))
            self.sample_combo.setItemData(self.sample_combo.count() - 1, sample.credit, Qt.ItemDataRole.ToolTipRole)
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open a picture file (you can also drop one onto the window)")
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Use the picture on the clipboard")
        self.camera_button = QPushButton("Camera")
        self.camera_button.setToolTip("Take a snapshot with the webcam")
        self.colour_combo = QComboBox()
        for key, title in COLOUR_TITLES.items():
            self.colour_combo.addItem(title, key)
        self.colour_combo.setToolTip("Which channels the kernel is applied to")
        self.size_label = QLabel()
        source_box = QGroupBox("Picture")
        source_layout = QVBoxLayout(source_box)
        source_layout.addWidget(self.sample_combo)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.paste_button, self.camera_button):
            buttons.addWidget(b)
        source_layout.addLayout(buttons)
        source_layout.addWidget(self.colour_combo)
        source_layout.addWidget(self.size_label)

        # --- kernel and parameters ---
        self.kernel_editor = KernelEditor()
        kernel_box = QGroupBox("Kernel")
        QVBoxLayout(kernel_box).addWidget(self.kernel_editor)
        self.params_editor = ConvParamsEditor(max_padding=50)
        params_box = QGroupBox("Padding, stride, dilation")
        QVBoxLayout(params_box).addWidget(self.params_editor)

        # --- display ---
        display_box = QGroupBox("Show the result")
        display_layout = QVBoxLayout(display_box)
        self.display_group = QButtonGroup(self)
        self.display_buttons: dict[str, QRadioButton] = {}
        for key, (title, tip) in DISPLAY_TITLES.items():
            button = QRadioButton(title)
            button.setToolTip(tip)
            self.display_group.addButton(button)
            self.display_buttons[key] = button
            display_layout.addWidget(button)
        self.display_buttons["clipped"].setChecked(True)
        self.reset_zoom_button = QPushButton("Fit to window")
        self.reset_zoom_button.setToolTip("Show the whole picture again (zoom with the mouse wheel, pan by dragging; "
                                          "both views follow each other)")
        display_layout.addWidget(self.reset_zoom_button)

        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.setContentsMargins(4, 4, 4, 4)
        for box in (source_box, kernel_box, params_box, display_box):
            controls_layout.addWidget(box)
        controls_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(300)
        scroll.setMaximumWidth(440)

        # --- views ---
        self.views = LinkedImageViews()
        self.views.setMinimumSize(240, 240)
        self.message_label = QLabel(wordWrap=True)
        self.message_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.hover_label = QLabel()
        self.hover_label.setStyleSheet("color: palette(placeholder-text);")
        self.timing_label = QLabel()
        self.timing_label.setStyleSheet("color: palette(placeholder-text);")
        # never let a long read-out line widen the page
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.views, 1)
        right_layout.addWidget(self.message_label)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hover_label, 1)
        bottom.addWidget(self.timing_label)
        right_layout.addLayout(bottom)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1000])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # --- wiring ---
        self.sample_combo.currentIndexChanged.connect(self._on_sample)
        self.open_button.clicked.connect(self.open_dialog)
        self.paste_button.clicked.connect(self.paste)
        self.camera_button.clicked.connect(self.camera_requested)
        self.colour_combo.currentIndexChanged.connect(self.schedule_update)
        self.kernel_editor.kernel_changed.connect(self.schedule_update)
        self.kernel_editor.message.connect(self.status)
        self.params_editor.changed.connect(self.schedule_update)
        self.display_group.buttonClicked.connect(self.schedule_update)
        self.reset_zoom_button.clicked.connect(self.views.reset_zoom)
        self.views.hover_text.connect(self.hover_label.setText)
        paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(self.paste)
        self.paste_button.setToolTip(f"Use the picture on the clipboard ({paste.key().toString()})")

        # the first sample photo with the edge kernel, loaded after the window's first paint (this loads OpenCV)
        QTimer.singleShot(0, self, self._load_first_sample)  # not after this page is deleted

    def _load_first_sample(self) -> None:
        if self._image is not None:
            return
        if self.sample_combo.count() > 1:
            self.sample_combo.setCurrentIndex(1)
        else:
            self.show_message("No sample photos were found; open a picture of your own.", error=True)

    # --- sources ---------------------------------------------------------------------------------
    def _on_sample(self, index: int) -> None:
        path = self.sample_combo.itemData(index)
        if path:
            self.open_path(Path(path), title=self.sample_combo.itemText(index))

    def open_dialog(self) -> None:
        start = str(self._settings.value("playground/last_dir", str(Path.home()))) if self._settings else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a Picture", start or str(Path.home()), FILE_FILTER)
        if path:
            if self._settings is not None:
                self._settings.setValue("playground/last_dir", str(Path(path).parent))
            self.open_path(Path(path))

    def open_path(self, path: Path, title: str | None = None) -> bool:
        """Show a picture file; False (and a message in the view) when it cannot be read."""
        try:
            image, note = load_image(path)
        except UserError as exc:
            self.show_message(str(exc), error=True)
            return False
        self.set_image(image, (title or path.name) + note)
        return True

    def paste(self) -> bool:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasImage():
            image, scaled = fit_size(QGuiApplication.clipboard().image())
            if not image.isNull():
                self.set_image(qimage_to_array(image), "Pasted picture" + (" (scaled down)" if scaled else ""))
                return True
        if mime is not None and mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return self.open_path(Path(url.toLocalFile()))
        self.show_message("The clipboard holds no picture. Copy an image (or an image file) first.", error=True)
        return False

    def set_image(self, image: np.ndarray, title: str) -> None:
        """Use a uint8 picture, (H, W) or (H, W, 3) RGB."""
        self._image = np.ascontiguousarray(image)
        self._source_title = title
        colour = image.ndim == 3
        self.colour_combo.setEnabled(colour)
        self.colour_combo.setToolTip("Which channels the kernel is applied to" if colour
                                     else "This picture is grayscale")
        h, w = image.shape[:2]
        self.size_label.setText(f"{w} × {h} pixels, {'RGB' if colour else 'grayscale'}")
        if self.sample_combo.itemText(self.sample_combo.currentIndex()) != title:
            self.sample_combo.blockSignals(True)
            self.sample_combo.setCurrentIndex(0)
            self.sample_combo.blockSignals(False)
        self.recompute()
        self.views.reset_zoom()

    def image(self) -> np.ndarray | None:
        return self._image

    # --- computing -------------------------------------------------------------------------------
    def colour_mode(self) -> str:
        return str(self.colour_combo.currentData()) if self._image is not None and self._image.ndim == 3 else "gray"

    def display_mode(self) -> str:
        for key, button in self.display_buttons.items():
            if button.isChecked():
                return key
        return "clipped"

    def set_display_mode(self, mode: str) -> None:
        self.display_buttons[mode].setChecked(True)
        self.schedule_update()

    def schedule_update(self, *_args) -> None:
        self._update_timer.start()

    def recompute(self) -> None:
        """Filter the picture with the current kernel and settings and show it (about 10–20 ms for full HD)."""
        self._update_timer.stop()
        if self._image is None:
            return
        kernel = self.kernel_editor.kernel()
        p = self.params_editor.params()
        source = select_channels(self._image, self.colour_mode())
        h, w = source.shape[:2]
        ok = self.params_editor.show_formula(h, w, *kernel.shape)
        self.views.set_original(source, f"Original — {self._source_title}")
        if not ok:
            self.views.clear_result("Result")
            self.show_message("The kernel does not fit; lower the dilation or the kernel size, or add padding.",
                              error=True)
            return
        start = time.perf_counter()
        mode = self.display_mode()
        args = (source, kernel, p.stride, p.padding, p.pad_mode, p.pad_value, p.dilation)
        try:
            if mode == "clipped":
                # filter straight to 0..255 (fastest); the float values are worked out only when needed
                display, levels = filter_image(*args, clipped=True), (0.0, 255.0)
                raw = None
            elif mode == "diverging" and source.ndim == 3:
                # the colour map shows the channels' mean: filter their sum once (linearity)
                display, levels = display_image(filter_channel_mean(*args), mode)
                raw = None
            else:
                raw = filter_image(*args)
                display, levels = display_image(raw, mode)
        except UserError as exc:
            self.views.clear_result("Result")
            self.show_message(str(exc), error=True)
            return
        if display.ndim == 3 and display.shape[2] == 1:
            display = display[..., 0]
        span_h = p.dilation * (kernel.shape[0] - 1) + 1
        span_w = p.dilation * (kernel.shape[1] - 1) + 1
        # output pixel (i, j) is drawn over the centre of its window in the original
        geometry = (-p.padding + (span_w - p.stride) / 2, -p.padding + (span_h - p.stride) / 2,
                    float(p.stride), float(p.stride))
        provider = (lambda: _squeeze(filter_image(*args))) if raw is None else _squeeze(raw)
        self.views.set_result(display, levels, provider, geometry, mode == "diverging", self._result_title(display))
        self._last_ms = (time.perf_counter() - start) * 1000
        first = not self._timed
        self._timed = True
        self.timing_label.setText(f"{self._last_ms:.0f} ms")
        self.timing_label.setToolTip("Time to filter and draw the result"
                                     + (" (the first time includes loading OpenCV)" if first else ""))
        if raw is None and source.size > SMALL_IMAGE:
            self.show_message("Values below 0 show black and above 255 white; “Diverging colours” shows the "
                              "negative ones too.")
            return
        low, high = value_range(self.views.result_values())
        note = f"Result values range from {low:.4g} to {high:.4g}."
        if mode == "clipped" and (low < 0 or high > 255):
            note += " Values outside 0…255 are clipped; try “Diverging colours” to see the negative ones."
        self.show_message(note)

    def _result_title(self, raw: np.ndarray) -> str:
        name = self.kernel_editor.preset_name()
        title = PRESETS[name].title if name in PRESETS else "custom kernel"
        return f"Result — {title}, {raw.shape[1]} × {raw.shape[0]}"

    def show_message(self, text: str, error: bool = False) -> None:
        set_tone(self.message_label, "error" if error else None)
        self.message_label.setText(text)
        if error:
            self.status.emit(text)

    def last_render_ms(self) -> float:
        return self._last_ms


def _squeeze(raw: np.ndarray) -> np.ndarray:
    return raw[..., 0] if raw.ndim == 3 and raw.shape[2] == 1 else raw


__all__ = ["ImagePage"]
