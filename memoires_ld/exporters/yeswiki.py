"""Write fiches as YesWiki Bazar entries, in the shape of `?api/forms/{id}/entries` (4.x).

The mapping file used to import is read backwards: each mapped field gets its value back
(list fields their keys, joined by "," as Bazar stores checkboxes; the description as wiki
text, `wikitext.from_blocks`), then the keys Bazar itself writes (`id_typeannonce`,
`id_fiche`, the dates in Paris time, `statut_fiche`) and the public `owner` and `url`.
Nothing private is written: no `user`, `html_data` or `createur`.

What an entry cannot carry is reported, one French line per fiche and kind: the editorial
notes (they describe our copy, not the entry), and values of record fields the mapping does
not map. A list value the mapping has no key for is an error: the export would lose it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rdflib import URIRef

from ..description import to_html
from ..errors import SourceError
from ..importers import wikitext
from ..importers.bazar_mapping import BazarMapping, FieldMapping, notation
from ..importers.values import PARIS
from ..record import FicheRecord

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def export_entries(
    records: Iterable[FicheRecord], mapping: BazarMapping, form_id: str | None = None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Bazar entries keyed by tag (sorted), and the French lines telling what was not exported."""
    entries: dict[str, dict[str, Any]] = {}
    losses: list[str] = []
    for record in sorted(records, key=lambda r: r.tag):
        entries[record.tag], lost = bazar_entry(record, mapping, form_id or mapping.form_id)
        losses += [f"fiche {record.tag} : {line}" for line in lost]
    return entries, losses


def to_json(entries: dict[str, dict[str, Any]]) -> str:
    return json.dumps(entries, ensure_ascii=False, indent=2) + "\n"


def bazar_entry(
    record: FicheRecord, mapping: BazarMapping, form_id: str
) -> tuple[dict[str, Any], list[str]]:
    """One record as a Bazar entry, and what it could not carry."""
    entry: dict[str, Any] = {}
    for spec in mapping.fields:
        if spec.to != "ignore":
            entry[spec.key] = _value(record, spec)
    entry.update(
        {
            "id_typeannonce": form_id,
            "id_fiche": record.tag,
            "date_creation_fiche": _date(record.created),
            "statut_fiche": "1",
            "date_maj_fiche": _date(record.modified),
            "owner": record.owner or "",
            "url": record.source or "",
        }
    )
    return entry, _losses(record, mapping)


def _value(record: FicheRecord, spec: FieldMapping) -> str:
    to = spec.to
    if spec.scheme is not None:
        value = getattr(record, to)
        concepts = [value] if isinstance(value, URIRef) else (value or [])
        return ",".join(_key(record, spec, c) for c in concepts)
    if to == "years":
        by_year = {int(year): key for key, year in spec.values.items()}
        return ",".join(by_year.get(year, str(year)) for year in record.years)
    if to == "title":
        return record.title
    if to == "description":
        if spec.syntax == "html":
            return to_html(record.description)
        return wikitext.from_blocks(record.description)
    if to == "link":
        return next((link.url for link in record.links if link.kind == spec.kind), "")
    if to == "authors":
        return record.authors_raw or ", ".join(a.name for a in record.authors)
    if to == "contributors":
        return ", ".join(agent.name for agent in record.contributors)
    if to == "image":
        return record.image or ""
    raise AssertionError(to)  # every target is handled above


def _key(record: FicheRecord, spec: FieldMapping, concept: URIRef) -> str:
    wanted = notation(concept)
    if spec.match == "key":
        for key, value in spec.values.items():
            if value == wanted:
                return key
    raise SourceError(
        f"champ « {spec.key} » : la valeur « {wanted} » n'a pas de clé de liste dans le "
        "fichier de correspondance (« values ») : l'export la perdrait",
        fiche=record.tag,
    )


def _date(value) -> str:
    return value.astimezone(PARIS).strftime(DATE_FORMAT) if value is not None else ""


def _losses(record: FicheRecord, mapping: BazarMapping) -> list[str]:
    """What the entry cannot carry, in French."""
    lost = []
    if record.notes:
        lost.append(
            f"{len(record.notes)} note(s) éditoriale(s) non exportée(s) : elles décrivent notre "
            "copie (caractères réparés), une fiche Bazar n'a pas de place pour elles"
        )
    filled = {
        "contributors": bool(record.contributors),
        "image": bool(record.image),
        "description": bool(record.description),
        "authors": bool(record.authors_raw or record.authors),
        "years": bool(record.years),
        **{to: bool(getattr(record, to)) for to in _FACETS},
    }
    for to, has_value in filled.items():
        if has_value and not mapping.targeting(to):
            lost.append(f"« {to} » non exporté : aucun champ du formulaire ne le reçoit")
    kinds = {spec.kind for spec in mapping.targeting("link")}
    text = wikitext.from_blocks(record.description)
    for link in record.links:
        if link.kind not in kinds and not (link.kind == "autre" and link.url in text):
            lost.append(f"lien « {link.kind} » {link.url} non exporté : aucun champ ne le reçoit")
    return lost


_FACETS = ("natures", "participants", "durations", "status", "success", "licence")
