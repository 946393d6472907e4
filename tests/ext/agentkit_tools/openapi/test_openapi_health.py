"""Tests for the ``openapi`` plugin's health probes (agentkit_tools.openapi._health)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agentkit.plugins import PluginManager
from agentkit.reliability import HealthMonitor, HealthProbe, HealthReport
from agentkit_tools.openapi import _health, _plugin

pytestmark = pytest.mark.timeout(60)

ALLOW = "AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES"
SPECS = "AGENTKIT_OPENAPI_SPECS"


@dataclass
class CountingServer:
    """An HTTP server on 127.0.0.1 that answers 404 (or a served document) and counts requests."""

    port: int = 0
    documents: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, with_body: bool) -> None:
                server.hits.append((self.command, self.path))
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.documents.get(self.path)
                status = 200 if body is not None else 404
                body = body if body is not None else b"no such page"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread is not None:
            self.thread.join(5)

    def head_hits(self) -> list[str]:
        return [path for method, path in self.hits if method == "HEAD"]


@pytest.fixture
def server() -> Iterator[CountingServer]:
    """A counting HTTP server on a free 127.0.0.1 port."""
    counting = CountingServer()
    counting.start()
    try:
        yield counting
    finally:
        counting.stop()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without the plugin's variables (a developer's own stay out)."""
    monkeypatch.delenv(ALLOW, raising=False)
    monkeypatch.delenv(SPECS, raising=False)
    monkeypatch.delenv("AGENTKIT_BUS_URL", raising=False)


def write_spec(folder: Path, name: str, servers: list[dict[str, Any]]) -> Path:
    """An OpenAPI 3.0 spec file with *servers* and one operation."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": name, "version": "1"},
        "servers": servers,
        "paths": {"/pets": {"get": {"operationId": "listPets", "responses": {"200": {}}}}},
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


def probes(monkeypatch: pytest.MonkeyPatch, *specs: str) -> dict[str, HealthProbe]:
    """The plugin hook's probes for *specs* set in AGENTKIT_OPENAPI_SPECS, by name."""
    monkeypatch.setenv(SPECS, " ".join(specs))
    found = _plugin.agentkit_health_checks()
    assert found is not None
    return {probe.name: probe for probe in found}


async def run(probe: HealthProbe) -> HealthReport:
    """Run *probe*'s check once within its own timeout."""
    result = await asyncio.wait_for(probe.check(), probe.timeout_seconds)
    assert isinstance(result, HealthReport)
    return result


def test_no_specs_means_no_probes() -> None:
    """Without AGENTKIT_OPENAPI_SPECS the hook contributes nothing."""
    assert _plugin.agentkit_health_checks() is None


def test_short_names_are_stems_and_url_parts_made_unique() -> None:
    """A file's stem, a URL's last path part (its host without one), and -2 for a repeat."""
    names = _health.short_names(
        [
            "specs/pets.yaml",
            "/other/pets.json",
            "https://api.example.com/v2/openapi.json",
            "https://api.example.com",
            "https://x.example.com/spec",
        ]
    )
    assert names == ["pets", "pets-2", "openapi", "api.example.com", "spec"]


async def test_a_reachable_api_is_healthy_after_one_head(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With private addresses allowed, one HEAD goes to /v1; its 404 still counts as healthy."""
    monkeypatch.setenv(ALLOW, "1")
    spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    (probe,) = probes(monkeypatch, str(spec)).values()
    assert probe.name == "openapi:pets"
    assert probe.kind == "api"
    report = await run(probe)
    assert report.healthy, report
    assert server.hits == [("HEAD", "/v1")]
    assert report.details["url"] == f"{server.url}/v1"
    assert report.details["status_code"] == 404
    assert report.details["latency_ms"] >= 0
    again = await run(probe)
    assert again.healthy
    assert server.head_hits() == ["/v1", "/v1"]


async def test_server_variables_take_their_defaults(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """servers[0]'s variables are filled with their defaults, as the tools' calls do."""
    monkeypatch.setenv(ALLOW, "1")
    servers: list[dict[str, Any]] = [
        {
            "url": "http://127.0.0.1:{port}/{version}",
            "variables": {"port": {"default": str(server.port)}, "version": {"default": "v3"}},
        },
        {"url": "http://127.0.0.1:1/never"},
    ]
    spec = write_spec(tmp_path, "vars", servers)
    report = await run(probes(monkeypatch, str(spec))["openapi:vars"])
    assert report.healthy, report
    assert server.head_hits() == ["/v3"]


async def test_swagger_host_and_base_path(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Swagger 2.0 spec's host and basePath give the URL."""
    monkeypatch.setenv(ALLOW, "1")
    spec = tmp_path / "legacy.json"
    spec.write_text(
        json.dumps(
            {
                "swagger": "2.0",
                "info": {"title": "legacy", "version": "1"},
                "host": f"127.0.0.1:{server.port}",
                "basePath": "/api/v2",
                "schemes": ["http"],
                "paths": {},
            }
        )
    )
    report = await run(probes(monkeypatch, str(spec))["openapi:legacy"])
    assert report.healthy, report
    assert server.head_hits() == ["/api/v2"]


async def test_a_relative_server_lands_on_the_spec_url_without_the_allow_variable(
    server: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec read from a URL the user named: its relative server is that origin, not guarded."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "remote", "version": "1"},
        "servers": [{"url": "/v1"}],
        "paths": {},
    }
    server.documents["/specs/remote.json"] = json.dumps(document).encode()
    report = await run(probes(monkeypatch, f"{server.url}/specs/remote.json")["openapi:remote"])
    assert report.healthy, report
    assert server.hits == [("GET", "/specs/remote.json"), ("HEAD", "/v1")]
    await run(probes(monkeypatch, f"{server.url}/specs/remote.json")["openapi:remote"])
    assert server.hits.count(("GET", "/specs/remote.json")) == 2  # a new probe reads again


async def test_the_spec_is_read_once_per_probe(
    server: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base URL is remembered: later runs send only the HEAD."""
    document = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    server.documents["/openapi.yaml"] = json.dumps(document).encode()
    probe = probes(monkeypatch, f"{server.url}/openapi.yaml")["openapi:openapi"]
    for _ in range(3):
        assert (await run(probe)).healthy
    assert server.hits == [("GET", "/openapi.yaml")] + [("HEAD", "/")] * 3


async def test_a_stopped_server_is_unhealthy_with_a_connection_error(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Healthy while up; once the server is stopped the check fails with a connection error."""
    monkeypatch.setenv(ALLOW, "1")
    spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    probe = probes(monkeypatch, str(spec))["openapi:pets"]
    assert (await run(probe)).healthy
    server.stop()
    report = await run(probe)
    assert not report.healthy
    assert report.error_type in {"ConnectionRefusedError", "ConnectError"}
    assert f"{server.url}/v1" in report.message
    assert report.details["url"] == f"{server.url}/v1"


async def test_a_private_address_is_refused_without_the_allow_variable(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loopback server the spec names fails the guard: SandboxViolationError, zero requests."""
    spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    report = await run(probes(monkeypatch, str(spec))["openapi:pets"])
    assert not report.healthy
    assert report.error_type == "SandboxViolationError"
    assert f"{ALLOW}=1" in report.message
    assert server.hits == []


@pytest.mark.parametrize("value", ["0", "no", ""])
async def test_only_a_true_allow_variable_opens_the_guard(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES set to anything but 1/true/yes still refuses."""
    monkeypatch.setenv(ALLOW, value)
    spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    report = await run(probes(monkeypatch, str(spec))["openapi:pets"])
    assert report.error_type == "SandboxViolationError"
    assert server.hits == []


async def test_a_missing_spec_fails_alone(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec that does not exist is unhealthy (OpenAPIError); the other spec's probe is not."""
    monkeypatch.setenv(ALLOW, "1")
    good = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    found = probes(monkeypatch, str(tmp_path / "gone.yaml"), str(good))
    assert list(found) == ["openapi:gone", "openapi:pets"]
    missing = await run(found["openapi:gone"])
    assert not missing.healthy
    assert missing.error_type == "OpenAPIError"
    assert "gone.yaml" in missing.message
    assert (await run(found["openapi:pets"])).healthy
    assert server.head_hits() == ["/v1"]


async def test_a_spec_that_appears_later_is_read_on_the_next_run(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed read is not remembered: once the file exists, the next run is healthy."""
    monkeypatch.setenv(ALLOW, "1")
    path = tmp_path / "late.json"
    probe = probes(monkeypatch, str(path))["openapi:late"]
    assert (await run(probe)).error_type == "OpenAPIError"
    write_spec(tmp_path, "late", [{"url": f"{server.url}/v1"}])
    assert (await run(probe)).healthy
    assert server.head_hits() == ["/v1"]


async def test_a_redirect_is_an_answer_and_is_not_followed(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 302 to another server is healthy (status 302) and the other server sees nothing."""
    monkeypatch.setenv(ALLOW, "1")
    other = CountingServer()
    other.start()
    try:
        server.redirects["/v1"] = f"{other.url}/elsewhere"
        spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
        report = await run(probes(monkeypatch, str(spec))["openapi:pets"])
    finally:
        other.stop()
    assert report.healthy, report
    assert report.details["status_code"] == 302
    assert server.head_hits() == ["/v1"]
    assert other.hits == []


async def test_a_spec_without_an_absolute_server_is_not_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec file whose only server is relative has no URL to check: ToolNotConfiguredError."""
    spec = write_spec(tmp_path, "relative", [{"url": "/v1"}])
    report = await run(probes(monkeypatch, str(spec))["openapi:relative"])
    assert not report.healthy
    assert report.error_type == "ToolNotConfiguredError"


async def test_a_spec_over_the_limit_is_refused_with_the_limit_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parser's limits hold: YAML nested past max_spec_depth fails with OpenAPILimitError."""
    spec = tmp_path / "deep.yaml"
    spec.write_text("openapi: 3.0.0\nx: " + "[" * 500 + "]" * 500 + "\n")
    report = await run(probes(monkeypatch, str(spec))["openapi:deep"])
    assert not report.healthy
    assert report.error_type == "OpenAPILimitError"


async def test_a_hanging_server_is_cut_by_the_timeout_and_the_loop_runs_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts but never answers: TimeoutError, and the event loop kept ticking."""
    monkeypatch.setenv(ALLOW, "1")
    monkeypatch.setattr(_health, "HEAD_TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing is ever read
        port = silent.getsockname()[1]
        spec = write_spec(tmp_path, "silent", [{"url": f"http://127.0.0.1:{port}/v1"}])
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        try:
            report = await run(probes(monkeypatch, str(spec))["openapi:silent"])
        finally:
            ticking.cancel()
    assert not report.healthy
    assert report.error_type == "TimeoutError"
    assert ticks > 0


async def test_register_plugin_checks_picks_the_probe_up(
    server: CountingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A monitor given a PluginManager registers openapi:<name> and finds it healthy."""
    monkeypatch.setenv(ALLOW, "1")
    spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    monkeypatch.setenv(SPECS, str(spec))
    monitor = HealthMonitor(unhealthy_threshold=1, healthy_threshold=1)
    names = monitor.register_plugin_checks(PluginManager())
    assert "openapi:pets" in names
    snapshot = await monitor.check_all()
    assert snapshot["openapi:pets"].as_dict()["healthy"] is True
    assert server.head_hits() == ["/v1"]


def test_agentkit_health_json_lists_the_probe(server: CountingServer, tmp_path: Path) -> None:
    """``agentkit health --json`` in a subprocess lists openapi:pets, healthy, and exits 0."""
    spec = write_spec(tmp_path, "pets", [{"url": f"{server.url}/v1"}])
    env = {**os.environ, SPECS: str(spec), ALLOW: "1", "AGENTKIT_BUS_URL": "memory://"}
    result = subprocess.run(
        [sys.executable, "-m", "agentkit", "health", "--json", "--timeout", "10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    pets = checks["openapi:pets"]
    assert pets["kind"] == "api"
    assert pets["status"] == "healthy"
    assert pets["details"]["status_code"] == 404
    assert server.head_hits() == ["/v1"]
