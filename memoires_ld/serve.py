"""`memoires-ld serve`: the app under gunicorn, threads sharing one embedded store.

Design: one process (by default) with several gthread threads. The store is an on-disk
Oxigraph (RocksDB) database opened read-only; pyoxigraph releases the GIL while it runs a
query or serialises, so threads answer in parallel without copying the store per process.
More processes (`--workers`) each open the same files read-only: useful only when the
Python side (Flask, templates) saturates a core.

Before any worker starts, the master prepares what is cached per data version — the store
(loaded when data/ changed), the dumps and the statistics — so that workers only open
files, and never load the same data twice.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from gunicorn.app.base import BaseApplication

from . import void
from .iris import Iris
from .store import open_configured


def prepare(settings: dict) -> str:
    """Load the store if data/ changed, write the dumps and statistics; return the version."""
    store = open_configured(settings)
    void.prepare(store, Path(settings["INSTANCE_DIR"]), Iris(settings["BASE_URL"]))
    return store.version  # the store is closed on return, before workers fork


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

        return create_app(self.settings)


def serve(settings: dict) -> None:
    """Prepare the data, then serve until stopped (SIGINT/SIGTERM stop gracefully).

    The preparation runs in a separate (spawned) process: RocksDB's background threads do
    not survive a fork, so a database opened in the master would leave the forked worker
    with a thread pool that never runs its flushes (the first checkpoint after a write
    then waits forever).
    """
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        version = pool.apply(prepare, (settings,))
    print(
        f"memoires-ld : données {version}, {settings['BASE_URL']} "
        f"sur http://{settings['HOST']}:{settings['PORT']}/",
        flush=True,
    )
    Server(settings).run()
