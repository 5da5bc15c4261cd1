"""Re-import a wiki into a data folder: which fiches are new, updated, unchanged or retired.

An entry is mapped again only if it is new or its `date_maj_fiche` differs from the
`dct:modified` of its fiche in data/rdf (or with `full`); the other fiches are kept as they
are, with the provenance of the import that wrote them. A fiche the wiki no longer publishes
is retired: its file is removed from data/rdf and the summary says so; an instance that
served it retires it when it next loads data/ (`writes.sync_data`: 410 Gone, history kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, PROV

from .. import datadir
from ..errors import SourceError
from ..iris import DEFAULT_BASE, Iris
from ..namespaces import bind_prefixes
from .yeswiki import WikiForm, entry_time, is_published


@dataclass
class Changes:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    #: entries the wiki holds but has not validated (statut_fiche ≠ "1")
    unpublished: list[str] = field(default_factory=list)

    @property
    def to_map(self) -> list[str]:
        return sorted(self.new + self.updated)


def existing_fiches(data_dir: Path) -> dict[str, Graph]:
    """The fiches of data/rdf, by tag, IRIs resolved the way `datadir.write` relativises them."""
    return dict(datadir.read_fiches(data_dir, DEFAULT_BASE))


def compare(wiki: WikiForm, existing: Mapping[str, Graph], *, full: bool = False) -> Changes:
    """Sort the wiki's entries and the data folder's fiches into the kinds of change."""
    changes = Changes()
    iris = Iris(DEFAULT_BASE)
    for tag, entry in sorted(wiki.entries.items()):
        if not is_published(entry):
            changes.unpublished.append(tag)
            continue
        try:
            modified = entry_time(entry, "date_maj_fiche")
        except SourceError as error:
            raise SourceError(error.message, fiche=tag) from None
        if tag not in existing:
            changes.new.append(tag)
        elif full or modified is None or _modified(existing[tag], iris.fiche(tag)) != modified:
            changes.updated.append(tag)
        else:
            changes.unchanged.append(tag)
    published = set(changes.new + changes.updated + changes.unchanged)
    changes.retired = sorted(set(existing) - published)
    if existing and not published:
        raise SourceError(
            f"le wiki ne publie aucune fiche du formulaire {wiki.form.id} : les {len(existing)} "
            "fiches de data/rdf ne sont pas retirées (formulaire vide, fiches non validées ou "
            "API fermée ?). Rien n'a été écrit."
        )
    return changes


def _modified(graph: Graph, fiche: URIRef) -> datetime | None:
    value = graph.value(fiche, DCTERMS.modified)
    found = value.toPython() if value is not None else None
    return found if isinstance(found, datetime) else None


def merged_provenance(data_dir: Path, kept: Mapping[str, Graph], run: Graph) -> Graph:
    """The new run's provenance plus that of earlier runs still cited by the kept fiches."""
    merged = bind_prefixes(Graph())
    merged += run
    previous = data_dir / datadir.RDF_DIR / datadir.IMPORT_FILE
    if not previous.exists():
        return merged
    old = datadir.read_turtle(previous, DEFAULT_BASE)
    runs = {o for g in kept.values() for o in g.objects(None, PROV.wasGeneratedBy)}
    for triple in old:
        subject = str(triple[0]).split("#", 1)[0]
        if URIRef(subject) in runs:
            merged.add(triple)
    return merged


@dataclass
class Summary:
    """What an import did, for people, in French."""

    source: str
    changes: Changes
    left_out: tuple[str, ...] = ()
    notes: dict[str, list[str]] = field(default_factory=dict)
    written: Path | None = None

    def lines(self) -> list[str]:
        c = self.changes
        published = len(c.new) + len(c.updated) + len(c.unchanged)
        out = [f"{self.source} : {published} fiche(s) publiée(s)."]
        out += _names("nouvelle(s)", c.new)
        out += _names("mise(s) à jour", c.updated)
        out.append(f"inchangée(s) : {len(c.unchanged)} (gardée(s) telle(s) quelle(s))")
        out.append(f"retirée(s) : {len(c.retired)}")
        out += [
            f"retirée : {tag} — n'est plus publiée sur le wiki ; son fichier est retiré de "
            "data/rdf (une instance qui la servait la retire à son prochain chargement de data/ : "
            "410 Gone, historique gardé)"
            for tag in c.retired
        ]
        out += [
            f"non publiée : {tag} — pas encore validée sur le wiki, ignorée"
            for tag in c.unpublished
        ]
        out += list(self.left_out)
        for tag, notes in sorted(self.notes.items()):
            out += [f"fiche {tag} : {note}" for note in notes]
        if self.written:
            out.append(f"Écrit dans {self.written}.")
        else:
            out.append("Rien n'a changé : data/rdf n'a pas été réécrit.")
        return out


def _names(what: str, tags: list[str]) -> list[str]:
    return [f"{what} : {len(tags)}" + (f" — {', '.join(tags)}" if tags else "")]
