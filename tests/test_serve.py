"""`memoires-ld serve` as a real process: first start, restarts, kill -9 at the worst moments."""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import SEED, Server, replicate_seed

from memoires_ld.serve import gunicorn_options
from memoires_ld.store import POINTER

pytestmark = pytest.mark.slow


def seed_tags() -> list[str]:
    return sorted(p.stem for p in (SEED / "rdf/fiches").glob("*.ttl"))


def assert_every_fiche_answers(server: Server, tags: list[str]) -> None:
    status, _, body = server.get("/dumps/memoires.trig")
    assert status == 200, body[:500]
    graphs = {q.graph_name for q in ox.parse(body, format=ox.RdfFormat.TRIG)}
    missing = [t for t in tags if ox.NamedNode(f"{server.base}fiche/{t}") not in graphs]
    assert not missing, f"{len(missing)} fiche(s) missing from the served data: {missing[:5]}"
    status, _, _ = server.get(f"/fiche/{tags[0]}")
    if status == 404:  # the fiche pages are not served by this build yet
        return
    for tag in tags:
        status, _, body = server.get(f"/fiche/{tag}")
        assert status == 200, (tag, status, body[:300])


def store_folder(instance: Path) -> Path:
    version = (instance / POINTER).read_text().split()[0]
    return instance / f"store-{version}"


@pytest.fixture
def server(tmp_path: Path):
    servers: list[Server] = []

    def make(data: Path = SEED, port: int | None = None) -> Server:
        made = Server(tmp_path / "instance", data, port)
        servers.append(made)
        return made

    yield make
    for made in servers:
        made.stop()


def test_gunicorn_runs_threads_in_one_process():
    options = gunicorn_options({"HOST": "127.0.0.1", "PORT": 8000, "WORKERS": 1, "THREADS": 4})
    assert options["worker_class"] == "gthread"
    assert options["workers"] == 1 and options["threads"] > 1


def test_first_start_loads_everything_then_restarts_reopen(server):
    first = server().start()
    first.wait_ready()
    assert_every_fiche_answers(first, seed_tags())
    folder = store_folder(first.instance)
    inode = folder.stat().st_ino
    first.stop()

    again = server(port=first.port).start()
    again.wait_ready()
    # the same store, reopened, not reloaded
    assert store_folder(again.instance) == folder and folder.stat().st_ino == inode
    assert not list(again.instance.glob(".loading-*"))
    assert_every_fiche_answers(again, seed_tags())


def test_kill_9_during_the_first_load(server, tmp_path: Path):
    data = tmp_path / "data"
    tags = replicate_seed(data, copies=5)  # 190 fiches: a load long enough to interrupt
    first = server(data).start()
    deadline = time.monotonic() + 30
    while not list(first.instance.glob(".loading-*")):
        assert time.monotonic() < deadline, first.log.read_text()
        time.sleep(0.002)
    time.sleep(0.2)
    first.kill()
    assert not (first.instance / POINTER).exists(), "a half-loaded store was published"

    again = server(data, port=first.port).start()
    again.wait_ready()
    assert not list(again.instance.glob(".loading-*")), "the interrupted load was not cleaned"
    assert_every_fiche_answers(again, tags)


def test_kill_9_while_serving(server):
    first = server().start()
    first.wait_ready()
    folder = store_folder(first.instance)
    stop = threading.Event()

    def load():
        while not stop.is_set():
            try:
                first.get("/dumps/memoires.ttl")
                first.get("/dataset")
            except (OSError, http.client.HTTPException):
                pass

    clients = [threading.Thread(target=load) for _ in range(4)]
    for client in clients:
        client.start()
    time.sleep(0.5)
    first.kill()
    stop.set()
    for client in clients:
        client.join()

    again = server(port=first.port).start()
    again.wait_ready()
    assert store_folder(again.instance) == folder  # reopened as it was
    assert_every_fiche_answers(again, seed_tags())
    status, headers, _ = again.get("/dumps/memoires.nt.gz")
    assert status == 200 and headers["Content-Type"] == "application/gzip"


def test_a_worker_that_exits_leaves_the_master_and_its_publisher_alone(server):
    """A worker restarted by gunicorn (here: SIGTERM) exits cleanly: it does not signal or
    join the master's background publisher, which it never started."""
    running = server().start()
    running.wait_ready()
    worker = re.findall(r"Booting worker with pid: (\d+)", running.log.read_text())[-1]
    os.kill(int(worker), signal.SIGTERM)
    deadline = time.monotonic() + 30
    while "Booting worker" not in running.log.read_text().split("Worker exiting")[-1]:
        assert time.monotonic() < deadline, running.log.read_text()
        time.sleep(0.1)
    running.wait_ready()
    assert running.get("/fiche/" + seed_tags()[0])[0] == 200
    log = running.log.read_text()
    assert "can only join a child process" not in log and "Traceback" not in log, log


def _request(server: Server, method: str, path: str, headers: dict, body: bytes = b""):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _next_version(version: str) -> str:
    """The store's version after one write (store.version: `<loaded>.<writes>`)."""
    loaded, dot, count = version.rpartition(".")
    if dot and count.isdigit() and loaded.count(".") == 0:
        return f"{loaded}.{int(count) + 1}"
    return f"{version}.1"


def test_after_a_write_the_previous_dumps_are_served_until_the_new_ones_are_written(
    server, tmp_path: Path
):
    """Stale while revalidate: the publisher process writes the new version's dumps while
    /dataset and the dump URLs answer at once with the previous version's (its ETag, the
    file's own Last-Modified), then with the new ones. The publisher is held back by
    taking the new version's dumps lock, as a long write at 100k fiches would."""
    import fcntl

    from writes_fixtures import small_data

    from memoires_ld.accounts import Accounts

    data = small_data(tmp_path / "data")
    accounts = Accounts(tmp_path / "instance")
    accounts.add("robot", "un mot de passe sûr", "editor")
    token = accounts.create_token("robot")[1]
    app = server(data).start()
    app.wait_ready()
    status, headers, old_dump = app.get("/dumps/memoires.ttl")
    assert status == 200
    old = headers["ETag"].strip('"')
    old_modified = headers["Last-Modified"]
    assert app.get("/dataset")[1]["ETag"] == f'"{old}-turtle"'

    new = _next_version(old)
    folder = tmp_path / "instance" / "dumps" / new
    folder.mkdir(parents=True)
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tag = "AtelierCohesionDEquipe"
        _, fiche_headers, fiche = app.get(f"/fiche/{tag}")
        retitled = fiche.replace("Atelier cohésion".encode(), b"Atelier Zygomatique")
        assert retitled != fiche
        status, _, body = _request(
            app,
            "PUT",
            f"/fiche/{tag}",
            {
                "Authorization": f"Bearer {token}",
                "Content-Type": "text/turtle",
                "If-Match": fiche_headers["ETag"],
            },
            retitled,
        )
        assert status in (200, 204), body[:500]
        assert b"Zygomatique" in app.get(f"/fiche/{tag}")[2]
        time.sleep(2)  # the publisher has seen the write and waits for the lock
        for _ in range(3):
            started = time.monotonic()
            status, headers, body = app.get("/dumps/memoires.ttl")
            assert time.monotonic() - started < 2
            assert (status, headers["ETag"], body) == (200, f'"{old}"', old_dump)
            assert headers["Last-Modified"] == old_modified
            status, headers, _ = app.get("/dataset")
            assert (status, headers["ETag"]) == (200, f'"{old}-turtle"')
        revalidated = _request(app, "GET", "/dumps/memoires.ttl", {"If-None-Match": f'"{old}"'})
        assert revalidated[0] == 304
        fcntl.flock(lock, fcntl.LOCK_UN)

    deadline = time.monotonic() + 60
    while app.get("/dataset")[1]["ETag"] != f'"{new}-turtle"':
        assert time.monotonic() < deadline, "the new version was never published"
        time.sleep(0.2)
    status, headers, body = app.get("/dumps/memoires.ttl")
    assert (status, headers["ETag"]) == (200, f'"{new}"')
    assert b"Zygomatique" in body and b"Zygomatique" not in old_dump
    assert sorted(p.name for p in (tmp_path / "instance" / "dumps").iterdir()) == [new]
