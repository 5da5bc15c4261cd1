"""Change feed benchmark (not a test): reading /changes from the histories (#6).

Builds (once, kept under --root) an instance of N synthetic fiches as bench/synthetic.py does,
then times, on that store, in the same run:

* baseline: `history.changes_since` (the history pages' query, which counts each revision's
  additions and removals and sorts in SPARQL);
* `changes.changes` (the feed's lean query: no counts, sorted in Python), read once per store
  version, and `changes.page` (one page of 100, with the titles of its fiches).

    python bench/changes.py                 # 10k fiches
    python bench/changes.py --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import synthetic  # noqa: E402

from memoires_ld import changes, history, store  # noqa: E402
from memoires_ld.iris import DEFAULT_BASE  # noqa: E402


def timed(function, runs: int) -> float:
    """Median seconds of `runs` calls."""
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def measure(root: Path, n: int, runs: int) -> None:
    instance, data = root / f"changes-{n}" / "instance", root / f"changes-{n}" / "data"
    if not (instance / store.POINTER).exists():
        start = time.perf_counter()
        synthetic.build_instance(instance, data, n)
        print(f"{n} fiches built in {time.perf_counter() - start:.0f} s")
    settings = {"INSTANCE_DIR": str(instance), "DATA_DIR": str(data), "BASE_URL": DEFAULT_BASE}
    opened = store.open_configured(settings)
    found = changes.changes(opened)
    assert len(found) == len(history.changes_since(opened, changes.EPOCH)) >= n
    baseline = timed(lambda: history.changes_since(opened, changes.EPOCH), runs)
    feed = timed(lambda: changes.changes(opened), runs)
    page = timed(lambda: changes.page(found, 1, None, opened), runs)
    print(
        f"{n:>7} fiches, {len(found)} changes: history.changes_since {baseline:6.2f} s | "
        f"changes.changes {feed:6.2f} s ({baseline / feed:4.1f}× faster) | "
        f"a titled page {page * 1000:5.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument("--root", type=Path, default=Path("/tmp/bench-changes"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for n in args.sizes:
        measure(args.root, n, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
