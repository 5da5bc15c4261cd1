"""Publishing benchmark (not a test): real `memoires-ld serve` processes on loopback.

For each size N it builds an instance serving synthetic fiches (bench/synthetic.py: quads
bulk-loaded straight into the store, as a load of data/ leaves it; kept in the working
folder for the next run), then measures, in one run: first start on that store (dumps,
statistics), restart, fiche as Turtle and as HTML under load (wrk, random fiches) against a
bare Flask route that serialises the same fiche straight from pyoxigraph (the baseline,
same gunicorn settings, same store), listing with two facets p50, text search p50, RSS of
the serving processes, and the time to bring the listing's indexes up to date after a
write (against building them anew); and the first start on the seed (a load of data/).
Servers run one at a time, so they never share the CPU.

Fiches are measured as served (their Turtle and pages made in advance by the publisher,
web/rendered.py: the load runs wait until they are all made) and rendered per request
(`?fresh`); the load runs are interleaved in rounds with the baseline's (both servers up),
the median of each kept.

    python bench/publish.py                 # 1k and 10k fiches, 10 s per load run
    python bench/publish.py --sizes 100000 --keep  # keeps what an earlier run published
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
from flask import Flask, Response
from gunicorn.app.base import BaseApplication

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import synthetic  # noqa: E402

from memoires_ld.iris import DEFAULT_BASE  # noqa: E402
from memoires_ld.namespaces import PREFIXES  # noqa: E402
from memoires_ld.store import POINTER  # noqa: E402

WRK_SCRIPT = """
local tags = {}
local accept = "text/turtle"
local prefix = "/fiche/"
local suffix = ""
function init(args)
  for line in io.lines(args[1]) do tags[#tags + 1] = line end
  accept = args[2]
  prefix = args[3] or prefix
  suffix = args[4] or suffix
end
function request()
  return wrk.format("GET", prefix .. tags[math.random(#tags)] .. suffix, {Accept = accept})
end
"""


# -- the baseline: a bare Flask route over the same store -----------------------------


def baseline_app(store_path: str, base: str) -> Flask:
    store = ox.Store.read_only(store_path)
    app = Flask("baseline")

    @app.get("/fiche/<tag>")
    def fiche(tag: str):
        graph = ox.NamedNode(f"{base}fiche/{tag}")
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
        body = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        return Response(body, mimetype="text/turtle")

    @app.get("/dataset")
    def ready():
        return "ok"

    return app


class Baseline(BaseApplication):
    def __init__(self, store_path: str, base: str, port: int, threads: int):
        self.args = store_path, base
        self.options = {"bind": f"127.0.0.1:{port}", "workers": 1, "threads": threads}
        self.options |= {"worker_class": "gthread", "control_socket_disable": True}
        self.options |= {"loglevel": "warning"}
        super().__init__()

    def load_config(self):
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        return baseline_app(*self.args)


# -- processes --------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            command,
            env=os.environ | env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(
    process: subprocess.Popen, port: int, log: Path, path: str = "/dataset", timeout: float = 7200
) -> float:
    import http.client

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit("server not ready")


def stop(process: subprocess.Popen, paused: list[int] = ()) -> None:
    for pid in paused:  # a stopped process would not see its SIGTERM
        os.kill(pid, signal.SIGCONT)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def rss_mb(process: subprocess.Popen) -> float:
    """Resident memory of the server's process group (master and workers), in MB."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != process.pid:
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ProcessLookupError):
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total / 1024


def serve(
    instance: Path,
    data: Path,
    port: int,
    threads: int,
    log: Path,
    base: str | None = None,
) -> subprocess.Popen:
    env = {"MEMOIRES_LD_INSTANCE_DIR": str(instance), "MEMOIRES_LD_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "memoires_ld.cli", "serve", "--port", str(port)]
    command += ["--base-url", base or f"http://127.0.0.1:{port}/", "--threads", str(threads)]
    return start(command, env, log)


def publisher(server, log: Path) -> list[int]:
    """The server's background publisher: the master's children that are not its workers."""
    workers = {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log.read_text())}
    found = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent = re.search(r"^PPid:\s+(\d+)", status, re.M)
        if parent and int(parent.group(1)) == server.pid and int(entry.name) not in workers:
            found.append(int(entry.name))
    return found


# -- measurements -----------------------------------------------------------------------


def wrk(
    port: int,
    tags_file: Path,
    accept: str,
    seconds: int,
    connections: int,
    prefix: str = "/fiche/",
    suffix: str = "",
) -> dict:
    """A load run, after a warm-up run of a third of its length (the same random fiches'
    store pages and rows read once from disk, as for every route measured)."""
    script = tags_file.with_name("fiches.lua")
    script.write_text(WRK_SCRIPT)
    for duration in (max(1, seconds // 3), seconds):
        command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s"]
        command += [str(script), f"http://127.0.0.1:{port}", "--", str(tags_file), accept]
        command += [prefix, suffix]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
    out = out.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _percentile(out, 50),
        "p99": _percentile(out, 99),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _percentile(wrk_output: str, percent: int) -> str:
    distribution = wrk_output.partition("Latency Distribution")[2]
    found = re.search(rf"\b{percent}%\s+([\d.]+[a-z]+)", distribution)
    return found.group(1) if found else "?"


def p50_ms(port: int, path: str, accept: str = "text/html", runs: int = 30) -> float:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    times = []
    for n in range(runs + 2):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")
        if n >= 2:  # two warm-up requests (the first builds the indexes)
            times.append((time.perf_counter() - started) * 1000)
    connection.close()
    return statistics.median(times)


def _rendered(instance: Path, data: Path, call: str) -> str:
    """`call` run in a new process with rendered.py and the instance's `settings`, so that
    it sees the code as a server started now does (the file's name follows the code)."""
    code = (
        "import sys; from memoires_ld import config; from memoires_ld.web import rendered; "
        "settings = config.load({'INSTANCE_DIR': sys.argv[1], 'DATA_DIR': sys.argv[2], "
        f"'BASE_URL': sys.argv[3]}}); {call}"
    )
    command = [sys.executable, "-c", code, str(instance), str(data), DEFAULT_BASE]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def made_path(instance: Path, data: Path) -> Path:
    """The file of representations a server started now uses."""
    return Path(_rendered(instance, data, "print(rendered.path_for(settings))").strip())


def make_pages(instance: Path, data: Path) -> float:
    """Seconds to make every fiche's Turtle and pages (rendered.py's first pass), as the
    publisher does."""
    started = time.monotonic()
    _rendered(instance, data, "rendered.make(settings, passes=('pages',))")
    return time.monotonic() - started


def pause_publisher(server: subprocess.Popen, log: Path) -> list[int]:
    """SIGSTOP the server's publisher: its dumps and JSON-LD would compete for the CPU."""
    paused = publisher(server, log)
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    return paused


def wait_made(path: Path, timeout: float = 36000) -> float:
    """Seconds until the publisher has made every fiche's Turtle and pages (rendered.py)."""
    import sqlite3

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if path.exists():
            try:
                with sqlite3.connect(path) as db:
                    if db.execute("SELECT version FROM made WHERE pass = 'pages'").fetchone():
                        return time.monotonic() - started
            except sqlite3.Error:  # being created
                pass
        time.sleep(1)
    raise SystemExit("representations not made")


def listing_available() -> bool:
    try:
        import memoires_ld.facets
        import memoires_ld.search  # noqa: F401
    except ImportError:
        print("memoires_ld.facets / memoires_ld.search missing: listing and search skipped")
        return False
    return True


def prepared(n: int, args, work: Path) -> tuple[Path, Path, Path]:
    """The instance serving `n` synthetic fiches (built once), without what a first start
    writes (dumps, statistics, text index, representations) unless --keep; its data folder
    and tags file."""
    instance, data = work / f"instance-{n}", work / f"data-{n}-{args.seed}"
    tags_file = work / f"tags-{n}.txt"
    if not (instance / POINTER).exists() or not tags_file.exists():
        shutil.rmtree(instance, ignore_errors=True)
        started = time.monotonic()
        tags = synthetic.build_instance(instance, data, n, args.seed, DEFAULT_BASE)
        tags_file.write_text("\n".join(tags) + "\n")
        print(f"[{n}] store built in {time.monotonic() - started:.0f} s", flush=True)
    for path in [] if args.keep else instance.iterdir():
        if not path.name.startswith(("store-", "store.")):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return instance, data, tags_file


def run_size(n: int, args, work: Path) -> dict:
    instance, data, tags_file = prepared(n, args, work)
    port, log = free_port(), work / f"serve-{n}.log"
    result: dict = {"n": n, "load": os.getloadavg()[0]}

    first = "/fiche/" + tags_file.read_text().split()[0]
    if args.serving_only:  # no publication: the pages made beforehand, the publisher paused
        result["made_s"] = make_pages(instance, data)
        print(f"[{n}] Turtle and pages made in {result['made_s']:.0f} s", flush=True)
        result["first_start_s"] = result["published_s"] = float("nan")
        server = serve(instance, data, port, args.threads, log, DEFAULT_BASE)
        result["restart_s"] = wait_ready(server, port, log, first)
    else:
        made = made_path(instance, data)
        server = serve(instance, data, port, args.threads, log, DEFAULT_BASE)
        result["first_start_s"] = wait_ready(server, port, log, first)
        print(f"[{n}] first start {result['first_start_s']:.1f} s", flush=True)
        # the dataset's description waits for the dumps and statistics written in the background
        published = wait_ready(server, port, log, "/dataset")
        result["published_s"] = result["first_start_s"] + published
        print(f"[{n}] dumps and statistics written after {result['published_s']:.0f} s")
        result["made_s"] = result["published_s"] + wait_made(made)
        print(f"[{n}] fiches' representations made after {result['made_s']:.0f} s", flush=True)
        stop(server)
        made = made_path(instance, data)
        server = serve(instance, data, port, args.threads, log, DEFAULT_BASE)
        result["restart_s"] = wait_ready(server, port, log, first)
        wait_made(made)  # at once, unless the code changed since the first start
    print(f"[{n}] restart {result['restart_s']:.1f} s", flush=True)
    paused = pause_publisher(server, log)  # measure pages, not what it writes beside them
    if listing_available():
        result["listing_ms"] = p50_ms(port, "/fiches?nature=formation&duree=journee")
        result["search_ms"] = p50_ms(port, "/fiches?q=coop%C3%A9ration")
        print(f"[{n}] listing {result['listing_ms']:.1f} ms, search {result['search_ms']:.1f} ms")
    version = (instance / POINTER).read_text().split()[0]
    base_port, base_log = free_port(), work / f"baseline-{n}.log"
    command = [sys.executable, __file__, "--baseline", str(instance / f"store-{version}")]
    command += [DEFAULT_BASE, str(base_port), str(args.threads)]
    baseline = start(command, {}, base_log)
    wait_ready(baseline, base_port, base_log)
    # Interleaved rounds, the median of each kept: the machine is shared, and a run alone
    # measures whatever else runs meanwhile. `?fresh` (an argument other than `lang`) has
    # the fiche rendered per request; the trivial route is the app's fixed cost (hooks,
    # negotiation, headers), a route that reads nothing.
    runs = {
        "ttl": (port, "text/turtle", "/fiche/", ""),
        "html": (port, "text/html", "/fiche/", ""),
        "ttl_fresh": (port, "text/turtle", "/fiche/", "?fresh"),
        "html_fresh": (port, "text/html", "/fiche/", "?fresh"),
        "baseline": (base_port, "text/turtle", "/fiche/", ""),
        "trivial": (port, "*/*", "/context.jsonld?fiche=", ""),
    }
    rounds: dict[str, list[dict]] = {key: [] for key in runs}
    for number in range(args.rounds):
        for key, (where, accept, prefix, suffix) in runs.items():
            found = wrk(where, tags_file, accept, args.duration, args.connections, prefix, suffix)
            rounds[key].append(found)
            print(f"[{n}] round {number + 1} {key}: {found}", flush=True)
    for key, found in rounds.items():
        result[key] = sorted(found, key=lambda r: r["rps"])[len(found) // 2]
        result[key]["errors"] = sum(r["errors"] for r in found)
    result["rss_mb"] = rss_mb(server)
    stop(server, paused)
    stop(baseline)
    result |= index_update(instance, data, tags_file)
    print(
        f"[{n}] indexes: {result['update_ms']:.0f} ms after a write, "
        f"{result['rebuild_s']:.1f} s at start",
        flush=True,
    )
    return result


def index_update(instance: Path, data: Path, tags_file: Path) -> dict:
    """Time to bring the facet and text indexes up to date after one write (a fiche
    retitled through the write path), and to make them at start (read back from the
    file the server left)."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import DCTERMS

    from memoires_ld import facets, search, writes
    from memoires_ld.store import open_store

    store = open_store(instance, data, DEFAULT_BASE, writable=True)
    started = time.monotonic()
    index = facets.index_for(store, saved=lambda version: search.saved(instance, version))
    search.index_for(store, index, instance)
    rebuild = time.monotonic() - started
    tag = tags_file.read_text().split()[len(index) // 2]
    graph = writes.current_graph(store, tag)
    title = f"Zygomatique {store.version}"
    graph.set((URIRef(f"{DEFAULT_BASE}fiche/{tag}"), DCTERMS.title, Literal(title, lang="fr")))
    writes.replace_fiche(store, graph, agent="bench")
    started = time.monotonic()
    index = facets.index_for(store)
    text = search.index_for(store, index, instance)
    update = time.monotonic() - started
    assert [index.fiches[n].title for n in text.match(title)] == [title]
    store.close()
    return {"update_ms": update * 1000, "rebuild_s": rebuild}


def first_start_on_seed(args, work: Path, runs: int = 3) -> float:
    """Median time from `memoires-ld serve` on a new instance to the home page's first 200."""
    times = []
    for _ in range(runs):
        instance = work / "instance-seed"
        shutil.rmtree(instance, ignore_errors=True)
        port, log = free_port(), work / "serve-seed.log"
        server = serve(instance, BENCH.parent / "data", port, args.threads, log)
        times.append(wait_ready(server, port, log, "/"))
        stop(server)
    print(f"first start on the seed: {times}", flush=True)
    return statistics.median(times)


def table(results: list[dict], seed_start: float) -> str:
    rows = [
        "| N fiches | first start s (dumps written) | restart s | Turtle req/s (p50) "
        "| HTML req/s (p50) | baseline req/s (p50) | Turtle ratio | HTML ratio "
        "| per request: Turtle, HTML req/s (ratios) "
        "| listing 2 facets p50 ms | search p50 ms | RSS MB | index update ms (start s) "
        "| trivial route req/s | load | non-2xx |",
        "|" + "---|" * 16,
    ]
    for r in results:
        base = r["baseline"]["rps"]
        runs = ("ttl", "html", "ttl_fresh", "html_fresh", "baseline", "trivial")
        errors = sum(r[k]["errors"] for k in runs)
        fresh = [r["ttl_fresh"]["rps"], r["html_fresh"]["rps"]]
        rows.append(
            f"| {r['n']:,} | {r['first_start_s']:.1f} ({r['published_s']:.0f}, "
            f"{r['made_s']:.0f}) "
            f"| {r['restart_s']:.2f} "
            f"| {r['ttl']['rps']:,.0f} ({r['ttl']['p50']}) | {r['html']['rps']:,.0f} "
            f"({r['html']['p50']}) | {base:,.0f} ({r['baseline']['p50']}) "
            f"| {r['ttl']['rps'] / base:.2f} | {r['html']['rps'] / base:.2f} "
            f"| {fresh[0]:,.0f}, {fresh[1]:,.0f} ({fresh[0] / base:.2f}, {fresh[1] / base:.2f}) "
            f"| {r.get('listing_ms', float('nan')):.1f} | {r.get('search_ms', float('nan')):.1f} "
            f"| {r['rss_mb']:.0f} | {r['update_ms']:.0f} ({r['rebuild_s']:.1f}) "
            f"| {r['trivial']['rps']:,.0f} | {r['load']:.1f} | {errors} |"
        )
    rows.append(
        f"\nFirst start on the 38 seed fiches (load, then the home page; median of 3): "
        f"{seed_start:.2f} s. Goals: Turtle ratio ≥ 0.8, HTML ratio ≥ 0.5. First start at N: "
        "on a store already loaded, until a fiche's first 200 (dumps, statistics, then the "
        "fiches' representations written meanwhile in the background: seconds in "
        "parentheses); load: 1-minute load average."
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--baseline"]:
        store_path, base, port, threads = argv[1:5]
        Baseline(store_path, base, int(port), int(threads)).run()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="numbers of fiches (default: 1000 10000)",
    )
    parser.add_argument("--duration", type=int, default=6, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=4, help="server threads")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data")
    parser.add_argument(
        "--serving-only",
        action="store_true",
        help="measure serving only: the pages made beforehand, no first start, no publication "
        "(100k: the dumps take half an hour)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep what an earlier run published (first start then measures no publication)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/memoires-bench"),
        help="working folder (data, instances, logs)",
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    args.work.mkdir(parents=True, exist_ok=True)
    seed_start = first_start_on_seed(args, args.work)
    results = [run_size(n, args, args.work) for n in args.sizes]
    print(table(results, seed_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
