"""The outbound-HTTP guard: refusals happen before any request exists, so no packet leaves.

Every refusal test hands the tools an httpx transport that fails the test if a request ever
reaches it; hosts that need resolving use a fake resolver (or 'localhost', from /etc/hosts).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import SandboxViolationError
from agentkit_tools._netguard import check_address, embedded_ipv4, resolve_checked_sync

PUBLIC = "93.184.216.34"  # only ever handed to a mock transport, never connected to


def refusing_transport() -> httpx.MockTransport:
    """A transport that fails the test when any request reaches it."""

    def handler(request: httpx.Request) -> httpx.Response:
        pytest.fail(f"a request reached the network layer: {request.method} {request.url}")

    return httpx.MockTransport(handler)


def fake_resolver(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """A resolver answering from *table*; unknown names fail the test."""

    def resolve(host: str) -> list[str]:
        if host not in table:
            pytest.fail(f"unexpected resolution of {host!r}")
        return table[host]

    return resolve


@pytest.fixture
def guarded(make_caller: Any) -> Any:
    """Web tools with the default guard, a refusing transport and a fake resolver."""
    return make_caller(
        http_transport=refusing_transport(),
        resolver=fake_resolver(
            {
                "internal.example.com": ["10.1.2.3"],
                "mixed.example.com": [PUBLIC, "10.0.0.7"],
                "metadata.example.com": ["::ffff:169.254.169.254"],
                "nat64.example.com": ["64:ff9b::169.254.169.254"],
            }
        ),
    )


BLOCKED_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://127.0.0.1:8080/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://[fe80::1]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::808:808]/",
    "http://[::a9fe:a9fe]/",
    "http://[::127.0.0.1]/",
    "http://[::ffff:0:a00:1]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://internal.example.com/",
    "http://mixed.example.com/",
    "http://nat64.example.com/",
    "http://metadata.example.com/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
async def test_private_addresses_are_refused_before_any_request(guarded: Any, url: str) -> None:
    """web_fetch refuses private, loopback, link-local, mapped and resolving-to-private hosts."""
    with pytest.raises(SandboxViolationError, match="not a public address"):
        await guarded("web_fetch", url=url)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("web_fetch_json", {}),
        ("web_post_json", {"body": {"a": 1}}),
        ("web_check_status", {}),
        ("web_scrape", {}),
        ("web_extract_links", {}),
        ("web_extract_metadata", {}),
        ("web_download", {"path": "meta.txt"}),
        ("web_robots_check", {}),
    ],
)
async def test_every_web_tool_is_guarded(guarded: Any, name: str, extra: dict[str, Any]) -> None:
    """Each tool that takes a URL refuses the cloud metadata address."""
    with pytest.raises(SandboxViolationError):
        await guarded(name, url="http://169.254.169.254/latest/meta-data/", **extra)


async def test_localhost_name_is_refused(make_caller: Any) -> None:
    """'localhost' resolves (from the hosts file) to loopback and is refused."""
    call = make_caller(http_transport=refusing_transport())
    with pytest.raises(SandboxViolationError):
        await call("web_fetch", url="http://localhost:9/")


async def test_redirect_to_a_private_address_is_refused(make_caller: Any) -> None:
    """A public page redirecting to the metadata address is stopped at the second hop."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if seen:
            pytest.fail(f"the redirect target was requested: {request.url}")
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})

    call = make_caller(
        http_transport=httpx.MockTransport(handler),
        resolver=fake_resolver({"public.example.com": [PUBLIC]}),
    )
    with pytest.raises(SandboxViolationError):
        await call("web_fetch", url="http://public.example.com/start")
    assert len(seen) == 1


async def test_connection_is_pinned_to_the_checked_address(make_caller: Any) -> None:
    """The request goes to the address that was checked, with the name in Host (no rebinding)."""
    answers = iter([[PUBLIC], ["127.0.0.1"]])
    resolutions: list[str] = []

    def resolver(host: str) -> list[str]:
        resolutions.append(host)
        return next(answers)

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    call = make_caller(http_transport=httpx.MockTransport(handler), resolver=resolver)
    result = await call("web_fetch", url="http://rebind.example.com:8080/path?q=1")
    assert result["text"] == "ok"
    assert resolutions == ["rebind.example.com"]
    assert seen[0].url.host == PUBLIC
    assert seen[0].url.port == 8080
    assert seen[0].headers["host"] == "rebind.example.com:8080"
    assert result["url"] == "http://rebind.example.com:8080/path?q=1"


async def test_https_keeps_the_name_for_tls(make_caller: Any) -> None:
    """An https request to a pinned address carries the host name as the TLS SNI name."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    call = make_caller(
        http_transport=httpx.MockTransport(handler),
        resolver=fake_resolver({"secure.example.com": [PUBLIC]}),
    )
    await call("web_fetch", url="https://secure.example.com/")
    assert seen[0].extensions["sni_hostname"] == "secure.example.com"


async def test_allowed_hosts_narrow_the_reachable_hosts(make_caller: Any) -> None:
    """With allowed_hosts set, other hosts are refused before resolution."""
    call = make_caller(
        http_transport=refusing_transport(),
        allowed_hosts=(".example.org",),
        resolver=fake_resolver({}),
    )
    with pytest.raises(SandboxViolationError, match="allowed_hosts"):
        await call("web_fetch", url="http://example.com/")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "http:///nohost"]
)
async def test_non_http_urls_are_refused(guarded: Any, url: str) -> None:
    """Only absolute http and https URLs are accepted."""
    with pytest.raises(ValueError, match=r"http|host|URL"):
        await guarded("web_fetch", url=url)


@given(
    st.ip_addresses(network="10.0.0.0/8")
    | st.ip_addresses(network="127.0.0.0/8")
    | st.ip_addresses(network="169.254.0.0/16")
    | st.ip_addresses(network="fc00::/7")
)
def test_private_ranges_are_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    """Every address in private, loopback, link-local and ULA ranges is refused."""
    with pytest.raises(SandboxViolationError):
        check_address(str(address), allow_private=False)
    if isinstance(address, ipaddress.IPv4Address):
        with pytest.raises(SandboxViolationError):
            check_address(f"::ffff:{address}", allow_private=False)


NON_PUBLIC_V4 = (
    st.ip_addresses(network="0.0.0.0/8")
    | st.ip_addresses(network="10.0.0.0/8")
    | st.ip_addresses(network="100.64.0.0/10")
    | st.ip_addresses(network="127.0.0.0/8")
    | st.ip_addresses(network="169.254.0.0/16")
    | st.ip_addresses(network="172.16.0.0/12")
    | st.ip_addresses(network="192.168.0.0/16")
    | st.ip_addresses(network="198.18.0.0/15")
    | st.ip_addresses(network="224.0.0.0/4")
    | st.ip_addresses(network="240.0.0.0/4")
)
PUBLIC_V4 = st.ip_addresses(v=4).filter(
    lambda address: address.is_global and not address.is_multicast and not address.is_reserved
)


def embeddings(v4: ipaddress.IPv4Address) -> dict[str, str]:
    """*v4* written in every IPv6 form that stands for an IPv4 address."""
    value = int(v4)
    teredo_client = value ^ 0xFFFFFFFF  # Teredo stores the client address inverted
    return {
        "mapped": f"::ffff:{v4}",
        "compatible": f"::{v4}",
        "translated": f"::ffff:0:{v4}",
        "nat64": f"64:ff9b::{v4}",
        "6to4": str(ipaddress.IPv6Address((0x2002 << 112) | (value << 80) | 1)),
        "teredo-client": str(
            ipaddress.IPv6Address(
                (0x20010000 << 96) | (int(PUBLIC_TEREDO_SERVER) << 64) | teredo_client
            )
        ),
        "teredo-server": str(
            ipaddress.IPv6Address(
                (0x20010000 << 96)
                | (value << 64)
                | (int(ipaddress.IPv4Address(PUBLIC)) ^ 0xFFFFFFFF)
            )
        ),
    }


PUBLIC_TEREDO_SERVER = ipaddress.IPv4Address("65.54.227.120")


@given(NON_PUBLIC_V4)
def test_every_ipv6_form_of_a_non_public_ipv4_is_refused(v4: ipaddress.IPv4Address) -> None:
    """A non-public IPv4 address is refused in every IPv6 form that embeds it."""
    for form, address in embeddings(v4).items():
        assert v4 in (embedded_ipv4(ipaddress.IPv6Address(address)) or ()), form
        with pytest.raises(SandboxViolationError):
            check_address(address, allow_private=False)


@given(PUBLIC_V4)
def test_every_ipv6_form_of_a_public_ipv4_is_allowed(v4: ipaddress.IPv4Address) -> None:
    """A public IPv4 address passes in every IPv6 form that embeds it, judged by that address."""
    for address in embeddings(v4).values():
        assert check_address(address, allow_private=False) == ipaddress.ip_address(address)


@given(st.ip_addresses(network="64:ff9b:1::/48"))
def test_local_use_nat64_is_always_refused(address: ipaddress.IPv6Address) -> None:
    """The local-use NAT64 prefix leads into the operator's own network: always refused."""
    with pytest.raises(SandboxViolationError):
        check_address(str(address), allow_private=False)


@given(NON_PUBLIC_V4, st.sampled_from(["mapped", "compatible", "nat64", "6to4", "teredo-client"]))
def test_a_resolver_answering_an_embedded_private_address_is_refused(
    v4: ipaddress.IPv4Address, form: str
) -> None:
    """A host name whose answer embeds a non-public IPv4 address is refused after resolving."""
    answers: list[str] = []

    def resolve(host: str) -> list[str]:
        answers.append(host)
        return [embeddings(v4)[form]]

    with pytest.raises(SandboxViolationError):
        resolve_checked_sync("service.example.com", 80, allow_private=False, resolver=resolve)
    assert answers == ["service.example.com"]


def test_public_and_allowed_addresses_pass() -> None:
    """A public address passes; any address passes when private ones are allowed."""
    assert str(check_address(PUBLIC, allow_private=False)) == PUBLIC
    assert str(check_address("10.0.0.1", allow_private=True)) == "10.0.0.1"


@pytest.mark.timeout(30)
async def test_response_size_cap(make_caller: Any, local_server: Any) -> None:
    """A body over max_response_bytes fails the call (loopback explicitly allowed)."""
    local_server.route("/big", body=b"x" * 5000, content_type="text/plain")
    call = make_caller(allow_private_addresses=True, max_response_bytes=1000)
    with pytest.raises(ValueError, match="1000-byte limit"):
        await call("web_fetch", url=local_server.url + "/big")


@pytest.mark.timeout(30)
async def test_slow_server_times_out(make_caller: Any, local_server: Any) -> None:
    """A server slower than http_timeout gives a TimeoutError."""

    def slow(_request: Any) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {}, b"late"

    local_server.routes["/slow"] = slow
    call = make_caller(allow_private_addresses=True, http_timeout=0.2)
    with pytest.raises(TimeoutError, match="timed out"):
        await call("web_fetch", url=local_server.url + "/slow")


@pytest.mark.timeout(30)
async def test_too_many_redirects(make_caller: Any, local_server: Any) -> None:
    """A redirect loop stops after max_redirects with a ConnectionError."""
    local_server.route("/loop", status=302, headers={"Location": "/loop"})
    call = make_caller(allow_private_addresses=True, max_redirects=3)
    with pytest.raises(ConnectionError, match="more than 3 redirects"):
        await call("web_fetch", url=local_server.url + "/loop")
    assert len(local_server.requests) == 4


async def test_the_refusing_transport_would_catch_a_request(make_caller: Any) -> None:
    """With the guard off, the same transport fails the test: the refusals above are real."""
    call = make_caller(http_transport=refusing_transport(), allow_private_addresses=True)
    with pytest.raises(pytest.fail.Exception, match="reached the network layer"):
        await call("web_fetch", url="http://10.0.0.1/")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "location", ["http://[::1", "http://xn--/", "data:text/plain,x", "http://a:99999/"]
)
async def test_a_bad_redirect_is_a_connection_error(
    make_caller: Any, local_server: Any, location: str
) -> None:
    """A Location that is not a usable URL fails the request with ConnectionError or ValueError."""
    local_server.route("/bad", status=302, headers={"Location": location})
    call = make_caller(allow_private_addresses=True)
    with pytest.raises((ConnectionError, ValueError)):
        await call("web_fetch", url=local_server.url + "/bad")
