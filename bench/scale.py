"""Scale benchmark (#7): the embedded store and Virtuoso side by side at 1k, 10k, 100k fiches.

For each size N, synthetic fiches (bench/synthetic.py) are written once as Turtle files;
then, for each backend, in a fresh process of its own (so that memory is this backend's):

* import + validate + store: `memoires-ld load`'s path (bulkload.load_files, 2 validating
  processes, an empty verdict cache), fiches/s, peak RSS; then the same load again (every
  verdict from the cache, nothing to store);
* start: `create_app` on the loaded store (data/ unchanged);
* fiche pages (HTML and Turtle) and the listing through the app (Flask's test client, one
  thread): requests/s over random fiches, the listing with two facets, a text search;
* the five SPARQL queries of perf-baseline §2 through `Store.query`: median of 3 after one
  warm-up;
* RSS of the process, and of virtuoso-t.

    python bench/scale.py 1000 10000 --work /tmp/scale --out docs/scaling-results.json
    python bench/scale.py 10000 100000 --only load --backends embedded --out /tmp/load.json

The report (a Markdown table with Virtuoso / embedded ratios and the exponent b of t ∝ N^b
between sizes) is printed at the end and written beside the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))
sys.path.insert(0, str(BENCH))

import synthetic  # noqa: E402
from virtuoso_server import Virtuoso  # noqa: E402

from memoires_ld import vocabulary  # noqa: E402
from memoires_ld.iris import DEFAULT_BASE  # noqa: E402

PREFIXES = """PREFIX mld: <https://w3id.org/memoires-ld/ns#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pair: <http://virtual-assembly.org/ontologies/pair#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def queries(tag: str) -> dict[str, str]:
    nature, participants = vocabulary.concepts("nature")[0], vocabulary.concepts("participants")[0]
    return {
        "a_facet_counts": PREFIXES
        + """SELECT ?nature (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a mld:Fiche ;
        pair:documents ?a . ?a dct:type ?nature } GROUP BY ?nature ORDER BY DESC(?n)""",
        "b_2facets_year": PREFIXES
        + f"""SELECT ?f ?t WHERE {{ ?f a mld:Fiche ; dct:title ?t ; pair:documents ?a .
        ?a dct:type <{nature}> ; mld:participants <{participants}> ;
        dct:temporal "2017"^^xsd:gYear }} ORDER BY ?t LIMIT 20""",
        "c_contains": PREFIXES
        + """SELECT ?f ?t WHERE { ?f a mld:Fiche ; dct:title ?t ; dct:description ?d
        FILTER(CONTAINS(LCASE(?d), "coopération")) } ORDER BY ?t LIMIT 20""",
        "d_describe": f"DESCRIBE <{DEFAULT_BASE}fiche/{tag}>",
        "e_years": PREFIXES
        + """SELECT ?y (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f pair:documents ?a .
        ?a dct:temporal ?y } GROUP BY ?y ORDER BY ?y""",
    }


def rss_mb(pid: int | str = "self") -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # the process ended
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


class TreeRss(threading.Thread):
    """The peak of the summed RSS of this process and all its descendants (the load's
    validating workers and their forkserver), sampled every 50 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, sum(rss_mb(pid) for pid in _tree(os.getpid())))
            time.sleep(0.05)

    def stop(self) -> float:
        self.running = False
        self.join()
        return self.peak


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def timed(fn, reps: int = 3) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def rate(client, urls: list[str], seconds: float = 3.0, **headers) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        response = client.get(random.choice(urls), headers=headers)
        assert response.status_code == 200, (response.status_code, response.data[:200])
        done += 1
    return done / (time.perf_counter() - start)


# -- one backend at one size, in its own process -------------------------------------------


def run_one(n: int, backend: str, work: Path, only: str = "") -> dict:
    from memoires_ld import config
    from memoires_ld.bulkload import Cache, load_files
    from memoires_ld.store import open_configured
    from memoires_ld.validation import files_to_validate
    from memoires_ld.web import create_app

    files = files_to_validate([work / f"data-{n}" / "rdf" / "fiches"])
    folder = work / f"{backend}-{n}"
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    (folder / "data").mkdir(parents=True)
    server = None
    settings = {"INSTANCE_DIR": str(folder / "instance"), "DATA_DIR": str(folder / "data")}
    if backend == "virtuoso":
        buffers = max(20_000, min(340_000, n * 3))  # ~25 KB per fiche, 2.6 GB at most
        server = Virtuoso(folder / "virtuoso", buffers=buffers).start()
        settings |= server.settings()
    settings = config.load(settings | {"SPARQL_RATE_LIMIT": 0})
    out: dict = {"n": n, "backend": backend}
    try:
        store = open_configured(settings, writable=True)
        cache = Cache(folder / "instance" / "validation-cache.sqlite")
        sampler = TreeRss()
        sampler.start()
        start = time.perf_counter()
        done = load_files(store, files, jobs=2, cache=cache, spool=folder)
        out["load_s"] = time.perf_counter() - start
        out["load_tree_peak_rss_mb"] = sampler.stop()
        assert len(done.added) == n and not done.invalid, (len(done.added), done.invalid[:1])
        out["load_per_s"] = n / out["load_s"]
        out["load_peak_rss_mb"] = peak_mb()
        start = time.perf_counter()
        again = load_files(store, files, jobs=2, cache=cache)
        out["reload_s"] = time.perf_counter() - start
        assert len(again.unchanged) == n and again.validated == 0
        cache.close()
        del store
        if backend == "embedded":
            out |= stages(files, folder)
        out["loadavg"] = os.getloadavg()[0]
        if only == "load":
            return out

        start = time.perf_counter()
        app = create_app(settings)
        out["start_s"] = time.perf_counter() - start
        client = app.test_client()
        tags = [f.stem for f in random.Random(1).sample(files, min(200, len(files)))]
        pages = [f"/fiche/{t}" for t in tags]
        out["fiche_html_per_s"] = rate(client, pages, Accept="text/html")
        out["fiche_ttl_per_s"] = rate(client, [p + ".ttl" for p in pages])
        nature = str(vocabulary.concepts("nature")[0]).rsplit("/", 1)[1]
        listing = f"/fiches?nature={nature}&annee=2017"
        start = time.perf_counter()
        assert client.get(listing).status_code == 200
        out["listing_first_ms"] = (time.perf_counter() - start) * 1000
        out["listing_ms"] = timed(lambda: client.get(listing))
        out["search_ms"] = timed(lambda: client.get("/fiches?q=coopération+atelier"))
        store = app.extensions["store"]
        for name, sparql in queries(tags[0]).items():
            out[f"sparql_{name}_ms"] = timed(lambda q=sparql: list(store.query(q)))
        out["rss_mb"] = rss_mb()
        if server is not None:
            out["virtuoso_rss_mb"] = rss_mb(server.process.pid)
    finally:
        if server is not None:
            server.stop()
    return out


def stages(files: list[Path], folder: Path) -> dict:
    """The load's two stages alone, on the same files, one after the other: the workers
    checking the files and writing their N-Quads (2 processes, nothing stored), then
    Oxigraph loading those files into a new store (EmbeddedStore.load_nquads: nothing
    checked). The load runs both at once on the same cores: its time is at least that of
    the slower stage, and at least half their summed CPU on 2 cores."""
    import pyoxigraph as ox

    from memoires_ld import bulkload
    from memoires_ld.iris import DEFAULT_BASE
    from memoires_ld.store import EmbeddedStore
    from memoires_ld.writes import now

    spool = folder / "stages"
    spool.mkdir()
    todo = [bulkload.Job(f.stem, str(f), build=True) for f in files]
    shared = (DEFAULT_BASE, "", bulkload.REASON, now(), str(spool), "")
    sampler = WorkersCpu()
    sampler.start()
    start = time.perf_counter()
    written = [path for _, path in bulkload._run(todo, shared, 2, None) if path]
    out = {"stage_check_s": time.perf_counter() - start, "stage_check_cpu_s": sampler.stop()}
    store = EmbeddedStore(ox.Store(str(folder / "stages-store")), "stages", DEFAULT_BASE)
    start, cpu = time.perf_counter(), time.process_time()
    store.load_nquads(map(Path, written))
    out["stage_store_s"] = time.perf_counter() - start
    out["stage_store_cpu_s"] = time.process_time() - cpu
    out["stage_check_per_s"] = len(files) / out["stage_check_s"]
    out["stage_store_per_s"] = len(files) / out["stage_store_s"]
    del store
    subprocess.run(["rm", "-rf", str(spool), str(folder / "stages-store")], check=True)
    return out


class WorkersCpu(threading.Thread):
    """CPU seconds of this process's descendants (the workers are the forkserver's
    children, not ours: read from /proc every 100 ms, the last reading of each kept)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[int, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            for pid in _tree(os.getpid())[1:]:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.seen[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            time.sleep(0.1)

    def stop(self) -> float:
        self.running = False
        self.join()
        return sum(self.seen.values())


# -- the driver and the report -------------------------------------------------------------

ROWS = [
    ("load_per_s", "import + validate + store, fiches/s", True),
    ("load_s", "import + validate + store, s", False),
    ("reload_s", "same load again (cached verdicts), s", False),
    ("load_peak_rss_mb", "peak RSS during the load, MB", False),
    ("load_tree_peak_rss_mb", "peak RSS during the load, all processes summed, MB", False),
    ("stage_check_per_s", "stage alone: check + write N-Quads (2 workers), fiches/s", True),
    ("stage_store_per_s", "stage alone: Oxigraph loads those files, fiches/s", True),
    ("stage_check_cpu_s", "stage alone: check + write N-Quads, CPU s", False),
    ("stage_store_cpu_s", "stage alone: Oxigraph loads those files, CPU s", False),
    ("start_s", "start (create_app on the loaded store), s", False),
    ("fiche_html_per_s", "fiche page HTML, req/s (1 thread)", True),
    ("fiche_ttl_per_s", "fiche Turtle, req/s (1 thread)", True),
    ("listing_first_ms", "listing 2 facets, first (index built), ms", False),
    ("listing_ms", "listing 2 facets, then, ms", False),
    ("search_ms", "text search, ms", False),
    ("sparql_a_facet_counts_ms", "SPARQL a: facet counts, ms", False),
    ("sparql_b_2facets_year_ms", "SPARQL b: 2 facets + year, ORDER BY, LIMIT 20, ms", False),
    ("sparql_c_contains_ms", "SPARQL c: CONTAINS(LCASE(description)), ms", False),
    ("sparql_d_describe_ms", "SPARQL d: DESCRIBE one fiche, ms", False),
    ("sparql_e_years_ms", "SPARQL e: year histogram, ms", False),
    ("rss_mb", "RSS of the app process, MB", False),
    ("virtuoso_rss_mb", "RSS of virtuoso-t, MB", False),
]


def report(results: list[dict]) -> str:
    sizes = sorted({r["n"] for r in results})
    cell = {(r["n"], r["backend"]): r for r in results}
    head = ["measure"]
    for n in sizes:
        head += [f"embedded {n:,}", f"Virtuoso {n:,}", "V/E"]
    if len(sizes) > 1:
        head += [f"b embedded {a:,}→{b:,}" for a, b in pairwise(sizes)]
        head += [f"b Virtuoso {a:,}→{b:,}" for a, b in pairwise(sizes)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, _higher in ROWS:
        row = [label]
        for n in sizes:
            e, v = cell.get((n, "embedded"), {}).get(key), cell.get((n, "virtuoso"), {}).get(key)
            row += [_fmt(e), _fmt(v), f"{v / e:.2f}" if e and v else ""]
        for backend in ("embedded", "virtuoso"):
            for a, b in pairwise(sizes):
                x, y = cell.get((a, backend), {}).get(key), cell.get((b, backend), {}).get(key)
                row.append(f"{math.log(y / x) / math.log(b / a):.2f}" if x and y else "")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", type=int, nargs="*", help="numbers of fiches")
    parser.add_argument("--work", type=Path, default=Path("/tmp/memoires-scale"))
    parser.add_argument("--out", type=Path, default=BENCH / "scale-results.json")
    parser.add_argument("--backends", default="embedded,virtuoso")
    parser.add_argument(
        "--only", choices=["load"], default="", help="measure only the load (and the re-load)"
    )
    parser.add_argument("--one", nargs=2, metavar=("N", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1], args.work, args.only)))
        return 0
    results = json.loads(args.out.read_text()) if args.out.exists() else []
    for n in args.sizes:
        data = args.work / f"data-{n}"
        if not (data / "rdf" / "fiches").is_dir():
            start = time.perf_counter()
            synthetic.write(data, n)
            print(f"{n} synthetic fiches written in {time.perf_counter() - start:.0f} s")
        for backend in args.backends.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--one", str(n), backend, "--work", str(args.work)]
                + (["--only", args.only] if args.only else []),
                capture_output=True,
                text=True,
                env=os.environ | {"PYTHONHASHSEED": "0"},
            )
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(result), flush=True)
            results = [r for r in results if (r["n"], r["backend"]) != (n, backend)] + [result]
            args.out.write_text(json.dumps(results, indent=1))
    table = report(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
