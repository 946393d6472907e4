"""The outbound-HTTP guard: resolve first, refuse non-public addresses, pin what was checked.

Every web tool goes through :func:`guarded_request`. For each hop (the first URL and every
redirect target) it resolves the host itself, refuses the request when any address is private,
loopback, link-local, multicast, reserved, unspecified or otherwise not global (IPv6 forms that
embed an IPv4 address — mapped, compatible, NAT64, 6to4, Teredo — are judged by that address;
the local-use NAT64 prefix ``64:ff9b:1::/48`` is always refused) — before a socket is opened —
and then connects to the checked address itself (the Host header and TLS SNI keep the name),
so a DNS answer that changes between the check and the connection (DNS rebinding) cannot
redirect the request.
``ToolsConfig.allow_private_addresses`` switches the address check off; ``allowed_hosts``
narrows the hosts further. Proxies from the environment are ignored, since a proxy would
connect on our behalf to an address we never checked.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import ipaddress
import socket
import ssl
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from agentkit.exceptions import SandboxViolationError

if TYPE_CHECKING:
    from agentkit_tools.builtin._config import ToolsConfig

__all__ = [
    "GuardedResponse",
    "check_address",
    "embedded_ipv4",
    "guarded_request",
    "is_public",
    "read_capped",
    "resolve_checked_sync",
    "resolve_pinned",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


#: NAT64 prefixes (RFC 6052, RFC 8215). The well-known one carries the IPv4 address in its
#: last 32 bits; the local-use one is the operator's own network and is never public.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
#: IPv4-compatible (``::a.b.c.d``, deprecated) and SIIT IPv4-translated (``::ffff:0:a.b.c.d``).
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address stands for, or None when it embeds none.

    IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64 (``64:ff9b::/96``) and 6to4 give one
    address; Teredo gives its server and its client.
    """
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address.teredo is not None:
        return address.teredo
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address in _NAT64_WELL_KNOWN or address in _IPV4_COMPATIBLE or address in _IPV4_TRANSLATED:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether *address* is a global unicast address, judging IPv6 forms by the IPv4 inside."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL_USE:
            return False
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return all(is_public(inner) for inner in embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_link_local
        or address.is_loopback
        or address.is_unspecified
        or address.is_private
    )


def check_address(address: str, *, allow_private: bool) -> IPAddress:
    """Parse *address* and refuse it unless it is a public unicast address (or allowed).

    IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
    judged by the IPv4 address they stand for.

    Raises:
        SandboxViolationError: a non-public address while private ones are not allowed.
        ValueError: *address* is not an IP address.
    """
    parsed = ipaddress.ip_address(address.split("%", 1)[0])
    if allow_private or is_public(parsed):
        return parsed
    raise SandboxViolationError(
        f"address {address} is not a public address (private, loopback, link-local, "
        "multicast or reserved, or an IPv6 form embedding one); set "
        "ToolsConfig(allow_private_addresses=True) to allow it"
    )


def resolve_checked_sync(
    host: str,
    port: int,
    *,
    allow_private: bool,
    resolver: Callable[[str], Sequence[str]] | None = None,
    check: bool = True,
) -> str:
    """Resolve *host* (blocking) and return the address to connect to, every answer checked.

    For synchronous callers (reading an OpenAPI spec). ``check=False`` only resolves: the
    address is still pinned, so a later answer cannot differ from the one used.

    Raises:
        SandboxViolationError: an answer is not a public address (and *allow_private* is off).
        ConnectionError: the host does not resolve.
    """
    bare = host.strip("[]").split("%", 1)[0]
    try:
        addresses = [str(ipaddress.ip_address(bare))]
    except ValueError:
        if resolver is not None:
            addresses = [str(address) for address in resolver(host)]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise ConnectionError(f"cannot resolve host {host!r}: {exc}") from exc
            addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise ConnectionError(f"host {host!r} resolved to no address")
    if check:
        for address in addresses:
            check_address(address, allow_private=allow_private)
    return addresses[0]


def _host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    if not allowed_hosts:
        return True
    for entry in allowed_hosts:
        if host == entry or (entry.startswith(".") and (host.endswith(entry) or host == entry[1:])):
            return True
    return False


async def _resolve(host: str, port: int, config: ToolsConfig) -> list[str]:
    if config.resolver is not None:
        return list(config.resolver(host))
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve host {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


async def resolve_pinned(url: str, config: ToolsConfig) -> tuple[Any, str]:
    """Check *url* and return ``(httpx.URL, address)``: the address to connect to.

    Raises:
        ValueError: not an absolute http(s) URL.
        SandboxViolationError: the host is not allowed or resolves to a refused address.
        ConnectionError: the host does not resolve.
    """
    parsed = _plain_url(url)
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise ValueError(f"URL {url!r} has no host")
    if not _host_allowed(host, config.allowed_hosts):
        raise SandboxViolationError(f"host {host!r} is not in ToolsConfig.allowed_hosts")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        literal = None
    addresses = [host] if literal is not None else await _resolve(host, port, config)
    if not addresses:
        raise ConnectionError(f"host {host!r} resolved to no address")
    # Every answer is checked, not just the one used: a mixed answer is an attack signal.
    checked = [
        check_address(address, allow_private=config.allow_private_addresses)
        for address in addresses
    ]
    return parsed, str(checked[0])


@dataclass(frozen=True, slots=True)
class GuardedResponse:
    """A fully read, size-capped response; ``url`` is the final URL after redirects."""

    url: str
    status_code: int
    headers: dict[str, str]
    content: bytes
    charset: str | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        """The body decoded with its declared charset, else UTF-8 (bad bytes replaced)."""
        try:
            return self.content.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


#: What the first httpx request imports (httpx itself, then httpcore's backend lazily).
_HTTP_STACK = ("httpx", "h11", "anyio._backends._asyncio", "anyio.streams.tls")


def _import_http_stack() -> None:
    for name in _HTTP_STACK:
        importlib.import_module(name)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every web request.

    Building one reads the whole CA bundle (about 50 ms, in C, holding the GIL): built once,
    off the event loop, instead of by every ``httpx.AsyncClient``.
    """
    import httpx

    return httpx.create_ssl_context()


async def guarded_request(
    config: ToolsConfig,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    follow_redirects: bool = True,
    max_bytes: int | None = None,
    params: dict[str, str] | None = None,
    guard: bool = True,
) -> GuardedResponse:
    """Send one request through the guard, following (and re-checking) redirects.

    ``guard=False`` is for provider URLs the user configured on purpose (translation, search):
    they are used as given, still with the timeout and the size cap.

    Raises:
        SandboxViolationError: a refused host or address (nothing was sent).
        ValueError: a bad URL, or a body over the size cap.
        TimeoutError: the server did not answer in ``config.http_timeout``.
        ConnectionError: the request failed or there were too many redirects.
    """
    if not all(name in sys.modules for name in _HTTP_STACK):
        # httpx and what its first request imports lazily take 0.1-0.2 s of module code: in a
        # thread the loop keeps its turns (the GIL changes hands between bytecodes), where
        # importing here would stall it.
        await asyncio.to_thread(_import_http_stack)
    import httpx

    limit = (
        config.max_response_bytes
        if max_bytes is None
        else min(max_bytes, config.max_response_bytes)
    )
    redirects: list[str] = []
    current = url
    async with httpx.AsyncClient(
        transport=config.http_transport,
        timeout=httpx.Timeout(config.http_timeout),
        follow_redirects=False,
        trust_env=False,
        verify=await asyncio.to_thread(_ssl_context),
    ) as client:
        for _hop in range(config.max_redirects + 1):
            request_headers = {"User-Agent": config.user_agent, **(headers or {})}
            extensions: dict[str, Any] = {}
            if guard:
                parsed, address = await resolve_pinned(current, config)
                request_headers["Host"] = parsed.netloc.decode("ascii")
                if parsed.scheme == "https":
                    extensions["sni_hostname"] = parsed.host
                target = parsed.copy_with(host=address)
            else:
                target = _plain_url(current)
            request = client.build_request(
                method,
                target,
                headers=request_headers,
                json=json_body,
                params=params,
                extensions=extensions,
            )
            params = None  # a redirect's Location already carries its query
            try:
                response = await client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise TimeoutError(f"{method} {current} timed out: {exc}") from exc
            except httpx.HTTPError as exc:
                raise ConnectionError(f"{method} {current} failed: {exc}") from exc
            except (httpx.InvalidURL, ValueError) as exc:  # httpx parses Location eagerly
                raise ConnectionError(f"{method} {current} gave a bad redirect: {exc}") from exc
            try:
                location = response.headers.get("location")
                if follow_redirects and response.status_code in _REDIRECTS and location:
                    try:
                        current = urljoin(current, location)
                    except ValueError as exc:
                        raise ConnectionError(f"{method} {current} gave a bad redirect") from exc
                    redirects.append(current)
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, json_body = "GET", None
                    continue
                body = b"" if method == "HEAD" else await read_capped(response, limit, current)
            finally:
                await response.aclose()
            return GuardedResponse(
                url=current,
                status_code=response.status_code,
                headers={key.lower(): value for key, value in response.headers.items()},
                content=body,
                charset=response.charset_encoding,
                redirects=redirects,
            )
    raise ConnectionError(f"more than {config.max_redirects} redirects starting at {url}")


def _plain_url(url: str) -> Any:
    """*url* as an ``httpx.URL``; ValueError unless it parses and is http(s)."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"invalid URL {url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"only http and https URLs are allowed, got {url!r}")
    return parsed


async def read_capped(response: Any, limit: int, url: str) -> bytes:
    import httpx

    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ValueError(f"response from {url} is {declared} bytes, over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ValueError(f"response from {url} is over the {limit}-byte limit")
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise TimeoutError(f"reading {url} timed out: {exc}") from exc
    except httpx.HTTPError as exc:
        raise ConnectionError(f"reading {url} failed: {exc}") from exc
    return b"".join(chunks)
