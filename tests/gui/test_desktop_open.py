"""Files opened from the desktop: the right window and workspace, single instance, unsaved work kept."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PySide6.QtGui import QFileOpenEvent

from cnnstudio.core.paths import models_dir, resource
from cnnstudio.gui.desktop_open import DesktopOpener, preferred_workspace, start_desktop
from cnnstudio.gui.main_window import MainWindow
from cnnstudio.gui.single_instance import InstanceServer, instance_name, send_to_running

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def opener(qtbot, main_window):
    made: list[MainWindow] = []

    def make_window():
        window = MainWindow(probe_device=False)
        qtbot.addWidget(window)
        made.append(window)
        return window

    desktop = DesktopOpener(main_window, make_window=make_window)
    yield desktop
    for window in made:
        window.ctx.document.mark_clean()
        window.close()


@pytest.fixture
def saved_project(tmp_path):
    from cnnstudio.core.project import ProjectDocument

    doc = ProjectDocument()
    data = doc.get("data")
    data["source"] = "shapes"
    doc.set("data", data)
    return doc.save(tmp_path / "shapes.cnnproj")


def _image() -> Path:
    return next(p for p in sorted(resource("images").rglob("*")) if p.suffix.lower() in {".png", ".jpg"})


def _make_dirty(window: MainWindow) -> dict:
    training = window.ctx.document.get("training")
    training["epochs"] = 77
    window.ctx.edit("training", training, "Set epochs")
    assert window.ctx.document.dirty
    return training


def test_preferred_workspace_rules():
    assert preferred_workspace(Path("m.onnx"), "designer") == "inspect"
    assert preferred_workspace(Path("a.PNG"), "designer") == "playground"
    assert preferred_workspace(Path("a.jpg"), "inspect") == "inspect"
    assert preferred_workspace(Path("spec.json"), "train") is None


def test_project_opens_in_the_clean_window(opener, main_window, saved_project):
    [used] = opener.open_paths([saved_project])
    assert used is main_window
    assert main_window.ctx.document.path == saved_project
    assert main_window.ctx.document.get("data")["source"] == "shapes"


def test_project_opens_in_a_new_window_when_there_is_unsaved_work(opener, main_window, saved_project, monkeypatch):
    edited = _make_dirty(main_window)
    asked = []
    monkeypatch.setattr(main_window, "ask_save_changes", lambda: asked.append(1))
    [used] = opener.open_paths([saved_project])
    assert used is not main_window and used.isVisible()
    assert used.ctx.document.path == saved_project and not used.ctx.document.dirty
    assert main_window.ctx.document.dirty, "the first window's unsaved work is untouched"
    assert main_window.ctx.document.get("training")["epochs"] == edited["epochs"]
    assert main_window.ctx.document.path is None
    assert opener.windows() == [main_window, used]
    assert not asked, "the dirty window is not asked about its changes"


def test_model_opens_in_inspect_and_image_in_playground(opener, main_window, qtbot):
    main_window.show_workspace("designer")
    opener.open_paths([_image()])
    assert main_window.current_workspace_name() == "playground"
    assert main_window.current_workspace().image_page.image() is not None
    opener.open_paths([models_dir() / "lenet5-digits.onnx"])
    assert main_window.current_workspace_name() == "inspect"
    inspect = main_window.current_workspace()
    qtbot.waitUntil(inspect.smoke_ready, timeout=60000)
    opener.open_paths([_image()])  # with a model in view, an image goes to that model
    assert main_window.current_workspace_name() == "inspect"
    qtbot.waitUntil(inspect.smoke_ready, timeout=60000)


def test_files_given_at_launch_open_once_the_window_shows(qtbot, main_window, saved_project):
    opener = start_desktop(main_window, [saved_project], listen=False)
    assert main_window.ctx.document.path is None, "opened from the event loop, after the first paint"
    qtbot.waitUntil(lambda: main_window.ctx.document.path == saved_project)
    assert opener.windows() == [main_window]
    opener.setParent(None)


def test_macos_file_open_event_opens_the_file(opener, main_window, saved_project):
    assert opener.eventFilter(None, QFileOpenEvent(str(saved_project)))
    assert main_window.ctx.document.path == saved_project


def test_instance_name_is_per_user_and_per_home(monkeypatch, tmp_path):
    first = instance_name()
    monkeypatch.setenv("CNNSTUDIO_HOME", str(tmp_path / "elsewhere"))
    assert instance_name() != first and instance_name().startswith("cnnstudio-")


def test_send_without_a_running_app_returns_false():
    assert not send_to_running([Path("x.cnnproj")], name=f"cnnstudio-test-{uuid.uuid4().hex[:8]}")


@pytest.mark.slow
def test_second_launch_hands_its_file_to_the_running_app(qtbot, saved_project, tmp_path):
    """A real second `cnnstudio FILE` process: it gives the file to this one and exits 0 without a window."""
    server = InstanceServer()  # the name follows CNNSTUDIO_HOME, which the test isolates
    assert server.listen()
    received: list[list[str]] = []
    server.open_requested.connect(received.append)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "cnnstudio", str(saved_project)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: bool(received), timeout=60000)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert proc.returncode == 0, err
    assert received == [[str(saved_project.resolve())]]


_CLIENT = """
import sys, time
from PySide6.QtCore import QCoreApplication
from PySide6.QtNetwork import QLocalSocket
app = QCoreApplication([])
s = QLocalSocket()
s.connectToServer(sys.argv[1])
assert s.waitForConnected(5000)
s.write(b'{"open": ["/x"]}' + bytes([10]))
s.waitForBytesWritten(5000)
reply = b""
while bytes([10]) not in reply and s.waitForReadyRead(5000):
    reply += bytes(s.readAll().data())
time.sleep(0.3)  # hang up only after the server's owner has let it go
"""

_SERVER = """
import subprocess, sys, time, uuid
from PySide6.QtWidgets import QApplication
from cnnstudio.gui.single_instance import InstanceServer

app = QApplication([])

def serve_one():
    name = f"cnnstudio-test-{uuid.uuid4().hex[:8]}"
    server = InstanceServer(name)
    assert server.listen()
    got = []
    server.open_requested.connect(got.append)
    client = subprocess.Popen([sys.executable, "-c", sys.argv[1], name])
    deadline = time.monotonic() + 30
    while not got and time.monotonic() < deadline:
        app.processEvents()
    client.wait(30)
    assert got == [["/x"]], got
    # returns with the client's connection still open: the last reference to the server goes here

for _ in range(3):
    serve_one()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        app.processEvents()  # the late hang-up arrives here
print("ok")
"""


@pytest.mark.slow
def test_a_server_let_go_with_a_connection_open_does_not_crash(tmp_path):
    """The owner drops the server before a client hangs up. The sockets' slots used to be lambdas holding
    the server, freed inside the socket's destructor: the server, and with it the socket's parent, was
    deleted there ('shared QObject was deleted directly') and the process crashed on the next event."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _SERVER, _CLIENT], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-4000:]
    assert "deleted directly" not in proc.stderr


def test_a_stale_socket_is_taken_over(qtbot):
    name = f"cnnstudio-test-{uuid.uuid4().hex[:8]}"
    first = InstanceServer(name)
    assert first.listen()
    second = InstanceServer(name)
    assert not second.listen(), "a live app keeps its name"
    first.close()
    assert second.listen(), "once it is gone, the next app listens"
    second.close()
