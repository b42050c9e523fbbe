"""cnnstudio.gui.workers: newest request per tag wins, errors are sentences, groups shut down together."""

from __future__ import annotations

import threading

import pytest

from cnnstudio.core.errors import UserError


@pytest.fixture
def group(qapp):
    from cnnstudio.gui.workers import WorkerGroup

    workers = WorkerGroup()
    yield workers
    assert workers.shutdown(10)
    workers.deleteLater()


def test_a_generator_reports_progress_then_its_result_on_the_gui_thread(group, qtbot):
    seen, threads = [], []

    def count(n):
        for i in range(n):
            threads.append(threading.current_thread())
            yield i
        return "done"

    def record(kind):
        return lambda *value: seen.append((kind, *value, threading.current_thread() is threading.main_thread()))

    busy_at_result = []
    group.run(count, 3, on_yield=record("yield"), on_done=record("done"), on_finish=record("finish"))
    group.run(lambda: 7, tag="seven", on_done=lambda _r: busy_at_result.append(group.busy("seven")))
    qtbot.waitUntil(lambda: not group, timeout=10_000)
    assert busy_at_result == [False]  # the work is over when its result arrives (one-at-a-time callers)
    assert seen == [("yield", 0, True), ("yield", 1, True), ("yield", 2, True), ("done", "done", True),
                    ("finish", True)]
    assert threading.main_thread() not in threads


def test_a_newer_request_with_the_same_tag_replaces_the_older(group, qtbot):
    gate, cleaned = threading.Event(), threading.Event()
    delivered, finished = [], []

    def slow_function():
        gate.wait(10)
        return "old"

    def slow_generator():
        try:
            while True:
                yield "old progress"
                gate.wait(0.01)
        finally:
            cleaned.set()

    group.run(slow_function, tag="model", on_done=delivered.append, on_finish=lambda: finished.append("old"))
    group.run(slow_generator, tag="data", on_yield=delivered.append)
    qtbot.waitUntil(lambda: "old progress" in delivered, timeout=10_000)
    group.run(lambda: "new", tag="model", on_done=delivered.append, on_finish=lambda: finished.append("new"))
    group.run(lambda: "new data", tag="data", on_done=delivered.append)
    count = len(delivered)  # from here on, nothing of the replaced requests
    assert cleaned.wait(10)  # the replaced generator stopped at its next yield and cleaned up
    gate.set()
    assert group.wait(10)
    qtbot.waitUntil(lambda: not group, timeout=10_000)
    assert sorted(delivered[count:]) == ["new", "new data"] and "old" not in delivered
    assert finished == ["new"]


def test_errors_become_sentences_and_unexpected_ones_are_logged(group, qtbot, monkeypatch, _isolated_user_dirs):
    import sys

    sentences = []

    def fails(exc):
        raise exc

    group.run(fails, UserError("No camera was found."), on_error=sentences.append)
    group.run(fails, ValueError("bad frame"), on_error=sentences.append, failure="The camera could not be used")
    qtbot.waitUntil(lambda: len(sentences) == 2, timeout=10_000)
    assert "No camera was found." in sentences
    unexpected = next(s for s in sentences if s != "No camera was found.")
    assert unexpected.startswith("The camera could not be used: ValueError: bad frame.")
    log = _isolated_user_dirs / "logs" / "errors.log"
    assert str(log) in unexpected and "Traceback" in log.read_text() and "bad frame" in log.read_text()

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: hooked.append(info[1]))

    def broken_generator():
        yield 1
        raise RuntimeError("worker bug")  # superqt alone would swallow a generator's RuntimeError

    group.run(broken_generator)  # no on_error: the app's error dialog (sys.excepthook) reports it
    qtbot.waitUntil(lambda: bool(hooked) and not group, timeout=10_000)
    assert isinstance(hooked[0], RuntimeError) and str(hooked[0]) == "worker bug"


def test_shutdown_stops_joins_and_silences_every_request(qapp, qtbot):
    from cnnstudio.gui.workers import WorkerGroup

    group = WorkerGroup()
    stop, ended, delivered = threading.Event(), [], []

    def endless():
        try:
            while True:
                yield "tick"
                stop.wait(0.005)
        finally:
            ended.append("generator")

    def controlled():
        stop.wait(10)  # stops when its cancel hook is called
        ended.append("function")
        return "late"

    group.run(endless, on_yield=delivered.append)
    function = group.run(controlled, cancel=stop.set, on_done=delivered.append)
    qtbot.waitUntil(lambda: "tick" in delivered, timeout=10_000)
    assert group.busy() and len(group) == 2
    assert group.shutdown(10)
    assert sorted(ended) == ["function", "generator"] and not function.running and not group.busy()
    count = len(delivered)
    qapp.processEvents()
    assert len(delivered) == count and "late" not in delivered  # nothing reaches the view after shutdown
    assert group.run(lambda: 1) is None and group.closed
    group.deleteLater()


def test_a_result_arriving_after_its_group_was_deleted_is_dropped_quietly(qapp, qtbot, monkeypatch):
    """The view (and with it the group, its Qt child) is deleted before a finished request's signals are
    served: its slots still held the deleted group and raised "Internal C++ object already deleted"."""
    import sys

    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool
    from PySide6.QtWidgets import QWidget

    from cnnstudio.gui.workers import WorkerGroup

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: hooked.append(info[1]))
    view = QWidget()
    group = WorkerGroup(view)
    delivered = []
    group.run(lambda: "late", on_done=delivered.append, on_finish=lambda: delivered.append("finish"))
    assert group.wait(10)
    assert QThreadPool.globalInstance().waitForDone(10_000)  # its signals are queued for the GUI thread now
    view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # before those signals
    assert not shiboken6.isValid(group)
    qtbot.wait(50)
    qapp.processEvents()
    assert delivered == [] and hooked == []
