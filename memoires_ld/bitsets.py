"""Sets of small integers as Python ints: `a & b`, `a | b`, `int.bit_count()`.

At 100k fiches a set is a 12.5 kB int; `&` and `bit_count` take ≈10 µs, whatever the
number of members, which is what makes facet counts cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

_BITS = [tuple(b for b in range(8) if byte >> b & 1) for byte in range(256)]


def from_members(members: Iterable[int]) -> int:
    """The set of `members` (built in a bytearray: `|= 1 << n` would be quadratic)."""
    members = list(members)
    if not members:
        return 0
    table = bytearray(max(members) // 8 + 1)
    for n in members:
        table[n >> 3] |= 1 << (n & 7)
    return int.from_bytes(table, "little")


def members(bits: int, limit: int | None = None) -> list[int]:
    """The members of `bits`, ascending; only the first `limit` if given (≈4 ms for 50k
    members among 100k, a few µs for the first 20)."""
    found: list[int] = []
    add = found.append
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    step = 4096 if limit is not None else len(data) or 1
    for start in range(0, len(data), step):
        for position, byte in enumerate(data[start : start + step], start):
            if byte:
                base = position * 8
                for bit in _BITS[byte]:
                    add(base + bit)
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def keep(ordered: Iterable[int], bits: int, limit: int | None = None) -> list[int]:
    """The items of `ordered` that are in `bits`, in their order (only the first `limit`)."""
    table = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    size = len(table)
    found = (n for n in ordered if (n >> 3) < size and table[n >> 3] >> (n & 7) & 1)
    return list(found if limit is None else islice(found, limit))
