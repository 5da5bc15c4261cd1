"""Resources: one canonical URL per resource, every format by Accept, suffix or ?format=.

    /fiche/<tag>                  a fiche and its action (`#action`): its named graph
    /agent/<slug>                 an author, and the fiches it wrote
    /account/<name>               a wiki account ("écrite par"), and the pages it created
    /import/<key>                 an import run (provenance of the fiches it wrote)
    /vocab, /vocab/<scheme>       the concept schemes (https://w3id.org/memoires-ld/vocab/…)
    /vocab/<scheme>/<notation>    a concept, and the fiches that have it
    /ns                           the ontology https://w3id.org/memoires-ld/ns and its terms
    /ns/<version>                 its version IRI (the version served only)
    /shapes                       the SHACL shapes https://w3id.org/memoires-ld/shapes
    /context.jsonld               the JSON-LD context (latest); /context/<version>.jsonld

Each of the first seven also answers `<url>.html|.ttl|.jsonld|.nt|.rdf` and `?format=`.
Slash IRIs are answered directly with 200 and a Content-Location (no 303): README "IRIs".
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, render_template, request

from ..errors import NotFound
from . import documents, http, i18n, jsonld, listing, queries, schemaorg, vocab_pages
from .negotiation import BY_NAME, negotiate
from .pages import account_page, agent_page, describe_page, fiche_page
from .represent import respond, split_suffix

bp = Blueprint("resources", __name__)


def _store():
    return current_app.extensions["store"]


def _iris():
    return current_app.config["IRIS"]


def _cached(key: tuple, build):
    """A loader of the document, through the cache of the current store version."""
    return lambda: documents.cached(_store(), key, build)


def _page(build, embed):
    """A page callback: the view model of the document, and its schema.org description."""

    def page(doc, lang):
        model = build(doc, _store(), _iris(), lang)
        return {"page": model, "schema_org": schemaorg.script(embed(doc, model, lang))}

    return page


def _work(doc, model, lang):
    return schemaorg.work(doc.iri, doc.url, model)


@bp.get("/fiche/<name>")
def fiche(name: str):
    tag, suffix = split_suffix(name)
    return respond(
        _cached(("fiche", tag), lambda: documents.fiche(_store(), _iris(), tag)),
        suffix,
        "fiche.html",
        _page(fiche_page, lambda doc, model, lang: schemaorg.fiche(doc.iri, model, lang)),
        describedby=str(_iris().shapes()),
        ready=lambda fmt, lang: current_app.extensions["rendered"].answer(
            _store(), _iris(), tag, fmt, lang
        ),
    )


@bp.get("/agent/<name>")
def agent(name: str):
    slug, suffix = split_suffix(name)
    return respond(
        _cached(("agent", slug), lambda: documents.agent(_store(), _iris(), slug)),
        suffix,
        "agent.html",
        _page(agent_page, lambda doc, model, lang: schemaorg.agent(doc.iri, model)),
    )


@bp.get("/account/<name>")
def account(name: str):
    account_name, suffix = split_suffix(name)
    return respond(
        _cached(
            ("account", account_name),
            lambda: documents.account(_store(), _iris(), account_name),
        ),
        suffix,
        "account.html",
        _page(account_page, lambda doc, model, lang: schemaorg.account(doc.iri, model)),
    )


@bp.get("/import/<name>")
def import_run(name: str):
    key, suffix = split_suffix(name)
    return respond(
        lambda: documents.import_run(_store(), _iris(), key),
        suffix,
        "describe.html",
        _page(describe_page, lambda doc, model, lang: schemaorg.thing(doc.iri, model)),
    )


@bp.get("/vocab", defaults={"suffix": None})
@bp.get("/vocab.<suffix>")
def vocabulary(suffix: str | None):
    def embed(doc, model, lang):
        title = i18n.message(lang, "vocab.title")
        return schemaorg.term_set(doc.iri, doc.url, title, model["schemes"])

    return respond(
        _cached(("vocabulary",), lambda: documents.vocabulary(_store(), _iris())),
        suffix,
        "vocabulary.html",
        _page(vocab_pages.vocabulary_page, embed),
    )


@bp.get("/vocab/<name>")
def scheme(name: str):
    scheme_name, suffix = split_suffix(name)

    def embed(doc, model, lang):
        return schemaorg.term_set(doc.iri, doc.url, model["title"], model["concepts"])

    return respond(
        _cached(("scheme", scheme_name), lambda: documents.scheme(_store(), _iris(), scheme_name)),
        suffix,
        "scheme.html",
        _page(vocab_pages.scheme_page, embed),
    )


@bp.get("/vocab/<scheme_name>/<name>")
def concept(scheme_name: str, name: str):
    notation, suffix = split_suffix(name)
    return respond(
        _cached(
            ("concept", scheme_name, notation),
            lambda: documents.concept(_store(), _iris(), scheme_name, notation),
        ),
        suffix,
        "concept.html",
        _page(
            vocab_pages.concept_page,
            lambda doc, model, lang: schemaorg.concept(doc.iri, doc.url, model),
        ),
    )


@bp.get("/ns", defaults={"suffix": None, "name": None})
@bp.get("/ns.<suffix>", defaults={"name": None})
@bp.get("/ns/<name>", defaults={"suffix": None})
def ontology(suffix: str | None, name: str | None):
    version = None
    if name is not None:  # the version IRI, ns/0.1.0, of the version this instance serves
        version, suffix = split_suffix(name)
    return respond(
        _cached(("ontology", version), lambda: documents.ontology(_store(), _iris(), version)),
        suffix,
        "ontology.html",
        _page(vocab_pages.ontology_page, _work),
        describedby=str(_iris().shapes()),
    )


@bp.get("/shapes", defaults={"suffix": None})
@bp.get("/shapes.<suffix>")
def shapes(suffix: str | None):
    return respond(
        lambda: documents.shapes(_iris()),
        suffix,
        "shapes.html",
        _page(
            vocab_pages.shapes_page,
            lambda doc, model, lang: schemaorg.work(doc.iri, doc.url, model),
        ),
    )


@bp.get("/context.jsonld", defaults={"name": None})
@bp.get("/context/<name>")
def context(name: str | None):
    """The JSON-LD context: versions never change (cached a year), the latest may."""
    if name is None:
        version = jsonld.latest()
    else:
        version, _, suffix = name.rpartition(".")
        if suffix != "jsonld" or version not in jsonld.versions():
            shipped = ", ".join(f"{v}.jsonld" for v in jsonld.versions())
            raise NotFound(f"Pas de contexte JSON-LD « {name[:60]} ». Versions : {shipped}.")
    body = (jsonld.CONTEXTS / f"{version}.jsonld").read_bytes()
    tag = http.etag(hashlib.sha256(body).hexdigest()[:16], "context")
    response = Response(status=304) if http.not_modified(tag, None) else Response(body)
    response.mimetype = "application/ld+json"
    response.headers["Content-Location"] = str(_iris().context(version))
    http.validators(response, tag, None)
    if name is not None:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/")
def home():
    """The home page (HTML only); the dataset's description is its data twin."""
    fmt = negotiate(request.accept_mimetypes, offered=(BY_NAME["html"],))
    store, iris, lang = _store(), _iris(), i18n.language()
    tag = http.etag(hashlib.sha256(store.version.encode()).hexdigest()[:16], fmt.name, lang)
    if http.not_modified(tag, None):
        response = Response(status=304)
    else:
        description = i18n.message(lang, "home.intro")
        site = schemaorg.website(str(iris.home()), i18n.message(lang, "site"), description, lang)
        index, _ = listing.indexes()  # made by the worker as it starts (serve.py)
        body = render_template(
            "home.html",
            totals=queries.totals(store, index),
            latest=queries.latest(index),
            schema_org=schemaorg.script(site),
        )
        response = Response(body, mimetype="text/html")
    response.vary.update(("Accept", "Accept-Language"))
    response.headers["Content-Language"] = lang
    response.headers["Link"] = f'<{iris.dataset()}>; rel="describedby"; type="text/turtle"'
    http.validators(response, tag, None)
    return response
