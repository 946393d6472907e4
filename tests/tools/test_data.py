"""The data tools over lists of records."""

from __future__ import annotations

from typing import Any

import pytest

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
