"""The main window: workspace switcher, menus, status bar, drag-and-drop and the project file."""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QWidget,
)

import cnnstudio
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import PROJECT_SUFFIX
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces import WorkspaceEntry, available_workspaces
from cnnstudio.gui.workspaces.base import WorkspaceBase

MAX_RECENT = 8
PROJECT_FILTER = f"CNN Studio projects (*{PROJECT_SUFFIX});;All files (*)"
OPEN_FILTER = f"CNN Studio projects and ONNX models (*{PROJECT_SUFFIX} *.onnx);;ONNX models (*.onnx);;" + PROJECT_FILTER


def _probe_device() -> tuple[str, str, dict]:
    """The compute device and library versions (on a worker thread: torch loads slowly)."""
    try:
        from cnnstudio.ml.device import detect_device, library_versions

        info = detect_device()
        return info.kind, info.label, library_versions()
    except Exception as exc:  # a broken torch install must not break the window
        return "cpu", f"CPU (device detection failed: {exc})", {}


class MainWindow(QMainWindow):
    workspace_changed = Signal(str)

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None, *, probe_device: bool = True):
        super().__init__(parent)
        self.ctx = ctx or AppContext(parent=self)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.resize(1400, 880)
        self._entries: list[WorkspaceEntry] = available_workspaces()
        self._workspaces: dict[str, WorkspaceBase] = {}
        self._actions: dict[str, QAction] = {}
        self._closing = False

        self._stack = QStackedWidget(self)
        self.setCentralWidget(self._stack)
        self._build_switcher()
        self._build_menus()
        self._build_status_bar()

        doc = self.ctx.document
        doc.dirty_changed.connect(self._update_title)
        doc.path_changed.connect(self._update_title)
        self.ctx.status_message.connect(self._show_status)
        self._update_title()

        self._default_state = self.saveState()
        self._restore_layout()
        start = str(self.ctx.settings.value("window/workspace", self._entries[0].name if self._entries else ""))
        if start not in {e.name for e in self._entries} and self._entries:
            start = self._entries[0].name
        if start:
            self.show_workspace(start)

        self.workers = WorkerGroup(self)  # the window's own background work; shut down on close
        self._probe = None  # the device probe's request once it started
        if probe_device:
            # after the first paint: importing torch on a thread still competes for the GIL
            QTimer.singleShot(400, self, self._start_probe)

    def _start_probe(self) -> None:
        if not self._closing:  # not once the window has closed (a group shut down starts nothing anyway)
            self._probe = self.workers.run(_probe_device, tag="device-probe",
                                           on_done=lambda found: self._on_device(*found))

    # --- workspaces ------------------------------------------------------------------------------
    def _build_switcher(self) -> None:
        bar = QToolBar("Workspaces", self)
        bar.setObjectName("WorkspaceBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setStyleSheet(
            "QToolBar#WorkspaceBar { spacing: 2px; padding: 4px; background: palette(window); border: none; }"
            "QToolBar#WorkspaceBar QToolButton { padding: 10px 6px; min-width: 84px; font-weight: 600; }"
            "QToolBar#WorkspaceBar QToolButton:checked { background: palette(highlight); color: palette(highlighted-text);"
            " border-radius: 4px; }"
        )
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, bar)
        self._switcher_group = QActionGroup(self)
        self._switcher_group.setExclusive(True)
        for index, entry in enumerate(self._entries):
            action = QAction(entry.title, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.setToolTip(f"{entry.title} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})\n{entry.tooltip}")
            action.setStatusTip(entry.tooltip)
            action.triggered.connect(lambda _checked=False, n=entry.name: self.show_workspace(n))
            self._switcher_group.addAction(action)
            bar.addAction(action)
            self._actions[entry.name] = action
        self._switcher = bar

    def workspace_names(self) -> list[str]:
        return [e.name for e in self._entries]

    def workspace(self, name: str) -> WorkspaceBase:
        """The workspace widget, built on first use."""
        if name not in self._workspaces:
            module = importlib.import_module(f"cnnstudio.gui.workspaces.{name}")
            widget = module.Workspace(self.ctx, self._stack)
            widget.setObjectName(f"workspace-{name}")
            self._stack.addWidget(widget)
            self._workspaces[name] = widget
        return self._workspaces[name]

    def current_workspace(self) -> WorkspaceBase | None:
        widget = self._stack.currentWidget()
        return widget if isinstance(widget, WorkspaceBase) else None

    def current_workspace_name(self) -> str:
        current = self.current_workspace()
        for name, widget in self._workspaces.items():
            if widget is current:
                return name
        return ""

    def show_workspace(self, name: str) -> WorkspaceBase:
        widget = self.workspace(name)
        self._stack.setCurrentWidget(widget)
        self._actions[name].setChecked(True)
        widget.activated()
        self.ctx.settings.setValue("window/workspace", name)
        self.workspace_changed.emit(name)
        return widget

    # --- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.action_new = self._add(file_menu, "&New Project", self.new_project, QKeySequence.StandardKey.New)
        self.action_open = self._add(file_menu, "&Open…", self.open_project_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.action_save = self._add(file_menu, "&Save", self.save_project, QKeySequence.StandardKey.Save)
        self.action_save_as = self._add(file_menu, "Save &As…", self.save_project_as, QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        self._add(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = menu.addMenu("&Edit")
        undo = self.ctx.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.ctx.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(redo_shortcuts())  # Ctrl+Y everywhere, plus the platform's own redo key
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        self.action_undo, self.action_redo = undo, redo

        view_menu = menu.addMenu("&View")
        for action in self._actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        self._add(view_menu, "Reset &Layout", self.reset_layout)
        theme_menu = view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        current = str(self.ctx.settings.value("view/theme", "system"))
        for key, label in (("system", "Follow the &System"), ("light", "&Light"), ("dark", "&Dark")):
            action = QAction(label, self, checkable=True)
            action.setChecked(key == current)
            action.triggered.connect(lambda _c=False, k=key: self.set_theme(k))
            group.addAction(action)
            theme_menu.addAction(action)

        help_menu = menu.addMenu("&Help")
        self._add(help_menu, "&About CNN Studio", self.show_about)
        from cnnstudio.gui.help import HelpActions

        self.help = HelpActions(self, help_menu)  # User Guide (F1) and Keyboard Shortcuts
        self.view_menu = view_menu
        self.file_menu = file_menu
        self.edit_menu = edit_menu
        self.help_menu = help_menu

    def _add(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        self.device_label = QLabel(f"Device: {self.ctx.device_label}")
        self.device_label.setToolTip("The compute device training and inference use by default")
        self.statusBar().addPermanentWidget(self.device_label)
        self.ctx.device_changed.connect(self._show_device)  # a bound slot: dropped when this window is deleted

    def _show_device(self, label: str) -> None:
        self.device_label.setText(f"Device: {label}")

    def _show_status(self, text: str, timeout: int) -> None:
        self.statusBar().showMessage(text, timeout)

    def _on_device(self, kind: str, label: str, versions: dict) -> None:
        self.ctx.library_versions = dict(versions)
        self.ctx.set_device(kind, label)

    # --- theme and layout ------------------------------------------------------------------------
    def set_theme(self, key: str) -> None:
        self.ctx.settings.setValue("view/theme", key)
        apply_theme(key)
        self._switcher.setStyleSheet(self._switcher.styleSheet())  # re-resolve palette() in the sheet

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        self.resize(1400, 880)

    def _restore_layout(self) -> None:
        geometry = self.ctx.settings.value("window/geometry")
        state = self.ctx.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def _save_layout(self) -> None:
        self.ctx.settings.setValue("window/geometry", self.saveGeometry())
        self.ctx.settings.setValue("window/state", self.saveState())

    # --- project file ----------------------------------------------------------------------------
    def _update_title(self, *_args) -> None:
        doc = self.ctx.document
        self.setWindowTitle(f"{doc.display_name}[*] — CNN Studio")
        self.setWindowModified(doc.dirty)

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        """Ask whether to save a dirty project. Tests replace this method."""
        return QMessageBox.question(
            self,
            "Save changes?",
            f"The project “{self.ctx.document.display_name}” has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded or clean)."""
        if not self.ctx.document.dirty:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save_project()
        return answer == QMessageBox.StandardButton.Discard

    def show_error(self, title: str, message: str) -> None:
        """A clear error dialog (tests replace this method)."""
        QMessageBox.critical(self, title, message)

    def new_project(self) -> None:
        if self.maybe_save():
            self.ctx.document.new()
            self.ctx.show_status("New project")

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Project or Model", self._last_dir(), OPEN_FILTER)
        if not path:
            return
        if Path(path).suffix.lower() == ".onnx":  # a model: its graph in Inspect; the project stays open
            self.show_workspace("inspect").show_onnx_graph(Path(path))
            return
        self.open_project(Path(path), ask=True)

    def open_project(self, path: Path, ask: bool = True) -> bool:
        if ask and not self.maybe_save():
            return False
        try:
            self.ctx.document.load(path)
        except UserError as exc:
            self.show_error("Cannot open project", str(exc))
            return False
        self._remember_recent(path)
        self.ctx.show_status(f"Opened {path}")
        return True

    def save_project(self) -> bool:
        if self.ctx.document.path is None:
            return self.save_project_as()
        return self._save_to(self.ctx.document.path)

    def save_project_as(self) -> bool:
        start = str(Path(self._last_dir()) / f"{self.ctx.document.display_name}{PROJECT_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save Project As", start, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path += PROJECT_SUFFIX
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.ctx.document.save(path)
        except OSError as exc:
            self.show_error("Cannot save project", f"The project could not be saved to {path}: {exc.strerror or exc}.")
            return False
        self.ctx.undo_stack.setClean()
        self._remember_recent(path)
        self.ctx.show_status(f"Saved {path}")
        return True

    def _last_dir(self) -> str:
        recent = self.recent_projects()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def recent_projects(self) -> list[str]:
        value = self.ctx.settings.value("file/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent_projects() if p != str(path)]
        self.ctx.settings.setValue("file/recent", items[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_projects()
        if not recent:
            action = self.recent_menu.addAction("No recent projects")
            action.setEnabled(False)
            return
        for index, item in enumerate(recent):
            action = self.recent_menu.addAction(f"&{index + 1} {Path(item).name}")
            action.setToolTip(item)
            action.triggered.connect(lambda _c=False, p=item: self.open_project(Path(p)))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear List", lambda: self.ctx.settings.setValue("file/recent", []))

    # --- about -----------------------------------------------------------------------------------
    def about_text(self) -> str:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        versions = {"CNN Studio": cnnstudio.__version__, "Qt": qVersion(), "PySide6": pyside_version}
        versions.update(self.ctx.library_versions or {"PyTorch, ONNX Runtime, OpenCV": "still loading…"})
        versions["Compute device"] = self.ctx.device_label
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in versions.items())
        return (
            "<h3>CNN Studio</h3><p>Experiment with convolutional neural networks on images: "
            "convolution and pooling, network design, training, inspection and live inference.</p>"
            f"<table>{rows}</table>"
        )

    def show_about(self) -> None:
        QMessageBox.about(self, "About CNN Studio", self.about_text())

    # --- drag and drop ---------------------------------------------------------------------------
    def _dropped_paths(self, event) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if self._dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        for path in self._dropped_paths(event):
            self.open_path(path)
        event.acceptProposedAction()

    def open_path(self, path: Path, workspace: str | None = None) -> bool:
        """Open a dropped file: a project, or a file for the current workspace (an image, say).

        ``workspace`` is shown first when it takes this kind of file (files opened from the desktop)."""
        if path.suffix.lower() == PROJECT_SUFFIX:
            return self.open_project(path)
        if workspace in self.workspace_names():
            module = importlib.import_module(f"cnnstudio.gui.workspaces.{workspace}")
            if path.suffix.lower() in module.Workspace.accepted_suffixes:
                self.show_workspace(workspace)
        current = self.current_workspace()
        if current is not None and current.open_file(path):
            return True
        suffix = path.suffix.lower()
        for entry in self._entries:  # another workspace that takes this kind of file (.onnx -> Inspect)
            module = importlib.import_module(f"cnnstudio.gui.workspaces.{entry.name}")
            if suffix and suffix in module.Workspace.accepted_suffixes and self.workspace(entry.name) is not current:
                if self.show_workspace(entry.name).open_file(path):
                    return True
        self.ctx.show_status(f"No workspace can open {path.name}.", 6000)
        return False

    # --- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self._closing and not self.maybe_save():
            event.ignore()
            return
        self._closing = True
        self._save_layout()
        for widget in self._workspaces.values():
            widget.shutdown()
        doc = self.ctx.document  # it may outlive this window: its events must not reach a deleted one
        doc.dirty_changed.disconnect(self._update_title)
        doc.path_changed.disconnect(self._update_title)
        self.workers.shutdown()
        event.accept()


def redo_shortcuts() -> list[QKeySequence]:
    """The platform's redo keys (Ctrl+Shift+Z on macOS and most Linux desktops) plus Ctrl+Y and Ctrl+Shift+Z."""
    keys: list[QKeySequence] = []
    for key in (*QKeySequence.keyBindings(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Y"),
                QKeySequence("Ctrl+Shift+Z")):
        if not key.isEmpty() and key not in keys:
            keys.append(key)
    return keys


def apply_theme(key: str) -> None:
    """Light, dark, or follow the system.

    Qt 6.8+ follows the system's colour scheme by itself; an explicit choice sets the scheme and also
    a Fusion palette, because some platforms (X11 without a desktop theme, offscreen) ignore the scheme.
    """
    app = QApplication.instance()
    if app is None:
        return
    hints = QGuiApplication.styleHints()
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(key, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)
    from cnnstudio.gui.theme import live_widgets, repolish_style_sheets, retone_all, with_readable_hints

    if key == "dark":
        palette = dark_palette()
    elif key == "light":
        palette = app.style().standardPalette()
    else:
        app.setPalette(QPalette())  # the system's own, then with hints that read (≥ 4.5:1)
        palette = QPalette(app.palette())
    app.setPalette(with_readable_hints(palette))
    widgets = live_widgets()
    repolish_style_sheets(widgets)  # style-sheet widgets would keep the old palette (black text on dark)
    retone_all(widgets)  # error and success messages in this theme's readable red and green


def dark_palette() -> QPalette:
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#2b2d31", role.WindowText: "#e6e6e6", role.Base: "#1e1f22", role.AlternateBase: "#2b2d31",
        role.ToolTipBase: "#3c3f45", role.ToolTipText: "#e6e6e6", role.Text: "#e6e6e6", role.Button: "#33363b",
        role.ButtonText: "#e6e6e6", role.BrightText: "#ff6b6b", role.Link: "#6ab0ff", role.Highlight: "#3d7fd9",
        role.HighlightedText: "#ffffff", role.PlaceholderText: "#8a8d93", role.Mid: "#44474d", role.Dark: "#1a1b1e",
        role.Light: "#4a4d53", role.Midlight: "#3c3f45", role.Shadow: "#111214",
    }
    for r, colour in colours.items():
        palette.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, r, QColor("#7a7d83"))
    return palette


__all__ = ["MainWindow", "apply_theme"]
