"""A fiche as read from a source, before it becomes RDF.

Importers (the seed listing, a live YesWiki, later forms) produce `FicheRecord`s;
`mapping.map_fiche` turns one into a graph. Facet values are concept IRIs already
resolved against the vocabulary (an unknown value is an import error, never a guess).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rdflib import URIRef


@dataclass(frozen=True)
class Block:
    """One block of a description: its structure is kept, not flattened.

    kind is "paragraph", "heading", "list" (items in `items`) or "image".
    Text is plain text; URLs inside it are turned into links when rendered.
    """

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    #: for images: the file name as shown by YesWiki, its size label and its caption
    file: str = ""
    size: str = ""


@dataclass(frozen=True)
class Agent:
    """A person or an organisation named as an author."""

    slug: str
    name: str
    #: "person", "organization" or "agent" (when the source does not tell)
    kind: str = "agent"
    #: role as written in the source, e.g. "rédaction et intervention"
    role: str = ""


@dataclass(frozen=True)
class Link:
    """A link field of the form, e.g. the brief ("cahier des charges")."""

    kind: str  # "cahier-des-charges", "reponse", "documentation" or "autre"
    url: str
    label: str = ""  # the label of the field as shown by the source


@dataclass
class FicheRecord:
    tag: str
    title: str
    natures: list[URIRef] = field(default_factory=list)
    participants: list[URIRef] = field(default_factory=list)
    durations: list[URIRef] = field(default_factory=list)
    status: URIRef | None = None
    success: URIRef | None = None
    years: list[int] = field(default_factory=list)
    description: list[Block] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    authors_raw: str = ""
    authors: list[Agent] = field(default_factory=list)
    #: "Contributeur.trice.s ayant vécu cette action": people who took part in the action
    contributors: list[Agent] = field(default_factory=list)
    licence: URIRef | None = None
    #: YesWiki account that owns the page ("écrite par …"), if shown
    owner: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    #: the page of the fiche on its source site, if known
    source: str | None = None
    #: the form's image field (file name as shown by YesWiki), if any
    image: str | None = None
    #: data-quality notes for people, in French (e.g. an uncertain character repair)
    notes: list[str] = field(default_factory=list)
    #: where the fiche starts in its source (line number), for error messages
    line: int = 0
