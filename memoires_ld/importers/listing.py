"""Import the seed: the text of a YesWiki Bazar listing page of "mémoires d'action".

The text (research/yeswiki.md §8) is an introduction, "Il y a 38 fiche(s) correspondante(s)
à vos filtres .", then the fiches, each laid out as::

    Title
                                                  (blank)
    Nature de l'action menée : Formation, Accompagnement
    …                                             one "Label : value" line per filled field
    Description de l'action : first line          then more lines, up to the next field
    Lien vers la documentation de l'expérience : https://…
    Auteur.trice(s) de la ressource : …
    Licence d'utilisation la ressource : CC BY SA
    Contributeur.trice.s ayant vécu cette action :
    nom_du_fichier_image.jpg                      optional: the form's image field
    PageTag (Mémoires d'action), écrite par Owner
    créée le 13.04.2018 à 13:02, mise à jour le 13.04.2018 à 13:04.

Only the form's own labels start a field, in the form's order: a description may hold lines
such as "Programme :" or "Jour 1 :". Leading spaces are scrape noise and are dropped.

All or nothing: any problem raises `SourceError` naming the fiche and the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TypeVar

from .. import vocabulary
from ..authors import Aliases, load_aliases, parse_authors
from ..errors import SourceError
from ..record import FicheRecord, Link
from . import mojibake, values
from .blocks import blocks

ANNOUNCEMENT = re.compile(r"Il y a (?P<count>\d+) fiche\(s\) correspondante\(s\)")
FIELD = re.compile(r"^(?P<label>[^:]+?)\s*:(?:\s*(?P<value>.*))?$")
URL = re.compile(r"^https?://\S+$")
IMAGE_FILE = re.compile(r"^[\w.-]+\.[A-Za-z0-9]{2,5}$")
TAG_LINE = re.compile(
    r"^(?P<tag>[A-Za-z0-9]+) \((?P<form>[^()]+)\)(?:, écrite par (?P<owner>\S+))?$"
)
DATES = re.compile(r"^créée le (?P<created>.+?), mise à jour le (?P<modified>.+?)\.$")
T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    """A field of the form as the listing shows it."""

    key: str
    label: str
    order: int
    scheme: str | None = None
    link: str | None = None
    aliases: tuple[str, ...] = ()


FIELDS = (
    Field("natures", "Nature de l'action menée", 1, scheme="nature"),
    Field("participants", "Nombre de participants", 2, scheme="participants"),
    Field("durations", "Durée de l'action", 3, scheme="duree"),
    Field("status", "Niveau d'avancement de l'action", 4, scheme="statut"),
    Field("success", "Degré de réussite de l'action", 5, scheme="reussite"),
    Field("years", "Année de mise en oeuvre", 6, aliases=("Année(s) de mise en œuvre",)),
    Field("description", "Description de l'action", 7),
    Field(
        "link",
        "Lien vers le cahier des charges initial ou résumer des besoins formalisés au démarrage",
        8,
        link="cahier-des-charges",
    ),
    Field("link", "Lien vers la réponse au cahier des charges (s'il y a lieu)", 9, link="reponse"),
    Field("link", "Lien vers la documentation de l'expérience", 10, link="documentation"),
    Field("authors", "Auteur.trice(s) de la ressource", 11),
    Field(
        "licence",
        "Licence d'utilisation la ressource",
        12,
        scheme="licence",
        aliases=("Licence d'utilisation de la ressource",),
    ),
    Field("contributors", "Contributeur.trice.s ayant vécu cette action", 13),
)
BY_LABEL = {vocabulary.normalize_label(label): f for f in FIELDS for label in (f.label, *f.aliases)}
REQUIRED = ("natures", "years", "description", "licence")
DESCRIPTION = next(f for f in FIELDS if f.key == "description")
SINGLE_VALUED = ("statut", "reussite", "licence")


def read_listing(path: Path | str, *, aliases: Aliases | None = None) -> list[FicheRecord]:
    """Read a listing page saved as UTF-8 text (see `parse_listing`)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(f"{Path(path).name} n'est pas un texte UTF-8 ({error.reason})") from None
    return parse_listing(text, aliases=aliases)


def parse_listing(text: str, *, aliases: Aliases | None = None) -> list[FicheRecord]:
    """Read the text of a listing page into records, one per fiche, in the page's order.

    `aliases` is the author alias table (by default the repository's `data/aliases.csv`).
    """
    aliases = aliases if aliases is not None else load_aliases()
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    announced, k = _announcement(lines)
    records: list[FicheRecord] = []
    while len(records) < announced:
        k = _skip_blank(lines, k)
        if k >= len(lines):
            _missing_fiches(records, announced, len(lines))
        record, k = _Fiche(lines, k, aliases).read()
        records.append(record)
    _check_trailer(lines, k, records)
    _check_unique_tags(records)
    return records


def _announcement(lines: list[str]) -> tuple[int, int]:
    """The announced number of fiches and the index of the line after the announcement."""
    for k, line in enumerate(lines):
        found = ANNOUNCEMENT.search(line)
        if found:
            return int(found["count"]), k + 1
    if not any(lines):
        raise SourceError("la source est vide")
    raise SourceError(
        "ce n'est pas une liste de fiches YesWiki : la phrase « Il y a N fiche(s) "
        "correspondante(s) » est introuvable",
        line=1,
    )


def _skip_blank(lines: list[str], k: int) -> int:
    while k < len(lines) and not lines[k]:
        k += 1
    return k


def _missing_fiches(records: list[FicheRecord], announced: int, line_count: int) -> NoReturn:
    raise SourceError(
        f"la liste annonce {announced} fiche(s) mais la source n'en contient que "
        f"{len(records)} (fichier tronqué ?)",
        fiche=records[-1].title if records else None,
        line=line_count,
    )


def _check_trailer(lines: list[str], k: int, records: list[FicheRecord]) -> None:
    """What follows the announced fiches is the page's trailer ("Filtrer par …"), no fiche."""
    for n in range(k, len(lines)):
        if TAG_LINE.match(lines[n]) or DATES.match(lines[n]):
            raise SourceError(
                f"la source contient plus de fiches que les {len(records)} annoncées",
                fiche=records[-1].title if records else None,
                line=n + 1,
            )


def _check_unique_tags(records: list[FicheRecord]) -> None:
    seen: dict[str, FicheRecord] = {}
    for record in records:
        if record.tag in seen:
            raise SourceError(
                f"nom de page « {record.tag} » déjà pris par la fiche de la ligne "
                f"{seen[record.tag].line}",
                fiche=record.title,
                line=record.line,
            )
        seen[record.tag] = record


@dataclass
class _Fiche:
    """Reads one fiche, from its title line to its footer."""

    lines: list[str]
    k: int
    aliases: Aliases
    record: FicheRecord = field(init=False)
    #: order of the last field read, and whether the description is still going on
    last_order: int = 0
    in_description: bool = False
    description: list[tuple[int, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def __post_init__(self):
        title = self.lines[self.k]
        self.record = FicheRecord(tag="", title=title, line=self.k + 1)
        if self._known_field(title) is not None or TAG_LINE.match(title) or DATES.match(title):
            self.fail(f"titre de fiche attendu, trouvé « {title} »")
        self.k += 1

    def read(self) -> tuple[FicheRecord, int]:
        """Read the fields, then the footer; return the record and the index after it."""
        while not self._at_footer():
            self._line(self.lines[self.k])
            self.k += 1
        self._check_required()
        self._footer()
        self._finish()
        return self.record, self.k

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise SourceError(message, fiche=self.record.title, line=line or self.k + 1)

    # ---------------------------------------------------------------- fields

    def _at_footer(self) -> bool:
        if self.k >= len(self.lines):
            self._truncated()
        line = self.lines[self.k]
        if not line or self.last_order < _order("licence") or self.in_description:
            return False
        return self._known_field(line) is None and _extra_link(line) is None

    def _line(self, line: str) -> None:
        known = self._known_field(line)
        if known is not None and (not self.in_description or known[0].order > DESCRIPTION.order):
            self._field(*known)
            return
        extra = _extra_link(line) if self.last_order >= DESCRIPTION.order else None
        if extra is not None:
            self.record.links.append(extra)
        if self.in_description:
            self.description.append((self.k + 1, line))
        elif line and extra is None:
            self.fail(f"ligne inattendue « {line} » : un champ du formulaire était attendu")

    def _known_field(self, line: str) -> tuple[Field, str] | None:
        found = FIELD.match(line)
        if not found:
            return None
        known = BY_LABEL.get(vocabulary.normalize_label(found["label"]))
        return (known, (found["value"] or "").strip()) if known else None

    def _field(self, spec: Field, value: str) -> None:
        if spec.order <= self.last_order:
            self.fail(f"champ « {spec.label} » en double ou hors de l'ordre du formulaire")
        self.last_order, self.in_description = spec.order, spec is DESCRIPTION
        self.seen.add(spec.key)
        if spec.scheme is not None:
            self._facet(spec, value)
        elif spec.link is not None:
            self._link(spec, value)
        elif spec.key == "years":
            self.record.years = self._value(f"champ « {spec.label} »", values.years, value)
        elif spec.key == "description":
            self.description.append((self.k + 1, value))
        elif spec.key == "authors":
            self.record.authors_raw = value
            self.record.authors = parse_authors(value, self.aliases)
        elif spec.key == "contributors":
            self.record.contributors = parse_authors(value, self.aliases)

    def _facet(self, spec: Field, value: str) -> None:
        assert spec.scheme is not None
        single = spec.scheme in SINGLE_VALUED
        found = self._value(
            f"champ « {spec.label} »", values.concepts, spec.scheme, value, single=single
        )
        setattr(self.record, spec.key, (found[0] if found else None) if single else found)

    def _value(self, what: str, parse: Callable[..., T], *args, **kwargs) -> T:
        """Parse a value with `parse`; its error becomes a `SourceError` for this fiche."""
        try:
            return parse(*args, **kwargs)
        except ValueError as error:
            reason = str(error)
        self.fail(f"{what} : {reason}")

    def _link(self, spec: Field, value: str) -> None:
        assert spec.link is not None
        if not URL.match(value):
            self.fail(f"lien invalide « {value} » pour le champ « {spec.label} »")
        self.record.links.append(Link(kind=spec.link, url=value, label=spec.label))

    def _check_required(self) -> None:
        for key in REQUIRED:
            if key not in self.seen:
                label = next(f.label for f in FIELDS if f.key == key)
                self.fail(f"champ obligatoire « {label} » absent", line=self.record.line)

    # ---------------------------------------------------------------- footer

    def _footer(self) -> None:
        """Read the optional image file name, the page tag line and the dates line."""
        line = self._next_footer_line()
        if IMAGE_FILE.match(line):
            self.record.image = line
            self.k += 1
            line = self._next_footer_line()
        tag = TAG_LINE.match(line)
        if not tag:
            self.fail(
                f"pied de fiche attendu (« NomDePage (Mémoires d'action) » puis « créée le … »), "
                f"trouvé « {line} » : la fiche n'a pas de pied de page"
            )
        self.record.tag, self.record.owner = tag["tag"], tag["owner"]
        self.k += 1
        line = self._next_footer_line()
        dates = DATES.match(line)
        if not dates:
            self.fail(
                f"ligne « créée le JJ.MM.AAAA à HH:MM, mise à jour le … » attendue, "
                f"trouvé « {line} »"
            )
        self.record.created = self._value("date de création", values.paris_time, dates["created"])
        self.record.modified = self._value(
            "date de mise à jour", values.paris_time, dates["modified"]
        )
        self.k += 1

    def _next_footer_line(self) -> str:
        if self.k >= len(self.lines):
            self._truncated()
        return self.lines[self.k]

    def _truncated(self) -> NoReturn:
        self.fail(
            "la source s'arrête au milieu de la fiche, avant son pied de page (fichier tronqué ?)",
            line=len(self.lines),
        )

    # ---------------------------------------------------------------- text

    def _finish(self) -> None:
        """Repair lost characters in the title and description, then build the blocks."""
        lines = _trim_blank(self.description)
        repairs = mojibake.Repairs(
            apostrophe=mojibake.apostrophe_style([self.record.title] + [t for _, t in lines])
        )
        self.record.title = mojibake.repair(self.record.title, self.record.line, repairs)
        repaired = [(n, mojibake.repair(text, n, repairs)) for n, text in lines]
        self.record.description = blocks(repaired)
        self.record.notes[:0] = repairs.notes()


def _order(key: str) -> int:
    return next(f.order for f in FIELDS if f.key == key)


def _extra_link(line: str) -> Link | None:
    """A "Lien vers … : URL" line the form does not define (kind "autre")."""
    found = FIELD.match(line)
    if not found or not URL.match(found["value"] or ""):
        return None
    label = found["label"].strip()
    if not vocabulary.normalize_label(label).startswith("lien vers "):
        return None
    return Link(kind="autre", url=found["value"].strip(), label=label)


def _trim_blank(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    texts = [text for _, text in lines]
    start = next((i for i, t in enumerate(texts) if t), len(texts))
    end = len(texts) - next((i for i, t in enumerate(reversed(texts)) if t), len(texts))
    return lines[start:end]
