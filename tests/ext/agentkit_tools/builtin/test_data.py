"""The data tools over lists of records."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import LimitExceededError, PatternError, Tool, ToolInputError
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from agentkit_tools.builtin._limits import ToolLimits
from tests.ext.agentkit_tools.builtin.conftest import call_tool

SALES = [
    {"region": "north", "product": "tea", "units": 10, "price": 2.5},
    {"region": "south", "product": "tea", "units": 4, "price": 2.5},
    {"region": "north", "product": "coffee", "units": 7, "price": 4.0},
    {"region": "south", "product": "coffee", "units": 1, "price": 4.0},
    {"region": "north", "product": "tea", "units": 3, "price": 2.5},
]


async def test_filter_all_and_any(call: Any) -> None:
    """'all' needs every condition, 'any' one of them."""
    conditions = [
        {"field": "region", "op": "eq", "value": "north"},
        {"field": "units", "op": "gte", "value": 5},
    ]
    both = await call("data_filter", rows=SALES, conditions=conditions)
    assert [r["units"] for r in both["rows"]] == [10, 7]
    either = await call("data_filter", rows=SALES, conditions=conditions, match="any")
    assert either["count"] == 3


async def test_filter_nested_fields_and_mixed_types(call: Any) -> None:
    """Dotted paths reach nested values; a row of the wrong type simply does not match."""
    rows = [{"user": {"age": 30}}, {"user": {"age": "old"}}, {"user": {}}]
    result = await call(
        "data_filter", rows=rows, conditions=[{"field": "user.age", "op": "gt", "value": 18}]
    )
    assert result["rows"] == [{"user": {"age": 30}}]


async def test_filter_bad_input(call: Any, rejects: Any) -> None:
    """An unknown operator fails validation; 'in' without a list raises ValueError."""
    assert any(
        "/conditions/0/op" in e
        for e in rejects(
            "data_filter", rows=[], conditions=[{"field": "a", "op": "like", "value": 1}]
        )
    )
    with pytest.raises(ValueError, match="needs a list"):
        await call(
            "data_filter",
            rows=SALES,
            conditions=[{"field": "region", "op": "in", "value": "north"}],
        )


async def test_sort_multi_key(call: Any) -> None:
    """Sorting by product ascending, then units descending; missing values go last."""
    result = await call(
        "data_sort",
        rows=[*SALES, {"region": "east"}],
        by=[{"field": "product"}, {"field": "units", "descending": True}],
    )
    assert [(r.get("product"), r.get("units")) for r in result["rows"]] == [
        ("coffee", 7),
        ("coffee", 1),
        ("tea", 10),
        ("tea", 4),
        ("tea", 3),
        (None, None),
    ]


async def test_sort_mixed_types_is_a_clear_error(call: Any) -> None:
    """Sorting numbers against strings raises ValueError naming the types."""
    with pytest.raises(ValueError, match="mixes int, str"):
        await call("data_sort", rows=[{"a": 1}, {"a": "x"}], by=[{"field": "a"}])


async def test_aggregate_by_group(call: Any) -> None:
    """Sum and count per region."""
    result = await call(
        "data_aggregate",
        rows=SALES,
        group_by=["region"],
        aggregations=[{"function": "sum", "field": "units", "as": "total"}, {"function": "count"}],
    )
    assert result["groups"] == [
        {"region": "north", "total": 20, "count": 3},
        {"region": "south", "total": 5, "count": 2},
    ]


async def test_aggregate_bad_input(call: Any) -> None:
    """Summing text, or an aggregation other than count without a field, raises."""
    with pytest.raises(ValueError, match="needs numbers"):
        await call(
            "data_aggregate", rows=SALES, aggregations=[{"function": "sum", "field": "region"}]
        )
    with pytest.raises(ValueError, match="needs a field"):
        await call("data_aggregate", rows=SALES, aggregations=[{"function": "avg"}])


async def test_pivot(call: Any) -> None:
    """Units pivoted by region and product, with a fill value for empty cells."""
    result = await call(
        "data_pivot", rows=SALES, index="region", columns="product", values="units", fill_value=0
    )
    assert result["columns"] == ["region", "tea", "coffee"]
    assert result["rows"] == [
        {"region": "north", "tea": 13, "coffee": 7},
        {"region": "south", "tea": 4, "coffee": 1},
    ]


async def test_pivot_without_matching_rows(call: Any) -> None:
    """Fields that no row has raise ValueError."""
    with pytest.raises(ValueError, match="no row has all of"):
        await call("data_pivot", rows=SALES, index="store", columns="product", values="units")


async def test_select_and_rename(call: Any) -> None:
    """Only chosen fields are kept, renamed, and missing ones are null."""
    result = await call(
        "data_select", rows=SALES[:1], fields=["product", "color"], rename={"product": "item"}
    )
    assert result["rows"] == [{"item": "tea", "color": None}]


def test_select_needs_fields(rejects: Any) -> None:
    """An empty field list fails validation."""
    assert rejects("data_select", rows=[], fields=[])


async def test_deduplicate(call: Any) -> None:
    """Duplicates by key are dropped, keeping the first or last."""
    first = await call("data_deduplicate", rows=SALES, fields=["region", "product"])
    assert first["count"] == 4
    assert first["removed"] == 1
    last = await call("data_deduplicate", rows=SALES, fields=["region", "product"], keep="last")
    assert {"region": "north", "product": "tea", "units": 3, "price": 2.5} in last["rows"]


def test_deduplicate_rejects_bad_keep(rejects: Any) -> None:
    """keep must be 'first' or 'last'."""
    assert rejects("data_deduplicate", rows=[], keep="middle")


async def test_join_kinds(call: Any) -> None:
    """Inner keeps matches only; left and outer keep the unmatched side too."""
    people = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}]
    orders = [{"person": 1, "item": "pen"}, {"person": 3, "item": "ink"}]
    inner = await call("data_join", left=people, right=orders, on="id", right_on="person")
    assert inner["rows"] == [{"item": "pen", "id": 1, "name": "Ann"}]
    left = await call(
        "data_join", left=people, right=orders, on="id", right_on="person", how="left"
    )
    assert left["count"] == 2
    outer = await call(
        "data_join", left=people, right=orders, on="id", right_on="person", how="outer"
    )
    assert outer["count"] == 3


def test_join_rejects_unknown_kind(rejects: Any) -> None:
    """how must be one of the four joins."""
    assert rejects("data_join", left=[], right=[], on="id", how="cross")


async def test_csv_round_trip(call: Any) -> None:
    """CSV parses with inferred types and formats back to the same text."""
    text = 'name,age,member\nAnn,30,true\n"Bo, Jr",4.5,false\n'
    parsed = await call("data_parse_csv", text=text)
    assert parsed["rows"] == [
        {"name": "Ann", "age": 30, "member": True},
        {"name": "Bo, Jr", "age": 4.5, "member": False},
    ]
    formatted = await call("data_format_csv", rows=parsed["rows"])
    assert formatted["csv"] == 'name,age,member\nAnn,30,True\n"Bo, Jr",4.5,False\n'


async def test_parse_csv_ragged_line(call: Any) -> None:
    """A line with the wrong number of fields raises ValueError with its line number."""
    with pytest.raises(ValueError, match="line 3 has 1 fields"):
        await call("data_parse_csv", text="a,b\n1,2\n3\n")


def test_format_csv_rejects_multi_char_delimiter(rejects: Any) -> None:
    """A two-character delimiter fails validation."""
    assert rejects("data_format_csv", rows=[], delimiter=";;")


async def test_get_by_pointer_and_path(call: Any) -> None:
    """JSON pointers and dotted paths reach the same value; a miss gives the default."""
    data = {"a": [{"b/c": 1, "d": {"e": 2}}]}
    assert (await call("data_get", data=data, path="/a/0/b~1c"))["value"] == 1
    assert (await call("data_get", data=data, path="a.0.d.e"))["value"] == 2
    missing = await call("data_get", data=data, path="a.5", default="none")
    assert missing == {"path": "a.5", "found": False, "value": "none"}


def test_get_needs_a_path(rejects: Any) -> None:
    """Without path the params fail validation."""
    assert rejects("data_get", data={})


async def test_validate_reports_errors_with_paths(call: Any) -> None:
    """Each schema violation is listed with its JSON pointer."""
    schema = {
        "type": "object",
        "properties": {"age": {"type": "integer", "minimum": 0}},
        "required": ["name"],
    }
    result = await call("data_validate", data={"age": -1}, schema=schema)
    assert result["valid"] is False
    assert {e["path"] for e in result["errors"]} == {"/", "/age"}
    assert (await call("data_validate", data={"name": "x"}, schema=schema))["valid"]


async def test_validate_rejects_invalid_schema(call: Any) -> None:
    """A schema that is not valid JSON Schema raises ValueError."""
    with pytest.raises(ValueError, match="schema itself is invalid"):
        await call("data_validate", data=1, schema={"type": "integr"})


async def test_flatten(call: Any) -> None:
    """Nested objects and lists flatten into dotted keys."""
    result = await call("data_flatten", data={"a": {"b": 1, "c": [2, {"d": 3}]}, "e": {}})
    assert result["data"] == {"a.b": 1, "a.c.0": 2, "a.c.1.d": 3, "e": {}}


def test_flatten_rejects_non_object(rejects: Any) -> None:
    """A list where an object belongs fails validation."""
    assert rejects("data_flatten", data=[1, 2])


async def test_merge_deep(call: Any) -> None:
    """Later objects win; nested objects merge; lists replace or concatenate."""
    objects = [{"a": {"x": 1, "l": [1]}, "b": 1}, {"a": {"y": 2, "l": [2]}, "b": 2}]
    replaced = await call("data_merge", objects=objects)
    assert replaced["data"] == {"a": {"x": 1, "y": 2, "l": [2]}, "b": 2}
    concat = await call("data_merge", objects=objects, lists="concat")
    assert concat["data"]["a"]["l"] == [1, 2]


def test_merge_needs_objects(rejects: Any) -> None:
    """An empty object list fails validation."""
    assert rejects("data_merge", objects=[])


# -- linear-time patterns, bounded outputs and typed errors -------------------------------------

EVIL = "(a+)+$"
EVIL_TEXT = "a" * 25 + "!"


@functools.cache
def library(**limits: int) -> dict[str, Tool]:
    """The data tools built once per set of limits (hypothesis reuses them across examples)."""
    config = ToolsConfig(sandbox_root=Path(tempfile.gettempdir()), limits=ToolLimits(**limits))
    return {tool.name: tool for tool in create_builtin_tools_library(config)}


async def run(name: str, limits: dict[str, int] | None = None, **params: Any) -> Any:
    """Call a data tool (schema-checked) from a library with *limits*."""
    return await call_tool(library(**(limits or {}))[name], **params)


async def test_validate_catastrophic_pattern_is_linear(call: Any) -> None:
    """pattern (a+)+$ on 25 a's and '!' is just a mismatch, in pattern and patternProperties."""
    result = await call("data_validate", data=EVIL_TEXT, schema={"pattern": EVIL})
    assert result["valid"] is False
    assert "does not match" in result["errors"][0]["message"]
    keys = {"patternProperties": {EVIL: {"type": "string"}}, "additionalProperties": False}
    closed = await call("data_validate", data={EVIL_TEXT: 1}, schema=keys)
    assert closed["valid"] is False
    assert "do" in closed["errors"][0]["message"]
    matched = await call("data_validate", data={"a" * 25: 1}, schema=keys)
    assert matched["valid"] is False
    assert matched["errors"][0]["path"] == "/" + "a" * 25
    unevaluated = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "patternProperties": {EVIL: True},
        "unevaluatedProperties": False,
    }
    assert (await call("data_validate", data={EVIL_TEXT: 1}, schema=unevaluated))["valid"] is False
    assert (await call("data_validate", data={"aaa": 1}, schema=unevaluated))["valid"] is True


async def test_validate_refuses_what_it_cannot_do_safely(
    call: Any, local_server: Any, tmp_path: Path
) -> None:
    """Lookaround, http and file refs (nothing is fetched), $ref blowups and depth fail typed."""
    with pytest.raises(PatternError, match="RE2"):
        await call("data_validate", data="ab", schema={"pattern": "a(?=b)"})
    local_server.route("/schema.json", body={"type": "string"})
    secret = tmp_path / "secret.json"
    secret.write_text('{"type": "string"}')
    for ref in (f"{local_server.url}/schema.json", secret.as_uri()):
        with pytest.raises(ToolInputError, match="does not fetch"):
            await call("data_validate", data=1, schema={"$ref": ref})
    assert local_server.requests == []
    # Each level refers to the next twice: 2**40 evaluations from a schema of 40 entries.
    defs = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 2} for i in range(40)}
    defs["d40"] = {"type": "integer"}
    with pytest.raises(LimitExceededError, match="max_validation_steps"):
        await call("data_validate", data=1, schema={"$defs": defs, "$ref": "#/$defs/d0"})
    deep: Any = 1
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(LimitExceededError, match="max_depth"):
        await call("data_validate", data=deep, schema={})


async def test_validate_unique_items_is_linear_and_exact(call: Any) -> None:
    """uniqueItems over 20,000 objects answers at once, with JSON equality (1 == 1.0, not True)."""
    rows = [{"id": i, "tags": [i, "x"]} for i in range(20_000)]
    unique = {"type": "array", "uniqueItems": True}
    assert (await call("data_validate", data=rows, schema=unique))["valid"] is True
    assert (
        await call("data_validate", data=[*rows, {"tags": [0, "x"], "id": 0.0}], schema=unique)
    )["valid"] is False
    assert (await call("data_validate", data=[1, True], schema=unique))["valid"] is True


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([1.0, 0.5])
    | st.text("ab", max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("ab", max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)
SCHEMAS = st.sampled_from(
    [
        {"uniqueItems": True},
        {"pattern": "^a+b?$"},
        {"patternProperties": {"^a": {"type": "integer"}}, "additionalProperties": False},
        {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "null"}},
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "patternProperties": {"b$": True},
            "properties": {"a": True},
            "unevaluatedProperties": False,
        },
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "anyOf": [{"properties": {"a": True}}, {"patternProperties": {"^b": True}}],
            "unevaluatedProperties": {"type": "integer"},
        },
        {"items": {"pattern": "a"}, "contains": {"type": "string"}},
        {"propertyNames": {"pattern": "^[ab]{0,1}$"}},
    ]
)


@given(data=JSON_VALUES, schema=SCHEMAS)
@settings(max_examples=200)
async def test_validate_agrees_with_jsonschema(data: Any, schema: dict[str, Any]) -> None:
    """On patterns both engines run, data_validate's verdict and paths are jsonschema's."""
    expected = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(
        "/" + "/".join(str(p) for p in error.absolute_path) for error in expected.iter_errors(data)
    )
    result = await run("data_validate", data=data, schema=schema)
    assert result["valid"] is (not errors)
    assert sorted(error["path"] for error in result["errors"]) == errors


async def test_join_blowup_is_refused(call: Any) -> None:
    """2,000 x 2,000 rows on one key (a few hundred KB) fail before any row is joined."""
    rows = [{"k": 1, "v": i} for i in range(2_000)]
    with pytest.raises(LimitExceededError, match="max_output"):
        await call("data_join", left=rows, right=rows, on="k")


@given(
    left_keys=st.lists(st.integers(0, 4), max_size=40),
    right_keys=st.lists(st.integers(0, 4) | st.just([1]), max_size=40),
    how=st.sampled_from(["inner", "left", "right", "outer"]),
)
@settings(max_examples=100)
async def test_join_is_exact_or_refused(
    left_keys: list[int], right_keys: list[Any], how: str
) -> None:
    """Any join returns exactly the matching pairs within max_output_items, or is refused."""
    left = [{"k": key, "l": i} for i, key in enumerate(left_keys)]
    right = [{"k": key, "r": i} for i, key in enumerate(right_keys)]
    pairs = [(a, b) for a in left for b in right if a["k"] == b["k"]]
    expected = len(pairs)
    if how in ("left", "outer"):
        expected += sum(1 for a in left if all(a["k"] != b["k"] for b in right))
    if how in ("right", "outer"):
        expected += sum(1 for b in right if all(a["k"] != b["k"] for a in left))
    limits = {"max_output_items": 100}
    try:
        result = await run("data_join", limits, left=left, right=right, on="k", how=how)
    except LimitExceededError:
        assert expected > 100
        return
    assert result["count"] == expected <= 100
    assert sorted((r.get("l"), r.get("r")) for r in result["rows"] if "l" in r and "r" in r) == (
        sorted((a["l"], b["r"]) for a, b in pairs)
    )


async def test_pivot_blowup_is_refused_and_any_index_works(call: Any) -> None:
    """2,000 index values x 2,000 columns are refused; object index values no longer crash."""
    rows = [{"i": i, "c": i, "v": 1} for i in range(2_000)]
    with pytest.raises(LimitExceededError, match="max_output_cells"):
        await call("data_pivot", rows=rows, index="i", columns="c", values="v")
    odd = [{"i": {"x": 1}, "c": "a", "v": 1}, {"i": {"x": 1}, "c": "b", "v": 2}]
    table = await call("data_pivot", rows=odd, index="i", columns="c", values="v")
    assert table["rows"] == [{"i": {"x": 1}, "a": 1, "b": 2}]


@given(
    indexes=st.integers(1, 40),
    columns=st.integers(1, 40),
    rows=st.integers(1, 200),
)
@settings(max_examples=60)
async def test_pivot_is_bounded(indexes: int, columns: int, rows: int) -> None:
    """A pivot's table fits max_output_cells or the call fails with LimitExceededError."""
    records = [{"i": n % indexes, "c": n % columns, "v": n} for n in range(rows)]
    limits = {"max_output_cells": 300}
    try:
        result = await run("data_pivot", limits, rows=records, index="i", columns="c", values="v")
    except LimitExceededError:
        return
    assert len(result["rows"]) * len(result["columns"]) <= 300


async def test_deep_and_wide_inputs_fail_typed(call: Any) -> None:
    """Deep values fail with LimitExceededError; merging many lists stays linear and exact."""
    deep: dict[str, Any] = {}
    for _ in range(5_000):
        deep = {"a": deep}
    for name, params in (
        ("data_flatten", {"data": deep}),
        ("data_merge", {"objects": [deep, deep]}),
        ("data_deduplicate", {"rows": [deep]}),
    ):
        with pytest.raises(LimitExceededError, match="max_depth"):
            await call(name, **params)
    merged = await call("data_merge", objects=[{"l": [i]} for i in range(5_000)], lists="concat")
    assert merged["data"]["l"] == list(range(5_000))
    many = await call(
        "data_filter",
        rows=[{"n": i} for i in range(1_000)],
        conditions=[{"field": "n", "op": "in", "value": list(range(0, 100_000, 2))}],
    )
    assert many["count"] == 500


@given(width=st.integers(1, 30), depth=st.integers(1, 6), key=st.integers(1, 30))
@settings(max_examples=40)
async def test_flatten_keys_are_bounded(width: int, depth: int, key: int) -> None:
    """Flattened keys repeat their path: their total length fits max_output_chars or fails."""
    data: Any = 0
    for level in range(depth):
        data = {f"{level}{'k' * key}{n}": data for n in range(width if level == 0 else 2)}
    limits = {"max_output_chars": 2_000}
    try:
        result = await run("data_flatten", limits, data=data)
    except LimitExceededError:
        return
    assert sum(map(len, result["data"])) <= 2_000


async def test_csv_and_selection_are_bounded() -> None:
    """CSV parsing, CSV writing and selections count their cells against max_output_cells."""
    limits = {"max_output_cells": 1_000}
    with pytest.raises(LimitExceededError, match="max_output_cells"):
        await run("data_parse_csv", limits, text="a,b\n" + "1,2\n" * 600)
    sparse = [{f"k{i}": i} for i in range(100)]
    with pytest.raises(LimitExceededError, match="max_output_cells"):
        await run("data_format_csv", limits, rows=sparse)
    with pytest.raises(LimitExceededError, match="max_output_cells"):
        await run("data_select", limits, rows=[{"a": 1}] * 600, fields=["a", "b"])


def test_rows_are_bounded_by_the_schema(rejects: Any) -> None:
    """More rows than max_rows fail validation before the tool runs."""
    assert any(
        e.startswith("/rows") for e in rejects("data_sort", rows=[{}] * 50_001, by=[{"field": "a"}])
    )


@given(rows=st.integers(min_value=0, max_value=40), limit=st.integers(min_value=1, max_value=20))
async def test_parse_csv_yields_at_most_max_rows_records(rows: int, limit: int) -> None:
    """A CSV with more records than max_rows is refused naming the option; fewer all parse."""
    text = "a,b\n" + "1,2\n" * rows
    if rows > limit:
        with pytest.raises(LimitExceededError, match="max_rows"):
            await run("data_parse_csv", {"max_rows": limit}, text=text)
    else:
        assert (await run("data_parse_csv", {"max_rows": limit}, text=text))["count"] == rows
