"""Remote store (#7): loads by Graph Store POSTs vs SPARQL Update, and the cost of a
conditional write, on one throw-away Virtuoso, baselines measured in the same run.

Loads: N synthetic fiches with their first revisions (bench/synthetic.py, loading.data_quads)
into an emptied Virtuoso, by

* `update-500`: INSERT DATA requests of 500 quads, the protocols alone (`sparql+http`) — the
  baseline;
* `update-adapter`: the Virtuoso adapter's INSERT DATA of 5,000 quads (`sql:big-data-const`);
* `gsp-1`, `gsp-4`: Graph Store POSTs, one per graph, 1 or 4 in flight (STORE_GSP_URL);
* `bulk-loader`: the adapter's bulk loader (isql), for reference.

Writes: the same fiche replaced WRITES times, alternately by the conditional request of
write_request.run (claim, pending graphs, read-back) and by the plain one (write_request.run_plain,
what the embedded store runs); only the request is timed (the plan and validation are not).

    flock /tmp/memoires-bench.lock python bench/remote_load.py --fiches 1000 --folder /tmp/x
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
sys.path.insert(0, str(BENCH))

import synthetic  # noqa: E402
from rdflib import Literal  # noqa: E402
from rdflib.namespace import DCTERMS  # noqa: E402
from virtuoso_server import Virtuoso  # noqa: E402

from memoires_ld import history, write_request, writes  # noqa: E402
from memoires_ld.iris import DEFAULT_BASE, Iris  # noqa: E402
from memoires_ld.loading import data_quads  # noqa: E402
from memoires_ld.store_sparql import from_settings  # noqa: E402


def loads(server: Virtuoso, quads: list) -> dict[str, float]:
    plain = server.settings(adapter=False)
    methods = {
        "update-500": (plain, {}),
        "update-adapter": (server.settings() | {"VIRTUOSO_ISQL": ""}, {}),
        "gsp-1": (server.settings(adapter=False, gsp=True), {"gsp_connections": 1}),
        "gsp-4": (server.settings(adapter=False, gsp=True), {"gsp_connections": 4}),
        "bulk-loader": (server.settings(), {}),
    }
    seconds, sizes = {}, {}
    for name, (settings, options) in methods.items():
        server.reset()
        store = from_settings(settings, DEFAULT_BASE)
        for key, value in options.items():
            setattr(store, key, value)
        started = time.perf_counter()
        store.load(quads)
        seconds[name] = time.perf_counter() - started
        sizes[name] = len(store)
        store.close()
    assert len(set(sizes.values())) == 1, f"the loads differ: {sizes}"
    return seconds


def conditional_writes(server: Virtuoso, data: Path, rounds: int) -> dict[str, list[float]]:
    server.reset()
    store = from_settings(server.settings(), DEFAULT_BASE)
    store.load(data_quads(DEFAULT_BASE, data))
    meta, count_triple = history.META_GRAPH, f"{history.META} {history.WRITES} 0"
    store.update(f"INSERT DATA {{ GRAPH {meta} {{ {count_triple} }} }}")  # as open_remote
    tag = sorted(p.stem for p in (data / "rdf/fiches").glob("*.ttl"))[0]
    graph = writes.current_graph(store, tag)
    fiche = Iris(DEFAULT_BASE).fiche(tag)
    times: dict[str, list[float]] = {"plain": [], "conditional": []}
    for n in range(rounds):
        for name in ("plain", "conditional"):
            graph.set((fiche, DCTERMS.title, Literal(f"Titre {n} {name}", lang="fr")))
            _, triples = writes._prepare(store, graph, stamp=True)
            _, write = writes._plan(store, tag, "replace", triples, "bench", None, None, None)
            started = time.perf_counter()
            if name == "plain":
                write_request.run_plain(store, write)
            else:
                assert write_request.run(store, write)
            times[name].append(time.perf_counter() - started)
    assert history.head_number(store, tag) == 2 * rounds + 1
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fiches", type=int, default=1000, help="synthetic fiches to load")
    parser.add_argument("--writes", type=int, default=30, help="writes of each kind")
    parser.add_argument("--folder", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="remote-load-"))
    data = folder / "data"
    if not data.exists():
        synthetic.write(data, args.fiches)
    quads = list(data_quads(DEFAULT_BASE, data))
    server = Virtuoso(folder / "virtuoso", buffers=100_000).start()
    try:
        seconds = loads(server, quads)
        times = conditional_writes(server, data, args.writes)
    finally:
        server.stop()
    load = os.getloadavg()[0]
    print(f"load of {args.fiches:,} fiches, {len(quads):,} quads (load average {load:.2f})")
    base = seconds["update-500"]
    for name, s in seconds.items():
        rate = len(quads) / s
        print(f"  {name:15} {s:7.2f} s  {rate:9,.0f} quads/s  ×{base / s:5.2f} vs update-500")
    plain = statistics.median(times["plain"]) * 1000
    conditional = statistics.median(times["conditional"]) * 1000
    print(
        f"write request, median of {args.writes}: plain {plain:.1f} ms, conditional "
        f"{conditional:.1f} ms (×{conditional / plain:.2f})"
    )


if __name__ == "__main__":
    main()
