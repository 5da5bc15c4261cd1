"""Dumps of the whole open dataset, at stable URLs, written from the store.

Each dump is written once per store version into `INSTANCE_DIR/dumps/<version>/`, through
a temporary file renamed into place (a reader never sees half a file; a crash leaves only
a temporary file, removed next time). When every file of a version is written (the dumps
and the statistics, void.py), `finish` marks the folder complete and only then removes the
older versions: until then the previous complete version is still there to be served.
What goes into them is decided by `licences.open_distribution` (the body of a fiche that is
not openly licensed stays out).

`memoires.nt.gz` is a gzip file served as such (`application/gzip`, no Content-Encoding):
with `Content-Encoding: gzip` clients would unpack it on the fly and save N-Triples under a
`.gz` name. Its DCAT description says `dcat:mediaType` N-Triples, `dcat:compressFormat` gzip.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .licences import open_distribution
from .namespaces import PREFIXES
from .store import Store

FOLDER = "dumps"
#: In a version's folder once all its files are written.
COMPLETE = ".complete"


@dataclass(frozen=True)
class Dump:
    filename: str
    #: media type of the RDF inside (dcat:mediaType)
    media_type: str
    format: ox.RdfFormat
    #: keeps the named graphs (one per fiche, the vocabulary's, the default graph)
    graphs: bool = False
    #: gzip-compressed file (dcat:compressFormat)
    gzip: bool = False
    label_fr: str = ""
    label_en: str = ""

    @property
    def served_as(self) -> str:
        """The Content-Type of the file itself."""
        return "application/gzip" if self.gzip else self.media_type


DUMPS = (
    Dump(
        "memoires.nt.gz",
        "application/n-triples",
        ox.RdfFormat.N_TRIPLES,
        gzip=True,
        label_fr="N-Triples compressé (gzip)",
        label_en="N-Triples, gzip-compressed",
    ),
    Dump("memoires.ttl", "text/turtle", ox.RdfFormat.TURTLE, label_fr="Turtle", label_en="Turtle"),
    Dump(
        "memoires.jsonld",
        "application/ld+json",
        ox.RdfFormat.JSON_LD,
        label_fr="JSON-LD",
        label_en="JSON-LD",
    ),
    Dump(
        "memoires.trig",
        "application/trig",
        ox.RdfFormat.TRIG,
        graphs=True,
        label_fr="TriG, un graphe nommé par fiche",
        label_en="TriG, one named graph per fiche",
    ),
)
BY_FILENAME = {d.filename: d for d in DUMPS}


def folder(instance_dir: Path, store: Store) -> Path:
    return instance_dir / FOLDER / store.version


def ensure(store: Store, instance_dir: Path, dump: Dump) -> Path:
    """Return the path of `dump` for the store's version, writing it first if needed.

    One writer at a time (a lock file): other threads and processes wait for it and then
    find the file written.
    """
    target = folder(instance_dir, store) / dump.filename
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not target.exists():
                # Under the lock no one else writes here: a temporary file is a crash's.
                for tmp in target.parent.glob(".*.tmp"):
                    tmp.unlink()
                write(store, dump, target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def ensure_all(store: Store, instance_dir: Path) -> dict[str, Path]:
    return {d.filename: ensure(store, instance_dir, d) for d in DUMPS}


def finish(instance_dir: Path, version: str) -> None:
    """Mark `version`'s folder complete, then remove the other versions' folders.

    A reader holding a file of an older version open keeps reading it (POSIX unlink).
    """
    marker = instance_dir / FOLDER / version / COMPLETE
    if not marker.exists():
        marker.touch()
    _remove_stale(instance_dir, keep=version)


def latest_complete(instance_dir: Path) -> str | None:
    """The version whose folder was marked complete last (None before the first)."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(instance_dir / FOLDER):
            with contextlib.suppress(FileNotFoundError):  # being removed
                found.append((os.stat(Path(entry.path, COMPLETE)).st_mtime_ns, entry.name))
    return max(found)[1] if found else None


def write(store: Store, dump: Dump, target: Path) -> None:
    """Serialise the open distribution of the store as `dump` into `target`, atomically."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as raw:
            stream = (
                gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) if dump.gzip else raw
            )
            quads = open_distribution(store)
            data: Iterable = quads if dump.graphs else union(quads)
            ox.serialize(data, stream, format=dump.format, prefixes=_prefixes(dump))
            if dump.gzip:
                stream.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def union(quads: Iterable[ox.Quad]) -> Iterator[ox.Triple]:
    """The triples of all graphs, each once.

    Only a subject described in several graphs (an author of several fiches, a concept)
    can repeat a triple: triples about the graph's own resources (the fiche, `#action`, …)
    and blank nodes are unique, so only the others are remembered.
    """
    seen: set[ox.Triple] = set()
    for quad in quads:
        triple = quad.triple
        subject = quad.subject
        if isinstance(subject, ox.NamedNode) and not (
            isinstance(quad.graph_name, ox.NamedNode)
            and _within(subject.value, quad.graph_name.value)
        ):
            if triple in seen:
                continue
            seen.add(triple)
        yield triple


def _within(iri: str, document: str) -> bool:
    return iri == document or iri.startswith(document + "#")


def _prefixes(dump: Dump) -> dict[str, str] | None:
    # N-Triples has no prefixes; the others are shorter and easier to read with ours.
    return None if dump.format == ox.RdfFormat.N_TRIPLES else PREFIXES


def _remove_stale(instance_dir: Path, keep: str) -> None:
    for old in (instance_dir / FOLDER).iterdir():
        if old.is_dir() and old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
