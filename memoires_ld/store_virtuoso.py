"""The Virtuoso adapter of the SPARQL store: what Virtuoso does its own way (#7).

Chosen by the scheme `virtuoso+http://host:8890/sparql-auth`; everything else is the
protocols (store_sparql.py). What differs:

* Virtuoso truncates a result at `ResultSetMaxRows` and answers "anytime" partial results
  past `MaxQueryExecutionTime`, both with a 200: it says so only in headers
  (`X-SPARQL-MaxRows`, `X-SQL-State`), which are turned into an error here — never a
  truncated answer read as complete;
* updates start with `DEFINE sql:big-data-const 1`: without it Virtuoso compiles every
  constant of an INSERT DATA into SQL code (300–900 triples/s, and an error past ~1,000);
* bulk loads, given `VIRTUOSO_ISQL` (its SQL port), `VIRTUOSO_DBA_PASSWORD` and
  `VIRTUOSO_LOAD_DIR` (a folder the server reads, listed in its `DirsAllowed`), go through
  Virtuoso's bulk loader: N-Quads files in that folder, `ld_dir` and one `rdf_loader_run()`
  per core in parallel, then a checkpoint — ~50× faster than INSERT DATA requests.
  `isql-vt` (package virtuoso-opensource-7-bin) runs the SQL, the password on its stdin.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from .store_sparql import DEFAULT_GRAPH, SparqlStore, StoreError

SCHEMES = {"virtuoso+http": "http", "virtuoso+https": "https"}
#: Quads per N-Quads file of a bulk load (the loader reads files in parallel).
FILE_QUADS = 400_000
ISQL = "isql-vt"


class VirtuosoStore(SparqlStore):
    def __init__(self, *args, isql: str = "", dba_password: str = "", load_dir: str = "", **kw):
        super().__init__(*args, **kw)
        self.isql_address = isql
        self._dba_password = dba_password
        self.load_dir = Path(load_dir) if load_dir else None

    def check(self, response) -> None:
        if "x-sparql-maxrows" in response.headers:
            raise StoreError(
                "Virtuoso a tronqué le résultat à ResultSetMaxRows = "
                f"{response.headers['x-sparql-maxrows']} lignes : augmentez ce réglage "
                "([SPARQL] de virtuoso.ini)."
            )
        # "00000" (success) comes with "SR172: Transaction deadlocked" when the endpoint ran
        # an update again after a deadlock, from the start: a complete answer.
        state = response.headers.get("x-sql-state", "")
        if state and state != "00000" and response.status < 300:
            raise StoreError(
                f"Virtuoso a rendu un résultat partiel ({state}) : augmentez "
                "MaxQueryExecutionTime ([SPARQL] de virtuoso.ini)."
            )

    #: With `sql:big-data-const 1`, bigger requests load faster (one GRAPH block of a
    #: request must stay under ~4,000 triples: the compiler's own limit).
    load_quads = 5_000

    def update(self, sparql: str) -> None:
        super().update(f"DEFINE sql:big-data-const 1\n{sparql}")

    # -- the bulk loader ---------------------------------------------------------------
    @property
    def bulk(self) -> bool:
        return bool(self.isql_address and self._dba_password and self.load_dir)

    def load(self, quads: Iterable[ox.Quad]) -> None:
        if not self.bulk:
            return super().load(quads)
        with self._loading() as folder:
            self._write_files(quads, folder)

    def load_nquads(self, files: Iterable[Path]) -> None:
        # The files of a load (bulkload.py) are written for this store (blank nodes as its
        # genid IRIs, every quad in a named graph): Virtuoso's loader reads them as they are,
        # as they come (one run at a time beside the workers that write the next ones).
        if not self.bulk:
            return super().load_nquads(files)
        with self._loading() as folder, ThreadPoolExecutor(1, "memoires-ld-loader") as early:
            running = None
            for n, path in enumerate(files):
                part = folder / f"{n:05d}.part"  # not *.nq before it is whole
                shutil.move(path, part)
                part.chmod(0o644)
                part.rename(folder / f"{n:05d}.nq")
                if running is None or running.done():
                    if running is not None:
                        running.result()
                    running = early.submit(self._run_loader, folder)
            if running is not None:
                running.result()
        return None

    @contextmanager
    def _loading(self) -> Iterator[Path]:
        """A new folder for N-Quads files; what the loader has not read yet is loaded once
        they are written, then a checkpoint makes the load durable."""
        folder = self.load_dir / f"memoires-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True)
        try:
            yield folder
            if not any(folder.iterdir()):
                return
            self._run_loader(folder)
            report = self.sql(
                "checkpoint;",
                "SELECT ll_file, ll_error FROM DB.DBA.load_list "
                f"WHERE ll_file LIKE '{folder}/%' AND (ll_state <> 2 OR ll_error IS NOT NULL);",
                f"DELETE FROM DB.DBA.load_list WHERE ll_file LIKE '{folder}/%';",
            )
            if str(folder) in report:
                raise StoreError(f"Le chargeur de Virtuoso a échoué : {report[-2000:]}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self._version = None

    def _run_loader(self, folder: Path) -> None:
        """Load the folder's files not loaded yet: `ld_dir` lists them (once each), then one
        `rdf_loader_run()` per core in parallel."""
        self.sql(f"ld_dir('{folder}', '*.nq', '{DEFAULT_GRAPH.value}');")
        loaders = max(1, min(len(list(folder.glob("*.nq"))), os.cpu_count() or 1))
        with ThreadPoolExecutor(loaders) as pool:
            list(pool.map(lambda _: self.sql("rdf_loader_run();"), range(loaders)))

    def _write_files(self, quads: Iterable[ox.Quad], folder: Path) -> list[Path]:
        files, batch = [], []
        for quad in quads:
            batch.append(self._as_stored(quad))
            if len(batch) >= FILE_QUADS:
                files.append(self._write(batch, folder / f"{len(files):05d}.nq"))
                batch = []
        if batch:
            files.append(self._write(batch, folder / f"{len(files):05d}.nq"))
        return files

    @staticmethod
    def _write(quads: list[ox.Quad], path: Path) -> Path:
        ox.serialize(quads, str(path), format=ox.RdfFormat.N_QUADS)
        path.chmod(0o644)
        return path

    def sql(self, *statements: str) -> str:
        """Run SQL as dba through isql-vt (the password on stdin, never on a command line)."""
        if shutil.which(ISQL) is None:
            raise StoreError(f"{ISQL} est introuvable : installez virtuoso-opensource-7-bin.")
        script = "\n".join([self._dba_password, *statements, ""])
        done = subprocess.run(
            [ISQL, self.isql_address, "dba"], input=script, capture_output=True, text=True
        )
        if done.returncode != 0 or "*** Error" in done.stdout:
            raise StoreError(f"isql ({self.isql_address}) : {done.stdout[-1000:]}")
        return done.stdout
