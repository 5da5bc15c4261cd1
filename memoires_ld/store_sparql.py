"""A store on any SPARQL 1.1 server: the Query and Update protocols are the contract (#7).

    STORE = "sparql+http://127.0.0.1:8890/sparql"   # queries (and updates, by default)
    STORE_UPDATE_URL = ""                           # when updates go elsewhere (Fuseki /update)
    STORE_GSP_URL = ""                              # Graph Store Protocol, for loads

What the server must do: answer SPARQL 1.1 queries over a default graph that is the union
of its named graphs (Virtuoso, GraphDB, Neptune, QLever do; Fuseki with
`unionDefaultGraph`), apply each update request atomically, and return SPARQL XML results
and N-Triples. docs/remote-stores.md has set-ups for several engines.

How the rest of the code stays unaware of the server:

* answers are parsed by pyoxigraph (`parse_query_results`), so callers get the same
  `QuerySolutions`, `QueryBoolean` and triples as from the embedded store; blank-node labels
  a server writes in its own way (Virtuoso's `nodeID://b10003`) are made valid labels;
* the data's default graph (the import's provenance) is kept in the named graph
  `DEFAULT_GRAPH`, since the server's default graph is the union of the others, and read
  back as the default graph;
* blank nodes are skolemised (RDF 1.1 Concepts §3.5): written as IRIs
  `{BASE_URL}.well-known/genid/{label}` and read back as blank nodes. So a write is always
  an INSERT DATA (Virtuoso refuses blank nodes there, and its INSERT … WHERE {} slows down
  with the size of the template), and a node read in one answer can be named in the next
  request. Clients of the server see those IRIs where the embedded store has blank nodes;
* the store's version is its id and the write counter kept in the bookkeeping graph, raised
  by each write's own update request; it is read again at most every `VERSION_TTL` seconds
  (and at once after a write through this object), so writes by another process show after
  that delay;
* loads (`load`) go by the Graph Store Protocol when `STORE_GSP_URL` is set: one
  `POST ?graph=<iri>` of N-Triples per graph (several in flight), else by INSERT DATA
  requests of `load_quads` quads. Fiche writes are always SPARQL Update (writes.py).

Engine quirks stay in adapters chosen by the URL's scheme (`virtuoso+http://…`:
store_virtuoso.py); `sparql+http` uses the protocols only.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

from .errors import MemoiresError
from .store import Store, Term, _walk, data_stamp, locked
from .store_http import Client

DEFAULT_GRAPH = ox.NamedNode("urn:x-memoires-ld:default-graph")
STAMP = ox.NamedNode("urn:x-memoires-ld:stamp")
#: Seconds a version read from the server is trusted (writes through this object reset it).
VERSION_TTL = 1.0
#: Graphs read per query when the whole data is read (dumps).
GRAPHS_PER_QUERY = 500
#: Quads gathered before a load sends them, one Graph Store request per graph.
GSP_BATCH = 20_000
GSP_CONNECTIONS = 4

RESULTS_XML = "application/sparql-results+xml"
N_TRIPLES = "application/n-triples"
_FORM = re.compile(
    r"\A(?:\s|#[^\n]*\n|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*(SELECT|ASK|CONSTRUCT|DESCRIBE)",
    re.IGNORECASE,
)
_BNODE = re.compile(rb"<bnode>([^<]*)</bnode>")
_ROLLED_BACK = re.compile(r"\b40001\b")


class StoreError(MemoiresError):
    """The SPARQL server refused or failed a request we made (not a client's fault)."""

    status = 502
    code = "erreur-store"


class RolledBack(StoreError):
    """The server rolled a request back, nothing of it applied: SQLSTATE 40001, a deadlock
    with another request (Virtuoso: "40001 Error SR172: Transaction deadlocked")."""

    status = 503
    code = "store-occupe"


class SparqlStore(Store):
    """A store on a SPARQL 1.1 Query + Update server."""

    def __init__(
        self,
        query_url: str,
        base: str,
        *,
        update_url: str | None = None,
        gsp_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        writable: bool = True,
    ):
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.base = base
        self.writable = writable
        self.default_graph = DEFAULT_GRAPH
        self.http = Client(user or None, password or None)
        self.genid = f"{base}.well-known/genid/"
        genid = re.escape(self.genid.encode())
        self._genid_xml = re.compile(rb"<uri>" + genid + rb"([A-Za-z0-9_]+)</uri>")
        self._genid_nt = re.compile(rb"<" + genid + rb"([A-Za-z0-9_]+)>")
        self._version: tuple[float, str] | None = None
        self._id: str | None = None
        self._loaders: ThreadPoolExecutor | None = None
        weakref.finalize(self, self.http.close)  # the kept-alive connections go with the store

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.query_url}>"

    # -- the protocols -----------------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        default_graphs: Iterable[str] = (),
        named_graphs: Iterable[str] = (),
        timeout: float | None = None,
    ):
        """Run a query; the protocol's dataset (default-graph-uri, named-graph-uri) if given,
        TimeoutError past `timeout` seconds."""
        form = _form(sparql)
        accept = N_TRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_XML
        params = [("query", sparql)]
        params += [("default-graph-uri", g) for g in default_graphs]
        params += [("named-graph-uri", g) for g in named_graphs]
        response = self._post(self.query_url, params, accept, timeout)
        if form in ("CONSTRUCT", "DESCRIBE"):
            body = self._genid_nt.sub(rb"_:\1", response.body)
            return _triples(body, response.content_type)
        body = _BNODE.sub(_bnode_label, response.body)
        body = self._genid_xml.sub(rb"<bnode>\1</bnode>", body)
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)

    def update(self, sparql: str) -> None:
        self._post(self.update_url, [("update", sparql)], "*/*")
        self._version = None

    def _post(self, url: str, form: list, accept: str, timeout: float | None = None):
        body = urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        response = self.http.post(url, body, headers, timeout)
        self.check(response)
        if response.status >= 300:
            message = response.body[:2000].decode("utf-8", "replace")
            if response.status == 400 and form[0][0] == "query":
                raise SyntaxError(message)
            if response.status >= 500 and _ROLLED_BACK.search(message):
                raise RolledBack(f"Le serveur SPARQL a annulé la requête : {message}")
            raise StoreError(f"Le serveur SPARQL a répondu {response.status} : {message}")
        return response

    def written(self, term) -> str:
        if isinstance(term, ox.BlankNode):
            return f"<{self.genid}{term.value}>"
        return str(term)

    def check(self, response) -> None:
        """An adapter's check of each answer (e.g. a truncation the server reports)."""

    # -- reading -----------------------------------------------------------------------
    def match(self, subject=None, predicate=None, object=None, graph=None) -> Iterator[ox.Quad]:
        if isinstance(graph, ox.DefaultGraph):
            graph = DEFAULT_GRAPH
        terms = {"s": subject, "p": predicate, "o": object, "g": graph}
        text = {k: f"?{k}" if t is None else self.written(t) for k, t in terms.items()}
        free = " ".join(f"?{k}" for k, t in terms.items() if t is None) or "*"
        pattern = f"GRAPH {text['g']} {{ {text['s']} {text['p']} {text['o']} }}"
        sparql = f"SELECT {free} WHERE {{ {pattern} }}"
        if free == "*":
            sparql = f"ASK {{ {pattern} }}"
            if self.query(sparql):
                yield ox.Quad(subject, predicate, object, _graph(graph))
            return
        for row in self.query(sparql):
            yield ox.Quad(
                row["s"] if subject is None else subject,
                row["p"] if predicate is None else predicate,
                row["o"] if object is None else object,
                _graph(row["g"] if graph is None else graph),
            )

    def named_graphs(self) -> list[ox.NamedNode]:
        """Our graphs, found by what they hold (the fiche, a history, a tombstone), the
        vocabulary's and the bookkeeping's: `SELECT DISTINCT ?g` over every quad would scan
        the server's whole store (5 s on Virtuoso with only the seed data)."""
        from .history import META_GRAPH
        from .namespaces import AS

        found = self.published_graphs()
        for pattern in (
            f"?g a {ox.NamedNode(str(AS.OrderedCollection))}",
            f"?f a {ox.NamedNode(str(AS.Tombstone))}",
        ):
            rows = self.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {pattern} }} }}")
            found += [row["g"] for row in rows if isinstance(row["g"], ox.NamedNode)]
        return found + ([META_GRAPH] if self.has_graph(META_GRAPH.value) else [])

    def published_graphs(self) -> list[ox.NamedNode]:
        """The fiches' graphs (each holds `<fiche> a mld:Fiche`) and the vocabulary's."""
        from .namespaces import MLD
        from .store import VOCABULARY_GRAPH

        fiche = ox.NamedNode(str(MLD.Fiche))
        rows = self.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?g a {fiche} }} }}")
        found = [row["g"] for row in rows if row["g"].value.startswith(self.base)]
        return ([VOCABULARY_GRAPH] if self.has_graph(VOCABULARY_GRAPH.value) else []) + found

    def has_graph(self, graph_iri: str) -> bool:
        return bool(self.query(f"ASK {{ GRAPH {ox.NamedNode(graph_iri)} {{ ?s ?p ?o }} }}"))

    def quads(self) -> Iterator[ox.Quad]:
        """The published quads, many graphs per query (a dump of 100k fiches is 200 queries)."""
        yield from self.match(None, None, None, ox.DefaultGraph())
        graphs = sorted(self.published_graphs(), key=str)
        for start in range(0, len(graphs), GRAPHS_PER_QUERY):
            chunk = graphs[start : start + GRAPHS_PER_QUERY]
            values = " ".join(str(g) for g in chunk)
            rows = self.query(
                f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
            )
            by_graph: dict[ox.NamedNode, list[ox.Quad]] = {g: [] for g in chunk}
            for row in rows:
                by_graph[row["g"]].append(ox.Quad(row["s"], row["p"], row["o"], row["g"]))
            for quads in by_graph.values():
                yield from quads

    def describe(self, subjects: Iterable[Term], graph, follow: frozenset = frozenset()):
        """Read the graph once and walk it here (one request instead of one per node)."""
        by_subject: dict = {}
        for quad in self.match(None, None, None, graph):
            by_subject.setdefault(quad.subject, []).append(quad)
        return _walk(subjects, lambda node: by_subject.get(node, ()), follow)

    # -- version -----------------------------------------------------------------------
    @property
    def version(self) -> str:
        cached = self._version
        if cached is not None and time.monotonic() - cached[0] < VERSION_TTL:
            return cached[1]
        from .history import META, META_GRAPH, STORE_ID, WRITES

        rows = self.query(
            f"SELECT ?id ?n WHERE {{ GRAPH {META_GRAPH} {{ "
            f"OPTIONAL {{ {META} {STORE_ID} ?id }} OPTIONAL {{ {META} {WRITES} ?n }} }} }}"
        )
        row = next(iter(rows), None)
        ident = row["id"].value[:16] if row is not None and row["id"] is not None else "new"
        count = row["n"].value if row is not None and row["n"] is not None else "0"
        version = f"{ident}.{count}"
        self._version = (time.monotonic(), version)
        return version

    # -- loading -----------------------------------------------------------------------
    #: Quads per INSERT DATA request of a load: several fiches each, yet small enough for
    #: servers that compile a request into code (Virtuoso without its adapter: ~1,000).
    load_quads = 500
    #: Graph Store requests of a load in flight at once (each on its own connection).
    gsp_connections = GSP_CONNECTIONS

    def load(self, quads: Iterable[ox.Quad]) -> None:
        """Graph Store POSTs if `gsp_url` is set, else INSERT DATA requests of `load_quads`
        quads each."""
        if self.gsp_url:
            return self.load_graphs(quads)
        from .writes import insert

        batch: list[ox.Quad] = []
        for quad in quads:
            batch.append(quad)
            if len(batch) >= self.load_quads:
                self.update(" ;\n".join(insert(self, batch)))
                batch = []
        if batch:
            self.update(" ;\n".join(insert(self, batch)))

    def load_graphs(self, quads: Iterable[ox.Quad]) -> None:
        """Graph Store Protocol (SPARQL 1.1 GSP §5.5): each graph's triples POSTed (added
        to what it holds) as N-Triples to `gsp_url?graph=<iri>`, by batches of at least
        GSP_BATCH quads (one request per graph of the batch, `gsp_connections` at once).
        The data's default graph goes to its named graph (DEFAULT_GRAPH), as with Update."""
        if self._loaders is None:  # kept: its threads' connections serve the next load
            self._loaders = ThreadPoolExecutor(self.gsp_connections, "memoires-ld-gsp")
            weakref.finalize(self, self._loaders.shutdown)
        by_graph: dict[ox.NamedNode, list[ox.Triple]] = {}
        size = 0
        try:
            for quad in quads:
                quad = self._as_stored(quad)
                by_graph.setdefault(quad.graph_name, []).append(quad.triple)
                size += 1
                if size >= GSP_BATCH:
                    list(self._loaders.map(self._post_graph, by_graph.items()))
                    by_graph, size = {}, 0
            list(self._loaders.map(self._post_graph, by_graph.items()))
        finally:
            self._version = None

    def _post_graph(self, item: tuple[ox.NamedNode, list[ox.Triple]]) -> None:
        graph, triples = item
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        separator = "&" if "?" in self.gsp_url else "?"
        url = f"{self.gsp_url}{separator}{urlencode({'graph': graph.value})}"
        response = self.http.post(url, body, {"Content-Type": N_TRIPLES})
        self.check(response)
        if response.status >= 300:
            message = response.body[:2000].decode("utf-8", "replace")
            raise StoreError(
                f"Le Graph Store ({self.gsp_url}) a répondu {response.status} pour le graphe "
                f"{graph.value} : {message}"
            )

    def _as_stored(self, quad: ox.Quad) -> ox.Quad:
        """The quad as the store keeps it: skolemised, the default graph named."""
        s, o, g = quad.subject, quad.object, quad.graph_name
        if isinstance(s, ox.BlankNode):
            s = ox.NamedNode(self.genid + s.value)
        if isinstance(o, ox.BlankNode):
            o = ox.NamedNode(self.genid + o.value)
        if isinstance(g, ox.DefaultGraph):
            g = DEFAULT_GRAPH
        return ox.Quad(s, quad.predicate, o, g)

    def clear(self) -> None:
        """Drop every graph of ours (a load that did not finish; tests)."""
        graphs = [*self.named_graphs(), DEFAULT_GRAPH]
        for start in range(0, len(graphs), GRAPHS_PER_QUERY):
            chunk = graphs[start : start + GRAPHS_PER_QUERY]
            self.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in chunk))

    def close(self) -> None:
        self.http.close()

    def __len__(self) -> int:
        """Number of quads the server holds (its own graphs included)."""
        row = next(iter(self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))
        return int(row["n"].value)


def _graph(term) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if term == DEFAULT_GRAPH else term


def _form(sparql: str) -> str:
    found = _FORM.match(sparql)
    if found is None:
        raise SyntaxError("not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)")
    return found.group(1).upper()


def _bnode_label(found: re.Match) -> bytes:
    """A valid blank node label for whatever a server wrote (the same for the same label)."""
    label = found.group(1)
    safe = re.sub(rb"[^A-Za-z0-9]", b"_", label)
    return b"<bnode>b" + safe + b"</bnode>"


def _triples(body: bytes, content_type: str):
    """CONSTRUCT/DESCRIBE answers as pyoxigraph's QueryTriples, as the embedded store gives.

    pyoxigraph makes QueryTriples only from a query: the triples go through a small store.
    """
    fmt = ox.RdfFormat.from_media_type(content_type) or ox.RdfFormat.N_TRIPLES
    memory = ox.Store()
    memory.bulk_extend(ox.parse(body, format=fmt))
    return memory.query("CONSTRUCT WHERE { ?s ?p ?o }")


# -- opening -----------------------------------------------------------------------------

SCHEMES = {"sparql+http": "http", "sparql+https": "https"}


def from_settings(settings: dict, base: str) -> SparqlStore:
    """The store the STORE setting names: `sparql+http(s)://…` or an adapter's scheme."""
    url = settings["STORE"]
    scheme, _, rest = url.partition("://")
    options = {
        "update_url": settings.get("STORE_UPDATE_URL") or None,
        "gsp_url": settings.get("STORE_GSP_URL") or None,
        "user": settings.get("STORE_USER") or None,
        "password": settings.get("STORE_PASSWORD") or None,
    }
    if scheme in SCHEMES:
        return SparqlStore(f"{SCHEMES[scheme]}://{rest}", base, **options)
    from .store_virtuoso import SCHEMES as VIRTUOSO
    from .store_virtuoso import VirtuosoStore

    if scheme in VIRTUOSO:
        bulk = {
            "isql": settings.get("VIRTUOSO_ISQL") or "",
            "dba_password": settings.get("VIRTUOSO_DBA_PASSWORD") or "",
            "load_dir": settings.get("VIRTUOSO_LOAD_DIR") or "",
        }
        return VirtuosoStore(f"{VIRTUOSO[scheme]}://{rest}", base, **options, **bulk)
    known = ", ".join(f"{s}://" for s in (*SCHEMES, *VIRTUOSO))
    raise MemoiresError(f"STORE = {url!r} : adresse de store inconnue (attendu : {known}).")


def open_remote(settings: dict, instance_dir: Path, data_dir: Path, base: str) -> SparqlStore:
    """The SPARQL store, with data/ loaded (a new store) or its changes applied."""
    from .history import META, META_GRAPH, STORE_ID, WRITES

    store = from_settings(settings, base)
    instance_dir.mkdir(parents=True, exist_ok=True)
    with locked(instance_dir / "store.lock"):
        stamp = data_stamp(data_dir, base)
        row = next(
            iter(
                store.query(
                    f"SELECT ?id ?stamp WHERE {{ GRAPH {META_GRAPH} {{ {META} {STORE_ID} ?id "
                    f"OPTIONAL {{ {META} {STAMP} ?stamp }} }} }}"
                )
            ),
            None,
        )
        if row is None:  # new, or a load that did not finish: (re)load data/
            from .loading import load_data

            store.clear()
            load_data(store, data_dir)
            # The write counter starts at 0, present: Virtuoso 7.2 inserts nothing from
            # writes.COUNT_WRITE when its OPTIONAL finds no counter (a BIND on an unbound).
            store.update(f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {META} {WRITES} 0 }} }}")
        elif row["stamp"] is None or row["stamp"].value != stamp:
            from .writes import sync_store

            sync_store(store, data_dir)
        else:
            return store
        store.update(
            f"DELETE WHERE {{ GRAPH {META_GRAPH} {{ {META} {STAMP} ?s }} }} ;\n"
            f"INSERT DATA {{ GRAPH {META_GRAPH} {{ {META} {STAMP} {ox.Literal(stamp)} }} }}"
        )
    return store
