"""Import a live YesWiki Bazar form: its definition, its entries, as `FicheRecord`s.

`read_wiki` asks the 4.x API first (`?api/forms/{id}`, `?api/forms/{id}/entries`), then the
2018 JSON handler (`?BazaR/json&demand=forms|entries|lists`) that older wikis such as
osons.cc expose (research/yeswiki.md §4). `entry_record` turns one entry into a record
through a mapping file (`bazar_mapping`).

Privacy (README, "YesWiki"): only the mapped, public fields of the form are read, plus
`id_fiche`, the dates, `statut_fiche`, `url` and `owner`. What the API adds but the page
does not show is never read: `user` (the last editor, an IP address when anonymous),
`html_data`, `createur` (2018). E-mail fields, password fields and fields hidden from
anonymous readers are never published, even if mapped; e-mail addresses found in the text
of published fields are replaced by "[adresse e-mail retirée]" (with a note). `owner` is
kept as the page owner's account name, unless it is empty or looks like an IP or an e-mail.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from .. import vocabulary
from ..authors import Aliases, parse_authors
from ..errors import SourceError
from ..record import Block, FicheRecord, Link
from . import wikitext
from .bazar_form import ENUM_TYPES, BazarForm, FormField, list_options, parse_form
from .bazar_mapping import SINGLE_VALUED, BazarMapping, FieldMapping, concept
from .htmlblocks import html_blocks
from .listing import FIELD as LABELLED_LINE
from .values import PARIS
from .wikiclient import RouteMissing, WikiClient, page_url

LEGACY = "BazaR/json&demand="
ENTRY_DATE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[ T](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?$"
)
TAG = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
LIST_TAG = re.compile(r"^[A-Za-z0-9_]{1,200}$")
EMAIL = re.compile(r"(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
EMAIL_REMOVED = "[adresse e-mail retirée]"
URL = re.compile(r"^https?://\S+$")
#: Keys of newer entries (YesWiki ADR 0010, not released) → the keys read here.
KEY_ALIASES = {
    "tag": "id_fiche",
    "form_id": "id_typeannonce",
    "created_at": "date_creation_fiche",
    "updated_at": "date_maj_fiche",
    "status": "statut_fiche",
}
#: Keys of an entry that are not form fields; the first four are never read (privacy).
SYSTEM_KEYS = frozenset(
    {"user", "html_data", "createur", "semantic", "html_output", "geolocation"}
    | {"id_fiche", "id_typeannonce", "date_creation_fiche", "date_maj_fiche", "statut_fiche"}
    | {"owner", "url"}
    | set(KEY_ALIASES)
)
PUBLISHED = "1"


@dataclass
class WikiForm:
    """What a wiki says about one form: its definition and its entries by tag."""

    base_url: str
    form: BazarForm
    entries: dict[str, dict[str, Any]]
    generation: str  # "4.x" or "2018"


def read_wiki(client: WikiClient, form_id: str) -> WikiForm:
    """Read the form `form_id` and its entries from the 4.x API, else the 2018 handler."""
    if not form_id:
        raise SourceError("--form ID attendu : le fichier de correspondance ne donne pas [form] id")
    if not re.match(r"^[A-Za-z0-9_]{1,100}$", form_id):
        raise SourceError(f"identifiant de formulaire invalide « {form_id} »")
    try:
        payload = client.get_json(f"api/forms/{form_id}")
        generation, entries_route = "4.x", f"api/forms/{form_id}/entries"
    except RouteMissing as modern:
        try:
            payload = client.get_json(f"{LEGACY}forms&id={form_id}")
        except RouteMissing as legacy:
            raise SourceError(
                "ce wiki ne répond ni à l'API YesWiki 4.x ni à l'ancien gestionnaire JSON "
                f"(2018) :\n  {modern.message}\n  {legacy.message}"
            ) from None
        generation, entries_route = "2018", f"{LEGACY}entries&id={form_id}"
    form = parse_form(payload, form_id)
    for list_tag in form.lists_without_options():
        if not LIST_TAG.match(list_tag):
            raise SourceError(f"nom de liste invalide « {list_tag} » dans le formulaire")
        body = client.get_json(f"{LEGACY}lists&list={list_tag}")
        form = form.with_list(list_tag, list_options(body, list_tag))
    entries = _entries(client.get_json(entries_route), client.url(entries_route))
    return WikiForm(client.base_url, form, entries, generation)


def _entries(payload: object, url: str) -> dict[str, dict[str, Any]]:
    """Entries keyed by tag: the API answers an object, `null` or `[]` when there is none."""
    if payload is None or payload == []:
        return {}
    if isinstance(payload, dict):
        items = list(payload.values())
    elif isinstance(payload, list):
        items = payload
    else:
        raise SourceError(f"{url} : un objet {{id_fiche: fiche}} est attendu")
    entries: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise SourceError(f"{url} : fiche illisible (objet JSON attendu) : {str(item)[:80]}")
        entry = {KEY_ALIASES.get(k, k): v for k, v in item.items()}
        tag = str(entry.get("id_fiche") or "")
        if not TAG.match(tag):
            raise SourceError(f"{url} : fiche sans nom de page valide (id_fiche « {tag} »)")
        if tag in entries:
            raise SourceError(f"{url} : deux fiches portent le nom de page « {tag} »")
        entries[tag] = entry
    return entries


def is_published(entry: dict[str, Any]) -> bool:
    """Validated by the wiki's moderation (statut_fiche "1"; absent in very old entries)."""
    return str(entry.get("statut_fiche", PUBLISHED)) == PUBLISHED


def entry_time(entry: dict[str, Any], key: str) -> datetime | None:
    """A date of an entry ("2017-08-20 09:22:40", the wiki's local time) in Europe/Paris."""
    value = str(entry.get(key) or "").strip()
    if not value:
        return None
    found = ENTRY_DATE.match(value)
    if not found:
        raise SourceError(f"{key} illisible « {value} » : « AAAA-MM-JJ HH:MM:SS » attendu")
    numbers = {k: int(v or 0) for k, v in found.groupdict().items()}
    try:
        naive = datetime(*(numbers[k] for k in ("y", "m", "d", "H", "M", "S")))
    except ValueError:
        raise SourceError(f"{key} impossible « {value} »") from None
    local = naive.replace(tzinfo=PARIS)
    if local.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise SourceError(f"{key} « {value} » : heure inexistante à Paris (heure d'été)")
    return local


@dataclass(frozen=True)
class Reading:
    """The mapped fields the form has and may publish, and what is left out, in French."""

    fields: tuple[tuple[FieldMapping, FormField], ...]
    left_out: tuple[str, ...]


def plan_fields(
    form: BazarForm, mapping: BazarMapping, entries: Iterable[dict[str, Any]] = ()
) -> Reading:
    """Match the mapping to the form: one French line per field not published.

    Keys of the `entries` that are neither form fields nor keys Bazar adds (a field since
    removed from the form, say) are reported too, with the number of entries holding them.
    """
    fields, left_out = [], []
    for spec in form.fields:
        wanted = mapping.get(spec.key)
        reason = spec.private_reason
        if reason:
            left_out.append(f"Champ non publié {spec.describe()} : {reason}.")
        elif wanted is None:
            left_out.append(
                f"Champ non repris {spec.describe()} : absent du fichier de correspondance "
                f"{mapping.source}."
            )
        elif wanted.to == "ignore":
            left_out.append(f"Champ ignoré {spec.describe()} : « ignore » dans {mapping.source}.")
        else:
            fields.append((wanted, spec))
    for wanted in mapping.fields:
        if form.get(wanted.key) is None:
            if wanted.to == "title":
                raise SourceError(
                    f"le formulaire {form.id} n'a pas de champ « {wanted.key} » (le titre selon "
                    f"{mapping.source}) : est-ce le bon formulaire ?"
                )
            left_out.append(
                f"Le champ « {wanted.key} » de {mapping.source} n'existe pas dans le formulaire "
                f"{form.id} : ignoré."
            )
    stray = Counter(
        key
        for entry in entries
        for key, value in entry.items()
        if key not in SYSTEM_KEYS and form.get(key) is None and _text(value).strip()
    )
    left_out += [
        f"Clé « {key} » inconnue du formulaire {form.id}, remplie dans {count} fiche(s) : "
        "non reprise."
        for key, count in sorted(stray.items())
    ]
    return Reading(tuple(fields), tuple(left_out))


def entry_record(
    entry: dict[str, Any], form: BazarForm, reading: Reading, base_url: str, aliases: Aliases
) -> FicheRecord:
    """One published entry as a record; a problem is a `SourceError` naming the entry."""
    return _Entry(entry, form, base_url, aliases).read(reading)


@dataclass
class _Entry:
    entry: dict[str, Any]
    form: BazarForm
    base_url: str
    aliases: Aliases
    record: FicheRecord = field(init=False)
    removed: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.record = FicheRecord(tag=str(self.entry["id_fiche"]), title="")

    def fail(self, message: str) -> NoReturn:
        raise SourceError(message, fiche=self.record.tag)

    def read(self, reading: Reading) -> FicheRecord:
        record = self.record
        form_id = str(self.entry.get("id_typeannonce", self.form.id))
        if form_id != self.form.id:
            self.fail(f"la fiche appartient au formulaire {form_id}, pas au {self.form.id}")
        for wanted, spec in reading.fields:
            self._field(wanted, spec, _text(self.entry.get(wanted.key)))
        if not record.title:
            self.fail("titre vide")
        try:
            record.created = entry_time(self.entry, "date_creation_fiche")
            record.modified = entry_time(self.entry, "date_maj_fiche")
        except SourceError as error:
            self.fail(error.message)
        record.owner = _account(self.entry.get("owner"))
        url = _text(self.entry.get("url")).strip()
        record.source = url if URL.match(url) else page_url(self.base_url, record.tag)
        for key, count in self.removed.items():
            record.notes.append(
                f"{count} adresse(s) e-mail retirée(s) du champ « {key} » à l'import "
                "(elles ne sont pas republiées)"
            )
        return record

    def _field(self, wanted: FieldMapping, spec: FormField, value: str) -> None:
        record, to = self.record, wanted.to
        if to in ("title", "description", "authors", "contributors"):
            value = self._scrub(spec.key, value)
        if to == "title":
            record.title = value.strip()
        elif wanted.scheme is not None:
            found = [self._concept(wanted, spec, key) for key in _keys(value)]
            found = list(dict.fromkeys(found))
            if to in SINGLE_VALUED:
                if len(found) > 1:
                    self.fail(f"champ {spec.describe()} : une seule valeur attendue, « {value} »")
                setattr(record, to, found[0] if found else None)
            else:
                setattr(record, to, found)
        elif to == "years":
            record.years = list(dict.fromkeys(self._year(wanted, spec, k) for k in _keys(value)))
        elif to == "description":
            record.description = self._description(wanted, spec, value)
            record.links += _links_in_text(record.description)
        elif to == "link":
            self._link(wanted, spec, value.strip())
        elif to == "authors":
            record.authors_raw = value.strip()
            record.authors = parse_authors(value, self.aliases)
        elif to == "contributors":
            record.contributors = parse_authors(value, self.aliases)
        elif to == "image":
            name = value.strip().rsplit("/", 1)[-1]
            record.image = name or None

    def _unknown_key(self, spec: FormField, key: str, why: str) -> NoReturn:
        known = spec.options.get(key)
        label = f" (« {known} » dans la liste {spec.list_tag})" if known else ""
        self.fail(f"champ {spec.describe()} : clé de liste inconnue « {key} »{label} : {why}")

    def _concept(self, wanted: FieldMapping, spec: FormField, key: str):
        assert wanted.scheme is not None
        if wanted.match == "label":
            label = spec.options.get(key)
            if label is None:
                self._unknown_key(spec, key, f"absente de la liste {spec.list_tag} du formulaire")
            found = vocabulary.concept_for_label(wanted.scheme, label)
            if found is None:
                self._unknown_key(spec, key, f"libellé inconnu du schéma « {wanted.scheme} »")
            return found
        notation = wanted.values.get(key)
        if notation is None:
            self._unknown_key(spec, key, "aucune correspondance dans le fichier de correspondance")
        found = concept(wanted.scheme, str(notation))
        assert found is not None  # checked when the mapping was read
        return found

    def _year(self, wanted: FieldMapping, spec: FormField, key: str) -> int:
        if key in wanted.values:
            return int(wanted.values[key])
        if spec.type in ENUM_TYPES and spec.options and key not in spec.options:
            self._unknown_key(spec, key, f"absente de la liste {spec.list_tag} du formulaire")
        label = spec.options.get(key, key).strip()
        if not re.match(r"^\d{4}$", label):
            self._unknown_key(spec, key, f"« {label} » n'est pas une année")
        return int(label)

    def _description(self, wanted: FieldMapping, spec: FormField, value: str) -> list[Block]:
        syntax = wanted.syntax or {"html": "html", "nohtml": "text"}.get(spec.syntax, "wiki")
        if syntax == "html":
            return html_blocks(value)
        if syntax == "text":
            return [
                Block(kind="paragraph", text=line.strip())
                for line in value.splitlines()
                if line.strip()
            ]
        return wikitext.to_blocks(value)

    def _link(self, wanted: FieldMapping, spec: FormField, value: str) -> None:
        if not value or value in ("http://", "https://"):
            return
        if EMAIL.search(value):
            self.removed[spec.key] = self.removed.get(spec.key, 0) + 1
            return
        if not URL.match(value):
            self.fail(f"champ {spec.describe()} : lien invalide « {value} » (http(s)://… attendu)")
        self.record.links.append(Link(kind=wanted.kind, url=value, label=spec.label))

    def _scrub(self, key: str, value: str) -> str:
        cleaned, count = EMAIL.subn(EMAIL_REMOVED, value)
        if count:
            self.removed[key] = self.removed.get(key, 0) + count
        return cleaned


def _text(value: object) -> str:
    """A field value as text: 2018 stores strings, 4.x may give null, numbers or lists."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _keys(value: str) -> list[str]:
    """Keys of a list field: one key, or comma-separated keys of a checkbox ("1,3")."""
    return [key.strip() for key in value.split(",") if key.strip()]


def _account(value: object) -> str | None:
    """The page owner's account name; None if empty or if it looks like an IP or an e-mail."""
    name = _text(value).strip()
    if not name or EMAIL.search(name) or not re.match(r"^[\w .'-]{1,100}$", name):
        return None
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    return None


def _links_in_text(blocks: list[Block]) -> list[Link]:
    """ "Lien vers … : URL" paragraphs of a description are also links (kind "autre"),
    as the listing importer reads them."""
    found = []
    for block in blocks:
        line = LABELLED_LINE.match(block.text) if block.kind == "paragraph" else None
        value = (line["value"] or "").strip() if line else ""
        if line and URL.match(value):
            label = line["label"].strip()
            if vocabulary.normalize_label(label).startswith("lien vers "):
                found.append(Link(kind="autre", url=value, label=label))
    return found
