"""The Train workspace: settings <-> document, a live run on a worker, confusion cells, history, stop/resume."""

from __future__ import annotations

import pytest


@pytest.fixture
def workspace(make_workspace, ctx, tiny_spec):
    ctx.document.set("network", tiny_spec("digits"))
    training = ctx.document.get("training")
    training.update(epochs=3, batch_size=64, lr=0.01, device="cpu")
    ctx.document.set("training", training)
    return make_workspace("train", size=(1200, 800))


def wait_result(qtbot, ws, timeout=60_000):
    qtbot.waitUntil(lambda: ws.result is not None and not ws.running and not ws._workers, timeout=timeout)
    return ws.result


def test_settings_follow_the_document_and_edits_are_undoable(workspace, ctx):
    form = workspace.form
    assert form.epochs.value() == 3 and form.batch_size.value() == 64
    training = ctx.document.get("training")
    training["optimizer"] = "sgd"
    ctx.document.set("training", training)
    assert form.optimizer.currentData() == "sgd"
    form.epochs.setValue(7)
    assert ctx.document.get("training")["epochs"] == 7
    before = ctx.document.get("training")["schedule"]
    other = "step" if before != "step" else "none"
    form.schedule.setCurrentIndex(form.schedule.findData(other))
    assert ctx.document.get("training")["schedule"] == other
    ctx.undo_stack.undo()
    assert ctx.document.get("training")["schedule"] == before
    ctx.undo_stack.undo()
    assert ctx.document.get("training")["epochs"] == 3 and form.epochs.value() == 3


def test_a_run_trains_live_and_is_listed(workspace, ctx, qtbot):
    ws = workspace
    ws.start()
    assert ws.running and not ws.start_button.isEnabled() and ws.stop_button.isEnabled()
    assert not ws.form.epochs.isEnabled()
    # listed as running from its start, not only once it ended
    qtbot.waitUntil(lambda: ws.history.rowCount() == 1 or ws.result is not None, timeout=60_000)
    if ws.result is None:
        assert ws.history.item(0, 1).text() == "running"
    result = wait_result(qtbot, ws)
    assert type(result).__name__ == "Finished" and result.status == "completed", result
    assert [r["epoch"] for r in ws.rows] == [1, 2, 3]
    xs, ys = ws.curves.data_of("val_accuracy")
    assert xs == [1, 2, 3] and ys[-1] == pytest.approx(result.metrics["val_accuracy"])
    assert len(ws.curves.data_of("train_loss")[0]) == 3
    assert ws.confusion.rowCount() == 10 and ws.confusion.matrix.sum() == len(ws._data.val_labels) == 359
    assert ws.progress.value() == ws.progress.maximum()
    assert "Finished" in ws.progress_label.text()
    assert ws.start_button.isEnabled() and not ws.stop_button.isEnabled()

    runs = ctx.document.runs
    assert len(runs) == 1 and ws.history.rowCount() == 1
    assert (ctx.document.run_dir(runs[0]) / "model.onnx").is_file()
    assert ws.history.item(0, 1).text() == "completed"

    # a mistake cell shows exactly its images; a diagonal cell the correct ones
    matrix = ws.confusion.matrix
    r, c = next(((r, c) for r in range(10) for c in range(10) if r != c and matrix[r, c]), (0, 0))
    ws.confusion.cell_chosen.emit(r, c)
    assert ws.cell_images.count == matrix[r, c]
    ws.confusion.cellClicked.emit(4, 4)
    assert ws.cell_images.count == min(200, matrix[4, 4]) and "correctly classified" in ws.cell_images.title.text()

    ws.history.set_checked(0, True)
    assert ws.curves.overlay_count == 1
    ws.history.set_checked(0, False)
    assert ws.curves.overlay_count == 0
    ws.grab().save(str(ctx.document.runs_root() / "train-workspace.png"))


def test_stop_then_resume_the_selected_run(workspace, ctx, qtbot):
    ws = workspace
    training = ctx.document.get("training")
    training.update(epochs=200, batch_size=16)
    ctx.document.set("training", training)
    ws.start()
    qtbot.waitUntil(lambda: len(ws.rows) >= 1, timeout=60_000)
    ws.pause_button.setChecked(True)
    assert ws._control.paused and ws.pause_button.text() == "Continue"
    ws.pause_button.setChecked(False)
    ws.stop()
    result = wait_result(qtbot, ws)
    assert result.status == "cancelled"
    assert ws.history.item(0, 1).text() == "cancelled"
    # the stopped run is selected already, so Resume is one click away
    assert ws.history.selected_run() is not None and "Resume selected run" in ws.message.text()
    ws.history.selectRow(0)
    assert ws.resume_button.isEnabled()
    done = len(ws.rows)
    ws.resume_selected()
    assert ws.running
    qtbot.waitUntil(lambda: len(ws.rows) > done, timeout=60_000)
    ws.stop()
    result = wait_result(qtbot, ws)
    assert result.status == "cancelled" and result.metrics["epoch"] > done
    assert len(ctx.document.runs) == 1


def test_bad_settings_show_one_message_in_the_view(workspace, ctx, qtbot):
    data = ctx.document.get("data")
    data["source"] = "folder"
    data["path"] = "/no/such/folder"
    ctx.document.set("data", data)
    workspace.start()
    result = wait_result(qtbot, workspace)
    assert type(result).__name__ == "Failed"
    assert workspace.message.text() == result.message and "folder" in result.message
    assert workspace.start_button.isEnabled()
    assert ctx.document.runs == [] and workspace.history.rowCount() == 0


def test_shutdown_stops_a_running_worker(qtbot, ctx, tiny_spec):
    from cnnstudio.gui.workspaces.train import Workspace

    ctx.document.set("network", tiny_spec("digits"))
    training = ctx.document.get("training")
    training.update(epochs=500, batch_size=16, device="cpu")
    ctx.document.set("training", training)
    ws = Workspace(ctx)
    qtbot.addWidget(ws)
    ws.start()
    qtbot.waitUntil(lambda: ws._last_batch is not None, timeout=60_000)
    ws.shutdown()
    assert not ws.running


def test_an_invalid_network_turns_start_off_and_says_why(workspace, ctx, qtbot):
    assert workspace.start_button.isEnabled() and workspace.blocker.isHidden()
    spec = ctx.document.get("network")
    spec["layers"][0]["kernel_size"] = 40
    ctx.edit("network", spec, "kernel too big")
    assert not workspace.start_button.isEnabled()
    assert "kernel is larger" in workspace.blocker.text() and "Designer" in workspace.blocker.text()
    assert not workspace.blocker.isHidden()
    workspace.start()  # the shortcut path: does nothing while the network is invalid
    assert not workspace.running and ctx.document.runs == []
    ctx.undo_stack.undo()
    assert workspace.start_button.isEnabled() and workspace.blocker.isHidden()


def test_a_network_without_class_names_is_not_blocked(workspace, ctx):
    spec = ctx.document.get("network")
    spec["classes"] = []
    ctx.document.set("network", spec)
    assert workspace.start_button.isEnabled()


def test_too_few_outputs_for_the_data_offers_a_one_click_fix(workspace, ctx, qtbot):
    spec = ctx.document.get("network")
    spec["layers"][-1]["out_features"] = 3
    spec["classes"] = ["a", "b", "c"]
    ctx.document.set("network", spec)
    training = ctx.document.get("training")
    training["epochs"] = 1
    ctx.document.set("training", training)
    workspace.start()
    result = wait_result(qtbot, workspace)
    assert type(result).__name__ == "Failed" and "10 classes" in result.message
    assert not workspace.fix_button.isHidden() and "10 classes" in workspace.fix_button.text()
    assert "10 outputs" in workspace.fix_button.toolTip()
    workspace.fix_button.click()
    fitted = ctx.document.get("network")
    assert fitted["layers"][-1]["out_features"] == 10 and fitted["classes"] == [str(i) for i in range(10)]
    assert workspace.fix_button.isHidden() and "Press Start" in workspace.message.text()
    ctx.undo_stack.undo()
    assert ctx.document.get("network")["layers"][-1]["out_features"] == 3
    ctx.undo_stack.redo()
    workspace._show_fix(tuple(str(i) for i in range(10)))
    spec = ctx.document.get("network")
    spec["name"] = "renamed"
    ctx.document.set("network", spec)  # any network edit re-checks: the fit is no longer needed
    assert workspace.fix_button.isHidden()
    workspace.start()
    result = wait_result(qtbot, workspace)
    assert type(result).__name__ == "Finished"


def test_ctrl_z_in_a_committed_spin_box_undoes_the_project_edit(main_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    ctx = main_window.ctx
    ws = main_window.show_workspace("train")
    main_window.activateWindow()
    before = ctx.document.get("training")["epochs"]
    spin = ws.form.epochs
    spin.setFocus()
    spin.setValue(before + 4)
    assert ctx.document.get("training")["epochs"] == before + 4
    QTest.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ctx.document.get("training")["epochs"] == before and spin.value() == before
    redo = main_window.action_redo.shortcut()[0]
    QTest.keyClick(spin, redo.key(), redo.keyboardModifiers())
    assert ctx.document.get("training")["epochs"] == before + 4


def test_ctrl_return_starts_and_ctrl_period_stops(workspace, ctx, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    training = ctx.document.get("training")
    training["epochs"] = 500
    ctx.document.set("training", training)
    workspace.activateWindow()
    workspace.form.optimizer.setFocus()
    assert "Ctrl+Return" in workspace.start_button.toolTip()
    QTest.keyClick(workspace.form.optimizer, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert workspace.running
    QTest.keyClick(workspace.form.optimizer, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    result = wait_result(qtbot, workspace)
    assert getattr(result, "status", "cancelled") == "cancelled"
    assert workspace.progress_label.text().startswith("Stop")


def test_selecting_an_old_run_shows_its_curves_and_confusion_matrix(workspace, ctx, qtbot):
    from cnnstudio.gui.workspaces.train import Workspace

    training = ctx.document.get("training")
    training["epochs"] = 2
    ctx.document.set("training", training)
    workspace.start()
    assert type(wait_result(qtbot, workspace)).__name__ == "Finished"
    reopened = Workspace(ctx)  # as after reopening the project: nothing of the run in memory
    qtbot.addWidget(reopened)
    try:
        assert reopened.history.rowCount() == 1 and reopened.curves.data_of("val_loss")[0] == []
        reopened.history.selectRow(0)
        assert reopened.curves.data_of("val_loss")[0] == [1, 2]
        assert reopened.confusion.rowCount() == 10 and reopened.confusion.matrix.sum() > 0
        assert "completed, 2 epochs" in reopened.progress_label.text()
        reopened.confusion.cell_chosen.emit(0, 0)
        assert "trained in this session" in reopened.cell_images.title.text()
    finally:
        reopened.shutdown()


def test_opening_another_project_stops_the_run_and_says_so(workspace, ctx, qtbot):
    training = ctx.document.get("training")
    training["epochs"] = 500
    ctx.document.set("training", training)
    workspace.start()
    qtbot.waitUntil(lambda: workspace._last_batch is not None, timeout=60_000)
    ctx.document.new()
    result = wait_result(qtbot, workspace)
    assert getattr(result, "status", "cancelled") == "cancelled"
    assert "another project was opened" in workspace.message.text()
    assert workspace.history.rowCount() == 0  # the new project has no runs


def test_a_run_killed_mid_training_is_listed_as_interrupted(qtbot, tmp_path):
    from cnnstudio.gui.workspaces.train.history import RunHistoryTable
    from cnnstudio.ml.runs import RunInfo

    run = RunInfo(path=tmp_path / "r", name="r", spec={}, config={"training": {"epochs": 5}},
                  history=[{"epoch": 1, "val_accuracy": 0.5}], summary={})
    assert run.status == "running"
    table = RunHistoryTable()
    qtbot.addWidget(table)
    table.set_runs([run])
    assert table.item(0, 1).text() == "interrupted"
    table.set_runs([run], active=tmp_path / "r")
    assert table.item(0, 1).text() == "running"
