"""The endpoint's memory of recent answers and of who asked: both bounded, both in memory.

* `ResultCache`: serialised answers by key (store version + operation + format), least
  recently used first out, bounded in bytes. A new store version makes the old keys
  unreachable; they leave as new answers come in.
* `RateLimiter`: a token bucket per client address (the WDQS practice: answer 429 with
  Retry-After). Addresses are kept only while their bucket is not full again, never
  written anywhere: they are personal data.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict


class ResultCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        #: an entry larger than this is not kept (it would push out many small ones)
        self.max_entry = max_bytes // 8
        self._entries: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, body: bytes, meta: str) -> None:
        if len(body) > self.max_entry:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[0])
            self._entries[key] = (body, meta)
            self._size += len(body)
            while self._size > self.max_bytes:
                _, (dropped, _) = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)


class RateLimiter:
    """`per_minute` requests per client, in bursts of up to `per_minute` (0: no limit)."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> int:
        """Spend one token of `client`; return 0, or the seconds to wait when none is left."""
        if self.capacity <= 0:
            return 0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > 1024:
                self._forget_full(now)
            return 0

    def _forget_full(self, now: float) -> None:
        """Drop the clients whose bucket has filled up again: they are as if never seen."""
        for client, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.capacity:
                del self._buckets[client]

    def __len__(self) -> int:
        return len(self._buckets)
