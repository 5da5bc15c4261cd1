"""A throw-away Virtuoso for the tests and the benchmark (not a test module).

`Virtuoso(folder).start()` writes tests/virtuoso/virtuoso.ini.template into `folder` with two
free loopback ports, sets a fresh random dba password while the database is created
(`+pwdold dba +pwddba …`: the default dba/dba never listens on a port), starts `virtuoso-t`,
and creates the account the app uses: `memoires`, another random password, with the roles
SPARQL_SELECT and SPARQL_UPDATE, reached with Digest authentication on /sparql-auth (the
anonymous /sparql stays read-only). SQL goes through `isql-vt` with the password on stdin,
never on a command line. `stop()` shuts it down cleanly (isql `shutdown`, else SIGTERM).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE = Path(__file__).with_name("virtuoso") / "virtuoso.ini.template"
SERVER, ISQL = "virtuoso-t", "isql-vt"
USER = "memoires"
SYSTEM_GRAPHS = "system-graphs.txt"


def available() -> bool:
    return shutil.which(SERVER) is not None and shutil.which(ISQL) is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Virtuoso:
    folder: Path
    #: 8 KB pages of buffers (20,000 ≈ 160 MB; Virtuoso's table: 340,000 for 4 GB of RAM)
    buffers: int = 20_000
    sql_port: int = field(default_factory=_free_port)
    http_port: int = field(default_factory=_free_port)
    # 16 characters: Virtuoso 7.2 refuses longer passwords at login (isql, Digest), silently.
    dba_password: str = field(default_factory=lambda: secrets.token_hex(8), repr=False)
    password: str = field(default_factory=lambda: secrets.token_hex(8), repr=False)
    process: subprocess.Popen | None = None

    @property
    def load_dir(self) -> Path:
        return self.folder / "load"

    @property
    def isql(self) -> str:
        return f"127.0.0.1:{self.sql_port}"

    @property
    def sparql(self) -> str:
        """The authenticated SPARQL endpoint (queries and updates, Digest auth)."""
        return f"http://127.0.0.1:{self.http_port}/sparql-auth"

    @property
    def gsp(self) -> str:
        """The authenticated Graph Store Protocol endpoint (Digest auth, like /sparql-auth)."""
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud-auth"

    def settings(self, adapter: bool = True, gsp: bool = False) -> dict:
        """The app's STORE settings for this server (loads by Graph Store POSTs if `gsp`)."""
        scheme = "virtuoso+http" if adapter else "sparql+http"
        return {
            "STORE": f"{scheme}://127.0.0.1:{self.http_port}/sparql-auth",
            "STORE_GSP_URL": self.gsp if gsp else "",
            "STORE_USER": USER,
            "STORE_PASSWORD": self.password,
            "VIRTUOSO_ISQL": self.isql,
            "VIRTUOSO_DBA_PASSWORD": self.dba_password,
            "VIRTUOSO_LOAD_DIR": str(self.load_dir),
        }

    def start(self, timeout: float = 120) -> Virtuoso:
        (self.folder / "db").mkdir(parents=True, exist_ok=True)
        self.load_dir.mkdir(exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        text = TEMPLATE.read_text()
        for name, value in {
            "@DIR@": self.folder,
            "@LOADDIR@": self.load_dir,
            "@SQLPORT@": self.sql_port,
            "@HTTPPORT@": self.http_port,
            "@BUFFERS@": self.buffers,
            "@DIRTY@": self.buffers * 3 // 4,
        }.items():
            text = text.replace(name, str(value))
        ini.write_text(text)
        server = [SERVER, "+configfile", str(ini), "+foreground"]
        # Creates the database with our dba password, then exits (listens on no port).
        subprocess.run(
            [*server, "+pwdold", "dba", "+pwddba", self.dba_password],
            cwd=self.folder,
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        log = open(self.folder / "virtuoso.out", "ab")  # noqa: SIM115 (the server's lifetime)
        self.process = subprocess.Popen(server, cwd=self.folder, stdout=log, stderr=log)
        log.close()
        self._wait(timeout)
        self.sql(
            f"DB.DBA.USER_CREATE('{USER}', '{self.password}');",
            f'GRANT SPARQL_SELECT TO "{USER}";',
            f'GRANT SPARQL_UPDATE TO "{USER}";',
        )
        # Virtuoso's own graphs (virtrdf#, owl#, …), kept by reset()
        listed = self.sql("SPARQL SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } };")
        graphs = sorted(set(re.findall(r"^(\S+:\S+)\s*$", listed, re.MULTILINE)))
        (self.folder / SYSTEM_GRAPHS).write_text("\n".join(graphs) + "\n")
        return self

    def reset(self) -> None:
        """Remove every quad but Virtuoso's own: the next store opened on it starts empty."""
        keep = (self.folder / SYSTEM_GRAPHS).read_text().split()
        graphs = ", ".join(f"iri_to_id('{g}')" for g in keep)
        self.sql(f"DELETE FROM DB.DBA.RDF_QUAD WHERE G NOT IN ({graphs});")

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        log = self.folder / "db" / "virtuoso.log"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t stopped at start: see {log}")
            if log.is_file() and "Server online at" in log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"virtuoso-t not online after {timeout} s: see {log}")

    def sql(self, *statements: str, timeout: float = 3600) -> str:
        """Run SQL statements as dba (password on stdin); return isql's output."""
        script = "\n".join([self.dba_password, *statements, ""])
        done = subprocess.run(
            [ISQL, self.isql, "dba"],
            input=script,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0 or "*** Error" in done.stdout:
            raise RuntimeError(f"isql failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done.stdout

    def stop(self, timeout: float = 60) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The shutdown closes the connection under isql: its exit code varies.
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.sql("shutdown;", timeout=timeout)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=timeout)


def fresh(settings: dict) -> dict:
    """Settings of a store with nothing in it yet: empty the Virtuoso they name, if any."""
    if settings.get("STORE"):
        folder = Path(settings["VIRTUOSO_LOAD_DIR"]).parent
        server = Virtuoso(folder, sql_port=int(settings["VIRTUOSO_ISQL"].rsplit(":", 1)[1]))
        server.dba_password = settings["VIRTUOSO_DBA_PASSWORD"]
        server.reset()
    return settings
