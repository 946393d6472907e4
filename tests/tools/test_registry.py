"""The tool registry: registration, lookup and execute_tool results (agentkit.tools._registry)."""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import (
    ConfigurationError,
    Registry,
    SandboxViolationError,
    Tool,
    ToolHints,
    ToolNotConfiguredError,
    ToolNotFoundError,
    ToolRegistrationError,
    ToolRegistry,
    ToolResult,
)
from agentkit.testing import VirtualClock

SUMMARY_PARAMETERS = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "max_length": {"type": "integer", "minimum": 1},
    },
    "required": ["text"],
    "additionalProperties": False,
}


def shorten(text: str, max_length: int = 10) -> str:
    """Cut *text* to *max_length* characters."""
    return text[:max_length]


def make_tool(**changes: Any) -> Tool:
    """A small summarising tool; *changes* override its fields."""
    fields: dict[str, Any] = {
        "name": "text_shorten",
        "description": "Shorten a text to a number of characters.",
        "category": "text",
        "parameters": SUMMARY_PARAMETERS,
        "returns": {"type": "string"},
        "tags": ("summary", "strings"),
        "function": shorten,
    }
    fields.update(changes)
    return Tool(**fields)


# -- registration --------------------------------------------------------------------------------


def test_registry_starts_empty_and_satisfies_the_protocol() -> None:
    """A new registry holds no tools and is a Registry."""
    registry = ToolRegistry()
    assert registry.list_tools() == []
    assert len(registry) == 0
    assert isinstance(registry, Registry)


def test_registering_the_identical_tool_again_is_a_no_op() -> None:
    """The same tool with the same function registered twice stays one tool."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    registry.register_tool(make_tool())
    assert [tool.name for tool in registry.list_tools()] == ["text_shorten"]


def test_a_different_tool_under_a_taken_name_is_refused_unless_replaced() -> None:
    """A second, different tool with the same name raises; replace=True swaps it in."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    other = make_tool(description="Something else.")
    with pytest.raises(ToolRegistrationError, match="already registered"):
        registry.register_tool(other)
    with pytest.raises(ToolRegistrationError, match="already registered"):
        registry.register_tool(make_tool(), lambda text, max_length=1: text)
    assert registry.get_tool("text_shorten").description.startswith("Shorten")
    registry.register_tool(other, replace=True)
    assert registry.get_tool("text_shorten") is other


@pytest.mark.parametrize("name", ["", "has space", "a" * 65, "dot.name", "ünï", "slash/name"])
def test_invalid_names_are_refused(name: str) -> None:
    """Names outside ^[a-zA-Z0-9_-]{1,64}$ raise ToolRegistrationError and register nothing."""
    registry = ToolRegistry()
    with pytest.raises(ToolRegistrationError, match="invalid tool name"):
        registry.register_tool(make_tool(name=name))
    assert len(registry) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parameters": {"type": "object", "properties": {"n": {"type": "int"}}}}, "/properties"),
        ({"parameters": {"type": "string"}}, '"type": "object"'),
        ({"parameters": {"properties": {}}}, '"type": "object"'),
        ({"returns": {"minimum": "zero"}}, "returns of tool"),
        ({"function": None}, "has no function"),
        ({"timeout": 0}, "timeout must be a positive"),
        ({"timeout": -1.0}, "timeout must be a positive"),
    ],
)
def test_bad_tools_are_refused_with_a_clear_error(changes: dict[str, Any], message: str) -> None:
    """Bad schemas, a missing function or a bad timeout raise at registration."""
    registry = ToolRegistry()
    with pytest.raises(ToolRegistrationError, match=message.replace("/", ".")):
        registry.register_tool(make_tool(**changes))
    assert "text_shorten" not in registry


def test_registering_something_that_is_not_a_tool_is_refused() -> None:
    """Only Tool objects can be registered."""
    with pytest.raises(ToolRegistrationError, match="expected a Tool"):
        ToolRegistry().register_tool({"name": "x"})  # type: ignore[arg-type]


def test_a_draft07_schema_is_accepted() -> None:
    """Parameters in draft-07 (named by $schema) register and validate."""
    registry = ToolRegistry()
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", **SUMMARY_PARAMETERS}
    registry.register_tool(make_tool(parameters=schema))
    assert registry.get_tool("text_shorten").parameters == schema


def test_unregister_removes_the_tool() -> None:
    """unregister_tool removes a tool and reports whether there was one."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    assert registry.unregister_tool("text_shorten") is True
    assert registry.unregister_tool("text_shorten") is False
    with pytest.raises(ToolNotFoundError):
        registry.get_tool("text_shorten")


# -- lookup --------------------------------------------------------------------------------------


def _library() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    registry.register_tool(
        make_tool(
            name="math_add",
            description="Add two numbers.",
            category="math",
            tags=("arithmetic",),
            function=lambda a, b: a + b,
            parameters={"type": "object", "properties": {"a": {}, "b": {}}},
        )
    )
    registry.register_tool(
        make_tool(
            name="text_count",
            description="Count the words of a text (a summary statistic).",
            tags=("strings",),
            function=lambda text: len(text.split()),
        )
    )
    return registry


def test_unknown_tool_raises_a_key_error_naming_it() -> None:
    """get_tool of an unknown name raises ToolNotFoundError, which is a KeyError."""
    with pytest.raises(KeyError) as caught:
        _library().get_tool("nope")
    assert isinstance(caught.value, ToolNotFoundError)
    assert "'nope'" in str(caught.value)
    assert "text_count" in str(caught.value)


def test_list_tools_filters_by_category_and_tag_sorted_by_name() -> None:
    """list_tools sorts by name and filters by category and by tag."""
    registry = _library()
    assert [tool.name for tool in registry.list_tools()] == [
        "math_add",
        "text_count",
        "text_shorten",
    ]
    assert [tool.name for tool in registry.list_tools(category="text")] == [
        "text_count",
        "text_shorten",
    ]
    assert [tool.name for tool in registry.list_tools(tag="summary")] == ["text_shorten"]
    assert registry.list_tools(category="text", tag="arithmetic") == []
    assert registry.categories() == ["math", "text"]


def test_search_ranks_name_hits_first_and_needs_every_word() -> None:
    """search_tools matches every word in name, category, tags or description, best first."""
    registry = _library()
    assert [tool.name for tool in registry.search_tools("summary")] == [
        "text_shorten",
        "text_count",
    ]
    assert [tool.name for tool in registry.search_tools("TEXT count")] == ["text_count"]
    assert [tool.name for tool in registry.search_tools("add")] == ["math_add"]
    assert registry.search_tools("count banana") == []
    assert len(registry.search_tools("")) == 3


# -- execution -----------------------------------------------------------------------------------


async def test_execute_runs_the_tool_with_validated_params() -> None:
    """A valid call returns success, the function's output and a duration."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    result = await registry.execute_tool(
        "text_shorten", {"text": "Long document...", "max_length": 4}
    )
    assert isinstance(result, ToolResult)
    assert (result.success, result.output, result.error) == (True, "Long", None)
    assert result.duration >= 0
    assert result.to_dict()["output"] == "Long"


async def test_explicit_executor_wins_over_the_tools_function() -> None:
    """An executor passed to register_tool runs instead of the tool's own function."""
    calls: list[dict[str, Any]] = []

    def executor(**params: Any) -> str:
        calls.append(params)
        return "from executor"

    registry = ToolRegistry()
    registry.register_tool(make_tool(), executor)
    result = await registry.execute_tool("text_shorten", {"text": "abc"})
    assert result.output == "from executor"
    assert calls == [{"text": "abc"}]


async def test_invalid_params_give_a_validation_error_with_a_pointer() -> None:
    """A schema violation is reported with error_type validation and a JSON pointer; the
    function never runs."""
    calls: list[Any] = []
    registry = ToolRegistry()
    registry.register_tool(make_tool(function=lambda **params: calls.append(params)))
    result = await registry.execute_tool("text_shorten", {"text": "x", "max_length": "long"})
    assert (result.success, result.error_type, result.error_path) == (
        False,
        "validation",
        "/max_length",
    )
    assert "'long' is not of type 'integer'" in (result.error or "")
    missing = await registry.execute_tool("text_shorten", {})
    assert (missing.error_type, missing.error_path) == ("validation", "")
    assert "'text' is a required property" in (missing.error or "")
    assert calls == []


@pytest.mark.parametrize("params", [None, ["text"], "text", 3])
async def test_params_that_are_not_an_object_are_a_validation_error(params: Any) -> None:
    """Parameters that are not a mapping give a validation error, not an exception."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    result = await registry.execute_tool("text_shorten", params)
    assert (result.success, result.error_type, result.error_path) == (False, "validation", "")
    assert "JSON object" in (result.error or "")


async def test_any_mapping_is_accepted_as_params() -> None:
    """A read-only mapping is validated and passed like a dict."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    params = types.MappingProxyType({"text": "abcdef", "max_length": 2})
    result = await registry.execute_tool("text_shorten", params)
    assert result.output == "ab"


async def test_execute_unknown_tool_raises() -> None:
    """execute_tool of an unknown name raises ToolNotFoundError (the one thing it raises)."""
    with pytest.raises(ToolNotFoundError):
        await ToolRegistry().execute_tool("nope", {})


async def test_blocking_sync_tools_run_in_a_thread_inline_ones_on_the_loop() -> None:
    """blocking=True sync functions run off the event loop; blocking=False ones run inline."""
    loop_thread = threading.get_ident()
    registry = ToolRegistry()
    registry.register_tool(
        make_tool(name="blocking", function=lambda **_: threading.get_ident(), blocking=True)
    )
    registry.register_tool(
        make_tool(name="inline", function=lambda **_: threading.get_ident(), blocking=False)
    )
    blocking = await registry.execute_tool("blocking", {"text": "a"})
    inline = await registry.execute_tool("inline", {"text": "a"})
    assert blocking.output != loop_thread
    assert inline.output == loop_thread


async def test_async_tools_and_async_callables_are_awaited() -> None:
    """Coroutine functions and objects with an async __call__ are awaited."""

    async def upper(text: str) -> str:
        await asyncio.sleep(0)
        return text.upper()

    class Lower:
        async def __call__(self, text: str) -> str:
            return text.lower()

    registry = ToolRegistry()
    registry.register_tool(make_tool(name="upper", function=upper))
    registry.register_tool(make_tool(name="lower", function=Lower()))
    assert (await registry.execute_tool("upper", {"text": "ab"})).output == "AB"
    assert (await registry.execute_tool("lower", {"text": "AB"})).output == "ab"


async def test_async_tool_times_out_on_the_registry_clock() -> None:
    """An async tool past its timeout gives error_type timeout after that much clock time."""
    clock = VirtualClock()

    async def slow(text: str) -> str:
        await clock.sleep(10)
        return text

    registry = ToolRegistry(clock=clock)
    registry.register_tool(make_tool(function=slow, timeout=2.0))
    call = asyncio.ensure_future(registry.execute_tool("text_shorten", {"text": "a"}))
    await clock.advance(2.0)
    result = await call
    assert (result.success, result.error_type) == (False, "timeout")
    assert "timed out after 2.0 s" in (result.error or "")
    assert result.duration == 2.0


async def test_timeout_argument_overrides_the_tools_own() -> None:
    """execute_tool(timeout=...) replaces the tool's timeout for that call, longer or shorter."""
    clock = VirtualClock()

    async def slow(text: str) -> str:
        await clock.sleep(3)
        return text

    registry = ToolRegistry(clock=clock)
    registry.register_tool(make_tool(function=slow, timeout=1.0))
    longer = asyncio.ensure_future(registry.execute_tool("text_shorten", {"text": "a"}, timeout=5))
    await clock.advance(3.0)
    assert (await longer).output == "a"
    shorter = asyncio.ensure_future(
        registry.execute_tool("text_shorten", {"text": "a"}, timeout=0.5)
    )
    await clock.advance(0.5)
    assert (await shorter).error_type == "timeout"


async def test_blocking_tool_times_out_without_blocking_the_loop() -> None:
    """A blocking tool stuck in its thread times out; the loop stays free meanwhile."""
    clock = VirtualClock()
    release = threading.Event()
    registry = ToolRegistry(clock=clock)
    registry.register_tool(make_tool(function=lambda **_: release.wait(30), timeout=1.0))
    call = asyncio.ensure_future(registry.execute_tool("text_shorten", {"text": "a"}))
    await clock.advance(1.0)
    result = await call
    release.set()
    assert result.error_type == "timeout"


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5", True, [1]])
async def test_a_bad_timeout_argument_is_reported_not_raised(timeout: float) -> None:
    """A timeout that is not a positive number comes back as a validation failure."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    result = await registry.execute_tool("text_shorten", {"text": "a"}, timeout=timeout)
    assert (result.success, result.error_type) == (False, "validation")
    assert "timeout" in (result.error or "")


@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        (ToolNotConfiguredError("no translation provider configured"), "not_configured"),
        (SandboxViolationError("'../etc' leaves the sandbox"), "sandbox"),
        (ZeroDivisionError("division by zero"), "ZeroDivisionError"),
        (TimeoutError("upstream timed out"), "timeout"),
        (ValueError(), "ValueError"),
    ],
)
async def test_tool_exceptions_become_structured_errors(error: Exception, error_type: str) -> None:
    """An exception inside the tool is returned as a failure with a typed error, not raised."""

    def failing(**_: Any) -> None:
        raise error

    registry = ToolRegistry()
    registry.register_tool(make_tool(function=failing, timeout=None))
    result = await registry.execute_tool("text_shorten", {"text": "a"})
    assert (result.success, result.error_type) == (False, error_type)
    assert result.error == (str(error) or type(error).__name__)
    assert result.output is None


async def test_output_is_checked_against_returns_only_when_asked() -> None:
    """With validate_output a result breaking the returns schema fails; without, it passes."""
    tool = make_tool(function=lambda **_: 42)
    plain = ToolRegistry()
    plain.register_tool(tool)
    assert (await plain.execute_tool("text_shorten", {"text": "a"})).success
    strict = ToolRegistry(validate_output=True)
    strict.register_tool(tool)
    result = await strict.execute_tool("text_shorten", {"text": "a"})
    assert (result.success, result.error_type, result.output) == (False, "output_validation", 42)
    assert "not of type 'string'" in (result.error or "")


async def test_tool_hints_and_metadata_are_kept() -> None:
    """get_tool returns the tool as registered, hints and all."""
    registry = ToolRegistry()
    tool = make_tool(hints=ToolHints(read_only=True, idempotent=True), version="2.1.0")
    registry.register_tool(tool)
    assert registry.get_tool("text_shorten") is tool


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)
param_values = st.dictionaries(
    st.sampled_from(["text", "max_length", "other"]), json_values, max_size=3
)


@given(params=param_values)
def test_execute_succeeds_exactly_when_jsonschema_accepts(params: dict[str, Any]) -> None:
    """For any parameters, execute_tool never raises and succeeds iff jsonschema accepts them."""
    registry = ToolRegistry()
    registry.register_tool(make_tool(function=lambda **kwargs: kwargs, blocking=False))
    result = asyncio.run(registry.execute_tool("text_shorten", params))
    assert result.success == jsonschema.Draft202012Validator(SUMMARY_PARAMETERS).is_valid(params)
    if result.success:
        assert result.output == params


# -- bounded execution: the tool threads ---------------------------------------------------------

BIG_TEXT = "x" * 10_000  # over the default inline_argument_size


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until *condition* holds (a tool thread got going), for at most 10 seconds."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


async def test_inline_tool_with_big_arguments_runs_in_a_tool_thread_and_times_out() -> None:
    """An inline tool given big arguments runs off the loop, so its timeout holds."""
    clock = VirtualClock()
    release = threading.Event()
    threads: list[int] = []

    def stuck(**_: Any) -> str:
        threads.append(threading.get_ident())
        release.wait(30)
        return "late"

    registry = ToolRegistry(clock=clock)
    registry.register_tool(make_tool(function=stuck, blocking=False, timeout=1.0))
    call = asyncio.ensure_future(registry.execute_tool("text_shorten", {"text": BIG_TEXT}))
    await eventually(lambda: bool(threads))
    await clock.advance(1.0)
    result = await call
    release.set()
    assert result.error_type == "timeout"
    assert threads != [threading.get_ident()]


@pytest.mark.timeout(30)
async def test_stuck_tools_fill_only_their_own_bounded_pool() -> None:
    """Stuck tools take at most max_tool_threads threads; asyncio's executor and DNS stay free."""
    clock = VirtualClock()
    release = threading.Event()
    registry = ToolRegistry(clock=clock, max_tool_threads=2)
    registry.register_tool(make_tool(function=lambda **_: release.wait(30), timeout=1.0))
    calls = [
        asyncio.ensure_future(registry.execute_tool("text_shorten", {"text": "a"}))
        for _ in range(5)
    ]
    await eventually(lambda: registry.busy_tool_threads == 2)
    await clock.advance(1.0)
    results = await asyncio.gather(*calls)
    assert [result.error_type for result in results] == ["timeout"] * 5
    assert registry.busy_tool_threads == 2
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, lambda: 42) == 42
    assert await loop.getaddrinfo("127.0.0.1", 80)
    release.set()
    await eventually(lambda: registry.busy_tool_threads == 0)
    later = await registry.execute_tool("text_shorten", {"text": "a"})
    assert later.success


@pytest.mark.parametrize("blocking", [True, False])
@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        (SystemExit(3), "SystemExit"),
        (GeneratorExit(), "GeneratorExit"),
        (StopIteration(), "StopIteration"),
        (asyncio.CancelledError(), "CancelledError"),
    ],
)
async def test_base_exceptions_from_a_tool_become_failures(
    blocking: bool, error: BaseException, error_type: str
) -> None:
    """A tool raising SystemExit, GeneratorExit, StopIteration or CancelledError fails alone."""

    def raising(**_: Any) -> None:
        raise error

    registry = ToolRegistry()
    registry.register_tool(make_tool(function=raising, blocking=blocking))
    result = await registry.execute_tool("text_shorten", {"text": "a"})
    assert not result.success
    assert result.error_type == error_type
    assert (await registry.execute_tool("text_shorten", {"text": "a"})).error_type == error_type


async def test_cancelling_the_caller_of_a_threaded_call_still_cancels() -> None:
    """Cancelling the task awaiting a call in a tool thread raises CancelledError in it."""
    release = threading.Event()
    registry = ToolRegistry()
    registry.register_tool(make_tool(function=lambda **_: release.wait(30)))
    call = asyncio.ensure_future(registry.execute_tool("text_shorten", {"text": "a"}))
    await eventually(lambda: registry.busy_tool_threads == 1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    release.set()


async def test_big_invalid_arguments_are_reported_like_small_ones() -> None:
    """Arguments validated in a tool thread give the same pointer and message."""
    registry = ToolRegistry()
    registry.register_tool(make_tool(blocking=False))
    small = await registry.execute_tool("text_shorten", {"text": "a", "max_length": "x"})
    big = await registry.execute_tool("text_shorten", {"text": BIG_TEXT, "max_length": "x"})
    assert (big.error_type, big.error_path, big.error) == (
        small.error_type,
        small.error_path,
        small.error,
    )


@pytest.mark.parametrize(
    "options", [{"max_tool_threads": 0}, {"inline_argument_size": -1}, {"max_tool_threads": 1.5}]
)
def test_bad_pool_options_are_refused(options: dict[str, Any]) -> None:
    """max_tool_threads and inline_argument_size must be positive integers."""
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        ToolRegistry(**options)


big_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=20) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=60,
)


@settings(max_examples=60)
@given(
    params=st.dictionaries(st.sampled_from(["text", "max_length", "other"]), big_values, max_size=3)
)
def test_results_do_not_depend_on_where_the_call_runs(params: dict[str, Any]) -> None:
    """A call validated and run on the loop and the same call in a tool thread give one result."""

    async def both() -> tuple[ToolResult, ToolResult]:
        results = []
        for size in (10**9, 1):
            registry = ToolRegistry(inline_argument_size=size)
            registry.register_tool(make_tool(function=lambda **kwargs: kwargs, blocking=False))
            results.append(await registry.execute_tool("text_shorten", params))
        return results[0], results[1]

    on_loop, in_thread = asyncio.run(both())
    assert (on_loop.success, on_loop.output, on_loop.error_path, on_loop.error) == (
        in_thread.success,
        in_thread.output,
        in_thread.error_path,
        in_thread.error,
    )


async def test_big_outputs_are_checked_against_returns_too() -> None:
    """With validate_output, a big wrong output is reported like a small one."""
    registry = ToolRegistry(validate_output=True)
    registry.register_tool(make_tool(function=lambda **_: [1] * 100_000, blocking=False))
    result = await registry.execute_tool("text_shorten", {"text": "a"})
    assert result.error_type == "output_validation"
    assert result.error_path == ""


class _BrokenMapping(dict[str, Any]):
    """A Mapping whose items raise when read."""

    def keys(self) -> Any:
        raise RuntimeError("broken mapping")

    def __iter__(self) -> Any:
        raise RuntimeError("broken mapping")


async def test_a_mapping_that_cannot_be_read_is_a_validation_failure() -> None:
    """Parameters whose items raise when read come back as a validation failure, not raised."""
    registry = ToolRegistry()
    registry.register_tool(make_tool())
    result = await registry.execute_tool("text_shorten", _BrokenMapping(text="a"))
    assert (result.success, result.error_type) == (False, "validation")


def test_change_listeners_hear_every_change() -> None:
    """A change listener hears added, replaced and removed with the tool's name; the version
    grows with each; re-registering the identical tool is no change; a raising listener does
    not undo the change; the returned function removes the listener."""

    def double(x: int) -> int:
        return 2 * x

    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    tool = Tool(name="double", description="Double x.", parameters=schema, function=double)
    registry = ToolRegistry()
    heard: list[tuple[str, str]] = []

    def broken(change: str, name: str) -> None:
        raise RuntimeError("listener bug")

    remove = registry.add_change_listener(lambda change, name: heard.append((change, name)))
    registry.add_change_listener(broken)
    start = registry.version
    registry.register_tool(tool)
    registry.register_tool(tool)  # identical: nothing changes
    registry.register_tool(tool, lambda x: x, replace=True)
    assert registry.unregister_tool("double")
    assert not registry.unregister_tool("double")
    assert heard == [("added", "double"), ("replaced", "double"), ("removed", "double")]
    assert registry.version == start + 3
    remove()
    registry.register_tool(tool)
    assert len(heard) == 3
    assert "double" in registry
    with pytest.raises(ConfigurationError):
        registry.add_change_listener("not callable")  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["register", "replace", "unregister", "list", "search"]),
            st.sampled_from(["alpha", "beta", "gamma", "delta", "alpha_2"]),
            st.sampled_from(["math", "text", None]),
            st.sampled_from(["fast", "slow", None]),
        ),
        max_size=40,
    )
)
def test_kept_listings_always_equal_a_fresh_scan(
    steps: list[tuple[str, str, str | None, str | None]],
) -> None:
    """Whatever the sequence of registrations, replacements and removals, list_tools,
    search_tools and the unknown-tool message answer as a fresh scan of the tools would."""
    registry = ToolRegistry()
    live: dict[str, Tool] = {}

    def make(name: str, category: str | None, tag: str | None, text: str) -> Tool:
        return Tool(
            name=name,
            description=f"{text} tool {name}",
            category=category or "general",
            tags=(tag,) if tag else (),
            function=lambda: None,
        )

    for index, (action, name, category, tag) in enumerate(steps):
        if action in ("register", "replace"):
            tool = make(name, category, tag, f"v{index}")
            registry.register_tool(tool, replace=True)
            live[name] = tool
        elif action == "unregister":
            registry.unregister_tool(name)
            live.pop(name, None)
        elif action == "list":
            expected = [
                live[n]
                for n in sorted(live)
                if (category is None or live[n].category == category)
                and (tag is None or tag in live[n].tags)
            ]
            assert registry.list_tools(category=category, tag=tag) == expected
            assert registry.list_tools() == [live[n] for n in sorted(live)]
        else:
            found = registry.search_tools(name)
            assert {tool.name for tool in found} == {
                n for n, t in live.items() if name in n or name in t.description
            }
    with pytest.raises(ToolNotFoundError) as caught:
        registry.get_tool("nope")
    assert str(caught.value).endswith(f"(registered: {', '.join(sorted(live)[:20]) or 'none'})")
    listed = registry.list_tools()
    listed.clear()  # the caller's copy; the registry keeps its own
    assert registry.list_tools() == [live[n] for n in sorted(live)]


# -- the text search_tools indexes is bounded ----------------------------------------------

#: Characters whose lowercasing costs the most (İ becomes two characters, Σ looks at its
#: neighbours), beside plain ones.
_SLOW_TO_LOWER = st.sampled_from(["\u0130", "\u03a3", "\u4e00", "A", "a", " "])


@settings(max_examples=30)
@given(
    char=_SLOW_TO_LOWER,
    over=st.integers(-2, 3),
    split=st.tuples(st.integers(0, 200), st.integers(0, 3)),
)
def test_tool_text_is_refused_past_max_tool_text_and_nothing_changes(
    char: str, over: int, split: tuple[int, int]
) -> None:
    """A tool whose description, category and tags hold more than MAX_TOOL_TEXT characters
    together is refused with a typed error and leaves the registry as it was; at the limit or
    under it registers."""
    from agentkit.tools import MAX_TOOL_TEXT, tool_text_size

    category_size, tag_count = split
    tags = tuple(char * 10 for _ in range(tag_count))
    category = "c" + char * category_size
    room = MAX_TOOL_TEXT + over - tool_text_size("", category, tags)
    candidate = Tool(
        name="wordy",
        description=char * room,
        category=category,
        tags=tags,
        function=lambda: None,
    )
    registry = ToolRegistry()
    kept = Tool(name="wordy", description="kept", function=lambda: None)
    registry.register_tool(kept)
    if over > 0:
        with pytest.raises(ToolRegistrationError, match="100,000 allowed"):
            registry.register_tool(candidate, replace=True)
        assert registry.get_tool("wordy") is kept
        assert [tool.name for tool in registry.search_tools("kept")] == ["wordy"]
    else:
        registry.register_tool(candidate, replace=True)
        assert registry.get_tool("wordy") is candidate
        assert [tool.name for tool in registry.search_tools(category)] == ["wordy"]


@given(
    description=st.text(max_size=50).map(lambda text: text * 3_000),
    category=st.text(max_size=20),
    tags=st.lists(st.text(max_size=20), max_size=3),
)
def test_fit_description_cuts_only_what_does_not_fit(
    description: str, category: str, tags: list[str]
) -> None:
    """fit_description returns a description that fits as it is, and otherwise its start
    followed by " …", as long as fits with the category and tags."""
    from agentkit.tools import MAX_TOOL_TEXT, fit_description, tool_text_size

    fitted = fit_description(description, category=category, tags=tags)
    if tool_text_size(description, category, tags) <= MAX_TOOL_TEXT:
        assert fitted == description
    else:
        assert fitted.endswith(" …")
        assert description.startswith(fitted[: -len(" …")])
        assert tool_text_size(fitted, category, tags) == MAX_TOOL_TEXT


@pytest.mark.parametrize(
    "fields",
    [{"description": None}, {"category": 7}, {"tags": ("ok", 3)}, {"tags": "abc"}],
)
def test_tool_text_that_is_not_strings_is_a_typed_error(fields: dict[str, Any]) -> None:
    """A description, category or tag that is not a string is a ToolRegistrationError."""
    options: dict[str, Any] = {"name": "odd", "description": "d", "function": lambda: None}
    registry = ToolRegistry()
    with pytest.raises(ToolRegistrationError, match="must be strings"):
        registry.register_tool(Tool(**(options | fields)))
    assert registry.list_tools() == []


def test_a_million_empty_tags_are_refused_without_reading_each() -> None:
    """Each tag counts one character (the space joining them for search), so a million empty
    tags, or tags that are not even strings, are refused by their number."""
    registry = ToolRegistry()
    for tags in (("",) * 1_000_000, (None,) * 1_000_000):
        crowded = Tool(name="crowded", description="d", tags=tags, function=lambda: None)  # type: ignore[arg-type]
        with pytest.raises(ToolRegistrationError, match=r"1,000,00\d characters"):
            registry.register_tool(crowded)
    assert registry.list_tools() == []
