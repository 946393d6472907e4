"""The HTML reader of the web tools: text, title, meta, links, images, headings, CSS selection.

Documents are parsed by Lexbor (through selectolax), a WHATWG HTML5 parser written in C that
releases the GIL while it parses, so a page is read the way a browser builds it (unclosed
``<p>`` and ``<li>``, tables, misnested tags). Selectors are full CSS (Selectors Level 4:
combinators, attributes, ``:nth-child(...)``, ``:not(...)``, ``:is(...)``), matched by Lexbor.

Lexbor matches descendant (`` ``) and sibling (``~``) combinators by backtracking, which takes
time that grows as a power of the page's depth, and ``:has()`` looks through a subtree at every
element; both run in C while holding the GIL, where no thread could keep the event loop
responsive. So :func:`check_selector` refuses ``:has()``, and a selector is matched only when a
bound on its work for this page (elements times the ways its combinators can be tried) stays
under :data:`MAX_SELECTOR_WORK`; otherwise the call fails with ``LimitExceededError``.

The walk over the parsed tree is linear in the document: nested links, headings and selected
elements share one list of text pieces (each element remembers where its text starts) instead
of each copying all the text inside it, an element's text is cut at :data:`MAX_ELEMENT_TEXT`
characters, and each list of elements stops at :data:`MAX_ELEMENTS` (``Page.truncated`` says
so).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urljoin

from agentkit.exceptions import LimitExceededError, ToolInputError

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

__all__ = [
    "MAX_ELEMENTS",
    "MAX_ELEMENT_TEXT",
    "MAX_SELECTOR_WORK",
    "Page",
    "check_selector",
    "parse_html",
]

#: Most links, images, headings or selected elements kept per page (each list).
MAX_ELEMENTS: Final = 10_000
#: Longest text kept for one link, heading or selected element, in characters.
MAX_ELEMENT_TEXT: Final = 2_000
#: Largest bound on a selector's matching work on one page (about 50 ms of Lexbor's time).
MAX_SELECTOR_WORK: Final = 20_000_000

Element = TypeVar("Element")

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
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: Pseudo-classes that count an element's siblings.
_SIBLING_COUNTING = re.compile(r":(?:nth-|last-|only-)", re.IGNORECASE)
#: What may stand right before / right after a descendant combinator (a space).
_COMPOUND_END = re.compile(r"[\w\-*\])\\]")
_COMPOUND_START = re.compile(r"[\w\-*.#\[:\\]")


@dataclass(frozen=True, slots=True)
class SelectorCost:
    """How a selector's matching work grows: per descendant and per sibling combinator."""

    descendant: int
    sibling: int

    def work(self, elements: int, depth: int, siblings: int) -> int:
        """A bound on the steps to match on a page of that many elements, depth and width."""
        return (
            max(elements, 1)
            * math.comb(max(depth, self.descendant), self.descendant)
            * math.comb(max(siblings, self.sibling), self.sibling)
        )


def _outside_strings(selector: str) -> Iterator[tuple[int, str]]:
    """The (index, character) pairs of *selector* outside quotes and ``[...]``."""
    quote = ""
    brackets = 0
    escaped = False
    for index, char in enumerate(selector):
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
            continue
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char == "[":
            brackets += 1
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif not brackets:
            yield index, char


def check_selector(selector: str) -> SelectorCost:
    """Check that *selector* is CSS Lexbor can match safely; return how its work grows.

    Raises:
        ToolInputError: The selector is empty, is not valid CSS, or uses ``:has()``.
    """
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    text = selector.strip()
    if not text:
        raise ToolInputError("the CSS selector is empty")
    plain = "".join(char for _, char in _outside_strings(text))
    if ":has(" in plain.lower():
        raise ToolInputError(
            f"selector {selector!r} uses :has(), which can take time growing with the square of "
            "the page; select the inner element instead"
        )
    try:
        LexborHTMLParser("<p></p>").css(text)
    except SelectolaxError as exc:
        raise ToolInputError(
            f"invalid CSS selector {selector!r} ({exc}); e.g. 'div.note > p', 'a[href^=http]', "
            "'li:nth-child(2)'"
        ) from None
    descendant = sibling = 0
    previous = ""
    spaced = False
    for _, char in _outside_strings(text):
        if char.isspace():
            spaced = bool(previous)
            continue
        if spaced and _COMPOUND_END.fullmatch(previous) and _COMPOUND_START.fullmatch(char):
            descendant += 1
        if char == "~":
            sibling += 1
        spaced = False
        previous = char
    sibling += len(_SIBLING_COUNTING.findall(plain))
    return SelectorCost(descendant, sibling)


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


@dataclass
class _Shape:
    """The size of a parsed tree: elements, deepest nesting, most children of one element."""

    elements: int = 0
    depth: int = 0
    siblings: int = 0


def _walk(root: LexborNode, shape: _Shape) -> Iterator[tuple[str, Any, int]]:
    """Document-order events: ``("start", node, depth)``, ``("end", tag, depth)``, text.

    Text comes as ``("text", (text, parent tag), depth)``. Built on Lexbor's own
    depth-first iterator; an element ends when a node that is not inside it comes next.
    """
    # Each open element: [memory id, tag, children so far].
    stack: list[list[Any]] = []
    for node in root.traverse(include_text=True):
        parent = node.parent
        parent_id = parent.mem_id if parent is not None else None
        while stack and stack[-1][0] != parent_id:
            closed = stack.pop()
            yield "end", closed[1], len(stack) + 1
        if stack:
            stack[-1][2] += 1
            shape.siblings = max(shape.siblings, stack[-1][2])
        if node.is_text_node:
            text = node.text_content
            if text:
                yield "text", (text, stack[-1][1] if stack else ""), len(stack)
        elif node.is_element_node:
            tag = node.tag or ""
            stack.append([node.mem_id, tag, 0])
            shape.elements += 1
            shape.depth = max(shape.depth, len(stack))
            yield "start", node, len(stack)
    while stack:
        closed = stack.pop()
        yield "end", closed[1], len(stack) + 1


class _Reader:
    def __init__(self, base_url: str, selected: set[int]) -> None:
        self.base_url = base_url
        self.selected = selected
        self.page = Page()
        self.hidden_depth = 0
        self.text_parts: list[str] = []
        self.title_parts: list[str] = []
        # Visible text as it came, for the captures: each starts at an index into this list.
        self.inline_parts: list[str] = []
        # Open captures by depth: (kind, first inline part, info) for headings, links and
        # selected elements.
        self.captures: dict[int, list[tuple[str, int, dict[str, object]]]] = {}

    def _keep(self, elements: list[Element], element: Element) -> None:
        if len(elements) < MAX_ELEMENTS:
            elements.append(element)
        else:
            self.page.truncated = True

    def _open(self, kind: str, depth: int, info: dict[str, object]) -> None:
        self.captures.setdefault(depth, []).append((kind, len(self.inline_parts), info))

    def start(self, node: LexborNode, depth: int) -> None:
        tag = node.tag or ""
        attrs = {key: value or "" for key, value in node.attributes.items()}
        if tag in _BLOCK:
            self.text_parts.append("\n")
            self.inline_parts.append(" ")  # an element's text keeps its blocks apart
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
        if tag in _HIDDEN:
            self.hidden_depth += 1
        if tag == "a" and "href" in attrs:
            self._open("a", depth, {"url": urljoin(self.base_url, attrs["href"])})
        if tag in _HEADINGS:
            self._open(tag, depth, {"level": int(tag[1])})
        if self.selected and node.mem_id in self.selected:
            self._open("*", depth, {"tag": tag, "attributes": attrs})

    def end(self, tag: str, depth: int) -> None:
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
        if tag in _BLOCK:
            self.text_parts.append("\n")
            self.inline_parts.append(" ")

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

    def data(self, text: str, parent: str) -> None:
        if parent == "title":
            self.title_parts.append(text)
        if self.hidden_depth:
            return
        self.text_parts.append(text)
        self.inline_parts.append(text)

    def read(self, root: LexborNode, shape: _Shape) -> Page:
        for kind, item, depth in _walk(root, shape):
            if kind == "start":
                self.start(item, depth)
            elif kind == "end":
                self.end(item, depth)
            else:
                self.data(*item)
        self.page.title = " ".join("".join(self.title_parts).split())
        lines = (" ".join(line.split()) for line in "".join(self.text_parts).splitlines())
        self.page.text = "\n".join(line for line in lines if line)
        return self.page


def parse_html(html: str, *, base_url: str = "", selector: str | None = None) -> Page:
    """Read *html*: links and images are made absolute against *base_url*.

    Slow for pages of megabytes (a walk in Python over every node): call it in a thread.

    Raises:
        ToolInputError: The selector is not valid CSS or uses ``:has()``.
        LimitExceededError: Matching the selector on this page could take too long.
    """
    from selectolax.lexbor import LexborHTMLParser

    cost = check_selector(selector) if selector is not None else None
    tree = LexborHTMLParser(html)
    root = tree.root
    if root is None:
        return Page()
    shape = _Shape()
    if cost is None or selector is None:
        return _Reader(base_url, set()).read(root, shape)
    for _ in _walk(root, shape):
        pass
    work = cost.work(shape.elements, shape.depth, shape.siblings)
    if work > MAX_SELECTOR_WORK:
        raise LimitExceededError(
            f"selector {selector!r} could take too long on this page ({shape.elements:,} "
            f"elements, nested {shape.depth} deep, up to {shape.siblings:,} siblings): use "
            "fewer descendant (' ') and sibling ('~') combinators, e.g. '>' or a class"
        )
    selected = {node.mem_id for node in tree.css(selector.strip())}
    return _Reader(base_url, selected).read(root, _Shape())
