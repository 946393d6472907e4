"""The tool registry: register tools once, run them with validated arguments."""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import difflib
import functools
import inspect
import logging
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from agentkit._clock import SYSTEM_CLOCK, wait_for
from agentkit.exceptions import (
    ConfigurationError,
    SandboxViolationError,
    ToolError,
    ToolInputError,
    ToolNotConfiguredError,
    ToolNotFoundError,
    ToolRegistrationError,
)
from agentkit.observability import telemetry
from agentkit.protocols import Clock
from agentkit.tools._search import SearchIndex
from agentkit.tools._threads import ToolExit, ToolThreads
from agentkit.tools._tool import (
    MAX_TOOL_TEXT,
    TOOL_NAME_PATTERN,
    Tool,
    ToolResult,
    tool_text_size,
)
from agentkit.tools._validation import SchemaValidator, SchemaViolation, compile_schema

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = ["ToolRegistry"]

_logger = logging.getLogger("agentkit.tools")
#: Different (category, tag) listings kept at once; more clears them (a bound on memory).
_MAX_LISTINGS = 64
#: Names on each side of an unknown name, in two sorted orders, that may be suggested for it.
_NEAR_NEIGHBOURS = 4
#: Most names an unknown-tool error suggests, and how alike (difflib's ratio) they must be.
_MOST_SUGGESTED = 3
_SUGGEST_CUTOFF = 0.6
#: Longest unknown name for which similar names are looked for (valid names have at most 64).
_LONGEST_COMPARED = 128

#: ``error_type`` of a ToolResult for each kind of failure that is not the tool's own exception.
VALIDATION: Final = "validation"
OUTPUT_VALIDATION: Final = "output_validation"
TIMEOUT: Final = "timeout"
NOT_CONFIGURED: Final = "not_configured"
SANDBOX: Final = "sandbox"

#: Default size (string characters plus containers and scalars) up to which a call's arguments
#: are validated on the event loop and an inline tool runs there; bigger calls go to a thread.
INLINE_ARGUMENT_SIZE: Final = 4_096
#: Default number of threads that run the sync tools of one registry.
TOOL_THREADS: Final = 16


class _Entry:
    """A registered tool with everything ``execute_tool`` needs, worked out once."""

    __slots__ = (
        "function",
        "inline",
        "is_async",
        "parameters",
        "returns",
        "tool",
    )

    def __init__(
        self,
        tool: Tool,
        function: Callable[..., Any],
        parameters: SchemaValidator,
        returns: SchemaValidator | None,
    ) -> None:
        self.tool = tool
        self.function = function
        self.parameters = parameters
        self.returns = returns
        self.is_async = _is_async_callable(function)
        # A pure, fast sync function may run on the loop (no thread hop), but only with small
        # arguments: see ToolRegistry.execute_tool.
        self.inline = not self.is_async and not tool.blocking


class ToolRegistry:
    """Holds tools and runs them with arguments validated against their JSON Schemas.

    Starts empty. Each tool's ``parameters`` (and ``returns``) schema is checked against its
    metaschema and compiled once, when the tool is registered; common schemas get a fast
    validator that answers exactly as jsonschema does (see :mod:`agentkit.tools._validation`).

    Args:
        clock: Time source for timeouts and durations (a ``VirtualClock`` in tests).
        validate_output: Also check each result against the tool's ``returns`` schema (a
            debugging aid: a mismatch becomes an ``"output_validation"`` failure).
        max_tool_threads: Threads of the registry's own pool, which runs blocking sync tools,
            inline tools called with big arguments, and the validation of big arguments. A
            tool thread that overruns its timeout keeps its slot until its function returns;
            when every slot is taken, further calls wait (their timeout still counts). The
            pool is separate from asyncio's default executor, so stuck tools can never starve
            the host's DNS lookups or ``asyncio.to_thread`` users.
        inline_argument_size: Arguments at most this big (characters of strings plus the
            number of values, counted without recursion) are validated on the event loop, and
            an inline (``blocking=False``) tool runs there; bigger ones go to the pool.

    Raises:
        ConfigurationError: *max_tool_threads* or *inline_argument_size* is not a positive
            integer.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        validate_output: bool = False,
        max_tool_threads: int = TOOL_THREADS,
        inline_argument_size: int = INLINE_ARGUMENT_SIZE,
    ) -> None:
        for option, value in (
            ("max_tool_threads", max_tool_threads),
            ("inline_argument_size", inline_argument_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{option} must be a positive integer, got {value!r}")
        self._clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._validate_output = validate_output
        self._entries: dict[str, _Entry] = {}
        self._threads = ToolThreads(max_tool_threads)
        self._inline_size = inline_argument_size
        self._listeners: list[Callable[[str, str], None]] = []
        self._version = 0
        # Derived from _entries, rebuilt after a change on first use (see _changed):
        self._names: list[str] | None = None  # sorted
        self._listings: dict[tuple[str | None, str | None], tuple[Tool, ...]] = {}
        # Where to look for names like an unknown one: the lowercased names sorted, the same
        # reversed and sorted, and the names spelled each lowercased way.
        self._near: tuple[list[str], list[str], dict[str, list[str]]] | None = None
        # Kept in step with _entries by register_tool and unregister_tool:
        self._search = SearchIndex()
        telemetry.refresh()  # follow a tracer/meter provider the app set globally

    @property
    def version(self) -> int:
        """A counter that grows each time a tool is added, replaced or removed."""
        return self._version

    def add_change_listener(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``listener(change, name)`` after each change: ``"added"``, ``"replaced"`` or
        ``"removed"`` and the tool's name (an MCP server sends ``tools/list_changed`` this way).

        Returns a function that removes the listener. A listener that raises is logged and
        the change stands.
        """
        if not callable(listener):
            raise ConfigurationError(f"a change listener must be callable, got {listener!r}")
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _changed(self, change: str, name: str) -> None:
        self._version += 1
        self._names = None
        self._listings.clear()
        self._near = None
        for listener in list(self._listeners):
            try:
                listener(change, name)
            except Exception:
                _logger.exception("tool registry change listener %r failed", listener)

    @property
    def busy_tool_threads(self) -> int:
        """How many pool threads are running a tool call now (overrunning ones included)."""
        return self._threads.busy

    def __repr__(self) -> str:
        return f"ToolRegistry(tools={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    # -- registration --------------------------------------------------------------------------

    def register_tool(
        self,
        tool: Tool,
        executor: Callable[..., Any] | None = None,
        *,
        replace: bool = False,
    ) -> None:
        """Add *tool*, run by *executor* if given, else by the tool's own function.

        The function is called as ``function(**params)`` and may be sync or async.
        Registering the identical tool (with the same function) again does nothing.

        Raises:
            ToolRegistrationError: The name breaks ``^[a-zA-Z0-9_-]{1,64}$``, a schema is not
                valid JSON Schema (or ``parameters`` does not describe an object), there is no
                function to run, the timeout is not positive, the description, category and
                tags are not strings or hold more than ``MAX_TOOL_TEXT`` (100,000) characters
                together, or a different tool already has the name and *replace* is False.
        """
        if not isinstance(tool, Tool):
            raise ToolRegistrationError(f"expected a Tool, got {type(tool).__name__}")
        name = tool.name
        if not isinstance(name, str) or not TOOL_NAME_PATTERN.fullmatch(name):
            raise ToolRegistrationError(
                f"invalid tool name {name!r}: use 1 to 64 letters, digits, '_' or '-'"
            )
        function = executor if executor is not None else tool.function
        if function is None:
            raise ToolRegistrationError(
                f"tool {name!r} has no function: give the Tool a function or pass an executor"
            )
        if not callable(function):
            raise ToolRegistrationError(f"the executor of tool {name!r} is not callable")
        if tool.timeout is not None and not tool.timeout > 0:
            raise ToolRegistrationError(
                f"tool {name!r}: timeout must be a positive number of seconds or None"
            )
        self._check_text(tool)
        existing = self._entries.get(name)
        if existing is not None and not replace:
            if existing.tool == tool and existing.function == function:
                return
            raise ToolRegistrationError(
                f"a different tool is already registered as {name!r} (pass replace=True)"
            )
        parameters = compile_schema(tool.parameters, what=f"parameters of tool {name!r}")
        if not _describes_object(tool.parameters):
            raise ToolRegistrationError(
                f'parameters of tool {name!r} must be a JSON Schema with "type": "object"'
            )
        returns = None
        if tool.returns is not None:
            returns = compile_schema(tool.returns, what=f"returns of tool {name!r}")
        if existing is not None:
            self._search.remove(name)
        self._search.add(tool)
        self._entries[name] = _Entry(tool, function, parameters, returns)
        self._changed("added" if existing is None else "replaced", name)

    @staticmethod
    def _check_text(tool: Tool) -> None:
        """Refuse a tool whose searchable text is not strings or too long to index quickly."""
        description: Any = tool.description
        category: Any = tool.category
        tags: Any = tool.tags
        strings = (
            isinstance(description, str)
            and isinstance(category, str)
            and isinstance(tags, tuple | list)
        )
        if strings:
            # Counted before the tags are read one by one: a million of them is refused at once.
            size = len(description) + len(category) + len(tags)
            if size <= MAX_TOOL_TEXT:
                strings = all(isinstance(tag, str) for tag in tags)
                if strings:
                    size = tool_text_size(description, category, tags)
        if not strings:
            raise ToolRegistrationError(
                f"tool {tool.name!r}: description and category must be strings and tags a"
                " tuple of strings"
            )
        if size > MAX_TOOL_TEXT:
            raise ToolRegistrationError(
                f"tool {tool.name!r}: its description, category and tags hold {size:,}"
                f" characters together, more than the {MAX_TOOL_TEXT:,} allowed (search_tools"
                " indexes them and models read them); shorten the description"
                " (agentkit.tools.fit_description cuts one to fit)"
            )

    def unregister_tool(self, name: str) -> bool:
        """Remove the tool called *name*; return whether there was one."""
        removed = self._entries.pop(name, None) is not None
        if removed:
            self._search.remove(name)
            self._changed("removed", name)
        return removed

    # -- lookup --------------------------------------------------------------------------------

    def get_tool(self, name: str) -> Tool:
        """The tool called *name*.

        Raises:
            ToolNotFoundError: No tool has that name (a ``KeyError``).
        """
        entry = self._entries.get(name)
        if entry is None:
            raise self._not_found(name)
        return entry.tool

    def list_tools(self, category: str | None = None, tag: str | None = None) -> list[Tool]:
        """Every registered tool, sorted by name; only those in *category* / with *tag*.

        The listing is kept until the registry changes, so asking again costs a copy, not a
        sort and a scan.
        """
        key = (category, tag)
        listing = self._listings.get(key)
        if listing is None:
            entries = self._entries
            listing = tuple(
                entries[name].tool
                for name in self._sorted_names()
                if (category is None or entries[name].tool.category == category)
                and (tag is None or tag in entries[name].tool.tags)
            )
            if len(self._listings) >= _MAX_LISTINGS:
                self._listings.clear()
            self._listings[key] = listing
        return list(listing)

    def _sorted_names(self) -> list[str]:
        """The tool names, sorted; kept until the registry changes."""
        if self._names is None:
            self._names = sorted(self._entries)
        return self._names

    def categories(self) -> list[str]:
        """The categories of the registered tools, sorted."""
        return sorted({entry.tool.category for entry in self._entries.values()})

    def search_tools(self, text: str) -> list[Tool]:
        """Tools matching every word of *text* (case-insensitive), best matches first.

        A word matches a tool's name, category, tags or description (anywhere in it, not only
        whole words); a hit in the name counts most, then category and tags, then the
        description. Ties are sorted by name. Empty text matches every tool.

        An index kept in step with registrations finds the tools that can match the rarest
        word, so a search costs about as much as the tools it finds, not every tool.
        """
        words = text.lower().split()
        if not words:
            return self.list_tools()
        return self._search.search(words)

    # -- execution -----------------------------------------------------------------------------

    async def execute_tool(
        self,
        name: str,
        params: Mapping[str, Any],
        timeout: float | None = None,
        *,
        call_id: str | None = None,
        _observed: bool = False,
    ) -> ToolResult:
        """Validate *params*, run the tool and report the outcome; tool failures never raise.

        Small arguments are validated on the event loop and an inline (``blocking=False``)
        tool runs there too: a pure, fast function on small input costs no thread hop. Big
        arguments (over ``inline_argument_size``) are validated in the registry's tool
        threads, and an inline tool given them runs there as well, so no input makes the
        registry do unbounded work on the loop.

        Args:
            name: The tool's name.
            params: The arguments object; checked against the tool's ``parameters`` first.
            timeout: Seconds allowed for this call (None: the tool's own ``timeout``). Async
                tools and everything run in a tool thread are held to it (a thread that
                overruns runs on in the background and its result is dropped); an inline
                call on small arguments cannot be interrupted, which is why inline tools must
                be bounded for every valid input.
            call_id: The model's id for this tool call (e.g. an OpenAI ``tool_call.id``);
                only recorded, as ``gen_ai.tool.call.id`` on the call's span when tracing.

        With OpenTelemetry on (see :mod:`agentkit.observability`) each call is an INTERNAL
        span ``execute_tool <name>`` (current while the tool runs) and a point of the
        ``agentkit.tool.duration`` histogram.

        Returns:
            A :class:`ToolResult`. ``error_type`` is ``"validation"`` (``error_path`` is a JSON
            pointer), ``"timeout"``, ``"not_configured"``, ``"sandbox"``,
            ``"output_validation"`` (with ``validate_output``) or the class name of the
            exception the tool raised.

        Raises:
            ToolNotFoundError: No tool has that name (a ``KeyError``).
        """
        if (telemetry.tracer is not None or telemetry.metrics is not None) and not _observed:
            return await self._execute_observed(name, params, timeout, call_id)
        entry = self._entries.get(name)
        if entry is None:
            raise self._not_found(name)
        clock = self._clock
        started = clock.monotonic()
        arguments: Any = params  # callers outside type checking pass anything
        if type(arguments) is not dict:
            if not isinstance(arguments, Mapping):
                return _refused(
                    name, f"parameters must be a JSON object, not {type(arguments).__name__}"
                )
            try:
                arguments = dict(arguments)
            except Exception as exc:  # a Mapping whose items cannot be read
                return _refused(name, f"parameters could not be read as a JSON object: {exc}")
        limit = entry.tool.timeout if timeout is None else timeout
        small = _size_at_most(arguments, self._inline_size)
        if small:
            violation = entry.parameters.first_error(arguments)
            if violation is not None:
                return self._invalid(name, violation, clock.monotonic() - started)
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0
        ):
            return _refused(
                name,
                f"timeout must be a positive number of seconds or None, not {limit!r}",
                path=None,
            )
        try:
            if not small:
                violation, output = await wait_for(clock, self._run_large(entry, arguments), limit)
                if violation is not None:
                    return self._invalid(name, violation, clock.monotonic() - started)
            elif entry.inline:
                output = entry.function(**arguments)
                if inspect.isawaitable(output):
                    output = await wait_for(clock, output, limit)
            elif entry.is_async:
                output = await wait_for(clock, entry.function(**arguments), limit)
            else:
                call = functools.partial(entry.function, **arguments)
                output = await wait_for(clock, self._threads.run(call), limit)
                if inspect.isawaitable(output):
                    output = await wait_for(clock, output, limit)
        except Exception as exc:
            return self._failure(name, exc, limit, clock.monotonic() - started)
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # our caller is cancelling us: never turn that into a result
            return self._failure(name, exc, limit, clock.monotonic() - started)
        except (SystemExit, GeneratorExit) as exc:  # the tool's own, not a request to stop
            return self._failure(name, exc, limit, clock.monotonic() - started)
        if self._validate_output and entry.returns is not None:
            if _size_at_most({"output": output}, self._inline_size):
                wrong = entry.returns.first_error(output)
            else:  # a big output is checked off the loop too
                wrong = await self._threads.run(entry.returns.first_error, output)
            if wrong is not None:
                return ToolResult(
                    tool=name,
                    success=False,
                    output=output,
                    error=f"output does not match the returns schema at "
                    f"{wrong.pointer or '/'}: {wrong.message}",
                    error_type=OUTPUT_VALIDATION,
                    error_path=wrong.pointer,
                    duration=clock.monotonic() - started,
                )
        return ToolResult(
            tool=name, success=True, output=output, duration=clock.monotonic() - started
        )

    async def _execute_observed(
        self, name: str, params: Mapping[str, Any], timeout: float | None, call_id: str | None
    ) -> ToolResult:
        """``execute_tool`` inside its span and timed for the duration metric (tracing or
        metrics are on); the tool's own exception, if it raised one, is recorded on the span."""
        tracer, metrics = telemetry.tracer, telemetry.metrics
        shown = _shown_tool_name(name)
        started = self._clock.monotonic()
        span: Span | None = None
        call: _ToolCall | None = None
        try:
            if tracer is None:
                result = await self.execute_tool(name, params, timeout, _observed=True)
            else:
                otel = _otel()
                attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": shown}
                if call_id is not None:
                    attributes["gen_ai.tool.call.id"] = str(call_id)[:_MAX_SHOWN]
                span = tracer.start_span(
                    f"execute_tool {shown}", kind=otel.INTERNAL, attributes=attributes
                )
                call = _ToolCall(span)
                token = otel.attach(otel.set_span_in_context(span))
                call_token = _current_call.set(call)
                try:
                    result = await self.execute_tool(name, params, timeout, _observed=True)
                finally:
                    _current_call.reset(call_token)
                    otel.detach(token)
        except BaseException as exc:
            error_type = (
                _TOOL_NOT_FOUND if isinstance(exc, ToolNotFoundError) else type(exc).__name__
            )
            if span is not None:
                _tool_span_failed(span, error_type, str(exc), exc)
                span.end()
            if metrics is not None:
                metrics.tool_duration.record(
                    self._clock.monotonic() - started,
                    {
                        "gen_ai.tool.name": metrics.tools(shown),
                        "error.type": metrics.errors(error_type),
                    },
                )
            raise
        if span is not None:
            span.set_attribute("agentkit.tool.success", result.success)
            if not result.success:
                _tool_span_failed(
                    span,
                    result.error_type or "error",
                    result.error or "",
                    None if call is not None and call.recorded else _failure_exception(result),
                )
            span.end()
        if metrics is not None:
            labels = {"gen_ai.tool.name": metrics.tools(shown)}
            if not result.success:
                labels["error.type"] = metrics.errors(result.error_type or "error")
            metrics.tool_duration.record(result.duration, labels)
        return result

    async def _run_large(
        self, entry: _Entry, arguments: dict[str, Any]
    ) -> tuple[SchemaViolation | None, Any]:
        """Validate big *arguments* and run the tool, keeping both off the event loop."""
        if entry.is_async:
            violation = await self._threads.run(entry.parameters.first_error, arguments)
            if violation is not None:
                return violation, None
            return None, await entry.function(**arguments)
        violation, output = await self._threads.run(_validate_and_call, entry, arguments)
        if violation is None and inspect.isawaitable(output):
            output = await output
        return violation, output

    def _invalid(self, name: str, violation: SchemaViolation, duration: float) -> ToolResult:
        return ToolResult(
            tool=name,
            success=False,
            error=f"invalid parameters at {violation.pointer or '/'}: {violation.message}",
            error_type=VALIDATION,
            error_path=violation.pointer,
            duration=duration,
        )

    def _failure(
        self, name: str, exc: BaseException, limit: float | None, duration: float
    ) -> ToolResult:
        if isinstance(exc, TimeoutError):
            error_type = TIMEOUT
            # With a limit, the deadline is ours (or the tool's own timeout ran out first).
            message = f"tool {name!r} timed out after {limit} s" if limit else str(exc)
            message = message or f"tool {name!r} timed out"
        elif isinstance(exc, ToolNotConfiguredError):
            error_type, message = NOT_CONFIGURED, str(exc)
        elif isinstance(exc, SandboxViolationError):
            error_type, message = SANDBOX, str(exc)
        elif isinstance(exc, ToolExit):
            error_type, message = exc.kind, str(exc)
        else:
            error_type, message = type(exc).__name__, str(exc) or type(exc).__name__
        _logger.debug("tool %r failed (%s): %s", name, error_type, message)
        if telemetry.tracer is not None:
            _record_tool_exception(exc)
        return ToolResult(
            tool=name, success=False, error=message, error_type=error_type, duration=duration
        )

    def _not_found(self, name: object) -> ToolNotFoundError:
        known = ", ".join(self._sorted_names()[:20]) or "none"
        similar = self._similar_names(name)
        hint = f" (did you mean {' or '.join(map(repr, similar))}?)" if similar else ""
        return ToolNotFoundError(f"no tool named {name!r}{hint} (registered: {known})")

    def _similar_names(self, name: object) -> list[str]:
        """Up to three registered names like *name* (compared case-insensitively), most alike
        first.

        Only a bounded set is compared: the names next to *name* (and to it without its last
        one or two characters) in sorted order, and the same read backwards, since a typo
        keeps either the start or the end of a name. The cost does not grow with the number
        of tools, past the two sorts kept until the registry next changes.
        """
        if not isinstance(name, str) or not name or len(name) > _LONGEST_COMPARED:
            return []
        if self._near is None:
            spelled: dict[str, list[str]] = {}
            for known in self._entries:
                spelled.setdefault(known.lower(), []).append(known)
            self._near = (sorted(spelled), sorted(low[::-1] for low in spelled), spelled)
        forwards, backwards, spelled = self._near
        wanted = name.lower()
        candidates: set[str] = set()
        for ordered, key in ((forwards, wanted), (backwards, wanted[::-1])):
            for cut in range(min(3, len(key))):
                at = bisect.bisect_left(ordered, key[: len(key) - cut])
                low, high = max(0, at - _NEAR_NEIGHBOURS), at + _NEAR_NEIGHBOURS
                candidates.update(
                    ordered[low:high]
                    if ordered is forwards
                    else [each[::-1] for each in ordered[low:high]]
                )
        matcher = difflib.SequenceMatcher(b=wanted, autojunk=False)
        scored: list[tuple[float, str]] = []
        for low_name in candidates:
            matcher.set_seq1(low_name)
            if (
                matcher.real_quick_ratio() >= _SUGGEST_CUTOFF
                and matcher.quick_ratio() >= _SUGGEST_CUTOFF
                and (ratio := matcher.ratio()) >= _SUGGEST_CUTOFF
            ):
                scored.extend((-ratio, known) for known in spelled[low_name])
        scored.sort()
        return [known for _, known in scored[:_MOST_SUGGESTED]]


#: Longest tool name or call id put on a span (registered names have at most 64 characters;
#: an unknown name can be anything).
_MAX_SHOWN: Final = 128
#: ``error.type`` of a call to a tool the registry does not have.
_TOOL_NOT_FOUND: Final = "tool_not_found"


class _ToolCall:
    """The span of the traced ``execute_tool`` call running in this context."""

    __slots__ = ("recorded", "span")

    def __init__(self, span: Span) -> None:
        self.span = span
        self.recorded = False


_current_call: contextvars.ContextVar[_ToolCall | None] = contextvars.ContextVar(
    "agentkit_tool_call", default=None
)


_api: Any = None


def _otel() -> Any:
    """The OpenTelemetry API pieces a traced call uses, imported once (tracing is on)."""
    global _api
    if _api is None:
        from opentelemetry.context import attach, detach
        from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

        _api = types.SimpleNamespace(
            attach=attach,
            detach=detach,
            set_span_in_context=set_span_in_context,
            INTERNAL=SpanKind.INTERNAL,
            Status=Status,
            ERROR=StatusCode.ERROR,
        )
    return _api


def _shown_tool_name(name: object) -> str:
    """*name* as a span attribute and metric label: a str, at most _MAX_SHOWN characters."""
    text = name if isinstance(name, str) else repr(name)
    return text[:_MAX_SHOWN]


def _record_tool_exception(exc: BaseException) -> None:
    """Record the exception a tool raised on its call's span (tracing is on)."""
    call = _current_call.get()
    if call is not None and not call.recorded:
        call.span.record_exception(exc)
        call.recorded = True


def _failure_exception(result: ToolResult) -> Exception:
    """A typed error standing for a failure no exception was raised for (bad arguments...)."""
    if result.error_type == VALIDATION:
        return ToolInputError(result.error or "invalid parameters")
    return ToolError(result.error or f"tool {result.tool!r} failed ({result.error_type})")


def _tool_span_failed(span: Span, error_type: str, message: str, exc: BaseException | None) -> None:
    otel = _otel()
    span.set_attribute("error.type", error_type)
    if exc is not None:
        span.record_exception(exc)
    span.set_status(otel.Status(otel.ERROR, message[: _MAX_SHOWN * 4]))


def _refused(name: str, message: str, *, path: str | None = "") -> ToolResult:
    """A validation failure found before the schema ran (*path* "": the parameters object)."""
    return ToolResult(
        tool=name, success=False, error=message, error_type=VALIDATION, error_path=path
    )


def _validate_and_call(
    entry: _Entry, arguments: dict[str, Any]
) -> tuple[SchemaViolation | None, Any]:
    violation = entry.parameters.first_error(arguments)
    if violation is not None:
        return violation, None
    return None, entry.function(**arguments)


def _size_at_most(arguments: dict[str, Any], budget: int) -> bool:
    """Whether *arguments* are at most *budget* big: string characters plus values, counted
    without recursion and stopping as soon as the budget is spent."""
    remaining = budget - len(arguments)
    nested: list[Any] = []
    for value in arguments.values():  # the common case: a flat object of scalars
        kind = type(value)
        if kind is str:
            remaining -= len(value)
        elif kind is int:
            remaining -= value.bit_length() >> 6
        elif not (kind is float or kind is bool or value is None):
            nested.append(value)
    if remaining < 0:
        return False
    return not nested or _nested_size_at_most(nested, remaining)


def _nested_size_at_most(stack: list[Any], remaining: int) -> bool:
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            remaining -= len(item)
        elif kind is dict:
            remaining -= 2 * len(item)
            if remaining < 0:
                return False
            stack.extend(item)
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            remaining -= len(item)
            if remaining < 0:
                return False
            stack.extend(item)
        elif kind is int:
            remaining -= 1 + (item.bit_length() >> 6)
        elif kind is float or kind is bool or item is None:
            remaining -= 1
        elif isinstance(item, str | bytes | bytearray | Mapping | list | tuple | set | int):
            return False  # subclasses and byte strings: let a tool thread deal with them
        else:
            remaining -= 1
        if remaining < 0:
            return False
    return True


def _describes_object(schema: Mapping[str, Any] | bool) -> bool:
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and kind == ["object"])


def _is_async_callable(function: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004 - an object with async __call__
    return call is not None and inspect.iscoroutinefunction(call)
