"""Turn the lines of a scraped description into `Block`s: paragraphs, headings, lists, images.

The text of a YesWiki page keeps one line per HTML line (YesWiki turns each newline of the
wiki text into a line break), so the rules read lines:

* a line starting with "•", "- ", "– " or "* " is a list item; consecutive items form one
  list (nested items are flattened: a `Block` has no nesting); a blank line ends a list;
* "image NAME.ext (53.1kB)" is an image, and the line right after it is its caption;
* a line that starts in lower case, right after a line that does not end a sentence, is the
  rest of a hard-wrapped line ("… grâce aux logiciels" / "libres et au jeu vidéo.") and is
  joined to it;
* a heading is a line that cannot be read as a sentence and stands apart (see `is_heading`);
* every other line is one paragraph.
"""

from __future__ import annotations

import re

from ..record import Block

ITEM = re.compile(r"^(?:•\s*|[-–*]\s+)(?P<text>.*)$")
IMAGE = re.compile(r"^image (?P<file>\S+\.\w+) \((?P<size>[\d.,]+\s?[kMG]?B)\)$")
URL = re.compile(r"https?://")
#: Outline markers that open a section: "MODULE 1 …", "[Module 1] …", "[Modules 2 et 3] …".
OUTLINE = re.compile(r"^(?:\[(?:Modules?|Partie|Étape|Séance)\b[^\]]*\]|(?:MODULE|Module) \d+\b)")
SENTENCE_END = (".", "!", "?", ":", ";", "…")

Line = tuple[int, str]


def blocks(lines: list[Line]) -> list[Block]:
    """Read the (line number, text) pairs of a description, stripped, into blocks."""
    texts = [text for _, text in lines]
    out: list[Block] = []
    items: list[str] = []
    k = 0
    while k < len(texts):
        text = texts[k]
        item = ITEM.match(text)
        if item:
            if item.group("text"):
                items.append(item.group("text"))
        elif IMAGE.match(text):
            _close_list(out, items)
            k += _image(texts, k, out)
        elif text and _continues(texts, k, out, items):
            _join(text, out, items)
        else:
            _close_list(out, items)
            if text:
                kind = "heading" if is_heading(texts, k) else "paragraph"
                out.append(Block(kind=kind, text=text))
        k += 1
    _close_list(out, items)
    return out


def is_heading(texts: list[str], k: int) -> bool:
    """A short line that does not read as a sentence and stands apart from the text.

    Conservative: it has no URL, starts with a capital (or "[" or a digit), does not end
    like a sentence (".", ":", ",", …), and either
    * opens an outline section ("MODULE 1 …", "[Module 2] …"), or
    * stands alone between blank lines (or at the start), without a "label : value" inside,
      and is followed by more text ("Contexte", "Le format expérimenté", "Public"), or
    * is short (a few words, not a time such as "9h Accueil") and either follows the end of
      a sentence ("… (appelés « membres »)." / "Déroulement" / "13 personnes présentes.") or
      introduces a list ("Ce que contenait la valise" / "• Bocal à poisson …").
    """
    text = texts[k]
    before = texts[k - 1] if k > 0 else ""
    after = texts[k + 1] if k + 1 < len(texts) else None
    if len(text) > 90 or URL.search(text) or text.endswith((".", ",", ";", ":", "!", "…")):
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] == "["):
        return False
    if OUTLINE.match(text):
        return True
    if after is None:
        return False
    if not before and not after:
        return " : " not in text
    if text[0].isdigit() or text.endswith("?") or len(text) > 40:
        return False
    after_sentence = not before or before.endswith((".", "!", "?"))
    return (after_sentence and len(text.split()) <= 4) or ITEM.match(after) is not None


def _continues(texts: list[str], k: int, out: list[Block], items: list[str]) -> bool:
    """Whether line `k` is the rest of the line before it (a hard-wrapped sentence)."""
    if k == 0 or not texts[k - 1] or not texts[k][0].islower():
        return False
    previous = items[-1] if items else (out[-1].text if out and out[-1].kind == "paragraph" else "")
    return bool(previous) and not previous.endswith(SENTENCE_END)


def _join(text: str, out: list[Block], items: list[str]) -> None:
    if items:
        items[-1] = f"{items[-1]} {text}"
    else:
        out[-1] = Block(kind="paragraph", text=f"{out[-1].text} {text}")


def _close_list(out: list[Block], items: list[str]) -> None:
    if items:
        out.append(Block(kind="list", items=tuple(items)))
        items.clear()


def _image(texts: list[str], k: int, out: list[Block]) -> int:
    """Add the image of line `k` with its caption; return how many extra lines it took."""
    found = IMAGE.match(texts[k])
    assert found is not None
    caption = texts[k + 1] if k + 1 < len(texts) else ""
    if not caption or IMAGE.match(caption) or ITEM.match(caption):
        caption = ""
    out.append(Block(kind="image", file=found["file"], size=found["size"], text=caption))
    return 1 if caption else 0
