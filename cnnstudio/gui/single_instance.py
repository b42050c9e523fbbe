"""One running app per user: a second launch with files hands them to the first and exits.

The first app listens on a per-user local socket (QLocalServer: a Unix socket readable only by this
user, a named pipe on Windows). A later ``cnnstudio FILE`` connects, sends the absolute paths as one
JSON line and waits for "ok"; if nobody answers in time it opens its own window as usual.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_MS = 300
REPLY_MS = 5000  # a busy running app still answers; else this launch opens its own window


def instance_name() -> str:
    """The socket name: per user, and per CNNSTUDIO_HOME so test and smoke runs never meet the real app."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    identity = f"{user}|{os.environ.get('CNNSTUDIO_HOME', '')}"
    return "cnnstudio-" + hashlib.sha256(identity.encode()).hexdigest()[:16]


def send_to_running(paths: Sequence[Path], name: str | None = None) -> bool:
    """Hand ``paths`` to a running app; True when it took them (this process can then exit)."""
    socket = QLocalSocket()
    socket.connectToServer(name or instance_name())
    if not socket.waitForConnected(CONNECT_MS):
        return False
    message = json.dumps({"open": [str(Path(p).resolve()) for p in paths]}) + "\n"
    socket.write(message.encode("utf-8"))
    if not socket.waitForBytesWritten(REPLY_MS):
        return False
    reply = b""
    while b"\n" not in reply and socket.waitForReadyRead(REPLY_MS):
        reply += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    return reply.strip() == b"ok"


class InstanceServer(QObject):
    """Listens for later launches; emits ``open_requested`` with their paths."""

    open_requested = Signal(list)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or instance_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; False if another live app already does (it then gets the files)."""
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(CONNECT_MS):  # a live app holds the name (listen would steal it)
            probe.disconnectFromServer()
            return False
        QLocalServer.removeServer(self.name)  # a stale socket left by a crashed app, if any
        return self._server.listen(self.name)

    def close(self) -> None:
        """Stop listening and drop the connections still open (their sockets are the server's children)."""
        self._server.close()
        for socket in list(self._buffers):
            self._buffers.pop(socket, None)
            socket.abort()
            socket.deleteLater()

    # The sockets' signals go to bound methods (this object is their receiver), never to lambdas that
    # capture ``self``: such a lambda is freed while Qt destroys the socket, and if it held the last
    # reference to this server, the server (and with it the socket's parent) was deleted inside the
    # socket's own destructor ("shared QObject was deleted directly", then a crash).
    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(self._on_disconnected)

    def _on_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket) and socket in self._buffers:
            self._read(socket)

    def _on_disconnected(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket) and self._buffers.pop(socket, None) is not None:
            socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        self._buffers[socket] = data
        if b"\n" not in data:
            if len(data) > 1 << 20:  # not one of ours
                socket.abort()
            return
        line = data.split(b"\n", 1)[0]
        try:
            paths = [str(p) for p in json.loads(line.decode("utf-8"))["open"]]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            socket.write(b"error\n")
            socket.disconnectFromServer()
            return
        socket.write(b"ok\n")
        socket.flush()
        socket.disconnectFromServer()
        self.open_requested.emit(paths)

