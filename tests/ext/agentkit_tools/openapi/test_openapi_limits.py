"""Limits of an OpenAPI import: bytes, referenced documents, expanded values and depth.

Each class of oversized input — a huge spec (as text, file or URL), YAML aliases that expand
(billion laughs), $refs that expand the same way, deep nesting — fails with an
``OpenAPILimitError`` that names the option, and memory stays bounded while it does.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_server import Route, SpecServer, serving

from agentkit import ConfigurationError, LimitExceededError
from agentkit_tools import OpenAPIParser
from agentkit_tools.openapi import OpenAPIError, OpenAPILimitError

pytestmark = pytest.mark.timeout(120)

SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
MB = 1024 * 1024
HEAD = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}


@pytest.fixture(scope="module")
def server() -> Iterator[SpecServer]:
    """A loopback server for specs."""
    with serving() as running:
        yield running


def padded(size: int) -> str:
    """A valid spec of exactly *size* bytes of JSON (at least 100)."""
    text = json.dumps({**HEAD, "x-pad": ""})
    return text[:-2] + "x" * (size - len(text)) + '"}'


def peak_mib(call: Any) -> float:
    """Run *call* and return the peak of memory allocated meanwhile, in MiB."""
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / MB


def test_the_limit_error_is_an_openapi_error_and_a_limit_error() -> None:
    """Callers catching OpenAPIError or LimitExceededError (or ValueError) both see it."""
    assert issubclass(OpenAPILimitError, OpenAPIError)
    assert issubclass(OpenAPILimitError, LimitExceededError)
    assert issubclass(OpenAPILimitError, ValueError)


@pytest.mark.parametrize(
    "option", ["max_spec_bytes", "max_ref_documents", "max_spec_nodes", "max_spec_depth"]
)
@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_limits_must_be_positive_integers(option: str, value: Any) -> None:
    """A limit that is not a positive integer is a configuration error."""
    with pytest.raises(ConfigurationError, match=option):
        OpenAPIParser(**{option: value})


# -- bytes ------------------------------------------------------------------------------------


def test_a_49_mb_spec_fails_on_the_size_cap(tmp_path: Path, server: SpecServer) -> None:
    """A 49 MB spec as text, file or URL (with or without a length) fails on max_spec_bytes."""
    size = 49 * MB
    text = padded(size)
    (tmp_path / "big.json").write_text(text)
    with pytest.raises(OpenAPILimitError, match="max_spec_bytes"):
        OpenAPIParser().parse_spec(text)
    with pytest.raises(OpenAPILimitError, match="max_spec_bytes"):
        OpenAPIParser().parse_spec(tmp_path / "big.json")
    del text
    server.routes["/big.json"] = Route(size=size)
    server.routes["/big-chunked.json"] = Route(size=size, chunked=True)
    for path in ("/big.json", "/big-chunked.json"):
        sent_before = server.bytes_sent
        peak = peak_mib(lambda path=path: _refused(server.url + path))
        assert server.bytes_sent - sent_before < size  # the reader stopped, the server noticed
        assert peak < 60  # 20 MiB budget, never the whole body


def _refused(spec: Any, **options: Any) -> None:
    with pytest.raises(OpenAPILimitError, match="max_spec_bytes"):
        OpenAPIParser(**options).parse_spec(spec)


@SHARED
@given(limit=st.integers(200, 4000), delta=st.integers(-150, 150), source=st.integers(0, 2))
def test_the_byte_limit_is_exact_for_every_source(
    tmp_path: Path, server: SpecServer, limit: int, delta: int, source: int
) -> None:
    """A spec of at most max_spec_bytes is read; one byte more fails, from text, file or URL."""
    size = max(100, limit + delta)
    text = padded(size)
    spec: Any = text
    if source == 1:
        spec = tmp_path / "spec.json"
        spec.write_text(text)
    elif source == 2:
        server.routes["/sized.json"] = Route(body=text.encode())
        spec = server.url + "/sized.json"
    if size <= limit:
        assert OpenAPIParser(max_spec_bytes=limit).parse_spec(spec)["x-pad"]
    else:
        _refused(spec, max_spec_bytes=limit)


@SHARED
@given(files=st.integers(1, 6), size=st.integers(100, 400))
def test_the_byte_budget_covers_referenced_documents(tmp_path: Path, files: int, size: int) -> None:
    """The spec and every document it references share one max_spec_bytes budget."""
    folder = tmp_path / f"refs{files}-{size}"
    folder.mkdir(exist_ok=True)
    schemas = {}
    for index in range(files):
        document = {"S": {"type": "string", "description": "d" * size}}
        (folder / f"s{index}.json").write_text(json.dumps(document))
        schemas[f"S{index}"] = {"$ref": f"s{index}.json#/S"}
    spec = folder / "api.json"
    spec.write_text(json.dumps({**HEAD, "components": {"schemas": schemas}}))
    total = sum(path.stat().st_size for path in folder.iterdir())
    assert OpenAPIParser(max_spec_bytes=total).parse_spec(spec)["components"]["schemas"]
    _refused(spec, max_spec_bytes=total - 1)


def test_the_number_of_referenced_documents_is_capped(tmp_path: Path) -> None:
    """More referenced documents than max_ref_documents fail, naming the option."""
    schemas = {}
    for index in range(5):
        (tmp_path / f"s{index}.json").write_text(json.dumps({"S": {"type": "string"}}))
        schemas[f"S{index}"] = {"$ref": f"s{index}.json#/S"}
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps({**HEAD, "components": {"schemas": schemas}}))
    assert OpenAPIParser(max_ref_documents=5).parse_spec(spec)
    with pytest.raises(OpenAPILimitError, match="max_ref_documents=4"):
        OpenAPIParser(max_ref_documents=4).parse_spec(spec)


# -- expansion: YAML aliases and $refs --------------------------------------------------------


def laughs(width: int, levels: int, *, merge: bool = False) -> str:
    """A YAML spec whose last anchor expands to width**levels strings (billion laughs)."""
    lines = ['openapi: "3.0.3"', 'info: {title: t, version: "1"}', "paths: {}"]
    lines.append("x-l0: &l0 [" + ", ".join(['"lol"'] * width) + "]")
    for level in range(1, levels + 1):
        if merge:
            keys = ", ".join(f"k{index}: *l{level - 1}" for index in range(width))
            lines.append(f"x-l{level}: &l{level} {{{keys}}}")
        else:
            lines.append(f"x-l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def expanded(width: int, levels: int) -> int:
    """Values the last anchor of :func:`laughs` expands to."""
    size = 1 + width
    for _ in range(levels):
        size = 1 + width * size
    return size


def test_billion_laughs_fails_on_the_node_limit() -> None:
    """The classic nine levels of ten 'lol's fails on max_spec_nodes with bounded memory."""
    for text in (laughs(10, 8), laughs(10, 8, merge=True)):
        with pytest.raises(OpenAPILimitError, match="max_spec_nodes"):
            OpenAPIParser().parse_spec(text)
    assert peak_mib(lambda: _refused_nodes(laughs(10, 8))) < 20


def _refused_nodes(spec: Any, **options: Any) -> None:
    with pytest.raises(OpenAPILimitError, match="max_spec_nodes"):
        OpenAPIParser(**options).parse_spec(spec)


@SHARED
@given(width=st.integers(2, 12), levels=st.integers(0, 12), merge=st.booleans())
def test_alias_expansion_is_measured_before_anything_is_built(
    width: int, levels: int, merge: bool
) -> None:
    """Aliases expanding past max_spec_nodes fail; well under it they load."""
    limit = 5_000
    text = laughs(width, levels, merge=merge)
    total = sum(expanded(width, level) for level in range(levels + 1)) * 2 + 20
    if expanded(width, levels) > limit:
        _refused_nodes(text, max_spec_nodes=limit)
    elif total < limit:
        assert OpenAPIParser(max_spec_nodes=limit).parse_spec(text)


@pytest.mark.parametrize("text", ["x: &a [*a]", "x: &a {b: *a}", "x: &a [1, [2, *a]]"])
def test_a_recursive_alias_is_an_error(text: str) -> None:
    """An alias inside its own anchor (a cyclic document) is refused."""
    with pytest.raises(OpenAPIError, match="alias"):
        OpenAPIParser().parse_spec('openapi: "3.0.3"\n' + text + "\n")


def ref_laughs(width: int, levels: int) -> dict[str, Any]:
    """A spec whose schemas each use the previous one *width* times: $ref billion laughs.

    One operation takes the top schema as its body.
    """
    schemas: dict[str, Any] = {"L0": {"type": "string"}}
    for level in range(1, levels + 1):
        properties = {
            f"p{index}": {"$ref": f"#/components/schemas/L{level - 1}"} for index in range(width)
        }
        schemas[f"L{level}"] = {"type": "object", "properties": properties}
    body = {
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/L{levels}"}}}
    }
    paths = {"/x": {"post": {"requestBody": body, "responses": {"200": {"description": "ok"}}}}}
    return {**HEAD, "paths": paths, "components": {"schemas": schemas}}


def test_ref_expansion_stays_references() -> None:
    """$refs that would expand like billion laughs stay references: each schema once per tool."""
    parser = OpenAPIParser()
    (tool,) = parser.extract_tools(ref_laughs(10, 9), strict=True)
    assert sorted(tool.parameters["$defs"]) == [f"L{level}" for level in range(9)]
    assert len(json.dumps(tool.parameters)) < 10 * 9 * 40


@SHARED
@given(width=st.integers(2, 8), levels=st.integers(1, 9))
def test_generated_ref_expansions_stay_proportional(width: int, levels: int) -> None:
    """A tool's schema grows with the schemas it uses, not with how often they are reused."""
    (tool,) = OpenAPIParser(validate=False).extract_tools(ref_laughs(width, levels), strict=True)
    defs = tool.parameters.get("$defs", {})
    assert sorted(defs) == sorted(f"L{level}" for level in range(levels))
    assert len(json.dumps(tool.parameters)) < 150 + 60 * width * (levels + 1)


def test_many_plain_values_fail_on_the_node_limit() -> None:
    """A spec with more values than max_spec_nodes fails, as JSON, YAML or a dict."""
    spec = {**HEAD, "x-values": list(range(2000))}
    for given_spec in (
        spec,
        json.dumps(spec),
        "openapi: '3.0.3'\nx-values: " + json.dumps(list(range(2000))),
    ):
        _refused_nodes(given_spec, max_spec_nodes=1000)


# -- depth ------------------------------------------------------------------------------------


def nested_json(depth: int) -> str:
    """A JSON spec with a list nested *depth* deep."""
    return '{"openapi": "3.0.3", "x": ' + "[" * depth + "]" * depth + "}"


def nested_yaml_flow(depth: int) -> str:
    """A YAML spec with a flow mapping nested *depth* deep."""
    return 'openapi: "3.0.3"\nx: ' + "{a: " * depth + "1" + "}" * depth + "\n"


def nested_yaml_block(depth: int) -> str:
    """A YAML spec with a block sequence nested *depth* deep."""
    return 'openapi: "3.0.3"\nx:\n' + "".join(" " * level + "-\n" for level in range(depth))


def nested_dict(depth: int) -> dict[str, Any]:
    """A dict spec with a mapping nested *depth* deep (built without recursion)."""
    root: dict[str, Any] = {}
    current = root
    for _ in range(depth - 1):
        current["a"] = {}
        current = current["a"]
    return {"openapi": "3.0.3", "x": root}


MAKERS = [nested_json, nested_yaml_flow, nested_yaml_block, nested_dict]


@pytest.mark.parametrize("make", MAKERS)
def test_100000_deep_nesting_fails_on_the_depth_limit(make: Any) -> None:
    """10^5 levels (3,000 for block YAML, whose indentation grows) fail on max_spec_depth."""
    depth = 3_000 if make is nested_yaml_block else 100_000
    spec = make(depth)
    with pytest.raises(OpenAPILimitError, match="max_spec_depth"):
        OpenAPIParser().parse_spec(spec)


@SHARED
@given(make=st.sampled_from(MAKERS), depth=st.integers(1, 60))
def test_generated_nesting_is_refused_over_the_limit(make: Any, depth: int) -> None:
    """Any document deeper than max_spec_depth fails; shallower ones pass the depth check."""
    limit = 30
    spec = make(depth)
    if depth + 1 > limit:
        with pytest.raises(OpenAPILimitError, match="max_spec_depth"):
            OpenAPIParser(max_spec_depth=limit, validate=False).parse_spec(spec)
    else:
        with pytest.raises(OpenAPIError) as caught:  # no 'info': an OpenAPI error, not a limit
            OpenAPIParser(max_spec_depth=limit).parse_spec(spec)
        assert not isinstance(caught.value, OpenAPILimitError)


@SHARED
@given(chain=st.integers(1, 80))
def test_ref_chains_are_not_inlined_so_depth_is_as_written(chain: int) -> None:
    """A chain of $refs deeper than max_spec_depth imports: each schema stays one definition."""
    schemas: dict[str, Any] = {"S0": {"type": "string"}}
    for index in range(1, chain + 1):
        schemas[f"S{index}"] = {
            "type": "object",
            "properties": {"a": {"$ref": f"#/components/schemas/S{index - 1}"}},
        }
    body = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/S{chain}"}}}}
    paths = {"/x": {"post": {"requestBody": body, "responses": {"200": {"description": "ok"}}}}}
    spec = {**HEAD, "paths": paths, "components": {"schemas": schemas}}
    (tool,) = OpenAPIParser(max_spec_depth=20).extract_tools(spec, strict=True)
    assert len(tool.parameters.get("$defs", {})) == chain


def test_the_default_depth_limit_is_safe_end_to_end() -> None:
    """A spec just within the default depth validates and becomes a working tool schema."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(46):
        schema = {"type": "object", "properties": {"a": schema}}
    operation = {
        "operationId": "deep",
        "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "ok"}},
    }
    spec = {**HEAD, "paths": {"/deep": {"post": operation}}}
    (tool,) = OpenAPIParser(base_url="http://127.0.0.1:9").extract_tools(spec)
    assert list(tool.parameters["properties"]) == ["a"]
    schema = {"type": "object", "properties": {"a": schema}}
    operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    with pytest.raises(OpenAPILimitError, match="max_spec_depth"):
        OpenAPIParser().extract_tools(spec)


def test_a_dict_spec_that_contains_itself_is_an_error() -> None:
    """A dict spec with a cycle is refused instead of looping or overflowing."""
    spec: dict[str, Any] = {**HEAD}
    spec["x-self"] = spec
    with pytest.raises(OpenAPIError, match=r"contains itself|max_spec_depth"):
        OpenAPIParser().parse_spec(spec)


YAML_HEAD = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
YAML_ODDITIES = [
    YAML_HEAD + "x-y: !!binary aGVsbG8=\n",
    YAML_HEAD + "x-y: !!set {a, b}\n",
    YAML_HEAD + "x-y: !!python/object:os.system {}\n",
    YAML_HEAD + "x-y: .nan\n? [a, b]\n: c\n",
    "openapi: 3.0.3\n---\nopenapi: 3.0.3\n",
    YAML_HEAD + "x-y: *nowhere\n",
    "\x00",
    "\ufeff{",
]


def read_any_text(text: str) -> None:
    """Read *text* with and without validation: plain JSON data or an OpenAPIError."""
    for validate in (True, False):
        try:
            document = OpenAPIParser(validate=validate).parse_spec(text)
        except OpenAPIError:
            continue
        json.dumps(document)  # what comes out is plain JSON data


@pytest.mark.parametrize("text", YAML_ODDITIES)
def test_yaml_oddities_give_json_data_or_an_openapi_error(text: str) -> None:
    """YAML tags, sets, binary, complex keys, several documents and NULs give typed results."""
    read_any_text(text)


@SHARED
@given(text=st.text(max_size=200).filter(lambda text: "://" not in text))
def test_any_spec_text_gives_a_result_or_an_openapi_error(text: str) -> None:
    """Whatever the spec text holds, the result is JSON data or an OpenAPIError."""
    read_any_text(text)


def test_a_description_too_long_to_index_is_cut_to_fit_and_registers() -> None:
    """An operation whose summary and description hold a million characters still becomes a
    tool: its description is cut to fit MAX_TOOL_TEXT with its category and tags, and it
    registers."""
    from agentkit import ToolRegistry
    from agentkit.tools import MAX_TOOL_TEXT, tool_text_size

    text = "\u0130" * 1_000_000
    operation = {"summary": "Long", "description": text, "tags": ["pets"]}
    operation["responses"] = {"200": {"description": "ok"}}
    spec = {**HEAD, "paths": {"/x": {"get": operation}}}
    registry = ToolRegistry()
    parser = OpenAPIParser()
    parser.register_tools_from_spec(spec, registry)
    (tool,) = registry.list_tools()
    assert tool.description.startswith("Long\n\n\u0130\u0130")
    assert tool.description.endswith(" …")
    assert tool_text_size(tool.description, tool.category, tool.tags) <= MAX_TOOL_TEXT
    assert registry.search_tools("long")[0].name == tool.name
