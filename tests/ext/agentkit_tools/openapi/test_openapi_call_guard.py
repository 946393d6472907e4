"""Where an imported operation may call: origins the user chose, or public addresses only.

The spec's URL and ``base_url`` are the user's choice and are called as they are; a server the
spec names elsewhere, and any redirect away from a chosen origin, passes the private-address
guard. A second loopback server stands in for an internal service and must get no hits;
non-loopback addresses are only ever seen by a transport that records and never connects.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_server import LoopbackOnlyTransport, Route, SpecServer, serving

from agentkit import ToolRegistry
from agentkit_tools import OpenAPIParser

pytestmark = pytest.mark.timeout(120)

SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=20)
ANSWER = Route(body=b'{"ok": true}', headers={"Content-Type": "application/json"})


def spec_calling(server: str | None) -> dict[str, Any]:
    """A spec with one GET operation 'ping' at /ping, on *server* (None: no servers)."""
    operation = {"operationId": "ping", "responses": {"200": {"description": "ok"}}}
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/ping": {"get": operation}},
    }
    if server is not None:
        spec["servers"] = [{"url": server}]
    return spec


@pytest.fixture(scope="module")
def api() -> Iterator[SpecServer]:
    """The server the user imports specs from; it also answers calls."""
    with serving({"/ping": ANSWER}) as server:
        yield server


@pytest.fixture(scope="module")
def internal() -> Iterator[SpecServer]:
    """A second loopback server standing in for an internal service."""
    with serving({"/ping": ANSWER}) as server:
        yield server


def serve_spec(api: SpecServer, spec: dict[str, Any]) -> str:
    """Serve *spec* at a fresh path of *api* and return its URL."""
    name = f"/spec{len(api.routes)}.json"
    api.routes[name] = Route(body=json.dumps(spec).encode())
    return api.url + name


async def call(spec: Any, **options: Any) -> Any:
    """Import *spec* and call 'ping'; the ToolResult."""
    parser = OpenAPIParser(**options)
    registry = ToolRegistry()
    parser.register_tools_from_spec(spec, registry)
    try:
        return await registry.execute_tool("ping", {})
    finally:
        await parser.aclose()


async def test_the_spec_origin_and_base_url_are_called_as_they_are(
    api: SpecServer, internal: SpecServer
) -> None:
    """A relative server on the spec's own origin, or a base_url, needs no switch."""
    result = await call(serve_spec(api, spec_calling("/")))
    assert result.success, result.error
    result = await call(spec_calling(None), base_url=internal.url)
    assert result.success, result.error
    assert internal.hits[-1] == "/ping"


async def test_a_server_the_spec_names_elsewhere_must_be_public(
    api: SpecServer, internal: SpecServer
) -> None:
    """A spec that sends calls to an internal service is refused before anything is sent."""
    before = len(internal.hits)
    for spec in (serve_spec(api, spec_calling(internal.url)), spec_calling(internal.url)):
        result = await call(spec)
        assert not result.success
        assert "base_url" in (result.error or "")
        assert "not a public address" in (result.error or "")
    assert len(internal.hits) == before
    result = await call(spec_calling(internal.url), allow_private_addresses=True)
    assert result.success, result.error


@pytest.mark.parametrize(("value", "allowed"), [("1", True), ("true", True), ("0", False)])
async def test_the_operator_variable_sets_the_default_for_private_addresses(
    internal: SpecServer, monkeypatch: pytest.MonkeyPatch, value: str, allowed: bool
) -> None:
    """The operator variable lets spec-named private servers through; an explicit False wins."""
    monkeypatch.setenv("AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES", value)
    before = len(internal.hits)
    result = await call(spec_calling(internal.url))
    assert result.success is allowed, result.error
    assert len(internal.hits) == before + (1 if allowed else 0)
    refused = await call(spec_calling(internal.url), allow_private_addresses=False)
    assert not refused.success
    assert len(internal.hits) == before + (1 if allowed else 0)


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "[::ffff:169.254.169.254]", "[64:ff9b::a9fe:a9fe]", "meta.test"]
)
async def test_the_metadata_address_is_never_called(api: SpecServer, host: str) -> None:
    """A spec naming the metadata address (any form, or a name for it) sends nothing there."""
    transport = LoopbackOnlyTransport()
    spec = serve_spec(api, spec_calling(f"http://{host}/latest"))
    result = await call(spec, transport=transport, resolver=lambda name: ["169.254.169.254"])
    assert not result.success
    assert "not a public address" in (result.error or "")
    assert transport.elsewhere == []


async def test_a_redirect_from_a_chosen_origin_is_checked(
    api: SpecServer, internal: SpecServer
) -> None:
    """The user's API redirecting a call to an internal service is refused; nothing is sent."""
    before = len(internal.hits)
    api.routes["/moved"] = Route(status=307, headers={"Location": internal.url + "/ping"})
    result = await call(spec_calling(None), base_url=api.url + "/moved?x=")
    # base_url + "/ping" gives /moved?x=/ping: the API answers with a redirect.
    assert not result.success
    assert "not a public address" in (result.error or "")
    assert len(internal.hits) == before


async def test_credentials_do_not_follow_a_redirect_to_another_origin(
    api: SpecServer, internal: SpecServer
) -> None:
    """Authorization and cookies stay behind when an allowed redirect leaves the origin."""
    api.routes["/hop"] = Route(status=302, headers={"Location": internal.url + "/ping"})
    result = await call(
        spec_calling(None),
        base_url=api.url + "/hop?x=",
        headers={"Authorization": "Bearer secret", "Cookie": "session=secret", "X-Trace": "1"},
        allow_private_addresses=True,
    )
    assert result.success, result.error
    seen = internal.headers[-1]
    assert "authorization" not in seen
    assert "cookie" not in seen
    assert seen["x-trace"] == "1"


private_v4 = (
    st.ip_addresses(network="10.0.0.0/8")
    | st.ip_addresses(network="127.0.0.0/8")
    | st.ip_addresses(network="169.254.0.0/16")
    | st.ip_addresses(network="192.168.0.0/16")
)


@SHARED
@given(v4=private_v4, form=st.integers(0, 3), redirect=st.booleans())
async def test_generated_private_targets_are_never_called(
    api: SpecServer, v4: ipaddress.IPv4Address, form: int, redirect: bool
) -> None:
    """A private address in any form, as a server or a redirect target, is refused unsent."""
    host = [str(v4), f"[::ffff:{v4}]", f"[::{v4}]", f"[64:ff9b::{v4}]"][form]
    transport = LoopbackOnlyTransport()
    if redirect:
        api.routes["/gen"] = Route(status=302, headers={"Location": f"http://{host}/ping"})
        result = await call(spec_calling(None), base_url=api.url + "/gen?x=", transport=transport)
    else:
        result = await call(serve_spec(api, spec_calling(f"http://{host}")), transport=transport)
    assert not result.success
    assert "not a public address" in (result.error or "")
    assert transport.elsewhere == []


@pytest.mark.parametrize("location", ["http://[::1", "http://xn--/", "data:text/plain,x"])
async def test_a_bad_redirect_fails_the_call(api: SpecServer, location: str) -> None:
    """A Location that is not a usable URL fails the call with a typed error, nothing else."""
    api.routes["/bad"] = Route(status=302, headers={"Location": location})
    result = await call(spec_calling(None), base_url=api.url + "/bad?x=")
    assert not result.success
    assert result.error_type in ("ConnectionError", "ValueError")
