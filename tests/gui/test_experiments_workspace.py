"""The Experiments workspace: the space editor follows the document, a study runs on a worker with progress,
trials are recorded as runs, plots fill in, Cancel then Resume, and the comparison of the three samplers."""

from __future__ import annotations

import pytest

from cnnstudio.core.search_space import Dimension, SearchSpace


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread():
    """Free the widgets of earlier tests here: the garbage collector must not destroy a QObject on a
    study's worker thread (that can deadlock against the GUI thread)."""
    import gc

    gc.collect()
    yield
    gc.collect()


@pytest.fixture
def workspace(make_workspace, ctx, tiny_spec, tmp_path):
    ctx.document.set("network", tiny_spec("digits"))
    training = ctx.document.get("training")
    training.update(epochs=1, batch_size=64, lr=0.01, device="cpu", threads=1, schedule="none")
    ctx.document.set("training", training)
    section = ctx.document.get("experiments")
    section.update(trials=3, sampler="random", pruner="none", storage=f"sqlite:///{tmp_path / 'gui.db'}",
                   space=SearchSpace((Dimension("training", "lr", "float", low=1e-3, high=1e-1, log=True),
                                      Dimension("layer", "out_channels", "int", layer="c1", low=2, high=6))).to_dict())
    ctx.document.set("experiments", section)
    return make_workspace("experiments", size=(1280, 720))


def wait_idle(qtbot, ws, timeout=90_000):
    qtbot.waitUntil(lambda: not ws._job and not ws.workers.busy(), timeout=timeout)


def test_space_editor_follows_the_document_and_edits_are_undoable(workspace, ctx):
    table = workspace.space_editor.table
    assert table.rowCount() == 2 and table.item(0, 0).text() == "lr" and table.item(1, 0).text() == "c1.out_channels"
    table.item(1, 3).setText("12")  # high bound of the channels
    assert ctx.document.get("experiments")["space"]["dimensions"][1]["high"] == 12
    table.item(1, 3).setText("lots")  # refused with a sentence; the cell shows the document's value again
    assert "not a number" in workspace.problem_label.text() and table.item(1, 3).text() == "12"
    workspace.space_editor.add_key("optimizer")
    assert [d["name"] for d in ctx.document.get("experiments")["space"]["dimensions"]][-1] == "optimizer"
    assert table.rowCount() == 3
    ctx.undo_stack.undo()
    ctx.undo_stack.undo()
    assert table.rowCount() == 2 and table.item(1, 3).text() == "6"
    workspace.trials.setValue(7)
    assert ctx.document.get("experiments")["trials"] == 7
    # a network without the layer c1: the space has a problem and Start is off
    spec = ctx.document.get("network")
    spec["layers"][0]["id"] = "conv"
    spec["layers"][1]  # noqa: B018 - keeps the rest as it is
    ctx.document.set("network", spec)
    assert not workspace.start_button.isEnabled() and "no layer 'c1'" in workspace.problem_label.text()


def test_a_study_runs_records_its_trials_and_plots_them(workspace, ctx, qtbot, tmp_path):
    workspace.start()
    assert workspace.cancel_button.isEnabled() and not workspace.start_button.isEnabled()
    wait_idle(qtbot, workspace)
    assert workspace.result.status == "completed" and workspace.result.trials_done == 3
    runs = [r for r in ctx.document.runs if r.get("study") == "study"]
    assert sorted(r["trial"] for r in runs) == [0, 1, 2]
    qtbot.waitUntil(lambda: workspace._snapshot is not None and len(workspace._snapshot.rows) == 3, timeout=30_000)
    assert workspace.table.rowCount() == 3 and workspace.table.item(0, 1).text() == "complete"
    assert len(workspace.history_plot.points.data) == 3
    assert workspace.parallel_plot.shown_lines() == 3
    assert "Best: trial" in workspace.best_label.text()
    workspace.grab().save(str(tmp_path / "experiments.png"))


def test_cancel_then_resume(workspace, ctx, qtbot):
    from cnnstudio.ml.hpo.events import TrialEpoch

    section = ctx.document.get("experiments")
    section.update(epochs=2, trials=2)
    ctx.document.set("experiments", section)
    seen = []
    original = workspace._on_event

    def spy(event):
        original(event)
        seen.append(event)
        if isinstance(event, TrialEpoch) and event.number == 0 and event.epoch == 1:
            workspace.cancel()

    workspace._on_event = spy
    workspace.start()
    wait_idle(qtbot, workspace)
    assert workspace.result.status == "cancelled" and workspace.result.trials_done == 0
    workspace._on_event = original
    qtbot.waitUntil(lambda: workspace.start_button.isEnabled(), timeout=30_000)
    workspace.start()
    wait_idle(qtbot, workspace)
    assert workspace.result.status == "completed" and workspace.result.trials_done == 2


def test_comparison_plots_three_curves(workspace, ctx, qtbot):
    section = ctx.document.get("experiments")
    section.update(trials=2, space=SearchSpace((Dimension("training", "lr", "float", low=1e-3, high=1e-1,
                                                          log=True),)).to_dict())  # a grid of 2 points
    ctx.document.set("experiments", section)
    workspace.compare()
    wait_idle(qtbot, workspace, timeout=120_000)
    done = workspace.result
    assert done.status == "completed" and set(done.curves) == {"grid", "random", "tpe"}
    assert all(len(c) == 2 for c in done.curves.values())
    for curve in workspace.comparison_plot.curves.values():
        assert len(curve.getData()[0]) == 2
    assert "Random search" in workspace.comparison_plot.summary.text()


def test_a_trial_opens_in_inspect(main_window, qtbot, tmp_path, tiny_spec):
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.hpo.runner import StudySettings, run_study

    storage = f"sqlite:///{tmp_path / 'open.db'}"
    space = SearchSpace((Dimension("layer", "out_channels", "int", layer="c1", low=2, high=4),))
    training = {"epochs": 1, "batch_size": 64, "device": "cpu", "threads": 1, "schedule": "none"}
    list(run_study(tiny_spec("digits"), load_dataset({"source": "digits"}), training, space,
                   StudySettings(storage=storage, study="s", sampler="random", pruner="none", trials=1),
                   tmp_path / "out"))
    doc = main_window.ctx.document
    section = doc.get("experiments")
    section.update(storage=storage, study="s", space=space.to_dict())
    doc.set("experiments", section)
    ws = main_window.show_workspace("experiments")
    qtbot.waitUntil(lambda: ws._snapshot is not None and len(ws._snapshot.rows) == 1, timeout=30_000)
    assert ws.start_button.text() == "Resume"  # the study exists and its budget (20) is not spent
    ws.open_trial(0)
    assert main_window.current_workspace_name() == "inspect"
    assert main_window.workspace("inspect")._source == ("run", str((tmp_path / "out" / "trial-0000").resolve()))
