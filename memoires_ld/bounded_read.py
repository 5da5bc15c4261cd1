"""Read an HTTP answer's body within a size cap and a deadline (harvest, YesWiki import).

`read1` takes one receive at a time, so that a server sending a byte now and then cannot
hold the read past its deadline (`read(n)` would wait for n bytes). The caller says, with
its own error, what a too-large, too-slow or truncated answer is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CHUNK = 64 * 1024


def read_body(
    answer,
    *,
    max_bytes: int,
    deadline: float,
    too_big: Callable[[int], Exception],
    too_slow: Callable[[], Exception],
    truncated: Callable[[int, int], Exception],
) -> bytes:
    """The body of `answer` (an http.client.HTTPResponse), read by `deadline` (monotonic);
    raises too_big(size), too_slow() or truncated(received, announced)."""
    announced = answer.headers.get("Content-Length")
    announced = int(announced) if announced and announced.isdigit() else None
    if announced is not None and announced > max_bytes:
        raise too_big(announced)
    chunks, size = [], 0
    while chunk := answer.read1(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_big(size)
        if time.monotonic() > deadline:
            raise too_slow()
        chunks.append(chunk)
    if announced is not None and size < announced:
        raise truncated(size, announced)
    return b"".join(chunks)
