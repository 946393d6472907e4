"""A small HTTP endpoint for liveness and readiness probes (Kubernetes), on asyncio alone.

:class:`HealthServer` serves a :class:`~agentkit.reliability.HealthMonitor`:

* ``GET /livez``: 200 while the process (its event loop) answers at all;
* ``GET /readyz``: 200 when every registered component is HEALTHY, 503 otherwise (UNKNOWN
  included), with each component's status, reason and latency as JSON.

It reads the monitor's statuses and runs no check itself, so a probe is answered at once
whatever the checks do; start the monitor (``async with monitor``) for the statuses to move.
It binds 127.0.0.1 unless told otherwise. The server is the standard library's
``asyncio.start_server``, not a web framework: one request per connection, headers at most
8 KiB and read within ``read_timeout_seconds``, at most ``max_connections`` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from types import TracebackType
from typing import Any, Self

from agentkit.exceptions import ConfigurationError
from agentkit.reliability._health import HealthMonitor

__all__ = ["HealthServer", "readiness"]

logger = logging.getLogger("agentkit.health")

_MAX_HEADER_BYTES = 8192
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def readiness(monitor: HealthMonitor) -> tuple[bool, dict[str, Any]]:
    """Whether every component of *monitor* is HEALTHY, and the JSON detail ``/readyz`` shows.

    A monitor with no components is ready (nothing to wait for).
    """
    components = [health.as_dict() for health in monitor.snapshot().values()]
    ready = all(component["healthy"] for component in components)
    return ready, {"status": "ready" if ready else "not ready", "checks": components}


class HealthServer:
    """Serves ``/livez`` and ``/readyz`` for *monitor* on *host*:*port* (0: any free port).

    Use as ``async with HealthServer(monitor, port=8080):`` or ``await server.start()`` /
    ``await server.stop()``; :attr:`port` is the bound port once started.
    """

    def __init__(
        self,
        monitor: HealthMonitor,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        read_timeout_seconds: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        if not isinstance(monitor, HealthMonitor):
            raise ConfigurationError(f"HealthServer serves a HealthMonitor, not {monitor!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port must be 0-65535, not {port!r}")
        if not read_timeout_seconds > 0:
            raise ConfigurationError(
                f"read_timeout_seconds must be > 0, not {read_timeout_seconds!r}"
            )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise ConfigurationError(
                f"max_connections must be a whole number, not {max_connections!r}"
            )
        if max_connections < 1:
            raise ConfigurationError(f"max_connections must be >= 1, not {max_connections!r}")
        self.monitor = monitor
        self.host = host
        self._port = port
        self.read_timeout_seconds = float(read_timeout_seconds)
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        state = "serving" if self._server is not None else "stopped"
        return f"<HealthServer {self.host}:{self._port} {state}>"

    @property
    def port(self) -> int:
        """The port: the bound one once started (useful with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        """Listen and return; requests are served in the background until :meth:`stop`."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._accept, self.host, self._port, limit=_MAX_HEADER_BYTES
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and end open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), self.read_timeout_seconds)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._connections) >= self.max_connections or task is None:
            writer.close()
            return
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:  # one bad connection never stops the server
            logger.warning("health endpoint: request failed: %r", exc)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.read_timeout_seconds)
        except TimeoutError:
            await _respond(writer, 408, {"error": "request headers not received in time"})
            return
        except asyncio.LimitOverrunError:
            await _respond(
                writer, 431, {"error": f"request headers over {_MAX_HEADER_BYTES} bytes"}
            )
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await _respond(writer, 400, {"error": "not an HTTP/1.x request line"})
            return
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        if path not in ("/livez", "/readyz"):
            await _respond(writer, 404, {"error": "no such path; try /livez or /readyz"})
            return
        if method not in ("GET", "HEAD"):
            await _respond(writer, 405, {"error": "only GET and HEAD"}, allow=True)
            return
        if path == "/livez":
            status, body = 200, {"status": "alive"}
        else:
            ready, body = readiness(self.monitor)
            status = 200 if ready else 503
        await _respond(writer, status, body, head_only=method == "HEAD")


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: dict[str, Any],
    *,
    head_only: bool = False,
    allow: bool = False,
) -> None:
    payload = json.dumps(body, ensure_ascii=False, default=repr).encode() + b"\n"
    lines = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    if allow:
        lines.append("Allow: GET, HEAD")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head_only:
        writer.write(payload)
    await writer.drain()
