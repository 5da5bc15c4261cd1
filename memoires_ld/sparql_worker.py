"""A process that evaluates SPARQL queries for the web app (see sparql_engine.py).

Runs as its own program (`python sparql_worker.py`): it imports only the standard library and
pyoxigraph, starts in a tenth of a second, and can be killed at any moment — that is how a
query that runs past its deadline is stopped (pyoxigraph cannot cancel a query).

It reads one job per line on stdin (JSON), evaluates it on a read-only copy of the store
and answers on stdout: a JSON header line, then `length` bytes of serialised results. The
serialisation stops as soon as it passes `max_bytes` (the answer is then an error, never a
truncated result). It runs at a lower CPU priority than the web server (`nice`) and with a
memory ceiling, so that a costly query slows down neither the pages nor the machine.
"""

from __future__ import annotations

import json
import os
import resource
import sys

import pyoxigraph as ox

RESULTS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
#: Below the web server's priority: pages first, queries with what is left of the CPU.
NICE = 10
GRAPHS = {
    "turtle": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


class TooLarge(Exception):
    pass


class CappedBuffer:
    """A binary writer that refuses to grow past `cap` bytes."""

    def __init__(self, cap: int):
        self.cap, self.chunks, self.size = cap, [], 0

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.cap:
            raise TooLarge
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


class Worker:
    def __init__(self, prefixes: dict[str, str]):
        #: prefixes of Turtle, RDF/XML and JSON-LD answers (given once, at start)
        self.prefixes = prefixes
        self.path: str | None = None
        self.store: ox.Store | None = None

    def open(self, path: str) -> ox.Store:
        if path != self.path:
            self.store = None  # closes the previous snapshot
            self.store = ox.Store.read_only(path)
            self.path = path
        return self.store

    def run(self, job: dict) -> tuple[dict, bytes]:
        store = self.open(job["store"])
        options = {"base_iri": job["base"]}
        if job.get("default") is not None:
            options["default_graph"] = [_graph(g) for g in job["default"]]
            options["named_graphs"] = [ox.NamedNode(g) for g in job["named"]]
        elif job.get("union"):
            options["use_default_graph_as_union"] = True
        try:
            results = store.query(job["query"], **options)
        except SyntaxError as error:
            return {"status": "error", "error": "syntax", "message": str(error)}, b""
        out = CappedBuffer(job["max_bytes"])
        try:
            kind, name = self.serialize(results, job["format"], self.prefixes, out)
        except TooLarge:
            return {"status": "error", "error": "too-large", "message": ""}, b""
        except OSError as error:  # a Python exception raised inside a pyoxigraph write
            if out.size > out.cap:
                return {"status": "error", "error": "too-large", "message": ""}, b""
            return {"status": "error", "error": "failed", "message": str(error)}, b""
        except (ValueError, TypeError) as error:
            return {"status": "error", "error": "failed", "message": str(error)}, b""
        body = out.getvalue()
        return {"status": "ok", "kind": kind, "format": name, "length": len(body)}, body

    @staticmethod
    def serialize(results, name: str, prefixes: dict, out: CappedBuffer) -> tuple[str, str]:
        """Write the results in format `name` (or the default of their kind); return the
        kind of results and the format written."""
        if isinstance(results, ox.QueryTriples):
            name, fmt, keep = graph_format(name, prefixes)
            ox.serialize(results, out, format=fmt, prefixes=keep)
            return "graph", name
        kind = "boolean" if isinstance(results, ox.QueryBoolean) else "solutions"
        name = name if name in RESULTS else "json"
        results.serialize(out, format=RESULTS[name])
        return kind, name


def graph_format(name: str, prefixes: dict) -> tuple[str, ox.RdfFormat, dict | None]:
    """The RDF format written for `name` (Turtle by default), and the prefixes it takes."""
    name = name if name in GRAPHS else "turtle"
    return name, GRAPHS[name], None if name == "ntriples" else prefixes


def _graph(name: str):
    return ox.DefaultGraph() if name == "" else ox.NamedNode(name)


def main() -> None:
    memory = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    prefixes = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.nice(NICE)
    worker = Worker(prefixes)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    for line in stdin:
        try:
            header, body = worker.run(json.loads(line))
        except MemoryError:
            header, body = {"status": "error", "error": "memory", "message": ""}, b""
        except Exception as error:  # answer, and stay alive for the next job
            header = {"status": "error", "error": "failed", "message": repr(error)}
            body = b""
        stdout.write(json.dumps(header).encode() + b"\n" + body)
        stdout.flush()


if __name__ == "__main__":
    main()
