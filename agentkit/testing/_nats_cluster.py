"""A real NATS cluster on loopback: several ``nats-server`` processes joined by routes."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from types import TracebackType
from typing import Self

from agentkit.testing._nats_server import NatsServer, free_port

__all__ = ["NatsCluster"]


class NatsCluster:
    """*size* ``nats-server`` nodes on 127.0.0.1 with cluster routes and clustered JetStream.

    Each node has its own client port, cluster port, monitoring port and store; every node
    routes to every other. ``start()`` waits until JetStream has a meta leader, so streams
    with ``num_replicas=size`` can be created at once. ``kill(i)`` crashes one node (its store
    is kept, ``start_node(i)`` brings it back)::

        with NatsCluster(3) as cluster:
            bus = NatsPubSub(cluster.urls, stream_replicas=3)
    """

    def __init__(self, size: int = 3, *, name: str = "agentkit-test") -> None:
        if size < 1:
            raise ValueError("a cluster needs at least one node")
        self.name = name
        self.cluster_ports = [free_port() for _ in range(size)]
        self.monitor_ports = [free_port() for _ in range(size)]
        routes = ",".join(f"nats-route://127.0.0.1:{port}" for port in self.cluster_ports)
        self.nodes: list[NatsServer] = []
        for index in range(size):
            self.nodes.append(
                NatsServer(
                    extra_args=[
                        "--server_name",
                        f"node-{index}",
                        "--cluster_name",
                        name,
                        "--cluster",
                        f"nats://127.0.0.1:{self.cluster_ports[index]}",
                        "--routes",
                        routes,
                        "-m",
                        str(self.monitor_ports[index]),
                    ]
                )
            )

    @property
    def urls(self) -> list[str]:
        """The client URL of every node, in node order."""
        return [node.url for node in self.nodes]

    def node_for(self, url: str | None) -> int:
        """The index of the node serving *url* (matched by port)."""
        for index, node in enumerate(self.nodes):
            if url is not None and url.rstrip("/").endswith(f":{node.port}"):
                return index
        raise LookupError(f"no node of this cluster serves {url!r}")

    def start(self, *, timeout: float = 30.0) -> Self:
        """Start every node and wait until JetStream is ready on all of them."""
        for node in self.nodes:
            node.start()
        self.wait_ready(timeout=timeout)
        return self

    def start_node(self, index: int, *, timeout: float = 30.0) -> None:
        """Start node *index* again (same ports, same store)."""
        self.nodes[index].start()
        self.wait_ready(timeout=timeout)

    def kill(self, index: int) -> None:
        """Crash node *index* (SIGKILL)."""
        self.nodes[index].kill()

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        """Wait until every running node reports a healthy JetStream with a meta leader."""
        deadline = time.monotonic() + timeout
        for index, node in enumerate(self.nodes):
            if node.process is None:
                continue
            while not self._ready(index):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"NATS node {index} was not ready in {timeout} s")
                time.sleep(0.1)

    def _ready(self, index: int) -> bool:
        base = f"http://127.0.0.1:{self.monitor_ports[index]}"
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status != 200:
                    return False
            with urllib.request.urlopen(f"{base}/jsz", timeout=1) as response:  # noqa: S310
                info = json.load(response)
            return bool((info.get("meta_cluster") or {}).get("leader"))
        return False

    def cleanup(self) -> None:
        """Stop every node and delete their stores."""
        for node in self.nodes:
            node.cleanup()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
