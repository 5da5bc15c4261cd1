"""Federated queries across two memoires-ld instances (#6, docs/federation.md).

Two real servers on 127.0.0.1, each publishing other seed fiches, each with the other's
endpoint on its SPARQL_SERVICE_ALLOWLIST (in its INSTANCE_DIR/config.py). A query sent to one
with `SERVICE <other>/sparql { … }` answers with the fiches of both; a SERVICE to an endpoint
off the list is refused before anything is fetched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from servers import Server, free_port
from writes_fixtures import small_data

ALPHA_TAGS = ("AtelierCohesionDEquipe", "FormationDesConseilsCitoyens")
BEE_TAGS = ("AccompagnementDUnReseauAssociatifSurLaMu", "FormationDesConseilsCitoyens")
PREFIXES = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <http://schema.org/>
"""


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    root = tmp_path_factory.mktemp("federated")
    ports = {"alpha": free_port(), "bee": free_port()}
    servers = {}
    for name, tags in (("alpha", ALPHA_TAGS), ("bee", BEE_TAGS)):
        other = "bee" if name == "alpha" else "alpha"
        instance = root / name / "instance"
        instance.mkdir(parents=True)
        allowed = f"http://127.0.0.1:{ports[other]}/sparql"
        (instance / "config.py").write_text(f"SPARQL_SERVICE_ALLOWLIST = {allowed!r}\n")
        data = small_data(root / name / "data", tags)
        servers[name] = Server(instance, data, ports[name]).start()
    for server in servers.values():
        server.wait_ready()
    yield servers
    for server in servers.values():
        server.stop()


def select(server: Server, query: str) -> tuple[int, dict]:
    status, _, body = server.get(
        "/sparql?query=" + quote(query, safe=""), "application/sparql-results+json"
    )
    return status, json.loads(body)


def test_one_query_answers_across_both_instances(peers):
    alpha, bee = peers["alpha"], peers["bee"]
    query = (
        PREFIXES
        + f"""SELECT ?fiche ?title WHERE {{
      {{ ?fiche a mld:Fiche ; dct:title ?title }}
      UNION
      {{ SERVICE <{bee.base}sparql> {{ ?fiche a mld:Fiche ; dct:title ?title }} }}
    }} ORDER BY ?fiche"""
    )
    status, answer = select(alpha, query)
    assert status == 200, answer
    fiches = {row["fiche"]["value"] for row in answer["results"]["bindings"]}
    assert fiches == {f"{alpha.base}fiche/{t}" for t in ALPHA_TAGS} | {
        f"{bee.base}fiche/{t}" for t in BEE_TAGS
    }


def test_a_join_across_instances(peers):
    """The same fiche published by both (same identifier): joined on its dct:identifier."""
    alpha, bee = peers["alpha"], peers["bee"]
    query = (
        PREFIXES
        + f"""SELECT ?here ?there WHERE {{
      ?here a mld:Fiche ; dct:identifier ?id .
      SERVICE <{bee.base}sparql> {{ ?there a mld:Fiche ; dct:identifier ?id }}
    }}"""
    )
    status, answer = select(alpha, query)
    assert status == 200, answer
    rows = [(r["here"]["value"], r["there"]["value"]) for r in answer["results"]["bindings"]]
    shared = "FormationDesConseilsCitoyens"
    assert rows == [(f"{alpha.base}fiche/{shared}", f"{bee.base}fiche/{shared}")]


def test_a_service_off_the_allowlist_is_refused(peers):
    alpha, bee = peers["alpha"], peers["bee"]
    elsewhere = f"http://127.0.0.1:{free_port()}/sparql"
    status, answer = select(alpha, f"SELECT * WHERE {{ SERVICE <{elsewhere}> {{ ?s ?p ?o }} }}")
    assert status == 400, answer
    assert answer["error"] == "service-interdit" and elsewhere in answer["message"]
    # each instance allows its peer only: bee may ask alpha, not itself
    status, answer = select(bee, f"ASK {{ SERVICE <{bee.base}sparql> {{ ?s ?p ?o }} }}")
    assert status == 400 and bee.base in answer["message"]
    status, answer = select(bee, f"ASK {{ SERVICE <{alpha.base}sparql> {{ ?s a ?t }} }}")
    assert status == 200 and answer["boolean"] is True


def test_the_documented_example_answers_across_both_instances(peers):
    """The query of docs/federation.md, its remote endpoint replaced by the other instance's:
    the trainings (one nature) documented on either instance."""
    alpha, bee = peers["alpha"], peers["bee"]
    text = (Path(__file__).parents[1] / "docs" / "federation.md").read_text(encoding="utf-8")
    example = re.search(r"```sparql\n(.*?)```", text, re.S).group(1)
    remote = "https://memoires.autre-collectif.org/sparql"
    assert remote in example
    status, answer = select(alpha, example.replace(remote, f"{bee.base}sparql"))
    assert status == 200, answer
    fiches = {row["fiche"]["value"] for row in answer["results"]["bindings"]}
    shared = "FormationDesConseilsCitoyens"  # the one training among each one's fiches
    assert fiches == {f"{alpha.base}fiche/{shared}", f"{bee.base}fiche/{shared}"}
