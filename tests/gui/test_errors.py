"""Exceptions escaping a slot become a dialog (and a log entry for bugs), never a silent traceback."""

from __future__ import annotations

import sys

from cnnstudio.core.errors import UserError
from cnnstudio.gui.errors import ExceptionDialogs


def _raise(exc):
    try:
        raise exc
    except BaseException:
        return sys.exc_info()


def test_user_error_shows_its_sentence(dialogs):
    hook = ExceptionDialogs(lambda: None)
    hook(*_raise(UserError("The camera 3 is not available.")))
    assert dialogs.texts("critical") == ["The camera 3 is not available."]


def test_bug_is_logged_and_reported(dialogs, _isolated_user_dirs, capsys):
    hook = ExceptionDialogs(lambda: None, previous=sys.__excepthook__)
    hook(*_raise(ZeroDivisionError("division by zero")))
    text = dialogs.texts("critical")[0]
    assert "ZeroDivisionError" in text and "has not been changed" in text
    log = _isolated_user_dirs / "logs" / "errors.log"
    assert "ZeroDivisionError" in log.read_text()
    assert "Traceback" in capsys.readouterr().err  # still printed for developers


def test_install_and_uninstall_restore_the_previous_hook():
    before = sys.excepthook
    hook = ExceptionDialogs(lambda: None)
    hook.install()
    assert sys.excepthook is hook
    hook.uninstall()
    assert sys.excepthook is before
