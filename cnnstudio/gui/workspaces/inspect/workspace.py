"""The Inspect workspace: a model and an input image, and views into what the model does with it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.inspect.draw_tab import DrawTab
from cnnstudio.gui.workspaces.inspect.feature_view import FeatureMapsView
from cnnstudio.gui.workspaces.inspect.graph_tab import GraphTab
from cnnstudio.gui.workspaces.inspect.image_view import ImageView
from cnnstudio.gui.workspaces.inspect.kernels_view import KernelsView
from cnnstudio.gui.workspaces.inspect.loading import Loader
from cnnstudio.gui.workspaces.inspect.mistakes_view import MistakesView
from cnnstudio.gui.workspaces.inspect.neuron_link import CLICK_TIP, NeuronLink
from cnnstudio.gui.workspaces.inspect.predictions_view import PredictionsView
from cnnstudio.gui.workspaces.inspect.prob_bars import ProbabilityBars
from cnnstudio.gui.workspaces.inspect.saliency_view import SaliencyView
from cnnstudio.gui.workspaces.inspect.similar_view import SimilarView
from cnnstudio.gui.workspaces.inspect.source_bar import BUNDLED, SourceBar

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm")
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
GRID_TILE = 96  # feature-map tiles are enlarged to at least this many pixels (crisp channel labels)
MODEL_FILTER = "Models (*.onnx *.json);;ONNX models (*.onnx);;Network specs (*.json);;All files (*)"


class InspectWorkspace(WorkspaceBase):
    accepted_suffixes = (*IMAGE_SUFFIXES, ".onnx")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        from cnnstudio.ml.inspect.session import InspectSession

        super().__init__(ctx, parent)
        self.session = InspectSession()
        self.loader = Loader(self)
        self.loader.finished.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self._source: tuple[str, str] = BUNDLED
        self._loaded_source: tuple[str, str] | None = None
        self._files: list[str] = []
        self._layer = ""
        self._channel = 0
        self._started = False
        self._model_pending = False
        self._data_pending = False
        self._data_config: dict | None = None  # the data settings of the loaded (or loading) dataset
        self._model_status: tuple[str, bool] = ("", False)  # the open model's status line
        self._build()
        self.neuron_link = NeuronLink(self)  # a click on a neuron opens its convolution in the Playground
        self.draw.attach(self)  # drawings become the input, predicted live
        doc = ctx.document
        doc.changed.connect(self._on_doc_changed)
        doc.replaced.connect(self._on_doc_replaced)
        self._fill_sources()

    # --- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.sources = SourceBar()
        self.input_view = ImageView(minimum=150)
        self.input_view.setToolTip("The input image (drop an image file on the window to use it)")
        self.input_caption = QLabel()
        self.input_caption.setWordWrap(True)
        self.channel_view = ImageView(minimum=150)
        self.channel_view.setToolTip(f"The feature-map channel you clicked, enlarged. {CLICK_TIP}.")
        self.channel_caption = QLabel()
        self.channel_caption.setWordWrap(True)
        self.top_bars = ProbabilityBars(rows=3)
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.addWidget(self.input_view, 1)
        left_col.addWidget(self.input_caption)
        left_col.addWidget(self.top_bars)
        left_col.addWidget(self.channel_view, 1)
        left_col.addWidget(self.channel_caption)
        left.setMinimumWidth(200)
        left.setMaximumWidth(340)

        self.features = FeatureMapsView()
        self.kernels = KernelsView()
        self.predictions = PredictionsView()
        self.saliency = SaliencyView()
        self.similar = SimilarView()
        self.mistakes = MistakesView()
        self.graph = GraphTab()
        self.draw = DrawTab()
        self.tabs = QTabWidget()
        for widget, title, tip in (
            (self.features, "Feature Maps", "Every channel of a layer's output for this input"),
            (self.kernels, "Kernels", "The learned convolution filters, and how they changed over a run's epochs"),
            (self.predictions, "Predictions", "Top classes with probabilities; predicted and true boxes"),
            (self.saliency, "Saliency", "Which pixels drive the prediction (Grad-CAM, gradient)"),
            (self.similar, "Similar Images", "Nearest neighbours in the network's penultimate layer; 2-D map"),
            (self.mistakes, "Mistakes", "The validation images the model is most confidently wrong about"),
            (self.graph, "Graph", "The ONNX model's graph: nodes, tensor shapes and weights; click a node for details"),
            (self.draw, "Draw", "Draw a digit with the mouse and watch the prediction while you draw"),
        ):
            index = self.tabs.addTab(widget, title)
            self.tabs.setTabToolTip(index, tip)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([280, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.sources)
        layout.addWidget(split, 1)

        self.sources.model_chosen.connect(self._choose_model)
        self.sources.open_model_requested.connect(self._open_model_dialog)
        self.sources.open_image_requested.connect(self._open_image_dialog)
        self.sources.snapshot_requested.connect(self.take_snapshot)
        self.sources.sample_chosen.connect(self.use_sample)
        self.features.layer_chosen.connect(self.set_layer)
        self.features.channel_chosen.connect(lambda _layer, ch: self.set_channel(ch))
        self.features.cmap.currentIndexChanged.connect(lambda _i: self._show_features())
        self.predictions.k.valueChanged.connect(lambda _v: self._update_tab())
        self.mistakes.sample_chosen.connect(self._inspect_mistake)
        self.tabs.currentChanged.connect(lambda _i: self._update_tab())
        self.input_view.set_message("Loading the model and the project's dataset…")
        self.features.show_message("Loading…")

    # --- workspace API ---------------------------------------------------------------------------
    def activated(self) -> None:
        if not self._started:
            self._started = True
            self._load_model(self._source)
            self._load_dataset()

    def smoke_ready(self) -> bool:
        return self._started and not self._model_pending and not self._data_pending

    def open_file(self, path: Path) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".onnx":
            self._open_model_path(str(path))
            return True
        if suffix in IMAGE_SUFFIXES:
            self.open_image(path)
            return True
        return False

    def open_run(self, run_dir: Path) -> None:
        """Show a training run's model and data (the Experiments workspace opens a trial's run this way)."""
        self._source = ("run", str(run_dir))
        self._fill_sources()
        if self._started:
            self._load_model(self._source)

    def shutdown(self) -> None:
        doc = self.ctx.document
        for signal, slot in ((doc.changed, self._on_doc_changed), (doc.replaced, self._on_doc_replaced)):
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
        self.loader.close()

    # --- sources ---------------------------------------------------------------------------------
    def _fill_sources(self) -> None:
        doc = self.ctx.document
        runs = []
        for record in doc.runs:
            try:
                runs.append((str(record.get("name") or Path(record["path"]).name), str(doc.run_dir(record))))
            except (KeyError, TypeError):
                continue
        self.sources.set_runs(runs, self._files, self._source)

    def _on_doc_changed(self, section: str) -> None:
        if section == "runs":
            self._fill_sources()
        elif section == "data" and self._started and self._source[0] != "run":
            self._load_dataset()
        elif section == "network" and self._source[0] == "network" and self._started:
            self._load_model(self._source)

    def _on_doc_replaced(self) -> None:
        """Another project: its data; its network when that was shown; the bundled model instead of a run."""
        kind = self._source[0]
        if kind == "run":
            self._source = BUNDLED
        self._fill_sources()
        if not self._started:
            return
        self._data_config = None  # the new project's data, whatever it is
        if kind in ("run", "network"):
            self._load_model(self._source)  # loads the data too
        else:
            self._load_dataset()

    def _choose_model(self, kind: str, path: str) -> None:
        self._load_model((kind, path))

    def _load_model(self, source: tuple[str, str]) -> None:
        from cnnstudio.ml.inspect import models

        self._source = source
        kind, path = source
        spec = self.ctx.document.get("network")
        if kind == "bundled":
            func = lambda: models.open_bundled(spec)  # noqa: E731
        elif kind == "network":
            func = lambda: models.from_spec(spec)  # noqa: E731
        elif kind == "run":
            title = f"run {self._run_name(path)}"
            func = lambda: models.from_run(path, title=title)  # noqa: E731
        else:
            func = lambda: models.open_model(path)  # noqa: E731
        self._model_pending = True
        self.sources.set_status("Opening the model…")
        self.loader.start("model", func)
        if self._started and self._wanted_data_config() != self._data_config:
            self._load_dataset()  # a run is shown with the data it was trained on

    def _run_name(self, path: str) -> str:
        doc = self.ctx.document
        for record in doc.runs:
            try:
                if str(doc.run_dir(record)) == path:
                    return str(record.get("name") or Path(path).name)
            except (KeyError, TypeError):
                continue
        return Path(path).name

    def _wanted_data_config(self) -> dict:
        """The project's data settings, or for a run the settings it was trained with (when readable)."""
        kind, path = self._source
        if kind == "run":
            from cnnstudio.core.errors import UserError
            from cnnstudio.ml.runs import load_run

            try:
                data = load_run(path).config.get("data")
            except UserError:
                data = None
            if isinstance(data, dict) and data.get("source"):
                return data
        return self.ctx.document.get("data")

    def _load_dataset(self) -> None:
        config = self._wanted_data_config()
        self._data_config = config
        self._data_pending = True

        def load():
            from cnnstudio.ml.datasets import load_dataset  # imports torch: on the worker, not the GUI thread

            return load_dataset(config)

        self.loader.start("data", load)

    def _open_model_path(self, path: str) -> None:
        if path not in self._files:
            self._files.append(path)
        self._source = ("file", path)
        self._fill_sources()
        self._load_model(self._source)

    def show_onnx_graph(self, path: Path) -> bool:
        """Open an ONNX file as the model and show its graph (drawn at once, even if Inspect cannot run it)."""
        shown = self.graph.pin_file(path, self.session.model)
        self.tabs.setCurrentWidget(self.graph)
        if shown:
            self._open_model_path(str(path))
        return shown

    def _open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Model", "", MODEL_FILTER)
        if path:
            self._open_model_path(path)

    def _open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Image", "", IMAGE_FILTER)
        if path:
            self.open_image(Path(path))

    def _on_loaded(self, tag: str, result) -> None:
        from cnnstudio.core.errors import UserError

        if tag == "camera":
            self._on_snapshot(result)
            return
        if tag == "model":
            self._model_pending = False
            self._loaded_source = self._source
            self.session.set_model(result)
            self._layer = result.first_conv() or ""
            self._channel = 0
            self.features.strip.set_layers(result.tensors, result.labels)
            self.saliency.model_changed(self.session)
            status = f"{result.title}: input {'×'.join(map(str, result.meta.input_shape))}, {len(result.tensors)} inspectable layers"
            self._model_status = (result.note or status, bool(result.note))
            self.sources.set_status(*self._model_status)
            if result.note:
                self.ctx.show_status(result.note, 10000)
        else:
            self._data_pending = False
            self.session.set_dataset(result)
            self.sources.set_sample_count(self.session.sample_count)
            if result.skipped:
                self.ctx.show_status(f"{len(result.skipped)} dataset file(s) were skipped (unreadable).", 8000)
        if self.session.model is not None and self.session.input is None and self.session.sample_count:
            try:
                self.session.use_sample(0)
            except UserError as exc:
                self.sources.set_status(str(exc), error=True)
        if self.session.model is not None and self.session.dataset is not None:
            self.sources.set_sample_count(self.session.sample_count)
        self.refresh()

    def _on_load_failed(self, tag: str, message: str) -> None:
        if tag == "camera":
            self.sources.camera.setEnabled(True)
            self.sources.set_status(message, error=True)
            return
        if tag == "model":
            self._model_pending = False
            if self._loaded_source is not None:  # keep showing the last model that opened
                self._source = self._loaded_source
                self._fill_sources()
            self.sources.set_status(message, error=True)
            if self.session.model is None:
                self.features.show_message(message)
                self.input_view.set_message("No model is open.")
        else:
            self._data_pending = False
            self.sources.set_sample_count(0)
            self.sources.set_status(f"The project's dataset could not be loaded: {message} Open an image instead.", error=True)
            if self.session.input is None:
                self.input_view.set_message("Open an image or drop one on the window.")
        self.ctx.show_status(message, 10000)
        self.refresh()

    # --- input -----------------------------------------------------------------------------------
    def use_sample(self, index: int) -> None:
        from cnnstudio.core.errors import UserError

        try:
            self.session.use_sample(index)
        except UserError as exc:
            self.sources.set_status(str(exc), error=True)
            return
        self.sources.set_sample(self.session.input.sample)
        if self._model_status[0] and not self._model_pending:
            self.sources.set_status(*self._model_status)  # no longer about an opened image file
        self.refresh()

    def open_image(self, path: Path) -> bool:
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.preprocess import load_image

        try:
            image = load_image(path)
            if self.session.model is None:
                raise UserError("No model is open yet; wait for it to load, then open the image again.")
            self.session.use_image(image, Path(path).name)
        except UserError as exc:
            self.sources.set_status(str(exc), error=True)
            self.ctx.show_status(str(exc), 8000)
            return False
        self.sources.set_status(f"{Path(path).name}: resized and preprocessed as the model's metadata says.")
        self.refresh()
        return True

    def take_snapshot(self, capture_factory=None) -> None:
        """Grab one webcam frame on a worker and make it the input (``capture_factory`` for tests)."""
        from cnnstudio.ml.inspect.snapshot import camera_snapshot

        self.sources.camera.setEnabled(False)
        self.sources.set_status("Taking a snapshot from camera 0…")
        self.loader.start("camera", lambda: camera_snapshot(0, capture_factory))

    def _on_snapshot(self, image) -> None:
        from cnnstudio.core.errors import UserError

        self.sources.camera.setEnabled(True)
        try:
            if self.session.model is None:
                raise UserError("No model is open yet; wait for it to load, then take the snapshot again.")
            self.session.use_image(image, "camera snapshot")
        except UserError as exc:
            self.sources.set_status(str(exc), error=True)
            return
        self.sources.set_status("Camera snapshot: resized and preprocessed as the model's metadata says.")
        self.refresh()

    def _inspect_mistake(self, index: int) -> None:
        self.use_sample(index)
        self.tabs.setCurrentWidget(self.predictions)

    # --- drawing ---------------------------------------------------------------------------------
    def set_layer(self, name: str) -> None:
        self._layer = name
        self._channel = 0
        self._show_features()

    def set_channel(self, channel: int) -> None:
        self._channel = channel
        self._show_channel()

    def current_layer(self) -> str:
        return self._layer

    def refresh(self) -> None:
        """Redraw everything that depends on the input (the input, top classes, feature maps, open tab)."""
        from cnnstudio.ml.inspect.render import enlarge

        session = self.session
        if session.model is None or session.input is None or session.analysis is None:
            if session.model is not None and session.input is None and not self._data_pending:
                self.input_view.set_message("Open an image or drop one on the window.")
                self.features.show_message("Open an image (or pick a dataset sample) to see the feature maps.")
            return
        inp, model = session.input, session.model
        shape = "×".join(map(str, model.meta.input_shape))
        if inp.sample is None:  # a file or a snapshot: show it as the network gets it (resized, inverted)
            from cnnstudio.ml.inspect.session import network_view

            pre = model.meta.preprocess
            self.input_view.set_image(enlarge(network_view(inp.tensor, pre.mean, pre.std), 224))
            ink = {"light": "light ink on dark", "dark": "dark ink on light paper"}.get(pre.ink, "")
            polarity = {"invert": ", inverted" + (f" (the model was trained on {ink})" if ink else ""),
                        "auto": f", ink polarity read from its border (the model was trained on {ink})"}
            self.input_view.setToolTip(f"{inp.title} as the model sees it: resized to {shape}"
                                       + polarity.get(pre.polarity, "")
                                       + ". Drop another image file on the window to use it.")
            self.input_caption.setText(f"{inp.title}, as the model sees it<br>model input {shape}"
                                       + (", inverted" if pre.invert else ""))
        else:
            self.input_view.set_image(enlarge(inp.display, 224))
            self.input_view.setToolTip("The input image (drop an image file on the window to use it)")
            self.input_caption.setText(f"{inp.title}<br>model input {shape}")
        true_name = model.meta.class_name(inp.label) if inp.label is not None else None
        self.top_bars.set_items([(n, p) for _i, n, p in session.analysis.top(model.meta, 3)], true_name)
        self._show_features()
        self._update_tab()

    def _show_features(self) -> None:
        from cnnstudio.ml.inspect.render import as_maps, render_grid

        session = self.session
        if session.analysis is None or session.model is None:
            return
        if self._layer not in session.analysis.features:
            self._layer = session.model.first_conv() or ""
        if not self._layer:
            self.features.show_message("This model has no intermediate layers to show.")
            return
        maps = as_maps(session.analysis.features[self._layer])
        grid, layout = render_grid(maps, cmap=self.features.cmap.currentText(), tile=GRID_TILE)
        info = session.model.tensor(self._layer)
        self.features.show_grid(self._layer, session.model.label(self._layer), grid, layout, info.shape_text,
                                maps.shape[0], len(layout.rects))
        self._channel = min(self._channel, maps.shape[0] - 1)
        self._show_channel()

    def _show_channel(self) -> None:
        from cnnstudio.ml.inspect.render import as_maps, render_channel

        session = self.session
        if session.analysis is None or self._layer not in session.analysis.features:
            return
        maps = as_maps(session.analysis.features[self._layer])
        channel = maps[min(self._channel, maps.shape[0] - 1)]
        self.channel_view.set_image(render_channel(channel, self.features.cmap.currentText(), 224))
        lo, hi = float(channel.min()), float(channel.max())
        self.channel_caption.setText(f"{session.model.label(self._layer)}, channel {self._channel}: "
                                     f"{channel.shape[-2]}×{channel.shape[-1]}, values {lo:.3g} to {hi:.3g}"
                                     + self.neuron_link.caption_hint(self._layer))

    def _update_tab(self) -> None:
        from cnnstudio.core.errors import UserError

        current = self.tabs.currentWidget()
        if current is self.features or self.session.model is None:
            return
        try:
            if current is self.kernels:
                self.kernels.update_view(self.session)
            elif current is self.predictions:
                self.predictions.show_prediction(self.session)
            elif current is self.saliency:
                self.saliency.update_view(self.session)
            elif current is self.similar:
                self.similar.update_view(self.session)
            elif current is self.mistakes:
                self.mistakes.update_view(self.session)
            elif current is self.graph:
                self.graph.show_model(self.session.model)
            elif current is self.draw:
                self.draw.update_view(self.session)
        except UserError as exc:
            self.sources.set_status(str(exc), error=True)
