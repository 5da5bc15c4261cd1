"""Read a mapping file: which field of a YesWiki Bazar form fills which field of a fiche.

The file is TOML (`mappings/osons-memoires-action.toml` is the example, README "YesWiki"):
a `[form]` table (`id`, `label`) and one `[fields.<key>]` table per Bazar field, `<key>`
being the field's key in the entry JSON. `to` names the `FicheRecord` field; list fields
map each list key to the `skos:notation` of a concept of our schemes (`values`), or let our
vocabulary read the list's labels (`match = "label"`). Every mistake is a `SourceError`
naming the file and the field, raised before anything is fetched.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NoReturn

from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from .. import vocabulary
from ..errors import SourceError
from ..resources import folder

DEFAULT_NAME = "osons-memoires-action.toml"
FORMAT = 1

#: `to` of a list field → our concept scheme
SCHEMES = {
    "natures": "nature",
    "participants": "participants",
    "durations": "duree",
    "status": "statut",
    "success": "reussite",
    "licence": "licence",
}
SINGLE_VALUED = frozenset({"status", "success", "licence"})
TEXT_TARGETS = frozenset({"title", "description", "authors", "contributors", "image"})
TARGETS = frozenset({*SCHEMES, *TEXT_TARGETS, "years", "link", "ignore"})
#: targets a form may fill once only
ONCE = frozenset({*TEXT_TARGETS, *SINGLE_VALUED})
LINK_KINDS = ("cahier-des-charges", "reponse", "documentation", "autre")
SYNTAXES = ("wiki", "html", "text")


@dataclass(frozen=True)
class FieldMapping:
    """What one Bazar field becomes."""

    key: str
    to: str
    #: list key → notation (list fields) or year (years)
    values: Mapping[str, str | int] = field(default_factory=dict)
    #: "key": `values` decides; "label": the list's label is looked up in our vocabulary
    match: str = "key"
    kind: str = ""
    syntax: str = ""

    @property
    def scheme(self) -> str | None:
        return SCHEMES.get(self.to)


@dataclass(frozen=True)
class BazarMapping:
    source: str
    form_id: str
    form_label: str
    fields: tuple[FieldMapping, ...]

    def get(self, key: str) -> FieldMapping | None:
        return next((f for f in self.fields if f.key == key), None)

    def targeting(self, to: str) -> list[FieldMapping]:
        return [f for f in self.fields if f.to == to]


def load_mapping(path: Path | str | None = None) -> BazarMapping:
    """Read a mapping file (by default the Osons form's, `mappings/osons-memoires-action.toml`)."""
    path = Path(path) if path is not None else folder("mappings") / DEFAULT_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"fichier de correspondance introuvable : {path}") from None
    return parse_mapping(text, source=path.name)


def parse_mapping(text: str, source: str = "correspondance.toml") -> BazarMapping:
    """Read the text of a mapping file and check it against our vocabulary."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SourceError(f"{source} : TOML illisible ({error})") from None
    if data.get("format") != FORMAT:
        raise SourceError(f"{source} : « format = {FORMAT} » attendu en tête du fichier")
    form = data.get("form", {})
    fields = data.get("fields")
    if not isinstance(form, dict) or not isinstance(fields, dict) or not fields:
        raise SourceError(f"{source} : tables [form] et [fields.<clé>] attendues")
    mapping = BazarMapping(
        source=source,
        form_id=str(form.get("id", "")),
        form_label=str(form.get("label", "")),
        fields=tuple(_field(source, key, spec) for key, spec in fields.items()),
    )
    _check_whole(mapping)
    return mapping


def _field(source: str, key: str, spec: object) -> FieldMapping:
    def fail(message: str) -> NoReturn:
        raise SourceError(f"{source} : champ « {key} » : {message}")

    if not isinstance(spec, dict):
        fail("une table est attendue")
    unknown = set(spec) - {"to", "values", "match", "kind", "syntax"}
    if unknown:
        fail(f"option(s) inconnue(s) {', '.join(sorted(unknown))}")
    to = spec.get("to")
    if to not in TARGETS:
        fail(f"« to = {to!r} » : une valeur parmi {', '.join(sorted(TARGETS))} est attendue")
    values = spec.get("values", {})
    match = spec.get("match", "key")
    if not isinstance(values, dict) or match not in ("key", "label"):
        fail("« values » doit être une table et « match » valoir « key » ou « label »")
    if (values or match != "key") and to not in (*SCHEMES, "years"):
        fail(f"« values » et « match » ne valent que pour une liste, pas pour « {to} »")
    if to in SCHEMES and match == "key" and not values:
        fail('« values » (clé de liste → notation) ou « match = "label" » attendu')
    for list_key, target in values.items():
        _check_value(fail, to, list_key, target)
    kind = spec.get("kind", "")
    if (to == "link") != bool(kind) or (kind and kind not in LINK_KINDS):
        fail(f"un lien demande « kind » parmi {', '.join(LINK_KINDS)} (et seul un lien)")
    syntax = spec.get("syntax", "")
    if syntax and (to != "description" or syntax not in SYNTAXES):
        fail(f"« syntax » ne vaut que pour la description, parmi {', '.join(SYNTAXES)}")
    return FieldMapping(key, to, dict(values), match, kind, syntax)


def _check_value(fail: Callable[[str], NoReturn], to: str, list_key: str, target: object) -> None:
    if to == "years":
        if not (isinstance(target, int) and 1000 <= target <= 9999):
            fail(f"clé « {list_key} » : une année (nombre à quatre chiffres) est attendue")
        return
    scheme = SCHEMES[to]
    if not isinstance(target, str) or concept(scheme, target) is None:
        known = ", ".join(notations(scheme))
        fail(f"clé « {list_key} » : notation inconnue « {target} » (connues : {known})")


def _check_whole(mapping: BazarMapping) -> None:
    titles = mapping.targeting("title")
    if len(titles) != 1:
        raise SourceError(f'{mapping.source} : un et un seul champ « to = "title" » attendu')
    for to in ONCE:
        if len(mapping.targeting(to)) > 1:
            keys = ", ".join(f.key for f in mapping.targeting(to))
            raise SourceError(f"{mapping.source} : plusieurs champs remplissent « {to} » ({keys})")
    kinds = [f.kind for f in mapping.targeting("link") if f.kind != "autre"]
    if len(kinds) != len(set(kinds)):
        raise SourceError(f"{mapping.source} : deux champs pour le même type de lien")


@cache
def _by_notation(scheme: str) -> dict[str, URIRef]:
    g = vocabulary.graph()
    table: dict[str, URIRef] = {}
    for found in vocabulary.concepts(scheme):
        notation = g.value(found, SKOS.notation)
        if isinstance(notation, Literal):
            table[str(notation)] = found
    return table


def concept(scheme: str, notation: str) -> URIRef | None:
    """The concept of `scheme` whose skos:notation is `notation`, or None."""
    return _by_notation(scheme).get(notation)


def notations(scheme: str) -> list[str]:
    """The notations of a scheme, in the form's order."""
    return list(_by_notation(scheme))


def notation(concept_iri: URIRef) -> str | None:
    """The skos:notation of one of our concepts."""
    found = vocabulary.graph().value(concept_iri, SKOS.notation)
    return str(found) if found is not None else None
