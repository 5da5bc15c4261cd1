"""Reading the W3C HTTP test manifests (Protocol, Graph Store Protocol) — not a test module.

Since 2026 these manifests are machine-readable (the W3C's HTTP-in-RDF vocabulary): each
test is a list of `ht:Request`s (method, path, headers, body) with the expected response
(`mf:expectedStatus`, `mf:expectedFormat`, `mf:expectedBoolean`, an expected RDF body,
`mf:expectedLocation`). `read_manifest` turns one into `ManifestTest`s; `check_response`
holds a response to its expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, Graph, Literal, Namespace
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from sparql_server import rdf_graph, results

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
STATUS = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]  # hts local names: StatusCode2xx, OK, Created…
    format: str | None = None  # boolean, tabular, RDF
    boolean: bool | None = None
    # expected RDF content (Graph Store Protocol manifests)
    content: tuple[str, str] | None = None  # (media type, text)
    location: str | None = None  # mf:expectedLocation: a template variable


@dataclass
class ManifestTest:
    id: str
    name: str
    requests: list[Request]
    graph_data: bool = False
    requires: set[str] = field(default_factory=set)


def read_manifest(path, base_path: str, our_path: str) -> list[ManifestTest]:
    """The tests of a W3C HTTP manifest, in order, with paths moved to `our_path`."""
    graph = Graph().parse(path, format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        requests = [
            _request(graph, node, base_path, our_path)
            for node in Collection(graph, graph.value(action, HT.requests))
        ]
        tests.append(
            ManifestTest(
                str(entry).rsplit("#", 1)[1],
                str(graph.value(entry, MF.name)),
                requests,
                graph_data=(entry, UT.graphData, None) in graph,
                requires={str(r).rsplit("#", 1)[1] for r in graph.objects(entry, MF.requires)},
            )
        )
    return tests


def _request(graph: Graph, node, base_path: str, our_path: str) -> Request:
    path = str(graph.value(node, HT.absolutePath))
    assert path.startswith(base_path), path
    headers = {}
    for header in _list(graph, graph.value(node, HT.headers)):
        headers[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
    body = graph.value(node, HT.body)
    data = None
    if body is not None:
        encoding = str(graph.value(body, CNT.characterEncoding) or "UTF-8")
        data = str(graph.value(body, CNT.chars)).encode(encoding.lower())
    response = graph.value(node, HT.resp)
    boolean = graph.value(response, MF.expectedBoolean)
    content = None
    if graph.value(response, HT.body) is not None:
        response_headers = {
            str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
            for h in _list(graph, graph.value(response, HT.headers))
        }
        text = str(graph.value(graph.value(response, HT.body), CNT.chars))
        content = (response_headers["content-type"].split(";")[0], text)
    fmt = graph.value(response, MF.expectedFormat)
    location = graph.value(response, MF.expectedLocation)
    return Request(
        method=str(graph.value(node, HT.methodName)),
        path=our_path + path[len(base_path) :],
        headers=headers,
        body=data,
        statuses={str(s).rsplit("#", 1)[1] for s in graph.objects(response, MF.expectedStatus)},
        format=str(fmt) if fmt is not None else None,
        boolean=bool(boolean.toPython()) if isinstance(boolean, Literal) else None,
        content=content,
        location=str(location) if location is not None else None,
    )


def _list(graph: Graph, node) -> list:
    return list(Collection(graph, node)) if node is not None else []


def status_ok(status: int, expected: set[str]) -> bool:
    for name in expected:
        if name.startswith("StatusCode") and str(status)[0] == name[len("StatusCode")]:
            return True
        if STATUS.get(name) == status:
            return True
    return False


def check_response(request: Request, status: int, headers: dict, body: bytes) -> None:
    assert status_ok(status, request.statuses), (
        f"{request.method} {request.path}: {status}, expected {sorted(request.statuses)}\n"
        f"{body[:500]!r}"
    )
    content_type = headers.get("content-type", "")
    if request.format in ("boolean", "tabular"):
        parsed = results(body, content_type)
        if request.format == "boolean":
            assert parsed.__class__.__name__ == "QueryBoolean", content_type
            if request.boolean is not None:
                assert bool(parsed) is request.boolean
        else:
            assert parsed.__class__.__name__ == "QuerySolutions", content_type
            assert [str(v) for v in parsed.variables]  # a table has a head
    elif request.format == "RDF":
        rdf_graph(body, content_type)  # RDF in a format the Content-Type names (may be empty)
    if request.content is not None:
        media, text = request.content
        assert content_type.split(";")[0].strip() == media
        if request.method != "HEAD":
            expected = Graph().parse(data=text, format="turtle")
            got = rdf_graph(body, content_type)
            assert isomorphic(got, expected), got.serialize(format="turtle")


def run(server, test: ManifestTest) -> None:
    """Send a test's requests in order, each checked; `$LOCATION$`-style variables filled."""
    variables: dict[str, str] = {}
    for request in test.requests:
        path, body = request.path, request.body
        for name, value in variables.items():
            path = path.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body else body
        status, headers, data = server.request(request.method, path, body, request.headers)
        check_response(request, status, headers, data)
        if request.location:
            assert "location" in headers, headers
            variables[request.location] = headers["location"]
