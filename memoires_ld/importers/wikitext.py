"""YesWiki wiki text ↔ description `Block`s, for the basics a Bazar "textelong" field holds.

Read (`to_blocks`), lines separated by "\\r\\n":

* "====Titre====" (2 to 6 "=") is a heading;
* " - item" (also "*", "•", "–", with or without the leading space) is a list item;
  consecutive items form one list, a blank line ends it;
* a line holding only `{{attach file="x.png" desc="image x.png (53.1kB)" legend="…"}}` is an
  image: its file, the size YesWiki writes in the default `desc`, its `legend` (or `caption`);
* every other line is a paragraph, except that a line starting in lower case right after a
  line that does not end a sentence continues it (the listing importer's rule, blocks.py);
* inline: "**bold**" keeps its text; "[[https://url label]]" becomes "label (https://url)",
  "[[PageTag label]]" its label: a `Block` holds plain text.

Write (`from_blocks`) is the inverse for what blocks can hold: `to_blocks(from_blocks(b)) == b`.
"""

from __future__ import annotations

import html
import re

from ..record import Block
from .blocks import SENTENCE_END

NEWLINE = "\r\n"
HEADING = re.compile(r"^\s*(?P<marks>={2,6})\s*(?P<text>.+?)\s*(?P=marks)\s*$")
ITEM = re.compile(r"^\s*(?:[-*•–])\s+(?P<text>.*?)\s*$")
ATTACH = re.compile(r"^\s*\{\{attach\s+(?P<params>[^{}]*?)\s*/?\}\}\s*$")
PARAM = re.compile(r'(?P<name>\w+)="(?P<value>[^"]*)"')
SIZE_DESC = re.compile(r"^image (?P<file>\S+) \((?P<size>[\d.,]+\s?[kMG]?B)\)$")
BOLD = re.compile(r"\*\*(?P<text>.+?)\*\*")
LINK = re.compile(r"\[\[(?P<target>[^\s\]]+)(?:\s+(?P<label>[^\]]*?))?\s*\]\]")
URL = re.compile(r"^https?://")


def to_blocks(text: str) -> list[Block]:
    """Read YesWiki wiki text into blocks."""
    out: list[Block] = []
    items: list[str] = []
    previous = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        heading, item, attach = HEADING.match(line), ITEM.match(line), ATTACH.match(line)
        if item and not heading:
            if item["text"]:
                items.append(inline(item["text"]))
        else:
            _close_list(out, items)
            if heading:
                out.append(Block(kind="heading", text=inline(heading["text"])))
            elif attach:
                out.append(_image(attach["params"]))
            elif line and _continues(previous, line, out):
                out[-1] = Block(kind="paragraph", text=f"{out[-1].text} {inline(line)}")
            elif line:
                out.append(Block(kind="paragraph", text=inline(line)))
        previous = line
    _close_list(out, items)
    return out


def inline(text: str) -> str:
    """Plain text of a line of wiki text: bold markers dropped, links written out."""
    text = BOLD.sub(lambda m: m["text"], text)
    return LINK.sub(_link, text)


def _link(found: re.Match) -> str:
    target, label = found["target"], (found["label"] or "").strip()
    if URL.match(target):
        return f"{label} ({target})" if label else target
    return label or target


def _continues(previous: str, line: str, out: list[Block]) -> bool:
    return (
        bool(previous)
        and line[0].islower()
        and bool(out)
        and out[-1].kind == "paragraph"
        and not previous.endswith(SENTENCE_END)
        and not HEADING.match(previous)
    )


def _close_list(out: list[Block], items: list[str]) -> None:
    if items:
        out.append(Block(kind="list", items=tuple(items)))
        items.clear()


def _image(params: str) -> Block:
    found = {m["name"].lower(): html.unescape(m["value"]) for m in PARAM.finditer(params)}
    file = found.get("file", "")
    size = SIZE_DESC.match(found.get("desc", ""))
    caption = found.get("legend") or found.get("caption") or ""
    return Block(kind="image", file=file, size=size["size"] if size else "", text=caption.strip())


def from_blocks(blocks: list[Block]) -> str:
    """Write blocks as YesWiki wiki text, one blank line between blocks."""
    parts = []
    for block in blocks:
        if block.kind == "heading":
            parts.append(f"===={block.text}====")
        elif block.kind == "list":
            parts.append(NEWLINE.join(f" - {item}" for item in block.items))
        elif block.kind == "image":
            parts.append(_attach(block))
        else:
            parts.append(block.text)
    return (NEWLINE * 2).join(parts)


def _attach(block: Block) -> str:
    params = [("file", block.file)]
    if block.size:
        params.append(("desc", f"image {block.file} ({block.size})"))
    if block.text:
        params.append(("legend", block.text))
    written = " ".join(f'{name}="{html.escape(value)}"' for name, value in params)
    return "{{attach " + written + "}}"
