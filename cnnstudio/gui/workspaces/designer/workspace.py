"""The Designer workspace: palette, layer stack, properties, volume diagram and weight sharing.

The project document's "network" section is the only state. Every user action computes a new spec
with :mod:`cnnstudio.core.spec_edit` and pushes it with ``ctx.edit`` (one undo step); the document's
``changed`` event then re-renders every view from the spec and its inference summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core import spec_edit
from cnnstudio.core.errors import UserError
from cnnstudio.core.inference import NetworkSummary, infer, weight_sharing
from cnnstudio.core.registry import LAYER_TYPES, describe
from cnnstudio.core.spec import fill_layer_defaults
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.designer.exporting import ExportRunner
from cnnstudio.gui.workspaces.designer.network_settings import NetworkSettings
from cnnstudio.gui.workspaces.designer.palette import LAYER_TYPE_MIME, Palette
from cnnstudio.gui.workspaces.designer.problems import ProblemsList
from cnnstudio.gui.workspaces.designer.properties import PropertiesPanel
from cnnstudio.gui.workspaces.designer.sharing import SharingView
from cnnstudio.gui.workspaces.designer.stack import LAYER_IDS_MIME, BlockRow, StackView
from cnnstudio.gui.workspaces.designer.volume import VolumeDiagram, build_volumes

#: clipboard payload of copied layers: a JSON list of layer dicts
LAYERS_MIME = "application/x-cnnstudio-layers"
SPEC_FILTER = "Network specs (*.json);;All files (*)"


def _undo_tip(verb: str, text: str, key: QKeySequence.StandardKey | QKeySequence) -> str:
    keys = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
    what = f" “{text}”" if text else ""
    return f"{verb}{what} ({keys}); undo covers every project edit, in any workspace"


def set_text(label: QLabel, text: str) -> None:
    """Set a label's text only when it changed (a rich-text label re-lays out on every setText)."""
    if label.text() != text:
        label.setText(text)


def shape_text(shape, error: str | None = None) -> str:
    """``6 × 28 × 28``; "invalid" for a layer with a problem, "?" after one (its input is unknown)."""
    if shape is None:
        return "invalid" if error else "?"
    return " × ".join(str(d) for d in shape)


class Workspace(WorkspaceBase):
    accepted_suffixes = (".json",)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self._spec: dict = {}
        self._summary: NetworkSummary | None = None
        self._pending_select: list[str] | None = None
        self._updating = False
        self._sharing_stale = True
        self.last_refresh_ms = 0.0
        self.exporter = ExportRunner(self)
        self.exporter.finished.connect(self._export_finished)
        self._build()
        self._build_actions()
        ctx.document.changed.connect(self._on_document_changed)
        ctx.document.replaced.connect(self.refresh)
        self.refresh()
        if self.stack.stack_model.ids():
            self.stack.select_ids([self.stack.stack_model.ids()[0]])

    # --- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        self.toolbar = QToolBar("Designer", self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setMovable(False)

        self.palette_panel = Palette(self)
        self.palette_panel.setMinimumWidth(150)
        self.palette_panel.insert_requested.connect(self.insert_type_after_selection)

        self.input_label = QLabel()
        self.input_label.setToolTip("The network input (edit it on the Network tab)")
        self.input_label.setStyleSheet(
            "QLabel { padding: 6px 10px; border: 1px dashed palette(mid); border-radius: 5px; margin: 0 4px; }"
        )
        self.stack = StackView(self)
        self.stack.stack_model.drop_handler = self.handle_drop
        self.stack.selectionModel().selectionChanged.connect(self._selection_changed)
        self.stack.doubleClicked.connect(lambda _index: self._show_properties_tab())
        self.stack.setToolTip("")
        self.footer = QLabel()
        self.footer.setTextFormat(Qt.TextFormat.RichText)
        self.footer.setStyleSheet("QLabel { padding: 4px 6px; }")
        self.footer.setFixedHeight(self.footer.fontMetrics().lineSpacing() * 2 + 12)
        # its width hint must not change with the numbers, or each edit re-lays out the whole window
        self.footer.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(4)
        heading = QLabel("<b>Layer stack</b> — drag layers in from the palette, drag blocks to reorder")
        heading.setStyleSheet("color: palette(placeholder-text);")
        centre_layout.addWidget(heading)
        centre_layout.addWidget(self.input_label)
        centre_layout.addWidget(self.stack, 1)
        centre_layout.addWidget(self.footer)

        self.properties = PropertiesPanel(self)
        self.properties.param_edited.connect(self.set_param)
        self.properties.trainable_edited.connect(self.set_trainable)
        self.properties.rename_requested.connect(self.rename_layer)
        self.settings_panel = NetworkSettings(self)
        self.settings_panel.edit_requested.connect(self._apply_fn)
        self.problems = ProblemsList(self)
        self.problems.layer_activated.connect(lambda layer_id: self.stack.select_ids([layer_id]))
        self.side_tabs = QTabWidget(self)
        self.side_tabs.addTab(self.properties, "Layer")
        self.side_tabs.addTab(self.settings_panel, "Network")
        self.side_tabs.addTab(self.problems, "Problems")
        self.side_tabs.setMinimumWidth(330)

        self.volume = VolumeDiagram(self)
        self.volume.canvas.volume_clicked.connect(self._volume_clicked)
        self.sharing = SharingView(self)
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.addTab(self.volume, "Volume diagram")
        self.bottom_tabs.addTab(self.sharing, "Weight sharing")
        self.bottom_tabs.currentChanged.connect(lambda _i: self._update_sharing())

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.palette_panel)
        top.addWidget(centre)
        top.addWidget(self.side_tabs)
        top.setStretchFactor(0, 0)
        top.setStretchFactor(1, 1)
        top.setStretchFactor(2, 0)
        top.setSizes([190, 480, 400])
        top.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.bottom_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.bottom_tabs.setMinimumHeight(150)
        self.splitter.setSizes([560, 270])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)

    def _sync_undo_actions(self, *_args) -> None:
        import shiboken6

        stack = self.ctx.undo_stack
        if not shiboken6.isValid(stack):  # the stack signals while it is being destroyed at exit
            return
        self.action_undo.setEnabled(stack.canUndo())
        self.action_redo.setEnabled(stack.canRedo())
        self.action_undo.setToolTip(_undo_tip("Undo", stack.undoText(), QKeySequence.StandardKey.Undo))
        self.action_redo.setToolTip(_undo_tip("Redo", stack.redoText(), QKeySequence("Ctrl+Y")))

    def _action(self, text: str, slot, shortcut=None, tip: str = "", on_stack: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({keys})" if keys else ""))
        action.triggered.connect(lambda _checked=False: slot())
        if on_stack:
            self.stack.addAction(action)
        else:
            self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.toolbar
        self.templates_menu = QMenu("Templates", self)
        self.templates_menu.aboutToShow.connect(self._fill_templates_menu)
        templates_button = QToolButton(self)
        templates_button.setText("Templates ▾")
        templates_button.setToolTip("Replace the network by a bundled template (one undoable step)")
        templates_button.setMenu(self.templates_menu)
        templates_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(templates_button)
        self.action_import = self._action(
            "Import Spec…", self.import_spec_dialog, tip="Load a network spec JSON"
        )
        self.action_export_spec = self._action(
            "Export Spec…", self.export_spec_dialog, tip="Save the network as a spec JSON"
        )
        export_menu = QMenu("Export", self)
        self.action_export_onnx = self._action(
            "ONNX Model…",
            lambda: self.export_dialog("onnx"),
            tip="Export the network (fresh weights) to ONNX and check parity",
        )
        self.action_export_torch = self._action(
            "PyTorch Code…",
            lambda: self.export_dialog("torch"),
            tip="Write a standalone PyTorch module rebuilding this network",
        )
        self.action_export_diagram = self._action(
            "Diagram Image…", self.export_diagram_dialog, tip="Save the volume diagram as PNG, SVG or PDF"
        )
        for action in (self.action_export_onnx, self.action_export_torch, self.action_export_diagram):
            export_menu.addAction(action)
        export_button = QToolButton(self)
        export_button.setText("Export ▾")
        export_button.setToolTip("Export to ONNX, PyTorch code or a diagram image")
        export_button.setMenu(export_menu)
        export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addAction(self.action_import)
        bar.addAction(self.action_export_spec)
        bar.addWidget(export_button)
        bar.addSeparator()
        # fixed labels (the stack's own actions rename themselves "Undo <edit>", so the toolbar jumped);
        # what would be undone is in the tooltip. The keys are the Edit menu's, for the whole project.
        stack = self.ctx.undo_stack
        undo = QAction("Undo", self)
        redo = QAction("Redo", self)
        undo.triggered.connect(stack.undo)
        redo.triggered.connect(stack.redo)
        self.action_undo, self.action_redo = undo, redo
        stack.indexChanged.connect(self._sync_undo_actions)  # a bound slot: dropped with this widget
        stack.cleanChanged.connect(self._sync_undo_actions)
        self._sync_undo_actions()
        bar.addAction(undo)
        bar.addAction(redo)
        bar.addSeparator()
        self.action_delete = self._action(
            "Delete",
            self.delete_selected,
            QKeySequence.StandardKey.Delete,
            "Delete the selected layers",
            on_stack=True,
        )
        self.action_duplicate = self._action(
            "Duplicate", self.duplicate_selected, "Ctrl+D", "Duplicate the selected layers", on_stack=True
        )
        self.action_cut = self._action("Cut", self.cut_selected, QKeySequence.StandardKey.Cut, on_stack=True)
        self.action_copy = self._action(
            "Copy", self.copy_selected, QKeySequence.StandardKey.Copy, on_stack=True
        )
        self.action_paste = self._action(
            "Paste",
            self.paste,
            QKeySequence.StandardKey.Paste,
            "Paste layers after the selection",
            on_stack=True,
        )
        self.action_up = self._action(
            "Move Up", lambda: self.move_selected(-1), "Alt+Up", "Move the selected layers up", on_stack=True
        )
        self.action_down = self._action(
            "Move Down",
            lambda: self.move_selected(1),
            "Alt+Down",
            "Move the selected layers down",
            on_stack=True,
        )
        self.action_freeze = self._action(
            "Freeze",
            self.toggle_freeze_selected,
            "Ctrl+Shift+F",
            "Freeze or unfreeze the selected layers (transfer learning)",
            on_stack=True,
        )
        self.action_search = self._action(
            "Find Layer Type", self._focus_search, QKeySequence.StandardKey.Find
        )
        self.action_search.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for action in (
            self.action_delete,
            self.action_duplicate,
            self.action_up,
            self.action_down,
            self.action_freeze,
        ):
            bar.addAction(action)
        self.stack.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    # --- document -> view -----------------------------------------------------------------------
    def _on_document_changed(self, section: str) -> None:
        if section == "network":
            self.refresh()

    def refresh(self) -> None:
        """Re-render every view from the document's spec (called on each change)."""
        started = time.perf_counter()
        self._updating = True
        try:
            previous = self.stack.selected_ids()
            current = self.stack.current_id()
            spec = self.ctx.document.get("network")
            summary = infer(spec)
            self._spec, self._summary = spec, summary
            infos = {info.id: info for info in summary.layers}
            rows = []
            for index, layer in enumerate(spec.get("layers", [])):
                layer_id = spec_edit.layer_key(layer, index)
                info = infos.get(layer_id)
                layer_type = LAYER_TYPES.get(layer.get("type"))
                rows.append(
                    BlockRow(
                        id=layer_id,
                        type=str(layer.get("type")),
                        title=layer_type.title if layer_type else str(layer.get("type")),
                        category=layer_type.category if layer_type else "",
                        description=describe(fill_layer_defaults(layer) if layer_type else layer),
                        shape_text=shape_text(info.output_shape, info.error) if info else "invalid",
                        params=info.params if info else 0,
                        trainable=bool(layer.get("trainable", True)),
                        error=info.error if info else None,
                        help=layer_type.help if layer_type else "",
                    )
                )
            reset = self.stack.stack_model.set_rows(rows)
            wanted = self._pending_select
            if wanted is not None:
                self.stack.select_ids(wanted)
            elif reset:
                self.stack.select_ids(previous, current)
            self._pending_select = None
            self._update_volumes(spec, summary, infos)
            self._update_footer(summary)
            self._update_problems(summary)
            set_text(
                self.input_label,
                f"<b>Input</b>&nbsp;&nbsp;{shape_text(summary.input_shape)}"
                f"&nbsp;&nbsp;<span style='color:gray'>(channels × height × width)</span>",
            )
            self.settings_panel.show_spec(spec, summary)
            self._show_selection()
            self._sharing_stale = True
            self._update_sharing()
        finally:
            self._updating = False
        self.last_refresh_ms = (time.perf_counter() - started) * 1000

    def _update_volumes(self, spec: dict, summary: NetworkSummary, infos: dict) -> None:
        layers = []
        for index, layer in enumerate(spec.get("layers", [])):
            key = spec_edit.layer_key(layer, index)
            info = infos.get(key)
            layer_type = LAYER_TYPES.get(layer.get("type"))
            layers.append(
                {
                    "id": key,
                    "title": f"{key} {layer.get('type')}",
                    "category": layer_type.category if layer_type else "",
                    "shape": info.output_shape if info else None,
                    "error": info.error if info else "unknown layer",
                    "frozen": not layer.get("trainable", True),
                }
            )
        self.volume.set_volumes(build_volumes(summary.input_shape, layers))

    def _update_footer(self, summary: NetworkSummary) -> None:
        status = (
            "<span style='color:#2e7d32'>✔ valid</span>"
            if summary.ok
            else f"<span style='color:#c62828'>⚠ {len(summary.problems)} problem"
            f"{'s' if len(summary.problems) != 1 else ''}</span>"
        )
        out = shape_text(summary.output_shape) if summary.layers else "–"
        set_text(
            self.footer,
            f"<b>{summary.total_params:,}</b> parameters &nbsp;·&nbsp; trainable {summary.trainable_params:,}"
            f" &nbsp;·&nbsp; frozen {summary.frozen_params:,}<br><b>{summary.mult_adds:,}</b> mult-adds"
            f" &nbsp;·&nbsp; output {out} &nbsp;·&nbsp; {status}",
        )

    def _update_problems(self, summary: NetworkSummary) -> None:
        errors = {info.id: info.error for info in summary.all_layers if info.error}
        self.problems.set_problems(list(summary.problems), errors)
        count = len(summary.problems)
        title = f"Problems ({count})" if count else "Problems"
        if self.side_tabs.tabText(2) != title:
            self.side_tabs.setTabText(2, title)

    def _update_sharing(self) -> None:
        if self._sharing_stale and self.bottom_tabs.currentWidget() is self.sharing:
            self.sharing.set_sharing(weight_sharing(self._spec))
            self._sharing_stale = False

    def _selection_changed(self, *_args) -> None:
        if not self._updating:
            self._show_selection()
            if self.stack.selected_ids():  # a block picked by the user: its properties, not the Network tab
                self._show_properties_tab()

    def _show_selection(self) -> None:
        ids = self.stack.selected_ids()
        layers = dict(zip(spec_edit.layer_ids(self._spec), self._spec.get("layers", [])))
        infos = {info.id: info for info in self._summary.layers} if self._summary else {}
        self.properties.show_layers(ids, layers, infos)
        self.volume.canvas.set_selected(set(ids))
        has = bool(ids)
        for action in (
            self.action_delete,
            self.action_duplicate,
            self.action_cut,
            self.action_copy,
            self.action_up,
            self.action_down,
            self.action_freeze,
        ):
            action.setEnabled(has)

    def _show_properties_tab(self) -> None:
        self.side_tabs.setCurrentWidget(self.properties)

    def _volume_clicked(self, layer_id: str) -> None:
        if layer_id == "input":
            self.side_tabs.setCurrentWidget(self.settings_panel)
        else:
            self.stack.select_ids([layer_id])

    # --- view -> document ----------------------------------------------------------------------
    def spec(self) -> dict:
        """The document's network spec (a copy)."""
        return self.ctx.document.get("network")

    def _current(self) -> dict:
        """The spec as of the document's last change event (spec_edit never mutates its input)."""
        return self._spec

    def summary(self) -> NetworkSummary | None:
        return self._summary

    def apply(
        self, new_spec: dict, text: str, merge_key: str | None = None, select: list[str] | None = None
    ) -> None:
        """Push ``new_spec`` as one undoable edit named ``text``; then select ``select``."""
        self._pending_select = select
        self.ctx.edit("network", new_spec, text, merge_key=merge_key)
        self._pending_select = None

    def _apply_fn(self, fn, text: str, merge_key: str = "") -> None:
        try:
            new = fn(self._current())
        except (ValueError, KeyError) as exc:
            self.ctx.show_status(str(exc).strip("'\""), 6000)
            return
        self.apply(new, text, merge_key or None, select=self.stack.selected_ids())

    def _gap_after_selection(self) -> int:
        ids = self.stack.stack_model.ids()
        selected = self.stack.selected_ids()
        return max(ids.index(i) for i in selected) + 1 if selected else len(ids)

    def _new_ids(self, old: dict, new: dict) -> list[str]:
        before = {layer.get("id") for layer in old.get("layers", [])}
        return [layer["id"] for layer in new.get("layers", []) if layer.get("id") not in before]

    def insert_type(self, type_name: str, gap: int) -> None:
        """Insert a default layer of ``type_name`` at gap ``gap`` (the path every drop takes)."""
        old = self._current()
        new = spec_edit.insert_layer(old, gap, type_name)
        title = LAYER_TYPES[type_name].title
        self.apply(new, f"Insert {title}", select=self._new_ids(old, new))

    def insert_type_after_selection(self, type_name: str) -> None:
        self.insert_type(type_name, self._gap_after_selection())

    def move_ids(self, ids: list[str], gap: int) -> None:
        old = self._current()
        try:
            new = spec_edit.move_layers(old, ids, gap)
        except KeyError:
            return
        self.apply(new, "Move layer" if len(ids) == 1 else f"Move {len(ids)} layers", select=list(ids))

    def handle_drop(self, mime: QMimeData, gap: int) -> None:
        """A drop on the stack: a palette type inserts, dragged blocks move."""
        if mime.hasFormat(LAYER_IDS_MIME):
            try:
                ids = [str(i) for i in json.loads(bytes(mime.data(LAYER_IDS_MIME)).decode("utf-8"))]
            except (ValueError, UnicodeDecodeError):
                return
            self.move_ids(ids, gap)
        elif mime.hasFormat(LAYER_TYPE_MIME):
            name = bytes(mime.data(LAYER_TYPE_MIME)).decode("utf-8", "replace")
            if name in LAYER_TYPES:
                self.insert_type(name, gap)
            else:
                self.ctx.show_status(f"Unknown layer type {name!r}.", 6000)

    def set_param(self, layer_id: str, name: str, value) -> None:
        new = spec_edit.set_param(self._current(), layer_id, name, value)
        self.apply(new, f"Set {layer_id} {name}", merge_key=f"param:{layer_id}:{name}", select=[layer_id])

    def set_trainable(self, ids: list[str], trainable: bool) -> None:
        new = spec_edit.set_trainable(self._current(), ids, trainable)
        word = "Unfreeze" if trainable else "Freeze"
        self.apply(new, f"{word} {', '.join(ids)}", select=list(ids))

    def rename_layer(self, old_id: str, new_id: str) -> None:
        problem = self.properties.id_problem(new_id, [i for i in self.stack.stack_model.ids() if i != old_id])
        if problem:
            self.ctx.show_status(problem, 6000)
            self.properties.show_layers([old_id], {old_id: self._layer(old_id)}, self._infos())
            return
        self.apply(
            spec_edit.rename_layer(self._current(), old_id, new_id),
            f"Rename {old_id} to {new_id}",
            select=[new_id],
        )

    def _layer(self, layer_id: str) -> dict:
        return self._spec["layers"][spec_edit.layer_index(self._spec, layer_id)]

    def _infos(self) -> dict:
        return {info.id: info for info in self._summary.layers} if self._summary else {}

    def delete_selected(self) -> None:
        ids = self.stack.selected_ids()
        if not ids:
            return
        order = self.stack.stack_model.ids()
        first = min(order.index(i) for i in ids)
        remaining = [i for i in order if i not in ids]
        select = [remaining[min(first, len(remaining) - 1)]] if remaining else []
        self.apply(
            spec_edit.remove_layers(self._current(), ids),
            f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} layers",
            select=select,
        )

    def duplicate_selected(self) -> None:
        ids = self.stack.selected_ids()
        if ids:
            old = self._current()
            new = spec_edit.duplicate_layers(old, ids)
            self.apply(new, "Duplicate layers", select=self._new_ids(old, new))

    def move_selected(self, step: int) -> None:
        ids = self.stack.selected_ids()
        if not ids:
            return
        order = self.stack.stack_model.ids()
        positions = [order.index(i) for i in ids]
        gap = min(positions) - 1 if step < 0 else max(positions) + 2
        if gap < 0 or gap > len(order):
            return
        self.move_ids(ids, gap)

    def toggle_freeze_selected(self) -> None:
        ids = self.stack.selected_ids()
        if ids:
            frozen = all(not self._layer(i).get("trainable", True) for i in ids)
            self.set_trainable(ids, frozen)

    def copy_selected(self) -> None:
        layers = spec_edit.copy_layers(self._current(), self.stack.selected_ids())
        if not layers:
            return
        mime = QMimeData()
        payload = json.dumps(layers, indent=2)
        mime.setData(LAYERS_MIME, payload.encode("utf-8"))
        mime.setText(payload)
        QGuiApplication.clipboard().setMimeData(mime)
        self.ctx.show_status(f"Copied {len(layers)} layer{'s' if len(layers) != 1 else ''}", 3000)

    def cut_selected(self) -> None:
        if self.stack.selected_ids():
            self.copy_selected()
            self.delete_selected()

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        raw = (
            bytes(mime.data(LAYERS_MIME)).decode("utf-8")
            if mime and mime.hasFormat(LAYERS_MIME)
            else (mime.text() if mime else "")
        )
        try:
            layers = json.loads(raw)
            if isinstance(layers, dict):
                layers = [layers]
            if (
                not isinstance(layers, list)
                or not layers
                or not all(isinstance(layer, dict) and layer.get("type") in LAYER_TYPES for layer in layers)
            ):
                raise ValueError
        except ValueError:
            self.ctx.show_status(
                "The clipboard holds no layers to paste (copy blocks from the stack first).", 6000
            )
            return
        old = self._current()
        new = spec_edit.insert_layers(old, self._gap_after_selection(), layers)
        self.apply(
            new, f"Paste {len(layers)} layer{'s' if len(layers) != 1 else ''}", select=self._new_ids(old, new)
        )

    def _focus_search(self) -> None:
        self.palette_panel.search.setFocus()
        self.palette_panel.search.selectAll()

    # --- templates and files -------------------------------------------------------------------
    def _fill_templates_menu(self) -> None:
        from cnnstudio.core.templates import template_names, template_title

        self.templates_menu.clear()
        for name in template_names():
            try:
                title = template_title(name)
            except UserError:
                title = name
            action = self.templates_menu.addAction(f"{title}  ({name})")
            action.triggered.connect(lambda _c=False, n=name: self.load_template(n))

    def load_template(self, name: str) -> bool:
        """Replace the network by template ``name`` as one undoable edit."""
        from cnnstudio.core.templates import load_template

        try:
            spec = load_template(name)
        except UserError as exc:
            self.show_error("Cannot load the template", str(exc))
            return False
        self.apply(spec, f"Load template {spec.get('name') or name}", select=self._first_id(spec))
        self.ctx.show_status(f"Loaded the {spec.get('name') or name} template", 4000)
        return True

    @staticmethod
    def _first_id(spec: dict) -> list[str]:
        layers = spec.get("layers") or []
        return [str(layers[0].get("id"))] if layers else []

    def show_error(self, title: str, message: str) -> None:
        """A clear error dialog (tests replace this method)."""
        QMessageBox.warning(self, title, message)

    def _ask_path(self, title: str, filters: str, suffix: str, save: bool) -> str:
        start = str(self.ctx.settings.value("designer/last_dir", str(Path.home())))
        if save:
            name = (self._spec.get("name") or "network").replace(" ", "_")
            path, _ = QFileDialog.getSaveFileName(self, title, str(Path(start) / f"{name}{suffix}"), filters)
        else:
            path, _ = QFileDialog.getOpenFileName(self, title, start, filters)
        if path:
            self.ctx.settings.setValue("designer/last_dir", str(Path(path).parent))
            if save and not Path(path).suffix:
                path += suffix
        return path

    def import_spec_dialog(self) -> None:
        path = self._ask_path("Import Network Spec", SPEC_FILTER, ".json", save=False)
        if path:
            self.import_spec(Path(path))

    def import_spec(self, path: Path) -> bool:
        from cnnstudio.core.spec import load_spec

        try:
            spec = load_spec(path)
        except UserError as exc:
            self.show_error("Cannot import the network spec", str(exc))
            return False
        self.apply(spec, f"Import {Path(path).name}", select=self._first_id(spec))
        self.ctx.show_status(f"Imported {path}", 4000)
        return True

    def open_file(self, path: Path) -> bool:
        return path.suffix.lower() == ".json" and self.import_spec(path)

    def export_spec_dialog(self) -> None:
        path = self._ask_path("Export Network Spec", SPEC_FILTER, ".json", save=True)
        if path:
            self.export_spec(Path(path))

    def export_spec(self, path: Path) -> bool:
        from cnnstudio.core.spec import save_spec

        try:
            save_spec(self.spec(), path)
        except OSError as exc:
            self.show_error(
                "Cannot export the network spec", f"{path} could not be written: {exc.strerror or exc}."
            )
            return False
        self.ctx.show_status(f"Wrote {path}", 5000)
        return True

    def export_dialog(self, kind: str) -> None:
        filters, suffix = (
            ("ONNX models (*.onnx)", ".onnx") if kind == "onnx" else ("Python files (*.py)", ".py")
        )
        if not self._check_exportable():
            return
        path = self._ask_path(
            "Export ONNX Model" if kind == "onnx" else "Export PyTorch Code", filters, suffix, True
        )
        if path:
            self.start_export(kind, Path(path))

    def _check_exportable(self) -> bool:
        if self._summary is not None and not self._summary.ok:
            count = len(self._summary.problems)
            self.show_error(
                "The network cannot be exported",
                f"Fix the network's {count} problem{'s' if count != 1 else ''} first (see the Problems "
                f"tab): " + " ".join(self._summary.problems[:3]),
            )
            return False
        return True

    def start_export(self, kind: str, path: Path) -> bool:
        """Export on a worker thread; the result arrives in the status bar (and a dialog on failure)."""
        if not self._check_exportable():
            return False
        if not self.exporter.start(kind, self.spec(), str(path)):
            self.ctx.show_status("An export is already running.", 4000)
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self.ctx.show_status(f"Exporting to {path}…", 0)
        return True

    def _export_finished(self, ok: bool, message: str) -> None:
        QApplication.restoreOverrideCursor()
        self.last_export_message = message
        if ok:
            self.ctx.show_status(message, 15000)
        else:
            self.ctx.show_status("Export failed.", 5000)
            self.show_error("Export failed", message)

    def export_diagram_dialog(self) -> None:
        filters = "PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf)"
        path = self._ask_path("Export Volume Diagram", filters, ".png", save=True)
        if path:
            try:
                written = self.volume.export_image(path)
            except OSError as exc:
                self.show_error("Cannot export the diagram", str(exc))
                return
            self.ctx.show_status(f"Wrote {written}", 5000)

    # --- lifecycle -----------------------------------------------------------------------------
    def activated(self) -> None:
        QTimer.singleShot(0, self.stack.setFocus)

    def shutdown(self) -> None:
        self.exporter.shutdown()
        try:
            self.ctx.document.changed.disconnect(self._on_document_changed)
            self.ctx.document.replaced.disconnect(self.refresh)
        except (ValueError, RuntimeError):
            pass
