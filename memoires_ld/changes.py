"""The change feed: the creations, updates and retirements of fiches, in order (#6).

Read from the fiches' histories (history.py), oldest first, so that a consumer can resume
where it stopped: `since` keeps the changes written strictly after a moment, so that asking
again with the `published` time of the last change seen gives only the new ones. The changes of
one import share one time (ties ordered by IRI): a consumer reads to the last page before
resuming by time; a page URL stays valid meanwhile (new changes go after the old ones).

The changes are read with one query over the histories, kept per store version by the web
layer; titles are read for the page shown only (one query), not for every fiche.

Two forms of the same pages of `PAGE_SIZE` changes:

* ActivityStreams 2.0 (`application/activity+json`): an `OrderedCollection` whose
  `first`/`last` are `OrderedCollectionPage`s linked by `next`/`prev`. Each item is an
  activity (`Create`, `Update`, `Delete`) whose `id` is the revision, `object` the fiche
  (a `Tombstone` once retired), `actor` the account the history names, `published` the time.
* Atom (RFC 4287), paged as RFC 5005 §3 says (`first`, `next`, `previous`, `last` links).

Nothing here that the history does not already publish: accounts, never e-mails or addresses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, PROV, RDFS

from . import history
from .errors import BadRequest
from .history import Revision
from .iris import Iris
from .namespaces import CS
from .store import Store
from .writes import IMPORT_AGENT

PAGE_SIZE = 100
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
ACTIVITY = {"create": "Create", "replace": "Update", "retire": "Delete"}
ATOM = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadSince(BadRequest):
    code = "since-invalide"

    def __init__(self, text: str):
        super().__init__(
            f"« since » doit être une date ISO 8601, par exemple 2026-01-31 ou "
            f"2026-01-31T12:00:00+01:00 ; reçu : « {text[:80]} ».",
            detail={"since": text[:80]},
        )


class NoSuchPage(BadRequest):
    code = "page-invalide"

    def __init__(self, text: str, pages: int):
        super().__init__(
            f"Page « {text[:20]} » inconnue : le flux a {pages} page(s), numérotées à partir de 1.",
            detail={"page": text[:20], "pages": pages},
        )


@dataclass(frozen=True)
class Change:
    revision: Revision
    fiche: str  # the fiche's IRI
    title: str = ""

    @property
    def activity(self) -> str:
        return ACTIVITY[self.revision.kind]


@dataclass(frozen=True)
class Page:
    """One page of the feed: its number (from 1), how many there are, its changes."""

    number: int
    count: int
    total: int
    changes: list[Change]
    since: str | None


def parse_since(text: str | None) -> datetime | None:
    """The moment `?since=` names: a date or a date-time (UTC when it has no offset)."""
    if text is None or text == "":
        return None
    if len(text) > 40:
        raise BadSince(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise BadSince(text) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: The revisions of every history, lean: no counts of what each added or removed (the history
#: pages' query counts them: 10× slower at 10k fiches), no ORDER BY (Oxigraph sorts 10k rows
#: in seconds; Python in milliseconds).
_FEED = f"""SELECT ?rev ?at ?agent ?name ?kind ?reason WHERE {{ GRAPH ?history {{
  ?rev <{PROV.generatedAtTime}> ?at . FILTER_SINCE
  ?rev <{PROV.wasAttributedTo}> ?agent ; <{CS.creatorName}> ?name ;
       <{PROV.wasGeneratedBy}> ?activity .
  ?activity a ?kind . FILTER(?kind != <{PROV.Activity}>)
  OPTIONAL {{ ?rev <{CS.changeReason}> ?reason }}
}} }}"""
_KIND = {str(iri): kind for kind, iri in history.KINDS.items()}


def changes(store: Store, since: datetime | None = None) -> list[Change]:
    """Every change of every fiche strictly after `since`, oldest first (without titles):
    one query; the counts of a Revision are not read (0)."""
    iris = Iris(store.base)
    restriction = f"FILTER(?at > {history.date_time(since)})" if since is not None else ""
    found = []
    for row in store.query(_FEED.replace("FILTER_SINCE", restriction)):
        fiche, _, number = row["rev"].value.rpartition("/revision/")
        tag = iris.tag_of(fiche)
        if not tag or not number.isdigit():
            continue
        revision = Revision(
            tag=tag,
            number=int(number),
            iri=row["rev"].value,
            kind=_KIND.get(row["kind"].value, "replace"),  # as history.revisions
            agent=row["name"].value,
            agent_iri=row["agent"].value,
            at=datetime.fromisoformat(row["at"].value),
            reason=row["reason"].value if row["reason"] is not None else "",
        )
        found.append(Change(revision, fiche))
    return sorted(found, key=lambda c: (c.revision.at, c.revision.number, c.revision.iri))


def titled(store: Store, found: list[Change]) -> list[Change]:
    """The changes with the title of their fiche, or the label its tombstone keeps."""
    if not found:
        return found
    values = " ".join(str(ox.NamedNode(f)) for f in sorted({c.fiche for c in found}))
    sparql = f"""SELECT ?f ?t WHERE {{ VALUES ?f {{ {values} }}
      {{ ?f <{DCTERMS.title}> ?t }} UNION {{ ?f <{RDFS.label}> ?t }} }}"""
    titles: dict[str, str] = {}
    for row in store.query(sparql):
        titles.setdefault(row["f"].value, row["t"].value)
    return [Change(c.revision, c.fiche, titles.get(c.fiche, c.revision.tag)) for c in found]


def page(
    found: list[Change], number: str | int | None, since: str | None, store: Store | None = None
) -> Page:
    """Page `number` (1 when None) of the changes, titled from `store` when given;
    NoSuchPage past the last one."""
    count = max(1, -(-len(found) // PAGE_SIZE))
    try:
        n = 1 if number in (None, "") else int(number)
    except ValueError:
        raise NoSuchPage(str(number), count) from None
    if not 1 <= n <= count:
        raise NoSuchPage(str(number), count)
    chunk = found[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]
    if store is not None:
        chunk = titled(store, chunk)
    return Page(n, count, len(found), chunk, since)


def page_query(page_: Page, number: int | None = None) -> list[tuple[str, str]]:
    query = [("since", page_.since)] if page_.since else []
    return query + ([("page", str(number))] if number is not None else [])


# -- ActivityStreams 2.0 -------------------------------------------------------------------


def collection(iris: Iris, page_: Page) -> dict:
    """The OrderedCollection: its size and its first and last pages (no items)."""
    return {
        "@context": AS_CONTEXT,
        "id": str(iris.changes(page_query(page_))),
        "type": "OrderedCollection",
        "name": "Modifications des fiches",
        "totalItems": page_.total,
        "first": str(iris.changes(page_query(page_, 1))),
        "last": str(iris.changes(page_query(page_, page_.count))),
    }


def collection_page(iris: Iris, page_: Page) -> dict:
    """One OrderedCollectionPage: its activities and its neighbours."""
    document = {
        "@context": AS_CONTEXT,
        "id": str(iris.changes(page_query(page_, page_.number))),
        "type": "OrderedCollectionPage",
        "partOf": str(iris.changes(page_query(page_))),
        "startIndex": (page_.number - 1) * PAGE_SIZE,
        "totalItems": page_.total,
        "orderedItems": [activity(iris, change) for change in page_.changes],
    }
    if page_.number > 1:
        document["prev"] = str(iris.changes(page_query(page_, page_.number - 1)))
    if page_.number < page_.count:
        document["next"] = str(iris.changes(page_query(page_, page_.number + 1)))
    return document


def activity(iris: Iris, change: Change) -> dict:
    revision = change.revision
    retired = revision.kind == "retire"
    return {
        "id": revision.iri,
        "type": change.activity,
        "actor": {
            "id": revision.agent_iri,
            "type": "Application" if revision.agent == IMPORT_AGENT else "Person",
            "name": revision.agent,
        },
        "object": {
            "id": change.fiche,
            "type": "Tombstone" if retired else "Document",
            "name": change.title,
            "url": iris.page(change.fiche),
        },
        "published": revision.at.isoformat(),
        **({"summary": revision.reason} if revision.reason else {}),
    }


# -- Atom -----------------------------------------------------------------------------------

VERBS = {"create": "Création", "replace": "Modification", "retire": "Retrait"}


def atom(iris: Iris, page_: Page) -> bytes:
    """The page as an Atom feed document (RFC 4287), paged (RFC 5005 §3)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})
    _text(feed, "id", str(iris.changes(page_query(page_))))
    _text(feed, "title", "Mémoires d'action : modifications des fiches")
    latest = max((c.revision.at for c in page_.changes), default=None)
    _text(feed, "updated", (latest or EPOCH).isoformat())
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "memoires-ld")
    links = {
        "self": page_.number,
        "first": 1,
        "last": page_.count,
        **({"previous": page_.number - 1} if page_.number > 1 else {}),
        **({"next": page_.number + 1} if page_.number < page_.count else {}),
    }
    for rel, number in links.items():
        href = str(iris.changes_atom(page_query(page_, number)))
        ET.SubElement(feed, f"{{{ATOM}}}link", rel=rel, href=href, type="application/atom+xml")
    alternate = str(iris.changes(page_query(page_, page_.number)))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=alternate)
    for change in page_.changes:
        _entry(feed, iris, change)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(feed: ET.Element, iris: Iris, change: Change) -> None:
    revision = change.revision
    entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
    _text(entry, "id", revision.iri)
    _text(entry, "title", f"{VERBS[revision.kind]} : {change.title}")
    _text(entry, "updated", revision.at.isoformat())
    _text(entry, "published", revision.at.isoformat())
    _text(ET.SubElement(entry, f"{{{ATOM}}}author"), "name", revision.agent)
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=iris.page(change.fiche))
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="via", href=revision.iri)
    ET.SubElement(entry, f"{{{ATOM}}}category", term=change.activity)
    if revision.reason:
        _text(entry, "summary", revision.reason)


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = text
    return element
