"""`memoires-ld serve`: the app under gunicorn, threads sharing one embedded store.

Design: one process (by default) with several gthread threads. The store is an on-disk
Oxigraph (RocksDB) database opened read-only; pyoxigraph releases the GIL while it runs a
query or serialises, so threads answer in parallel without copying the store per process.
More processes (`--workers`) each open the same files read-only: useful only when the
Python side (Flask, templates) saturates a core.

Before any worker starts, the master makes sure the store is there (loaded when data/
changed), so that workers only open files and never load the same data twice. What is
cached per data version and costs minutes at 100k fiches — the dumps, the statistics, the
text index — is then written by a background process (at a lower priority) while the server
already answers: a request that needs one of them waits for it (they are written under a
lock, once), every other page is served meanwhile. That process then watches the store and
publishes each new version after a write, while the web serves the previous version's
dumps and description (web/dataset.py); it exits with the master.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from pathlib import Path

from gunicorn.app.base import BaseApplication

from . import search, void
from .iris import Iris
from .store import open_configured
from .web import rendered

#: Seconds between two looks of the publisher at the store.
PUBLISH_POLL = 1.0


def prepare(settings: dict) -> str:
    """Load the store if data/ changed; return its version."""
    return open_configured(settings).version  # closed on return, before workers fork


def publish(settings: dict) -> str:
    """Write the statistics, the text index, the dumps of the store's version, and the
    fiches' representations made in advance."""
    store = open_configured(settings)  # read-only: a snapshot, consistent while we write
    try:
        instance = Path(settings["INSTANCE_DIR"])
        void.cached_statistics(store, instance)
        search.prepare(store, instance)
        void.prepare(store, instance, Iris(settings["BASE_URL"]))
        version = store.version
    finally:
        store.close()  # the next look opens the store anew, and sees the writes made since
    rendered.make(settings)  # the fiches' representations, of the same version or newer
    return version


def keep_publishing(settings: dict, master: int, poll: float = PUBLISH_POLL) -> None:
    """`publish`, then again each time the store changes, until the master is gone."""
    os.nice(10)
    changed, seen = _watch(settings), None
    while os.getppid() == master:
        now = changed()
        pause = poll
        if now != seen:
            try:
                publish(settings)
                seen = now
            except Exception:  # say it, and try again a little later
                traceback.print_exc()
                pause = poll * 30
        time.sleep(pause)


def _watch(settings: dict):
    """A function whose value changes when the store may have changed: the embedded store's
    files (a write appends to its log), or a SPARQL server's version."""
    if settings.get("STORE"):
        store = open_configured(settings)
        return lambda: store.version
    instance = Path(settings["INSTANCE_DIR"])

    def files() -> frozenset:
        found = set()
        for folder in instance.glob("store-*"):
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(folder):
                    with contextlib.suppress(FileNotFoundError):
                        stat = entry.stat()
                        found.add((entry.path, stat.st_size, stat.st_mtime_ns))
        return frozenset(found)

    return files


def gunicorn_options(settings: dict) -> dict:
    return {
        "bind": f"{settings['HOST']}:{settings['PORT']}",
        "workers": settings["WORKERS"],
        "worker_class": "gthread",
        "threads": settings["THREADS"],
        # a first request for a dump of a large dataset may have to write it
        "timeout": 300,
        "graceful_timeout": 10,
        "keepalive": 5,
        "proc_name": "memoires-ld",
        # gunicorn 27's control socket is one path per user: two servers would share it
        "control_socket_disable": True,
        "errorlog": "-",
        "loglevel": "info",
    }


class Server(BaseApplication):
    """gunicorn, configured from our settings only (it reads no command line of its own)."""

    def __init__(self, settings: dict):
        self.settings = settings
        super().__init__()

    def load_config(self):
        for name, value in gunicorn_options(self.settings).items():
            self.cfg.set(name, value)

    def load(self):
        from .web import create_app

        app = create_app(self.settings)
        threading.Thread(target=_warm, args=(app,), name="warm-indexes", daemon=True).start()
        return app


def _warm(app) -> None:
    """Make the listing's indexes in the worker before the first listing asks (read back
    from the text index's file when there is one: a second at 100k fiches)."""
    from .web.listing import indexes

    try:
        with app.app_context():
            indexes()
    except Exception:  # the first listing request will try again, and say what fails
        app.logger.exception("listing indexes not made in advance")


def _import_app() -> None:
    """Import the web app's modules here, in the master: forked workers inherit them and
    only open the store (importing them takes a second or two). No module opens a store or
    starts a thread when imported."""
    from .web import _blueprints

    _blueprints()


def _start_publishing(settings: dict) -> None:
    """Fork the process that runs `publish`, stopped with the master (not with a worker).

    A bare fork, not a multiprocessing.Process: the workers forked next would inherit it in
    multiprocessing's list of children, and each worker's exit would then signal and try to
    join a process that is not its own. The master reaps it as it reaps its workers.
    """
    master = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            keep_publishing(settings, master)
        except BaseException:
            code = 1
            traceback.print_exc()
        finally:
            os._exit(code)

    def stop() -> None:
        if os.getpid() == master:  # workers inherit this hook: only the master stops it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    atexit.register(stop)


def serve(settings: dict) -> None:
    """Prepare the data, then serve until stopped (SIGINT/SIGTERM stop gracefully).

    The preparation runs in a separate process: RocksDB's background threads do not survive
    a fork, so a database opened in the master would leave the forked worker with a thread
    pool that never runs its flushes (the first checkpoint after a write then waits
    forever). That process is forked before the master opens any database (a spawned one
    would import everything again: a second or two).
    """
    fork = multiprocessing.get_context("fork")
    with fork.Pool(1) as pool:
        pending = pool.apply_async(prepare, (settings,))
        _import_app()  # meanwhile, on the other core
        version = pending.get()
    settings = settings | {"PUBLISHER": True}  # the web leaves new versions to it
    _start_publishing(settings)
    print(
        f"memoires-ld : données {version}, {settings['BASE_URL']} "
        f"sur http://{settings['HOST']}:{settings['PORT']}/",
        flush=True,
    )
    Server(settings).run()
