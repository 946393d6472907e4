"""The file and web tools as plain @tool functions: imported alone, bound, CSS selection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentkit import LimitExceededError, ToolRegistry
from agentkit.exceptions import ToolInputError
from agentkit_tools import ToolsConfig
from agentkit_tools.builtin import file as file_module
from agentkit_tools.builtin import web as web_module
from agentkit_tools.builtin._html import check_selector, parse_html
from agentkit_tools.builtin.file import file_read, file_write
from agentkit_tools.builtin.web import web_parse_url, web_scrape

pytestmark = pytest.mark.timeout(60)

PAGE = """<html><head><title>Shop</title></head><body>
<div id="main"><ul><li class="item">One</li><li class="item sale">Two</li>
<li class="item">Three<p>unclosed</li></ul>
<a href="/a">A</a><a href="https://x.example/b" rel="nofollow">B</a></div>
<div class="aside"><p>Side</p></div></body></html>"""


def test_each_tool_module_lists_its_tools() -> None:
    """file.TOOLS and web.TOOLS hold 11 and 12 tools of their category, each importable."""
    assert len(file_module.TOOLS) == 11
    assert len(web_module.TOOLS) == 12
    for module in (file_module, web_module):
        for each in module.TOOLS:
            assert getattr(module, each.name) is each
            assert each.category in each.tags


def test_file_tools_called_alone_with_bind(tmp_path: Path) -> None:
    """A file tool imported from its module runs bound to a config, as a function."""
    config = ToolsConfig(sandbox_root=tmp_path)
    written = file_write.bind(config=config)(path="a/b.txt", content="x\ny\n")
    assert written["created"] is True
    assert (tmp_path / "a/b.txt").read_text() == "x\ny\n"
    read = file_read.bind(config=config)(path="a/b.txt", start_line=2)
    assert read["content"] == "y\n"


async def test_unbound_tool_reports_not_configured_and_bound_runs(tmp_path: Path) -> None:
    """Registered unbound, a file tool is not_configured; bound, it runs through the registry."""
    registry = ToolRegistry()
    registry.register_tool(file_read)
    result = await registry.execute_tool("file_read", {"path": "x.txt"})
    assert (result.success, result.error_type) == (False, "not_configured")
    (tmp_path / "x.txt").write_text("hello")
    bound = ToolRegistry()
    bound.register_tool(file_read.bind(config=ToolsConfig(sandbox_root=tmp_path)))
    ok = await bound.execute_tool("file_read", {"path": "x.txt"})
    assert ok.output["content"] == "hello"


async def test_web_parse_url_needs_no_config() -> None:
    """web_parse_url has no injected parameter and runs from the registry as imported."""
    assert web_parse_url.injected == ()
    registry = ToolRegistry()
    registry.register_tool(web_parse_url)
    result = await registry.execute_tool("web_parse_url", {"url": "https://h.example:81/p?q=1"})
    assert result.output["port"] == 81
    assert result.output["query"] == {"q": ["1"]}


def test_full_css_selectors() -> None:
    """Child combinators, attributes, :not and :nth-child select what a browser would."""
    cases = {
        "ul > li.item:not(.sale)": ["One", "Three unclosed"],
        "li:nth-child(2)": ["Two"],
        "a[href^='https']": ["B"],
        "#main a[rel~=nofollow]": ["B"],
        "div.aside p, li.sale": ["Two", "Side"],
    }
    for selector, texts in cases.items():
        selected = parse_html(PAGE, selector=selector).selected
        assert [item["text"] for item in selected] == texts, selector


def test_html5_parsing_closes_elements_like_a_browser() -> None:
    """An unclosed <p> inside <li> ends with the <li>; the text keeps block breaks."""
    page = parse_html(PAGE, base_url="http://shop.example/")
    assert page.title == "Shop"
    assert page.text.splitlines()[:4] == ["One", "Two", "Three", "unclosed"]
    assert [link["url"] for link in page.links] == ["http://shop.example/a", "https://x.example/b"]


@pytest.mark.parametrize("selector", ["div >", "p[", "", "a:nth-child("])
def test_invalid_selectors_are_input_errors(selector: str) -> None:
    """A selector that is not CSS is a ToolInputError naming it."""
    with pytest.raises(ToolInputError):
        check_selector(selector)


def test_has_is_refused() -> None:
    """:has() is refused: Lexbor's matching of it grows with the square of the page."""
    with pytest.raises(ToolInputError, match=":has"):
        parse_html(PAGE, selector="div:has(p)")


@pytest.mark.parametrize("depth", [300, 2_000])
def test_costly_selector_on_a_deep_page_is_a_limit_error(depth: int) -> None:
    """Many descendant combinators on a deep page are refused before Lexbor backtracks."""
    html = "<span>" * depth + "x"
    with pytest.raises(LimitExceededError, match="combinators"):
        parse_html(html, selector="p span span span")
    assert parse_html(html, selector="span > span").selected


async def test_web_scrape_refuses_a_bad_selector_before_any_request(tmp_path: Path) -> None:
    """web_scrape bound to a config checks the selector before the network guard runs."""
    tool: Any = web_scrape.bind(config=ToolsConfig(sandbox_root=tmp_path))
    with pytest.raises(ToolInputError, match="invalid CSS selector"):
        await tool(url="http://127.0.0.1:9/", selector="p[")
