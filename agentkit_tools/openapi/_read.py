"""Reading a spec and the documents it references: the only place that opens files or sockets.

Rules, for every document read while importing one spec:

* Files are opened only as regular files (no devices, FIFOs or sockets: ``/dev/zero`` fails at
  once), without blocking, and read at most up to the byte budget. A file referenced by a spec
  file must lie under the spec's own folder after resolving symlinks (checked on the opened
  descriptor too); a spec that did not come from a file may not reference files at all.
* HTTP is sent with redirects off; each redirect is followed by hand and checked like a new
  request. The spec's own origin (scheme, host, port) is the one the user named: it is
  resolved once and every request to it goes to that same address. Any other origin — a
  reference, or where a redirect leads — must pass the private-address guard (loopback,
  private, link-local and their IPv6 forms are refused unless ``allow_private_addresses``)
  and the connection is pinned to the checked address; a reference (or its redirect) to
  another origin also needs ``allow_remote_refs``.
* One budget covers the whole import: ``max_spec_bytes`` in total and ``max_ref_documents``
  referenced documents. Bodies are streamed and cut at the first byte over the budget.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from agentkit.exceptions import SandboxViolationError
from agentkit_tools._netguard import resolve_checked_sync
from agentkit_tools.openapi._errors import OpenAPIError, OpenAPILimitError
from agentkit_tools.openapi._text import SpecLimits

__all__ = ["FetchSettings", "SpecReader"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Network options of an import: remote refs, the address guard, timeout and transport."""

    allow_remote_refs: bool = False
    allow_private_addresses: bool = False
    timeout: float = 30.0
    max_redirects: int = 5
    transport: Any = None
    resolver: Callable[[str], Sequence[str]] | None = None


Origin = tuple[str, str, int]


def _origin_of(url: Any) -> Origin:
    """(scheme, host, port) of an ``httpx.URL``."""
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.scheme, url.host.lower().rstrip("."), port


class SpecReader:
    """Reads the documents of one import within one byte and document budget."""

    def __init__(self, limits: SpecLimits, settings: FetchSettings) -> None:
        self.limits = limits
        self.settings = settings
        self.bytes_read = 0
        self.documents = 0
        self.origin: Origin | None = None
        self._origin_address: str | None = None
        self.folder: str | None = None

    # -- budget ----------------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Bytes that may still be read."""
        return self.limits.max_spec_bytes - self.bytes_read

    def over_budget(self, where: str) -> OpenAPILimitError:
        """The error for reading past ``max_spec_bytes``."""
        return OpenAPILimitError(
            f"{where}: the spec and the documents it references are over "
            f"max_spec_bytes={self.limits.max_spec_bytes} bytes; pass "
            "OpenAPIParser(max_spec_bytes=...) to read larger specs"
        )

    def take(self, size: int, where: str) -> None:
        """Count *size* bytes against the budget."""
        if size > self.remaining:
            raise self.over_budget(where)
        self.bytes_read += size

    def count_reference(self, where: str) -> None:
        """Count one more referenced document against ``max_ref_documents``."""
        self.documents += 1
        if self.documents > self.limits.max_ref_documents:
            raise OpenAPILimitError(
                f"{where}: the spec references more than "
                f"max_ref_documents={self.limits.max_ref_documents} documents; pass "
                "OpenAPIParser(max_ref_documents=...) to allow more"
            )

    # -- files -----------------------------------------------------------------------------

    def read_spec_file(self, path: str) -> str:
        """Read the spec file the user named (any folder) and remember its folder for refs."""
        real = os.path.realpath(path)
        text = self._read_regular_file(real, where=path, folder=None)
        self.folder = os.path.dirname(real)
        return text

    def read_ref_file(self, url: str, where: str) -> str:
        """Read a ``file:`` reference: only from a spec file, only under the spec's folder."""
        parts = urlsplit(url)
        if self.folder is None:
            raise OpenAPIError(
                f"$ref {url!r} at {where} refused: only a spec read from a file may refer to "
                "files, and only under its own folder"
            )
        if parts.netloc not in ("", "localhost"):
            raise OpenAPIError(f"$ref {url!r} at {where} refused: a file URL names another host")
        try:
            real = os.path.realpath(unquote(parts.path, errors="strict"))
        except (ValueError, OSError) as exc:  # a NUL byte, bad percent-encoding
            raise OpenAPIError(
                f"$ref {url!r} at {where} is not a usable file path: {exc}"
            ) from None
        if not _is_under(real, self.folder):
            raise OpenAPIError(
                f"$ref {url!r} at {where} refused: it leaves the spec's folder {self.folder!r} "
                "(references may only name files under the spec's own folder)"
            )
        return self._read_regular_file(real, where=f"$ref {url!r} at {where}", folder=self.folder)

    def _read_regular_file(self, real: str, *, where: str, folder: str | None) -> str:
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
        flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(real, flags)
        except ValueError as exc:
            raise OpenAPIError(f"cannot read {where}: {exc}") from None
        except OSError as exc:
            raise OpenAPIError(f"cannot read {where}: {exc.strerror or exc}") from None
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise OpenAPIError(
                    f"cannot read {where}: not a regular file (devices, FIFOs and sockets are "
                    "never read)"
                )
            if folder is not None:
                # The path was checked before opening; check what was opened, too, so a
                # directory swapped for a symlink in between cannot lead outside.
                opened = _opened_path(descriptor)
                if opened is not None and not _is_under(opened, folder):
                    raise OpenAPIError(f"{where} refused: it leaves the spec's folder {folder!r}")
            if info.st_size > self.remaining:
                raise self.over_budget(where)
            data = _read_at_most(descriptor, self.remaining + 1)
        finally:
            os.close(descriptor)
        self.take(len(data), where)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OpenAPIError(f"cannot read {where}: not UTF-8 text ({exc})") from None

    # -- HTTP ------------------------------------------------------------------------------

    def fetch(self, url: str, *, reference: bool, where: str) -> tuple[str, str]:
        """GET *url* (the spec when *reference* is false); return ``(text, final URL)``.

        Raises:
            OpenAPIError: refused (origin, scheme or address), failed, or not 2xx.
            OpenAPILimitError: over the byte budget.
        """
        import httpx

        current = url
        with httpx.Client(
            transport=self.settings.transport,
            timeout=self.settings.timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            for _hop in range(self.settings.max_redirects + 1):
                request = self._request(client, current, reference=reference, where=where)
                try:
                    response = client.send(request, stream=True)
                except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                    # httpx parses a redirect's Location even when not following it.
                    raise OpenAPIError(f"cannot fetch {current} ({where}): {exc}") from None
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        current = _follow(current, location, where)
                        continue
                    if response.status_code >= 400:
                        raise OpenAPIError(
                            f"cannot fetch {current} ({where}): HTTP {response.status_code}"
                        )
                    data = self._read_body(response, f"{current} ({where})")
                    return _decode(data, response.charset_encoding), current
                except httpx.HTTPError as exc:
                    raise OpenAPIError(f"cannot fetch {current} ({where}): {exc}") from None
                finally:
                    response.close()
        raise OpenAPIError(
            f"cannot fetch {url} ({where}): more than {self.settings.max_redirects} redirects"
        )

    def _request(self, client: Any, url: str, *, reference: bool, where: str) -> Any:
        """Build the request for one hop, refusing it before any connection if it may not go."""
        import httpx

        try:
            parsed = httpx.URL(url)
            origin = _origin_of(parsed)  # decodes the host: IDNA errors are ValueErrors
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise OpenAPIError(f"invalid URL {url!r} ({where}): {exc}") from None
        if parsed.scheme not in ("http", "https") or not origin[1]:
            raise OpenAPIError(f"{url!r} ({where}) refused: only http(s) URLs with a host")
        if self.origin is None and not reference:
            self.origin = origin  # the URL the user named
        if origin == self.origin:
            if self._origin_address is None:
                self._origin_address = self._resolve(origin, where=where, check=False)
            address = self._origin_address
        else:
            if reference and not self.settings.allow_remote_refs:
                raise OpenAPIError(
                    f"remote $ref {url!r} at {where} refused: it is not on the spec's own "
                    "origin; pass allow_remote_refs=True to fetch references from other hosts"
                )
            address = self._resolve(origin, where=where, check=True)
        headers = {
            "Accept": "application/json, application/yaml, */*",
            # Compressed bodies could expand far beyond the budget within one chunk.
            "Accept-Encoding": "identity",
            "Host": parsed.netloc.decode("ascii"),
        }
        extensions: dict[str, Any] = {}
        if parsed.scheme == "https":
            extensions["sni_hostname"] = origin[1]
        return client.build_request(
            "GET", parsed.copy_with(host=address), headers=headers, extensions=extensions
        )

    def _resolve(self, origin: Origin, *, where: str, check: bool) -> str:
        scheme, host, port = origin
        shown = f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
        try:
            return resolve_checked_sync(
                host,
                port,
                allow_private=self.settings.allow_private_addresses,
                resolver=self.settings.resolver,
                check=check,
            )
        except SandboxViolationError as exc:
            reason = str(exc).split("; set ToolsConfig", 1)[0]
            raise OpenAPIError(
                f"{shown} ({where}) refused: {reason}; pass "
                "OpenAPIParser(allow_private_addresses=True) to allow it"
            ) from None
        except (ConnectionError, ValueError) as exc:
            raise OpenAPIError(f"cannot fetch {shown} ({where}): {exc}") from None

    def _read_body(self, response: Any, where: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.remaining:
            raise self.over_budget(where)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes(_CHUNK):
            size += len(chunk)
            if size > self.remaining:
                raise self.over_budget(where)
            chunks.append(chunk)
        self.take(size, where)
        return b"".join(chunks)


def _follow(current: str, location: str, where: str) -> str:
    """The URL a redirect's *location* leads to from *current*."""
    try:
        return urljoin(current, location)
    except ValueError as exc:
        raise OpenAPIError(f"bad redirect from {current} ({where}): {exc}") from None


def _decode(data: bytes, charset: str | None) -> str:
    """Text of a body in its declared charset, else UTF-8 (bad bytes replaced)."""
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _is_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _opened_path(descriptor: int) -> str | None:
    """The real path of an open descriptor, where the platform tells it (Linux /proc)."""
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return None


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, min(_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
