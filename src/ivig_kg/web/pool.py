"""A small pool of pre-started worker processes, each killed and replaced when a task overruns.

pyoxigraph has no query cancellation, so a timeout can only be enforced by
killing the process that runs the query. Workers are started through the
``forkserver`` context (with :mod:`ivig_kg.web.worker` preloaded) so that a
replacement is ready in a fraction of a second, and each opens the store
read-only by itself.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ivig_kg.errors import StoreError
from ivig_kg.web.worker import Response, text

log = logging.getLogger("ivig_kg.serve")
START_TIMEOUT = 60.0


@dataclass(eq=False)
class _Proc:
    process: BaseProcess
    conn: Connection


class Pool:
    """``size`` workers over one store; :meth:`run` gives a task to an idle one, within a time limit."""

    def __init__(self, size: int, store_path: str, site_base: str, max_rows: int):
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["ivig_kg.web.worker"])
        self._args = (store_path, site_base, max_rows)
        self._idle: queue.Queue[_Proc] = queue.Queue()
        self._all: set[_Proc] = set()
        self._lock = threading.Lock()
        self._closed = False
        first = self._start()  # the first one reports a missing or broken store before we listen
        self._idle.put(first)
        for _ in range(size - 1):
            self._idle.put(self._start())

    def _start(self) -> _Proc:
        from ivig_kg.web import worker

        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=worker.main, args=(child, *self._args), daemon=True,
                                    name="ivig-kg-query-worker")
        process.start()
        child.close()
        proc = _Proc(process, parent)
        with self._lock:
            self._all.add(proc)
        if not parent.poll(START_TIMEOUT):
            self._kill(proc)
            raise StoreError("a query worker did not start in time")
        try:
            status, _, body = parent.recv()
        except (EOFError, OSError):
            self._kill(proc)
            raise StoreError("a query worker died while starting (see the log above)") from None
        if status != 200:
            self._kill(proc)
            raise StoreError(body.decode().strip())
        return proc

    def _kill(self, proc: _Proc) -> None:
        with self._lock:
            self._all.discard(proc)
        proc.process.kill()
        proc.process.join(5)
        proc.conn.close()

    def _replace_later(self) -> None:
        def start() -> None:
            for attempt in range(5):
                if self._closed:
                    return
                try:
                    self._idle.put(self._start())
                    return
                except Exception as exc:  # keep serving with fewer workers rather than crash
                    log.error("could not start a replacement query worker (attempt %d): %s", attempt + 1, exc)
                    time.sleep(1.0)

        threading.Thread(target=start, name="ivig-kg-worker-restart", daemon=True).start()

    def run(self, task: dict[str, Any], timeout: float, wait: float | None = None) -> Response:
        """Run ``task`` on an idle worker within ``timeout`` seconds (else 504, and the worker is killed).

        A request waits up to ``wait`` seconds (default: max(timeout, 10)) for a free worker,
        e.g. while a killed one is being replaced, before it is answered 503.
        """
        wait = max(timeout, 10.0) if wait is None else wait
        try:
            proc = self._idle.get(timeout=wait)
        except queue.Empty:
            return text(503, f"all query workers stayed busy for {wait:g} s; try again later",
                        [("Retry-After", "1")])
        started = time.monotonic()
        try:
            proc.conn.send(task)
            if proc.conn.poll(timeout):
                answer: Response = proc.conn.recv()
                self._idle.put(proc)
                return answer
        except (EOFError, OSError, BrokenPipeError):
            log.error("a query worker died; starting a new one")
            self._kill(proc)
            self._replace_later()
            return text(500, "the query worker died while answering; try again")
        self._kill(proc)
        self._replace_later()
        log.warning("stopped a %s task after %.1f s (timeout)", task.get("kind"), time.monotonic() - started)
        return text(504, f"the query ran longer than the server's limit of {timeout:g} s and was stopped; "
                         "narrow it (LIMIT, more specific patterns) or ask the operator for a longer --timeout")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            procs = list(self._all)
        for proc in procs:
            self._kill(proc)
