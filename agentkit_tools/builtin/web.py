"""Web tools: fetch, scrape, download and search, every request through the address guard.

Every tool is a plain function made a :class:`~agentkit.tools.FunctionTool` by ``@tool``;
those that reach the network take the settings as an injected ``config``:
``web_fetch.bind(config=ToolsConfig(...))``. Pages are read by Lexbor (selectolax), with full
CSS selectors (see :mod:`agentkit_tools.builtin._html`).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any, NotRequired, TypedDict
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import msgspec

from agentkit.exceptions import LimitExceededError, ToolInputError, ToolNotConfiguredError
from agentkit.tools import FunctionTool, Injected, Tool, tool
from agentkit_tools._netguard import GuardedResponse, guarded_request
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._errors import typed_errors
from agentkit_tools.builtin._html import Page, check_selector, parse_html
from agentkit_tools.builtin._typed import Shape
from agentkit_tools.builtin.file import check_writable, write_file_bytes

__all__ = [
    "TOOLS",
    "web_build_url",
    "web_check_status",
    "web_download",
    "web_extract_links",
    "web_extract_metadata",
    "web_fetch",
    "web_fetch_json",
    "web_parse_url",
    "web_post_json",
    "web_robots_check",
    "web_scrape",
    "web_search",
    "web_tools",
]

Config = Annotated[ToolsConfig, Injected]
Url = Annotated[
    str, msgspec.Meta(min_length=1, max_length=8192, description="An absolute http(s) URL")
]
MaxChars = Annotated[
    int,
    msgspec.Meta(ge=1, le=5_000_000, description="Longest text returned, in characters"),
]
Headers = Annotated[dict[str, str] | None, msgspec.Meta(description="Extra request headers")]


class Link(TypedDict, total=False):
    """A link: its absolute URL and text."""

    url: str
    text: str


class Heading(TypedDict, total=False):
    """A heading: its level (1 to 6) and text."""

    level: int
    text: str


class Image(TypedDict, total=False):
    """An image: its absolute URL and alt text."""

    src: str
    alt: str


class FetchResult(TypedDict):
    """What web_fetch returns."""

    url: str
    status_code: int
    ok: NotRequired[bool]
    content_type: NotRequired[str]
    headers: NotRequired[dict[str, Any]]
    text: str
    truncated: NotRequired[bool]
    bytes: NotRequired[int]


class FetchJsonResult(TypedDict):
    """What web_fetch_json returns."""

    url: str
    status_code: NotRequired[int]
    data: Any


class PostJsonResult(TypedDict):
    """What web_post_json returns."""

    url: str
    status_code: int
    ok: NotRequired[bool]
    content_type: NotRequired[str]
    data: NotRequired[Any]
    text: NotRequired[str]


class StatusResult(TypedDict):
    """What web_check_status returns."""

    url: str
    status_code: int
    ok: bool
    content_type: NotRequired[str]
    content_length: NotRequired[int | None]
    redirects: NotRequired[list[str]]


class ScrapeResult(TypedDict):
    """What web_scrape returns."""

    url: str
    title: str
    text: str
    headings: NotRequired[list[Heading]]
    links: NotRequired[list[Link]]
    images: NotRequired[list[Image]]
    selected: NotRequired[
        Annotated[
            list[dict[str, Any]],
            msgspec.Meta(description="Elements matching the selector: tag, attributes, text"),
        ]
    ]


class LinksResult(TypedDict):
    """What web_extract_links returns."""

    url: NotRequired[str]
    links: list[Link]
    count: int


class MetadataResult(TypedDict):
    """What web_extract_metadata returns."""

    url: str
    title: str
    description: NotRequired[str]
    keywords: NotRequired[list[str]]
    author: NotRequired[str]
    open_graph: NotRequired[dict[str, Any]]
    meta: NotRequired[dict[str, Any]]


class DownloadResult(TypedDict):
    """What web_download returns."""

    url: NotRequired[str]
    path: str
    bytes: int
    sha256: str
    content_type: NotRequired[str]


class SearchHit(TypedDict, total=False):
    """One search result."""

    title: str
    url: str
    content: str
    engine: str


class SearchResult(TypedDict):
    """What web_search returns."""

    query: NotRequired[str]
    results: list[SearchHit]
    count: int


class RobotsResult(TypedDict):
    """What web_robots_check returns."""

    url: NotRequired[str]
    robots_url: NotRequired[str]
    user_agent: NotRequired[str]
    allowed: bool
    crawl_delay: NotRequired[float | None]


class ParsedUrl(TypedDict):
    """What web_parse_url returns."""

    scheme: str
    host: str
    port: NotRequired[int | None]
    path: str
    query: NotRequired[dict[str, list[str]]]
    fragment: NotRequired[str]
    username: NotRequired[str | None]


class BuiltUrl(TypedDict):
    """What web_build_url returns."""

    url: str


def _summary(response: GuardedResponse) -> dict[str, Any]:
    """The reply's final URL, status, whether it succeeded (< 400) and its content type."""
    return {
        "url": response.url,
        "status_code": response.status_code,
        "ok": response.status_code < 400,
        "content_type": response.content_type,
    }


def _ok(response: GuardedResponse, method: str = "GET") -> GuardedResponse:
    if response.status_code >= 400:
        raise ConnectionError(f"{method} {response.url} returned HTTP {response.status_code}")
    return response


def _decode_json(content: bytes, config: ToolsConfig, source: str) -> Any:
    """The JSON value in *content*, within ``max_json_bytes`` and msgspec's nesting limit.

    msgspec decodes in one call that holds the GIL (a thread would not free the loop), about
    5x faster than ``json``; the size limit keeps that call short.

    Raises:
        LimitExceededError: *content* is larger than ``max_json_bytes`` or nested too deeply.
        ToolInputError: *content* is not JSON.
    """
    if len(content) > config.max_json_bytes:
        raise LimitExceededError(
            f"{source} sent {len(content):,} bytes of JSON, over the limit of "
            f"{config.max_json_bytes:,}: raise ToolsConfig.max_json_bytes"
        )
    try:
        return msgspec.json.decode(content)
    except RecursionError:
        raise LimitExceededError(f"{source} sent JSON nested too deeply to decode") from None
    except msgspec.DecodeError as exc:
        raise ToolInputError(f"{source} did not return JSON: {exc}") from None


async def _get(config: ToolsConfig, url: str, **options: Any) -> GuardedResponse:
    return await guarded_request(config, "GET", url, **options)


async def _page(
    config: ToolsConfig, url: str, selector: str | None = None
) -> tuple[GuardedResponse, Page]:
    response = _ok(await _get(config, url, headers={"Accept": "text/html,*/*;q=0.5"}))
    # Lexbor parses without the GIL, but the walk over a page of megabytes is Python: a thread.
    parsed = await asyncio.to_thread(
        parse_html, response.text, base_url=response.url, selector=selector
    )
    return response, parsed


@tool(
    name="web_fetch",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_fetch(
    url: Url, headers: Headers = None, max_chars: MaxChars = 100_000, *, config: Config
) -> FetchResult:
    """GET a URL and return status, headers and the body as text.

    Args:
        url: An absolute http(s) URL.
        headers: Extra request headers.
        max_chars: Longest text returned, in characters.
        config: The network guard, limits and user agent.
    """
    response = await _get(config, url, headers=headers)
    text = response.text
    return {
        "url": response.url,
        "status_code": response.status_code,
        "ok": response.status_code < 400,
        "content_type": response.content_type,
        "headers": response.headers,
        "text": text[:max_chars],
        "truncated": len(text) > max_chars,
        "bytes": len(response.content),
    }


@tool(
    name="web_fetch_json",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_fetch_json(
    url: Url, headers: Headers = None, *, config: Config
) -> Annotated[dict[str, Any], Shape(FetchJsonResult)]:
    """GET a URL that returns JSON and return the parsed value.

    Args:
        url: An absolute http(s) URL.
        headers: Extra request headers.
        config: The network guard, limits and user agent.
    """
    response = _ok(
        await _get(config, url, headers={"Accept": "application/json", **(headers or {})})
    )
    data = _decode_json(response.content, config, response.url)
    return {"url": response.url, "status_code": response.status_code, "data": data}


@tool(
    name="web_post_json",
    category="web",
    tags=("web",),
    read_only=False,
    idempotent=False,
    open_world=True,
)
@typed_errors
async def web_post_json(
    url: Url, body: Any, headers: Headers = None, *, config: Config
) -> Annotated[dict[str, Any], Shape(PostJsonResult)]:
    """POST a JSON body to a URL; return status and the reply.

    Args:
        url: An absolute http(s) URL.
        body: The JSON value to send.
        headers: Extra request headers.
        config: The network guard, limits and user agent.
    """
    response = await guarded_request(config, "POST", url, json_body=body, headers=headers)
    try:
        data = _decode_json(response.content, config, url) if response.content else None
    except (ToolInputError, LimitExceededError):
        data = None  # the reply's text is still returned
    return {**_summary(response), "data": data, "text": response.text[:100_000]}


@tool(
    name="web_check_status",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_check_status(url: Url, *, config: Config) -> StatusResult:
    """HEAD a URL: is it up, its status, type, size and redirects.

    Args:
        url: An absolute http(s) URL.
        config: The network guard, limits and user agent.
    """
    response = await guarded_request(config, "HEAD", url)
    length = response.headers.get("content-length")
    return {
        "url": response.url,
        "status_code": response.status_code,
        "ok": response.status_code < 400,
        "content_type": response.content_type,
        "content_length": int(length) if length and length.isdigit() else None,
        "redirects": response.redirects,
    }


@tool(
    name="web_scrape",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_scrape(
    url: Url,
    selector: Annotated[str, msgspec.Meta(max_length=200)] | None = None,
    max_chars: MaxChars = 100_000,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(ScrapeResult)]:
    """Fetch an HTML page and extract title, text, headings, links, images, and elements
    matching a CSS selector.

    Args:
        url: An absolute http(s) URL.
        selector: A CSS selector, e.g. 'div.note > p', 'a[href^="https:"]', 'li:nth-child(2)'
            (:has() is refused).
        max_chars: Longest text returned, in characters.
        config: The network guard, limits and user agent.
    """
    if selector is not None:
        check_selector(selector)  # a bad selector is refused before any request
    response, parsed = await _page(config, url, selector)
    result: dict[str, Any] = {
        "url": response.url,
        "title": parsed.title,
        "text": parsed.text[:max_chars],
        "headings": parsed.headings,
        "links": parsed.links,
        "images": parsed.images,
    }
    if selector is not None:
        result["selected"] = parsed.selected
    return result


@tool(
    name="web_extract_links",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_extract_links(
    url: Url, same_host: bool = False, *, config: Config
) -> Annotated[dict[str, Any], Shape(LinksResult)]:
    """List the absolute http(s) links of a page, de-duplicated.

    Args:
        url: An absolute http(s) URL.
        same_host: Keep only links to the page's own host.
        config: The network guard, limits and user agent.
    """
    response, parsed = await _page(config, url)
    host = urlsplit(response.url).hostname
    seen: set[str] = set()
    links = []
    for link in parsed.links:
        target = urlsplit(link["url"])
        if target.scheme not in ("http", "https") or link["url"] in seen:
            continue
        if same_host and target.hostname != host:
            continue
        seen.add(link["url"])
        links.append(link)
    return {"url": response.url, "links": links, "count": len(links)}


@tool(
    name="web_extract_metadata",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_extract_metadata(url: Url, *, config: Config) -> MetadataResult:
    """A page's title, description, keywords, author and Open Graph tags.

    Args:
        url: An absolute http(s) URL.
        config: The network guard, limits and user agent.
    """
    response, parsed = await _page(config, url)
    meta = parsed.meta
    return {
        "url": response.url,
        "title": meta.get("og:title") or parsed.title,
        "description": meta.get("description") or meta.get("og:description", ""),
        "keywords": [k.strip() for k in meta.get("keywords", "").split(",") if k.strip()],
        "author": meta.get("author", ""),
        "open_graph": {k[3:]: v for k, v in meta.items() if k.startswith("og:")},
        "meta": dict(meta),
    }


@tool(
    name="web_download",
    category="web",
    tags=("web",),
    read_only=False,
    destructive=True,
    idempotent=True,
    open_world=True,
    timeout=120.0,
)
@typed_errors
async def web_download(
    url: Url,
    path: Annotated[str, msgspec.Meta(min_length=1, description="Sandbox-relative file path")],
    overwrite: bool = False,
    *,
    config: Config,
) -> DownloadResult:
    """Download a URL into a file in the sandbox.

    Args:
        url: An absolute http(s) URL.
        path: Sandbox-relative file path.
        overwrite: Replace an existing file.
        config: The network guard, sandbox and limits.
    """
    # Refused before any request; the write itself re-checks through descriptors.
    check_writable(config, path, overwrite=overwrite)
    limit = min(config.max_response_bytes, config.max_file_bytes)
    response = _ok(await _get(config, url, max_bytes=limit))
    written = write_file_bytes(config, path, response.content, overwrite=overwrite)
    return {
        "url": response.url,
        "path": written,
        "bytes": len(response.content),
        "sha256": hashlib.sha256(response.content).hexdigest(),
        "content_type": response.content_type,
    }


@tool(
    name="web_search",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_search(
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)],
    max_results: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10,
    language: Annotated[str, msgspec.Meta(max_length=20)] | None = None,
    categories: Annotated[str, msgspec.Meta(max_length=200)] | None = None,
    page_number: Annotated[int, msgspec.Meta(ge=1, le=50)] = 1,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(SearchResult)]:
    """Search the web through the configured SearXNG instance.

    Args:
        query: What to search for.
        max_results: Most results returned.
        language: e.g. 'en'.
        categories: e.g. 'general,news'.
        page_number: Which page of results.
        config: The search provider (search_url), guard and limits.
    """
    if not config.search_url:
        raise ToolNotConfiguredError(
            "web_search is not configured: set ToolsConfig(search_url=...) to a SearXNG "
            "instance with the JSON format enabled"
        )
    params = {"q": query, "format": "json", "pageno": str(page_number)}
    if language:
        params["language"] = language
    if categories:
        params["categories"] = categories
    response = _ok(
        await guarded_request(
            config, "GET", config.search_url.rstrip("/") + "/search", params=params, guard=False
        )
    )
    payload = _decode_json(response.content, config, "the search provider")
    try:
        raw = payload["results"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"the search provider sent an unexpected answer: {exc}") from exc
    results = [
        {
            "title": str(item.get("title", "")),
            "url": str(item.get("url", "")),
            "content": str(item.get("content", "")),
            "engine": str(item.get("engine", "")),
        }
        for item in raw[:max_results]
        if isinstance(item, dict)
    ]
    return {"query": query, "results": results, "count": len(results)}


@tool(
    name="web_robots_check",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=True,
)
@typed_errors
async def web_robots_check(
    url: Url, user_agent: Annotated[str, msgspec.Meta(max_length=200)] = "*", *, config: Config
) -> RobotsResult:
    """Whether robots.txt lets a user agent fetch a URL.

    Args:
        url: An absolute http(s) URL.
        user_agent: The robots.txt user agent to check for.
        config: The network guard, limits and user agent.
    """
    parts = urlsplit(url)
    robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    response = await _get(config, robots_url, max_bytes=512 * 1024)
    parser = RobotFileParser()
    # The robotparser module's own rules: 401/403 forbid everything, other errors allow.
    if response.status_code in (401, 403):
        parser.parse(["User-agent: *", "Disallow: /"])
    elif response.status_code >= 400:
        parser.parse([])
    else:
        parser.parse(response.text.splitlines())
    delay = parser.crawl_delay(user_agent)
    return {
        "url": url,
        "robots_url": robots_url,
        "user_agent": user_agent,
        "allowed": parser.can_fetch(user_agent, url),
        "crawl_delay": float(delay) if delay is not None else None,
    }


@tool(
    name="web_parse_url",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=False,
    blocking=False,
)
@typed_errors
def web_parse_url(url: Url) -> ParsedUrl:
    """Split a URL into scheme, host, port, path, query and fragment.

    Args:
        url: An absolute URL.
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute URL (scheme://host/...)")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} has an invalid port") from exc
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return {
        "scheme": parts.scheme,
        "host": parts.hostname or "",
        "port": port,
        "path": parts.path,
        "query": query,
        "fragment": parts.fragment,
        "username": parts.username,
    }


@tool(
    name="web_build_url",
    category="web",
    tags=("web",),
    read_only=True,
    idempotent=True,
    open_world=False,
    blocking=False,
)
@typed_errors
def web_build_url(
    base: Url,
    path: Annotated[str, msgspec.Meta(max_length=8192)] = "",
    query: Annotated[
        dict[str, Any] | None, msgspec.Meta(description="Parameters; a list repeats a key")
    ] = None,
) -> BuiltUrl:
    """Join a base URL and a path and add query parameters, encoded.

    Args:
        base: An absolute http(s) URL.
        path: Joined to the base as a browser joins a link.
        query: Parameters; a list repeats a key.
    """
    if not urlsplit(base).scheme:
        raise ValueError(f"base {base!r} is not an absolute URL")
    url = urljoin(base, path) if path else base
    if query:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        for key, value in query.items():
            values = value if isinstance(value, list) else [value]
            pairs.extend((key, "" if v is None else str(v)) for v in values)
        url = urlunsplit(parts._replace(query=urlencode(pairs)))
    return {"url": url}


TOOLS: tuple[FunctionTool[..., Any], ...] = (
    web_build_url,
    web_check_status,
    web_download,
    web_extract_links,
    web_extract_metadata,
    web_fetch,
    web_fetch_json,
    web_parse_url,
    web_post_json,
    web_robots_check,
    web_scrape,
    web_search,
)


def web_tools(config: ToolsConfig) -> list[Tool]:
    """The web tools, using *config*'s guard, limits and providers."""
    return [each.bind(config=config) if each.injected else each for each in TOOLS]
