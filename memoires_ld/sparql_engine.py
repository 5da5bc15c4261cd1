"""Running the endpoint's queries: worker processes, deadlines, size caps, cache, rate limit.

Why processes and not threads: pyoxigraph cannot cancel a query, and part of its work holds
Python's GIL (freeing a large sorted result took 0.5 s at 2 million rows, 9 s at 9 million,
during which no other thread of the server runs). So queries run in `SPARQL_WORKERS` worker
processes (sparql_worker.py), each on a read-only snapshot of the store:

* a query past `SPARQL_TIMEOUT` is answered 503 and its worker is killed — the computation
  really stops, its memory is freed, and a fresh worker takes its place;
* at most `SPARQL_WORKERS` queries run at once; a request that finds every worker busy
  waits at most `sparql_pool.QUEUE_WAIT` seconds, then gets 503 with Retry-After (web
  threads are never held for long by queries waiting in line);
* workers run at a lower CPU priority and with a memory ceiling (`SPARQL_WORKER_MEMORY_MB`):
  pages of the site keep answering while two costly queries run.

The snapshot is a RocksDB checkpoint of the store (hard links, ~0.1 s), made again when the
store's version changes: Oxigraph forbids opening read-only a database that another process
writes, and a checkpoint also gives every query a consistent view.

One exception: `DESCRIBE <iri>` (no WHERE, no variable) costs what the resource's
description costs, under a millisecond; it is answered in the web process when that
description is short, because a worker's round trip would triple its time (`Engine._here`).

Answers are cached by (store version, operation, format), which also makes their ETag: a
repeated query is answered from memory, a revalidation by 304, without running again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from itertools import count, islice
from pathlib import Path

import pyoxigraph as ox

from . import __version__, sparql_text, sparql_worker
from .errors import MemoiresError, ReadOnly
from .namespaces import PREFIXES
from .sparql import (
    MalformedQuery,
    Operation,
    QueryTimeout,
    RateLimited,
    ResultTooLarge,
    ServiceRefused,
)
from .sparql_limits import RateLimiter, ResultCache
from .sparql_pool import Pool
from .store import EmbeddedStore, Store

#: The longest description a DESCRIBE of named resources may have to be written in the web
#: process (Engine._here), in triples (a fiche has about 60); beyond, it is a worker's job.
IN_PROCESS_TRIPLES = 5_000


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0
    max_bytes: int = 20_000_000
    workers: int = 2
    memory_mb: int = 2048
    cache_mb: int = 64
    per_minute: int = 120
    allowlist: frozenset[str] = frozenset()
    update: bool = False

    @classmethod
    def from_config(cls, config: dict) -> Limits:
        allowlist = config["SPARQL_SERVICE_ALLOWLIST"]
        if isinstance(allowlist, str):
            allowlist = allowlist.replace(",", " ").split()
        return cls(
            timeout=float(config["SPARQL_TIMEOUT"]),
            max_bytes=int(config["SPARQL_MAX_RESULT_BYTES"]),
            workers=max(1, int(config["SPARQL_WORKERS"])),
            memory_mb=int(config["SPARQL_WORKER_MEMORY_MB"]),
            cache_mb=int(config["SPARQL_CACHE_MB"]),
            per_minute=int(config["SPARQL_RATE_LIMIT"]),
            allowlist=frozenset(allowlist),
            update=bool(config["SPARQL_UPDATE"]),
        )


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str
    kind: str  # "solutions", "boolean" or "graph"
    format: str  # the name of the format written: json, xml, csv, tsv, turtle, jsonld, …
    cached: bool = False


class Engine:
    """The endpoint's evaluation of queries and updates over one store."""

    def __init__(self, store: Store, instance_dir: Path, limits: Limits):
        self.store, self.limits = store, limits
        self.snapshots = Snapshots(store, instance_dir / "sparql")
        self.pool = Pool(limits.workers, limits.memory_mb)
        self.cache = ResultCache(limits.cache_mb * 1_000_000)
        self.limiter = RateLimiter(limits.per_minute)
        self._update_lock = threading.Lock()
        #: the counts of the service description, per store version (sparql_service.py)
        self.service_statistics = None

    # -- queries -----------------------------------------------------------------------
    def etag(self, operation: Operation, fmt: str, base: str) -> str:
        """The entity tag of the answer, known before running it (store version + request)."""
        version = self.store.version
        parts = (__version__, operation.text, base, fmt, *operation.default_graphs, "|")
        digest = hashlib.sha256("\0".join((*parts, *operation.named_graphs)).encode())
        return f"{version}-{digest.hexdigest()[:20]}"

    def query(
        self, operation: Operation, fmt: str, base: str, client: str, tag: str | None = None
    ) -> Answer:
        """Answer a query in format `fmt` (a result or RDF format name), from cache if known
        (`tag`: its etag() when the caller has it already)."""
        try:
            sparql_text.check(operation.text, base, self.limits.allowlist)
        except sparql_text.Refused as refused:
            raise ServiceRefused(str(refused), detail={"endpoint": refused.target}) from None
        tag = tag or self.etag(operation, fmt, base)
        cached = self.cache.get(tag)
        if cached is not None:
            kind, _, written = cached[1].partition(" ")
            return Answer(cached[0], tag, kind, written, cached=True)
        wait = self.limiter.take(client)
        if wait:
            raise RateLimited(wait)
        job = self._job(operation, fmt, base)
        header, body = self.run(job, self.limits.timeout)
        self.cache.put(tag, body, f"{header['kind']} {header['format']}")
        return Answer(body, tag, header["kind"], header["format"])

    def _job(self, operation: Operation, fmt: str, base: str) -> dict:
        job = {
            "query": operation.text,
            "base": base,
            "format": fmt,
            "max_bytes": self.limits.max_bytes,
        }
        if operation.has_dataset:  # Protocol §2.1.4: the protocol's dataset wins over FROM
            job["default"], job["named"] = operation.default_graphs, operation.named_graphs
        else:  # the union of the graphs, unless the query names its own (FROM)
            job["union"] = not sparql_text.declares_dataset(operation.text)
        return job

    def run(self, job: dict, timeout: float) -> tuple[dict, bytes]:
        """Run a job (in a worker, or here when it is a small DESCRIBE); raise the error its
        outcome calls for."""
        if not isinstance(self.store, EmbeddedStore):
            header, body = self._remote(job, timeout)
        else:
            header, body = self._here(job) or self.pool.run(self._on_snapshot(job), timeout)
        if header["status"] == "ok":
            return header, body
        error = header["error"]
        if error == "syntax":
            raise MalformedQuery(f"Requête SPARQL invalide : {_short(header['message'])}")
        if error == "too-large":
            raise ResultTooLarge(self.limits.max_bytes)
        failure = MemoiresError(f"L'évaluation de la requête a échoué : {header['message']}")
        failure.code = "echec-evaluation"
        raise failure

    def _on_snapshot(self, job: dict) -> dict:
        """The job with the snapshot of the store's current version for a worker to read."""
        return job if "store" in job else job | {"store": str(self.snapshots.current()[1])}

    def _here(self, job: dict) -> tuple[dict, bytes] | None:
        """Answer `DESCRIBE <iri>` in this process: under a millisecond, where a worker's
        round trip costs two. Only when the description is short (IN_PROCESS_TRIPLES): a
        resource with a long one goes to a worker, under its deadline."""
        if "default" in job or not sparql_text.point_describe(job["query"]):
            return None
        try:
            results = self.store.ox.query(
                job["query"], base_iri=job["base"], use_default_graph_as_union=True
            )
        except SyntaxError:
            return None  # a worker says what is wrong, as for any query
        triples = list(islice(results, IN_PROCESS_TRIPLES + 1))
        if len(triples) > IN_PROCESS_TRIPLES:
            return None
        name, fmt, prefixes = sparql_worker.graph_format(job["format"], PREFIXES)
        body = ox.serialize(triples, format=fmt, prefixes=prefixes)  # one call: no buffer
        if len(body) > job["max_bytes"]:
            return {"status": "error", "error": "too-large", "message": ""}, b""
        return {"status": "ok", "kind": "graph", "format": name, "length": len(body)}, body

    def _remote(self, job: dict, timeout: float) -> tuple[dict, bytes]:
        """A SPARQL server (setting STORE) evaluates the query itself (#7); its answer is
        written here in the format asked for, under the same size cap."""
        from .store_sparql import DEFAULT_GRAPH

        dataset = {}
        if job.get("default") is not None:
            dataset["default_graphs"] = [g or DEFAULT_GRAPH.value for g in job["default"]]
            dataset["named_graphs"] = list(job["named"])
        try:
            results = self.store.query(
                f"BASE <{job['base']}>\n{job['query']}", timeout=timeout, **dataset
            )
        except SyntaxError as error:
            return {"status": "error", "error": "syntax", "message": str(error)}, b""
        except TimeoutError:
            raise QueryTimeout(timeout) from None
        out = sparql_worker.CappedBuffer(job["max_bytes"])
        try:
            kind, name = sparql_worker.Worker.serialize(results, job["format"], PREFIXES, out)
        except sparql_worker.TooLarge:
            return {"status": "error", "error": "too-large", "message": ""}, b""
        body = out.getvalue()
        return {"status": "ok", "kind": kind, "format": name, "length": len(body)}, body

    # -- updates (off unless SPARQL_UPDATE) ---------------------------------------------
    def update(self, operation: Operation, base: str, agent: str) -> list:
        """Apply a SPARQL Update to the fiches it writes, through the validated write path
        (sparql_update.py): one transaction, one revision per fiche changed, by `agent`."""
        from . import sparql_update
        from .sparql import SparqlError

        text = operation.text
        try:
            sparql_text.check(text, base, self.limits.allowlist)
        except sparql_text.Refused as refused:
            raise ServiceRefused(str(refused), detail={"endpoint": refused.target}) from None
        if operation.has_dataset:
            if sparql_text.names_dataset(text):
                raise SparqlError(
                    "using-graph-uri / using-named-graph-uri et une clause USING ou WITH ne "
                    "peuvent pas être employés ensemble (SPARQL 1.1 Protocol §2.2.3)."
                )
            text = sparql_text.with_using(text, operation.default_graphs, operation.named_graphs)
        return sparql_update.run(self.store, text, base, agent=agent)

    def apply(self, update: str, base: str | None = None) -> None:
        """Write to the store in one SPARQL Update transaction, raising the write count,
        WITHOUT validation or history: for data that is not fiches (test fixtures such as
        the W3C test graphs). No request reaches it: the endpoint writes through update()."""
        from .history import META, META_GRAPH, WRITES, write_count

        if not self.store.writable:
            raise ReadOnly("Le store est ouvert en lecture seule : aucune écriture possible.")
        if not isinstance(self.store, EmbeddedStore):  # a SPARQL server (#7)
            from .writes import COUNT_WRITE

            text = f"BASE <{base}>\n{update}" if base else update
            try:
                self.store.update(f"{text} ;\n{COUNT_WRITE}")
            except MemoiresError as error:
                raise MalformedQuery(f"Mise à jour SPARQL refusée : {error.message}") from None
            return
        with self._update_lock:
            written = write_count(self.store.ox)
            try:
                self.store.ox.update(update, base_iri=base)
            except SyntaxError as error:
                raise MalformedQuery(f"Mise à jour SPARQL invalide : {error}") from None
            self.store.ox.update(
                f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {META} {WRITES} ?n }} }} ;"
                f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {META} {WRITES} {written + 1} }} }}"
            )

    def close(self) -> None:
        self.pool.close()
        self.snapshots.close()


def _short(message: str, limit: int = 300) -> str:
    """Oxigraph's syntax errors list every token it expected: keep the start of the list."""
    return message if len(message) <= limit else message[:limit].rstrip() + " …"


class Snapshots:
    """A read-only copy of the store per version, in a folder of this process's own."""

    _ids = count()

    def __init__(self, store: Store, parent: Path):
        self.store = store
        self.folder = parent / f"{os.getpid()}-{next(self._ids)}"
        self._current: tuple[str, Path] | None = None
        self._previous: Path | None = None
        self._made = count()
        self._lock = threading.Lock()
        _remove_orphans(parent)

    def current(self) -> tuple[str, Path]:
        """(version, folder) of a snapshot of the store as it is now."""
        if not isinstance(self.store, EmbeddedStore):
            return self.store.version, None  # a SPARQL server answers itself (Engine.run)
        version = self.store.version
        current = self._current
        if current is not None and current[0] == version:
            return current
        with self._lock:
            version = self.store.version
            if self._current is not None and self._current[0] == version:
                return self._current
            path = self.folder / str(next(self._made))
            self.folder.mkdir(parents=True, exist_ok=True)
            self.store.ox.backup(str(path))
            # The one before stays: a worker may still be reading it.
            if self._previous is not None:
                shutil.rmtree(self._previous, ignore_errors=True)
            self._previous = self._current[1] if self._current else None
            self._current = (version, path)
            return self._current

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _remove_orphans(parent: Path) -> None:
    """Remove the snapshots of processes that are gone (a crash, a kill -9)."""
    if not parent.is_dir():
        return
    for folder in parent.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
