"""Full-text search: an SQLite FTS5 index of titles, descriptions and authors.

One index file per store in the instance folder (`search-<store>.sqlite`), shared by the
workers and kept across restarts. After a write it is brought up to date by whichever
process notices first: the fiches written since the version it records are indexed again
(a few rows); it is built anew (aside, then renamed into place) only when missing or
unreadable. Its row ids are stable (a row per fiche, ids never reused); each process maps
them to the ordinals of its facet index (`TextIndex`, one per facet index version).

Words are matched without regard to case or accents (`unicode61 remove_diacritics 2`;
"œuvre" and "oeuvre" are both tried), each word of the query as a prefix: "cooperation"
finds "Coopération", "numéri" finds "numérique". The query is never passed to FTS5 as
syntax: each word becomes a quoted string, so any input is harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import unicodedata
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from contextlib import closing
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from . import facets

SCHEMA = """CREATE TABLE docs(id INTEGER PRIMARY KEY AUTOINCREMENT, iri TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE fiches USING fts5(
  title, description, authors,
  tokenize = "unicode61 remove_diacritics 2"
);
CREATE TABLE state(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE listing(iri TEXT PRIMARY KEY, fiche TEXT NOT NULL);
CREATE TABLE agents(slug TEXT PRIMARY KEY, name TEXT NOT NULL);"""
MAX_WORDS = 12

DESCRIPTIONS_QUERY = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?fiche ?description WHERE {
  %s ?fiche a mld:Fiche ; dct:description ?description
}"""

_WORD = re.compile(r"\w+")


LIGATURES = {"oe": "œ", "ae": "æ"}


def _spellings(word: str) -> list[str]:
    """The word, and the word with ligatures (unicode61 folds accents, not "œ" into "oe")."""
    plain = word.casefold().replace("œ", "oe").replace("æ", "ae")
    tied = plain
    for letters, ligature in LIGATURES.items():
        tied = tied.replace(letters, ligature)
    return [plain] if tied == plain else [plain, tied]


def match_expression(text: str) -> str:
    """The FTS5 query for what a person typed: every word, as a quoted prefix, all required.

    Words are taken with `\\w+` and quoted, so that no FTS5 syntax passes through.
    """
    terms = []
    for word in _WORD.findall(text)[:MAX_WORDS]:
        spellings = [f'"{s}"*' for s in _spellings(word)]
        terms.append(spellings[0] if len(spellings) == 1 else f"({' OR '.join(spellings)})")
    return " AND ".join(terms)


def documents(store, index, iris: Iterable[str] | None = None) -> list[tuple[str, ...]]:
    """(IRI, title, description, authors) of each fiche of `index` (or of those of `iris`
    that it has)."""
    only = "" if iris is None else facets._values("fiche", iris)
    descriptions: dict[str, str] = {}
    for row in store.query(DESCRIPTIONS_QUERY % only):
        descriptions.setdefault(row["fiche"].value, row["description"].value)
    chosen = index.fiches if iris is None else [index.by_iri[i] for i in iris if i in index.by_iri]
    return [
        (
            fiche.iri,
            fiche.title,
            descriptions.get(fiche.iri, ""),
            ", ".join(index.agent_names.get(k, k) for k in fiche.keys("auteur")),
        )
        for fiche in chosen
    ]


SNIPPET_WORDS = 24


@lru_cache(maxsize=65536)  # the words of French descriptions repeat: a page folds thousands
def _folded(word: str) -> str:
    """A word as unicode61 with remove_diacritics compares it: case and accents dropped."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _snippet(description: str, prefixes: list[str]) -> str:
    """About `SNIPPET_WORDS` words of `description` around the first word starting with one
    of `prefixes`, each such word marked with \x02…\x03; "" if none is found."""
    words, starts = list(_WORD.finditer(description)), tuple(prefixes)

    def hit(m: re.Match) -> bool:
        return _folded(m.group()).startswith(starts)

    found = next((i for i, m in enumerate(words) if hit(m)), None)  # words after it: unread
    if found is None:
        return ""
    first = max(0, min(found - SNIPPET_WORDS // 4, len(words) - SNIPPET_WORDS))
    chosen = words[first : first + SNIPPET_WORDS]
    out, position = [], chosen[0].start()
    for m in chosen:
        out.append(description[position : m.start()])
        out.append(f"\x02{m.group()}\x03" if hit(m) else m.group())
        position = m.end()
    head = "…" if first > 0 else ""
    tail = "…" if first + SNIPPET_WORDS < len(words) else description[position:]
    return head + "".join(out) + tail


def _numbers(text: str | None) -> list[int]:
    return [int(n) for n in text.split()] if text else []


def build(path: Path, docs: Iterable[tuple[str, ...]], index) -> Path:
    """Write the index of `index`'s fiches to `path`, atomically (a reader never sees half
    an index)."""
    staging = path.with_name(f".{path.name}-{os.getpid()}-{threading.get_ident()}")
    staging.unlink(missing_ok=True)
    with closing(sqlite3.connect(staging)) as db, db:
        db.executescript(SCHEMA)
        rows = list(docs)
        db.executemany("INSERT INTO docs(id, iri) VALUES (?, ?)", _numbered(r[:1] for r in rows))
        db.executemany(
            "INSERT INTO fiches(rowid, title, description, authors) VALUES (?, ?, ?, ?)",
            _numbered(r[1:] for r in rows),
        )
        db.execute("INSERT INTO fiches(fiches) VALUES ('optimize')")
        _save(db, index, index.fiches)
        at = index.at.isoformat() if index.at is not None else ""
        _set_state(db, build=uuid.uuid4().hex, version=index.version, at=at)
        _set_state(db, at_count=str(index.at_count))
    os.replace(staging, path)
    return path


def _numbered(rows: Iterable[tuple]) -> Iterable[tuple]:
    return ((n, *row) for n, row in enumerate(rows, 1))


def _put(db: sqlite3.Connection, docs: Iterable[tuple[str, ...]]) -> None:
    """Add or replace the rows of `docs` (a fiche keeps its row id)."""
    for iri, *texts in docs:
        db.execute("INSERT OR IGNORE INTO docs(iri) VALUES (?)", (iri,))
        (rowid,) = db.execute("SELECT id FROM docs WHERE iri = ?", (iri,)).fetchone()
        db.execute("DELETE FROM fiches WHERE rowid = ?", (rowid,))
        db.execute(
            "INSERT INTO fiches(rowid, title, description, authors) VALUES (?, ?, ?, ?)",
            (rowid, *texts),
        )


def _save(db: sqlite3.Connection, index, fiches: Iterable) -> None:
    """Keep what the facet index holds of `fiches` (a restart reads it back: `saved`)."""
    rows, slugs = [], set()
    for f in fiches:
        rows.append((f.iri, json.dumps([f.tag, f.title, f.created, f.modified, f.values])))
        slugs.update(f.keys("auteur"))
    db.executemany("INSERT OR REPLACE INTO listing VALUES (?, ?)", rows)
    names = ((k, index.agent_names[k]) for k in slugs if k in index.agent_names)
    db.executemany("INSERT OR REPLACE INTO agents VALUES (?, ?)", names)


def saved(folder: Path, version: str) -> facets.FacetIndex | None:
    """The facet index kept in the store's file in `folder` (at the version it records),
    or None if there is none: a restart reads it in a second where the store takes a
    minute at 100k fiches."""
    try:
        with closing(sqlite3.connect(f"file:{_path(folder, version)}?mode=ro", uri=True)) as db:
            state = _state(db)
            pairs: dict[tuple[str, str], tuple[str, str]] = {}
            fiches = []
            for iri, text in db.execute("SELECT iri, fiche FROM listing"):
                tag, title, created, modified, values = json.loads(text)
                values = tuple(pairs.setdefault(tuple(v), tuple(v)) for v in values)
                fiches.append(facets.Fiche(iri, tag, title, created, modified, values))
            names = dict(db.execute("SELECT slug, name FROM agents"))
            at = datetime.fromisoformat(state["at"]) if state["at"] else None
            return facets.FacetIndex(state["version"], fiches, names, at, int(state["at_count"]))
    except (sqlite3.Error, KeyError, ValueError):
        return None


def _path(folder: Path, version: str) -> Path:
    """The file of the store whose version is `version` (whatever its write count)."""
    identity = facets.split_version(version)[0]
    return folder / f"search-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.sqlite"


def _drop(db: sqlite3.Connection, iris: Iterable[str]) -> None:
    db.executemany("DELETE FROM listing WHERE iri = ?", ((i,) for i in iris))
    for iri in iris:
        found = db.execute("SELECT id FROM docs WHERE iri = ?", (iri,)).fetchone()
        if found:
            db.execute("DELETE FROM fiches WHERE rowid = ?", found)
            db.execute("DELETE FROM docs WHERE id = ?", found)


def _set_state(db: sqlite3.Connection, **values: str) -> None:
    db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", values.items())


def _state(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT name, value FROM state"))


class Matches(array):
    """Ordinals found by a search (the facet index keeps their set on them: `bits`)."""


class TextFile:
    """This process's view of one index file: its build and the row id of each fiche."""

    def __init__(self, path: Path):
        self.path = path
        self.build = ""
        self.rowids: dict[str, int] = {}
        self.last = 0  # the highest row id read
        self.lock = threading.Lock()

    def follow(self, store, index) -> None:
        """Bring the file to `index`'s version (if behind), then read the new row ids."""
        try:
            with closing(sqlite3.connect(self.path, timeout=60)) as db:
                db.execute("BEGIN IMMEDIATE")
                state = _state(db)
                done = facets.split_version(state["version"])[1]
                if done < index.writes:
                    if index.at is None:
                        raise KeyError("no history to follow")
                    if state["version"] == index.previous:  # the usual case: one step
                        changed = set(index.changed)
                    else:
                        at = datetime.fromisoformat(state["at"])
                        since = facets.changed_since(store, at, int(state["at_count"]))
                        if since is None:
                            raise KeyError("not followed: a write other than a fiche's")
                        changed = since[0]
                    docs = documents(store, index, changed)
                    _drop(db, changed - {d[0] for d in docs})
                    _put(db, docs)
                    _save(db, index, [index.by_iri[d[0]] for d in docs])
                    _set_state(db, version=index.version, at=index.at.isoformat())
                    _set_state(db, at_count=str(index.at_count))
                elif "at_count" not in state and index.at is not None:
                    # a file written before the count was kept: `saved` could not read it
                    # back, so every restart rebuilt the index from the store (minutes)
                    _set_state(db, at_count=str(index.at_count))
                db.commit()
                self._read_rowids(db, state["build"])
        except (sqlite3.DatabaseError, KeyError, ValueError):
            self._rebuild(store, index)

    def _read_rowids(self, db: sqlite3.Connection, build: str) -> None:
        if build != self.build:
            self.build, self.rowids, self.last = build, {}, 0
        for rowid, iri in db.execute("SELECT id, iri FROM docs WHERE id > ?", (self.last,)):
            self.rowids[iri] = rowid
            self.last = max(self.last, rowid)

    def _rebuild(self, store, index) -> None:
        build(self.path, documents(store, index), index)
        with closing(sqlite3.connect(self.path)) as db:
            self._read_rowids(db, _state(db)["build"])


class TextIndex:
    """Search the file for one facet index: row ids become its ordinals; results of recent
    queries are kept (they page through)."""

    def __init__(self, file: TextFile, index, cache_size: int = 64):
        self.path = file.path
        self.file = file
        self.index = index
        self._ordinals: array | None = None
        #: expression → matches, as 4-byte ints (64 common words at 100k fiches: 25 MB)
        self._cache: OrderedDict[str, Sequence[int]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def ordinals(self) -> array:
        """Row id → ordinal (-1: not in this version); made on first search (≈0.1 s at
        100k fiches), not at every write."""
        if self._ordinals is None:
            with self._lock:
                if self._ordinals is None:
                    ordinal = self.index.ordinal
                    found = array("i", [-1]) * (self.file.last + 1)
                    for iri, rowid in list(self.file.rowids.items()):
                        n = ordinal.get(iri)
                        if n is not None and rowid < len(found):
                            found[rowid] = n
                    self._ordinals = found
        return self._ordinals

    def match(self, text: str) -> Sequence[int]:
        """Ordinals of the fiches having every word, best first.

        Best first is: the fiches whose title has every word, then the others, each group
        in title order. (bm25 would cost ≈15 µs per fiche found — 120 ms for a common word
        in 10k fiches — where reading the matches in rowid order costs ≈2 µs.)
        """
        expression = match_expression(text)
        if not expression:
            return []
        with self._lock:
            if expression in self._cache:
                self._cache.move_to_end(expression)
                return self._cache[expression]
        # One string of rowids rather than a row each: a third faster for common words.
        sql = "SELECT group_concat(rowid, ' ') FROM fiches WHERE fiches MATCH ?"
        with closing(self._connect()) as db:
            found_all = self._to_ordinals(db.execute(sql, (expression,)).fetchone()[0])
            in_title = set(
                self._to_ordinals(db.execute(sql, (f"title : ({expression})",)).fetchone()[0])
            )
        found_all.sort()
        found = Matches("i", [n for n in found_all if n in in_title])
        found.extend(n for n in found_all if n not in in_title)
        with self._lock:
            self._cache[expression] = found
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    def _to_ordinals(self, text: str | None) -> list[int]:
        size, ordinals = len(self.ordinals), self.ordinals
        found = (ordinals[r] if r < size else -1 for r in _numbers(text))
        return [n for n in found if n >= 0]

    def snippets(self, text: str, ordinals: Iterable[int]) -> dict[int, str]:
        """An extract of the description around the words found, marked with \x02…\x03.

        Made here from the rows' text: FTS5's snippet() needs a MATCH, which reads the
        whole list of fiches having a common word (0.4 s for a page at 100k fiches).
        """
        prefixes = [_folded(s) for w in _WORD.findall(text)[:MAX_WORDS] for s in _spellings(w)]
        fiches, known = self.index.fiches, self.file.rowids
        rowids = {known[fiches[n].iri]: n for n in ordinals if fiches[n].iri in known}
        if not prefixes or not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        with closing(self._connect()) as db:
            rows = db.execute(
                f"SELECT rowid, description FROM fiches WHERE rowid IN ({marks})", tuple(rowids)
            ).fetchall()
        found = {rowids[r]: _snippet(d, prefixes) for r, d in rows}
        return {n: s for n, s in found.items() if s}

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)


_lock = threading.Lock()
#: folder → the file of the store last asked for there
_files: dict[Path, TextFile] = {}
#: folder → the text index of the facet index last asked for there
_indexes: dict[Path, TextIndex] = {}


def index_for(store, index, folder: Path) -> TextIndex:
    """The text index of `index`'s fiches in `folder`: its file brought up to date (built
    if missing), its row ids mapped to `index`'s ordinals."""
    found = _indexes.get(folder)
    if found is not None and found.index is index:
        return found
    path = _path(folder, index.version)
    with _lock:
        file = _files.get(folder)
        if file is None or file.path != path:
            folder.mkdir(parents=True, exist_ok=True)
            file = _files[folder] = TextFile(path)
            for old in folder.glob("search-*.sqlite"):
                if old != path:
                    old.unlink(missing_ok=True)
    with file.lock:
        found = _indexes.get(folder)
        if found is not None and found.index is index:
            return found
        if not path.exists():
            file._rebuild(store, index)
        else:
            file.follow(store, index)
        found = _indexes[folder] = TextIndex(file, index)
    return found


def prepare(store, folder: Path) -> TextIndex:
    """Build the facet index and the text index of the store's version (before serving).

    Called before a server forks its workers, the facet index is inherited by them
    (it is cached per store version) and the text index file is already in `folder`.
    """
    index = facets.index_for(store, saved=lambda version: saved(folder, version))
    return index_for(store, index, folder)
