"""A small HTTP server on 127.0.0.1 that serves routes (documents, redirects) and counts hits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Route:
    """What one path answers: a status, headers and a body (or a body of *size* bytes)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    size: int | None = None  # stream this many bytes of filler instead of *body*
    chunked: bool = False  # no Content-Length


@dataclass
class SpecServer:
    """The server's URL, its routes (change them any time) and every path requested."""

    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bytes_sent: int = 0


def _handler(server: SpecServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.hits.append(self.path)
            server.headers.append({key.lower(): value for key, value in self.headers.items()})
            route = server.routes.get(self.path.split("?", 1)[0], Route(404, b"not found"))
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            length = route.size if route.size is not None else len(route.body)
            if route.chunked:
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                if route.size is None:
                    self.wfile.write(route.body)
                    server.bytes_sent += len(route.body)
                    return
                filler = b"#" * 65536
                sent = 0
                while sent < route.size:
                    piece = filler[: route.size - sent]
                    self.wfile.write(piece)
                    sent += len(piece)
                    server.bytes_sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a size cap does

        do_POST = do_PUT = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@contextmanager
def serving(routes: dict[str, Route] | None = None) -> Iterator[SpecServer]:
    """Run a :class:`SpecServer` on a free 127.0.0.1 port for the duration of the block."""
    state = SpecServer(routes=dict(routes or {}))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


class LoopbackOnlyTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A real transport that records every address asked for and connects only to 127.0.0.1.

    A request for any other address is recorded and answered 599 without a connection, so a
    test can prove that nothing was sent there. It serves sync and async clients.
    """

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.inner_async = httpx.AsyncHTTPTransport()
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.host != "127.0.0.1":
            return httpx.Response(599, request=request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.host != "127.0.0.1":
            return httpx.Response(599, request=request)
        return await self.inner_async.handle_async_request(request)

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner_async.aclose()

    @property
    def elsewhere(self) -> list[str]:
        """Every address other than 127.0.0.1 that a request was built for."""
        return [host for host in self.hosts if host != "127.0.0.1"]
