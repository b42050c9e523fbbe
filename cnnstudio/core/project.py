"""The project document: network spec, data settings, training settings and the list of runs.

It is the single source of truth. Views subscribe to its psygnal events and never hold their own
copy of the state; edits that should be undoable go through the GUI's undo stack, which calls
:meth:`ProjectDocument.set`. The file is JSON with a format name and version (see core.formats).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from psygnal import Signal

from cnnstudio.core.experiments import default_experiments, normalize_experiments
from cnnstudio.core.fileio import atomic_write_text
from cnnstudio.core.formats import read_json, register_migration, upgrade

PROJECT_FORMAT = "cnnstudio-project"
PROJECT_VERSION = 2  # 2: the "experiments" section (hyperparameter search)
PROJECT_SUFFIX = ".cnnproj"

SECTIONS = ("network", "data", "training", "runs", "experiments")
#: sections that record facts on disk rather than edits: never replaced by undo/redo (runs: add_run)
RECORDED_SECTIONS = ("runs",)


def default_network() -> dict:
    """The built-in default network: LeNet-5 from the bundled templates, with defaults filled in."""
    from cnnstudio.core.spec import load_spec

    return load_spec("lenet5")


def default_data() -> dict:
    return {"source": "digits", "path": "", "val_fraction": 0.2, "seed": 0, "augment": {}}


def default_training() -> dict:
    """Training defaults, from the one settings schema (``cnnstudio.core.train_settings.OPTIONS``).

    Tuned so that LeNet-5 reaches 0.97+ on the digits in a few seconds on two CPU cores.
    """
    from cnnstudio.core.train_settings import defaults

    return defaults()


@register_migration(PROJECT_FORMAT, 1)
def _add_experiments_section(data: dict) -> dict:
    """Project version 1 -> 2: the new "experiments" section (search space and study settings)."""
    return {**data, "experiments": default_experiments()}


class ProjectDocument:
    """The open project. Emits ``changed(section)`` after every change of a section."""

    changed = Signal(str)
    dirty_changed = Signal(bool)
    path_changed = Signal(object)
    replaced = Signal()

    def __init__(self) -> None:
        self._state: dict[str, Any] = {}
        self._path: Path | None = None
        self._dirty = False
        self._state = self._defaults()
        self._saved: dict[str, Any] = copy.deepcopy(self._state)  # what is on disk (or the fresh defaults)

    @staticmethod
    def _defaults() -> dict[str, Any]:
        return {
            "network": default_network(),
            "data": default_data(),
            "training": default_training(),
            "runs": [],
            "experiments": default_experiments(),
        }

    # --- state -------------------------------------------------------------------------------
    def get(self, section: str) -> Any:
        """A deep copy of one section, safe to modify."""
        self._check(section)
        return copy.deepcopy(self._state[section])

    def set(self, section: str, value: Any) -> None:
        """Replace one section and emit ``changed``; the document is dirty while it differs from the file."""
        self._check(section)
        if value == self._state[section]:
            return
        self._state[section] = copy.deepcopy(value)
        self._update_dirty()
        self.changed.emit(section)

    @property
    def network(self) -> dict:
        return self.get("network")

    @property
    def runs(self) -> list[dict]:
        return self.get("runs")

    def add_run(self, record: dict) -> None:
        """Append a run record (``name``, ``path`` relative to the project folder, ...).

        Runs are facts about folders on disk, not edits: they never go through the undo stack (whose
        commands never replace :data:`RECORDED_SECTIONS`), so undoing an unrelated edit keeps them, and
        the document stays dirty until the project is saved with them.
        """
        self.set("runs", [*self._state["runs"], copy.deepcopy(record)])

    def run_dir(self, record: dict) -> Path:
        """The absolute folder of a run record (relative paths are resolved beside the project)."""
        path = Path(record["path"])
        if not path.is_absolute() and self._path is not None:
            path = self._path.parent / path
        return path

    def runs_root(self) -> Path:
        """Where new runs of this project go: ``runs/`` beside the project file."""
        from cnnstudio.core.paths import user_data_dir

        base = self._path.parent if self._path is not None else user_data_dir()
        return base / "runs"

    @staticmethod
    def _check(section: str) -> None:
        if section not in SECTIONS:
            raise KeyError(f"unknown project section {section!r}")

    # --- dirty / path ------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, value: bool) -> None:
        if value != self._dirty:
            self._dirty = value
            self.dirty_changed.emit(value)

    def _update_dirty(self) -> None:
        """Dirty exactly when the document differs from what was last loaded or saved."""
        self._set_dirty(self._state != self._saved)

    def _remember_saved(self) -> None:
        self._saved = copy.deepcopy(self._state)
        self._set_dirty(False)

    def mark_clean(self) -> None:
        """Take the current state as the saved one (the caller discards the changes, e.g. on quit)."""
        self._remember_saved()

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def display_name(self) -> str:
        return self._path.stem if self._path else "Untitled"

    # --- files -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": PROJECT_FORMAT, "version": PROJECT_VERSION, **copy.deepcopy(self._state)}

    def new(self) -> None:
        self._state = self._defaults()
        self._path = None
        self._remember_saved()
        self.path_changed.emit(None)
        self.replaced.emit()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project atomically to ``path`` (or its current path).

        A failed write (an OSError) leaves the document exactly as it was.
        """
        target = Path(path) if path is not None else self._path
        if target is None:
            raise ValueError("the project has no file yet; give a path")
        runs = self._rebased_runs(target)
        data = {**self.to_dict(), "runs": runs}
        atomic_write_text(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        runs_moved = runs != self._state["runs"]
        self._state["runs"] = runs
        if runs_moved:
            self.changed.emit("runs")
        if target != self._path:
            self._path = target
            self.path_changed.emit(target)
        self._remember_saved()
        return target

    def _rebased_runs(self, target: Path) -> list[dict]:
        """Keep run records pointing at their folders when the project moves to another folder.

        Run paths are stored relative to the project file; a Save As elsewhere rewrites them: relative
        to the new folder when the run lies inside it, else absolute.
        """
        old_base = self._path.parent if self._path is not None else None
        new_base = target.parent
        if old_base is None or old_base.resolve() == new_base.resolve():
            return copy.deepcopy(self._state["runs"])
        runs = []
        for record in self._state["runs"]:
            record = dict(record)
            run_path = Path(record.get("path", ""))
            absolute = run_path if run_path.is_absolute() else (old_base / run_path).resolve()
            try:
                record["path"] = absolute.relative_to(new_base.resolve()).as_posix()
            except ValueError:
                record["path"] = str(absolute)
            runs.append(record)
        return runs

    def load(self, path: str | Path) -> None:
        """Replace the document with the project at ``path``.

        Raises FormatError (a UserError) for a missing, corrupt or newer file; the document and
        the file are left untouched then.
        """
        path = Path(path)
        raw = read_json(path, "project file")
        data = upgrade(raw, PROJECT_FORMAT, PROJECT_VERSION, source=f"The project file {path.name}")
        state = self._defaults()
        for section in SECTIONS:
            if section in data:
                state[section] = data[section]
        _check_sections(state, f"The project file {path.name}")
        self._state = state
        self._path = path
        self._remember_saved()
        self.path_changed.emit(path)
        self.replaced.emit()


def _check_sections(state: dict, source: str) -> None:
    """Refuse a project whose sections have the wrong types (a hand-edited or damaged file)."""
    from cnnstudio.core.errors import FormatError

    def bad(what: str) -> FormatError:
        return FormatError(f"{source} is damaged: {what}.")

    network = state["network"]
    if not isinstance(network, dict) or not isinstance(network.get("layers"), list) or not isinstance(
        network.get("input"), dict
    ):
        raise bad("its network is not a spec with 'input' and 'layers'")
    for section in ("data", "training"):
        if not isinstance(state[section], dict):
            raise bad(f"its {section} settings are not an object")
    for key, default in default_training().items():
        value = state["training"].get(key, default)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise bad(f"the training setting '{key}' is {value!r}")
    runs = state["runs"]
    if not isinstance(runs, list) or not all(isinstance(r, dict) and isinstance(r.get("path"), str) for r in runs):
        raise bad("its list of runs is not a list of runs with folders")
    state["experiments"] = normalize_experiments(state["experiments"], f"{source}'s experiments settings")
