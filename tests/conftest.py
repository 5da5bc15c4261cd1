"""Fixtures shared by every test module: the store backends (#7).

`backend` gives the settings of a store: `{}` for the embedded store (the default of every
test that does not ask), or those of a real Virtuoso 7 started once for the session
(tests/virtuoso_server.py) — the tests that take `backend` run on both. Without
`virtuoso-t` installed (Debian: virtuoso-opensource) the Virtuoso runs are skipped with
the reason; `.ci/run` installs it, so CI never skips them.
"""

from __future__ import annotations

import pytest
from virtuoso_server import Virtuoso, available

BACKENDS = ("embedded", "virtuoso")


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """One Virtuoso for the session, stopped cleanly at the end."""
    if not available():
        pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
    server = Virtuoso(tmp_path_factory.mktemp("virtuoso")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> dict:
    """The store settings of one backend. Tests share the Virtuoso's database: pass them
    through `virtuoso_server.fresh()` before making an app or a store that starts empty."""
    if request.param == "embedded":
        return {}
    return request.getfixturevalue("virtuoso").settings()
