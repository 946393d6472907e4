"""Web tools: fetch, scrape, download and search, every request through the address guard."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import msgspec

from agentkit.exceptions import LimitExceededError, ToolInputError, ToolNotConfiguredError
from agentkit.tools import Tool
from agentkit_tools._netguard import GuardedResponse, guarded_request
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._file import check_writable, write_file_bytes
from agentkit_tools.builtin._html import parse_html
from agentkit_tools.builtin._schema import ANY, array, boolean, integer, make_tool, obj, string

__all__ = ["web_tools"]

_URL = string("An absolute http(s) URL", minLength=1, maxLength=8192)
_MAX_CHARS = integer(
    "Longest text returned, in characters", minimum=1, maximum=5_000_000, default=100_000
)


#: The fields every tool describing a reply starts with (see ``_summary``).
_SUMMARY_FIELDS: dict[str, Any] = {
    "url": string(),
    "status_code": integer(),
    "ok": boolean(),
    "content_type": string(),
}


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


def web_tools(config: ToolsConfig) -> list[Tool]:
    """The web tools, using *config*'s guard, limits and providers."""

    async def get(url: str, **options: Any) -> GuardedResponse:
        return await guarded_request(config, "GET", url, **options)

    async def web_fetch(
        url: str, headers: dict[str, str] | None = None, max_chars: int = 100_000
    ) -> dict[str, Any]:
        response = await get(url, headers=headers)
        text = response.text
        return {
            **_summary(response),
            "headers": response.headers,
            "text": text[:max_chars],
            "truncated": len(text) > max_chars,
            "bytes": len(response.content),
        }

    async def web_fetch_json(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = _ok(await get(url, headers={"Accept": "application/json", **(headers or {})}))
        data = _decode_json(response.content, config, response.url)
        return {"url": response.url, "status_code": response.status_code, "data": data}

    async def web_post_json(
        url: str, body: Any, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await guarded_request(config, "POST", url, json_body=body, headers=headers)
        try:
            data = _decode_json(response.content, config, url) if response.content else None
        except (ToolInputError, LimitExceededError):
            data = None  # the reply's text is still returned
        return {
            **_summary(response),
            "data": data,
            "text": response.text[:100_000],
        }

    async def web_check_status(url: str) -> dict[str, Any]:
        response = await guarded_request(config, "HEAD", url)
        length = response.headers.get("content-length")
        return {
            **_summary(response),
            "content_length": int(length) if length and length.isdigit() else None,
            "redirects": response.redirects,
        }

    async def page(url: str, selector: str | None = None) -> tuple[GuardedResponse, Any]:
        response = _ok(await get(url, headers={"Accept": "text/html,*/*;q=0.5"}))
        # Parsing a page of megabytes takes a second: off the event loop.
        parsed = await asyncio.to_thread(
            parse_html, response.text, base_url=response.url, selector=selector
        )
        return response, parsed

    async def web_scrape(
        url: str, selector: str | None = None, max_chars: int = 100_000
    ) -> dict[str, Any]:
        response, parsed = await page(url, selector)
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

    async def web_extract_links(url: str, same_host: bool = False) -> dict[str, Any]:
        response, parsed = await page(url)
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

    async def web_extract_metadata(url: str) -> dict[str, Any]:
        response, parsed = await page(url)
        meta = parsed.meta
        return {
            "url": response.url,
            "title": meta.get("og:title") or parsed.title,
            "description": meta.get("description") or meta.get("og:description", ""),
            "keywords": [k.strip() for k in meta.get("keywords", "").split(",") if k.strip()],
            "author": meta.get("author", ""),
            "open_graph": {k[3:]: v for k, v in meta.items() if k.startswith("og:")},
            "meta": meta,
        }

    async def web_download(url: str, path: str, overwrite: bool = False) -> dict[str, Any]:
        # Refused before any request; the write itself re-checks through descriptors.
        check_writable(config, path, overwrite=overwrite)
        limit = min(config.max_response_bytes, config.max_file_bytes)
        response = _ok(await get(url, max_bytes=limit))
        written = write_file_bytes(config, path, response.content, overwrite=overwrite)
        return {
            "url": response.url,
            "path": written,
            "bytes": len(response.content),
            "sha256": hashlib.sha256(response.content).hexdigest(),
            "content_type": response.content_type,
        }

    async def web_search(
        query: str,
        max_results: int = 10,
        language: str | None = None,
        categories: str | None = None,
        page_number: int = 1,
    ) -> dict[str, Any]:
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

    async def web_robots_check(url: str, user_agent: str = "*") -> dict[str, Any]:
        parts = urlsplit(url)
        robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        response = await get(robots_url, max_bytes=512 * 1024)
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

    def web_parse_url(url: str) -> dict[str, Any]:
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

    def web_build_url(
        base: str, path: str = "", query: dict[str, Any] | None = None
    ) -> dict[str, Any]:
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

    headers_schema = {
        "type": "object",
        "additionalProperties": string(),
        "description": "Extra request headers",
    }
    link = obj({"url": string(), "text": string()})
    return [
        make_tool(
            web_fetch,
            name="web_fetch",
            category="web",
            open_world=True,
            description="GET a URL and return status, headers and the body as text.",
            parameters=obj(
                {"url": _URL, "headers": headers_schema, "max_chars": _MAX_CHARS}, ["url"]
            ),
            returns=obj(
                {
                    **_SUMMARY_FIELDS,
                    "headers": {"type": "object"},
                    "text": string(),
                    "truncated": boolean(),
                    "bytes": integer(),
                },
                ["url", "status_code", "text"],
            ),
        ),
        make_tool(
            web_fetch_json,
            name="web_fetch_json",
            category="web",
            open_world=True,
            description="GET a URL that returns JSON and return the parsed value.",
            parameters=obj({"url": _URL, "headers": headers_schema}, ["url"]),
            returns=obj({"url": string(), "status_code": integer(), "data": ANY}, ["url", "data"]),
        ),
        make_tool(
            web_post_json,
            name="web_post_json",
            category="web",
            open_world=True,
            read_only=False,
            idempotent=False,
            description="POST a JSON body to a URL; return status and the reply.",
            parameters=obj({"url": _URL, "body": ANY, "headers": headers_schema}, ["url", "body"]),
            returns=obj(
                {
                    **_SUMMARY_FIELDS,
                    "data": ANY,
                    "text": string(),
                },
                ["url", "status_code"],
            ),
        ),
        make_tool(
            web_check_status,
            name="web_check_status",
            category="web",
            open_world=True,
            description="HEAD a URL: is it up, its status, type, size and redirects.",
            parameters=obj({"url": _URL}, ["url"]),
            returns=obj(
                {
                    **_SUMMARY_FIELDS,
                    "content_length": {"type": ["integer", "null"]},
                    "redirects": array(string()),
                },
                ["url", "status_code", "ok"],
            ),
        ),
        make_tool(
            web_scrape,
            name="web_scrape",
            category="web",
            open_world=True,
            description="Fetch an HTML page and extract title, text, headings, links, "
            "images, and elements matching a simple selector.",
            parameters=obj(
                {
                    "url": _URL,
                    "selector": string("tag, .class, #id or e.g. 'div.note'", maxLength=200),
                    "max_chars": _MAX_CHARS,
                },
                ["url"],
            ),
            returns=obj(
                {
                    "url": string(),
                    "title": string(),
                    "text": string(),
                    "headings": array(obj({"level": integer(), "text": string()})),
                    "links": array(link),
                    "images": array(obj({"src": string(), "alt": string()})),
                    "selected": array({"type": "object"}),
                },
                ["url", "title", "text"],
            ),
        ),
        make_tool(
            web_extract_links,
            name="web_extract_links",
            category="web",
            open_world=True,
            description="List the absolute http(s) links of a page, de-duplicated.",
            parameters=obj({"url": _URL, "same_host": boolean(default=False)}, ["url"]),
            returns=obj(
                {"url": string(), "links": array(link), "count": integer()}, ["links", "count"]
            ),
        ),
        make_tool(
            web_extract_metadata,
            name="web_extract_metadata",
            category="web",
            open_world=True,
            description="A page's title, description, keywords, author and Open Graph tags.",
            parameters=obj({"url": _URL}, ["url"]),
            returns=obj(
                {
                    "url": string(),
                    "title": string(),
                    "description": string(),
                    "keywords": array(string()),
                    "author": string(),
                    "open_graph": {"type": "object"},
                    "meta": {"type": "object"},
                },
                ["url", "title"],
            ),
        ),
        make_tool(
            web_download,
            name="web_download",
            category="web",
            open_world=True,
            read_only=False,
            destructive=True,
            timeout=120.0,
            description="Download a URL into a file in the sandbox.",
            parameters=obj(
                {
                    "url": _URL,
                    "path": string("Sandbox-relative file path", minLength=1),
                    "overwrite": boolean(default=False),
                },
                ["url", "path"],
            ),
            returns=obj(
                {
                    "url": string(),
                    "path": string(),
                    "bytes": integer(),
                    "sha256": string(),
                    "content_type": string(),
                },
                ["path", "bytes", "sha256"],
            ),
        ),
        make_tool(
            web_search,
            name="web_search",
            category="web",
            open_world=True,
            description="Search the web through the configured SearXNG instance.",
            parameters=obj(
                {
                    "query": string(minLength=1, maxLength=1000),
                    "max_results": integer(minimum=1, maximum=100, default=10),
                    "language": string("e.g. 'en'", maxLength=20),
                    "categories": string("e.g. 'general,news'", maxLength=200),
                    "page_number": integer(minimum=1, maximum=50, default=1),
                },
                ["query"],
            ),
            returns=obj(
                {
                    "query": string(),
                    "results": array(
                        obj(
                            {
                                "title": string(),
                                "url": string(),
                                "content": string(),
                                "engine": string(),
                            }
                        )
                    ),
                    "count": integer(),
                },
                ["results", "count"],
            ),
        ),
        make_tool(
            web_robots_check,
            name="web_robots_check",
            category="web",
            open_world=True,
            description="Whether robots.txt lets a user agent fetch a URL.",
            parameters=obj(
                {"url": _URL, "user_agent": string(default="*", maxLength=200)}, ["url"]
            ),
            returns=obj(
                {
                    "url": string(),
                    "robots_url": string(),
                    "user_agent": string(),
                    "allowed": boolean(),
                    "crawl_delay": {"type": ["number", "null"]},
                },
                ["allowed"],
            ),
        ),
        make_tool(
            web_parse_url,
            name="web_parse_url",
            category="web",
            description="Split a URL into scheme, host, port, path, query and fragment.",
            parameters=obj({"url": _URL}, ["url"]),
            returns=obj(
                {
                    "scheme": string(),
                    "host": string(),
                    "port": {"type": ["integer", "null"]},
                    "path": string(),
                    "query": {"type": "object", "additionalProperties": array(string())},
                    "fragment": string(),
                    "username": {"type": ["string", "null"]},
                },
                ["scheme", "host", "path"],
            ),
        ),
        make_tool(
            web_build_url,
            name="web_build_url",
            category="web",
            description="Join a base URL and a path and add query parameters, encoded.",
            parameters=obj(
                {
                    "base": _URL,
                    "path": string(maxLength=8192),
                    "query": {"type": "object", "description": "Parameters; a list repeats a key"},
                },
                ["base"],
            ),
            returns=obj({"url": string()}, ["url"]),
        ),
    ]
