"""The listing as RDF: a Hydra collection, one page of it, and the template of its URLs.

Hydra Core (https://www.hydra-cg.com/spec/latest/core/): §5.1 Collections
(`hydra:Collection`, `hydra:member`, `hydra:totalItems`, `hydra:memberAssertion`), §5.2
Paging (`hydra:view` → `hydra:PartialCollectionView` with first/previous/next/last),
§6 Templated links (`hydra:search` → `hydra:IriTemplate`, RFC 6570 level 3, one
`hydra:IriTemplateMapping` per variable). The collection is the set of fiches that the
filters and the search select; its views add the sort order and the page.
"""

from __future__ import annotations

import pyoxigraph as ox
from pyld import jsonld as pyld

from ..facets import BY_NAME, FACETS, Query, Result
from ..iris import Iris
from ..namespaces import HYDRA, MLD
from . import jsonld
from .query import params

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCT = "http://purl.org/dc/terms/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
XSD_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")


def _h(term: str) -> ox.NamedNode:
    return ox.NamedNode(str(HYDRA[term]))


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD_INTEGER)


def collection(iris: Iris, query: Query, result: Result) -> list[ox.Triple]:
    """The triples of one page of the listing."""
    node = ox.NamedNode(iris.fiches(params(Query(query.filters, query.text))))
    unpaged = params(query, page=1)

    def page(n: int) -> ox.NamedNode:
        return ox.NamedNode(iris.fiches([*unpaged, ("page", str(n))]))

    view = page(query.page)
    assertion = ox.BlankNode()
    triples = [
        ox.Triple(node, RDF_TYPE, _h("Collection")),
        ox.Triple(node, _h("totalItems"), _integer(result.total)),
        ox.Triple(node, _h("memberAssertion"), assertion),
        ox.Triple(assertion, _h("property"), RDF_TYPE),
        ox.Triple(assertion, _h("object"), ox.NamedNode(str(MLD.Fiche))),
        ox.Triple(node, _h("view"), view),
        ox.Triple(view, RDF_TYPE, _h("PartialCollectionView")),
        ox.Triple(view, _h("first"), page(1)),
        ox.Triple(view, _h("last"), page(result.pages)),
    ]
    if query.page > 1:
        triples.append(ox.Triple(view, _h("previous"), page(query.page - 1)))
    if query.page < result.pages:
        triples.append(ox.Triple(view, _h("next"), page(query.page + 1)))
    for fiche in result.items:
        member = ox.NamedNode(fiche.iri)
        triples += [
            ox.Triple(node, _h("member"), member),
            ox.Triple(member, RDF_TYPE, ox.NamedNode(str(MLD.Fiche))),
            ox.Triple(member, ox.NamedNode(DCT + "title"), ox.Literal(fiche.title, language="fr")),
            ox.Triple(member, ox.NamedNode(DCT + "identifier"), ox.Literal(fiche.tag)),
        ]
    triples += search_template(iris, node)
    return _by_subject(triples)


#: the prefixes a collection uses
PREFIXES = {
    "hydra": str(HYDRA),
    "mld": str(MLD),
    "dct": DCT,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _by_subject(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Group the triples by subject, in order of first appearance (readable Turtle)."""
    first: dict = {}
    for t in triples:
        first.setdefault(t.subject, len(first))
    return sorted(triples, key=lambda t: first[t.subject])


#: variable → (property it filters on, description)
CONTROLS = {
    "q": (_h("freetextQuery"), "Mots cherchés dans les titres, descriptions et auteurs."),
    "tri": (None, "Tri : titre, creation, modification, annee, pertinence ; -x inverse."),
    "page": (_h("pageIndex"), "Numéro de page, à partir de 1."),
    "par_page": (_h("limit"), "Fiches par page, de 1 à 100 (20 par défaut)."),
}


def search_template(iris: Iris, node: ox.NamedNode) -> list[ox.Triple]:
    """`hydra:search`: how to write a listing URL (OR within a facet, AND across facets)."""
    variables = [f"{f.name}*" for f in FACETS] + list(CONTROLS)
    template = ox.BlankNode()
    text = ox.Literal(f"{iris.fiches()}{{?{','.join(variables)}}}")
    triples = [
        ox.Triple(node, _h("search"), template),
        ox.Triple(template, RDF_TYPE, _h("IriTemplate")),
        ox.Triple(template, _h("template"), text),
        ox.Triple(template, _h("variableRepresentation"), _h("BasicRepresentation")),
    ]
    mappings = [(f.name, ox.NamedNode(f.predicate), _facet_help(f.name)) for f in FACETS]
    mappings += [(name, prop, text) for name, (prop, text) in CONTROLS.items()]
    for name, prop, text in mappings:
        mapping = ox.BlankNode()
        triples += [
            ox.Triple(template, _h("mapping"), mapping),
            ox.Triple(mapping, RDF_TYPE, _h("IriTemplateMapping")),
            ox.Triple(mapping, _h("variable"), ox.Literal(name)),
            ox.Triple(mapping, _h("required"), ox.Literal("false", datatype=XSD_BOOLEAN)),
            ox.Triple(mapping, _h("description"), ox.Literal(text, language="fr")),
        ]
        if prop is not None:
            triples.append(ox.Triple(mapping, _h("property"), prop))
    return triples


def _facet_help(name: str) -> str:
    of = " (de l'action documentée)" if BY_NAME[name].on_action else ""
    return f"Valeurs de « {name} »{of} ; répétée : OU ; avec d'autres facettes : ET."


def _terms() -> dict:
    """Hydra's terms as JSON-LD terms (its own context is on the web: never fetched)."""
    ids = ("member", "view", "first", "last", "next", "previous", "property", "object")
    plain = ("totalItems", "search", "template", "mapping", "variable", "required")
    plain += ("memberAssertion",)
    types = ("Collection", "PartialCollectionView", "IriTemplate", "IriTemplateMapping")
    types += ("BasicRepresentation",)
    terms: dict = {"hydra": str(HYDRA)}
    terms |= {t: f"hydra:{t}" for t in types + plain}
    terms |= {t: {"@id": f"hydra:{t}", "@type": "@id"} for t in ids}
    terms["variableRepresentation"] = {"@id": "hydra:variableRepresentation", "@type": "@vocab"}
    # always arrays, even of one item
    terms["member"] = {"@id": "hydra:member", "@type": "@id", "@container": "@set"}
    terms["mapping"] = {"@id": "hydra:mapping", "@container": "@set"}
    return terms


def json_ld(triples: list[ox.Triple], iris: Iris) -> bytes:
    """The collection framed as one JSON object: our context, then Hydra's terms."""
    context = [str(iris.context(jsonld.VERSION)), _terms()]
    frame = {"@context": context, "@type": "Collection"}
    options = {"documentLoader": jsonld.loader(iris), "omitGraph": True}
    return jsonld.dumps(pyld.frame(jsonld.expanded(triples), frame, options))
