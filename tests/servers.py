"""Helpers for tests that run `memoires-ld serve` as a real process on a free loopback port."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def replicate_seed(data_dir: Path, copies: int) -> list[str]:
    """A data folder holding `copies` renamed copies of each seed fiche; return the tags."""
    fiches = data_dir / "rdf/fiches"
    fiches.mkdir(parents=True)
    shutil.copy(SEED / "rdf/import.ttl", data_dir / "rdf/import.ttl")
    tags = []
    for path in sorted((SEED / "rdf/fiches").glob("*.ttl")):
        text = path.read_text()
        for n in range(copies):
            tag = f"{path.stem}{n:03d}" if copies > 1 else path.stem
            (fiches / f"{tag}.ttl").write_text(text.replace(f"<fiche/{path.stem}", f"<fiche/{tag}"))
            tags.append(tag)
    return tags


class Server:
    """`memoires-ld serve` in its own process group, its output in a log file."""

    def __init__(self, instance: Path, data: Path, port: int | None = None):
        self.instance, self.data = instance, data
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log = instance.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        env = os.environ | {
            "MEMOIRES_LD_INSTANCE_DIR": str(self.instance),
            "MEMOIRES_LD_DATA_DIR": str(self.data),
        }
        command = [sys.executable, "-m", "memoires_ld.cli", "serve", "--port", str(self.port)]
        command += ["--base-url", self.base, "--threads", "4"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 60) -> float:
        """Wait until the server answers; return the seconds since it was started."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited:\n{self.log.read_text()}")
            try:
                if self.get("/dataset")[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.log.read_text()}")

    def get(self, path: str, accept: str = "text/turtle") -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Accept": accept})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def kill(self) -> None:
        """kill -9 the whole server: master and workers."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._wait_port_free()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
        self._wait_port_free()

    def _wait_port_free(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)
