"""Exceptions that escape a Qt slot: a clear dialog instead of a silent traceback on stderr.

A :class:`UserError` shows its sentence. Anything else is a bug: the dialog says so, the traceback is
written to a log file in the user data folder (named in the dialog), and the app keeps running.
"""

from __future__ import annotations

import datetime
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.paths import user_data_dir


def log_exception(exc_type, exc, tb) -> Path | None:
    """Append the traceback to ``logs/errors.log``; return the file (None if it cannot be written)."""
    try:
        folder = user_data_dir() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "errors.log"
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp}\n{''.join(traceback.format_exception(exc_type, exc, tb))}\n")
        return path
    except OSError:
        return None


class ExceptionDialogs:
    """A ``sys.excepthook`` that reports exceptions from the event loop in a dialog."""

    def __init__(self, parent: Callable[[], QWidget | None], previous: Callable | None = None):
        self._parent = parent
        self._previous = previous or sys.excepthook
        self._showing = False
        self.reported: list[str] = []

    def install(self) -> None:
        sys.excepthook = self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous

    def __call__(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            self._previous(exc_type, exc, tb)
            return
        if issubclass(exc_type, UserError):
            title, text = "Cannot do that", str(exc)
        else:
            self._previous(exc_type, exc, tb)
            log = log_exception(exc_type, exc, tb)
            where = f" The details were written to {log}." if log else ""
            title = "Unexpected error"
            text = (
                f"Something went wrong inside CNN Studio: {exc_type.__name__}: {exc}.{where} "
                "Your project has not been changed; saving it now is safe."
            )
        self.reported.append(text)
        if self._showing:  # an error while the dialog is up: log only, no dialog storm
            return
        self._showing = True
        try:
            QMessageBox.critical(self._parent(), title, text)
        finally:
            self._showing = False
