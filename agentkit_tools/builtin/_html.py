"""A small HTML reader for the web tools: text, title, meta, links, images, headings, selectors.

Built on the standard library's tolerant ``html.parser``; supports simple selectors (``tag``,
``.class``, ``#id`` and combinations like ``div.note#main``), not full CSS.

The work is linear in the document: nested links, headings and selected elements share one
list of text pieces (each element remembers where its text starts) instead of each copying
all the text inside it, an element's text is cut at :data:`MAX_ELEMENT_TEXT` characters, and
each list of elements stops at :data:`MAX_ELEMENTS` (``Page.truncated`` says so).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final, TypeVar
from urllib.parse import urljoin

__all__ = ["MAX_ELEMENTS", "MAX_ELEMENT_TEXT", "Page", "Selector", "parse_html"]

#: Most links, images, headings or selected elements kept per page (each list).
MAX_ELEMENTS: Final = 10_000
#: Longest text kept for one link, heading or selected element, in characters.
MAX_ELEMENT_TEXT: Final = 2_000

Element = TypeVar("Element")

_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head"})
_BLOCK = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "title",
    }
)
_SELECTOR = re.compile(r"^([a-zA-Z][a-zA-Z0-9-]*)?((?:[.#][a-zA-Z0-9_-]+)*)$")


@dataclass(frozen=True, slots=True)
class Selector:
    """A simple selector: optional tag, ids and classes, all of which must match."""

    tag: str | None
    classes: frozenset[str]
    element_id: str | None

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse ``tag.class#id``; ValueError for anything richer."""
        match = _SELECTOR.match(text.strip())
        if not match or not text.strip():
            raise ValueError(
                f"unsupported selector {text!r}: use a tag, .class, #id or a combination "
                "such as 'div.note' (no spaces, combinators or attributes)"
            )
        parts = re.findall(r"[.#][a-zA-Z0-9_-]+", match.group(2) or "")
        ids = [part[1:] for part in parts if part.startswith("#")]
        if len(ids) > 1:
            raise ValueError(f"selector {text!r} names more than one id")
        return cls(
            tag=match.group(1).lower() if match.group(1) else None,
            classes=frozenset(part[1:] for part in parts if part.startswith(".")),
            element_id=ids[0] if ids else None,
        )

    def matches(self, tag: str, attrs: dict[str, str]) -> bool:
        """Whether an element with *tag* and *attrs* matches."""
        if self.tag is not None and tag != self.tag:
            return False
        if self.element_id is not None and attrs.get("id") != self.element_id:
            return False
        return self.classes <= set(attrs.get("class", "").split())


@dataclass
class Page:
    """What was read from one HTML document."""

    title: str = ""
    text: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    headings: list[dict[str, object]] = field(default_factory=list)
    selected: list[dict[str, object]] = field(default_factory=list)
    truncated: bool = False


class _Reader(HTMLParser):
    def __init__(self, base_url: str, selector: Selector | None) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.selector = selector
        self.page = Page()
        self.stack: list[str] = []
        self.open_tags: Counter[str] = Counter()
        self.hidden_depth = 0
        self.text_parts: list[str] = []
        self.title_parts: list[str] = []
        # Visible text as it came, for the captures: each starts at an index into this list.
        self.inline_parts: list[str] = []
        # Open captures by stack depth: (kind, first inline part, info) for headings, links
        # and selected elements.
        self.captures: dict[int, list[tuple[str, int, dict[str, object]]]] = {}

    def _keep(self, elements: list[Element], element: Element) -> None:
        if len(elements) < MAX_ELEMENTS:
            elements.append(element)
        else:
            self.page.truncated = True

    def _open(self, kind: str, depth: int, info: dict[str, object]) -> None:
        self.captures.setdefault(depth, []).append((kind, len(self.inline_parts), info))

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        if tag in _BLOCK:
            self.text_parts.append("\n")
        if tag == "base" and attrs.get("href"):
            self.base_url = urljoin(self.base_url, attrs["href"])
        if tag == "meta":
            key = attrs.get("name") or attrs.get("property")
            if key and "content" in attrs:
                self.page.meta[key.lower()] = attrs["content"]
        if tag == "img" and attrs.get("src"):
            self._keep(
                self.page.images,
                {"src": urljoin(self.base_url, attrs["src"]), "alt": attrs.get("alt", "")},
            )
        if tag in _VOID:
            if self.selector is not None and self.selector.matches(tag, attrs):
                element: dict[str, object] = {"tag": tag, "text": "", "attributes": attrs}
                self._keep(self.page.selected, element)
            return
        self.stack.append(tag)
        self.open_tags[tag] += 1
        depth = len(self.stack)
        if tag in _HIDDEN:
            self.hidden_depth += 1
        if tag == "a" and attrs.get("href") is not None:
            self._open("a", depth, {"url": urljoin(self.base_url, attrs["href"])})
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._open(tag, depth, {"level": int(tag[1])})
        if self.selector is not None and self.selector.matches(tag, attrs):
            self._open("*", depth, {"tag": tag, "attributes": attrs})

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags[tag]:
            return
        while self.stack:
            open_tag = self.stack.pop()
            self.open_tags[open_tag] -= 1
            self._close(open_tag, len(self.stack) + 1)
            if open_tag == tag:
                break
        if tag in _BLOCK:
            self.text_parts.append("\n")

    def _close(self, tag: str, depth: int) -> None:
        if tag in _HIDDEN:
            self.hidden_depth -= 1
        for kind, first, info in self.captures.pop(depth, ()):
            text = self._text_since(first)
            if kind == "a":
                self._keep(self.page.links, {"url": str(info["url"]), "text": text})
            elif kind == "*":
                self._keep(self.page.selected, {**info, "text": text})
            else:
                self._keep(self.page.headings, {**info, "text": text})

    def _text_since(self, first: int) -> str:
        """The visible text from inline part *first* on, whitespace collapsed, cut short."""
        pieces: list[str] = []
        size = 0
        for piece in self.inline_parts[first : first + MAX_ELEMENT_TEXT + 1]:
            pieces.append(piece)
            size += len(piece)
            if size > MAX_ELEMENT_TEXT:
                break
        return " ".join("".join(pieces)[: MAX_ELEMENT_TEXT * 2].split())[:MAX_ELEMENT_TEXT]

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "title":
            self.title_parts.append(data)
        if self.hidden_depth:
            return
        self.text_parts.append(data)
        self.inline_parts.append(data)

    def finish(self) -> Page:
        self.close()
        while self.stack:
            tag = self.stack.pop()
            self.open_tags[tag] -= 1
            self._close(tag, len(self.stack) + 1)
        self.page.title = " ".join("".join(self.title_parts).split())
        lines = (" ".join(line.split()) for line in "".join(self.text_parts).splitlines())
        self.page.text = "\n".join(line for line in lines if line)
        return self.page


def parse_html(html: str, *, base_url: str = "", selector: str | None = None) -> Page:
    """Read *html*: links and images are made absolute against *base_url*."""
    compiled = Selector.parse(selector) if selector is not None else None
    reader = _Reader(base_url, compiled)
    reader.feed(html)
    return reader.finish()
