"""The SPARQL 1.1 Protocol, as plain functions: read an operation from an HTTP request.

`read_operation(method, args, content_type, body)` follows the Protocol's three ways of
sending a query (§2.1: GET `?query=`, POST url-encoded, POST `application/sparql-query`) and
two of sending an update (§2.2, POST only), with the dataset given by `default-graph-uri` /
`named-graph-uri` (queries) or `using-graph-uri` / `using-named-graph-uri` (updates). It
returns None when the request carries no operation (the endpoint then describes itself,
SPARQL 1.1 Service Description §2).

Every refusal is a typed error with its HTTP status and a French message saying what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .errors import BadRequest, Forbidden, MemoiresError, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class ResultFormat:
    """A format of SELECT/ASK results (SPARQL 1.1 Query Results JSON, XML, CSV and TSV)."""

    name: str
    media_type: str
    # the W3C's IRI of the format (http://www.w3.org/ns/formats/), for the service description
    iri: str


RESULT_FORMATS = (
    ResultFormat(
        "json",
        "application/sparql-results+json",
        "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
    ),
    ResultFormat(
        "xml", "application/sparql-results+xml", "http://www.w3.org/ns/formats/SPARQL_Results_XML"
    ),
    ResultFormat("csv", "text/csv", "http://www.w3.org/ns/formats/SPARQL_Results_CSV"),
    ResultFormat(
        "tsv", "text/tab-separated-values", "http://www.w3.org/ns/formats/SPARQL_Results_TSV"
    ),
)
RESULTS_BY_NAME = {f.name: f for f in RESULT_FORMATS}
RESULTS_BY_MEDIA_TYPE = {f.media_type: f for f in RESULT_FORMATS} | {
    "application/json": RESULTS_BY_NAME["json"],
    "application/xml": RESULTS_BY_NAME["xml"],
    "text/xml": RESULTS_BY_NAME["xml"],
    "text/tsv": RESULTS_BY_NAME["tsv"],
}
#: The W3C's IRIs of the RDF formats of CONSTRUCT and DESCRIBE results, by our format name.
GRAPH_FORMAT_IRIS = {
    "turtle": "http://www.w3.org/ns/formats/Turtle",
    "jsonld": "http://www.w3.org/ns/formats/JSON-LD",
    "ntriples": "http://www.w3.org/ns/formats/N-Triples",
    "rdfxml": "http://www.w3.org/ns/formats/RDF_XML",
}


@dataclass(frozen=True)
class Operation:
    kind: str  # "query" or "update"
    text: str
    #: the protocol's dataset: default-graph-uri / using-graph-uri ...
    default_graphs: tuple[str, ...] = ()
    #: ... and named-graph-uri / using-named-graph-uri
    named_graphs: tuple[str, ...] = ()
    #: the values of `format` and `output`, which some clients send (SPARQLWrapper)
    formats: tuple[str, ...] = ()

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


# -- errors ------------------------------------------------------------------------------


class SparqlError(BadRequest):
    """A malformed request or operation (Protocol §2.1.4: 400)."""

    code = "requete-sparql-invalide"


class MalformedQuery(SparqlError):
    code = "syntaxe-sparql"


class ServiceRefused(SparqlError):
    """A SERVICE towards an endpoint outside the allowlist, or a LOAD."""

    code = "service-interdit"


class UpdateDisabled(Forbidden):
    code = "mise-a-jour-desactivee"

    def __init__(self):
        super().__init__(
            "Les modifications (SPARQL Update, écriture par le Graph Store Protocol) sont "
            "désactivées sur ce point d'accès : il ne sert qu'à interroger les données.",
            headers={"Allow": "GET, HEAD, POST, OPTIONS"},
        )


class MethodNotAllowed(MemoiresError):
    status = 405
    code = "methode-non-permise"

    def __init__(self, method: str, allowed: str):
        super().__init__(
            f"La méthode {method} n'est pas permise ici : utilisez {allowed}.",
            headers={"Allow": allowed},
        )


class QueryTimeout(MemoiresError):
    status = 503
    code = "delai-depasse"

    def __init__(self, seconds: float):
        super().__init__(
            f"La requête a dépassé le délai de {seconds:g} secondes et a été arrêtée. "
            "Ajoutez des critères, un LIMIT, ou téléchargez les fichiers de données.",
            detail={"timeout": seconds},
        )


class ResultTooLarge(MemoiresError):
    """Never a truncated answer that would read as complete: the client must page (LIMIT)."""

    status = 413
    code = "resultat-trop-volumineux"

    def __init__(self, max_bytes: int):
        super().__init__(
            f"Le résultat dépasse {max_bytes // 1_000_000 or 1} Mo, la taille maximale d'une "
            "réponse : ajoutez LIMIT et OFFSET pour le lire par pages, ou téléchargez les "
            "fichiers de données (/dataset).",
            detail={"max_bytes": max_bytes},
        )


class TooCostly(MemoiresError):
    status = 503
    code = "requete-trop-couteuse"


class Busy(MemoiresError):
    status = 503
    code = "serveur-occupe"

    def __init__(self, retry_after: int = 2):
        super().__init__(
            "Toutes les évaluations de requêtes sont occupées : réessayez dans un instant.",
            headers={"Retry-After": str(retry_after)},
        )


class RateLimited(MemoiresError):
    status = 429
    code = "trop-de-requetes"

    def __init__(self, retry_after: int):
        super().__init__(
            f"Trop de requêtes SPARQL depuis votre adresse : réessayez dans {retry_after} "
            "secondes.",
            headers={"Retry-After": str(retry_after)},
        )


# -- reading a request -------------------------------------------------------------------


def read_operation(
    method: str, args: Mapping, content_type: str | None, body: bytes
) -> Operation | None:
    """The query or update a request carries (None: none), or a 4xx error saying why not.

    `args` is the URL's query string as a multi-dict (`getlist`), `content_type` the raw
    Content-Type header of a POST.
    """
    params = {name: list(args.getlist(name)) for name in args}
    if method in ("GET", "HEAD"):
        if "update" in params:
            raise SparqlError(
                "Une mise à jour (update) ne peut être envoyée que par POST (SPARQL 1.1 "
                "Protocol §2.2)."
            )
    elif method == "POST":
        media_type, charset = _content_type(content_type)
        text = _utf8(body)
        if media_type == FORM:
            for name, value in _form(text):
                params.setdefault(name, []).append(value)
        elif media_type in (QUERY, UPDATE):
            if charset not in (None, "utf-8", "utf8"):
                raise SparqlError(f"Le corps doit être en UTF-8, pas en {charset}.")
            params.setdefault("query" if media_type == QUERY else "update", []).append(text)
        elif media_type is None:
            raise UnsupportedMediaType(
                f"Indiquez le type du corps (Content-Type) : {FORM}, {QUERY} ou {UPDATE}."
            )
        else:
            raise UnsupportedMediaType(
                f"Type de contenu {media_type} non accepté : envoyez {FORM}, {QUERY} ou {UPDATE}."
            )
    else:
        raise MethodNotAllowed(method, "GET, HEAD, POST, OPTIONS")
    return _operation(params)


def _operation(params: dict[str, list[str]]) -> Operation | None:
    queries, updates = params.get("query", []), params.get("update", [])
    if queries and updates:
        raise SparqlError("Envoyez une requête (query) ou une mise à jour (update), pas les deux.")
    if len(queries) > 1 or len(updates) > 1:
        name = "query" if queries else "update"
        raise SparqlError(f"Un seul paramètre « {name} » par requête.")
    if not queries and not updates:
        return None
    kind = "query" if queries else "update"
    text = (queries or updates)[0]
    if not text.strip():
        raise SparqlError("La requête est vide.")
    if kind == "query":
        default, named = params.get("default-graph-uri", []), params.get("named-graph-uri", [])
    else:
        default = params.get("using-graph-uri", [])
        named = params.get("using-named-graph-uri", [])
    for iri in (*default, *named):
        _check_iri(iri)
    formats = (*params.get("format", []), *params.get("output", []))
    return Operation(kind, text, tuple(default), tuple(named), formats)


def result_format(accept: list[tuple[str, float]], explicit: tuple[str, ...] = ()) -> ResultFormat:
    """The format of SELECT/ASK results: the first known `format`/`output` value, else the
    best of Accept (q-values), else JSON.

    `accept` is the parsed Accept header as (media type, q) pairs. A client whose Accept
    names no results format (one Accept for every query form: rdflib's SPARQLStore sends
    Turtle's for SELECT too) gets JSON rather than 406 (RFC 9110 §12.5.1 allows either).
    """
    for value in explicit:
        value = value.strip().lower()
        found = RESULTS_BY_NAME.get(value) or RESULTS_BY_MEDIA_TYPE.get(value)
        if found is not None:
            return found
    best, best_q = RESULTS_BY_NAME["json"], 0.0
    for media_type, q in accept:
        found = RESULTS_BY_MEDIA_TYPE.get(media_type.lower())
        if found is not None and q > best_q:
            best, best_q = found, q
    if best_q == 0 and any(m == "text/*" and q > 0 for m, q in accept):
        return RESULTS_BY_NAME["csv"]
    return best


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.strip():
        return None, None
    media_type, *parameters = (part.strip() for part in header.split(";"))
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media_type.lower(), charset


def _form(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise SparqlError(
            "Le formulaire contient des caractères qui ne sont pas de l'UTF-8."
        ) from None


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SparqlError(
            f"Le corps de la requête n'est pas de l'UTF-8 valide (octet {error.start})."
        ) from None


def _check_iri(iri: str) -> None:
    if not iri or any(c in iri for c in ' <>"{}|^`\\') or ":" not in iri:
        raise SparqlError(f"« {iri} » n'est pas une IRI absolue (default-graph-uri, …).")
