"""Repair the characters the copy of a page lost: each became a "?".

A "?" is repaired only where the intended character is certain:

* French elision: "d?accès", "qu?il", "L?eau" → an apostrophe, in the style the fiche
  otherwise uses ("'" or "’");
* the œ ligature inside a known word: "c?ur" → "cœur", "man?uvre" → "manœuvre";
* a bullet glyph lost after a list marker: "• ? savoir" → "• savoir".

A real question mark ("… engage autant ?", "comment ? Aspects") is left alone. Any other
"?" ("MODULE 1 ? le facteur", "logiciels libres? Nous") is kept as it is. Both the repairs
and the doubts become notes in French, so that nothing is changed or kept silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

#: Words that elide before a vowel or a mute h.
_ELIDING = "c d j l m n s t qu jusqu lorsqu puisqu quoiqu presqu quelqu aujourd"
ELIDING = frozenset(_ELIDING.split())
ELISION_NEXT = "aeiouyhàâäéèêëîïôöùûüœæ"

#: Words written with œ, as they may appear once the "?" is put back.
_OE_WORDS = """cœur cœurs sœur sœurs vœu vœux œuvre œuvres œuvrer manœuvre manœuvres
chœur chœurs bœuf bœufs nœud nœuds œil œuf œufs mœurs rancœur écœurant désœuvré"""
OE_WORDS = frozenset(_OE_WORDS.split())

#: Apostrophes, the preferred one first.
APOSTROPHES = ("’", "'", "ʼ")
LOST_BULLET = re.compile(r"^([•▪◦*–-]) \? (?=\S)")
URL = re.compile(r"https?://\S+")
#: What may follow a real question mark: nothing, a closing sign, or a space and a capital.
QUESTION_END = re.compile(r"$|[\"'»”)\]]|\s+(?:$|[\"'«»“”(\[\-–—A-ZÀ-Ý0-9])")


@dataclass
class Repairs:
    """What was repaired or doubted in one fiche, to be told in notes."""

    apostrophe: str = "’"
    #: kind → (line, before, after) for each repair
    done: dict[str, list[tuple[int, str, str]]] = field(default_factory=lambda: defaultdict(list))
    #: (line, context) for each "?" kept as it is
    doubts: list[tuple[int, str]] = field(default_factory=list)

    def notes(self) -> list[str]:
        """The notes, in French: one per kind of repair, one per doubtful character."""
        notes = [_repair_note(kind, found) for kind, found in self.done.items() if found]
        notes += [
            f"Caractère illisible conservé tel quel ligne {line} : « {context} »"
            for line, context in self.doubts
        ]
        return notes


def apostrophe_style(lines: list[str]) -> str:
    """The apostrophe the text uses most: "’", "'" or "ʼ" ("’" when it uses none)."""
    text = "".join(lines)
    return max(APOSTROPHES, key=text.count)


def repair(text: str, line: int, repairs: Repairs) -> str:
    """Return `text` with the certain repairs made; record them and the doubts in `repairs`."""
    bullet = LOST_BULLET.match(text)
    if bullet:
        before = text[: bullet.end() + _word_end(text, bullet.end())]
        text = bullet.group(1) + " " + text[bullet.end() :]
        repairs.done["puce"].append((line, before, before.replace(" ? ", " ", 1)))
    chars = list(text)
    urls = [m.span() for m in URL.finditer(text)]
    marks = [i for i, c in enumerate(text) if c == "?" and not _inside(i, urls)]
    for i in marks:
        fixed = _fix(text, i, repairs.apostrophe)
        if fixed is not None:
            kind, chars[i] = fixed
            word = _word_around(text, i)
            repairs.done[kind].append((line, word, word.replace("?", chars[i])))
    repaired = "".join(chars)
    for i in marks:
        if repaired[i] == "?" and not _is_question_mark(repaired, i):
            repairs.doubts.append((line, _context(repaired, i)))
    return repaired


def _inside(i: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= i < end for start, end in spans)


def _fix(text: str, i: int, apostrophe: str) -> tuple[str, str] | None:
    """The certain replacement of the "?" at `i` as (kind, character), or None."""
    before, after = _letters_before(text, i), _letters_after(text, i)
    if (before + "œ" + after).lower() in OE_WORDS:
        return "œ", "Œ" if after[:1].isupper() else "œ"
    if before.lower() in ELIDING and after and after[0].lower() in ELISION_NEXT:
        return "apostrophe", apostrophe
    return None


def _is_question_mark(text: str, i: int) -> bool:
    """A "?" with a space before it (French typography) that ends a question."""
    spaced = i > 0 and text[i - 1] in " \u00a0\u202f" and text[:i].strip() != ""
    return spaced and QUESTION_END.match(text, i + 1) is not None


def _letters_before(text: str, i: int) -> str:
    start = i
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    return text[start:i]


def _letters_after(text: str, i: int) -> str:
    return text[i + 1 : i + 1 + _word_end(text, i + 1)]


def _word_end(text: str, start: int) -> int:
    """Length of the run of letters starting at `start`."""
    end = start
    while end < len(text) and text[end].isalpha():
        end += 1
    return end - start


def _word_around(text: str, i: int) -> str:
    return _letters_before(text, i) + "?" + _letters_after(text, i)


def _context(text: str, i: int, words: int = 3) -> str:
    """A few words either side of position `i`, to show a doubt to people."""
    before = text[:i].split()[-words:]
    after = text[i + 1 :].split()[:words]
    glued_left = i > 0 and not text[i - 1].isspace()
    glued_right = i + 1 < len(text) and not text[i + 1].isspace()
    left = " ".join(before) + ("" if glued_left else " ")
    right = ("" if glued_right else " ") + " ".join(after)
    return (left + "?" + right).strip().rstrip(",;:")


def _repair_note(kind: str, found: list[tuple[int, str, str]]) -> str:
    count = len(found)
    plural = count > 1
    what = {
        "apostrophe": "apostrophes perdues rétablies" if plural else "apostrophe perdue rétablie",
        "œ": "« œ » perdus rétablis" if plural else "« œ » perdu rétabli",
        "puce": (
            "puces suivies d'un caractère illisible nettoyées"
            if plural
            else "puce suivie d'un caractère illisible nettoyée"
        ),
    }[kind]
    _, before, after = found[0]
    lines = _line_ranges(sorted({line for line, _, _ in found}))
    where = ("lignes " if "," in lines or "–" in lines else "ligne ") + lines
    return f"{count} {what} (« {before} » → « {after} »), {where}"


def _line_ranges(lines: list[int]) -> str:
    """Write 3, 4, 5, 9 as "3–5, 9"."""
    ranges: list[list[int]] = []
    for line in lines:
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in ranges)
