"""Where a study lives: an Optuna storage from a URL (SQLite, PostgreSQL, MySQL) or a journal file.

Accepted forms, each a UserError sentence when wrong or unreachable:

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a plain path ending in ``.db``
- ``postgresql://user:password@host:port/database`` (driver psycopg2), ``mysql://…`` (driver PyMySQL or
  mysqlclient); any SQLAlchemy dialect+driver form (``postgresql+psycopg2://``) too
- ``journal:path/to/study.log`` (or a plain path ending in ``.log`` / ``.journal``): an append-only
  journal file that several processes on one machine (or a shared file system) can use at once
"""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError

#: how often opening a new database is tried again when another worker is creating its tables
SCHEMA_RACE_RETRIES = 5
_RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
_DRIVERS = {"postgresql": ("psycopg2", "psycopg2-binary"), "mysql": ("pymysql", "PyMySQL"),
            "mariadb": ("pymysql", "PyMySQL")}


def normalize_storage_url(url: str | Path) -> str:
    """The canonical form of a storage given by the user (a path becomes a URL)."""
    text = str(url).strip()
    if not text:
        raise UserError("The study storage is empty; give a URL such as sqlite:///study.db.")
    if "://" not in text and not text.startswith("journal:"):
        suffix = Path(text).suffix.lower()
        if suffix in (".db", ".sqlite", ".sqlite3"):
            return "sqlite:///" + text
        if suffix in (".log", ".journal", ".jsonl"):
            return "journal:" + text
        raise UserError(f"The study storage {text!r} is not a URL: use sqlite:///FILE.db, postgresql://…, "
                        "mysql://… or journal:FILE.log.")
    return text


def storage_file(url: str | Path) -> Path | None:
    """The local file of a SQLite or journal storage (None for a database server or an in-memory one)."""
    url = normalize_storage_url(url)
    if url.startswith("journal:"):
        return Path(url[len("journal:"):].removeprefix("//")).expanduser()
    if url.lower().startswith("sqlite"):
        path = url.split("://", 1)[1][1:]
        return Path(path).expanduser() if path and path != ":memory:" else None
    return None


def safe_url(url: str) -> str:
    """The URL with any password hidden (for messages and the GUI)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def open_storage(url: str | Path) -> Any:
    """An Optuna storage for ``url``; problems (bad URL, missing driver, no server) are UserErrors."""
    import optuna

    url = normalize_storage_url(url)
    if url.startswith("journal:"):
        return _journal(url)
    scheme = url.split("://", 1)[0].lower()
    dialect, _, driver = scheme.partition("+")
    if dialect not in _RDB_SCHEMES:
        raise UserError(f"The study storage {safe_url(url)} has an unknown scheme {scheme!r}: use sqlite, "
                        "postgresql, mysql or journal.")
    if dialect == "postgres":  # SQLAlchemy knows only "postgresql"
        url = "postgresql" + url[len("postgres"):]
        dialect = "postgresql"
    if dialect == "sqlite":
        path = url.split("://", 1)[1][1:]  # sqlite:///rel -> "rel", sqlite:////abs -> "/abs"
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    elif not driver and dialect in _DRIVERS:  # pick the installed driver (SQLAlchemy 2.1 assumes psycopg 3)
        module, package = _DRIVERS[dialect]
        if not _importable(module):
            raise UserError(f"The study storage {safe_url(url)} needs the Python package {package}; "
                            f"install it with pip install {package}.")
        url = f"{dialect}+{module}://" + url.split("://", 1)[1]
    for attempt in range(SCHEMA_RACE_RETRIES + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                storage = optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(dialect))
            if dialect == "sqlite":
                _tune_sqlite(storage.engine)
            return storage
        except ImportError as exc:
            raise UserError(f"The study storage {safe_url(url)} needs a database driver that is missing "
                            f"({exc.name or exc}).") from None
        except Exception as exc:  # SQLAlchemy's OperationalError / IntegrityError / ArgumentError, ...
            # two workers creating the tables of a new database at the same moment: one of them loses
            # (a unique-constraint or "already exists" error); a moment later the tables are there
            racing = any(word in str(exc).lower() for word in ("unique", "already exists", "duplicate", "locked"))
            if not racing or attempt == SCHEMA_RACE_RETRIES:
                raise UserError(f"Cannot open the study storage {safe_url(url)}: {_first_line(exc)}") from None
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _tune_sqlite(engine) -> None:
    """Write-ahead logging and one fsync per checkpoint instead of one per commit: a trial's handful of
    commits (ask, reports, tell) then cost a few milliseconds, not tens. WAL works for several processes
    on one machine's disk; a power cut may lose the last commits but never damages the file."""
    import sqlalchemy

    def pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    sqlalchemy.event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections made while creating the tables reconnect with the pragmas


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _engine_kwargs(dialect: str) -> dict:
    if dialect == "sqlite":  # several processes on one file: wait for the lock instead of failing at once
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def _journal(url: str):
    import optuna
    from optuna.storages.journal import JournalFileBackend

    path = Path(url[len("journal:"):].removeprefix("//")).expanduser()
    if not str(path) or str(path) == ".":
        raise UserError("The journal storage names no file; use journal:FILE.log.")
    if path.is_dir():
        raise UserError(f"The journal file {path} is a folder.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise UserError(f"Cannot open the journal file {path}: {exc.strerror or exc}.") from None
    except Exception as exc:  # a damaged journal
        raise UserError(f"Cannot read the journal file {path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]
