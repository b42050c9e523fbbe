"""The main window: menus, title, project files, undo, drag-and-drop, layout, closing."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from cnnstudio.gui.main_window import MainWindow
from cnnstudio.gui.workspaces import ALL_WORKSPACES, available_workspaces
from cnnstudio.gui.workspaces.base import WorkspaceBase


def _menu_titles(window):
    return [a.text().replace("&", "") for a in window.menuBar().actions()]


def test_menus_and_title(main_window):
    assert _menu_titles(main_window) == ["File", "Edit", "View", "Help"]
    file_items = [a.text().replace("&", "") for a in main_window.file_menu.actions() if a.text()]
    for item in ("New Project", "Open…", "Open Recent", "Save", "Save As…", "Quit"):
        assert item in file_items
    assert main_window.windowTitle() == "Untitled[*] — CNN Studio"
    assert not main_window.isWindowModified()


def test_workspaces_listed_in_order_and_switchable(main_window):
    names = main_window.workspace_names()
    assert names == [w.name for w in available_workspaces()]
    assert names == [w.name for w in ALL_WORKSPACES if w.name in names]
    for name in names:
        main_window.show_workspace(name)
        assert main_window.current_workspace_name() == name
        assert main_window.current_workspace().isVisible()


def test_edit_is_undoable_and_marks_title(main_window):
    ctx = main_window.ctx
    training = ctx.document.get("training")
    training["epochs"] = 42
    ctx.edit("training", training, "Set epochs")
    assert main_window.isWindowModified()
    assert main_window.action_undo.isEnabled()
    main_window.action_undo.trigger()
    assert ctx.document.get("training")["epochs"] != 42
    assert not ctx.document.dirty, "undoing back to the saved state makes the project clean"
    main_window.action_redo.trigger()
    assert ctx.document.get("training")["epochs"] == 42


def test_merged_edits_are_one_undo_step(main_window):
    ctx = main_window.ctx
    original = ctx.document.get("training")["lr"]
    for lr in (0.1, 0.2, 0.3):
        training = ctx.document.get("training")
        training["lr"] = lr
        ctx.edit("training", training, "Set learning rate", merge_key="lr")
    assert ctx.undo_stack.count() == 1
    ctx.undo_stack.undo()
    assert ctx.document.get("training")["lr"] == original


def test_save_and_open_round_trip(main_window, tmp_path, monkeypatch):
    ctx = main_window.ctx
    data = ctx.document.get("data")
    data["source"] = "shapes"
    ctx.edit("data", data, "Use shapes")
    target = tmp_path / "demo.cnnproj"
    monkeypatch.setattr("cnnstudio.gui.main_window.QFileDialog.getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    assert main_window.save_project()
    assert target.is_file() and not main_window.isWindowModified()
    assert main_window.windowTitle() == "demo[*] — CNN Studio"
    assert str(target) in main_window.recent_projects()

    ctx.document.new()
    assert ctx.document.get("data")["source"] != "shapes"
    assert main_window.open_project(target)
    assert ctx.document.get("data")["source"] == "shapes"
    assert ctx.undo_stack.count() == 0


def test_corrupt_project_shows_error_and_is_not_overwritten(main_window, tmp_path):
    bad = tmp_path / "bad.cnnproj"
    bad.write_text("{ not json")
    errors = []
    main_window.show_error = lambda title, message: errors.append(message)
    assert not main_window.open_project(bad)
    assert errors and "corrupt" in errors[0]
    assert bad.read_text() == "{ not json"
    newer = tmp_path / "newer.cnnproj"
    newer.write_text(json.dumps({"format": "cnnstudio-project", "version": 99}))
    assert not main_window.open_project(newer)
    assert "newer CNN Studio" in errors[-1]


def test_dirty_close_asks_and_cancel_keeps_window(main_window):
    ctx = main_window.ctx
    training = ctx.document.get("training")
    training["epochs"] = 7
    ctx.edit("training", training, "Set epochs")
    asked = []

    def answer():
        asked.append(True)
        return QMessageBox.StandardButton.Cancel

    main_window.ask_save_changes = answer
    assert not main_window.close()
    assert asked and main_window.isVisible()
    main_window.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    assert main_window.close()


class _ImageWorkspace(WorkspaceBase):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.opened: list[Path] = []

    def open_file(self, path: Path) -> bool:
        if path.suffix == ".png":
            self.opened.append(path)
            return True
        return False


def test_dropped_image_goes_to_current_workspace(main_window, tmp_path, monkeypatch):
    fake = _ImageWorkspace(main_window.ctx)
    monkeypatch.setattr(main_window, "current_workspace", lambda: fake)
    image = tmp_path / "cat.png"
    image.write_bytes(b"x")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    main_window.dropEvent(event)
    assert fake.opened == [image]
    assert not main_window.open_path(tmp_path / "notes.txt")


def test_a_file_the_current_workspace_declines_goes_to_one_that_takes_it(main_window, tmp_path, monkeypatch):
    import importlib

    names = main_window.workspace_names()
    takers = [
        n for n in names if ".onnx" in importlib.import_module(f"cnnstudio.gui.workspaces.{n}").Workspace.accepted_suffixes
    ]
    assert takers, "Inspect and Live open .onnx files"
    opened = []
    target = main_window.workspace(takers[0])
    monkeypatch.setattr(target, "open_file", lambda p: opened.append(p) or True)
    decliner = _ImageWorkspace(main_window.ctx)
    monkeypatch.setattr(main_window, "current_workspace", lambda: decliner)
    model = tmp_path / "net.onnx"
    model.write_bytes(b"x")
    assert main_window.open_path(model)
    assert opened == [model]


def test_about_lists_versions_and_device(main_window):
    main_window.ctx.library_versions = {"PyTorch": "9.9", "ONNX Runtime": "1.2", "OpenCV": "4.5"}
    main_window.ctx.set_device("cpu", "CPU: test")
    text = main_window.about_text()
    for word in ("Qt", "PyTorch", "ONNX Runtime", "OpenCV", "CPU: test"):
        assert word in text
    assert main_window.device_label.text() == "Device: CPU: test"


def test_geometry_is_restored(qtbot, qapp):
    first = MainWindow(probe_device=False)
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 500)
    qapp.processEvents()
    first.close()
    second = MainWindow(probe_device=False)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (700, 500)
    second.close()


def test_device_probe_fills_status_bar(qtbot, qapp):
    window = MainWindow(probe_device=True)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.ctx.device_kind != "", timeout=60000)
    assert window.ctx.device_kind in {"cpu", "cuda", "mps"}
    assert "PyTorch" in window.ctx.library_versions
    window.close()


def test_theme_choice_changes_the_palette_and_is_remembered(main_window, qapp):
    main_window.set_theme("dark")
    assert qapp.palette().window().color().lightness() < 80
    assert main_window.ctx.settings.value("view/theme") == "dark"
    main_window.set_theme("light")
    assert qapp.palette().window().color().lightness() > 180
    main_window.set_theme("system")
    assert main_window.ctx.settings.value("view/theme") == "system"


def test_document_outliving_closed_window_and_context_emits_without_errors(qapp):
    """The document outlives the window and its context: later edits must not reach deleted Qt objects."""
    import shiboken6

    from cnnstudio.core.project import ProjectDocument
    from cnnstudio.gui.context import AppContext

    doc = ProjectDocument()
    ctx = AppContext(document=doc)
    window = MainWindow(ctx, probe_device=False)
    window.show()
    window.close()
    shiboken6.delete(window)
    training = doc.get("training")
    training["epochs"] = 3
    doc.set("training", training)  # dirty_changed: the closed window's title slot is gone
    ctx.set_device("cpu", "CPU: later")  # no status-bar label of the deleted window
    shiboken6.delete(ctx)
    doc.new()  # path_changed and replaced: no window title, no deleted undo stack
    assert not doc.dirty


def test_window_closed_before_the_device_probe_starts_never_starts_it(qtbot, qapp):
    window = MainWindow(probe_device=True)
    qtbot.addWidget(window)
    window.show()
    window.close()
    qtbot.wait(600)  # past the probe's start delay
    assert window._probe is None and not window.workers and window.workers.closed  # never started
