"""The terms memoires-ld mints, as an rdflib `DefinedNamespace`: a mistyped term raises.

Written from `ontology/memoires-ld.ttl`; `tests/test_vocabulary.py` keeps the two in step
(every term declared there is here, and every `mld:` IRI used anywhere is declared).
"""

# No `from __future__ import annotations`: DefinedNamespace reads the annotations as classes
# (`MLD.as_jsonld_context` would fail on strings).
from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef


class MLD(DefinedNamespace):
    """memoires-ld vocabulary, https://w3id.org/memoires-ld/ns (version 0.1.0)."""

    _fail = True

    # owl:Class
    Fiche: URIRef  # Action record: the text in which its authors tell an action they led.

    # owl:ObjectProperty, values from our concept schemes
    participants: URIRef  # number of participants (a band of vocab/participants)
    reussite: URIRef  # degree of success (vocab/reussite)

    # owl:ObjectProperty, links of the record (⊂ dct:references, schema:citation)
    cahierDesCharges: URIRef  # link to the brief
    reponse: URIRef  # link to our proposal
    documentation: URIRef  # link to the documentation

    _NS = Namespace("https://w3id.org/memoires-ld/ns#")
