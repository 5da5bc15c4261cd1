"""Read HTML back into description `Block`s.

Two uses: a Bazar "textelong" field in HTML syntax (sanitised first, whitespace folded as a
browser would), and the `schema:articleBody` we wrote ourselves (`description.to_html`),
read exactly so that an export gives back the blocks it was made from.

p, h1–h6 → paragraph / heading; ul, ol → a list of its li; `<figure class="image">` with
`<span class="file">name (size)</span>` and `<figcaption>` → image; `<img>` → image (file =
last part of src, size from YesWiki's default alt "image x.png (53.1kB)"). `<br>` ends a
paragraph. Other tags keep their text; scripts and styles are dropped by the sanitiser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from ..description import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from ..record import Block

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
FILE_SIZE = re.compile(r"^(?P<file>.*?)(?: \((?P<size>[^()]*)\))?$")
SPACES = re.compile(r"[ \t\r\n\f]+")
SIZE_ALT = re.compile(r"^image \S+ \((?P<size>[\d.,]+\s?[kMG]?B)\)$")


def html_blocks(markup: str, *, ours: bool = False) -> list[Block]:
    """Blocks of an HTML description; `ours` = written by `description.to_html`, read as is."""
    reader = _Reader(fold=not ours)
    reader.feed(markup if ours else sanitize(markup))
    reader.close()
    reader.end_text()
    return reader.out


def sanitize(markup: str) -> str:
    """`description.sanitize_html`'s rules, images kept (their file name is data)."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS | {"img"},
        attributes={**ALLOWED_ATTRIBUTES, "img": {"src", "alt"}},
        url_schemes={"http", "https"},
        link_rel="noopener nofollow",
    )


class _Reader(HTMLParser):
    def __init__(self, fold: bool):
        super().__init__(convert_charrefs=True)
        self.fold = fold
        self.out: list[Block] = []
        self.text: list[str] = []
        self.kind = "paragraph"
        self.items: list[str] | None = None
        self.figure: dict[str, str] | None = None
        self.part = ""  # "file" or "caption" inside a figure

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in HEADINGS or tag == "p":
            self.end_text()
            self.kind = "heading" if tag in HEADINGS else "paragraph"
        elif tag in ("ul", "ol"):
            self.end_text()
            self.items = []
        elif tag in ("li", "br"):
            self.end_text()
        elif tag == "figure":
            self.end_text()
            self.figure = {"file": "", "caption": ""}
        elif tag == "span" and self.figure is not None and values.get("class") == "file":
            self.part = "file"
        elif tag == "figcaption" and self.figure is not None:
            self.part = "caption"
        elif tag == "img" and self.figure is None:
            self.end_text()
            file = (values.get("src") or "").rsplit("/", 1)[-1]
            size = SIZE_ALT.match(values.get("alt") or "")
            self.out.append(Block(kind="image", file=file, size=size["size"] if size else ""))

    def handle_endtag(self, tag):
        if tag in HEADINGS or tag in ("p", "li"):
            self.end_text()
        elif tag in ("ul", "ol") and self.items is not None:
            self.end_text()
            if self.items:
                self.out.append(Block(kind="list", items=tuple(self.items)))
            self.items = None
        elif tag in ("span", "figcaption"):
            self.part = ""
        elif tag == "figure" and self.figure is not None:
            found = FILE_SIZE.match(self._clean(self.figure["file"]))
            assert found is not None
            self.out.append(
                Block(
                    kind="image",
                    file=found["file"],
                    size=found["size"] or "",
                    text=self._clean(self.figure["caption"]),
                )
            )
            self.figure = None

    def handle_data(self, data):
        if self.figure is not None:
            if self.part:
                self.figure[self.part] += data
        else:
            self.text.append(data)

    def end_text(self) -> None:
        """Close the text being read as a block (or a list item)."""
        text = self._clean("".join(self.text))
        self.text = []
        if not text:
            return
        if self.items is not None:
            self.items.append(text)
        else:
            self.out.append(Block(kind=self.kind, text=text))
        self.kind = "paragraph"

    def _clean(self, text: str) -> str:
        if self.fold:
            return SPACES.sub(" ", text).strip()
        return text if text.strip() else ""
