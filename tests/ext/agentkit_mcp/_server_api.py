"""A small HTTP API on 127.0.0.1 for the MCP server tests: its own OpenAPI spec, an answer
outside its declared enum, and a spec download the test can hold back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: The tools the spec makes (one per operation).
OPERATIONS = ("add_numbers", "get_status")


def spec(base_url: str) -> dict[str, Any]:
    """The API's OpenAPI 3.0 document."""
    integer = {"type": "integer"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Test API", "version": "1.0.0"},
        "servers": [{"url": base_url}],
        "paths": {
            "/add": {
                "get": {
                    "operationId": "add_numbers",
                    "summary": "Add two integers",
                    "parameters": [
                        {"name": "a", "in": "query", "required": True, "schema": integer},
                        {"name": "b", "in": "query", "required": True, "schema": integer},
                    ],
                    "responses": {
                        "200": {
                            "description": "the sum",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"sum": integer},
                                        "required": ["sum"],
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/status": {
                "get": {
                    "operationId": "get_status",
                    "summary": "The machine's state",
                    "responses": {
                        "200": {
                            "description": "on or off, says the spec",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "state": {"type": "string", "enum": ["on", "off"]}
                                        },
                                        "required": ["state"],
                                    }
                                }
                            },
                        }
                    },
                }
            },
        },
    }


@dataclass
class Api:
    """A running API: its URL, and a gate the spec download waits on."""

    url: str = ""
    spec_gate: threading.Event = field(default_factory=threading.Event)
    spec_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def spec_url(self) -> str:
        """Where the OpenAPI document is served."""
        return f"{self.url}/openapi.json"


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

        def _json(self, body: Any, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if parts.path == "/openapi.json":
                api.spec_requested.set()
                api.spec_gate.wait(30)
                self._json(spec(api.url))
            elif parts.path == "/add":
                self._json({"sum": int(query["a"]) + int(query["b"])})
            elif parts.path == "/status":
                self._json({"state": "paused"})  # not in the declared enum
            else:
                self._json({"error": "not found"}, 404)

    return Handler


@contextmanager
def running_api(*, hold_spec: bool = False) -> Iterator[Api]:
    """Serve the API on a free 127.0.0.1 port; with *hold_spec*, the spec download waits
    until ``api.spec_gate`` is set."""
    api = Api()
    if not hold_spec:
        api.spec_gate.set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    httpd.daemon_threads = True
    api.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.spec_gate.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
