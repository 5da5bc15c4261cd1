"""Read field values as YesWiki shows them: facet labels, years, dates.

Pure functions, for any importer; each raises `ValueError` with a reason in French, which
the importer turns into a `SourceError` naming the fiche and the line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rdflib import URIRef

from .. import vocabulary

YEAR = re.compile(r"^\d{4}$")
WIKI_DATE = re.compile(r"^(?P<d>\d{2})\.(?P<m>\d{2})\.(?P<y>\d{4}) à (?P<H>\d{2}):(?P<M>\d{2})$")
#: The wiki shows wall-clock times of the collective, without their offset.
PARIS = ZoneInfo("Europe/Paris")


def concepts(scheme: str, value: str, *, single: bool = False) -> list[URIRef]:
    """The concepts of `scheme` a field value names, in order, without repeats.

    Values are separated by commas, but a label may contain one ("C'est une belle
    réussite, à refaire …"), so splitting on ", " is wrong: the longest run of pieces that
    is a known label is taken first. Anything left over is an unknown value.
    """
    pieces = value.split(",") if value.strip() else []
    found: list[URIRef] = []
    i = 0
    while i < len(pieces):
        concept, j = _longest_label(scheme, pieces, i)
        if concept is None:
            known = ", ".join(
                f"« {vocabulary.pref_label(c)} »" for c in vocabulary.concepts(scheme)
            )
            raise ValueError(f"valeur inconnue « {pieces[i].strip()} » (valeurs connues : {known})")
        if concept not in found:
            found.append(concept)
        i = j
    if single and len(found) > 1:
        raise ValueError(f"une seule valeur attendue, trouvé « {value} »")
    return found


def _longest_label(scheme: str, pieces: list[str], i: int) -> tuple[URIRef | None, int]:
    """The concept named by the longest run of pieces from `i`, and where the run ends."""
    for j in range(len(pieces), i, -1):
        concept = vocabulary.concept_for_label(scheme, ",".join(pieces[i:j]))
        if concept is not None:
            return concept, j
    return None, i


def years(value: str) -> list[int]:
    """Years written "2014, 2016, 2017": four digits each."""
    found: list[int] = []
    for piece in (p.strip() for p in value.split(",")):
        if not YEAR.match(piece):
            raise ValueError(f"année « {piece} » invalide : quatre chiffres attendus")
        if int(piece) not in found:
            found.append(int(piece))
    return found


def paris_time(text: str) -> datetime:
    """A wiki date "13.04.2018 à 13:02", local time in Paris, as an aware datetime.

    An hour that occurs twice (autumn) is read as the first one (summer time); an hour that
    does not exist (spring) is an error.
    """
    found = WIKI_DATE.match(text)
    if not found:
        raise ValueError(f"date illisible « {text} » : « JJ.MM.AAAA à HH:MM » attendu")
    numbers = {key: int(number) for key, number in found.groupdict().items()}
    try:
        naive = datetime(numbers["y"], numbers["m"], numbers["d"], numbers["H"], numbers["M"])
    except ValueError:
        raise ValueError(f"date impossible « {text} »") from None
    local = naive.replace(tzinfo=PARIS)
    if local.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise ValueError(f"heure inexistante à Paris (passage à l'heure d'été) « {text} »")
    return local
