"""Realistic synthetic fiches, written as a data folder (deterministic: random.Random(seed)).

Each fiche is a `FicheRecord` — French title and a 1–3 KB description with accents, the real
facet schemes and licences (about 3 % "Licence non-libre"), authors from a pool, years
2010–2025 — mapped by `memoires_ld.mapping.map_fiche`, then written like `data/rdf/fiches/`
(one Turtle file per fiche, IRIs relative to the base).

    python bench/synthetic.py 10000 /tmp/data-10k
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyoxigraph as ox
from rdflib import BNode, Literal

from memoires_ld import datadir, vocabulary
from memoires_ld.iris import DEFAULT_BASE, Iris
from memoires_ld.mapping import map_fiche
from memoires_ld.namespaces import PREFIXES
from memoires_ld.record import Agent, Block, FicheRecord, Link

PARIS = ZoneInfo("Europe/Paris")
WORDS = """coopération atelier réseau numérique éducation populaire habitat participatif
jeunes fablab territoire rural quartier école démocratie citoyens gouvernance partagée
outils collaboratifs animation réunion séminaire formation accompagnement médiation culture
solidarité émancipation écoute échanges méthode bilan évaluation projet collectif
association mairie bénévoles salariés élus café débat enquête cartographie œuvre façon
déjà être élève à côté entraide réflexion créativité sécurité intérêt général""".split()  # noqa: SIM905
FIRST = "Alice Sarah Romain Sylvain Cyrille Malvina Stéphane Catherine Hélène Noël Zoé".split()  # noqa: SIM905
LAST = "Oechsner Gaucher Lalande Boyer Giquello Balmès Caillaud Lenoble Lefèvre Müller".split()  # noqa: SIM905
ORGS = ("Collectif Osons", "FunLab", "Vecam", "Cré-sol", "La Fabrique des Communs")
ROLES = ("", "", "rédaction", "animation et rédaction", "intervention")


def _sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, size: int) -> str:
    text = ""
    while len(text.encode()) < size:
        text += _sentence(rng) + " "
    return text.strip()


def _agents(count: int) -> list[Agent]:
    people = [
        Agent(
            f"{first}-{last}-{n}".lower().replace("é", "e").replace("è", "e").replace("ü", "u"),
            f"{first} {last}",
            "person",
        )
        for n in range(max(1, count // 10) + 1)
        for first in FIRST
        for last in LAST[:1]
    ]
    return people[: max(count - len(ORGS), 1)] + [
        Agent(re.sub(r"[^a-z0-9]+", "-", o.lower()), o, "organization") for o in ORGS
    ]


def records(n: int, seed: int = 1) -> list[FicheRecord]:
    """`n` synthetic FicheRecords."""
    rng = random.Random(seed)
    concepts = {s: vocabulary.concepts(s) for s in ("nature", "participants", "duree")}
    statuses, successes = vocabulary.concepts("statut"), vocabulary.concepts("reussite")
    licences = vocabulary.concepts("licence")  # CC BY-SA, CC0, non-libre
    pool = _agents(max(n // 4, 20))
    out = []
    for number in range(n):
        title = _sentence(rng, 3, 9).rstrip(".")
        tag = re.sub(r"[^A-Za-z0-9]", "", title.title().encode("ascii", "ignore").decode())
        tag = f"{tag[:32]}{number:06d}"
        size = rng.randint(1000, 3000)
        blocks = [Block("paragraph", text=_paragraph(rng, size // 2))]
        if rng.random() < 0.4:
            blocks.append(Block("heading", text=_sentence(rng, 2, 5)))
        if rng.random() < 0.3:
            blocks.append(Block("list", items=tuple(_sentence(rng, 3, 8) for _ in range(3))))
        blocks.append(Block("paragraph", text=_paragraph(rng, size // 2)))
        if rng.random() < 0.2:
            blocks.append(Block("image", text=_sentence(rng, 3, 6), file="photo.jpg", size="80 Ko"))
        authors = [
            Agent(a.slug, a.name, a.kind, rng.choice(ROLES) if a.kind == "person" else "")
            for a in rng.sample(pool, rng.randint(1, 3))
        ]
        created = datetime(2010, 1, 1, tzinfo=PARIS) + timedelta(minutes=rng.randrange(8_000_000))
        modified = created + timedelta(minutes=rng.randrange(200_000))
        roll = rng.random()
        licence = licences[0] if roll < 0.9 else licences[1] if roll < 0.97 else licences[2]
        first_year = rng.randint(2010, 2025)
        out.append(
            FicheRecord(
                tag=tag,
                title=title,
                natures=rng.sample(concepts["nature"], rng.randint(1, 2)),
                participants=[rng.choice(concepts["participants"])],
                durations=[rng.choice(concepts["duree"])],
                status=rng.choice(statuses),
                success=rng.choice(successes),
                years=sorted({min(first_year + k, 2025) for k in range(rng.randint(1, 3))}),
                description=blocks,
                links=[Link("documentation", f"https://exemple.org/doc/{number}")]
                if rng.random() < 0.3
                else [],
                authors_raw=" ; ".join(a.name for a in authors),
                authors=authors,
                licence=licence,
                owner=rng.choice(FIRST) + rng.choice(LAST),
                created=created,
                modified=modified,
                source=f"http://osons.cc/wakka.php?wiki={tag}",
            )
        )
    return out


def _ox(term):
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None:
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    return ox.NamedNode(str(term))


def write(data_dir: Path, n: int, seed: int = 1, base: str = DEFAULT_BASE) -> list[str]:
    """Write `n` synthetic fiches into `data_dir/rdf/fiches/`; return their tags.

    Serialised with pyoxigraph (rdflib's Turtle writer takes minutes at 100k fiches); IRIs
    under the base are made relative, as `datadir.to_relative_turtle` does.
    """
    iris = Iris(base)
    folder = data_dir / datadir.RDF_DIR / datadir.FICHES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tags = []
    relative = re.compile(r"<" + re.escape(base) + r"([^<>\s\"]*)>")
    for record in records(n, seed):
        graph = map_fiche(record, iris)
        triples = [ox.Triple(*(_ox(t) for t in triple)) for triple in graph]
        text = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode()
        (folder / f"{record.tag}.ttl").write_text(relative.sub(r"<\1>", text), encoding="utf-8")
        tags.append(record.tag)
    return tags


# -- a served store, built straight from quads (the bench measures serving, not import) --

TEMPLATES = 500
_TAG, _TITLE = "ZzTemplateTagZz", "Zz titre du modèle zZ"


def _templates(count: int, seed: int, base: str) -> list[str]:
    """N-Quads of `count` mapped fiches, their tag and title left as placeholders; each
    with a small first revision (by "import", no reified statements)."""
    from memoires_ld import history
    from memoires_ld.writes import IMPORT_AGENT

    iris, at = Iris(base), datetime(2026, 1, 1, tzinfo=PARIS)
    out = []
    for number, record in enumerate(records(count, seed)):
        graph = ox.NamedNode(iris.fiche(record.tag))
        quads = [ox.Quad(*(_ox(t) for t in triple), graph) for triple in map_fiche(record, iris)]
        revision = history.Revision(
            record.tag, 1, str(iris.revision(record.tag, 1)), "create", IMPORT_AGENT,
            str(iris.user(IMPORT_AGENT)), at,
        )  # fmt: skip
        quads += history.record(iris, revision, [], [])
        text = ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode()
        title = str(ox.Literal(record.title))[1:-1]
        text = text.replace(record.tag, _TAG).replace(f'"{title}"', f'"{_TITLE}"')
        out.append(text.replace("_:", f"_:t{number}x"))
    return out


def write_quads(target: Path, n: int, seed: int = 1, base: str = DEFAULT_BASE) -> list[str]:
    """Write the N-Quads of `n` fiches to `target`; return their tags. `TEMPLATES` fiches
    are mapped by `map_fiche`, then copied under new tags and titles (mapping each fiche
    takes ≈10 ms: 15 min at 100k)."""
    templates = _templates(min(n, TEMPLATES), seed, base)
    rng = random.Random(seed)
    tags = []
    with open(target, "w", encoding="utf-8") as out:
        for number in range(n):
            title = _sentence(rng, 3, 9).rstrip(".")
            tag = re.sub(r"[^A-Za-z0-9]", "", title.title().encode("ascii", "ignore").decode())
            tag = f"{tag[:32]}{number:06d}"
            text = templates[number % len(templates)].replace(_TAG, tag)
            out.write(text.replace(_TITLE, title).replace("_:t", f"_:n{number}t"))
            tags.append(tag)
    return tags


def build_instance(instance: Path, data_dir: Path, n: int, seed: int = 1, base: str = DEFAULT_BASE):
    """An instance folder serving `n` synthetic fiches, as `memoires-ld serve` would have
    left it after loading them (empty data/, so a restart reopens it); return the tags."""
    from memoires_ld import loading, store
    from memoires_ld.history import DATA_DIGEST, META, META_GRAPH, STORE_ID

    (data_dir / datadir.RDF_DIR / datadir.FICHES_DIR).mkdir(parents=True, exist_ok=True)
    instance.mkdir(parents=True, exist_ok=True)
    current = f"synthetic{n}s{seed}-{store.code_version()}-{store._digest(base)}"
    path = instance / f"store-{current}"
    nquads = instance / "synthetic.nq"
    tags = write_quads(nquads, n, seed, base)
    oxigraph = ox.Store(str(path))
    oxigraph.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    nquads.unlink()
    for graph, (digest, found) in loading.other_graphs(base, data_dir).items():
        oxigraph.bulk_extend(found)
        key = loading.source_key(graph)
        oxigraph.add(ox.Quad(key, DATA_DIGEST, ox.Literal(digest), META_GRAPH))
    oxigraph.add(ox.Quad(META, STORE_ID, ox.Literal(f"synthetic-{n}-{seed}"), META_GRAPH))
    oxigraph.flush()
    oxigraph.optimize()
    del oxigraph
    stamp = store.data_stamp(data_dir, base)
    (instance / store.POINTER).write_text(f"{current}\n{stamp}\n")
    return tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of fiches")
    parser.add_argument("data_dir", type=Path, help="data folder to write (data/rdf inside)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    tags = write(args.data_dir, args.n, args.seed)
    print(f"{len(tags)} fiches written to {args.data_dir / 'rdf/fiches'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
