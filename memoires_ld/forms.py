"""The form of a fiche, generated from the SHACL shapes (its values: formdata.py).

`form_model(shapes, lang)` reads the shapes (shapes/fiche.ttl): the properties of the shapes
targeting mld:Fiche, with the action's (`sh:node`) inlined, each field with its sh:name,
sh:description (page language), sh:group, sh:order, required mark (sh:minCount), and a
widget from its constraints and dash:editor: `sh:in` → checkboxes, or radio buttons with
sh:maxCount 1 (labels: the concepts' skos:prefLabel); xsd:gYear → years; IRIs → URLs;
rdf:langString → text (a text area, written in Markdown, for dash:TextAreaWithLangEditor);
a `dash:DetailsEditor` onto a node shape → repeatable rows of that shape's fields: authors
and contributors (name, and person/organisation), images (file name and caption: files are
named, not uploaded here). Not fields: `dash:hidden` and `dash:readOnly` properties
(managed by the server), rdf:HTML (rendered from the Markdown). A value the server fills
when left empty (the credit: the authors' names) is never marked required.

Its values ↔ a fiche graph: formdata.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import FOAF, RDF, RDFS, SH, XSD
from rdflib.term import Node

from . import vocabulary
from .namespaces import DASH, MLD, SCHEMA

#: Required by the shapes, but filled by the server when left empty (formdata.py): the
#: person is not asked for them. Their help says so.
SERVER_FILLED = {
    SCHEMA.creditText: {
        "fr": "Laissé vide, il reprend les noms des auteur·rices.",
        "en": "Left empty, it takes the authors' names.",
    },
}
#: FOAF's classes have no French label in our vocabulary.
FOAF_LABELS = {
    "fr": {FOAF.Person: "Personne", FOAF.Organization: "Organisation", FOAF.Agent: "Ne sait pas"},
    "en": {FOAF.Person: "Person", FOAF.Organization: "Organisation", FOAF.Agent: "Unknown"},
}


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass
class Field:
    name: str  # the HTML name: the shape's local name, e.g. "Fiche-titre"
    shape: Node
    path: URIRef
    node: str  # "fiche" or "action"
    label: str
    help: str
    group: Node | None
    order: float
    required: bool
    multiple: bool
    widget: str  # text, markdown, checkboxes, radios, years, url, urls, agents, images
    datatype: URIRef | None = None
    options: list[Option] = field(default_factory=list)
    pattern: str | None = None
    #: for the rows widgets ("agents", "images"): the fields of each row
    parts: list[Field] = field(default_factory=list)

    @property
    def rows(self) -> bool:
        return self.widget in ("agents", "images")


@dataclass
class Group:
    node: Node | None
    label: str
    order: float
    fields: list[Field] = field(default_factory=list)


@dataclass
class FormModel:
    groups: list[Group]
    lang: str

    @property
    def fields(self) -> list[Field]:
        return [f for g in self.groups for f in g.fields]

    def field_for(self, node: str, path) -> Field | None:
        """The field showing (node, path); a sequence path from the fiche goes to the action."""
        if isinstance(path, tuple):
            if len(path) == 2 and path[0] == SCHEMA.mainEntity:
                node, path = "action", path[1]
            else:
                return None
        for f in self.fields:
            if (f.node, f.path) == (node, path):
                return f
            if f.rows and any((p.node, p.path) == (node, path) for p in f.parts):
                return f
        return None


# --------------------------------------------------------------------- reading the shapes


def _text(shapes: Graph, node: Node, predicate: URIRef, lang: str) -> str:
    by_lang = {getattr(v, "language", None): str(v) for v in shapes.objects(node, predicate)}
    return by_lang.get(lang) or by_lang.get("fr") or by_lang.get(None) or ""


def _number(shapes: Graph, node: Node | None, predicate: URIRef, default: float) -> float:
    value = shapes.value(node, predicate) if node is not None else None
    return float(value) if isinstance(value, Literal) else default


def _label(value: Node, lang: str) -> str:
    if value in FOAF_LABELS["fr"]:
        return FOAF_LABELS.get(lang, FOAF_LABELS["fr"])[value]
    return vocabulary.pref_label(value, lang)


def _field(shapes: Graph, shape: Node, node: str, lang: str) -> Field | None:
    path = shapes.value(shape, SH.path)
    editor = shapes.value(shape, DASH.editor)
    datatype = shapes.value(shape, SH.datatype)
    if not isinstance(path, URIRef) or datatype == RDF.HTML:
        return None
    if (shape, DASH.hidden, Literal(True)) in shapes:
        return None
    if (shape, DASH.readOnly, Literal(True)) in shapes:
        return None
    max_count = shapes.value(shape, SH.maxCount)
    multiple = not (isinstance(max_count, Literal) and int(max_count) == 1)
    base = {
        "name": str(shape).rsplit("#", 1)[-1],
        "shape": shape,
        "path": path,
        "node": node,
        "label": _text(shapes, shape, SH.name, lang) or str(path),
        "help": " ".join(
            t for t in (_text(shapes, shape, SH.description, lang), _filled(path, lang)) if t
        ),
        "group": shapes.value(shape, SH.group),
        "order": _number(shapes, shape, SH.order, 99),
        "required": _number(shapes, shape, SH.minCount, 0) >= 1 and path not in SERVER_FILLED,
        "multiple": multiple,
        "datatype": datatype,
        "pattern": str(shapes.value(shape, SH.pattern) or "") or None,
    }
    choices = shapes.value(shape, SH["in"])
    target = shapes.value(shape, SH.node)
    if choices is not None:
        options = [Option(str(v), _label(v, lang)) for v in Collection(shapes, choices)]
        return Field(**base, widget="checkboxes" if multiple else "radios", options=options)
    if editor == DASH.DetailsEditor and target is not None:
        images = (shape, SH["class"], SCHEMA.ImageObject) in shapes
        kind = "image" if images else "agent"
        parts = [
            f
            for s in shapes.objects(target, SH.property)
            if (f := _part(shapes, s, kind, lang)) is not None
        ]
        widget = "images" if images else "agents"
        return Field(**base, widget=widget, parts=sorted(parts, key=lambda f: f.order))
    if datatype == XSD.gYear:
        return Field(**base, widget="years")
    if (shape, SH.nodeKind, SH.IRI) in shapes or editor == DASH.URIEditor:
        return Field(**base, widget="urls" if multiple else "url")
    if editor == DASH.TextAreaWithLangEditor or (shape, DASH.singleLine, Literal(False)) in shapes:
        return Field(**base, widget="markdown")
    return Field(**base, widget="text")


def _filled(path: Node, lang: str) -> str:
    texts = SERVER_FILLED.get(path, {})
    return texts.get(lang) or texts.get("fr", "")


def _part(shapes: Graph, shape: Node, node: str, lang: str) -> Field | None:
    """A field of a row (`node`: "agent" or "image"): a text, or a type (a qualified sh:in)."""
    qualified = shapes.value(shape, SH.qualifiedValueShape)
    if qualified is not None and shapes.value(qualified, SH["in"]) is not None:
        path = shapes.value(shape, SH.path)
        values = Collection(shapes, shapes.value(qualified, SH["in"]))
        return Field(
            name=str(shape).rsplit("#", 1)[-1],
            shape=shape,
            path=path,
            node=node,
            label=_text(shapes, shape, SH.name, lang),
            help=_text(shapes, shape, SH.description, lang),
            group=None,
            order=_number(shapes, shape, SH.order, 99),
            required=True,
            multiple=False,
            widget="radios",
            options=[Option(str(v), _label(v, lang)) for v in values],
        )
    return _field(shapes, shape, node, lang)


def form_model(shapes: Graph, lang: str = "fr") -> FormModel:
    """The form of a fiche, from the shapes targeting mld:Fiche (action inlined)."""
    fields: list[Field] = []
    for node_shape in sorted(shapes.subjects(SH.targetClass, MLD.Fiche), key=str):
        for shape in shapes.objects(node_shape, SH.property):
            target = shapes.value(shape, SH.node)
            if shapes.value(shape, SH.path) == SCHEMA.mainEntity and target is not None:
                for inner in shapes.objects(target, SH.property):
                    if (f := _field(shapes, inner, "action", lang)) is not None:
                        fields.append(f)
            elif (f := _field(shapes, shape, "fiche", lang)) is not None:
                fields.append(f)
    groups: dict[Node | None, Group] = {}
    for f in fields:
        if f.group not in groups:
            label = _text(shapes, f.group, RDFS.label, lang) if f.group is not None else ""
            groups[f.group] = Group(f.group, label, _number(shapes, f.group, SH.order, 99))
        groups[f.group].fields.append(f)
    ordered = sorted(groups.values(), key=lambda g: (g.order, g.label))
    for group in ordered:
        group.fields.sort(key=lambda f: (f.order, f.name))
    return FormModel(ordered, lang)


@cache
def default_model(lang: str = "fr") -> FormModel:
    from .validation import load_shapes

    return form_model(load_shapes(), lang)
