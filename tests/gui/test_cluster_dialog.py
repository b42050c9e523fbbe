""""Run on a cluster…" in Train and Experiments: the dialog previews the launch script of the project and
saves it with the network (and search space) beside it; Experiments follows a study other machines fill."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from cnnstudio.core.spec import load_spec


def _bash_n(path) -> None:
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


@pytest.fixture
def train_ws(make_workspace, ctx, tiny_spec):
    ctx.document.set("network", tiny_spec("digits"))
    training = ctx.document.get("training")
    training.update(epochs=4, lr=0.01, device="cpu")
    ctx.document.set("training", training)
    return make_workspace("train", size=(1280, 720))


def test_train_dialog_previews_and_saves_the_script(train_ws, qtbot, tmp_path):
    train_ws.cluster_button.click()
    dialog = train_ws._cluster_dialog
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.preview.toPlainText()
    assert "torch.distributed.run --standalone" in text
    assert "ARGS=(train tiny-digits.spec.json --data digits" in text and "--lr 0.01 --epochs 4" in text
    assert "--device" not in text  # the cluster node's own GPU
    dialog.kind.setCurrentIndex(dialog.kind.findData("slurm"))
    dialog.nodes.setValue(2)
    dialog.gpus.setValue(4)
    dialog.partition.setText("gpu")
    text = dialog.preview.toPlainText()
    assert "#SBATCH --nodes=2" in text and "#SBATCH --gpus-per-node=4" in text and "#SBATCH --partition=gpu" in text
    dialog.grab().save(str(tmp_path / "cluster.png"))
    saved = dialog.save(tmp_path / "job.sh")
    assert saved == tmp_path / "job.sh" and saved.read_text() == dialog.script
    _bash_n(saved)
    assert load_spec(tmp_path / "tiny-digits.spec.json")["layers"][0]["id"] == "c1"

    dialog.time_limit.setText("whenever")  # a mistake: a sentence, nothing to save
    assert "time limit" in dialog.problem.text() and not dialog.save_button.isEnabled()
    dialog.close()


@pytest.mark.parametrize("source, samples", [("multishapes", 500), ("scenes", 300), ("cifar10", None)])
def test_every_named_source_reaches_the_script_by_its_name(train_ws, ctx, qtbot, source, samples):
    """The dialog knows the data sources the command line does (core.data_config.NAMED_SOURCES): a built-in
    generator is not mistaken for a folder path, so the project's image count goes with it."""
    from cnnstudio.core.data_config import normalize_data_config

    ctx.document.set("data", normalize_data_config({"source": source, **({"num_samples": samples} if samples else {})}))
    train_ws.cluster_button.click()
    dialog = train_ws._cluster_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.data.setText(source)
    text = dialog.preview.toPlainText()
    assert f"--data {source}" in text and dialog._data()["source"] == source and "path" not in dialog._data()
    assert (f"--samples {samples}" in text) == bool(samples)
    dialog.close()


@pytest.fixture
def experiments_ws(make_workspace, ctx, tiny_spec, tmp_path):
    ctx.document.set("network", tiny_spec("digits"))
    section = ctx.document.get("experiments")
    section.update(trials=12, study="wide", storage=f"sqlite:///{tmp_path / 'gui.db'}")
    ctx.document.set("experiments", section)
    return make_workspace("experiments", size=(1280, 720))


def test_experiments_dialog_writes_search_workers(experiments_ws, qtbot, tmp_path):
    dialog = experiments_ws.follower.open_cluster_dialog()
    qtbot.waitUntil(dialog.isVisible)
    dialog.nodes.setValue(2)  # two machines cannot share the SQLite file
    assert "database server" in dialog.problem.text() and not dialog.script
    dialog.storage.setText("postgresql://me:secret@db:5432/studies")
    text = dialog.preview.toPlainText()
    assert "--study wide" in text and "--trials 12" in text and "--space tiny-digits.space.json" in text
    dialog.gpus.setValue(4)
    dialog.per_worker.setValue(2)  # 2 workers per machine, each under torchrun on 2 GPUs
    assert "--nproc_per_node 2 -m cnnstudio" in dialog.preview.toPlainText()
    saved = dialog.save(tmp_path / "search.sh")
    _bash_n(saved)
    space = json.loads((tmp_path / "tiny-digits.space.json").read_text())
    assert space["dimensions"]
    assert (saved.stat().st_mode & 0o077) == 0  # the password stays private
    dialog.close()


def test_experiments_refresh_and_follow_read_the_storage_again(experiments_ws, qtbot, monkeypatch):
    calls = []
    monkeypatch.setattr(experiments_ws, "refresh_results", lambda: calls.append(1))
    experiments_ws.follower.refresh_button.click()
    assert calls == [1]
    experiments_ws.follower.follow.setChecked(True)
    assert experiments_ws.follower.timer.isActive() and calls == [1, 1]
    experiments_ws.follower._tick()
    assert len(calls) == 3
    experiments_ws.follower.follow.setChecked(False)
    assert not experiments_ws.follower.timer.isActive()
