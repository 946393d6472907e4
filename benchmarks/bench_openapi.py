"""OpenAPI import: time to import a 500-operation spec, and per-call overhead over raw httpx.

* import: ``OpenAPIParser().extract_tools(text)`` (parse, resolve refs, validate, build 500
  tools) beside prance's own ``ResolvingParser(spec_string=text)`` (parse, resolve, validate:
  what a user of prance pays before making a single tool).
* call: ``registry.execute_tool("getItem", {"itemId": i, "verbose": True})`` against a local
  threaded HTTP server beside a raw ``httpx.AsyncClient.get`` of the same URL on the same
  server (keep-alive on both sides); µs per call.

The two sides of each figure are **interleaved in rounds** in one process (``_interleave``):
medians, the spread over rounds and the per-round ratio are printed (run with ``-s``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from _interleave import Side, report, run_interleaved, timing
from _util import rounds

from agentkit import ToolRegistry
from agentkit_tools import OpenAPIParser

OPERATIONS = 500
CALLS = 200

IMPORT = "import a 500-operation OpenAPI spec"
CALL = "OpenAPI tool call vs raw httpx, local server"


def big_spec(operations: int = OPERATIONS) -> str:
    """A generated OpenAPI 3.0 document: *operations* operations sharing two schemas."""
    item = {"$ref": "#/components/schemas/Item"}
    paths: dict[str, Any] = {}
    for index in range(operations // 2):
        paths[f"/r{index}/{{itemId}}"] = {
            "parameters": [
                {"name": "itemId", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": {
                "operationId": f"get{index}",
                "parameters": [{"name": "verbose", "in": "query", "schema": {"type": "boolean"}}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": item}}}
                },
            },
            "put": {
                "operationId": f"put{index}",
                "requestBody": {"content": {"application/json": {"schema": item}}},
                "responses": {"204": {"description": "done"}},
            },
        }
    return json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "big", "version": "1"},
            "paths": paths,
            "components": {
                "schemas": {
                    "Item": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "tags": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Tag"},
                            },
                        },
                    },
                    "Tag": {"type": "object", "properties": {"label": {"type": "string"}}},
                }
            },
        }
    )


class ImportRound:
    """One import of the generated spec by OpenAPIParser."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def run(self) -> int:
        return 1 if len(OpenAPIParser().extract_tools(self.text)) == OPERATIONS else 0

    async def close(self) -> None:
        return None


class PranceRound(ImportRound):
    """The anchor: prance parses, resolves and validates the same text."""

    async def run(self) -> int:
        import prance

        parser = prance.ResolvingParser(spec_string=self.text, backend="openapi-spec-validator")
        return 1 if len(parser.specification["paths"]) == OPERATIONS // 2 else 0


@pytest.mark.timeout(600)
def test_import(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """OpenAPIParser and prance's ResolvingParser each read the whole generated spec,
    interleaved."""
    text = big_spec()
    ours, theirs = ImportRound(text), PranceRound(text)
    times = run_interleaved(
        benchmark,
        bench_loop,
        {"agentkit": timing(ours.run, 1), "prance": timing(theirs.run, 1)},
        rounds(5),
    )
    if times is not None:
        report(
            pytestconfig,
            IMPORT,
            Side("agentkit", "agentkit", "OpenAPIParser.extract_tools", 1),
            Side("prance", "anchor", "prance.ResolvingParser", 1),
            times,
            unit="import",
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body in one write (flushed per request): no delayed-ACK stall
    reply = json.dumps({"name": "item", "tags": []}).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.reply)))
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """A threaded keep-alive HTTP server on 127.0.0.1 answering every GET with one item."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


class ToolCallRound:
    """CALLS sequential execute_tool calls of one imported operation."""

    def __init__(self, url: str) -> None:
        self.parser = OpenAPIParser(base_url=url)
        self.registry = ToolRegistry()
        self.parser.register_tools_from_spec(big_spec(4), self.registry)

    async def run(self) -> int:
        execute = self.registry.execute_tool
        done = 0
        for index in range(CALLS):
            result = await execute("get0", {"itemId": index, "verbose": True})
            done += result.success and result.output["name"] == "item"
        return done

    async def close(self) -> None:
        await self.parser.aclose()


class RawHttpxRound:
    """The anchor: CALLS sequential GETs of the same URL with one httpx.AsyncClient."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url
        self.client = httpx.AsyncClient(trust_env=False)

    async def run(self) -> int:
        done = 0
        for index in range(CALLS):
            response = await self.client.get(f"{self.url}/r0/{index}", params={"verbose": "true"})
            done += response.status_code == 200 and response.json()["name"] == "item"
        return done

    async def close(self) -> None:
        await self.client.aclose()


@pytest.mark.timeout(600)
def test_tool_call(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    server_url: str,
) -> None:
    """Every one of CALLS tool calls, and every raw GET, returns the server's item; the two
    interleaved on the same server, each with its own warm keep-alive client."""
    ours, theirs = ToolCallRound(server_url), RawHttpxRound(server_url)
    try:
        times = run_interleaved(
            benchmark,
            bench_loop,
            {"agentkit": timing(ours.run, CALLS), "httpx": timing(theirs.run, CALLS)},
            rounds(10),
        )
    finally:
        bench_loop.run_until_complete(ours.close())
        bench_loop.run_until_complete(theirs.close())
    if times is not None:
        report(
            pytestconfig,
            CALL,
            Side("agentkit", "agentkit", "execute_tool (validate + httpx)", CALLS),
            Side("httpx", "anchor", "httpx.AsyncClient.get", CALLS),
            times,
            unit="call",
        )
