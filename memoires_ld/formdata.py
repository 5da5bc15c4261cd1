"""A fiche's form values ↔ its graph (the form itself: forms.py).

`fiche_graph(model, values, iris, tag, old)` builds the graph through `mapping.map_fiche`
(which adds the aligned duplicates: schema:name, pair:hasType, …); a field the mapping does
not know (a property added to the shapes) is written as is, on its node; images are
written from their rows (`#image-N`, numbered in the rows' order). Editing keeps what the
form does not show (an image's size and other-language captions, source, notes, other
publishers' properties), and a description left unchanged exactly as it was.
`values_from_graph` fills the form from a stored fiche.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from urllib.parse import unquote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS, XSD
from rdflib.term import Node

from . import richtext
from .forms import Field, FormModel
from .iris import Iris, slugify
from .mapping import map_fiche
from .namespaces import MLD, PAIR, SCHEMA
from .record import Agent, FicheRecord, Link

AGENT_KINDS = {FOAF.Person: "person", FOAF.Organization: "organization", FOAF.Agent: "agent"}
LINK_KINDS = {
    MLD.cahierDesCharges: "cahier-des-charges",
    MLD.reponse: "reponse",
    MLD.documentation: "documentation",
    DCTERMS.references: "autre",
}
#: The fields the mapping writes from a FicheRecord attribute (the others: by their path).
RECORD = {
    DCTERMS.title: "title",
    DCTERMS.type: "natures",
    MLD.participants: "participants",
    DCTERMS.extent: "durations",
    PAIR.hasStatus: "status",
    MLD.reussite: "success",
    DCTERMS.temporal: "years",
    SCHEMA.creditText: "authors_raw",
    DCTERMS.creator: "authors",
    DCTERMS.license: "licence",
    **{p: "links" for p in LINK_KINDS},
}
YEAR = re.compile(r"[0-9]{4}")
# ------------------------------------------------------------------ posted values → graph


def values_from_form(model: FormModel, form) -> dict[str, list[str]]:
    """The values of each field as posted (a werkzeug MultiDict); the rows of agents and
    images are `<field>-<row>-<part>`."""
    values: dict[str, list[str]] = {}
    for f in model.fields:
        if f.rows:
            prefix = f"{f.name}-"
            values.update({k: form.getlist(k) for k in form if k.startswith(prefix)})
        else:
            values[f.name] = form.getlist(f.name)
    return values


def agent_rows(model_field: Field, values: dict[str, list[str]]) -> list[dict[str, str]]:
    """The rows of an agents or images field, in order: {part name: value}."""
    pattern = re.compile(re.escape(model_field.name) + r"-([0-9]+)-(.+)")
    rows: dict[int, dict[str, str]] = {}
    for key, posted in values.items():
        if (match := pattern.fullmatch(key)) is not None:
            rows.setdefault(int(match[1]), {})[match[2]] = (posted or [""])[0]
    return [rows[i] for i in sorted(rows)]


def _years(texts: list[str]) -> list[str]:
    return [t for text in texts for t in re.split(r"[\s,;]+", text.strip()) if t]


def _links(texts: list[str]) -> list[str]:
    return [t for text in texts for t in re.split(r"\s+", text.strip()) if t]


def fiche_graph(
    model: FormModel, values: dict[str, list[str]], iris: Iris, tag: str, old: Graph | None
) -> Graph:
    """The fiche graph for posted values; `old` is the stored fiche when editing."""
    record = record_from_graph(old, iris, tag) if old is not None else FicheRecord(tag, "")
    record = replace(record, links=[], description=[])
    fiche, action = iris.fiche(tag), iris.action(tag)
    extra: list[tuple[Node, URIRef, Node]] = []
    raw_years: list[str] = []
    for f in model.fields:
        posted = [v.strip() for v in values.get(f.name, []) if v.strip()]
        subject = fiche if f.node == "fiche" else action
        attribute = RECORD.get(f.path)
        if f.widget == "agents":
            which = "authors" if f.path == DCTERMS.creator else "contributors"
            agents = _agents(f, values, getattr(record, which))
            record = replace(record, **{which: agents})
        elif f.widget == "images":
            extra += _images(f, values, iris, tag, old)
        elif f.path == DCTERMS.description:
            continue  # written below, from Markdown
        elif attribute == "links":
            urls = _links(posted) if f.widget == "urls" else posted[:1]
            record.links += [Link(LINK_KINDS[f.path], url) for url in urls]
        elif attribute == "years":
            raw_years = _years(posted)
            record = replace(record, years=[int(y) for y in raw_years if YEAR.fullmatch(y)])
        elif attribute in ("natures", "participants", "durations"):
            record = replace(record, **{attribute: [URIRef(v) for v in posted]})
        elif attribute in ("status", "success", "licence"):
            record = replace(record, **{attribute: URIRef(posted[0]) if posted else None})
        elif attribute in ("title", "authors_raw"):
            record = replace(record, **{attribute: posted[0] if posted else ""})
        else:  # a property the mapping does not know: as the shape says
            extra += [(subject, f.path, _term(f, v)) for v in posted]
    if not record.authors_raw and record.authors:
        record = replace(record, authors_raw=", ".join(a.name for a in record.authors))
    graph = map_fiche(record, iris)
    for s, p, o in extra:
        graph.add((s, p, o))
    for year in raw_years:
        if not YEAR.fullmatch(year):  # kept as typed, for the shapes to say what is wrong
            graph.add((action, DCTERMS.temporal, Literal(year, datatype=XSD.gYear)))
    if not record.title:
        for p in (DCTERMS.title, SCHEMA.name, PAIR.label):
            graph.remove((None, p, Literal("", lang="fr")))
            graph.remove((None, p, Literal("")))
    _add_description(graph, fiche, values, old)
    if old is not None:
        _keep_unshown(graph, old, model, iris, tag)
    return graph


def _term(f: Field, value: str) -> Node:
    if f.widget in ("url", "urls", "checkboxes", "radios"):
        return URIRef(value)
    if f.datatype == RDF.langString:
        return Literal(value, lang="fr")
    # xsd:string is written as a plain literal, as the mapping writes its strings (RDF 1.1)
    plain = f.datatype in (None, XSD.string)
    return Literal(value) if plain else Literal(value, datatype=f.datatype)


def _agents(f: Field, values: dict[str, list[str]], before: list[Agent]) -> list[Agent]:
    roles = {a.slug: a.role for a in before}
    name_part = next((p for p in f.parts if p.widget != "radios"), None)
    kind_part = next((p for p in f.parts if p.widget == "radios"), None)
    agents: list[Agent] = []
    for row in agent_rows(f, values):
        name = row.get(name_part.name, "").strip() if name_part else ""
        if not name:
            continue
        kind_iri = URIRef(row.get(kind_part.name, "")) if kind_part else FOAF.Agent
        slug = slugify(name)
        agents.append(Agent(slug, name, AGENT_KINDS.get(kind_iri, "agent"), roles.get(slug, "")))
    return agents


def _images(
    f: Field, values: dict[str, list[str]], iris: Iris, tag: str, old: Graph | None
) -> list[tuple[Node, URIRef, Node]]:
    """The images typed, as `#image-N` nodes (N in the rows' order); of an image already
    there (same file), what the form does not show is kept."""
    fiche = iris.fiche(tag)
    before = {}
    if old is not None:
        before = {str(old.value(n, SCHEMA.name)): n for n in old.objects(fiche, SCHEMA.image)}
    shown = {p.path for p in f.parts}
    first = f.parts[0].name  # the file
    rows = [r for r in agent_rows(f, values) if r.get(first, "").strip()]
    triples: list[tuple[Node, URIRef, Node]] = []
    for number, row in enumerate(rows, start=1):
        node = iris.image(tag, number)
        triples += [(fiche, SCHEMA.image, node), (node, RDF.type, SCHEMA.ImageObject)]
        for part in f.parts:
            if value := row.get(part.name, "").strip():
                triples.append((node, part.path, _term(part, value)))
        kept = before.get(row[first].strip())
        for _, p, o in old.triples((kept, None, None)) if kept is not None else ():
            if p not in shown or getattr(o, "language", "fr") != "fr":
                triples.append((node, p, o))
    return triples


def _image_number(node: Node) -> int:
    number = str(node).rsplit("-", 1)[-1]
    return int(number) if number.isdigit() else 0


def description_markdown(graph: Graph, fiche: URIRef) -> str:
    """The description of a stored fiche as Markdown: from its HTML, else its plain text."""
    html = graph.value(fiche, SCHEMA.articleBody)
    if html is not None:
        return richtext.from_html(str(html))
    by_lang = {
        getattr(o, "language", None): str(o) for o in graph.objects(fiche, DCTERMS.description)
    }
    return by_lang.get("fr") or next(iter(by_lang.values()), "")


def _add_description(graph: Graph, fiche: URIRef, values: dict, old: Graph | None) -> None:
    """The plain text and the HTML of the description typed in Markdown (richtext.py)."""
    name = next((k for k in values if k.endswith("-description")), None)
    text = (values.get(name) or [""])[0].replace("\r\n", "\n").strip() if name else ""
    if old is not None and description_markdown(old, fiche).strip() == text:
        for p in (DCTERMS.description, SCHEMA.articleBody):  # unchanged: kept exactly
            for o in old.objects(fiche, p):
                graph.add((fiche, p, o))
        return
    if text:
        graph.add((fiche, DCTERMS.description, Literal(richtext.to_text(text), lang="fr")))
        graph.add((fiche, SCHEMA.articleBody, Literal(richtext.to_html(text), datatype=RDF.HTML)))


@cache
def _mapped_predicates() -> frozenset[URIRef]:
    """Every predicate map_fiche writes on a fiche or its action (from a record with all)."""
    iris = Iris()
    everything = FicheRecord(
        tag="T",
        title="t",
        natures=[URIRef("urn:x:n")],
        participants=[URIRef("urn:x:p")],
        durations=[URIRef("urn:x:d")],
        status=URIRef("urn:x:s"),
        success=URIRef("urn:x:r"),
        years=[2000],
        links=[Link(kind, "http://x/") for kind in LINK_KINDS.values()],
        authors_raw="a",
        authors=[Agent("a", "A", "person", "r")],
        contributors=[Agent("c", "C")],
        licence=URIRef("urn:x:l"),
        owner="o",
        source="http://x/s",
        notes=["n"],
    )
    graph = map_fiche(everything, iris)
    nodes = {iris.fiche("T"), iris.action("T")}
    return frozenset(p for s, p, _ in graph if s in nodes)


def _keep_unshown(graph: Graph, old: Graph, model: FormModel, iris: Iris, tag: str) -> None:
    """Keep the old triples the form does not show: images, other publishers' properties."""
    fiche, action = iris.fiche(tag), iris.action(tag)
    shown = _mapped_predicates() | {f.path for f in model.fields} | {SCHEMA.articleBody}
    shown |= {DCTERMS.created, SCHEMA.dateCreated, DCTERMS.modified, SCHEMA.dateModified}
    kept_nodes = []
    for s, p, o in old:
        if s in (fiche, action) and p not in shown:
            graph.add((s, p, o))
            if isinstance(o, URIRef) and str(o).startswith(str(fiche) + "#"):
                kept_nodes.append(o)
    for node in kept_nodes:
        for triple in old.triples((node, None, None)):
            graph.add(triple)
    for p in (DCTERMS.created, SCHEMA.dateCreated):
        for o in old.objects(fiche, p):
            graph.add((fiche, p, o))


def _old_links(old: Graph, iris: Iris, tag: str) -> list[Link]:
    fiche = iris.fiche(tag)
    return [Link(kind, str(o)) for p, kind in LINK_KINDS.items() for o in old.objects(fiche, p)]


# --------------------------------------------------------------- stored graph → values


def record_from_graph(graph: Graph, iris: Iris, tag: str) -> FicheRecord:
    """What map_fiche would need to write `graph` again (its images and text aside)."""
    fiche, action = iris.fiche(tag), iris.action(tag)

    def one(node, p):
        return graph.value(node, p)

    def fr(node, p) -> str:
        by_lang = {getattr(v, "language", None): str(v) for v in graph.objects(node, p)}
        return by_lang.get("fr") or next(iter(by_lang.values()), "")

    owner = one(fiche, SCHEMA.maintainer)
    created = one(fiche, DCTERMS.created)
    return FicheRecord(
        tag=tag,
        title=fr(fiche, DCTERMS.title),
        natures=sorted(graph.objects(action, DCTERMS.type)),
        participants=sorted(graph.objects(action, MLD.participants)),
        durations=sorted(graph.objects(action, DCTERMS.extent)),
        status=one(action, PAIR.hasStatus),
        success=one(action, MLD.reussite),
        years=sorted(int(y) for y in graph.objects(action, DCTERMS.temporal) if YEAR.fullmatch(y)),
        links=_old_links(graph, iris, tag),
        authors_raw=str(one(fiche, SCHEMA.creditText) or ""),
        authors=_graph_agents(graph, fiche, DCTERMS.creator, iris, tag),
        contributors=_graph_agents(graph, action, PAIR.involves, iris, tag),
        licence=one(fiche, DCTERMS.license),
        owner=str(graph.value(owner, FOAF.accountName) or "") or None if owner else None,
        created=created.toPython() if created is not None else None,
        source=str(one(fiche, DCTERMS.source)) if one(fiche, DCTERMS.source) else None,
        notes=sorted(str(n) for n in graph.objects(fiche, SKOS.editorialNote)),
    )


def _graph_agents(graph: Graph, node, predicate, iris: Iris, tag: str) -> list[Agent]:
    roles = {}
    for attribution in graph.objects(iris.fiche(tag), PROV.qualifiedAttribution):
        agent = graph.value(attribution, PROV.agent)
        role = graph.value(attribution, SCHEMA.roleName)
        if agent is not None and role is not None:
            roles[agent] = str(role)
    agents = []
    for agent in sorted(graph.objects(node, predicate), key=str):
        types = set(graph.objects(agent, RDF.type))
        kind = next((k for t, k in AGENT_KINDS.items() if t in types and k != "agent"), "agent")
        slug = unquote(str(agent).rsplit("/", 1)[-1])
        name = str(graph.value(agent, FOAF.name) or slug)
        agents.append(Agent(slug, name, kind, roles.get(agent, "")))
    return agents


def values_from_graph(model: FormModel, graph: Graph, iris: Iris, tag: str) -> dict[str, list[str]]:
    """The form's values for a stored fiche."""
    fiche, action = iris.fiche(tag), iris.action(tag)
    values: dict[str, list[str]] = {}
    for f in model.fields:
        subject = fiche if f.node == "fiche" else action
        if f.widget == "images":
            for i, node in enumerate(sorted(graph.objects(subject, f.path), key=_image_number)):
                for part in f.parts:
                    by_lang = {
                        getattr(o, "language", None): str(o) for o in graph.objects(node, part.path)
                    }
                    found = by_lang.get("fr") or by_lang.get(None)
                    if found:
                        values[f"{f.name}-{i}-{part.name}"] = [found]
            continue
        if f.widget == "agents":
            for i, agent in enumerate(_graph_agents(graph, subject, f.path, iris, tag)):
                kind = next(t for t, k in AGENT_KINDS.items() if k == agent.kind)
                for part in f.parts:
                    value = str(kind) if part.widget == "radios" else agent.name
                    values[f"{f.name}-{i}-{part.name}"] = [value]
            continue
        found = [str(o) for o in graph.objects(subject, f.path)]
        if f.path == DCTERMS.description and f.node == "fiche":
            found = [description_markdown(graph, subject)]
        elif f.path == DCTERMS.title:
            by_lang = {getattr(o, "language", None): str(o) for o in graph.objects(subject, f.path)}
            found = [by_lang.get("fr") or next(iter(by_lang.values()), "")]
        if f.widget in ("years", "urls"):
            found = [(", " if f.widget == "years" else "\n").join(sorted(found))] if found else []
        values[f.name] = found
    return values
