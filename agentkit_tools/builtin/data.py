"""Data tools over lists of records (JSON objects): filter, sort, group, pivot, join, CSV.

Each tool is a plain function made a tool with ``@tool``; its limits come from the injected
``config`` (``tool.bind(config=ToolsConfig(...))``), and :func:`data_tools` binds every tool
and fits its schema bounds to ``config.limits``. Lists are bounded by ``ToolLimits.max_rows``
in the schemas; what a tool produces or reads is counted against the other limits before the
work starts (see :mod:`agentkit_tools.builtin._data_ops`). Every tool but ``data_get`` runs in
a tool thread.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict

import msgspec

from agentkit.tools import FunctionTool, Injected, Tool, tool
from agentkit_tools.builtin import _data_ops
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._errors import typed_errors
from agentkit_tools.builtin._typed import Limit, Shape, fit_to_limits
from agentkit_tools.builtin._validate import validate_data

__all__ = [
    "TOOLS",
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
    "data_tools",
    "data_validate",
]

Config = Annotated[ToolsConfig, Injected]
Field = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=1000,
        description="Field name; dots reach into nested objects, e.g. 'user.age'",
    ),
]
Rows = Annotated[list[dict[str, Any]], Limit("maxItems", "max_rows")]
Fields = Annotated[tuple[Field, ...], Limit("maxItems", "max_list_items")]
Delimiter = Annotated[str, msgspec.Meta(min_length=1, max_length=1)]
Op = Literal[
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
Function = Literal[
    "count", "count_distinct", "sum", "avg", "min", "max", "median", "first", "last", "list"
]


class Condition(TypedDict):
    """A test of one field: {field: 'age', op: 'gte', value: 18}."""

    field: Field
    op: Op
    value: NotRequired[Any]


class SortKey(TypedDict):
    """A field to sort by, and its direction."""

    field: Field
    descending: NotRequired[Annotated[bool, msgspec.Meta(extra_json_schema={"default": False})]]


Aggregation = TypedDict(
    "Aggregation",
    {
        "function": Function,
        "field": NotRequired[Field],
        "as": NotRequired[Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]],
    },
)
Aggregation.__doc__ = "One value per group: a function of a field, named by 'as'."


# -- returns ---------------------------------------------------------------------------------


class RowsResult(TypedDict):
    """The records."""

    rows: list[dict[str, Any]]
    count: int


class FilterResult(TypedDict):
    """The records kept, how many, and how many there were."""

    rows: list[dict[str, Any]]
    count: int
    total: int


class DeduplicateResult(TypedDict):
    """The records kept and how many were dropped."""

    rows: list[dict[str, Any]]
    count: int
    removed: int


class AggregateResult(TypedDict):
    """One entry per group: its key fields and its aggregated values."""

    groups: list[dict[str, Any]]
    count: int


class PivotResult(TypedDict):
    """The pivot table: one row per index value, and the column names."""

    rows: list[dict[str, Any]]
    columns: list[str]


class ParsedCsv(TypedDict):
    """The records of a CSV text and its columns."""

    rows: list[dict[str, Any]]
    columns: list[str]
    count: int


class FormattedCsv(TypedDict):
    """CSV text with a header row."""

    csv: str
    columns: list[str]
    count: int


class GetResult(TypedDict):
    """The value at a path, or the default when nothing is there."""

    path: str
    found: bool
    value: Any


class ValidationIssue(TypedDict):
    """Where the data breaks the schema, and how."""

    path: str
    message: str


class ValidateResult(TypedDict):
    """Whether the data is valid, and each error."""

    valid: bool
    errors: list[ValidationIssue]


class FlattenResult(TypedDict):
    """The flat object and its number of keys."""

    data: dict[str, Any]
    keys: int


class MergeResult(TypedDict):
    """The merged object."""

    data: dict[str, Any]


# -- the tools -------------------------------------------------------------------------------


@tool(name="data_filter", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_filter(
    rows: Rows,
    conditions: Annotated[
        list[Condition], msgspec.Meta(min_length=1), Limit("maxItems", "max_list_items")
    ],
    match: Literal["all", "any"] = "all",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(FilterResult)]:
    """Keep the records matching all (or any) conditions such as {field: 'age', op: 'gte', value: 18}.

    Args:
        rows: Records (JSON objects).
        conditions: The tests; 'in' and 'not_in' take a list value, 'exists' true or false.
        match: Keep records passing all the conditions, or any of them.
        config: The settings (injected).
    """  # noqa: E501
    return _data_ops.data_filter(rows, [dict(c) for c in conditions], match, limits=config.limits)


@tool(name="data_sort", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_sort(
    rows: Rows,
    by: Annotated[list[SortKey], msgspec.Meta(min_length=1), Limit("maxItems", "max_list_items")],
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(RowsResult)]:
    """Sort records by one or more fields, each ascending or descending; missing values last.

    Args:
        rows: Records (JSON objects).
        by: The sort keys, most significant first.
        config: The settings (injected).
    """
    return _data_ops.data_sort(rows, [dict(key) for key in by], limits=config.limits)


@tool(name="data_aggregate", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_aggregate(
    rows: Rows,
    aggregations: Annotated[
        list[Aggregation], msgspec.Meta(min_length=1), Limit("maxItems", "max_list_items")
    ],
    group_by: Fields = (),
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(AggregateResult)]:
    """Group records and compute count, sum, avg, min, max, median, count_distinct, first, last or list per group.

    Args:
        rows: Records (JSON objects).
        aggregations: The values to compute for each group.
        group_by: The fields whose values make a group; none: one group of every record.
        config: The settings (injected).
    """  # noqa: E501
    return _data_ops.data_aggregate(
        rows, [dict(a) for a in aggregations], list(group_by), limits=config.limits
    )


@tool(name="data_pivot", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_pivot(
    rows: Rows,
    index: Field,
    columns: Field,
    values: Field,
    function: Function = "sum",
    # A scalar: it is repeated in every empty cell of the table.
    fill_value: Annotated[
        Any,
        msgspec.Meta(
            extra_json_schema={"type": ["string", "number", "boolean", "null"], "maxLength": 1000}
        ),
    ] = None,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(PivotResult)]:
    """Pivot records: one row per index value, one column per columns value, cells aggregated from values.

    Args:
        rows: Records (JSON objects).
        index: The field whose values become the rows.
        columns: The field whose values become the columns.
        values: The field aggregated into each cell.
        function: How a cell's values are aggregated.
        fill_value: The value of an empty cell.
        config: The settings (injected).
    """  # noqa: E501
    return _data_ops.data_pivot(
        rows, index, columns, values, function, fill_value, limits=config.limits
    )


@tool(name="data_select", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_select(
    rows: Rows,
    fields: Annotated[list[Field], msgspec.Meta(min_length=1), Limit("maxItems", "max_list_items")],
    rename: Annotated[
        dict[str, Annotated[str, msgspec.Meta(max_length=1000)]] | None,
        Limit("maxProperties", "max_list_items"),
    ] = None,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(RowsResult)]:
    """Keep only some fields of each record, optionally renamed.

    Args:
        rows: Records (JSON objects).
        fields: The fields to keep, in order.
        rename: New names of some of the fields.
        config: The settings (injected).
    """
    return _data_ops.data_select(rows, fields, rename, limits=config.limits)


@tool(name="data_deduplicate", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_deduplicate(
    rows: Rows,
    fields: Fields = (),
    keep: Literal["first", "last"] = "first",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(DeduplicateResult)]:
    """Drop duplicate records (whole records or by key fields).

    Args:
        rows: Records (JSON objects).
        fields: The key fields; none: whole records are compared.
        keep: Which of the duplicates stays.
        config: The settings (injected).
    """
    return _data_ops.data_deduplicate(rows, list(fields), keep, limits=config.limits)


@tool(name="data_join", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_join(
    left: Rows,
    right: Rows,
    on: Field,
    right_on: Field | None = None,
    how: Literal["inner", "left", "right", "outer"] = "inner",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(RowsResult)]:
    """Join two lists of records on a key (inner, left, right, outer).

    Args:
        left: Records (JSON objects).
        right: Records (JSON objects).
        on: The key field of the left records (and of the right ones, without right_on).
        right_on: The key field of the right records.
        how: Which unmatched records are kept.
        config: The settings (injected).
    """
    return _data_ops.data_join(left, right, on, right_on, how, limits=config.limits)


@tool(name="data_parse_csv", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_parse_csv(
    text: Annotated[str, Limit("maxLength", "max_text_chars")],
    delimiter: Delimiter = ",",
    header: bool = True,
    infer_types: bool = True,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(ParsedCsv)]:
    """Parse CSV text into records, numbers and booleans inferred.

    Args:
        text: The CSV text.
        delimiter: The field separator.
        header: The first record names the columns.
        infer_types: Read numbers, booleans and empty fields (null) as such.
        config: The settings (injected).
    """
    return _data_ops.data_parse_csv(text, delimiter, header, infer_types, limits=config.limits)


@tool(name="data_format_csv", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_format_csv(
    rows: Rows,
    fields: Fields = (),
    delimiter: Delimiter = ",",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(FormattedCsv)]:
    """Write records as CSV text with a header row.

    Args:
        rows: Records (JSON objects).
        fields: The columns, in order; none: every field, in order of appearance.
        delimiter: The field separator.
        config: The settings (injected).
    """
    return _data_ops.data_format_csv(rows, list(fields), delimiter, limits=config.limits)


@tool(
    name="data_get",
    category="data",
    tags=("data",),
    read_only=True,
    idempotent=True,
    blocking=False,
)
@typed_errors
def data_get(
    data: Any, path: Annotated[str, msgspec.Meta(max_length=2000)], default: Any = None
) -> Annotated[dict[str, Any], Shape(GetResult)]:
    """Read a value from nested JSON by JSON pointer ('/a/0/b') or dotted path ('a.0.b').

    Args:
        data: The JSON value.
        path: A JSON pointer or a dotted path.
        default: The value given back when nothing is at the path.
    """
    return _data_ops.data_get(data, path, default)


@tool(name="data_validate", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_validate(
    data: Any, schema: dict[str, Any], *, config: Config
) -> Annotated[dict[str, Any], Shape(ValidateResult)]:
    """Check JSON data against a JSON Schema; list each error with its path.

    Args:
        data: The JSON value.
        schema: The JSON Schema (draft 2020-12 unless it names another in $schema).
        config: The settings (injected).
    """
    return validate_data(data, schema, limits=config.limits)


@tool(name="data_flatten", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_flatten(
    data: dict[str, Any],
    separator: Annotated[str, msgspec.Meta(min_length=1, max_length=5)] = ".",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(FlattenResult)]:
    """Flatten nested objects and lists into one level of 'a.b.0'-style keys.

    Args:
        data: The JSON object.
        separator: What joins the keys of a path.
        config: The settings (injected).
    """
    return _data_ops.data_flatten(data, separator, limits=config.limits)


@tool(name="data_merge", category="data", tags=("data",), read_only=True, idempotent=True)
@typed_errors
def data_merge(
    objects: Annotated[
        list[dict[str, Any]], msgspec.Meta(min_length=1), Limit("maxItems", "max_rows")
    ],
    lists: Literal["replace", "concat"] = "replace",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(MergeResult)]:
    """Deep-merge objects left to right (later values win; lists replaced or concatenated).

    Args:
        objects: The JSON objects.
        lists: Whether a later list replaces an earlier one or is appended to it.
        config: The settings (injected).
    """
    return _data_ops.data_merge(objects, lists, limits=config.limits)


TOOLS: tuple[FunctionTool[..., Any], ...] = (
    data_filter,
    data_sort,
    data_aggregate,
    data_pivot,
    data_select,
    data_deduplicate,
    data_join,
    data_parse_csv,
    data_format_csv,
    data_get,
    data_validate,
    data_flatten,
    data_merge,
)


def data_tools(config: ToolsConfig) -> list[Tool]:
    """The data tools bound to *config*, their schema bounds set from ``config.limits``."""
    return [
        fit_to_limits(item.bind(config=config) if item.injected else item, config.limits)
        for item in TOOLS
    ]
