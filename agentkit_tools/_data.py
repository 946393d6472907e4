"""Data tools over lists of records (JSON objects): filter, sort, group, pivot, join, CSV."""

from __future__ import annotations

import copy
import csv
import functools
import io
import math
import statistics
from collections.abc import Callable
from typing import Any

import jsonschema

from agentkit._tool import Tool
from agentkit_tools._schema import ANY, array, boolean, integer, make_tool, obj, string

__all__ = ["data_tools"]

_MISSING = object()
_ROWS = array({"type": "object"}, "Records (JSON objects)", maxItems=1_000_000)
_FIELD = string("Field name; dots reach into nested objects, e.g. 'user.age'", minLength=1)


def _get(row: Any, field: str) -> Any:
    value = row
    for part in field.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "exists":
        return (actual is not _MISSING) == (expected is not False)
    if actual is _MISSING:
        return op == "ne" or op == "not_in"
    try:
        checks: dict[str, Callable[[], bool]] = {
            "eq": lambda: actual == expected,
            "ne": lambda: actual != expected,
            "gt": lambda: actual > expected,
            "gte": lambda: actual >= expected,
            "lt": lambda: actual < expected,
            "lte": lambda: actual <= expected,
            "in": lambda: actual in expected,
            "not_in": lambda: actual not in expected,
            "contains": lambda: expected in actual,
            "startswith": lambda: str(actual).startswith(str(expected)),
            "endswith": lambda: str(actual).endswith(str(expected)),
        }
        return checks[op]()
    except TypeError:
        return False  # e.g. "abc" > 3: a row of the wrong type simply does not match


def data_filter(
    rows: list[dict[str, Any]], conditions: list[dict[str, Any]], match: str = "all"
) -> dict[str, Any]:
    for condition in conditions:
        if condition["op"] in ("in", "not_in") and not isinstance(condition.get("value"), list):
            raise ValueError(f"operator {condition['op']!r} needs a list value")
    combine = all if match == "all" else any
    kept = [
        row
        for row in rows
        if combine(_compare(c["op"], _get(row, c["field"]), c.get("value")) for c in conditions)
    ]
    return {"rows": kept, "count": len(kept), "total": len(rows)}


def _sort_key(field: str, row: dict[str, Any]) -> Any:
    return _get(row, field)


def data_sort(rows: list[dict[str, Any]], by: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = list(rows)
    # Stable sorts from the last key to the first give a multi-key sort with mixed directions.
    for key in reversed(by):
        field, descending = key["field"], key.get("descending", False)
        present = [r for r in ordered if _get(r, field) not in (_MISSING, None)]
        absent = [r for r in ordered if _get(r, field) in (_MISSING, None)]
        try:
            present.sort(key=functools.partial(_sort_key, field), reverse=descending)
        except TypeError as exc:
            kinds = sorted({type(_get(r, field)).__name__ for r in present})
            raise ValueError(f"cannot sort by {field!r}: it mixes {', '.join(kinds)}") from exc
        ordered = present + absent  # missing values always last
    return {"rows": ordered, "count": len(ordered)}


def _aggregate(function: str, values: list[Any]) -> Any:
    if function == "count":
        return len(values)
    if function == "count_distinct":
        return len({repr(v) for v in values})
    if function in ("first", "last"):
        return (values[0] if function == "first" else values[-1]) if values else None
    if function == "list":
        return values
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        raise ValueError(f"{function} needs numbers, got {values[:3]!r}...")
    if not numbers:
        return None
    reducers: dict[str, Callable[[list[Any]], Any]] = {
        "sum": math.fsum,
        "avg": statistics.fmean,
        "min": min,
        "max": max,
        "median": statistics.median,
    }
    return reducers[function](numbers)


def data_aggregate(
    rows: list[dict[str, Any]],
    aggregations: list[dict[str, Any]],
    group_by: list[str] | None = None,
) -> dict[str, Any]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    keys: dict[tuple[str, ...], list[Any]] = {}
    for row in rows:
        values = [_get(row, f) for f in group_by or []]
        values = [None if v is _MISSING else v for v in values]
        signature = tuple(repr(v) for v in values)
        groups.setdefault(signature, []).append(row)
        keys.setdefault(signature, values)
    result = []
    for signature, members in groups.items():
        entry = dict(zip(group_by or [], keys[signature], strict=True))
        for spec in aggregations:
            function, field = spec["function"], spec.get("field")
            if function != "count" and not field:
                raise ValueError(f"aggregation {function!r} needs a field")
            values = (
                [v for v in (_get(r, field) for r in members) if v not in (_MISSING, None)]
                if field
                else members
            )
            entry[spec.get("as") or (f"{function}_{field}" if field else function)] = _aggregate(
                function, values
            )
        result.append(entry)
    return {"groups": result, "count": len(result)}


def data_pivot(
    rows: list[dict[str, Any]],
    index: str,
    columns: str,
    values: str,
    function: str = "sum",
    fill_value: Any = None,
) -> dict[str, Any]:
    cells: dict[Any, dict[str, list[Any]]] = {}
    column_names: list[str] = []
    for row in rows:
        row_key, column, value = _get(row, index), _get(row, columns), _get(row, values)
        if _MISSING in (row_key, column) or value is _MISSING:
            continue
        column = str(column)
        if column not in column_names:
            column_names.append(column)
        cells.setdefault(row_key, {}).setdefault(column, []).append(value)
    if not cells:
        raise ValueError(f"no row has all of {index!r}, {columns!r} and {values!r}")
    table = []
    for row_key, by_column in cells.items():
        entry: dict[str, Any] = {index: row_key}
        for column in column_names:
            entry[column] = (
                _aggregate(function, by_column[column]) if column in by_column else fill_value
            )
        table.append(entry)
    return {"rows": table, "columns": [index, *column_names]}


def data_select(
    rows: list[dict[str, Any]], fields: list[str], rename: dict[str, str] | None = None
) -> dict[str, Any]:
    names = rename or {}
    selected = [
        {names.get(f, f): (None if (v := _get(row, f)) is _MISSING else v) for f in fields}
        for row in rows
    ]
    return {"rows": selected, "count": len(selected)}


def data_deduplicate(
    rows: list[dict[str, Any]], fields: list[str] | None = None, keep: str = "first"
) -> dict[str, Any]:
    seen: dict[str, int] = {}
    ordered = rows if keep == "first" else list(reversed(rows))
    unique = []
    for row in ordered:
        key = repr([_get(row, f) for f in fields]) if fields else repr(sorted(row.items()))
        if key not in seen:
            seen[key] = 1
            unique.append(row)
    if keep == "last":
        unique.reverse()
    return {"rows": unique, "count": len(unique), "removed": len(rows) - len(unique)}


def data_join(
    left: list[dict[str, Any]],
    right: list[dict[str, Any]],
    on: str,
    right_on: str | None = None,
    how: str = "inner",
) -> dict[str, Any]:
    right_key = right_on or on
    index: dict[str, list[dict[str, Any]]] = {}
    for row in right:
        index.setdefault(repr(_get(row, right_key)), []).append(row)
    joined = []
    matched: set[int] = set()
    for row in left:
        partners = index.get(repr(_get(row, on)), []) if _get(row, on) is not _MISSING else []
        for partner in partners:
            matched.add(id(partner))
            joined.append({**{k: v for k, v in partner.items() if k != right_key}, **row})
        if not partners and how in ("left", "outer"):
            joined.append(dict(row))
    if how in ("right", "outer"):
        joined.extend(dict(row) for row in right if id(row) not in matched)
    return {"rows": joined, "count": len(joined)}


def data_parse_csv(
    text: str, delimiter: str = ",", header: bool = True, infer_types: bool = True
) -> dict[str, Any]:
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise ValueError(f"malformed CSV: {exc}") from exc
    records = [r for r in records if r]
    if not records:
        return {"rows": [], "columns": [], "count": 0}
    columns = records[0] if header else [f"column_{i + 1}" for i in range(len(records[0]))]
    body = records[1:] if header else records
    if len(set(columns)) != len(columns):
        raise ValueError(f"duplicate column names in the header: {columns}")
    rows = []
    for number, record in enumerate(body, start=2 if header else 1):
        if len(record) != len(columns):
            raise ValueError(f"CSV line {number} has {len(record)} fields, expected {len(columns)}")
        rows.append(
            {c: _infer(v) if infer_types else v for c, v in zip(columns, record, strict=True)}
        )
    return {"rows": rows, "columns": columns, "count": len(rows)}


def _infer(value: str) -> Any:
    stripped = value.strip()
    if stripped == "":
        return None
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            number = cast(stripped)
        except ValueError:
            continue
        return number if not isinstance(number, float) or math.isfinite(number) else value
    return value


def data_format_csv(
    rows: list[dict[str, Any]], fields: list[str] | None = None, delimiter: str = ","
) -> dict[str, Any]:
    columns = fields or list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := _get(row, c)) in (_MISSING, None) else v for c in columns])
    return {"csv": buffer.getvalue(), "columns": columns, "count": len(rows)}


def data_get(data: Any, path: str, default: Any = None) -> dict[str, Any]:
    if path.startswith("/") or path == "":
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    else:
        parts = path.split(".")
    value = data
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif (
            isinstance(value, list)
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return {"path": path, "found": False, "value": default}
    return {"path": path, "found": True, "value": value}


def data_validate(data: Any, schema: dict[str, Any]) -> dict[str, Any]:
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"the schema itself is invalid: {exc.message}") from exc
    errors = [
        {"path": "/" + "/".join(str(p) for p in error.absolute_path), "message": error.message}
        for error in validator_class(schema).iter_errors(data)
    ]
    return {"valid": not errors, "errors": errors[:100]}


def data_flatten(data: dict[str, Any], separator: str = ".") -> dict[str, Any]:
    flat: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(item, f"{prefix}{separator}{key}" if prefix else str(key))
        elif isinstance(value, list) and value:
            for position, item in enumerate(value):
                walk(item, f"{prefix}{separator}{position}" if prefix else str(position))
        else:
            flat[prefix] = value

    walk(data, "")
    return {"data": flat, "keys": len(flat)}


def data_merge(objects: list[dict[str, Any]], lists: str = "replace") -> dict[str, Any]:
    def merge(base: Any, update: Any) -> Any:
        if isinstance(base, dict) and isinstance(update, dict):
            merged = dict(base)
            for key, value in update.items():
                merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
            return merged
        if lists == "concat" and isinstance(base, list) and isinstance(update, list):
            return base + copy.deepcopy(update)
        return copy.deepcopy(update)

    result: dict[str, Any] = {}
    for item in objects:
        result = merge(result, item)
    return {"data": result}


def data_tools() -> list[Tool]:
    """The data tools."""
    rows_out = obj({"rows": _ROWS, "count": integer()}, ["rows", "count"], closed=False)
    ops = [
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "not_in",
        "contains",
        "startswith",
        "endswith",
        "exists",
    ]
    functions = [
        "count",
        "count_distinct",
        "sum",
        "avg",
        "min",
        "max",
        "median",
        "first",
        "last",
        "list",
    ]
    return [
        make_tool(
            data_filter,
            name="data_filter",
            category="data",
            description="Keep the records matching all (or any) conditions such as "
            "{field: 'age', op: 'gte', value: 18}.",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "conditions": array(
                        obj(
                            {"field": _FIELD, "op": string(enum=ops), "value": ANY}, ["field", "op"]
                        ),
                        minItems=1,
                    ),
                    "match": string(enum=["all", "any"], default="all"),
                },
                ["rows", "conditions"],
            ),
            returns=rows_out,
        ),
        make_tool(
            data_sort,
            name="data_sort",
            category="data",
            description="Sort records by one or more fields, each ascending or "
            "descending; missing values last.",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "by": array(
                        obj({"field": _FIELD, "descending": boolean(default=False)}, ["field"]),
                        minItems=1,
                    ),
                },
                ["rows", "by"],
            ),
            returns=rows_out,
        ),
        make_tool(
            data_aggregate,
            name="data_aggregate",
            category="data",
            description="Group records and compute count, sum, avg, min, max, median, "
            "count_distinct, first, last or list per group.",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "group_by": array(_FIELD),
                    "aggregations": array(
                        obj(
                            {
                                "function": string(enum=functions),
                                "field": _FIELD,
                                "as": string(minLength=1),
                            },
                            ["function"],
                        ),
                        minItems=1,
                    ),
                },
                ["rows", "aggregations"],
            ),
            returns=obj(
                {"groups": array({"type": "object"}), "count": integer()}, ["groups", "count"]
            ),
        ),
        make_tool(
            data_pivot,
            name="data_pivot",
            category="data",
            description="Pivot records: one row per index value, one column per "
            "columns value, cells aggregated from values.",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "index": _FIELD,
                    "columns": _FIELD,
                    "values": _FIELD,
                    "function": string(enum=functions, default="sum"),
                    "fill_value": ANY,
                },
                ["rows", "index", "columns", "values"],
            ),
            returns=obj({"rows": _ROWS, "columns": array(string())}, ["rows"]),
        ),
        make_tool(
            data_select,
            name="data_select",
            category="data",
            description="Keep only some fields of each record, optionally renamed.",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "fields": array(_FIELD, minItems=1),
                    "rename": {"type": "object", "additionalProperties": string()},
                },
                ["rows", "fields"],
            ),
            returns=rows_out,
        ),
        make_tool(
            data_deduplicate,
            name="data_deduplicate",
            category="data",
            description="Drop duplicate records (whole records or by key fields).",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "fields": array(_FIELD),
                    "keep": string(enum=["first", "last"], default="first"),
                },
                ["rows"],
            ),
            returns=rows_out,
        ),
        make_tool(
            data_join,
            name="data_join",
            category="data",
            description="Join two lists of records on a key (inner, left, right, outer).",
            parameters=obj(
                {
                    "left": _ROWS,
                    "right": _ROWS,
                    "on": _FIELD,
                    "right_on": _FIELD,
                    "how": string(enum=["inner", "left", "right", "outer"], default="inner"),
                },
                ["left", "right", "on"],
            ),
            returns=rows_out,
        ),
        make_tool(
            data_parse_csv,
            name="data_parse_csv",
            category="data",
            description="Parse CSV text into records, numbers and booleans inferred.",
            parameters=obj(
                {
                    "text": string(maxLength=20_000_000),
                    "delimiter": string(minLength=1, maxLength=1, default=","),
                    "header": boolean(default=True),
                    "infer_types": boolean(default=True),
                },
                ["text"],
            ),
            returns=obj(
                {"rows": _ROWS, "columns": array(string()), "count": integer()}, ["rows", "columns"]
            ),
        ),
        make_tool(
            data_format_csv,
            name="data_format_csv",
            category="data",
            description="Write records as CSV text with a header row.",
            parameters=obj(
                {
                    "rows": _ROWS,
                    "fields": array(_FIELD),
                    "delimiter": string(minLength=1, maxLength=1, default=","),
                },
                ["rows"],
            ),
            returns=obj({"csv": string(), "columns": array(string()), "count": integer()}, ["csv"]),
        ),
        make_tool(
            data_get,
            name="data_get",
            category="data",
            description="Read a value from nested JSON by JSON pointer ('/a/0/b') or "
            "dotted path ('a.0.b').",
            parameters=obj(
                {"data": ANY, "path": string(maxLength=2000), "default": ANY}, ["data", "path"]
            ),
            returns=obj({"path": string(), "found": boolean(), "value": ANY}, ["found", "value"]),
        ),
        make_tool(
            data_validate,
            name="data_validate",
            category="data",
            description="Check JSON data against a JSON Schema; list each error with its path.",
            parameters=obj({"data": ANY, "schema": {"type": "object"}}, ["data", "schema"]),
            returns=obj(
                {"valid": boolean(), "errors": array(obj({"path": string(), "message": string()}))},
                ["valid", "errors"],
            ),
        ),
        make_tool(
            data_flatten,
            name="data_flatten",
            category="data",
            description="Flatten nested objects and lists into one level of 'a.b.0'-style keys.",
            parameters=obj(
                {
                    "data": {"type": "object"},
                    "separator": string(minLength=1, maxLength=5, default="."),
                },
                ["data"],
            ),
            returns=obj({"data": {"type": "object"}, "keys": integer()}, ["data"]),
        ),
        make_tool(
            data_merge,
            name="data_merge",
            category="data",
            description="Deep-merge objects left to right (later values win; lists "
            "replaced or concatenated).",
            parameters=obj(
                {
                    "objects": array({"type": "object"}, minItems=1),
                    "lists": string(enum=["replace", "concat"], default="replace"),
                },
                ["objects"],
            ),
            returns=obj({"data": {"type": "object"}}, ["data"]),
        ),
    ]
