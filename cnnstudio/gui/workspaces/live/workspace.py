"""The Live workspace: a camera, video or slideshow through a model, with overlays, at camera speed.

Threads: the capture thread keeps the newest frame, the inference thread runs the pipeline on it, and
a GUI timer takes the newest result and updates the existing image item. Model loading and camera
probing run as background jobs, so the window never waits for a device or a file.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMessageBox, QScrollArea, QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.paths import resource
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.live.panel import TOP_K, LivePanel
from cnnstudio.gui.workspaces.live.video_view import VideoView
from cnnstudio.ml.video.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES

DEMO = "demo"
#: capture states in which the source delivers no frames (unplugged camera, a file that failed or ended)
DEAD_STATES = ("retrying", "failed", "ended")
SOURCE_ERROR_MS = 8000  # how long the banner says why a chosen source did not open, while the old one plays
BROWSE_VIDEO, BROWSE_FOLDER, BROWSE_MODEL = "browse-video", "browse-folder", "browse-model"


def layer_title(name: str) -> str:
    """A graph output name as a short title: "/layers/c1/Conv_output_0" -> "layers › c1 › Conv"."""
    name = name.strip("/")
    if name.endswith("_output_0"):
        name = name[: -len("_output_0")]
    return name.replace("/", " › ") or "output"


def demo_folder() -> Path:
    """The bundled slideshow of digits drawn on paper, played when there is no camera."""
    return resource("live")


class LiveWorkspace(WorkspaceBase):
    accepted_suffixes = (*VIDEO_SUFFIXES, *IMAGE_SUFFIXES, ".onnx")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.view = VideoView(self)
        self.panel = LivePanel()
        scroll = QScrollArea(self)
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(300)
        scroll.setMaximumWidth(380)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(scroll)

        self.jobs = WorkerGroup(self)  # probing cameras, loading models, switching feature layers
        self.session = None
        self.pipeline = None
        self.runner = None
        self.source_text: str | None = None  # what feeds the view: "0", a file or a folder
        self.model_path: Path | None = None
        self.model_state = "none"  # none, loading, ready, missing, failed
        self.model_message = ""
        self.source_message = ""
        self.cameras: list[int] = []
        self.camera_factory = None  # cv2.VideoCapture by default; tests put a fake camera here
        self.providers: list[tuple[str, str]] = []
        self.last_result = None
        self.lag_ms = 0.0  # from the frame's arrival to its display
        self.predicted = False
        self._serial = 0
        self._model_token = 0
        self._shown: deque[float] = deque(maxlen=30)
        self._extra_sources: list[str] = []
        self._extra_models: list[Path] = []
        self._filling = False
        self._started = False
        self._paused = False
        self._closed = False

        self._timer = QTimer(self)
        self._timer.setInterval(8)  # poll for the newest result well above 60 fps; never queues
        self._timer.timeout.connect(self._poll)

        p = self.panel
        p.source_combo.activated.connect(self._on_source_picked)
        p.refresh_button.clicked.connect(self.refresh_cameras)
        p.model_combo.activated.connect(self._on_model_picked)
        p.provider_combo.activated.connect(lambda _i: self._reload_model())
        p.roi_check.toggled.connect(self.view.set_roi_enabled)
        p.reset_roi_button.clicked.connect(self.view.reset_roi)
        p.features_check.toggled.connect(self._on_features_toggled)
        p.layer_combo.activated.connect(lambda _i: self._apply_feature_layer())
        p.snapshot_button.clicked.connect(self._snapshot_dialog)
        p.record_button.clicked.connect(self._record_clicked)
        self.view.roi_changed.connect(self._on_roi_changed)
        ctx.document.changed.connect(self._on_document_changed)
        ctx.document.replaced.connect(self._fill_models)
        self._fill_sources()
        self._fill_models()
        from cnnstudio.gui.workspaces.live.draw_mode import LiveDrawMode

        self.draw_mode = LiveDrawMode(self)  # "Draw a digit": a drawing pad as the source

    # --- life cycle ------------------------------------------------------------------------------
    def activated(self) -> None:
        if not self._started and not self._closed:
            self._start()

    def _start(self) -> None:
        from cnnstudio.ml.video.pipeline import CENTRED_SQUARE, LivePipeline
        from cnnstudio.ml.video.session import LiveSession

        self._started = True
        self.pipeline = LivePipeline(None, roi=CENTRED_SQUARE, top_k=3, draw=True, draw_roi=False,
                                     no_model_message="No model")
        self.session = LiveSession(self.pipeline)
        self._timer.start()
        self._probe_cameras()
        if self.model_path is None:
            from cnnstudio.ml.video.runners import bundled_model_path

            self.set_model(bundled_model_path())
        else:
            self.set_model(self.model_path)
        if self.source_text is not None:
            self.set_source(self.source_text)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Leaving Live (another workspace, a minimised window) releases the camera."""
        super().hideEvent(event)
        if self._started and not self._closed and not self._paused and self.session is not None:
            if self.session.recorder.active:
                self.stop_recording()
            self._timer.stop()
            self.session.stop()
            self._paused = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._paused and not self._closed:
            self._paused = False
            self._timer.start()
            if self.source_text is not None:
                self.set_source(self.source_text)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        if self.session is not None:
            self.session.stop()
        self.jobs.shutdown()
        try:
            self.ctx.document.changed.disconnect(self._on_document_changed)
            self.ctx.document.replaced.disconnect(self._fill_models)
        except (ValueError, RuntimeError):
            pass

    def smoke_ready(self) -> bool:
        """True once a prediction is drawn (or a frame with the reason why there cannot be one)."""
        if self.predicted:
            return True
        return self.view.frames_shown > 0 and self.model_state in ("missing", "failed") and not self.jobs

    def open_file(self, path: Path) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".onnx":
            self.set_model(path)
            return True
        if path.is_dir() or suffix in VIDEO_SUFFIXES or suffix in IMAGE_SUFFIXES:
            self.set_source(str(path))
            return True
        return False

    # --- sources ---------------------------------------------------------------------------------
    def _probe(self):
        from cnnstudio.ml.video.runners import provider_choices
        from cnnstudio.ml.video.sources import list_cameras

        return list_cameras(capture_factory=self.camera_factory), provider_choices()

    def _on_probed(self, found) -> None:
        self.cameras, self.providers = found
        self._fill_sources()
        self._fill_providers()
        if self.source_text is None:
            self.set_source(str(self.cameras[0]) if self.cameras else str(demo_folder()))

    def _probe_cameras(self) -> None:
        self.jobs.run(self._probe, tag="probe", on_done=self._on_probed, on_error=self._on_probe_failed,
                      failure="Could not look for cameras")

    def _on_probe_failed(self, message: str) -> None:
        self.cameras, self.providers = [], [("CPUExecutionProvider", "CPU")]
        self._fill_providers()
        self.ctx.show_status(message)
        if self.source_text is None:
            self.set_source(str(demo_folder()))

    def refresh_cameras(self) -> None:
        if self._started and not self._closed:
            self._probe_cameras()

    def set_source(self, text: str) -> None:
        """Show a camera index, a video file, an image file or an image folder."""
        from cnnstudio.ml.video.sources import open_source

        previous = self.source_text
        added = not text.isdigit() and text != str(demo_folder()) and text not in self._extra_sources
        self.source_text = str(text)
        if added:
            self._extra_sources.append(text)
        self._fill_sources()
        if self.session is None:
            return
        try:
            source = open_source(text, live_playback=True, camera_factory=self.camera_factory)
        except UserError as exc:
            # the source that plays stays chosen; a path that cannot be opened is not offered again
            if added:
                self._extra_sources.remove(text)
            if previous is not None and self.session.status is not None:
                self.source_text = previous
            self._fill_sources()
            self.source_message = message = str(exc)
            if self.source_text == previous and previous is not None:  # the old source plays on: say it a while
                QTimer.singleShot(SOURCE_ERROR_MS, self, lambda: self._clear_source_message(message))
            return
        self.source_message = ""
        self.session.start(source)

    def _clear_source_message(self, message: str) -> None:
        if self.source_message == message and not self._closed:
            self.source_message = ""

    def _fill_sources(self) -> None:
        combo = self.panel.source_combo
        self._filling = True
        combo.clear()
        for index in self.cameras:
            combo.addItem(f"Camera {index}", str(index))
        if not self.cameras:
            combo.addItem("Camera 0 (none found)", "0")
        chosen = self.source_text
        listed = self.cameras or [0]
        if chosen is not None and chosen.isdigit() and int(chosen) not in listed:
            combo.addItem(f"Camera {chosen} (not found)", chosen)  # an index typed or given on the CLI
        combo.addItem("Demo: digits on paper", str(demo_folder()))
        for text in self._extra_sources:
            combo.addItem(Path(text).name, text)
        combo.addItem("Video file…", BROWSE_VIDEO)
        combo.addItem("Image folder…", BROWSE_FOLDER)
        index = combo.findData(self.source_text) if self.source_text is not None else -1
        combo.setCurrentIndex(max(0, index))
        self._filling = False

    def _on_source_picked(self, index: int) -> None:
        data = self.panel.source_combo.itemData(index)
        if data == BROWSE_VIDEO:
            patterns = " ".join(f"*{s}" for s in VIDEO_SUFFIXES)
            path, _ = QFileDialog.getOpenFileName(self, "Play a video", str(Path.home()), f"Videos ({patterns})")
            if path:
                self.set_source(path)
            else:
                self._fill_sources()
        elif data == BROWSE_FOLDER:
            path = QFileDialog.getExistingDirectory(self, "Play the images of a folder", str(Path.home()))
            if path:
                self.set_source(path)
            else:
                self._fill_sources()
        elif data is not None and data != self.source_text:
            self.set_source(str(data))

    # --- models ----------------------------------------------------------------------------------
    def _model_entries(self) -> list[tuple[str, Path]]:
        from cnnstudio.ml.video.runners import bundled_model_path

        bundled = bundled_model_path()
        entries = [("Bundled digits model" + ("" if bundled.is_file() else " (not there yet)"), bundled)]
        doc = self.ctx.document
        for record in doc.runs:
            if not isinstance(record, dict) or "path" not in record:
                continue
            run_dir = doc.run_dir(record)
            name = record.get("name") or Path(record["path"]).name
            exported = (run_dir / "model.onnx").is_file()
            entries.append((f"Run {name}" + ("" if exported else " (PyTorch)"), run_dir))
        entries += [(path.name, path) for path in self._extra_models]
        return entries

    def _fill_models(self, *_args) -> None:
        combo = self.panel.model_combo
        self._filling = True
        combo.clear()
        for label, path in self._model_entries():
            combo.addItem(label, str(path))
        combo.addItem("ONNX file…", BROWSE_MODEL)
        index = combo.findData(str(self.model_path)) if self.model_path is not None else 0
        combo.setCurrentIndex(max(0, index))
        self._filling = False

    def _on_document_changed(self, section: str) -> None:
        if section == "runs":
            self._fill_models()

    def _on_model_picked(self, index: int) -> None:
        data = self.panel.model_combo.itemData(index)
        if data == BROWSE_MODEL:
            path, _ = QFileDialog.getOpenFileName(self, "Run an ONNX model", str(Path.home()), "ONNX models (*.onnx)")
            if path:
                self.set_model(Path(path))
            else:
                self._fill_models()
        elif data is not None and Path(data) != self.model_path:
            self.set_model(Path(data))

    def set_model(self, path: Path) -> None:
        """Load an .onnx file or a run folder in the background; the video keeps running meanwhile."""
        from cnnstudio.ml.video.runners import bundled_model_path

        path = Path(path)
        self.model_path = path
        if path.suffix.lower() == ".onnx" and path != bundled_model_path() and path not in self._extra_models:
            self._extra_models.append(path)
        self._fill_models()
        if self.session is None:
            return
        if path == bundled_model_path() and not path.is_file():
            self._model_token += 1
            self._use_runner(None)
            self.model_state = "missing"
            self.model_message = (
                f"The bundled digits model ({path.parent.name}/{path.name}) is not there yet; it ships with the "
                "release. Meanwhile choose an ONNX file or a trained run under Model."
            )
            return
        self._reload_model()

    def _reload_model(self) -> None:
        if self.model_path is None or self.session is None:
            return
        if self.model_state == "missing" and not self.model_path.is_file():
            return
        from cnnstudio.ml.video.runners import load_runner

        path = self.model_path
        provider = self.panel.provider_combo.currentData()
        self._model_token += 1
        token = self._model_token
        self.model_state = "loading"
        self.model_message = f"Loading {path.name}…"

        def load():
            runner = load_runner(path, provider)
            return runner, runner.feature_layers()

        self.jobs.run(load, tag="model", on_done=lambda r: self._on_model_loaded(token, r),
                      on_error=lambda message: self._on_model_failed(token, message),
                      failure="The model could not be loaded")

    def _on_model_loaded(self, token: int, loaded) -> None:
        if token != self._model_token:
            return
        runner, layers = loaded
        self.model_state, self.model_message = "ready", ""
        p = self.panel
        p.layer_combo.clear()
        for layer in layers:
            p.layer_combo.addItem(layer_title(layer), layer)
        p.layer_combo.setEnabled(bool(layers) and p.features_check.isChecked())
        p.features_check.setEnabled(bool(layers))
        p.provider_combo.setEnabled(runner.kind == "onnx")
        p.provider_combo.setToolTip(
            "Where ONNX Runtime runs the model" if runner.kind == "onnx"
            else "This run is not exported to ONNX yet, so PyTorch runs it"
        )
        self._use_runner(runner)
        self._apply_feature_layer()
        note = getattr(runner, "note", "")
        combo = self.panel.model_combo
        name = combo.currentText() if combo.currentData() == str(self.model_path) else runner.name
        where = getattr(runner, "provider_label", runner.provider)
        self.ctx.show_status(note or f"Live: {name} runs on {where}", 8000)

    def _on_model_failed(self, token: int, message: str) -> None:
        if token != self._model_token:
            return
        self._use_runner(None)
        self.model_state, self.model_message = "failed", message

    def _use_runner(self, runner) -> None:
        self.runner = runner
        if self.pipeline is not None:
            self.pipeline.runner = runner

    def _fill_providers(self) -> None:
        combo = self.panel.provider_combo
        current = combo.currentData()
        combo.clear()
        for provider, label in self.providers:
            combo.addItem(label, provider)
        index = combo.findData(current) if current else combo.findData("CPUExecutionProvider")
        combo.setCurrentIndex(max(0, index))

    def set_provider(self, provider: str) -> None:
        index = self.panel.provider_combo.findData(provider)
        if index < 0:
            raise UserError(f"ONNX Runtime offers no {provider} here.")
        self.panel.provider_combo.setCurrentIndex(index)
        self._reload_model()

    # --- feature maps ----------------------------------------------------------------------------
    def _on_features_toggled(self, on: bool) -> None:
        self.panel.layer_combo.setEnabled(on and self.panel.layer_combo.count() > 0)
        self.panel.features_view.setVisible(on)
        self._apply_feature_layer()

    def _apply_feature_layer(self) -> None:
        runner = self.runner
        if runner is None:
            return
        layer = self.panel.layer_combo.currentData() if self.panel.features_check.isChecked() else None
        self.jobs.run(runner.set_feature_layer, layer or None, tag="features", on_error=self.ctx.show_status,
                      failure="Feature maps are not available")

    # --- region of interest ----------------------------------------------------------------------
    def _on_roi_changed(self, fractions: tuple) -> None:
        if self.pipeline is not None:
            self.pipeline.roi = tuple(fractions) if fractions else None

    # --- the display loop ------------------------------------------------------------------------
    def _poll(self) -> None:
        session = self.session
        if session is None:
            return
        serial, result = session.latest(self._serial)
        if result is not None:
            self._serial = serial
            self._show(result)
        status = session.status
        if self.last_result is not None and status is not None and status.state in DEAD_STATES:
            self._clear_shown()  # a dead source's last frame, speed and answer are not the present
        self.view.set_message(self.banner_text())

    def _clear_shown(self) -> None:
        """Forget the last frame: blank view, no prediction, no speed figures."""
        self.last_result = None
        self._shown.clear()
        self.view.clear_frame()
        self.panel.clear_readouts()

    def banner_text(self) -> str:
        lines = []
        if self.source_message:
            lines.append(self.source_message)
        else:
            status = self.session.status if self.session is not None else None
            if status is not None and status.state in ("retrying", "failed", "ended"):
                lines.append(status.message)
        if self.model_message:
            lines.append(self.model_message)
        if self.session is not None and self.session.error:
            lines.append(self.session.error)
        return "\n".join(lines)

    def _show(self, result) -> None:
        self.last_result = result
        self.view.show_frame(result.image)
        now = time.perf_counter()
        self._shown.append(now)
        shown_fps = (len(self._shown) - 1) / (now - self._shown[0]) if len(self._shown) > 1 and now > self._shown[0] else 0.0
        p = self.panel
        p.show_top(result.top[:TOP_K])
        dropped = self.session.dropped if self.session is not None else 0
        lag_ms = (now - result.captured_at) * 1000.0 if result.captured_at else 0.0
        self.lag_ms = lag_ms
        p.fps_label.setText(
            f"{shown_fps:.1f} frames/s shown, {result.fps:.1f} processed, {dropped} dropped; "
            f"shown {lag_ms:.1f} ms after capture"
        )
        t = result.timings
        p.latency_label.setText(
            f"capture {t.capture:.2f}, preprocess {t.preprocess:.2f}, inference {t.inference:.2f}, "
            f"drawing {t.drawing:.2f} ms"
        )
        if result.features is not None and p.features_check.isChecked():
            p.show_features(result.features)
        if result.top:
            self.predicted = True
        if self.session is not None and self.session.recorder.active:
            p.record_button.setText(f"Stop ({self.session.recorder.frames} frames)")

    # --- snapshot and recording ------------------------------------------------------------------
    def save_snapshot(self, path: Path) -> Path:
        from cnnstudio.ml.video.recorder import save_snapshot

        if self.last_result is None:
            raise UserError("There is no frame to save yet.")
        saved = save_snapshot(self.last_result.image, path)
        self.ctx.show_status(f"Saved the snapshot to {saved}")
        return saved

    def _default_name(self, suffix: str) -> str:
        return str(Path.home() / f"live-{time.strftime('%Y%m%d-%H%M%S')}{suffix}")

    def _snapshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save snapshot", self._default_name(".png"),
                                              "Images (*.png *.jpg *.bmp)")
        if path:
            try:
                self.save_snapshot(Path(path))
            except UserError as exc:
                QMessageBox.warning(self, "Snapshot not saved", str(exc))

    def start_recording(self, path: Path) -> None:
        if self.session is None:
            raise UserError("Start the live view before recording.")
        fps = self.pipeline.fps() if self.pipeline is not None else 0.0
        self.session.error = ""
        self.session.recorder.start(path, fps=min(60.0, fps) if fps >= 5 else 30.0)
        self.pipeline.draw_roi = True  # the video shows the region the model saw
        self.panel.record_button.setChecked(True)
        self.panel.record_button.setText("Stop (0 frames)")

    def stop_recording(self) -> tuple[Path | None, int]:
        if self.session is None:
            return None, 0
        path, frames = self.session.recorder.stop()
        if self.pipeline is not None:
            self.pipeline.draw_roi = False
        self.panel.record_button.setChecked(False)
        self.panel.record_button.setText("Record…")
        if path is not None:
            self.ctx.show_status(f"Recorded {frames} frames to {path}")
        return path, frames

    def _record_clicked(self, checked: bool) -> None:
        if not checked:
            self.stop_recording()
            return
        path, _ = QFileDialog.getSaveFileName(self, "Record video", self._default_name(".avi"),
                                              "Videos (*.avi *.mp4 *.mkv)")
        if not path:
            self.panel.record_button.setChecked(False)
            return
        try:
            self.start_recording(Path(path))
        except UserError as exc:
            self.panel.record_button.setChecked(False)
            QMessageBox.warning(self, "Recording not started", str(exc))
