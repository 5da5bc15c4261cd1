"""Fiches' representations made in advance, one per revision: answered without the store's graph.

A fiche's Turtle, JSON-LD and French and English pages depend only on its revision (the
state its ETag names), on the data/ the store was brought up to date with (vocabulary
labels, licences), on the base URL and on this package's code. Reading a fiche's ~60 quads
from the store on disk costs about a millisecond (each long IRI or literal is a RocksDB
lookup), and rendering its page two or three more; an answer made in advance costs a
lookup of the fiche's latest revision and the read of one row.

The publisher process (serve.py) makes them after each new version of the store, through
the app itself, so that they are byte for byte what the route would answer, into
`INSTANCE_DIR/rendered-<key>.sqlite` (zlib-compressed: ~9 KB a fiche for the four). `key`
changes with data/, the base URL and the code: the file of another key is never read, and
the publisher removes it. The fiche route (represent.respond) answers from the file when
its row holds the fiche's current revision. Everything else is rendered per request as
before: another revision than the row's (a write the publisher has not caught up with),
the other formats, a request with other arguments than `lang` (the page's language links
keep them), a store that is not embedded, or `RENDERED_PAGES` off.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import zlib
from datetime import datetime
from pathlib import Path

from .. import history
from ..iris import Iris
from ..store import POINTER, Store
from .documents import Document, revision_state
from .negotiation import BY_NAME, Format

#: What is made in advance, pass by pass: JSON-LD (30–100 ms a fiche with pyld) comes last.
PASSES = {
    "pages": (("turtle", ""), ("html", "fr"), ("html", "en")),
    "jsonld": (("jsonld", ""),),
}
VARIANTS = tuple(variant for variants in PASSES.values() for variant in variants)
#: Rows written per transaction while making them.
BATCH = 200
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rendered (tag TEXT, variant TEXT, state TEXT, modified TEXT, "
    "body BLOB, PRIMARY KEY (tag, variant)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS made (pass TEXT PRIMARY KEY, version TEXT)",
)


def path_for(settings: dict) -> Path | None:
    """The file of the embedded store's current data and of this code (None: not kept)."""
    if settings.get("STORE") or not settings.get("RENDERED_PAGES", True):
        return None
    instance = Path(settings["INSTANCE_DIR"]).resolve()
    try:
        pointer = (instance / POINTER).read_text()
    except FileNotFoundError:
        return None
    key = hashlib.sha256(f"{pointer}|{settings['BASE_URL']}|{CODE}".encode())
    return instance / f"rendered-{key.hexdigest()[:16]}.sqlite"


def _code() -> str:
    """Digest of what renders a representation: the package's modules, templates, texts."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if path.suffix in {".py", ".html", ".json", ".jsonld", ".ttl"}:
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


#: Taken once, as the package is imported (by serve's master, before its processes fork):
#: the web and the publisher agree on it even if the files change under a running server.
CODE = _code()


class Reader:
    """Rows of one file, read by the web's threads (one SQLite connection each)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._local = threading.local()

    def answer(self, store: Store, iris: Iris, tag: str, fmt: Format, lang: str):
        """`(document, body)` of the fiche's current revision in `fmt`, if made; else None."""
        if self.path is None or (fmt.name, lang) not in VARIANTS:
            return None
        last = history.head(store, tag)
        if last is None:
            return None
        row = self._row(tag, f"{fmt.name}:{lang}")
        if row is None or row[0] != revision_state(last):
            return None
        iri = str(iris.fiche(tag))
        modified = datetime.fromisoformat(row[1]) if row[1] else None
        return Document("fiche", iri, iri, [], row[0], modified), zlib.decompress(row[2])

    def _row(self, tag: str, variant: str) -> tuple | None:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if not self.path.exists():  # not made yet
                return None
            connection = self._local.connection = sqlite3.connect(self.path)
        try:
            return connection.execute(
                "SELECT state, modified, body FROM rendered WHERE tag = ? AND variant = ?",
                (tag, variant),
            ).fetchone()
        except sqlite3.Error:  # being created
            return None


def make(settings: dict, passes: tuple[str, ...] = tuple(PASSES)) -> int:
    """Make what is missing or outdated for the store's current version; how many made."""
    path = path_for(settings)
    if path is None:
        return 0
    from . import create_app

    app = create_app(settings | {"READ_ONLY": True, "RENDERED_PAGES": False})
    store, iris = app.extensions["store"], app.config["IRIS"]
    db = sqlite3.connect(path)
    try:
        # A row (~5 KB) in one page, and few pages above it: a lookup of a row not in the
        # page cache reads one page, not a leaf and its overflow chain (0.28 ms, not 1.0,
        # measured cold at 100k fiches). Set before anything is written, then kept.
        db.execute("PRAGMA page_size=65536")
        db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            db.execute(statement)
        tags = sorted({iris.tag_of(g.value) for g in store.published_graphs()} - {None})
        rows = db.execute("SELECT tag, variant, state FROM rendered")
        known = {(tag, variant): state for tag, variant, state in rows}
        made = 0
        for name in passes:  # each pass says when it is done (bench/)
            made += _render(app, store, db, tags, PASSES[name], known)
            db.execute("INSERT OR REPLACE INTO made VALUES (?, ?)", (name, store.version))
            db.commit()
        gone = {tag for tag, _ in known} - set(tags)  # retired fiches
        db.executemany("DELETE FROM rendered WHERE tag = ?", [(tag,) for tag in gone])
        db.commit()
    finally:
        db.close()
        store.close()
    for stale in path.parent.glob("rendered-*.sqlite*"):
        if not stale.name.startswith(path.name):
            stale.unlink(missing_ok=True)
    return made


def _render(app, store: Store, db, tags: list[str], variants: tuple, known: dict) -> int:
    """The fiches' missing `variants`, asked of the app as a client would ask them."""
    client, made, rows = app.test_client(), 0, []
    for tag in tags:
        last = history.head(store, tag)
        if last is None:
            continue
        state = revision_state(last)
        for name, lang in variants:
            variant = f"{name}:{lang}"
            if known.get((tag, variant)) == state:
                continue
            headers = {"Accept": BY_NAME[name].media_type, "Accept-Language": lang or "fr"}
            response = client.get(f"/fiche/{tag}", headers=headers)
            if response.status_code != 200 or not response.get_etag()[0].startswith(state):
                continue  # retired meanwhile, or another revision: the next look makes it
            modified = response.last_modified.isoformat() if response.last_modified else ""
            rows.append((tag, variant, state, modified, zlib.compress(response.data, 6)))
        if len(rows) >= BATCH:
            made += _write(db, rows)
    return made + _write(db, rows)


def _write(db: sqlite3.Connection, rows: list) -> int:
    db.executemany("INSERT OR REPLACE INTO rendered VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()
    count = len(rows)
    rows.clear()
    return count
