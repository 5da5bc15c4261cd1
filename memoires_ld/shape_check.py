"""The shapes compiled once into plain checks: does a fiche surely conform? (#7, bulk loads)

pyshacl costs ~8 ms per fiche even with a reused Validator, plus ~3 ms to build its rdflib
graph. The bulk path only needs a verdict, and almost every fiche conforms. So the shapes
graph is read once into Python closures over the SHACL features our shapes use (targets by
class; property paths that are an IRI or a sequence of IRIs; minCount, maxCount, datatype,
nodeKind, in, pattern, languageIn, uniqueLang, class, node, qualifiedValueShape with
qualifiedMinCount/MaxCount, lessThanOrEquals; severities), run on pyoxigraph's own terms.

It only ever answers "surely conforms" or "ask pyshacl": `surely_conforms` is True when no
check of Violation severity fails; whenever it finds a failure, meets a literal it cannot
read, or the data could change targets (rdfs:subClassOf), it answers False and the caller
runs pyshacl, the authority that writes the report. Shapes using a feature not listed above
do not compile (`Unsupported`): then every fiche goes to pyshacl. tests/test_shape_check.py
compares both on every conforming and violating variant of tests/test_shapes.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from .namespaces import DASH

#: Index of one fiche: subject → predicate → objects.
Index = dict[ox.NamedNode | ox.BlankNode, dict[ox.NamedNode, list]]
#: A compiled shape: (index, focus node, strict) → conforms. `strict` counts every
#: severity (inside sh:node and qualified shapes: a nested result fails the value).
Check = Callable[[Index, object, bool], bool]

TYPE = ox.NamedNode(str(RDF.type))
SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
LANG_STRING = str(RDF.langString)
#: Annotations that do not validate anything.
IGNORED = {
    SH.name, SH.description, SH.message, SH.order, SH.group, SH.defaultValue,
    SH.property, SH.targetClass, SH.severity, SH.path,
    DASH.editor, DASH.viewer, DASH.singleLine, DASH.readOnly, DASH.hidden,
}  # fmt: skip


class Unsupported(Exception):
    """The shapes use a SHACL feature this module does not compile."""


def _ox(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        datatype = term.datatype or XSD.string
        return ox.Literal(str(term), datatype=ox.NamedNode(str(datatype)))
    raise Unsupported(f"a blank node where a value is expected: {term}")


# ------------------------------------------------------------------------ literal forms

_DATE_TIME = re.compile(r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                        r"(Z|[+-][0-9]{2}:[0-9]{2})?")  # fmt: skip
_G_YEAR = re.compile(r"[0-9]{4}(Z|[+-][0-9]{2}:[0-9]{2})?")


def _date_time(value: str) -> datetime | None:
    if not _DATE_TIME.fullmatch(value) or value.startswith("-"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


#: Datatypes whose lexical forms we can vouch for: any string, or a checked form.
WELL_FORMED: dict[str, Callable[[str], bool]] = {
    str(XSD.string): lambda v: True,
    LANG_STRING: lambda v: True,
    str(RDF.HTML): lambda v: True,  # read as text by the bulk path (bulkload._start_worker)
    str(XSD.dateTime): lambda v: _date_time(v) is not None,
    str(XSD.gYear): lambda v: _G_YEAR.fullmatch(v) is not None,
}


# ------------------------------------------------------------------------ value checks


def _values(index: Index, focus, path: list[ox.NamedNode]) -> list:
    nodes = [focus]
    for step in path:
        found = []
        for node in nodes:
            for value in index.get(node, {}).get(step, ()):
                if value not in found:
                    found.append(value)
        nodes = found
    return nodes


def _datatype(datatype: str) -> Callable:
    if datatype not in WELL_FORMED:
        raise Unsupported(f"sh:datatype {datatype}")
    readable = WELL_FORMED[datatype]

    def check(index, focus, values):
        return all(
            isinstance(v, ox.Literal) and v.datatype.value == datatype and readable(v.value)
            for v in values
        )

    return check


def _node_kind(kind: URIRef) -> Callable:
    kinds = {SH.IRI: (ox.NamedNode,), SH.Literal: (ox.Literal,), SH.BlankNode: (ox.BlankNode,)}
    if kind not in kinds:
        raise Unsupported(f"sh:nodeKind {kind}")
    return lambda index, focus, values: all(isinstance(v, kinds[kind]) for v in values)


def _in(shapes: Graph, head) -> Callable:
    allowed = {_ox(term) for term in Collection(shapes, head)}
    return lambda index, focus, values: all(v in allowed for v in values)


def _pattern(regex: str) -> Callable:
    compiled = re.compile(regex)
    return lambda index, focus, values: all(
        not isinstance(v, ox.BlankNode) and compiled.search(v.value) for v in values
    )


def _language_in(shapes: Graph, head) -> Callable:
    ranges = [str(term).lower() for term in Collection(shapes, head)]

    def matches(v) -> bool:
        lang = v.language.lower() if isinstance(v, ox.Literal) and v.language else None
        return lang is not None and any(lang == r or lang.startswith(r + "-") for r in ranges)

    return lambda index, focus, values: all(matches(v) for v in values)


def _unique_lang(index, focus, values) -> bool:
    langs = [v.language.lower() for v in values if isinstance(v, ox.Literal) and v.language]
    return len(langs) == len(set(langs))


def _class(cls: URIRef) -> Callable:
    wanted = ox.NamedNode(str(cls))
    return lambda index, focus, values: all(
        not isinstance(v, ox.Literal) and wanted in index.get(v, {}).get(TYPE, ()) for v in values
    )


def _less_or_equal(prop: URIRef) -> Callable:
    other = ox.NamedNode(str(prop))

    def check(index, focus, values):
        for v in values:
            for w in index.get(focus, {}).get(other, ()):
                a = _date_time(v.value) if isinstance(v, ox.Literal) else None
                b = _date_time(w.value) if isinstance(w, ox.Literal) else None
                dt = str(XSD.dateTime)
                if a is None or b is None or v.datatype.value != dt or w.datatype.value != dt:
                    return False  # not something we compare: ask pyshacl
                if a.utcoffset() is None or b.utcoffset() is None or a > b:
                    return False
        return True

    return check


# ------------------------------------------------------------------------ compiling


class _Compiler:
    def __init__(self, shapes: Graph):
        self.shapes = shapes
        self.compiled: dict = {}

    def shape(self, node) -> Check:
        """A node or property shape as one check (compiled once, even when shared)."""
        if node in self.compiled:
            return self.compiled[node]
        slot: list[Check] = []
        self.compiled[node] = lambda index, focus, strict: slot[0](index, focus, strict)
        slot.append(self._build(node))
        return slot[0]

    def _build(self, node) -> Check:
        g = self.shapes
        if (node, SH.deactivated, None) in g:
            raise Unsupported("sh:deactivated")
        severity = g.value(node, SH.severity, default=SH.Violation)
        path_node = g.value(node, SH.path)
        path = self._path(path_node) if path_node is not None else None
        minimum, maximum = g.value(node, SH.minCount), g.value(node, SH.maxCount)
        constraints: list[Callable] = []
        qualified_done = False
        for p, o in g.predicate_objects(node):
            if p in IGNORED or p in (SH.minCount, SH.maxCount) or not str(p).startswith(str(SH)):
                if str(p).startswith(str(DASH)) and p not in IGNORED:
                    raise Unsupported(f"{p}")
                continue
            if p == SH.datatype:
                constraints.append(_datatype(str(o)))
            elif p == SH.nodeKind:
                constraints.append(_node_kind(o))
            elif p == SH["in"]:
                constraints.append(_in(g, o))
            elif p == SH.pattern:
                if (node, SH.flags, None) in g:
                    raise Unsupported("sh:flags")
                constraints.append(_pattern(str(o)))
            elif p == SH.languageIn:
                constraints.append(_language_in(g, o))
            elif p == SH.uniqueLang:
                if o.toPython() is True:
                    constraints.append(_unique_lang)
            elif p == SH["class"]:
                constraints.append(_class(o))
            elif p == SH.node:
                constraints.append(self._node(o))
            elif p == SH.lessThanOrEquals and path is not None:
                constraints.append(_less_or_equal(o))
            elif p in (SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount):
                if not qualified_done:
                    constraints.append(self._qualified(node))
                    qualified_done = True
            else:
                raise Unsupported(f"{p}")
        properties = [self.shape(p) for p in g.objects(node, SH.property)]
        own_counts = severity == SH.Violation

        def check(index: Index, focus, strict: bool) -> bool:
            if strict or own_counts:
                values = [focus] if path is None else _values(index, focus, path)
                if path is not None:
                    if minimum is not None and len(values) < minimum.toPython():
                        return False
                    if maximum is not None and len(values) > maximum.toPython():
                        return False
                if not all(c(index, focus, values) for c in constraints):
                    return False
            return all(prop(index, focus, strict) for prop in properties)

        return check

    def _path(self, node) -> list[ox.NamedNode]:
        if isinstance(node, URIRef):
            return [ox.NamedNode(str(node))]
        if isinstance(node, BNode) and self.shapes.value(node, RDF.first) is not None:
            steps = list(Collection(self.shapes, node))
            if all(isinstance(s, URIRef) for s in steps):
                return [ox.NamedNode(str(s)) for s in steps]
        raise Unsupported(f"sh:path {node}")

    def _node(self, shape) -> Callable:
        nested = self.shape(shape)
        return lambda index, focus, values: all(nested(index, v, True) for v in values)

    def _qualified(self, node) -> Callable:
        g = self.shapes
        if (node, SH.qualifiedValueShapesDisjoint, None) in g:
            raise Unsupported("sh:qualifiedValueShapesDisjoint")
        nested = self.shape(g.value(node, SH.qualifiedValueShape))
        low, high = g.value(node, SH.qualifiedMinCount), g.value(node, SH.qualifiedMaxCount)

        def check(index, focus, values):
            n = sum(1 for v in values if nested(index, v, True))
            return (low is None or n >= low.toPython()) and (high is None or n <= high.toPython())

        return check


class CompiledShapes:
    """Every shape with a target, compiled; `surely_conforms` runs them on one fiche."""

    def __init__(self, shapes: Graph):
        for target in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            if (None, target, None) in shapes:
                raise Unsupported(f"{target}")
        for cls in (RDFS.Class, URIRef("http://www.w3.org/2002/07/owl#Class")):
            if any((s, RDF.type, SH.NodeShape) in shapes for s in shapes.subjects(RDF.type, cls)):
                raise Unsupported("implicit class targets")
        compiler = _Compiler(shapes)
        self.targets: list[tuple[ox.NamedNode, Check]] = [
            (ox.NamedNode(str(cls)), compiler.shape(shape))
            for shape, cls in sorted(shapes.subject_objects(SH.targetClass))
        ]

    def surely_conforms(self, triples: Iterable[ox.Triple | ox.Quad]) -> bool:
        """True if no Violation can come out of pyshacl for these triples; False: ask it."""
        index: Index = {}
        for t in triples:
            if t.predicate == SUBCLASS:
                return False  # the data would widen targets and sh:class: not ours to judge
            index.setdefault(t.subject, {}).setdefault(t.predicate, []).append(t.object)
        for cls, check in self.targets:
            for focus, predicates in index.items():
                if cls in predicates.get(TYPE, ()) and not check(index, focus, False):
                    return False
        return True


@cache
def compiled() -> CompiledShapes | None:
    """Our shapes compiled (None if they use a feature this module does not compile)."""
    from .validation import load_shapes

    try:
        return CompiledShapes(load_shapes())
    except Unsupported:
        return None


def surely_conforms(triples: Iterable[ox.Triple | ox.Quad]) -> bool:
    """Whether one fiche surely conforms to our shapes (False: run pyshacl to know)."""
    shapes = compiled()
    return shapes is not None and shapes.surely_conforms(triples)
