"""The example queries of the endpoint, written against the real data model.

One file per example in `queries/` (`NN-slug.rq`: the number orders them, the slug names
them in URLs). Each starts with comments giving its title and description in French and
English::

    # titre: Nombre de fiches par nature d'action
    # title: Number of records per kind of action
    # description: …
    # description-en: …

The same text, comments included, is what the editor shows and what the links run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .sparql_text import query_form

FOLDER = Path(__file__).with_name("queries")
_HEADER = re.compile(r"^#\s*(titre|title|description|description-en):\s*(.+)$")
_KEYS = {
    "titre": ("title", "fr"),
    "title": ("title", "en"),
    "description": ("description", "fr"),
    "description-en": ("description", "en"),
}


@dataclass(frozen=True)
class Example:
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    text: str
    form: str  # select, ask, construct or describe


@cache
def examples() -> tuple[Example, ...]:
    return tuple(_read(path) for path in sorted(FOLDER.glob("*.rq")))


def by_slug(slug: str) -> Example | None:
    return next((e for e in examples() if e.slug == slug), None)


def _read(path: Path) -> Example:
    text = path.read_text(encoding="utf-8")
    fields: dict[str, dict[str, str]] = {"title": {}, "description": {}}
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            field, lang = _KEYS[match.group(1)]
            fields[field][lang] = match.group(2).strip()
    slug = path.stem.split("-", 1)[1]
    form = query_form(text)
    if form is None or set(fields["title"]) != {"fr", "en"}:
        raise ValueError(f"{path.name}: a query with a title in French and in English")
    return Example(slug, fields["title"], fields["description"], text, form)
