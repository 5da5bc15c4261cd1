"""JSON-LD for website developers: our published context, one predictable object per resource.

The context ships with the package (`static/context/<version>.jsonld`) and is served at
`/context/<version>.jsonld` (stable) and `/context.jsonld` (latest). pyld is given a
document loader that serves those two URLs of this instance from the package and refuses
every other URL: nothing is ever fetched from the web, here or by the tests.

Shapes (README "JSON-LD"): a fiche is framed with the fiche at the root, its action, images,
attributions and authors embedded; an agent or an account is one object whose fiches are
listed by reverse properties (`authorOf`, `maintains`); a concept is one object; schemes, the
ontology and the shapes are a compacted `@graph`. Every output expands to exactly the graph
served in the other formats.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from pyld import jsonld

from ..iris import Iris

CONTEXTS = Path(__file__).parent / "static" / "context"
#: The version the documents are compacted with; its file never changes once published.
VERSION = "0.1.0"


class RemoteContextRefused(jsonld.JsonLdError):
    """A JSON-LD document named a context we do not ship: it is not fetched."""

    def __init__(self, url: str):
        super().__init__(
            f"memoires-ld never loads remote JSON-LD documents: {url}",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading remote context failed",
        )


@cache
def context_document(version: str = VERSION) -> dict:
    """The context file of a version (KeyError if we never shipped it)."""
    if version not in versions():
        raise KeyError(version)
    return json.loads((CONTEXTS / f"{version}.jsonld").read_text(encoding="utf-8"))


@cache
def versions() -> tuple[str, ...]:
    """The shipped context versions, oldest first."""
    found = [p.stem for p in CONTEXTS.glob("*.jsonld")]
    return tuple(sorted(found, key=lambda v: tuple(int(n) for n in v.split("."))))


def latest() -> str:
    return versions()[-1]


def _refuse(url: str, options: dict | None = None):
    raise RemoteContextRefused(url)


# pyld's default loader would use `requests`: refuse everything process-wide.
jsonld.set_document_loader(_refuse)


#: Contexts of other vocabularies we ship a copy of (README in their folder).
SHIPPED = {
    "https://www.w3.org/ns/activitystreams": CONTEXTS.parent / "activitystreams" / "context.json",
}


@cache
def _shipped(url: str) -> dict:
    return json.loads(SHIPPED[url].read_text(encoding="utf-8"))


def loader(iris: Iris):
    """A pyld document loader serving this instance's context URLs, and the copies of
    other contexts we ship (ActivityStreams: the change feed), from the package."""
    local = {str(iris.context(v)): v for v in versions()} | {str(iris.context()): latest()}

    def load(url: str, options: dict | None = None) -> dict:
        if url in SHIPPED:
            document = _shipped(url)
        elif url in local:
            document = context_document(local[url])
        else:
            raise RemoteContextRefused(url)
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
        }

    return load


def expanded(triples: list[ox.Triple]) -> list[dict]:
    """Expanded JSON-LD of triples (native numbers and booleans, lists as @list)."""
    nquads = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode()
    return jsonld.from_rdf(nquads, {"format": "application/n-quads", "useNativeTypes": True})


def document(triples: list[ox.Triple], root: str, kind: str, iris: Iris) -> dict:
    """The JSON-LD object of a resource, compacted with our context (see the module doc)."""
    options = {"documentLoader": loader(iris)}
    context = str(iris.context(VERSION))
    nodes = expanded(triples)
    if kind == "fiche":
        frame = {"@context": context, "@type": "Fiche"}
        result = jsonld.frame(nodes, frame, {**options, "omitGraph": True})
    elif kind in ("agent", "account", "concept"):
        result = jsonld.compact(_reversed(nodes, root), context, options)
    else:
        result = jsonld.compact(nodes, context, {**options, "graph": True})
    return _tidy(result, _term_order())


def _reversed(nodes: list[dict], root: str) -> list[dict]:
    """Nodes whose only statement points at `root` become `@reverse` entries of root."""
    main = next((n for n in nodes if n["@id"] == root), {"@id": root})
    others = []
    for node in nodes:
        keys = [k for k in node if k != "@id"]
        pointers = len(keys) == 1 and all(v.get("@id") == root for v in node[keys[0]])
        if node is main:
            continue
        if pointers and not keys[0].startswith("@"):
            reverse = main.setdefault("@reverse", {})
            reverse.setdefault(keys[0], []).append({"@id": node["@id"]})
        else:
            others.append(node)
    return [main, *others]


@cache
def _term_order() -> dict[str, int]:
    terms = [t for t in context_document(VERSION)["@context"] if not t.startswith("@")]
    order = ["@context", "@graph", "id", "type", *terms]
    return {name: i for i, name in enumerate(order)}


def _tidy(value, order: dict[str, int]):
    """Keys in a reading order (ours first, then prefixed ones); our own types first."""
    if isinstance(value, list):
        return [_tidy(v, order) for v in value]
    if not isinstance(value, dict):
        return value
    keys = sorted(value, key=lambda k: (order.get(k, len(order)), k))
    tidy = OrderedDict((k, _tidy(value[k], order)) for k in keys)
    if isinstance(tidy.get("type"), list):
        tidy["type"] = sorted(tidy["type"], key=lambda t: (":" in t, t))
    return dict(tidy)


def dumps(document_: dict) -> bytes:
    return json.dumps(document_, ensure_ascii=False, indent=2).encode() + b"\n"
