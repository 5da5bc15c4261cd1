"""kill -9 in the middle of writes: every fiche is the old or the new version, never mixed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.namespace import DCTERMS
from writes_fixtures import TAGS, open_small

from memoires_ld import history
from memoires_ld.iris import Iris

pytestmark = pytest.mark.slow

WRITER = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from writes_fixtures import TAGS, open_small, retitled, seed_fiche
from memoires_ld import writes

store = open_small(Path({tmp!r}))
graphs = {{tag: seed_fiche(tag) for tag in TAGS[:2]}}
n = 0
while True:
    n += 1
    tag = TAGS[n % 2]
    writes.replace_fiche(store, retitled(graphs[tag], tag, f"Titre {{n}}"), agent="robot")
    print(n, flush=True)
"""


def titles(store, tag: str) -> set[str]:
    fiche = ox.NamedNode(str(Iris().fiche(tag)))
    return {
        q.object.value for q in store.match(fiche, ox.NamedNode(str(DCTERMS.title)), None, fiche)
    }


def test_kill_9_while_writing(tmp_path: Path):
    open_small(tmp_path)  # the first load, not what is tested here
    script = WRITER.format(tests=str(Path(__file__).parent), tmp=str(tmp_path))
    rounds, written = 4, 0
    for _ in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        time.sleep(random.uniform(1.5, 3.0))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        lines = child.stdout.read().split()
        child.stdout.close()
        written += len(lines)

        store = open_small(tmp_path)
        total = 0
        for tag in TAGS:
            n = history.head_number(store, tag)
            total += n - 1
            stored = {q.triple for q in store.graph_quads(str(Iris().fiche(tag)))}
            # history matches the fiche, revision by revision replayed
            assert history.state_at(store, tag, n) == stored, tag
            assert len(titles(store, tag)) == 1, titles(store, tag)
            assert [r.number for r in history.revisions(store, tag)] == list(range(1, n + 1))
        # the write counter moved with every revision, in the same transactions
        assert store.write_count() == total
        # every write the child reported done is there (at most one more, killed after commit)
        assert total in (written, written + 1), (total, written)
        written = total
        del store
    assert written > rounds  # the child did write between kills
