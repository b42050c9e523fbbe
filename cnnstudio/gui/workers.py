"""The one way to run background work in the GUI: a :class:`WorkerGroup` of superqt workers.

In the spirit of napari's ``_qt/qthreading.py``, over superqt's ``GeneratorWorker`` (a generator: every
``yield`` reaches ``on_yield``, and a stop request takes effect at the next one) and ``FunctionWorker``
(a plain function). A group adds what every view needs:

- **newest wins**: a request with the ``tag`` of a running one replaces it; the older one is asked to
  stop and nothing it yields, returns or raises reaches the view any more;
- **errors are sentences**: ``on_error`` gets one sentence (a :class:`UserError`'s own message; for
  anything else a short sentence, with the traceback appended to the error log); without ``on_error``
  the exception goes to ``sys.excepthook``, i.e. the app's error dialog (:mod:`cnnstudio.gui.errors`);
- **shutdown together**: :meth:`WorkerGroup.shutdown` (on workspace or window close) stops every request,
  joins their threads and drops whatever they still deliver; later requests are refused.

Callbacks always run on the GUI thread; the work itself must never touch a widget.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, QTimer
from superqt.utils import FunctionWorker, GeneratorWorker

from cnnstudio.core.errors import UserError

#: the shared pool holds at least this many threads: a long training run must not queue a model load
MIN_POOL_THREADS = 8
#: a finished worker is kept this long, then let go on the GUI thread (its pool thread returned long before)
RETIRE_AFTER_S = 2.0


def error_sentence(exc: BaseException, failure: str = "") -> str:
    """The sentence the user sees for ``exc``; ``failure`` says what failed ("The camera could not be used").

    A UserError is its own message. Anything else is a bug or a broken install: its traceback is appended
    to the error log, and the sentence names the exception and the log.
    """
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"A part of CNN Studio this needs is not available: {_clause(exc)}."
    from cnnstudio.gui.errors import log_exception

    log = log_exception(type(exc), exc, exc.__traceback__)
    where = f" The details were written to {log}." if log else ""
    return f"{failure or 'Something went wrong inside CNN Studio'}: {type(exc).__name__}: {_clause(exc)}.{where}"


def _clause(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).rstrip(".")


class _Ends:
    """Mixin for superqt workers: ``ended`` is set on the worker thread as soon as the work is over (before
    its result is sent), so that :meth:`WorkerGroup.busy` is False when the result arrives and
    :meth:`WorkerGroup.wait` can join without an event loop. Started at once on the shared pool."""

    ended: threading.Event

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.ended.set()  # also when superqt gave up before the work (a deleted worker)

    def start(self) -> None:
        pool = QThreadPool.globalInstance()
        if pool.maxThreadCount() < MIN_POOL_THREADS:
            pool.setMaxThreadCount(MIN_POOL_THREADS)
        pool.start(self)  # now, not on the next event-loop turn: shutdown() may follow immediately


class _FunctionWorker(_Ends, FunctionWorker):
    def work(self):
        try:
            if self.abort_requested:  # stopped while it waited for a free thread: never started
                return None
            return super().work()
        finally:
            self.ended.set()


class _GeneratorWorker(_Ends, GeneratorWorker):
    def work(self):
        try:
            result = super().work()
        finally:
            try:
                self._gen.close()  # a stopped generator runs its cleanup here, on its own thread
            finally:
                self.ended.set()
        if isinstance(result, RuntimeError):
            raise result  # superqt returns a generator's RuntimeError silently; it is an error like any other
        return result


@dataclass(eq=False)
class Request:
    """One piece of work of a group: its worker and where its results go."""

    tag: str | None
    worker: Any
    on_yield: Callable[[Any], None] | None = None
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[str], None] | None = None
    on_finish: Callable[[], None] | None = None
    cancel: Callable[[], None] | None = None
    failure: str = ""
    stale: bool = False  # replaced, cancelled or shut down: nothing reaches the view any more
    ended: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        """Whether its work is still going on (on its thread)."""
        return not self.ended.is_set()


class WorkerGroup(QObject):
    """The background work of one view (a workspace, the main window): start, replace by tag, shut down."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._requests: list[Request] = []  # started, results not all delivered yet
        self._current: dict[str, Request] = {}  # the newest request of each tag
        self._closed = False

    # --- starting -------------------------------------------------------------------------------
    def run(self, func: Callable, *args, tag: str | None = None, on_yield: Callable[[Any], None] | None = None,
            on_done: Callable[[Any], None] | None = None, on_error: Callable[[str], None] | None = None,
            on_finish: Callable[[], None] | None = None, cancel: Callable[[], None] | None = None,
            failure: str = "", **kwargs) -> Request | None:
        """Run ``func(*args, **kwargs)`` on a worker thread (a generator function yields to ``on_yield``).

        ``on_done(result)`` gets its return value, ``on_error(sentence)`` its exception as a sentence
        (``failure`` starts the sentence of an unexpected one), ``on_finish()`` follows either. A running
        request with the same ``tag`` is replaced. ``cancel`` is how to ask this work to stop (a training
        control's cancel); by default a generator stops at its next ``yield``, and a function that has not
        started yet never starts while a running one runs to its end unheard. The keywords above are the
        group's; any others go to ``func``. Returns the :class:`Request`, or None (nothing started) once
        the group is shut down.
        """
        if self._closed:
            return None
        worker_class = _GeneratorWorker if inspect.isgeneratorfunction(func) else _FunctionWorker
        worker = worker_class(func, *args, **kwargs)
        request = Request(tag, worker, on_yield, on_done, on_error, on_finish, cancel, failure)
        worker.ended = request.ended
        if tag is not None:
            older = self._current.get(tag)
            if older is not None:
                self._stop(older)
            self._current[tag] = request
        self._requests.append(request)
        if worker_class is _GeneratorWorker:
            worker.yielded.connect(lambda value, r=request: self._deliver(r, r.on_yield, value))
        worker.returned.connect(lambda result, r=request: self._deliver(r, r.on_done, result))
        worker.errored.connect(lambda exc, r=request: self._errored(r, exc))
        worker.finished.connect(lambda r=request: self._finished(r))
        worker.start()
        return request

    # --- state ----------------------------------------------------------------------------------
    def busy(self, tag: str | None = None) -> bool:
        """Whether work (of ``tag``, or any) is still running on a thread, stale work included."""
        return any(r.running for r in self._requests if tag is None or r.tag == tag)

    def __len__(self) -> int:
        """The requests whose results are not all delivered yet (0: the group is idle)."""
        return len(self._requests)

    def __bool__(self) -> bool:
        return bool(self._requests)

    @property
    def closed(self) -> bool:
        return self._closed

    # --- stopping -------------------------------------------------------------------------------
    def cancel(self, tag: str | None = None) -> None:
        """Stop the requests of ``tag`` (or all); nothing more of them reaches the view."""
        for request in list(self._requests):
            if tag is None or request.tag == tag:
                self._stop(request)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the work of every request has ended on its thread; False on timeout.

        Results already on their way are delivered by the event loop afterwards (unless shut down).
        """
        deadline = time.monotonic() + timeout
        return all(r.ended.wait(max(0.0, deadline - time.monotonic())) for r in list(self._requests))

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop every request, join their threads and ignore what they still deliver; refuse new ones."""
        self._closed = True
        self.cancel()
        return self.wait(timeout)

    def _stop(self, request: Request) -> None:
        request.stale = True
        if self._current.get(request.tag) is request:
            del self._current[request.tag]
        if request.cancel is not None:
            request.cancel()  # its own way to stop (a generator then ends as it sees fit)
        if request.cancel is None or isinstance(request.worker, _FunctionWorker):
            request.worker.quit()  # a generator stops at its next yield; a function not yet started never starts

    # --- delivery (GUI thread) --------------------------------------------------------------------
    def _live(self, request: Request) -> bool:
        return not (request.stale or self._closed) and shiboken6.isValid(self)

    def _deliver(self, request: Request, callback: Callable | None, *args) -> None:
        if callback is not None and self._live(request):
            callback(*args)

    def _errored(self, request: Request, exc: BaseException) -> None:
        if not self._live(request):
            return
        if request.on_error is None:
            sys.excepthook(type(exc), exc, exc.__traceback__)  # the app's error dialog
        else:
            request.on_error(error_sentence(exc, request.failure))

    def _finished(self, request: Request) -> None:
        _retire(request.worker)  # also when Qt deleted this group (with its view) before the work finished
        live = self._live(request)
        if request in self._requests:
            self._requests.remove(request)
        if self._current.get(request.tag) is request:
            del self._current[request.tag]
        if live and request.on_finish is not None:
            request.on_finish()


#: (when, worker) of finished work, let go later on the GUI thread (module-wide: a group may be gone by then)
_RETIRED: list[tuple[float, Any]] = []


def _retire(worker) -> None:
    """Let a finished worker go on the GUI thread, never on its pool thread.

    Its signals' slots hold its request, which holds the worker: a cycle the garbage collector frees
    on whichever thread it happens to run, and the pool thread holds the last plain reference while
    ``run`` returns. A QObject destroyed on a pool thread while the GUI thread connects a signal
    deadlocks (the GIL against Qt's connection lock). So the slots are disconnected here (no cycle)
    and the worker is kept a moment, then dropped by this thread.

    The list and its timer belong to the application, not to the group: the slots (lambdas) hold their
    group, which Qt deletes with its view, possibly before a result it no longer delivers arrives here;
    a timer tied to that deleted group raised "Internal C++ object (WorkerGroup) already deleted".
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a signal without slots warns when disconnected
        for name in ("yielded", "returned", "errored", "finished"):
            try:
                getattr(worker, name).disconnect()
            except (AttributeError, RuntimeError, TypeError):
                pass
    now = time.monotonic()
    _RETIRED[:] = [(t, w) for t, w in _RETIRED if now - t < RETIRE_AFTER_S or not w.ended.is_set()]
    _RETIRED.append((now, worker))
    app = QCoreApplication.instance()
    if app is not None:
        QTimer.singleShot(int(RETIRE_AFTER_S * 1000) + 100, app, _release_retired)


def _release_retired() -> None:
    now = time.monotonic()
    _RETIRED[:] = [(t, w) for t, w in _RETIRED if now - t < RETIRE_AFTER_S or not w.ended.is_set()]
