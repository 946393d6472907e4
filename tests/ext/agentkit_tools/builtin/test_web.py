"""The web tools against a real HTTP server on 127.0.0.1 (loopback explicitly allowed)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import LimitExceededError, SandboxViolationError, ToolNotConfiguredError

pytestmark = pytest.mark.timeout(30)

PAGE = """<!doctype html><html lang="en"><head><title>Tea  Guide</title>
<meta name="description" content="All about tea."><meta name="keywords" content="tea, leaves">
<meta property="og:title" content="The Tea Guide"><meta name="author" content="Ann">
<style>.x{color:red}</style><script>var hidden = 1;</script></head>
<body><h1>Tea</h1><p class="intro note">Green and <b>black</b> tea.</p>
<h2 id="brew">Brewing</h2><p>Use hot water.</p>
<a href="/about">About us</a> <a href="https://other.example/x">Elsewhere</a>
<a href="/about">About again</a> <a href="mailto:a@b.c">Mail</a>
<img src="/leaf.png" alt="A leaf"></body></html>"""


@pytest.fixture
def web(make_caller: Any, local_server: Any) -> Any:
    """Web tools allowed to reach the local server, with search pointed at it."""
    local_server.route("/page", body=PAGE)
    return make_caller(allow_private_addresses=True, search_url=local_server.url)


async def test_fetch_returns_status_headers_and_text(web: Any, local_server: Any) -> None:
    """A GET returns the body, content type and status, and sends our User-Agent."""
    result = await web("web_fetch", url=local_server.url + "/page", headers={"X-Test": "1"})
    assert result["status_code"] == 200
    assert result["ok"] is True
    assert result["content_type"] == "text/html"
    assert "<h1>Tea</h1>" in result["text"]
    assert local_server.requests[-1].headers["X-Test"] == "1"
    assert local_server.requests[-1].headers["User-Agent"].startswith("agentkit-tools")


async def test_fetch_reports_http_errors_and_truncates(web: Any, local_server: Any) -> None:
    """A 404 is returned with ok false; max_chars truncates the text."""
    missing = await web("web_fetch", url=local_server.url + "/missing")
    assert (missing["status_code"], missing["ok"]) == (404, False)
    short = await web("web_fetch", url=local_server.url + "/page", max_chars=10)
    assert len(short["text"]) == 10
    assert short["truncated"] is True


async def test_fetch_connection_refused_is_connection_error(make_caller: Any) -> None:
    """Nothing listening on the port gives a ConnectionError."""
    from agentkit.testing import free_port

    call = make_caller(allow_private_addresses=True)
    with pytest.raises(ConnectionError, match="failed"):
        await call("web_fetch", url=f"http://127.0.0.1:{free_port()}/")


async def test_fetch_json(web: Any, local_server: Any) -> None:
    """JSON is parsed; a non-JSON body or an HTTP error raises."""
    local_server.route("/api", body={"items": [1, 2]})
    assert (await web("web_fetch_json", url=local_server.url + "/api"))["data"] == {"items": [1, 2]}
    with pytest.raises(ValueError, match="did not return JSON"):
        await web("web_fetch_json", url=local_server.url + "/page")
    with pytest.raises(ConnectionError, match="HTTP 404"):
        await web("web_fetch_json", url=local_server.url + "/nothing")


@given(depth=st.integers(min_value=2_000, max_value=200_000))
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_fetch_json_nested_too_deep_is_a_limit_error(
    make_caller: Any, local_server: Any, depth: int
) -> None:
    """JSON nested thousands deep is a LimitExceededError, never a RecursionError."""
    call = make_caller(allow_private_addresses=True)
    local_server.route("/deep", body=b"[" * depth + b"]" * depth, content_type="application/json")
    with pytest.raises(LimitExceededError, match="nested too deeply"):
        await call("web_fetch_json", url=local_server.url + "/deep")


async def test_fetch_json_over_max_json_bytes_names_the_option(
    make_caller: Any, local_server: Any
) -> None:
    """A JSON body over max_json_bytes is refused before decoding; post_json keeps the text."""
    call = make_caller(allow_private_addresses=True, max_json_bytes=100)
    local_server.route("/big", body={"items": list(range(100))})
    with pytest.raises(LimitExceededError, match="max_json_bytes"):
        await call("web_fetch_json", url=local_server.url + "/big")
    posted = await call("web_post_json", url=local_server.url + "/big", body={})
    assert posted["data"] is None
    assert posted["text"].startswith('{"items"')


async def test_post_json(web: Any, local_server: Any) -> None:
    """The body is sent as JSON and the JSON reply parsed."""
    local_server.route("/items", status=201, body={"id": 7})
    result = await web("web_post_json", url=local_server.url + "/items", body={"name": "x"})
    assert result["status_code"] == 201
    assert result["data"] == {"id": 7}
    assert local_server.requests[-1].json() == {"name": "x"}
    assert local_server.requests[-1].method == "POST"


def test_post_json_needs_a_body(rejects: Any) -> None:
    """Without body the params fail validation."""
    assert rejects("web_post_json", url="http://127.0.0.1/")


async def test_check_status_follows_redirects(web: Any, local_server: Any) -> None:
    """HEAD follows a redirect and reports the final URL, status and length."""
    local_server.route("/old", status=301, headers={"Location": "/page"})
    result = await web("web_check_status", url=local_server.url + "/old")
    assert result["status_code"] == 200
    assert result["url"] == local_server.url + "/page"
    assert result["redirects"] == [local_server.url + "/page"]
    assert result["content_length"] == len(PAGE.encode())
    assert local_server.requests[-1].method == "HEAD"


def test_check_status_rejects_empty_url(rejects: Any) -> None:
    """An empty URL fails validation."""
    assert rejects("web_check_status", url="")


async def test_scrape(web: Any, local_server: Any) -> None:
    """Title, visible text, headings, absolute links, images and selected elements."""
    result = await web("web_scrape", url=local_server.url + "/page", selector="p.note")
    assert result["title"] == "Tea Guide"
    assert "Green and black tea." in result["text"]
    assert "hidden" not in result["text"]
    assert "color" not in result["text"]
    assert result["headings"] == [{"level": 1, "text": "Tea"}, {"level": 2, "text": "Brewing"}]
    assert result["links"][0] == {"url": local_server.url + "/about", "text": "About us"}
    assert result["images"] == [{"src": local_server.url + "/leaf.png", "alt": "A leaf"}]
    assert [s["text"] for s in result["selected"]] == ["Green and black tea."]


async def test_scrape_rejects_invalid_selector(web: Any, local_server: Any) -> None:
    """A selector that is not valid CSS raises ValueError before any request."""
    with pytest.raises(ValueError, match="invalid CSS selector"):
        await web("web_scrape", url=local_server.url + "/page", selector="div >")
    assert local_server.requests == []


async def test_extract_links(web: Any, local_server: Any) -> None:
    """Links are absolute, http(s) only, de-duplicated, and same_host filters."""
    result = await web("web_extract_links", url=local_server.url + "/page")
    assert [link["url"] for link in result["links"]] == [
        local_server.url + "/about",
        "https://other.example/x",
    ]
    same = await web("web_extract_links", url=local_server.url + "/page", same_host=True)
    assert same["count"] == 1


async def test_extract_links_http_error(web: Any, local_server: Any) -> None:
    """A 404 page raises ConnectionError."""
    with pytest.raises(ConnectionError, match="HTTP 404"):
        await web("web_extract_links", url=local_server.url + "/gone")


async def test_extract_metadata(web: Any, local_server: Any) -> None:
    """Description, keywords, author and Open Graph tags are read."""
    result = await web("web_extract_metadata", url=local_server.url + "/page")
    assert result["title"] == "The Tea Guide"
    assert result["description"] == "All about tea."
    assert result["keywords"] == ["tea", "leaves"]
    assert result["author"] == "Ann"
    assert result["open_graph"] == {"title": "The Tea Guide"}


async def test_extract_metadata_http_error(web: Any, local_server: Any) -> None:
    """A 404 page raises ConnectionError."""
    with pytest.raises(ConnectionError):
        await web("web_extract_metadata", url=local_server.url + "/gone")


async def test_download_into_the_sandbox(web: Any, local_server: Any, config: Any) -> None:
    """The body lands in the sandbox with its size and sha256."""
    local_server.route("/file.bin", body=bytes(range(256)), content_type="application/x")
    result = await web("web_download", url=local_server.url + "/file.bin", path="dl/f.bin")
    assert result["bytes"] == 256
    assert result["sha256"] == hashlib.sha256(bytes(range(256))).hexdigest()
    assert (config.root / "dl/f.bin").read_bytes() == bytes(range(256))


async def test_download_outside_the_sandbox_sends_nothing(web: Any, local_server: Any) -> None:
    """A target path escaping the sandbox is refused before any request."""
    with pytest.raises(SandboxViolationError):
        await web("web_download", url=local_server.url + "/page", path="../escape.html")
    assert local_server.requests == []


async def test_search_speaks_the_searxng_api(web: Any, local_server: Any) -> None:
    """web_search GETs /search?q=...&format=json and returns the top results."""
    local_server.route(
        "/search",
        body={
            "query": "tea",
            "results": [
                {
                    "title": "Tea",
                    "url": "https://tea.example",
                    "content": "About tea",
                    "engine": "x",
                },
                {"title": "More", "url": "https://more.example", "content": "", "engine": "y"},
            ],
        },
    )
    result = await web("web_search", query="green tea", max_results=1, language="en")
    assert result["results"] == [
        {"title": "Tea", "url": "https://tea.example", "content": "About tea", "engine": "x"}
    ]
    path = local_server.requests[-1].path
    assert "q=green+tea" in path
    assert "format=json" in path
    assert "language=en" in path


async def test_search_bad_provider_answer(web: Any, local_server: Any) -> None:
    """A provider answer without results raises ValueError."""
    local_server.route("/search", body={"unexpected": True})
    with pytest.raises(ValueError, match="unexpected answer"):
        await web("web_search", query="tea")


async def test_search_without_provider_is_not_configured(call: Any) -> None:
    """Without search_url the tool fails with ToolNotConfiguredError."""
    with pytest.raises(ToolNotConfiguredError, match="search_url"):
        await call("web_search", query="tea")


async def test_robots_check(web: Any, local_server: Any) -> None:
    """robots.txt rules decide what may be fetched; crawl-delay is reported."""
    local_server.route(
        "/robots.txt",
        body="User-agent: *\nDisallow: /private\nCrawl-delay: 2\n",
        content_type="text/plain",
    )
    blocked = await web("web_robots_check", url=local_server.url + "/private/x")
    assert blocked["allowed"] is False
    assert blocked["crawl_delay"] == 2
    assert (await web("web_robots_check", url=local_server.url + "/public"))["allowed"]


async def test_robots_check_missing_file_allows(web: Any, local_server: Any) -> None:
    """A 404 robots.txt allows everything, as the robots standard says."""
    assert (await web("web_robots_check", url=local_server.url + "/x"))["allowed"] is True


def test_robots_check_rejects_long_user_agent(rejects: Any) -> None:
    """A user agent over 200 characters fails validation."""
    assert rejects("web_robots_check", url="http://127.0.0.1/", user_agent="x" * 201)


async def test_parse_url(call: Any) -> None:
    """A URL splits into its parts; repeated query keys become lists."""
    result = await call("web_parse_url", url="https://u@example.com:8443/a/b?x=1&x=2&y=#frag")
    assert result == {
        "scheme": "https",
        "host": "example.com",
        "port": 8443,
        "path": "/a/b",
        "query": {"x": ["1", "2"], "y": [""]},
        "fragment": "frag",
        "username": "u",
    }


async def test_parse_url_relative(call: Any) -> None:
    """A relative URL raises ValueError."""
    with pytest.raises(ValueError, match="not an absolute URL"):
        await call("web_parse_url", url="/just/a/path")


async def test_build_url(call: Any) -> None:
    """Paths join and query values are encoded and appended."""
    result = await call(
        "web_build_url",
        base="https://example.com/api/",
        path="v1/items",
        query={"q": "green tea", "tag": ["a", "b"]},
    )
    assert result["url"] == "https://example.com/api/v1/items?q=green+tea&tag=a&tag=b"


async def test_build_url_relative_base(call: Any) -> None:
    """A base without a scheme raises ValueError."""
    with pytest.raises(ValueError, match="not an absolute URL"):
        await call("web_build_url", base="example.com")
