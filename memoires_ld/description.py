"""Render a description (a list of `Block`s) as HTML and as plain text.

The HTML is built from escaped text only, then passed through nh3 (Ammonia) anyway: it is
stored as `rdf:HTML` and shown on pages, so it must be safe whatever the source did.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3

from .record import Block

URL = re.compile(r"https?://[^\s<>\"«»]+[^\s<>\"«».,;:!?)\]]")

ALLOWED_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "figure",
    "figcaption",
    "blockquote",
    "code",
    "pre",
    "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "figure": {"class"}}


@lru_cache(maxsize=2048)
def sanitize_html(markup: str) -> str:
    """Keep only harmless structure: no scripts, styles, event handlers or foreign URLs schemes.

    Pages sanitise the stored description on every view (harvested or SPARQL-written data
    may hold anything): the recent results are kept, keyed on the markup itself.
    """
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
    )


def _inline(text: str) -> str:
    """Escape text and turn bare URLs into links."""
    out, last = [], 0
    for match in URL.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        url = match.group(0)
        out.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _block_html(block: Block) -> str:
    if block.kind == "heading":
        return f"<h3>{_inline(block.text)}</h3>"
    if block.kind == "list":
        items = "".join(f"<li>{_inline(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>"
    if block.kind == "image":
        size = f" ({html.escape(block.size)})" if block.size else ""
        caption = f"<figcaption>{_inline(block.text)}</figcaption>" if block.text else ""
        return (
            f'<figure class="image"><span class="file">{html.escape(block.file)}{size}</span>'
            f"{caption}</figure>"
        )
    return f"<p>{_inline(block.text)}</p>"


def to_html(blocks: list[Block]) -> str:
    """Sanitised HTML of a description."""
    return sanitize_html("\n".join(_block_html(b) for b in blocks))


def to_text(blocks: list[Block]) -> str:
    """Plain text of a description: blocks separated by blank lines, list items by "- "."""
    parts = []
    for block in blocks:
        if block.kind == "list":
            parts.append("\n".join(f"- {item}" for item in block.items))
        elif block.kind == "image":
            parts.append(f"[image {block.file}] {block.text}".strip())
        else:
            parts.append(block.text)
    return "\n\n".join(p for p in parts if p)
