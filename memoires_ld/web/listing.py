"""`/fiches`: the listing, with facets, search, sort and pages, in HTML and as Hydra RDF.

The URL grammar is in `query.py`, the filtering and counting in `facets.py`, the text
search in `search.py`; this module only wires them to HTTP and to the template.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, render_template, request
from markupsafe import Markup, escape
from rdflib import URIRef

from .. import facets, peers, search, vocabulary
from ..errors import NotFound
from ..facets import FACETS, Query, Result
from . import http, hydra
from .i18n import language
from .negotiation import RDF_FORMATS, negotiate
from .query import params, parse, toggled
from .texts import TEXT

bp = Blueprint("listing", __name__)

AUTHORS_SHOWN = 15
EXCERPT = 240


@bp.get("/fiches", defaults={"suffix": None})
@bp.get("/fiches.<suffix>")
def fiches(suffix: str | None):
    fmt = negotiate(request.accept_mimetypes, explicit=suffix or request.args.get("format"))
    g.format = fmt.name  # a bad filter is answered in the format asked for
    query = parse(request.args, request.query_string)
    index, text_index = indexes()
    matches = text_index.match(query.text) if query.text else None
    result = index.find(query, matches)
    if query.page > result.pages:
        raise NotFound(f"Il n'y a que {result.pages} page(s) de fiches pour ces filtres.")
    lang = language()
    tag = http.etag(index.version, fmt.name, lang, request.full_path)
    if http.not_modified(tag, None):
        response = Response(status=304)
    elif fmt.oxigraph is None:
        body = render_template("fiches.html", **page_context(query, result, lang))
        response = Response(body, mimetype="text/html")
        response.headers["Content-Language"] = lang
    else:
        response = Response(rdf(fmt, query, result), mimetype=fmt.media_type)
    response.vary.update(("Accept", "Accept-Language"))
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="alternate"; type="{f.media_type}"' for f, url in alternates(query)
    )
    http.validators(response, tag, None)
    return response


def rdf(fmt, query: Query, result: Result) -> bytes:
    """The page of the listing as a Hydra collection, in an RDF format."""
    iris = current_app.config["IRIS"]
    triples = hydra.collection(iris, query, result)
    if fmt.name == "jsonld":
        return hydra.json_ld(triples, iris)
    prefixes = None if fmt.oxigraph == ox.RdfFormat.N_TRIPLES else hydra.PREFIXES
    return ox.serialize(triples, format=fmt.oxigraph, prefixes=prefixes)


def indexes() -> tuple[facets.FacetIndex, search.TextIndex]:
    """The facet and text indexes of the store being served (built on first use)."""
    store, folder = current_app.extensions["store"], Path(current_app.config["INSTANCE_DIR"])
    index = facets.index_for(store, saved=lambda version: search.saved(folder, version))
    return index, search.index_for(store, index, folder)


def alternates(query: Query) -> list[tuple]:
    iris = current_app.config["IRIS"]
    return [(f, iris.fiches([*params(query), ("format", f.suffix)])) for f in RDF_FORMATS]


# -- the HTML page ---------------------------------------------------------------------


@dataclass
class Choice:
    key: str
    label: str
    count: int
    selected: bool
    href: str


@dataclass
class FacetView:
    name: str
    title: str
    choices: list[Choice]


def page_context(query: Query, result: Result, lang: str) -> dict:
    """Everything fiches.html shows, with every link already built."""
    index, text_index = indexes()
    ordinals = {f.iri: index.ordinal_of(f.iri) for f in result.items}
    snippets = text_index.snippets(query.text, ordinals.values()) if query.text else {}
    return {
        "lang": lang,
        "t": TEXT[lang],
        "query": query,
        "result": result,
        "facets": [facet_view(f.name, query, result, lang) for f in FACETS],
        "items": [item_view(f, snippets.get(ordinals[f.iri]), lang) for f in result.items],
        "active": active_filters(query, lang),
        "pages": page_links(query, result, lang),
        "sorts": [(s, TEXT[lang]["sort"][s]) for s in TEXT[lang]["sort"]],
        "hidden": [(k, v) for k, v in params(query, page=1) if k not in ("q", "tri")]
        + ([("lang", lang)] if lang != "fr" else []),
        "clear": href(Query(), lang),
        "action": current_app.config["IRIS"].fiches(),
        "previous": href(query, lang, page=query.page - 1) if query.page > 1 else None,
        "next": href(query, lang, page=query.page + 1) if query.page < result.pages else None,
        "statistics": current_app.config["IRIS"].statistics(
            _with_lang(params(query, page=1), lang)
        ),
        "alternates": alternates(query),
    }


def href(query: Query, lang: str, page: int | None = None) -> str:
    return current_app.config["IRIS"].fiches(_with_lang(params(query, page=page), lang))


def _with_lang(pairs: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    return [*pairs, ("lang", lang)] if lang != "fr" else pairs


def label(facet: str, key: str, lang: str) -> str:
    """What a person reads for a facet value."""
    if facet == "annee":
        return key
    if facet == "auteur":
        return facets.index_for(current_app.extensions["store"]).agent_names.get(key, key)
    if facet == "source":
        if key == facets.LOCAL:
            return TEXT[lang]["local_source"]
        store = current_app.extensions["store"]
        return peers.source_titles(store, current_app.config["IRIS"]).get(key, key)
    return _concept_label(facet, key, lang)


@cache
def _concept_label(facet: str, key: str, lang: str) -> str:
    return vocabulary.pref_label(URIRef(facets.notations(facet)[key]), lang)


def facet_view(name: str, query: Query, result: Result, lang: str) -> FacetView:
    counts = result.counts[name]
    selected = query.filters.get(name, frozenset())
    if name == "annee":
        keys = sorted(set(counts) | selected, reverse=True)
    elif name == "auteur":
        others = (k for k in counts if counts[k] and k not in selected)
        keys = sorted(selected) + sorted(others, key=lambda k: (-counts[k], k))[:AUTHORS_SHOWN]
    elif name == "source":  # shown once fiches were harvested: ours first, then each peer
        keys = sorted(set(counts) | selected, key=lambda k: (k != facets.LOCAL, k))
        keys = keys if set(keys) - {facets.LOCAL} else []
    else:
        keys = list(facets.notations(name))
    choices = [
        Choice(
            k,
            label(name, k, lang),
            counts.get(k, 0),
            k in selected,
            href(toggled(query, name, k), lang),
        )
        for k in keys
    ]
    return FacetView(name, TEXT[lang]["facet"][name], choices)


def item_view(fiche: facets.Fiche, snippet: str | None, lang: str) -> dict:
    shown = ("nature", "statut")
    return {
        "iri": fiche.iri,
        "title": fiche.title,
        "years": fiche.keys("annee"),
        "facets": {name: [label(name, k, lang) for k in fiche.keys(name)] for name in shown},
        "sources": [label("source", k, lang) for k in fiche.keys("source") if k != facets.LOCAL],
        "excerpt": _marked(snippet) if snippet else excerpt(fiche.iri),
    }


def excerpt(iri: str) -> str:
    """The beginning of a fiche's description, cut at a word."""
    store = current_app.extensions["store"]
    predicate = ox.NamedNode("http://purl.org/dc/terms/description")
    for quad in store.match(ox.NamedNode(iri), predicate, None):
        text = " ".join(quad.object.value.split())
        return text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + " …"
    return ""


def _marked(snippet: str) -> Markup:
    """A search extract, its words found in <mark>, everything else escaped."""
    text = str(escape(" ".join(snippet.split())))
    return Markup(text.replace("\x02", "<mark>").replace("\x03", "</mark>"))


def active_filters(query: Query, lang: str, to=None) -> list[tuple[str, str]]:
    """(label, link to the same page without it) of each selected value and of the search."""
    to, t = to or href, TEXT[lang]
    chips = [
        (
            f"{t['facet'][f.name]}{t['colon']}{label(f.name, k, lang)}",
            to(toggled(query, f.name, k), lang),
        )
        for f in FACETS
        for k in sorted(query.filters.get(f.name, ()))
    ]
    if query.text:
        without = replace(
            query, text="", sort="" if query.sort == "pertinence" else query.sort, page=1
        )
        chips.append((t["search"] + t["colon"] + t["quoted"].format(query.text), to(without, lang)))
    return chips


def page_links(query: Query, result: Result, lang: str) -> list[tuple[int | None, str]]:
    """(page number or None for a gap, link) around the current page."""
    shown = sorted({1, result.pages} | set(range(query.page - 2, query.page + 3)))
    links: list[tuple[int | None, str]] = []
    for n in (n for n in shown if 1 <= n <= result.pages):
        if links and links[-1][0] is not None and n - links[-1][0] > 1:
            links.append((None, ""))
        links.append((n, href(query, lang, page=n)))
    return links
