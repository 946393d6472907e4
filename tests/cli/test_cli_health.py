"""Tests for ``agentkit health`` (agentkit.cli._health)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agentkit.cli._main import main
from agentkit.testing import NatsServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _no_bus_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's AGENTKIT_BUS_URL out of these tests."""
    monkeypatch.delenv("AGENTKIT_BUS_URL", raising=False)


@pytest.fixture
def own_nats() -> Iterator[NatsServer]:
    """A nats-server of this test's own, which it may kill and restart on the same port."""
    with NatsServer(jetstream=False) as server:
        yield server


def health_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Run ``agentkit health --json *args``; return the exit code and the parsed output."""
    code = main(["health", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_health_on_the_default_bus_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --bus the in-memory bus is checked: one healthy row, exit 0."""
    assert main(["health"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "LATENCY", "REASON"]
    assert lines[1].split()[:3] == ["bus", "bus", "healthy"]
    assert "InMemoryPubSub open" in lines[1]


def test_health_json_gives_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the verdict and, per check, name, status, reason and latency."""
    code, report = health_json(capsys, "--bus", "memory://")
    assert code == 0
    assert report["healthy"] is True
    (check,) = report["checks"]
    assert check["name"] == "bus"
    assert check["status"] == "healthy"
    assert check["reason"] == "InMemoryPubSub open"
    assert check["latency_ms"] >= 0


def test_a_url_nobody_handles_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A bus URL no backend takes exits 2 with one line on stderr."""
    assert main(["health", "--bus", "nope://x"]) == 2
    assert "no bus backend handles" in capsys.readouterr().err


def test_a_bad_timeout_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--timeout 0 exits 2."""
    assert main(["health", "--timeout", "0"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_health_follows_a_nats_server_that_dies_and_comes_back(
    own_nats: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Up: exit 0 and connected; killed: exit 1 with a typed reason; restarted: exit 0 again."""
    url = own_nats.url
    code, report = health_json(capsys, "--bus", url, "--timeout", "2")
    assert code == 0, report
    (check,) = report["checks"]
    assert check["reason"] == f"connected to NATS at 127.0.0.1:{own_nats.port}"
    own_nats.kill()
    code, report = health_json(capsys, "--bus", url, "--timeout", "1")
    assert code == 1
    (check,) = report["checks"]
    assert check["status"] == "unhealthy"
    assert check["error_type"] in {"TimeoutError", "ConnectionLostError"}
    assert url in check["reason"]
    own_nats.start()
    code, report = health_json(capsys, "--bus", url, "--timeout", "2")
    assert code == 0, report
