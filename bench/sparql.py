"""SPARQL benchmark (not a test): `/sparql` over HTTP against pyoxigraph in-process.

For each size N it generates synthetic fiches (bench/synthetic.py), loads them as
`memoires-ld serve` would, keeps a checkpoint of that store for the in-process baseline, then
starts the real server (gunicorn, one process) and runs five queries both ways: in-process
(`Store.query` on the checkpoint + serialisation, as the worker does) and through
`POST /sparql` (a new comment each time, so that the cache does not answer). It also times a
repeated identical query (answered from the cache) and a revalidation (304). Measuring
starts once the worker has its listing indexes; the server's background publisher (dumps,
statistics: half an hour at 100k after any change) is paused meanwhile.

    python bench/sparql.py                  # 10k fiches
    python bench/sparql.py --sizes 1000 10000 100000
    python bench/sparql.py --sizes 100000 --queries d e   # only DESCRIBE and the histogram
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import synthetic  # noqa: E402
from publish import free_port, publisher, serve, stop, wait_ready  # noqa: E402

from memoires_ld.iris import DEFAULT_BASE  # noqa: E402
from memoires_ld.namespaces import PREFIXES  # noqa: E402
from memoires_ld.store import POINTER  # noqa: E402

HEAD = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
VOCAB = "https://w3id.org/memoires-ld/vocab/"
QUERIES = {
    "a_facet_counts": HEAD
    + """SELECT ?nature ?label (COUNT(DISTINCT ?fiche) AS ?n) WHERE {
  ?fiche a mld:Fiche ; schema:mainEntity ?action . ?action dct:type ?nature .
  ?nature skos:prefLabel ?label FILTER(LANG(?label) = "fr")
} GROUP BY ?nature ?label ORDER BY DESC(?n)""",
    "b_2facets_year": HEAD
    + f"""SELECT ?fiche ?title WHERE {{
  ?fiche a mld:Fiche ; dct:title ?title ; schema:mainEntity ?action .
  ?action dct:type <{VOCAB}nature/formation> ; mld:participants <{VOCAB}participants/16-30> ;
          dct:temporal "2015"^^xsd:gYear .
}} ORDER BY ?title LIMIT 20""",
    "c_contains": HEAD
    + """SELECT ?fiche ?title WHERE {
  ?fiche a mld:Fiche ; dct:title ?title ; dct:description ?d
  FILTER(CONTAINS(LCASE(?d), "coopération"))
} ORDER BY ?title LIMIT 20""",
    "d_describe": "DESCRIBE <{fiche}>",
    "e_years": HEAD
    + """SELECT ?year (COUNT(DISTINCT ?action) AS ?n) WHERE { ?action dct:temporal ?year }
GROUP BY ?year ORDER BY ?year""",
}


def in_process(store: ox.Store, query: str) -> tuple[float, int]:
    """Seconds to run and serialise as the endpoint's worker does; the answer's size."""
    started = time.perf_counter()
    results = store.query(query, use_default_graph_as_union=True)
    if isinstance(results, ox.QueryTriples):
        body = ox.serialize(results, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    else:
        body = results.serialize(format=ox.QueryResultsFormat.JSON)
    return time.perf_counter() - started, len(body)


def over_http(connection, query: str, accept: str, etag: str | None = None):
    """Seconds for one request on a kept-alive connection; status, ETag, body size.

    The server closes a connection idle for a few seconds (gunicorn's keep-alive), as it is
    while a long query runs in-process: then it is opened again, outside the timing."""
    try:
        connection.request("HEAD", "/pas-de-page")  # a 404: costs nothing
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        connection.close()
    headers = {"Accept": accept}
    started = time.perf_counter()
    if etag:
        headers["If-None-Match"] = etag
        connection.request("GET", "/sparql?query=" + quote(query, safe=""), headers=headers)
    else:
        headers["Content-Type"] = "application/sparql-query"
        connection.request("POST", "/sparql", query.encode(), headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    assert response.status in (200, 304), (response.status, body[:300])
    return elapsed, response.status, response.getheader("ETag"), len(body)


def floor(connection, tags: list[str], runs: int = 50) -> float:
    """Median ms of GET /fiche/{tag}.ttl on the same server: what any request costs here."""
    times = []
    for tag in tags[:runs]:
        started = time.perf_counter()
        connection.request("GET", f"/fiche/{tag}.ttl")
        connection.getresponse().read()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run_size(n: int, args, work: Path) -> list[dict]:
    folder = work / f"sparql-{n}"
    data, instance, tags_file = folder / "data", folder / "instance", folder / "tags.txt"
    port, base = free_port(), DEFAULT_BASE  # the data's IRIs; served on another port
    if not (instance / POINTER).exists() or not tags_file.exists():
        # bulk-loaded as bench/publish.py does, kept between runs: this measures queries,
        # not imports (bench/scale.py does)
        shutil.rmtree(folder, ignore_errors=True)
        started = time.monotonic()
        tags_file.parent.mkdir(parents=True, exist_ok=True)
        tags_file.write_text("\n".join(synthetic.build_instance(instance, data, n, 1, base)))
        print(f"N={n}: built in {time.monotonic() - started:.1f} s", flush=True)
    tags = tags_file.read_text().split("\n")
    path = instance / ("store-" + (instance / POINTER).read_text().split("\n", 1)[0])
    shutil.rmtree(folder / "baseline", ignore_errors=True)
    checkpoint = folder / "baseline"
    ox.Store.read_only(str(path)).backup(str(checkpoint))
    baseline = ox.Store.read_only(str(checkpoint))
    env_log = folder / "serve.log"
    os.environ["MEMOIRES_LD_SPARQL_RATE_LIMIT"] = "0"
    os.environ["MEMOIRES_LD_SPARQL_TIMEOUT"] = "120"
    server = serve(instance, data, port, 4, env_log, base)
    paused: list[int] = []
    try:
        wait_ready(server, port, env_log, "/sparql?query=ASK%7B%7D")  # not /dataset: its dumps
        wait_ready(server, port, env_log, "/fiches")  # the worker's listing indexes are read
        paused = publisher(server, env_log)
        for pid in paused:  # measure queries, not the dumps being written beside them
            os.kill(pid, signal.SIGSTOP)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        print(f"N={n}: HTTP floor (GET a fiche in Turtle): {floor(connection, tags):.2f} ms")
        rows = []
        for name, template in QUERIES.items():
            if args.queries and not any(name.startswith(q) for q in args.queries):
                continue
            query = template.replace("{fiche}", f"{base}fiche/{tags[n // 2]}")
            accept = "text/turtle" if name == "d_describe" else "application/sparql-results+json"
            for _ in range(args.warmup):
                in_process(baseline, query)
                over_http(connection, query + f"\n# warm-up {time.perf_counter()}", accept)
            local, remote, size = [], [], 0
            for rep in range(args.reps):  # interleaved
                seconds, size = in_process(baseline, query)
                local.append(seconds)
                remote.append(
                    over_http(connection, query + f"\n# run {rep} {time.time()}", accept)[0]
                )
            _, _, etag, served = over_http(connection, query, accept)  # primes the cache
            cached = [over_http(connection, query, accept)[0] for _ in range(args.reps)]
            revalidated = [over_http(connection, query, accept, etag)[0] for _ in range(args.reps)]
            row = {
                "n": n,
                "query": name,
                "in_process": statistics.median(local) * 1000,
                "http": statistics.median(remote) * 1000,
                "cached": statistics.median(cached) * 1000,
                "revalidated": statistics.median(revalidated) * 1000,
                "bytes": size,
                "served": served,
            }
            rows.append(row)
            print(line(row), flush=True)
        return rows
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
        stop(server)


def line(row: dict) -> str:
    ratio = row["http"] / row["in_process"] if row["in_process"] else float("nan")
    return (
        f"| {row['n']:,} | {row['query']} | {row['in_process']:.2f} | {row['http']:.2f} | "
        f"×{ratio:.2f} | {row['cached']:.2f} | {row['revalidated']:.2f} | {row['bytes']:,} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="numbers of fiches")
    parser.add_argument("--reps", type=int, default=9, help="runs per query (median)")
    parser.add_argument("--warmup", type=int, default=2, help="runs before measuring")
    parser.add_argument(
        "--queries", nargs="+", default=[], help="only these queries (a, b, c, d, e: prefixes)"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/memoires-ld-bench"), help="folder")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    print("| N | query | in-process ms | /sparql ms | ratio | repeated ms | 304 ms | bytes |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        run_size(n, args, args.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
