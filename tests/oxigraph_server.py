"""A real Oxigraph SPARQL server (the `oxigraph` binary of the PyPI package) for the tests.

`OxigraphServer(folder).load(files).start()` loads Turtle files into a database folder with
`oxigraph load`, then runs `oxigraph serve` on a free loopback port; its SPARQL 1.1 query
endpoint is `.query_url`. Skipped (with the reason) where the binary is not installed.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from servers import free_port


def binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(found).exists():
        pytest.skip("the oxigraph server is not installed (pip install oxigraph)")
    return found


class OxigraphServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.query_url = f"http://127.0.0.1:{self.port}/query"
        self.log = folder.parent / f"oxigraph-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def load(self, files: list[Path]) -> OxigraphServer:
        command = [binary(), "load", "--location", str(self.folder)]
        for path in files:
            subprocess.run([*command, "--file", str(path)], check=True, capture_output=True)
        return self

    def start(self, timeout: float = 30) -> OxigraphServer:
        command = [binary(), "serve", "--location", str(self.folder)]
        command += ["--bind", f"127.0.0.1:{self.port}"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"oxigraph exited:\n{self.log.read_text()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/query?query=ASK%7B%7D")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.05)
            finally:
                connection.close()
        raise AssertionError(f"oxigraph not ready after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(15)
