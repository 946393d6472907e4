"""Calling an operation: arguments to an HTTP request (styles, bodies, auth), answer to output.

Where a call may go: an origin the user chose (``base_url``, or the URL the spec was read from)
is used as it is; any other — an absolute server URL the spec names, or where a redirect leads
— must pass the private-address guard of the web tools (resolved first, loopback, private,
link-local and their IPv6 forms refused, the connection pinned to the checked address) unless
``allow_private_addresses`` is set. Redirects are followed by hand, each hop checked again.

A 2xx answer gives its body (parsed JSON, else text; ``None`` when empty). Any other status
raises :class:`~agentkit.exceptions.APIResponseError` carrying the status and the body, so the
registry reports ``success=False``, ``error_type="APIResponseError"`` and a message
``"GET http://.../pets/7 returned HTTP 404: {...body...}"``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import quote, urlencode, urljoin

from agentkit.exceptions import SandboxViolationError, ToolNotConfiguredError
from agentkit_tools.openapi._errors import APIResponseError
from agentkit_tools.openapi._ops import Binding, Body, Operation

__all__ = [
    "CallGuard",
    "CallSettings",
    "RequestParts",
    "build_request",
    "decode_body",
    "origin_of",
    "send",
]

_FORM: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"
_DELIMITERS: Final = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}
#: Characters sent as they are in a cookie value (RFC 6265 cookie-octet, minus '%').
_COOKIE_SAFE: Final = "!#$&'()*+-./:<=>?@[]^_`{|}~"
#: The longest body quoted in an error message.
_ERROR_BODY_CHARS: Final = 2000
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
#: Headers not carried to another origin by a redirect (httpx's own rule when it follows).
_CREDENTIAL_HEADERS: Final = frozenset({"authorization", "cookie", "proxy-authorization"})

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an absolute http(s) URL, else None."""
    import httpx

    try:
        parsed = httpx.URL(url)
        host = parsed.host.lower().rstrip(".")
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not host:
        return None
    return parsed.scheme, host, parsed.port or (443 if parsed.scheme == "https" else 80)


@dataclass(frozen=True, slots=True)
class CallGuard:
    """Which call targets pass unchecked (origins the user chose) and how others are checked.

    The attribute names match ``ToolsConfig``'s, so the web tools' guard reads it directly.
    """

    trusted: frozenset[Origin] = frozenset()
    allow_private_addresses: bool = False
    resolver: Callable[[str], Sequence[str]] | None = None
    allowed_hosts: tuple[str, ...] = ()
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class CallSettings:
    """Per-spec settings for every call: base URL, extra headers, credentials, the guard."""

    base_url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, Any] = field(default_factory=dict)
    schemes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    max_bytes: int = 10 * 1024 * 1024
    guard: CallGuard = field(default_factory=CallGuard)


@dataclass(slots=True)
class RequestParts:
    """Everything httpx needs for one request."""

    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    content: bytes | None = None
    files: list[tuple[str, tuple[str | None, bytes, str | None]]] | None = None


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def query_pairs(name: str, value: Any, style: str, explode: bool) -> list[tuple[str, str]]:
    """*value* as query pairs in the OpenAPI *style* (form, deepObject, delimited)."""
    if style == "deepObject" and isinstance(value, Mapping):
        return _deep(name, value)
    if isinstance(value, list):
        if style in _DELIMITERS and not explode:
            return [(name, _DELIMITERS[style].join(_text(item) for item in value))]
        if explode:
            return [(name, _text(item)) for item in value]
        return [(name, ",".join(_text(item) for item in value))]
    if isinstance(value, Mapping):
        if explode:
            return [(str(key), _text(item)) for key, item in value.items()]
        return [(name, ",".join(f"{key},{_text(item)}" for key, item in value.items()))]
    return [(name, _text(value))]


def _deep(name: str, value: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        inner = f"{name}[{key}]"
        if isinstance(item, Mapping):
            pairs.extend(_deep(inner, item))
        elif isinstance(item, list):
            pairs.extend((inner, _text(element)) for element in item)
        else:
            pairs.append((inner, _text(item)))
    return pairs


def path_value(name: str, value: Any, style: str, explode: bool) -> str:
    """*value* for a path template, escaped, in the simple, label or matrix style."""

    def atom(item: Any) -> str:
        return quote(_text(item), safe="")

    if isinstance(value, list):
        atoms = [atom(item) for item in value]
        if style == "label":
            return "." + ("." if explode else ",").join(atoms)
        if style == "matrix":
            if explode:
                return "".join(f";{name}={item}" for item in atoms)
            return f";{name}=" + ",".join(atoms)
        return ",".join(atoms)
    if isinstance(value, Mapping):
        items = [(quote(str(key), safe=""), atom(item)) for key, item in value.items()]
        joined = (
            ",".join(f"{key}={item}" for key, item in items)
            if explode
            else ",".join(f"{key},{item}" for key, item in items)
        )
        if style == "label":
            return "." + (joined.replace(",", ".") if explode else joined)
        if style == "matrix":
            if explode:
                return "".join(f";{key}={item}" for key, item in items)
            return f";{name}={joined}"
        return joined
    if style == "label":
        return "." + atom(value)
    if style == "matrix":
        return f";{name}={atom(value)}"
    return atom(value)


def _header_value(value: Any, explode: bool) -> str:
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, Mapping):
        if explode:
            return ",".join(f"{key}={_text(item)}" for key, item in value.items())
        return ",".join(f"{key},{_text(item)}" for key, item in value.items())
    return _text(value)


def _cookie_pairs(name: str, value: Any, explode: bool) -> list[str]:
    def safe(text: str) -> str:
        return quote(text, safe=_COOKIE_SAFE)

    if isinstance(value, list) and explode:
        return [f"{name}={safe(_text(item))}" for item in value]
    if isinstance(value, list):
        return [f"{name}={safe(','.join(_text(item) for item in value))}"]
    if isinstance(value, Mapping):
        if explode:
            return [f"{key}={safe(_text(item))}" for key, item in value.items()]
        return [f"{name}={safe(','.join(f'{k},{_text(v)}' for k, v in value.items()))}"]
    return [f"{name}={safe(_text(value))}"]


def _bind(parts: RequestParts, binding: Binding, value: Any, path: str) -> str:
    if binding.as_json:
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if binding.location == "path":
        rendered = path_value(binding.name, value, binding.style, binding.explode)
        return path.replace("{" + binding.name + "}", rendered)
    if binding.location == "query":
        parts.params.extend(query_pairs(binding.name, value, binding.style, binding.explode))
    elif binding.location == "header":
        parts.headers[binding.name] = _header_value(value, binding.explode)
    else:
        parts.cookies.extend(_cookie_pairs(binding.name, value, binding.explode))
    return path


def _file(name: str, value: Any) -> tuple[str | None, bytes, str | None]:
    if isinstance(value, str):
        return name, value.encode("utf-8"), "application/octet-stream"
    if isinstance(value, Mapping):
        if "content_base64" in value:
            try:
                content = base64.b64decode(str(value["content_base64"]), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"{name}: content_base64 is not valid base64: {exc}") from None
        else:
            content = str(value.get("content", "")).encode("utf-8")
        return (
            str(value.get("filename", name)),
            content,
            str(value.get("content_type", "application/octet-stream")),
        )
    return name, _text(value).encode("utf-8"), "application/octet-stream"


def _add_body(parts: RequestParts, body: Body, arguments: Mapping[str, Any]) -> None:
    if body.argument is not None:
        if body.argument not in arguments:
            return
        value = arguments[body.argument]
        if body.media_type == _MULTIPART:
            parts.files = [("file", _file("file", value))]
            return
        if body.media_type == _FORM and isinstance(value, Mapping):
            fields = {str(key): item for key, item in value.items()}
        else:
            parts.headers["Content-Type"] = body.media_type
            raw = value if isinstance(value, str) and "json" not in body.media_type else None
            parts.content = (
                raw.encode("utf-8")
                if raw is not None
                else json.dumps(value, ensure_ascii=False).encode("utf-8")
            )
            return
    else:
        fields = {prop: arguments[arg] for arg, prop in body.fields if arg in arguments}
        if not fields and not any(arg in arguments for arg, _ in body.fields):
            return
    if body.media_type == _MULTIPART:
        files: list[tuple[str, tuple[str | None, bytes, str | None]]] = []
        for prop, value in fields.items():
            if prop in body.files:
                files.append((prop, _file(prop, value)))
            elif isinstance(value, Mapping):
                files.append((prop, (None, json.dumps(value).encode(), "application/json")))
            elif isinstance(value, list):
                files.extend((prop, (None, _text(item).encode(), None)) for item in value)
            else:
                files.append((prop, (None, _text(value).encode(), None)))
        parts.files = files
    elif body.media_type == _FORM:
        pairs: list[tuple[str, str]] = []
        for prop, value in fields.items():
            if prop in body.files:
                value = _file(prop, value)[1].decode("utf-8", errors="replace")
            pairs.extend(query_pairs(prop, value, "form", True))
        parts.headers["Content-Type"] = _FORM
        parts.content = urlencode(pairs).encode("ascii")
    else:
        parts.headers["Content-Type"] = body.media_type
        parts.content = json.dumps(fields, ensure_ascii=False).encode("utf-8")


def _authorize(parts: RequestParts, operation: Operation, settings: CallSettings) -> None:
    """Apply the first security alternative the configured credentials satisfy."""
    if not operation.security:
        return
    credentials = settings.credentials
    for alternative in operation.security:
        if all(name in credentials for name in alternative):
            for name in alternative:
                _apply_scheme(parts, name, settings.schemes.get(name, {}), credentials[name])
            return
    needed = " or ".join(" + ".join(alternative) for alternative in operation.security)
    raise ToolNotConfiguredError(
        f"operation {operation.name!r} needs credentials for {needed}: pass "
        "auth={scheme_name: credential} to OpenAPIParser"
    )


def _apply_scheme(
    parts: RequestParts, name: str, scheme: Mapping[str, Any], credential: Any
) -> None:
    kind = str(scheme.get("type", "")).lower()
    http_scheme = str(scheme.get("scheme", "")).lower()
    if kind == "apikey":
        where, key = scheme.get("in"), str(scheme.get("name", name))
        if where == "query":
            parts.params.append((key, str(credential)))
        elif where == "cookie":
            parts.cookies.append(f"{key}={quote(str(credential), safe=_COOKIE_SAFE)}")
        else:
            parts.headers[key] = str(credential)
    elif kind == "basic" or (kind == "http" and http_scheme == "basic"):
        if isinstance(credential, tuple | list) and len(credential) == 2:
            credential = f"{credential[0]}:{credential[1]}"
        token = base64.b64encode(str(credential).encode("utf-8")).decode("ascii")
        parts.headers["Authorization"] = f"Basic {token}"
    elif kind == "http" and http_scheme not in ("", "bearer"):
        parts.headers["Authorization"] = f"{scheme.get('scheme')} {credential}"
    else:  # bearer, oauth2, openIdConnect: the credential is the token
        parts.headers["Authorization"] = f"Bearer {credential}"


def build_request(
    operation: Operation, arguments: Mapping[str, Any], settings: CallSettings
) -> RequestParts:
    """The request for *operation* with validated *arguments*.

    Raises:
        ToolNotConfiguredError: no absolute server URL, or credentials the operation needs
            are not configured.
    """
    base = settings.base_url or (operation.servers[0] if operation.servers else "")
    if "://" not in base:
        raise ToolNotConfiguredError(
            f"operation {operation.name!r} has no absolute server URL (the spec gives "
            f"{base or 'none'!r}): pass base_url= to OpenAPIParser"
        )
    parts = RequestParts(method=operation.method, url="")
    parts.headers.update(settings.headers)
    path = operation.path
    for binding in operation.bindings:
        if binding.argument in arguments:
            path = _bind(parts, binding, arguments[binding.argument], path)
    if operation.body is not None:
        _add_body(parts, operation.body, arguments)
    _authorize(parts, operation, settings)
    parts.url = base.rstrip("/") + "/" + path.lstrip("/")
    if parts.cookies:
        parts.headers["Cookie"] = "; ".join(parts.cookies)
    return parts


def decode_body(content: bytes, content_type: str, charset: str | None) -> Any:
    """Parsed JSON for a JSON media type, else text; None when empty."""
    if not content:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(content)
        except ValueError:
            pass
    try:
        return content.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return {"content_type": media, "content_base64": base64.b64encode(content).decode()}


async def send(client: Any, parts: RequestParts, max_bytes: int, guard: CallGuard) -> Any:
    """Send *parts* with the httpx *client*; the decoded body of a 2xx answer.

    Raises:
        APIResponseError: a non-2xx status (with the status and body).
        SandboxViolationError: the target (or a redirect) is a refused address.
        TimeoutError: the server did not answer in time.
        ConnectionError: the request failed, or too many redirects.
        ValueError: the body is over *max_bytes*.
    """
    import httpx

    from agentkit_tools._netguard import read_capped

    logical = httpx.URL(parts.url)
    if parts.params:
        logical = logical.copy_merge_params(tuple(parts.params))
    url = str(logical)
    method, headers = parts.method, dict(parts.headers)
    content, files = parts.content, parts.files
    for _hop in range(guard.max_redirects + 1):
        target, extensions, host_header = await _checked_target(url, guard)
        request = client.build_request(
            method,
            target,
            headers={**headers, **host_header},
            content=content,
            files=files,
            extensions=extensions,
        )
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"{method} {url} timed out: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ConnectionError(f"{method} {url} failed: {exc}") from exc
        except (httpx.InvalidURL, ValueError) as exc:  # a Location httpx cannot parse
            raise ConnectionError(f"{method} {url} gave a bad redirect: {exc}") from exc
        location = response.headers.get("location")
        if response.status_code in _REDIRECTS and location:
            await response.aclose()
            try:
                following = urljoin(url, location)
            except ValueError as exc:
                raise ConnectionError(f"{method} {url} gave a bad redirect: {exc}") from exc
            if origin_of(following) != origin_of(url):
                headers = {
                    name: value
                    for name, value in headers.items()
                    if name.lower() not in _CREDENTIAL_HEADERS
                }
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, content, files = "GET", None, None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            url = following
            continue
        try:
            content_bytes = await read_capped(response, max_bytes, url)
        finally:
            await response.aclose()
        return _answer(parts, response, content_bytes, url)
    raise ConnectionError(f"{parts.method} {parts.url}: more than {guard.max_redirects} redirects")


async def _checked_target(url: str, guard: CallGuard) -> tuple[Any, dict[str, Any], dict[str, str]]:
    """The URL to send to, its extensions and a Host header: pinned unless the user chose it."""
    import httpx

    from agentkit_tools._netguard import resolve_pinned

    origin = origin_of(url)
    if origin is None:
        raise ValueError(f"cannot call {url!r}: only absolute http(s) URLs")
    if origin in guard.trusted or guard.allow_private_addresses:
        return httpx.URL(url), {}, {}
    try:
        parsed, address = await resolve_pinned(url, cast(Any, guard))
    except SandboxViolationError as exc:
        reason = str(exc).split("; set ToolsConfig", 1)[0]
        raise SandboxViolationError(
            f"call to {url} refused: {reason}; the spec, not you, chose this server: pass "
            "OpenAPIParser(base_url=...) to choose it yourself, or allow_private_addresses=True"
        ) from None
    extensions: dict[str, Any] = {}
    if parsed.scheme == "https":
        extensions["sni_hostname"] = parsed.host
    return parsed.copy_with(host=address), extensions, {"Host": parsed.netloc.decode("ascii")}


def _answer(parts: RequestParts, response: Any, content: bytes, url: str) -> Any:
    """The decoded body of a 2xx *response*; APIResponseError for any other status."""
    body = decode_body(content, response.headers.get("content-type", ""), response.charset_encoding)
    if 200 <= response.status_code < 300:
        return body
    shown = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if len(shown) > _ERROR_BODY_CHARS:
        shown = shown[:_ERROR_BODY_CHARS] + "..."
    raise APIResponseError(
        f"{parts.method} {url} returned HTTP {response.status_code}: {shown}",
        status_code=response.status_code,
        body=body,
        method=parts.method,
        url=url,
    )
