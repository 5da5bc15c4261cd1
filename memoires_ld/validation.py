"""Validate fiches against the SHACL shapes (shapes/*.ttl); say what is wrong, in French or English.

One fiche graph at a time (`validate`), as the importer maps them; `validate_many` and
`validate_files` put the reports of several together; `validate_whole` runs once over the
union of many fiches (slow: the check of CI, `memoires-ld validate --whole`). pyshacl runs
with its default options: no inference, no ontology graph (closed value lists are `sh:in`,
so the vocabulary is not needed). A fiche *conforms* when it has no sh:Violation: warnings
are reported, not fatal.

Speed (#7), fiche by fiche: each thread reuses one pyshacl Validator (the shapes are read
once, not at each fiche), the shapes graph keeps the answer to each pattern (pyshacl asks it
~500 lookups per fiche, the data graph ~40), and pyshacl's test of a shape's parameters is
a set lookup. The reuse and the parameter set rely on pyshacl 0.40.1's internals: the
version is pinned in pyproject.toml, and tests compare reports with a fresh
`pyshacl.validate`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyshacl
import pyshacl.shape
import rdflib
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.graph_abstraction import DataGraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import Path as PropertyPath
from rdflib.term import Node

from . import datadir
from .errors import SourceError
from .namespaces import MLD, bind_prefixes
from .resources import folder

SEVERITY_LABELS = {
    "fr": {SH.Violation: "Violation", SH.Warning: "Avertissement", SH.Info: "Information"},
    "en": {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"},
}


@dataclass(frozen=True)
class Result:
    """One validation result, with its messages in both languages."""

    focus: Node
    #: a property IRI, or the tuple of a sequence path (SHACL §2.3.1.1)
    path: Node | tuple[Node, ...] | None
    severity: URIRef
    message_fr: str
    message_en: str
    source_shape: Node
    value: Node | None = None
    component: URIRef | None = None
    #: the fiche the result is about: `focus` itself, or the fiche whose action/author/image it is
    fiche: Node | None = None
    name_fr: str = ""
    name_en: str = ""

    def message(self, lang: str = "fr") -> str:
        return self.message_en if lang == "en" else self.message_fr

    def name(self, lang: str = "fr") -> str:
        return self.name_en if lang == "en" else self.name_fr


@dataclass
class Report:
    """What the shapes say about one or more fiches."""

    conforms: bool
    violations: list[Result] = field(default_factory=list)
    warnings: list[Result] = field(default_factory=list)
    infos: list[Result] = field(default_factory=list)
    #: the raw sh:ValidationReport (SHACL's own sh:conforms: false on warnings too)
    graph: Graph = field(default_factory=Graph)
    #: the fiches that were validated
    fiches: list[Node] = field(default_factory=list)

    @property
    def results(self) -> list[Result]:
        return [*self.violations, *self.warnings, *self.infos]


class ShapesGraph(Graph):
    """A graph read far more than written: the answer to each pattern is kept until a change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._answers: dict = {}

    def add(self, triple):
        self._answers = {}
        return super().add(triple)

    def addN(self, quads):
        self._answers = {}
        return super().addN(quads)

    def remove(self, triple):
        self._answers = {}
        return super().remove(triple)

    def triples(self, pattern):
        if isinstance(pattern[1], PropertyPath):
            return super().triples(pattern)
        found = self._answers.get(pattern)
        if found is None:
            found = self._answers[pattern] = tuple(super().triples(pattern))
        return iter(found)


@cache
def load_shapes() -> Graph:
    """The shapes graph (every shapes/*.ttl), parsed once. Do not modify it.

    pyshacl adds two "system triples" to it on first use (owl:Class ⊂ rdfs:Class,
    owl:DatatypeProperty ⊂ rdf:Property); it is not changed afterwards.
    """
    g = bind_prefixes(ShapesGraph())
    for path in sorted(folder("shapes").glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


# pyshacl 0.40.1 tests `p in CONSTRAINT_PARAMETERS`, a list of ~40 IRIs, for every predicate
# of every shape at every fiche: a set answers the same, by hash (shape.py, Shape.validate).
pyshacl.shape.CONSTRAINT_PARAMS = (frozenset(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)
_VALIDATORS = threading.local()


def _run(data: Graph, shapes: Graph | None) -> Graph:
    """pyshacl's report graph for `data`; a Validator reused by this thread for our shapes."""
    if shapes is not None:
        return pyshacl.validate(data, shacl_graph=shapes)[1]
    validator = getattr(_VALIDATORS, "validator", None)
    if validator is None:
        validator = pyshacl.Validator(DataGraph.from_rdflib(data), shacl_graph=load_shapes())
        _VALIDATORS.validator = validator
    else:  # pyshacl 0.40.1: a new data graph, and no target graph left from the last run
        validator._target_graph = None
        validator.data_graph = DataGraph.from_rdflib(data)
    try:
        return validator.run()[1]
    finally:
        validator.data_graph = validator._target_graph = None  # do not keep the fiche alive


def validate(data: Graph, *, shapes: Graph | None = None) -> Report:
    """Validate the graph of one fiche (or a few) against the shapes."""
    try:
        report_graph = _run(data, shapes)
    finally:
        # pyshacl sets rdflib.NORMALIZE_LITERALS back to True when it is done, which would
        # make rdflib rewrite rdf:HTML and dateTime literals from then on (see __init__.py).
        rdflib.NORMALIZE_LITERALS = False
    shapes = load_shapes() if shapes is None else shapes
    report = Report(conforms=True, graph=report_graph)
    report.fiches = sorted(set(data.subjects(RDF.type, MLD.Fiche)))
    results = [
        result
        for top in report_graph.objects(None, SH.result)
        for result in _flatten(report_graph, shapes, top)
    ]
    for result in sorted(results, key=lambda r: _form_order(shapes, r)):
        {SH.Violation: report.violations, SH.Warning: report.warnings}.get(
            result.severity, report.infos
        ).append(result)
    report.conforms = not report.violations
    return report


def validate_many(graphs: Iterable[Graph], *, shapes: Graph | None = None) -> Report:
    """Validate each fiche graph on its own and put the reports together."""
    return merge(validate(data, shapes=shapes) for data in graphs)


def merge(reports: Iterable[Report]) -> Report:
    """Several reports as one: one sh:ValidationReport holding every result."""
    merged = Report(conforms=True, graph=bind_prefixes(Graph()))
    root = BNode()
    shacl_conforms = True
    for report in reports:
        merged.conforms = merged.conforms and report.conforms
        merged.violations += report.violations
        merged.warnings += report.warnings
        merged.infos += report.infos
        merged.fiches += report.fiches
        # One sh:ValidationReport holding every result; the rest of the graphs is copied as is.
        for s, p, o in report.graph:
            if (s, RDF.type, SH.ValidationReport) not in report.graph:
                merged.graph.add((s, p, o))
            elif p == SH.result:
                merged.graph.add((root, p, o))
            elif p == SH.conforms:
                shacl_conforms = shacl_conforms and bool(o.toPython())
    merged.graph.add((root, RDF.type, SH.ValidationReport))
    merged.graph.add((root, SH.conforms, Literal(shacl_conforms)))
    return merged


def validate_whole(graphs: Iterable[Graph], *, shapes: Graph | None = None) -> Report:
    """Validate the union of the graphs in one pyshacl run (what a fiche-by-fiche run could
    miss: nothing with our shapes, which look at one fiche at a time; it is the oracle)."""
    union = bind_prefixes(Graph())
    for graph in graphs:
        union += graph
    return validate(union, shapes=load_shapes() if shapes is None else shapes)


def files_to_validate(paths: Iterable[Path]) -> list[Path]:
    """Turtle files to validate: files as given, *.ttl found in folders (hidden ones skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*.ttl")
                if not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return found


def validate_files(files: Iterable[Path], *, base: str, shapes: Graph | None = None) -> Report:
    """Validate Turtle files, one graph each, relative IRIs resolved against `base`."""

    def graphs():
        for path in files:
            try:
                yield datadir.read_turtle(path, base)
            except (SyntaxError, ValueError) as error:  # rdflib's BadSyntax is a SyntaxError
                raise SourceError(f"Turtle illisible : {error}", fiche=str(path)) from error

    return validate_many(graphs(), shapes=shapes)


def report_text(report: Report, lang: str = "fr") -> str:
    """A report for people, grouped by fiche (French unless lang="en")."""
    en = lang == "en"
    labels = SEVERITY_LABELS["en" if en else "fr"]
    colon = ":" if en else " :"  # French puts a space before the colon
    n_fiches, n_v, n_w = len(report.fiches), len(report.violations), len(report.warnings)
    if en:
        verdict = "Conforms" if report.conforms else "Does not conform"
        head = f"{verdict}: {n_fiches} record(s), {n_v} violation(s), {n_w} warning(s)."
    else:
        verdict = "Conforme" if report.conforms else "Non conforme"
        head = f"{verdict} : {n_fiches} fiche(s), {n_v} violation(s), {n_w} avertissement(s)."
    lines = [head]
    by_fiche: dict[Node | None, list[Result]] = {}
    for result in report.results:
        by_fiche.setdefault(result.fiche, []).append(result)
    for fiche, results in by_fiche.items():
        lines.append("")
        lines.append(f"{'Record' if en else 'Fiche'} <{fiche}>")
        for r in results:
            # Our messages start with the field's name: the path says which property.
            severity = labels.get(r.severity, str(r.severity))
            lines.append(f"  {severity} · {_path_text(r.path)} · {r.message(lang)}")
            if r.value is not None:
                lines.append(f"      {'value' if en else 'valeur'}{colon} {_node_text(r.value)}")
            if r.focus != fiche:
                lines.append(f"      {'on' if en else 'sur'}{colon} <{r.focus}>")
    return "\n".join(lines)


def report_summary(report: Report) -> dict:
    """The report as plain JSON-ready data (for `memoires-ld validate --format json`)."""

    def as_dict(r: Result) -> dict:
        return {
            "fiche": str(r.fiche),
            "focus": str(r.focus),
            "path": _path_text(r.path),
            "severity": str(r.severity).rsplit("#", 1)[-1],
            "message": {"fr": r.message_fr, "en": r.message_en},
            "name": {"fr": r.name_fr, "en": r.name_en},
            "shape": str(r.source_shape),
            "component": str(r.component) if r.component else None,
            "value": None if r.value is None else str(r.value),
        }

    return {
        "conforms": report.conforms,
        "fiches": len(report.fiches),
        "violations": [as_dict(r) for r in report.violations],
        "warnings": [as_dict(r) for r in report.warnings],
        "infos": [as_dict(r) for r in report.infos],
    }


# ---------------------------------------------------------------- reading pyshacl's report


def _flatten(report: Graph, shapes: Graph, top: Node) -> list[Result]:
    """The results under a top-level result: the sh:detail leaves of an sh:node failure.

    pyshacl reports a failing `sh:node` as one result on the fiche, the precise ones nested
    under sh:detail. The leaves say what is wrong; the wrapper is kept too only when it is
    more severe than all of them (then it is what makes the fiche fail).
    """
    fiche = report.value(top, SH.focusNode)
    wrapper = _result(report, shapes, top, fiche)
    leaves: list[Result] = []
    stack = list(report.objects(top, SH.detail))
    while stack:
        node = stack.pop(0)
        nested = list(report.objects(node, SH.detail))
        if nested:
            stack += nested
        else:
            leaves.append(_result(report, shapes, node, fiche))
    if not leaves:
        return [wrapper]
    if wrapper.severity == SH.Violation and all(r.severity != SH.Violation for r in leaves):
        return [wrapper, *leaves]
    return leaves


def _result(report: Graph, shapes: Graph, node: Node, fiche: Node | None) -> Result:
    messages = list(report.objects(node, SH.resultMessage))
    shape = report.value(node, SH.sourceShape)
    names = list(shapes.objects(shape, SH.name)) if shape is not None else []
    return Result(
        focus=report.value(node, SH.focusNode),
        path=_path(report, report.value(node, SH.resultPath)),
        severity=report.value(node, SH.resultSeverity) or SH.Violation,
        message_fr=_in_lang(messages, "fr"),
        message_en=_in_lang(messages, "en"),
        source_shape=shape,
        value=report.value(node, SH.value),
        component=report.value(node, SH.sourceConstraintComponent),
        fiche=fiche,
        name_fr=_in_lang(names, "fr"),
        name_en=_in_lang(names, "en"),
    )


def _form_order(shapes: Graph, result: Result) -> tuple:
    """Sort results as the form shows its fields: by fiche, group, then field (sh:order)."""

    def order(node: Node | None) -> float:
        value = shapes.value(node, SH.order) if node is not None else None
        return float(value) if isinstance(value, Literal) else float("inf")

    shape = result.source_shape
    group = shapes.value(shape, SH.group) if shape is not None else None
    return (str(result.fiche), order(group), order(shape), str(result.focus), str(result.value))


def _in_lang(literals: list[Node], lang: str) -> str:
    """The literal in `lang`, else one without a tag (pyshacl's own English), else any."""
    by_lang = {getattr(lit, "language", None): str(lit) for lit in literals}
    return by_lang.get(lang) or by_lang.get(None) or next(iter(by_lang.values()), "")


def _path(report: Graph, path: Node | None) -> Node | tuple[Node, ...] | None:
    if isinstance(path, BNode) and report.value(path, RDF.first) is not None:
        return tuple(Collection(report, path))
    return path


def _path_text(path: Node | tuple[Node, ...] | None) -> str:
    if isinstance(path, tuple):
        return "/".join(_node_text(p) for p in path)
    return _node_text(path) if path is not None else ""


def _node_text(node: Node) -> str:
    """A node as Turtle, prefixed where we can: dct:type, <https://…>, "20x7"^^xsd:gYear."""
    if isinstance(node, URIRef):
        try:
            prefix, _, local = _NAMESPACES.compute_qname_strict(node, generate=False)
        except (KeyError, ValueError):
            return f"<{node}>"
        return f"{prefix}:{local}"
    if isinstance(node, Literal):
        return node.n3(_NAMESPACES)
    return str(node)


_NAMESPACES = bind_prefixes(Graph()).namespace_manager
