"""The `data/` folder: the published fiches as Turtle, one self-contained file per fiche.

Layout::

    data/aliases.csv          hand-written: spelling variants of authors' names
    data/rdf/import.ttl       generated: provenance of the import that wrote the fiches
    data/rdf/fiches/TAG.ttl   generated: one fiche, its action, images and authors

IRIs under the instance's base are written relative (no @base), so the same files serve
any instance: they are resolved against the configured base URL when read. The generated
`data/rdf/` is replaced as a whole, never half-written.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from rdflib import Graph

from .iris import DEFAULT_BASE
from .namespaces import bind_prefixes

RDF_DIR = "rdf"
FICHES_DIR = "fiches"
IMPORT_FILE = "import.ttl"


def to_relative_turtle(graph: Graph, base: str = DEFAULT_BASE) -> str:
    """Serialise as Turtle with the IRIs under `base` written relative to it.

    rdflib 7.6 ignores `base=` when writing Turtle, and pyoxigraph relativises every IRI
    (`<//schema.org/>`), which would change other vocabularies' schemes on an https
    instance: so only full IRIs under `base` are rewritten.
    """
    text = graph.serialize(format="turtle")
    return re.sub(r"<" + re.escape(base) + r"([^<>\s\"]*)>", r"<\1>", text)


def write(data_dir: Path, fiches: Mapping[str, Graph], provenance: Graph) -> Path:
    """Replace `data_dir/rdf` with these fiches, all or nothing; return its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / RDF_DIR
    staging = Path(tempfile.mkdtemp(prefix=".rdf-", dir=data_dir))
    try:
        (staging / FICHES_DIR).mkdir()
        for tag, graph in sorted(fiches.items()):
            (staging / FICHES_DIR / f"{tag}.ttl").write_text(
                to_relative_turtle(graph), encoding="utf-8"
            )
        (staging / IMPORT_FILE).write_text(to_relative_turtle(provenance), encoding="utf-8")
        _fsync_tree(staging)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _swap(new: Path, target: Path) -> None:
    """Put `new` in place of `target`; the old copy is removed only once `new` is in place."""
    old = target.with_name(f".{target.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*.ttl"):
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def recover(data_dir: Path) -> None:
    """Finish a swap interrupted between its two renames (the old copy is still whole)."""
    target, old = data_dir / RDF_DIR, data_dir / f".{RDF_DIR}-old"
    if not target.exists() and old.exists():
        os.replace(old, target)


def turtle_files(data_dir: Path) -> list[Path]:
    """Every generated Turtle file of a data folder, sorted."""
    recover(data_dir)
    root = data_dir / RDF_DIR
    return sorted(root.rglob("*.ttl")) if root.exists() else []


def read_fiches(data_dir: Path, base: str) -> Iterator[tuple[str, Graph]]:
    """Yield (tag, graph) for each fiche file, IRIs resolved against `base`."""
    for path in sorted((data_dir / RDF_DIR / FICHES_DIR).glob("*.ttl")):
        yield path.stem, read_turtle(path, base)


def read_turtle(path: Path, base: str) -> Graph:
    return bind_prefixes(Graph()).parse(path, format="turtle", publicID=base)


def version(data_dir: Path) -> str:
    """A digest of the generated files: changes whenever the published data changes."""
    digest = hashlib.sha256()
    for path in turtle_files(data_dir):
        digest.update(str(path.relative_to(data_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
