"""The entry point: --version, --help, python -m cnnstudio, and one clear line for user errors."""

from __future__ import annotations

import subprocess
import sys

import cnnstudio
from cnnstudio.cli import main as cli_main


def test_version_and_help(capsys):
    try:
        cli_main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert cnnstudio.__version__ in capsys.readouterr().out
    assert cli_main([]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "cnnstudio", "--version"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"CNN Studio {cnnstudio.__version__}"


def test_unknown_command_exits_2():
    out = subprocess.run(
        [sys.executable, "-m", "cnnstudio", "no-such-command"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
    assert "Traceback" not in out.stderr
