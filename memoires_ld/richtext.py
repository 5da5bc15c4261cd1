"""A description written in Markdown: its sanitised HTML, its plain text, and back.

The form edits the description as Markdown (CommonMark, raw HTML off). A fiche stores the
HTML (`schema:articleBody`, sanitised by description.sanitize_html) and the plain text
(`dct:description`, what listings and search show). To edit a stored fiche, its HTML is
turned back into Markdown: only the structure our sanitiser keeps (paragraphs, headings,
lists, links, emphasis, quotes, code, figures) exists there, so nothing of it is lost.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from .description import sanitize_html

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
BLOCKS = {"p", "h2", "h3", "h4", "h1", "h5", "h6", "ul", "ol", "blockquote", "pre", "figure"}


#: A paragraph `[image FILE (SIZE)] caption` is a figure, as the imported fiches have them.
FIGURE = re.compile(r"<p>\[image ([^\]<]+)\]\s*(.*?)</p>", re.S)


def _figure(match: re.Match) -> str:
    caption = f"<figcaption>{match[2]}</figcaption>" if match[2].strip() else ""
    return f'<figure class="image"><span class="file">{match[1]}</span>{caption}</figure>'


def to_html(markdown: str) -> str:
    """Markdown → sanitised HTML."""
    return sanitize_html(FIGURE.sub(_figure, _markdown.render(markdown)))


def to_text(markdown: str) -> str:
    """Markdown → plain text: blocks separated by blank lines, list items by "- "."""
    return _Walker(markdown=False).run(to_html(markdown))


def from_html(html: str) -> str:
    """Sanitised HTML (as stored) → Markdown that renders to the same structure."""
    return _Walker(markdown=True).run(html)


class _Walker(HTMLParser):
    def __init__(self, *, markdown: bool):
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.blocks: list[str] = []
        self.line: list[str] = []
        self.lists: list[list] = []  # [kind, counter]
        self.quote = 0
        self.href: list[str | None] = []
        self.figure: list[str] | None = None  # file, then caption, while in a figure

    def run(self, html: str) -> str:
        self.feed(html)
        self.close()
        self._end_block()
        return "\n\n".join(b for b in self.blocks if b.strip()).strip()

    def _end_block(self) -> None:
        text = re.sub(r"[ \t]+", " ", "".join(self.line)).strip()
        if text:
            prefix = "> " * self.quote if self.markdown else ""
            self.blocks.append(prefix + text)
        self.line = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        md = self.markdown
        if tag == "figure":
            self._end_block()
            self.figure = []
            return
        if tag in BLOCKS or tag == "li":
            if tag == "li" and self.lists:
                self._end_block_in_list()
                kind = self.lists[-1]
                kind[1] += 1
                marker = f"{kind[1]}. " if kind[0] == "ol" and md else "- "
                self.line.append("  " * (len(self.lists) - 1) + marker)
                return
            self._end_block()
            if tag in ("ul", "ol"):
                self.lists.append([tag, 0])
            elif tag == "blockquote":
                self.quote += 1
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6") and md:
                self.line.append("#" * int(tag[1]) + " ")
        elif tag == "br":
            self.line.append("  \n" if md else "\n")
        elif tag in ("strong", "b") and md:
            self.line.append("**")
        elif tag in ("em", "i") and md:
            self.line.append("*")
        elif tag == "code" and md:
            self.line.append("`")
        elif tag == "a":
            self.href.append(attrs.get("href"))
            if md and attrs.get("href"):
                self.line.append("[")

    def _end_block_in_list(self) -> None:
        text = "".join(self.line).rstrip()
        if text.strip():
            self.blocks.append(text)
        self.line = []

    def handle_endtag(self, tag):
        md = self.markdown
        if self.figure is not None and tag in ("span", "figcaption"):
            self.figure.append("".join(self.line).strip())
            self.line = []
            return
        if tag == "figure" and self.figure is not None:
            file, caption = ([*self.figure, "", ""])[:2]
            self.blocks.append(f"[image {file}] {caption}".strip())
            self.figure, self.line = None, []
            return
        if tag in ("ul", "ol"):
            self._end_block_in_list()
            if self.lists:
                self.lists.pop()
            if not self.lists and self.blocks:
                # the items of one list are one block
                items = []
                while self.blocks and re.match(r"\s*(- |[0-9]+\. )", self.blocks[-1]):
                    items.insert(0, self.blocks.pop())
                self.blocks.append("\n".join(items))
        elif tag == "li":
            self._end_block_in_list()
        elif tag in BLOCKS:
            self._end_block()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
        elif tag in ("strong", "b") and md:
            self.line.append("**")
        elif tag in ("em", "i") and md:
            self.line.append("*")
        elif tag == "code" and md:
            self.line.append("`")
        elif tag == "a":
            href = self.href.pop() if self.href else None
            if md and href:
                self.line.append(f"]({href})")

    def handle_data(self, data):
        self.line.append(data if self.line else data.lstrip("\n"))
