"""The worker processes that evaluate queries (sparql_worker.py), and the pool of them.

A `Worker` is one process and its pipes: a job goes as a JSON line, the answer comes back
as a JSON header line and the serialised results. Reading waits with `select` until the
job's deadline; past it the process is killed (`Timeout`). A process that ends during a job
(its memory ceiling) is `Died`. The `Pool` starts `size` workers on demand, lends one per
job, and replaces any it had to kill, so the next job finds a fresh one.
"""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from .namespaces import PREFIXES
from .sparql import Busy, QueryTimeout, TooCostly

WORKER = Path(__file__).with_name("sparql_worker.py")
#: The longest a request waits for a free worker before it is told the server is busy.
QUEUE_WAIT = 2.0
_BOOT = (
    "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


class Died(Exception):
    """The worker process ended while it had a job (its memory ceiling, a crash)."""


class Timeout(Exception):
    pass


class Worker:
    """One worker process and the pipes to it."""

    def __init__(self, memory_mb: int):
        memory = memory_mb * 1024 * 1024 if memory_mb > 0 else 0
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-c", _BOOT, str(WORKER), str(memory), json.dumps(PREFIXES)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        self._buffer = b""

    def ask(self, job: dict, deadline: float) -> tuple[dict, bytes]:
        try:
            self.process.stdin.write(json.dumps(job).encode() + b"\n")
        except (BrokenPipeError, OSError):
            raise Died from None
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, self._buffer = self._buffer.partition(b"\n")
        header = json.loads(line)
        length = header.get("length", 0)
        while len(self._buffer) < length:
            self._fill(deadline)
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return header, body

    def _fill(self, deadline: float) -> None:
        fd = self.process.stdout.fileno()
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise Timeout
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            raise Died
        self._buffer += chunk

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()


class Pool:
    """`size` workers started on demand; a job waits at most QUEUE_WAIT for one of them."""

    def __init__(self, size: int, memory_mb: int):
        self.size, self.memory_mb = size, memory_mb
        self._idle: queue.LifoQueue[Worker | None] = queue.LifoQueue()
        for _ in range(size):
            self._idle.put(None)
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def run(self, job: dict, timeout: float) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=min(QUEUE_WAIT, timeout))
        except queue.Empty:
            raise Busy() from None
        try:
            if worker is None or not worker.alive():
                worker = self._start()
            try:
                return worker.ask(job, deadline)
            except Died:
                self._discard(worker)
                worker = self._start()
                raise TooCostly(
                    "La requête a demandé plus de mémoire que le serveur n'en accorde à une "
                    "requête : ajoutez des critères ou un LIMIT."
                ) from None
            except Timeout:
                self._discard(worker)
                worker = self._start()  # ready for the next job
                raise QueryTimeout(timeout) from None
        finally:
            self._idle.put(worker)

    def _start(self) -> Worker | None:
        with self._lock:
            if self._closed:
                return None
            worker = Worker(self.memory_mb)
            self._all.add(worker)
            return worker

    def _discard(self, worker: Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()
