"""Content negotiation: media types ↔ formats kept as data, one `negotiate()`.

Formats are chosen by a suffix (`.ttl`), `?format=`, or the Accept header with q-values
(RFC 9110 §12.5.1). HTML wins only when asked for explicitly (browsers) or by a wildcard
with nothing better.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from werkzeug.datastructures import MIMEAccept

from ..errors import MemoiresError


@dataclass(frozen=True)
class Format:
    name: str  # the ?format= value
    suffix: str  # the URL suffix, without the dot
    media_type: str
    oxigraph: ox.RdfFormat | None  # None for HTML


FORMATS = (
    Format("html", "html", "text/html", None),
    Format("turtle", "ttl", "text/turtle", ox.RdfFormat.TURTLE),
    Format("jsonld", "jsonld", "application/ld+json", ox.RdfFormat.JSON_LD),
    Format("ntriples", "nt", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    Format("rdfxml", "rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML),
)
RDF_FORMATS = tuple(f for f in FORMATS if f.oxigraph is not None)
BY_NAME = {f.name: f for f in FORMATS} | {f.suffix: f for f in FORMATS}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
# Accepted aliases seen in the wild.
BY_MEDIA_TYPE |= {
    "application/x-turtle": BY_NAME["ttl"],
    "text/n3": BY_NAME["ttl"],
    "application/json": BY_NAME["jsonld"],
    "text/plain": BY_NAME["nt"],
    "application/xhtml+xml": BY_NAME["html"],
}


class NotAcceptable(MemoiresError):
    status = 406
    code = "format-non-disponible"

    def __init__(self, asked: str, offered=FORMATS):
        types = ", ".join(f.media_type for f in offered)
        super().__init__(
            f"Aucun des formats demandés ({asked}) n'est disponible. Formats proposés : {types}.",
            detail={"available": [f.media_type for f in offered]},
        )


def negotiate(
    accept: MIMEAccept, *, explicit: str | None = None, offered=FORMATS, default: str = "turtle"
) -> Format:
    """Pick the format for a request: an explicit suffix or ?format= wins over Accept.

    A client that states no preference (no Accept, or only `*/*`, as curl does) gets
    `default`: data, since browsers always ask for text/html explicitly.
    """
    fallback = BY_NAME[default] if BY_NAME[default] in offered else offered[0]
    if explicit:
        fmt = BY_NAME.get(explicit.lower()) or BY_MEDIA_TYPE.get(explicit.lower())
        if fmt is None or fmt not in offered:
            raise NotAcceptable(explicit, offered)
        return fmt
    if not accept or not accept.values():
        return fallback
    best, best_q = None, 0.0
    for media_type, q in accept:
        if q <= 0:
            continue
        fmt = BY_MEDIA_TYPE.get(media_type.lower())
        if fmt is None or fmt not in offered:
            continue
        if q > best_q:
            best, best_q = fmt, q
    if best is not None:
        return best
    # Only wildcards (or unknown types): */* means "anything", our first offer.
    for media_type, q in accept:
        if q > 0 and media_type in ("*/*", "text/*"):
            return fallback if media_type == "*/*" else BY_NAME["html"]
        if q > 0 and media_type == "application/*":
            return next((f for f in offered if f.media_type.startswith("application/")), fallback)
    raise NotAcceptable(accept.to_header(), offered)
