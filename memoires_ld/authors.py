"""Read the free-text author field of a fiche into agents (people and organisations).

The field is free text: "Sarah Gaucher ; Alice Oechsner", "Catherine Lenoble - FunLab",
"Isabelle Bapteste (rédaction et intervention), …", "Romain Lalande - sur un concept … de
Simon Sarazin". The rules:

* segments are separated by ",", ";", "/", "//" or " - " (outside parentheses);
* a segment shaped like a name (one to four words, the first capitalised, no little words
  such as "sur" or "de") is an agent; "(…)" after it is its role, unless it names a known
  organisation (an affiliation, left in the raw text only);
* any other segment is free text: only agents the alias table knows are taken from it;
* names are re-cased ("ROmain Lalande", "Romain LALANDE" → "Romain Lalande"); typos and
  first names alone are merged only through the alias table, `data/aliases.csv`;
* an agent is a person unless the alias table says otherwise; nothing is invented (no
  surname for "Jehan", no e-mail).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import DEFAULTS
from .errors import SourceError
from .iris import slugify
from .record import Agent
from .vocabulary import normalize_label

KINDS = ("person", "organization", "agent")
#: The data folder, as the DATA_DIR setting defaults to it (relative to where we run).
DEFAULT_DATA_DIR = Path(DEFAULTS["DATA_DIR"])
ALIASES_FILE = "aliases.csv"

SEPARATOR = re.compile(r"\s*(?://|/|;|,|\s[-–]\s)\s*")
ROLE = re.compile(r"^(?P<name>[^()]*?)\s*\((?P<role>[^()]*)\)\s*$")
NAME_WORD = re.compile(r"^[^\W\d_][\w'’.-]*$")
#: Little words that never occur in a name written in lower case.
_LITTLE_WORDS = "à a au aux avec d' dans de des du dont en et la le les par pour sur un une"
LITTLE_WORDS = frozenset(_LITTLE_WORDS.split())
_PARTICLES = "de du des d' van von der den di da"
PARTICLES = frozenset(_PARTICLES.split())


@dataclass(frozen=True)
class Alias:
    canonical: str
    kind: str


@dataclass(frozen=True)
class Aliases:
    """Spelling variants of agents' names, keyed by their normalised form."""

    entries: Mapping[str, Alias] = field(default_factory=dict)

    def get(self, name: str) -> Alias | None:
        """The agent a name stands for, if the table knows it."""
        return self.entries.get(normalize_label(name))

    def find_in(self, text: str) -> list[Alias]:
        """The known agents named in a piece of free text, in order, longest names first."""
        haystack = normalize_label(text)
        taken: list[tuple[int, int, Alias]] = []
        for variant in sorted(self.entries, key=len, reverse=True):
            pattern = r"(?<!\w)" + re.escape(variant) + r"(?!\w)"
            for match in re.finditer(pattern, haystack):
                start, end = match.span()
                if all(end <= s or start >= e for s, e, _ in taken):
                    taken.append((start, end, self.entries[variant]))
        return [alias for _, _, alias in sorted(taken, key=lambda t: t[0])]


def load_aliases(path: Path | str | None = None) -> Aliases:
    """Read the alias table: `path` is the CSV file or the data folder holding `aliases.csv`.

    Lines starting with "#" are comments; the header is `variant,canonical,kind`. A
    canonical name is also known under itself.
    """
    path = Path(path) if path is not None else DEFAULT_DATA_DIR
    if path.is_dir():
        path = path / ALIASES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"table des alias introuvable : {path}") from None
    return parse_aliases(text, source=path.name)


def parse_aliases(text: str, source: str = ALIASES_FILE) -> Aliases:
    """Read the text of an alias table (see `load_aliases`)."""
    entries: dict[str, Alias] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            continue
        row = next(csv.reader([line]), [])
        if not any(cell.strip() for cell in row) or row == ["variant", "canonical", "kind"]:
            continue
        if len(row) != 3 or row[2].strip() not in KINDS or not row[1].strip():
            raise SourceError(
                f"{source} : ligne illisible, « variant,canonical,kind » attendu avec kind "
                f"parmi {', '.join(KINDS)}",
                line=number,
            )
        variant, canonical, kind = (cell.strip() for cell in row)
        alias = Alias(canonical, kind)
        entries.setdefault(normalize_label(canonical), alias)
        entries[normalize_label(variant)] = alias
    return Aliases(entries)


def parse_authors(raw: str, aliases: Aliases) -> list[Agent]:
    """The agents named in an author field, deduplicated, in the order they are named."""
    agents: list[Agent] = []
    for segment in _segments(raw):
        for agent in _agents(segment, aliases):
            _add(agents, agent)
    return agents


def canonical_case(name: str) -> str:
    """Fix the case of a name typed with caps lock or none: "ROmain LALANDE" → "Romain Lalande".

    Words already in a usual case ("Le Nulzec", "McLeod") are kept.
    """
    words = []
    for n, word in enumerate(name.split()):
        parts = re.split(r"([-'’])", word)
        words.append("".join(_case_part(part, first=n == 0) for part in parts))
    return " ".join(words)


def _case_part(part: str, first: bool) -> str:
    if not part.isalpha():
        return part
    if not first and part in PARTICLES:
        return part
    caps_slip = len(part) > 2 and part[:2].isupper() and part[2:].islower()
    if part.islower() or (part.isupper() and len(part) > 1) or caps_slip:
        return part[0].upper() + part[1:].lower()
    return part


def _segments(raw: str) -> list[str]:
    """Split on the separators found outside parentheses."""
    masked = re.sub(r"\([^()]*\)", lambda m: "(" + "_" * (len(m.group()) - 2) + ")", raw)
    pieces, start = [], 0
    for match in SEPARATOR.finditer(masked):
        pieces.append(raw[start : match.start()])
        start = match.end()
    pieces.append(raw[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _agents(segment: str, aliases: Aliases) -> list[Agent]:
    """The agents of one segment: a name (with its role) or known names in free text."""
    name, role = segment, ""
    with_role = ROLE.match(segment)
    if with_role:
        name, role = with_role["name"], with_role["role"].strip()
        affiliation = aliases.get(role)
        if affiliation is not None and affiliation.kind == "organization":
            role = ""
    known = aliases.get(name)
    if known is not None:
        return [_agent(known.canonical, known.kind, role)]
    if looks_like_name(name):
        return [_agent(canonical_case(name), "person", role)]
    return [_agent(alias.canonical, alias.kind) for alias in aliases.find_in(segment)]


def looks_like_name(text: str) -> bool:
    """One to four words, the first capitalised, none of them a little lower-case word."""
    words = text.split()
    if not 1 <= len(words) <= 4 or not words[0][0].isupper():
        return False
    return all(NAME_WORD.match(w) and w not in LITTLE_WORDS for w in words)


def _agent(name: str, kind: str, role: str = "") -> Agent:
    return Agent(slug=slugify(name), name=name, kind=kind, role=role)


def _add(agents: list[Agent], agent: Agent) -> None:
    """Append `agent` unless it is already there (then keep the first, with a role if any)."""
    for n, seen in enumerate(agents):
        if seen.slug == agent.slug:
            if not seen.role and agent.role:
                agents[n] = replace(seen, role=agent.role)
            return
    agents.append(agent)
