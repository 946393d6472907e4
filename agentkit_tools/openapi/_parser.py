"""``OpenAPIParser``: turn an OpenAPI 3.0/3.1 or Swagger 2.0 spec into callable, validated tools.

One tool per operation. Its parameters merge the path, query, header and cookie parameters
(path-level and operation-level; the operation's win) and the request body's properties; an
argument whose name is already taken gets its location as a prefix (``body_id``,
``header_id``). Calls go out over httpx, after the registry validated the arguments. See
docs/tools.md, "OpenAPI import".
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from agentkit.exceptions import AgentkitError, ConfigurationError, ToolRegistrationError
from agentkit.tools import Tool, ToolHints, fit_description
from agentkit_tools.openapi._call import CallGuard, CallSettings, build_request, origin_of, send
from agentkit_tools.openapi._errors import OpenAPIError
from agentkit_tools.openapi._load import (
    FetchSettings,
    LoadedSpec,
    LoadOptions,
    SpecLimits,
    load_spec,
)
from agentkit_tools.openapi._ops import METHODS, Failure, Operation, read_operations
from agentkit_tools.openapi._refs import pointer
from agentkit_tools.openapi._report import ImportReport, SkippedOperation
from agentkit_tools.openapi._schema import NameAllocator, base_tool_name
from agentkit_tools.openapi._text import (
    DEFAULT_MAX_REF_DOCUMENTS,
    DEFAULT_MAX_SPEC_BYTES,
    DEFAULT_MAX_SPEC_DEPTH,
    DEFAULT_MAX_SPEC_NODES,
    too_deep,
)

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = ["PRIVATE_ADDRESSES_VARIABLE", "OpenAPIParser"]

#: Set to 1 to let every ``OpenAPIParser`` without an explicit ``allow_private_addresses``
#: reach private addresses (for deployments whose APIs live on a private network).
PRIVATE_ADDRESSES_VARIABLE: Final = "AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES"

_PREFIX: Final = re.compile(r"^[a-zA-Z0-9_-]{0,60}$")
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_IDEMPOTENT_METHODS: Final = _SAFE_METHODS | {"PUT", "DELETE"}
#: Credentials: a string (API key, bearer token, "user:password") or a (user, password) pair.
Credential = str | tuple[str, str]
#: A progress callback: ``(stage, done, total)``, stage one of "operations", "tools".
Progress = Callable[[str, int, int], None]


class OpenAPIParser:
    """Reads OpenAPI specs and makes one tool per operation.

    The Enterprise Features Guide's API: ``parse_spec(spec, format=...)``,
    ``extract_tools(spec, tool_prefix=...)`` and
    ``register_tools_from_spec(spec, registry, format=..., tool_prefix=...)``. A spec is
    YAML/JSON text, a dict, a file path or an http(s) URL (fetched with httpx). Everything
    else is set once here, for every spec this parser reads.

    Args:
        base_url: Send every call here instead of the spec's ``servers`` / ``host``.
        auth: Credentials by security-scheme name, as the spec's ``securitySchemes`` (or
            Swagger ``securityDefinitions``) call them: the key for ``apiKey`` (header, query
            or cookie), the token for HTTP ``bearer`` (and OAuth2/OpenID Connect), and
            ``(user, password)`` for HTTP ``basic``. Each call applies the first of the
            operation's security alternatives whose schemes all have credentials.
        headers: Extra headers sent with every call.
        server_variables: Values for server URL variables (default: each one's default).
        tags: Only operations with at least one of these tags.
        methods: Only these HTTP methods (e.g. ``{"GET"}``).
        path_pattern: Only paths matching this glob (``/users/*``; ``*`` also crosses ``/``).
        include_deprecated: Also make tools for deprecated operations (skipped by default).
        allow_remote_refs: Fetch ``$ref`` documents from origins other than the spec's own
            (scheme, host and port of the URL it was read from); they still pass the
            private-address guard.
        allow_private_addresses: Let remote refs, calls to servers the spec names and
            redirects away from the origins you chose (``base_url`` and the spec's URL, never
            checked) reach loopback, private, link-local and other non-public addresses.
            Default (None): the ``AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES`` environment
            variable (``1``/``true``/``yes``), else False — a switch for deployments whose
            APIs all live on a private network.
        validate: Check the spec as written against the OpenAPI meta-schema of its version
            (jsonschema-rs; well under a second for the whole GitHub API). Problems leave
            out the operations they touch (see ``import_spec``).
        timeout: Seconds for fetching a spec and for each call (also each tool's timeout).
        max_response_bytes: A larger response body of a call fails.
        max_spec_bytes: Bytes read in total for one spec and every document it references
            (default 20 MiB); a larger spec fails as soon as the limit is passed.
        max_ref_documents: Documents a spec may reference (default 500).
        max_spec_nodes: Values a spec may hold once YAML aliases and ``$ref``s are expanded
            (default 1,000,000).
        max_spec_depth: Nesting depth of a spec, also once references are inlined (default
            100).
        resolver: Host-name resolver for the address guard (tests); default
            ``socket.getaddrinfo``.
        transport: An httpx transport for every request (tests; sync for fetching specs,
            async for calls: ``httpx.MockTransport`` is both).
        category: The ``category`` of the tools made.
        progress: Called as ``(stage, done, total)`` while an import runs (stage
            ``"operations"``: path items read; ``"tools"``: tools made or registered).

    Raises:
        ConfigurationError: a bad option.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        auth: Mapping[str, Credential] | None = None,
        headers: Mapping[str, str] | None = None,
        server_variables: Mapping[str, str] | None = None,
        tags: Iterable[str] | None = None,
        methods: Iterable[str] | None = None,
        path_pattern: str | None = None,
        include_deprecated: bool = False,
        allow_remote_refs: bool = False,
        allow_private_addresses: bool | None = None,
        validate: bool = True,
        timeout: float = 30.0,
        max_response_bytes: int = 10 * 1024 * 1024,
        max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES,
        max_ref_documents: int = DEFAULT_MAX_REF_DOCUMENTS,
        max_spec_nodes: int = DEFAULT_MAX_SPEC_NODES,
        max_spec_depth: int = DEFAULT_MAX_SPEC_DEPTH,
        resolver: Callable[[str], Sequence[str]] | None = None,
        transport: Any = None,
        category: str = "openapi",
        progress: Progress | None = None,
    ) -> None:
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds: {timeout!r}")
        if max_response_bytes <= 0:
            raise ConfigurationError("max_response_bytes must be positive")
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must be an absolute http(s) URL: {base_url!r}")
        wanted_methods = {method.lower() for method in methods} if methods is not None else None
        if wanted_methods is not None and not wanted_methods <= set(METHODS):
            unknown = sorted(wanted_methods - set(METHODS))
            raise ConfigurationError(f"unknown HTTP methods {unknown}; use {list(METHODS)}")
        self.base_url = base_url
        self.timeout = float(timeout)
        self.max_response_bytes = max_response_bytes
        self.category = category
        self._progress = progress
        #: The report of the last ``import_spec``, ``extract_tools`` or registration.
        self.last_report: ImportReport | None = None
        self._auth = dict(auth or {})
        self._headers = dict(headers or {})
        self._server_variables = {
            key: str(value) for key, value in (server_variables or {}).items()
        }
        self._tags = frozenset(tags) if tags is not None else None
        self._methods = wanted_methods
        self._path_pattern = path_pattern
        self._include_deprecated = include_deprecated
        self._transport = transport
        try:
            limits = SpecLimits(
                max_spec_bytes=max_spec_bytes,
                max_ref_documents=max_ref_documents,
                max_spec_nodes=max_spec_nodes,
                max_spec_depth=max_spec_depth,
            )
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if allow_private_addresses is None:
            flag = os.environ.get(PRIVATE_ADDRESSES_VARIABLE, "").strip().lower()
            allow_private_addresses = flag in {"1", "true", "yes"}
        self._load_options = LoadOptions(
            validate=validate,
            limits=limits,
            fetch=FetchSettings(
                allow_remote_refs=allow_remote_refs,
                allow_private_addresses=allow_private_addresses,
                timeout=self.timeout,
                transport=transport,
                resolver=resolver,
            ),
        )
        self._last: LoadedSpec | None = None
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"OpenAPIParser(base_url={self.base_url!r}, schemes={sorted(self._auth)})"

    # -- the Enterprise Features Guide's API -------------------------------------------------

    def parse_spec(self, spec: Any, format: str | None = None) -> dict[str, Any]:
        """Read and validate *spec*; return the document as written (``$ref``s kept).

        Args:
            spec: YAML/JSON text, bytes, a dict, a file path (``str`` or ``Path``) or an
                http(s) URL.
            format: ``"yaml"``, ``"json"`` or None (guess).

        Raises:
            OpenAPILimitError: over ``max_spec_bytes``, ``max_ref_documents``,
                ``max_spec_nodes`` or ``max_spec_depth`` (the message names the option).
            OpenAPIError: unreadable, not OpenAPI, a refused ``$ref``, or invalid (the message
                names the location in the source, e.g. ``#/paths/~1users/get``).
        """
        loaded = load_spec(spec, format, self._load_options)
        self._last = loaded
        if loaded.problems:
            raise _invalid(loaded.problems, loaded.version)
        return loaded.document

    def import_spec(
        self,
        spec: Any,
        registry: Registry | None = None,
        *,
        tool_prefix: str = "",
        format: str | None = None,
        strict: bool = False,
        replace: bool = False,
    ) -> ImportReport:
        """Make the tools of *spec* (and register them in *registry*); report what was left out.

        An operation that is invalid (validation found a problem in it or in a schema,
        parameter or response it uses), cannot be read (a broken ``$ref``), has a schema the
        registry refuses, or whose name is taken (unless *replace*) is skipped and listed in
        :attr:`ImportReport.skipped` with its reason and source location; the others are
        registered. ``strict=True``: all or nothing — the first problem raises and nothing is
        registered.

        Raises:
            OpenAPILimitError: the spec is over a limit (always, whatever *strict*).
            OpenAPIError: the spec cannot be read at all; with *strict*, any problem.
            ToolRegistrationError: with *strict*, a name is taken or a tool is refused.
        """
        loaded = self._load(spec, format)
        tools, report = self._build(loaded, tool_prefix, strict=strict, check=registry is None)
        if registry is not None:
            report = self._register(tools, report, registry, strict=strict, replace=replace)
        self.last_report = report
        return report

    def extract_tools(
        self,
        spec: Any,
        tool_prefix: str = "",
        format: str | None = None,
        *,
        strict: bool = False,
    ) -> list[Tool]:
        """One tool per valid operation of *spec* (anything ``parse_spec`` takes, or its result).

        Operations that are invalid are left out and listed in :attr:`last_report`
        (``strict=True`` raises instead).

        Raises:
            OpenAPIError: the spec cannot be read (see ``parse_spec``); with *strict*, any
                problem.
            ToolRegistrationError: *tool_prefix* is not ``[a-zA-Z0-9_-]``, at most 60 long.
            ConfigurationError: ``auth`` names a scheme the spec does not define.
        """
        loaded = self._load(spec, format)
        tools, report = self._build(loaded, tool_prefix, strict=strict, check=True)
        self.last_report = report
        return tools

    def list_operations(
        self, spec: Any, tool_prefix: str = "", format: str | None = None
    ) -> list[dict[str, Any]]:
        """What ``extract_tools`` would make, one dict per operation that passes the filters:
        ``name``, ``method``, ``path``, ``operation_id``, ``description``, ``tags``,
        ``servers``, ``arguments``, ``location``.

        Raises:
            OpenAPIError: the spec cannot be read (see ``parse_spec``).
        """
        loaded = self._load(spec, format)
        with self._depth_guard():
            operations = self._operations(loaded, tool_prefix, [])
        return [
            {
                "name": operation.name,
                "method": operation.method,
                "path": operation.path,
                "operation_id": operation.operation_id,
                "description": operation.description,
                "tags": list(operation.tags),
                "servers": [self.base_url] if self.base_url else list(operation.servers),
                "arguments": list(operation.parameters["properties"]),
                "location": operation.location,
            }
            for operation in operations
        ]

    def register_tools_from_spec(
        self,
        spec: Any,
        registry: Registry,
        format: str | None = None,
        tool_prefix: str = "",
        *,
        replace: bool = False,
        strict: bool = False,
    ) -> int:
        """Add the tools of *spec* to *registry*; return how many were registered.

        ``import_spec`` with a registry, returning the count; the report (what was skipped
        and why) is :attr:`last_report`. ``strict=True``: all or nothing — a problem, a name
        already taken (unless *replace*) or a tool the registry refuses raises, and nothing
        stays registered.

        Raises:
            OpenAPIError: the spec cannot be read (see ``parse_spec``); with *strict*, any
                problem.
            ToolRegistrationError: with *strict*, a name is taken or a tool is refused.
        """
        report = self.import_spec(
            spec, registry, tool_prefix=tool_prefix, format=format, strict=strict, replace=replace
        )
        return len(report.imported)

    # -- calls -----------------------------------------------------------------------------

    def _client(self) -> Any:
        """The httpx client of the running event loop (connections are reused per loop)."""
        import httpx

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=True,
                trust_env=False,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop (the tools still work after)."""
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> OpenAPIParser:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _depth_guard(self) -> Iterator[None]:
        """Turn a RecursionError (a spec deeper than the code can walk) into the limit error."""
        try:
            yield
        except RecursionError:
            raise too_deep("the spec", self._load_options.limits, stack=True) from None

    def _load(self, spec: Any, format: str | None) -> LoadedSpec:
        if self._last is not None and spec is self._last.document:
            return self._last
        loaded = load_spec(spec, format, self._load_options)
        self._last = loaded
        return loaded

    def _operations(
        self, loaded: LoadedSpec, tool_prefix: str, failures: list[Failure] | None
    ) -> list[Operation]:
        """The operations that pass the filters, named with *tool_prefix*."""
        if not isinstance(tool_prefix, str) or not _PREFIX.fullmatch(tool_prefix):
            raise ToolRegistrationError(
                f"invalid tool_prefix {tool_prefix!r}: use up to 60 letters, digits, '_' or '-'"
            )
        names = NameAllocator(tool_prefix)
        progress = self._progress
        operations = read_operations(
            loaded.document,
            documents=loaded.documents,
            source_url=loaded.source_url,
            name_for=lambda operation_id, method, path: names.allocate(
                base_tool_name(operation_id, method, path)
            ),
            server_variables=self._server_variables,
            failures=failures,
            progress=None
            if progress is None
            else lambda done, total: progress("operations", done, total),
        )
        return [operation for operation in operations if self._wanted(operation)]

    def _build(
        self, loaded: LoadedSpec, tool_prefix: str, *, strict: bool, check: bool
    ) -> tuple[list[Tool], ImportReport]:
        """The tools of the valid operations, and the report of the others.

        *check*: compile each tool's schemas here (no registry will), so a schema the
        registry would refuse is skipped now.
        """
        if strict and loaded.problems:
            raise _invalid(loaded.problems, loaded.version)
        settings = self._settings(loaded)
        failures: list[Failure] = []
        with self._depth_guard():
            operations = self._operations(loaded, tool_prefix, None if strict else failures)
        bad, unplaced = _place_problems(loaded.problems, operations, failures)
        skipped = [
            _skipped(failure, bad.get(failure.location, failure.reason)) for failure in failures
        ]
        tools: list[Tool] = []
        total = len(operations)
        with self._depth_guard():
            for done, operation in enumerate(operations, start=1):
                if self._progress is not None and (done % 50 == 0 or done == total):
                    self._progress("tools", done, total)
                reason = bad.get(operation.name)
                if reason is None:
                    try:
                        tool = self._tool(operation, settings)
                        if check:
                            _check_schemas(tool)
                    except AgentkitError as exc:
                        if strict:
                            raise
                        reason = str(exc)
                    else:
                        tools.append(tool)
                        continue
                skipped.append(_skipped_operation(operation, reason))
        report = ImportReport(
            imported=tuple(tool.name for tool in tools),
            skipped=tuple(skipped),
            problems=tuple(str(problem) for problem in unplaced),
        )
        return tools, report

    def _register(
        self,
        tools: list[Tool],
        report: ImportReport,
        registry: Registry,
        *,
        strict: bool,
        replace: bool,
    ) -> ImportReport:
        """Register *tools*; a refused one is skipped (or, with *strict*, undoes them all)."""
        taken = [] if replace else [tool.name for tool in tools if _registered(registry, tool)]
        if taken and strict:
            raise ToolRegistrationError(
                f"tools already registered under {taken[:10]} (pass replace=True or a "
                "different tool_prefix); nothing was registered"
            )
        skipped = list(report.skipped)
        added: list[str] = []
        total = len(tools)
        with self._depth_guard():
            try:
                for done, tool in enumerate(tools, start=1):
                    if self._progress is not None and (done % 50 == 0 or done == total):
                        self._progress("tools", done, total)
                    if tool.name in taken:
                        skipped.append(
                            _skipped_tool(tool, "a tool of this name is already registered")
                        )
                        continue
                    try:
                        if replace:
                            registry.register_tool(tool, replace=True)  # type: ignore[call-arg]
                        else:
                            registry.register_tool(tool)
                    except ToolRegistrationError as exc:
                        if strict:
                            raise
                        skipped.append(_skipped_tool(tool, _with_source(tool, str(exc))))
                        continue
                    added.append(tool.name)
            except Exception:
                unregister = getattr(registry, "unregister_tool", None)
                if unregister is not None:
                    for name in added:
                        unregister(name)
                raise
        return ImportReport(tuple(added), tuple(skipped), report.problems)

    def _wanted(self, operation: Operation) -> bool:
        if operation.deprecated and not self._include_deprecated:
            return False
        if self._methods is not None and operation.method.lower() not in self._methods:
            return False
        if self._tags is not None and not self._tags.intersection(operation.tags):
            return False
        return self._path_pattern is None or fnmatch.fnmatchcase(operation.path, self._path_pattern)

    def _settings(self, loaded: LoadedSpec) -> CallSettings:
        document = loaded.document
        schemes = (document.get("components") or {}).get("securitySchemes") or document.get(
            "securityDefinitions"
        )
        schemes = dict(schemes) if isinstance(schemes, Mapping) else {}
        unknown = sorted(set(self._auth) - set(schemes))
        if unknown:
            raise ConfigurationError(
                f"auth names security schemes the spec does not define: {unknown} "
                f"(it defines {sorted(schemes) or 'none'})"
            )
        # Origins the user chose: base_url and the URL the spec was read from. Servers the
        # spec names elsewhere pass the private-address guard at call time.
        chosen = (origin_of(url) for url in (self.base_url, loaded.source_url) if url)
        fetch = self._load_options.fetch
        return CallSettings(
            base_url=self.base_url,
            headers=self._headers,
            credentials=self._auth,
            schemes=schemes,
            max_bytes=self.max_response_bytes,
            guard=CallGuard(
                trusted=frozenset(origin for origin in chosen if origin is not None),
                allow_private_addresses=fetch.allow_private_addresses,
                resolver=fetch.resolver,
            ),
        )

    def _tool(self, operation: Operation, settings: CallSettings) -> Tool:
        async def call_operation(**arguments: Any) -> Any:
            parts = build_request(operation, arguments, settings)
            return await send(self._client(), parts, settings.max_bytes, settings.guard)

        call_operation.__name__ = operation.name
        call_operation.openapi_operation = operation  # type: ignore[attr-defined]
        call_operation.__qualname__ = operation.name
        method = operation.method
        tags = (*operation.tags, "openapi")
        return Tool(
            name=operation.name,
            # A spec's text is not ours: a description too long to index is cut to fit.
            description=fit_description(operation.description, category=self.category, tags=tags),
            category=self.category,
            parameters=operation.parameters,
            returns=operation.returns,
            tags=tags,
            timeout=self.timeout,
            hints=ToolHints(
                read_only=method in _SAFE_METHODS,
                destructive=method == "DELETE",
                idempotent=method in _IDEMPOTENT_METHODS,
                open_world=True,
            ),
            function=call_operation,
        )


def _registered(registry: Any, tool: Tool) -> bool:
    """Whether *registry* holds a tool by this name other than this very tool."""
    try:
        existing = registry.get_tool(tool.name)
    except KeyError:
        return False
    return bool(existing != tool)


def _invalid(problems: Sequence[Any], version: str) -> OpenAPIError:
    """The error for a spec that validation found problems in (the first one, and a count)."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return OpenAPIError(
        f"invalid OpenAPI {version} spec at {first.location}: {first.message}{more}"
    )


def _check_schemas(tool: Tool) -> None:
    """Check *tool*'s schemas against JSON Schema 2020-12 as the registry will (jsonschema-rs).

    Raises:
        ToolRegistrationError: a schema is not valid JSON Schema (the message says where).
    """
    import jsonschema_rs

    for what, schema in (("parameters", tool.parameters), ("returns", tool.returns)):
        if schema is None:
            continue
        try:
            jsonschema_rs.meta.validate(dict(schema))
        except jsonschema_rs.ValidationError as exc:
            where = pointer(exc.instance_path).removeprefix("#") or "/"
            source = _source_of(tool, what, list(exc.instance_path))
            raise ToolRegistrationError(
                f"{what} of tool {tool.name!r} is not valid JSON Schema at {where}"
                f"{source}: {exc.message}"
            ) from None


_SCHEMA_PLACE: Final = re.compile(r"^(parameters|returns) of tool .*? at (/[^:\s]*):")


def _with_source(tool: Tool, message: str) -> str:
    """The registry's *message* with where the faulty schema is written, when it is known."""
    found = _SCHEMA_PLACE.match(message)
    if found is None:
        return message
    tokens = [
        token.replace("~1", "/").replace("~0", "~") for token in found[2].split("/")[1:] if token
    ]
    source = _source_of(tool, found[1], tokens)
    if not source:
        return message
    end = found.end() - 1
    return f"{message[:end]}{source}{message[end:]}"


def _source_of(tool: Tool, what: str, path: list[Any]) -> str:
    """`` (written at #/components/schemas/X/...)`` for a place taken from a shared schema."""
    operation = getattr(tool.function, "openapi_operation", None)
    if operation is None:
        return ""
    if len(path) >= 2 and path[0] == "$defs":
        source = dict(operation.definitions).get(str(path[1]))
        rest = path[2:]
    elif what == "returns" and operation.returns_source is not None:
        source, rest = operation.returns_source, path
    else:
        return ""
    if source is None:
        return ""
    return f" (written at {source}{pointer(rest).removeprefix('#')})"


def _skipped(failure: Failure, reason: str) -> SkippedOperation:
    return SkippedOperation(
        failure.method, failure.path, failure.operation_id, failure.location, reason
    )


def _skipped_operation(operation: Operation, reason: str) -> SkippedOperation:
    return SkippedOperation(
        operation.method, operation.path, operation.operation_id, operation.location, reason
    )


def _skipped_tool(tool: Tool, reason: str) -> SkippedOperation:
    operation: Operation = tool.function.openapi_operation  # type: ignore[union-attr]
    return _skipped_operation(operation, f"tool {tool.name!r}: {reason}")


def _place_problems(
    problems: Sequence[Any], operations: Sequence[Operation], failures: Sequence[Failure]
) -> tuple[dict[str, str], list[Any]]:
    """Which operations each validation problem touches, and the problems touching none.

    Returns ``{tool name or failed operation's location: reason}``. A problem inside an
    operation (or its path item's parameters) touches it; one inside a schema, parameter,
    body or response an operation uses touches that operation.
    """
    if not problems:
        return {}, []
    by_source: dict[str, list[str]] = {}
    for operation in operations:
        for source in (operation.location, *operation.sources):
            by_source.setdefault(source, []).append(operation.name)
        path_item = operation.location.rsplit("/", 1)[0]
        by_source.setdefault(path_item + "/parameters", []).append(operation.name)
    for failure in failures:
        by_source.setdefault(failure.location, []).append(failure.location)
    bad: dict[str, str] = {}
    unplaced: list[Any] = []
    for problem in problems:
        parts = problem.location.split("/")
        touched: list[str] = []
        for end in range(len(parts), 0, -1):
            touched.extend(by_source.get("/".join(parts[:end]), ()))
        if not touched:
            unplaced.append(problem)
        for key in touched:
            bad.setdefault(key, f"invalid spec {problem}")
    return bad, unplaced
