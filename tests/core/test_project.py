"""The project document and its file format (no Qt, no torch)."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.errors import FormatError
from cnnstudio.core.formats import register_migration, upgrade
from cnnstudio.core.project import PROJECT_FORMAT, PROJECT_VERSION, ProjectDocument


def test_default_project_holds_lenet5():
    doc = ProjectDocument()
    net = doc.network
    assert net["name"] == "LeNet-5"
    assert net["input"] == {"channels": 1, "height": 28, "width": 28}
    assert not doc.dirty


def test_set_marks_dirty_and_emits_once_per_change():
    doc = ProjectDocument()
    seen, dirty = [], []
    doc.changed.connect(seen.append)
    doc.dirty_changed.connect(dirty.append)
    training = doc.get("training")
    training["epochs"] = 3
    doc.set("training", training)
    doc.set("training", training)  # same value: no event
    assert seen == ["training"]
    assert dirty == [True]
    assert doc.get("training")["epochs"] == 3


def test_get_returns_a_copy():
    doc = ProjectDocument()
    net = doc.get("network")
    net["layers"].clear()
    assert doc.get("network")["layers"]


def test_save_load_round_trip(tmp_path):
    doc = ProjectDocument()
    data = doc.get("data")
    data["source"] = "shapes"
    doc.set("data", data)
    doc.add_run({"name": "run-1", "path": "runs/run-1"})
    path = doc.save(tmp_path / "demo.cnnproj")
    assert not doc.dirty
    raw = json.loads(path.read_text())
    assert raw["format"] == PROJECT_FORMAT and raw["version"] == PROJECT_VERSION
    other = ProjectDocument()
    other.load(path)
    assert other.get("data")["source"] == "shapes"
    assert other.runs == [{"name": "run-1", "path": "runs/run-1"}]
    assert other.run_dir(other.runs[0]) == tmp_path / "runs" / "run-1"
    assert other.display_name == "demo"
    assert not list(tmp_path.glob(".*.tmp")), "the atomic save left a temporary file"


def test_atomic_save_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    doc = ProjectDocument()
    path = doc.save(tmp_path / "p.cnnproj")
    before = path.read_text()
    import cnnstudio.core.fileio as fileio

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", boom)
    training = doc.get("training")
    training["epochs"] = 99
    doc.set("training", training)
    with pytest.raises(OSError):
        doc.save()
    assert path.read_text() == before
    assert not list(tmp_path.glob(".*.tmp"))
    assert doc.dirty


def test_corrupt_file_gives_clear_error_and_is_untouched(tmp_path):
    path = tmp_path / "broken.cnnproj"
    path.write_text('{"format": "cnnstudio-project", "version": 1, "network": ')
    doc = ProjectDocument()
    with pytest.raises(FormatError, match="corrupt"):
        doc.load(path)
    assert path.read_text().endswith('"network": ')
    assert doc.path is None


def test_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.cnnproj"
    path.write_text(json.dumps({"format": PROJECT_FORMAT, "version": PROJECT_VERSION + 1}))
    with pytest.raises(FormatError, match="newer CNN Studio"):
        ProjectDocument().load(path)


def test_wrong_format_and_missing_file(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(FormatError, match="not a cnnstudio-project file"):
        ProjectDocument().load(path)
    with pytest.raises(FormatError, match="does not exist"):
        ProjectDocument().load(tmp_path / "nope.cnnproj")


def test_migrations_run_in_order():
    @register_migration("test-format", 1)
    def one_to_two(data):
        data["b"] = data.pop("a") * 2
        return data

    @register_migration("test-format", 2)
    def two_to_three(data):
        data["c"] = data["b"] + 1
        return data

    out = upgrade({"format": "test-format", "version": 1, "a": 5}, "test-format", 3)
    assert out == {"format": "test-format", "version": 3, "b": 10, "c": 11}
    with pytest.raises(FormatError, match="no migration"):
        upgrade({"format": "test-format", "version": 1, "a": 1}, "test-format", 5)


def test_new_resets_everything(tmp_path):
    doc = ProjectDocument()
    doc.save(tmp_path / "x.cnnproj")
    doc.add_run({"name": "r", "path": "runs/r"})
    replaced = []
    doc.replaced.connect(lambda: replaced.append(True))
    doc.new()
    assert doc.runs == [] and doc.path is None and not doc.dirty and replaced == [True]


def test_save_as_elsewhere_keeps_runs_reachable(tmp_path):
    first = tmp_path / "a"
    doc = ProjectDocument()
    doc.save(first / "p.cnnproj")
    (first / "runs" / "r1").mkdir(parents=True)
    doc.add_run({"name": "r1", "path": "runs/r1"})
    doc.save()
    doc.save(tmp_path / "b" / "copy.cnnproj")
    assert doc.run_dir(doc.runs[0]) == (first / "runs" / "r1").resolve()
    reopened = ProjectDocument()
    reopened.load(tmp_path / "b" / "copy.cnnproj")
    assert reopened.run_dir(reopened.runs[0]).is_dir()
    # moving the project up to a folder that contains the runs keeps the path relative
    doc.save(tmp_path / "top.cnnproj")
    assert doc.runs[0]["path"] == "a/runs/r1"


def test_failed_save_as_leaves_the_document_unchanged(tmp_path, monkeypatch):
    doc = ProjectDocument()
    doc.save(tmp_path / "a" / "p.cnnproj")
    doc.add_run({"name": "r1", "path": "runs/r1"})
    import cnnstudio.core.fileio as fileio

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", boom)
    with pytest.raises(OSError):
        doc.save(tmp_path / "b" / "copy.cnnproj")
    assert doc.path == tmp_path / "a" / "p.cnnproj"
    assert doc.runs == [{"name": "r1", "path": "runs/r1"}]
    assert doc.dirty


def test_deeply_nested_json_is_a_sentence(tmp_path):
    from cnnstudio.core.formats import read_json

    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(FormatError, match="nested too deeply"):
        read_json(path, "network spec")


def test_class_names_from_foreign_metadata():
    from cnnstudio.core.errors import UserError
    from cnnstudio.core.model_meta import ModelMeta

    meta = ModelMeta.from_props({"names": '{"a": "cat", "b": "dog"}'}, [1, 3, 8, 8])
    assert meta.class_names == ("cat", "dog")
    meta = ModelMeta.from_props({"names": '{"1": "dog", "0": "cat", "10": "eel"}'}, [1, 3, 8, 8])
    assert meta.class_names == ("cat", "dog", "eel")
    with pytest.raises(UserError, match="metadata is corrupt"):
        ModelMeta.from_props({"cnnstudio.format": "cnnstudio-onnx", "input_shape": "[1, 28"}, [1, 1, 28, 28])


@pytest.mark.parametrize(
    "section, value",
    [("runs", "abc"), ("network", []), ("data", []), ("training", {"lr": "fast"}), ("runs", [{"name": "x"}])],
)
def test_mistyped_sections_are_refused_and_the_document_is_untouched(tmp_path, section, value):
    path = tmp_path / "odd.cnnproj"
    data = ProjectDocument().to_dict()
    data[section] = value
    path.write_text(json.dumps(data))
    doc = ProjectDocument()
    before = doc.to_dict()
    with pytest.raises(FormatError, match="is damaged"):
        doc.load(path)
    assert doc.to_dict() == before and doc.path is None


def test_dirty_is_exact_undo_back_is_clean_and_a_run_stays_dirty_until_saved(tmp_path):
    doc = ProjectDocument()
    doc.save(tmp_path / "p.cnnproj")
    original = doc.get("training")
    changed = {**original, "epochs": 3}
    doc.set("training", changed)
    assert doc.dirty
    doc.set("training", original)  # the same value as on disk: clean again
    assert not doc.dirty
    doc.add_run({"name": "r1", "path": "runs/r1"})
    assert doc.dirty
    doc.set("training", changed)
    doc.set("training", original)  # undoing an unrelated edit does not hide the unsaved run
    assert doc.dirty and [r["name"] for r in doc.runs] == ["r1"]
    doc.save()
    assert not doc.dirty
    reopened = ProjectDocument()
    reopened.load(tmp_path / "p.cnnproj")
    assert [r["name"] for r in reopened.runs] == ["r1"] and not reopened.dirty
