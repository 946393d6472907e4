"""The ``openapi`` plugin's health probes: does the base URL of each imported API answer?

One probe ``openapi:<short name>`` per spec in ``AGENTKIT_OPENAPI_SPECS``. Its first run reads
the spec in a thread, with the importer's own reader and limits (:class:`OpenAPIParser`, not
validated: only the servers matter here), and takes the base URL the way the tools' calls do
(``servers[0]`` with the variables' defaults, Swagger ``host``/``basePath``, a relative URL
resolved against the URL the spec was read from). Every run then sends one ``HEAD`` to that
URL over the tools' own client and address guard: a server the spec names must pass the
private-address guard unless ``AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES`` allows it, redirects
are not followed and the body is never read. Any HTTP answer (a 404 or 405 too) is healthy.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from agentkit.reliability import HealthProbe, HealthReport
    from agentkit_tools.openapi._parser import OpenAPIParser

__all__ = ["HEAD_TIMEOUT", "OPENAPI_CHECK_TIMEOUT", "SpecCheck", "probes_for", "short_names"]

#: How long one check may take (reading the spec the first time, then the HEAD), in seconds.
OPENAPI_CHECK_TIMEOUT: Final = 10.0
#: The httpx timeout of the HEAD request and of fetching a spec given as a URL, in seconds.
HEAD_TIMEOUT: Final = 5.0

_SPEC_SUFFIXES: Final = (".json", ".yaml", ".yml")


def short_names(specs: list[str]) -> list[str]:
    """A unique short name per spec: a file's stem, a URL's last path part (or its host).

    A name taken by an earlier spec gets ``-2``, ``-3``, ... appended.
    """
    names: list[str] = []
    taken: set[str] = set()
    for spec in specs:
        base = _short_name(spec)
        name, number = base, 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        names.append(name)
    return names


def _short_name(spec: str) -> str:
    parts = urlsplit(spec)
    if parts.scheme in ("http", "https"):
        last = PurePosixPath(parts.path).name
        if last.lower().endswith(_SPEC_SUFFIXES):
            last = PurePosixPath(last).stem
        return last or parts.hostname or "spec"
    return PurePath(spec).stem or "spec"


def probes_for(specs: list[str]) -> list[HealthProbe]:
    """One probe per spec, named ``openapi:<short name>``, kind ``api``; no I/O here."""
    from agentkit.reliability import HealthProbe

    return [
        HealthProbe(
            f"openapi:{name}", SpecCheck(spec), kind="api", timeout_seconds=OPENAPI_CHECK_TIMEOUT
        )
        for spec, name in zip(specs, short_names(specs), strict=True)
    ]


class _Target:
    """What the first run found: the base URL and the tools' call guard for it."""

    __slots__ = ("guard", "url")

    def __init__(self, url: str, guard: Any) -> None:
        self.url = url
        self.guard = guard


class SpecCheck:
    """The check of one spec: read it once (in a thread) for its base URL, then HEAD that URL."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._parser: OpenAPIParser | None = None
        self._target: _Target | None = None
        self._reading: asyncio.Future[_Target] | None = None

    def __repr__(self) -> str:
        return f"<OpenAPI base URL check {self.spec!r}>"

    async def __call__(self) -> HealthReport:
        from agentkit.exceptions import AgentkitError
        from agentkit.reliability import HealthReport

        try:
            target = await self._base_url()
        except AgentkitError as exc:  # OpenAPIError, its limit error, ToolNotConfiguredError
            return HealthReport(False, str(exc), {"spec": self.spec}, error_type=type(exc).__name__)
        return await self._head(target)

    def _parser_for_check(self) -> OpenAPIParser:
        """The importer the tools would use, as the plugin makes it (options from the env)."""
        if self._parser is None:
            from agentkit_tools.openapi._parser import OpenAPIParser

            self._parser = OpenAPIParser(validate=False, timeout=HEAD_TIMEOUT)
        return self._parser

    async def _base_url(self) -> _Target:
        """The remembered target; on first use, the spec read in a thread (only one at a time)."""
        if self._target is not None:
            return self._target
        reading = self._reading
        if reading is None or (reading.done() and (reading.cancelled() or reading.exception())):
            # A thread cannot be cancelled: while a read still runs, every check waits for it
            # (each within its own timeout) and no second one starts.
            parser = self._parser_for_check()
            reading = asyncio.ensure_future(asyncio.to_thread(_read_target, parser, self.spec))
            reading.add_done_callback(_retrieve)
            self._reading = reading
        self._target = await asyncio.shield(reading)
        return self._target

    async def _head(self, target: _Target) -> HealthReport:
        """One HEAD to the base URL over the tools' client and guard; any answer is healthy."""
        import httpx

        from agentkit.exceptions import AgentkitError, SandboxViolationError
        from agentkit.reliability import HealthReport
        from agentkit_tools.openapi._call import _checked_target
        from agentkit_tools.openapi._parser import PRIVATE_ADDRESSES_VARIABLE

        parser = self._parser_for_check()
        url = target.url
        details: dict[str, Any] = {"url": url}
        started = time.perf_counter()
        try:
            address, extensions, host_header = await _checked_target(url, target.guard)
            client = parser._client()
            request = client.build_request(
                "HEAD", address, headers=host_header, extensions=extensions
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            await response.aclose()
        except (AgentkitError, OSError, ValueError, httpx.HTTPError) as exc:
            details["latency_ms"] = _ms_since(started)
            message = f"HEAD {url}: {exc}"
            if isinstance(exc, SandboxViolationError):
                message += (
                    f" (for the plugin's tools and this check: {PRIVATE_ADDRESSES_VARIABLE}=1)"
                )
            return HealthReport(False, message, details, error_type=_error_type(exc))
        finally:
            await parser.aclose()
        details.update(status_code=response.status_code, latency_ms=_ms_since(started))
        return HealthReport(True, f"HEAD {url} answered HTTP {response.status_code}", details)


def _read_target(parser: OpenAPIParser, spec: str) -> _Target:
    """Read *spec* (blocking: a thread runs this) and find its base URL as the calls do.

    Raises:
        OpenAPIError: the spec cannot be read (over a limit: ``OpenAPILimitError``).
        ToolNotConfiguredError: the spec names no absolute server URL.
    """
    from agentkit.exceptions import ToolNotConfiguredError
    from agentkit_tools.openapi._ops import _Reader

    loaded = parser._load(spec, None)
    document = loaded.document
    servers = _Reader(document, loaded.documents, loaded.source_url).servers(
        document.get("servers"), variables={}
    )
    base = servers[0] if servers else ""
    if "://" not in base:
        raise ToolNotConfiguredError(
            f"the spec {spec!r} has no absolute server URL (it gives {base or 'none'!r}): its "
            "tools cannot be called without base_url=, so there is no URL to check"
        )
    return _Target(base, parser._settings(loaded).guard)


def _error_type(exc: BaseException) -> str:
    """The type to report: ``TimeoutError`` for any timeout, else the OS error under httpx's."""
    import httpx

    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "TimeoutError"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and type(cause) is not OSError:
            return type(cause).__name__  # ConnectionRefusedError, ...
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a read's failure as seen: the next check reports it, or starts a new read."""
    if not future.cancelled():
        future.exception()


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
