"""What the data tools do over lists of records (JSON objects): filter, sort, group, pivot, join.

Lists are bounded by ``ToolLimits.max_rows`` in the schemas; what a tool produces or reads
(joined rows, pivot cells, rows times conditions) is counted against
``ToolLimits.max_output_cells`` before the work starts, and nested values against
``ToolLimits.max_depth``. Every tool but ``data_get`` runs in a worker thread.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import math
import statistics
from collections.abc import Callable
from typing import Any

from agentkit.exceptions import LimitExceededError, ToolInputError
from agentkit_tools.builtin._limits import (
    ToolLimits,
    check_cells,
    check_depth,
    check_output_chars,
    check_output_items,
)

__all__ = [
    "data_aggregate",
    "data_deduplicate",
    "data_filter",
    "data_flatten",
    "data_format_csv",
    "data_get",
    "data_join",
    "data_merge",
    "data_parse_csv",
    "data_pivot",
    "data_select",
    "data_sort",
]

_MISSING = object()


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


def _hashable(value: Any) -> Any:
    """A hashable stand-in for a JSON value, equal exactly when the values are equal."""
    if isinstance(value, dict):
        return ("object", frozenset((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_hashable(item) for item in value))
    return value


def _membership(condition: dict[str, Any]) -> dict[str, Any]:
    """An 'in'/'not_in' condition whose list became a set: one lookup per row, not a scan."""
    values = condition.get("value")
    if not isinstance(values, list):
        raise ToolInputError(f"operator {condition['op']!r} needs a list value")
    return {**condition, "value": {_hashable(v) for v in values}}


def _check_reads(rows: int, per_row: int, limits: ToolLimits, what: str) -> None:
    check_cells(rows * max(per_row, 1), limits, what)


def data_filter(
    rows: list[dict[str, Any]],
    conditions: list[dict[str, Any]],
    match: str = "all",
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    _check_reads(len(rows), len(conditions), limits, "filtering")
    check_depth(rows, limits, "rows")
    prepared = [_membership(c) if c["op"] in ("in", "not_in") else c for c in conditions]
    for condition in prepared:
        check_depth(condition.get("value"), limits, "a condition's value")

    def test(condition: dict[str, Any], row: dict[str, Any]) -> bool:
        actual = _get(row, condition["field"])
        if condition["op"] in ("in", "not_in") and actual is not _MISSING:
            found: bool = _hashable(actual) in condition["value"]
            return found is (condition["op"] == "in")
        return _compare(condition["op"], actual, condition.get("value"))

    combine = all if match == "all" else any
    kept = [row for row in rows if combine(test(c, row) for c in prepared)]
    return {"rows": kept, "count": len(kept), "total": len(rows)}


def _sort_key(field: str, row: dict[str, Any]) -> Any:
    return _get(row, field)


def data_sort(
    rows: list[dict[str, Any]], by: list[dict[str, Any]], *, limits: ToolLimits
) -> dict[str, Any]:
    _check_reads(len(rows), len(by), limits, "sorting")
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
            raise ToolInputError(f"cannot sort by {field!r}: it mixes {', '.join(kinds)}") from exc
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
        raise ToolInputError(f"{function} needs numbers, got {values[:3]!r:.200}...")
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
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    # Each aggregation reads its field from every row (a 'list' also copies it out).
    _check_reads(len(rows), len(aggregations) + len(group_by or []), limits, "aggregating")
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
                raise ToolInputError(f"aggregation {function!r} needs a field")
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
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    check_depth(fill_value, limits, "fill_value")
    # Keyed by a hashable stand-in, so that an object or list as index value cannot crash.
    cells: dict[Any, tuple[Any, dict[str, list[Any]]]] = {}
    column_names: dict[str, None] = {}
    for row in rows:
        row_key, column, value = _get(row, index), _get(row, columns), _get(row, values)
        if row_key is _MISSING or column is _MISSING or value is _MISSING:
            continue
        column = column if isinstance(column, str) else _text_of(column)
        column_names.setdefault(column)
        key = _hashable(row_key)
        if key not in cells:
            cells[key] = (row_key, {})
        cells[key][1].setdefault(column, []).append(value)
    if not cells:
        raise ToolInputError(f"no row has all of {index!r}, {columns!r} and {values!r}")
    # The table is every index value times every column, filled or not.
    check_cells(len(cells) * (len(column_names) + 1), limits, "the pivot table")
    table = []
    for row_key, by_column in cells.values():
        entry: dict[str, Any] = {index: row_key}
        for column in column_names:
            entry[column] = (
                _aggregate(function, by_column[column]) if column in by_column else fill_value
            )
        table.append(entry)
    return {"rows": table, "columns": [index, *column_names]}


def _text_of(value: Any) -> str:
    text = str(value)
    if len(text) > 10_000:
        raise ToolInputError("a pivot column value is longer than 10,000 characters as text")
    return text


def data_select(
    rows: list[dict[str, Any]],
    fields: list[str],
    rename: dict[str, str] | None = None,
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    check_cells(len(rows) * len(fields), limits, "the selection")
    names = rename or {}
    selected = [
        {names.get(f, f): (None if (v := _get(row, f)) is _MISSING else v) for f in fields}
        for row in rows
    ]
    return {"rows": selected, "count": len(selected)}


def data_deduplicate(
    rows: list[dict[str, Any]],
    fields: list[str] | None = None,
    keep: str = "first",
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    _check_reads(len(rows), len(fields or []), limits, "deduplicating")
    check_depth(rows, limits, "rows")
    seen: set[str] = set()
    ordered = rows if keep == "first" else list(reversed(rows))
    unique = []
    for row in ordered:
        # Canonical JSON text as the key: strings are not tracked by the garbage collector,
        # so 100,000 keys do not trigger full collections that pause every thread.
        value = [_get(row, f) for f in fields] if fields else row
        key = json.dumps(value, sort_keys=True, default=_missing_as_null)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    if keep == "last":
        unique.reverse()
    return {"rows": unique, "count": len(unique), "removed": len(rows) - len(unique)}


def _missing_as_null(value: Any) -> None:
    if value is _MISSING:
        return
    raise TypeError(f"{type(value).__name__} is not JSON")


def data_join(
    left: list[dict[str, Any]],
    right: list[dict[str, Any]],
    on: str,
    right_on: str | None = None,
    how: str = "inner",
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    right_key = right_on or on
    check_depth(left, limits, "left")
    check_depth(right, limits, "right")
    index: dict[Any, list[dict[str, Any]]] = {}
    for row in right:
        index.setdefault(_hashable(_get(row, right_key)), []).append(row)
    partners_of = [
        index.get(_hashable(key), []) if (key := _get(row, on)) is not _MISSING else []
        for row in left
    ]
    # Rows sharing a key multiply: count the result before building any of it.
    rows_out = cells_out = 0
    for row, partners in zip(left, partners_of, strict=True):
        rows_out += len(partners) or 1
        cells_out += sum(len(p) for p in partners) + len(row) * max(len(partners), 1)
    if how in ("right", "outer"):
        rows_out += len(right)
        cells_out += sum(len(r) for r in right)
    check_output_items(rows_out, limits, "the joined rows")
    check_cells(cells_out, limits, "the joined rows")
    joined = []
    matched: set[int] = set()
    for row, partners in zip(left, partners_of, strict=True):
        for partner in partners:
            matched.add(id(partner))
            joined.append({**{k: v for k, v in partner.items() if k != right_key}, **row})
        if not partners and how in ("left", "outer"):
            joined.append(dict(row))
    if how in ("right", "outer"):
        joined.extend(dict(row) for row in right if id(row) not in matched)
    return {"rows": joined, "count": len(joined)}


def data_parse_csv(
    text: str,
    delimiter: str = ",",
    header: bool = True,
    infer_types: bool = True,
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    records = []
    cells = 0
    try:
        # Row by row in Python: list(csv.reader(...)) would hold the GIL for the whole text.
        for record in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True):
            if record:
                cells += len(record)
                check_cells(cells, limits, "the parsed CSV")
                records.append(record)
                if len(records) > limits.max_rows + 1:  # + 1: a header is not a record
                    raise LimitExceededError(
                        f"the CSV has more than {limits.max_rows:,} records; split it or "
                        "raise ToolLimits.max_rows"
                    )
    except csv.Error as exc:
        raise ToolInputError(f"malformed CSV: {exc}") from exc
    if not records:
        return {"rows": [], "columns": [], "count": 0}
    columns = records[0] if header else [f"column_{i + 1}" for i in range(len(records[0]))]
    body = records[1:] if header else records
    if len(set(columns)) != len(columns):
        raise ToolInputError(f"duplicate column names in the header: {columns!r:.500}")
    rows = []
    for number, record in enumerate(body, start=2 if header else 1):
        if len(record) != len(columns):
            raise ToolInputError(
                f"CSV line {number} has {len(record)} fields, expected {len(columns)}"
            )
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
    rows: list[dict[str, Any]],
    fields: list[str] | None = None,
    delimiter: str = ",",
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    columns = fields or list(dict.fromkeys(key for row in rows for key in row))
    # Every row gets every column, so rows with different keys multiply the output.
    check_cells(len(rows) * len(columns), limits, "the CSV")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := _get(row, c)) in (_MISSING, None) else v for c in columns])
        check_output_chars(buffer.tell(), limits, "the CSV")
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


def data_flatten(
    data: dict[str, Any], separator: str = ".", *, limits: ToolLimits
) -> dict[str, Any]:
    check_depth(data, limits, "data")
    flat: dict[str, Any] = {}
    # Each key repeats its whole path: count the characters of the keys as they are made.
    key_chars = 0
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, prefix = stack.pop()
        if isinstance(value, dict) and value:
            items: Any = value.items()
        elif isinstance(value, list) and value:
            items = enumerate(value)
        else:
            key_chars += len(prefix)
            check_output_chars(key_chars, limits, "the flattened keys")
            flat[prefix] = value
            continue
        children = [
            (item, f"{prefix}{separator}{key}" if prefix else str(key)) for key, item in items
        ]
        stack.extend(reversed(children))
    check_output_items(len(flat), limits, "the flattened keys")
    return {"data": flat, "keys": len(flat)}


def data_merge(
    objects: list[dict[str, Any]], lists: str = "replace", *, limits: ToolLimits
) -> dict[str, Any]:
    check_depth(objects, limits, "objects")

    # Merging into one result we own keeps the work linear in the input; merging into fresh
    # copies at every step would copy the growing result once per object.
    def merge_into(target: dict[str, Any], update: dict[str, Any]) -> None:
        for key, value in update.items():
            current = target.get(key, _MISSING)
            if isinstance(current, dict) and isinstance(value, dict):
                merge_into(current, value)
            elif lists == "concat" and isinstance(current, list) and isinstance(value, list):
                current.extend(copy.deepcopy(value))
            else:
                target[key] = copy.deepcopy(value)

    result: dict[str, Any] = {}
    for item in objects:
        merge_into(result, item)
    return {"data": result}
