"""A quick "surely valid" answer for common draft 2020-12 schemas, before jsonschema's check.

jsonschema checks a schema against the draft 2020-12 metaschema by following ``$dynamicRef``
through every subschema, which costs 5-20 ms per tool schema. :func:`surely_valid_2020_12`
walks a schema built only from the keywords :mod:`agentkit.tools._validation` compiles (plus
``uniqueItems`` and the annotations) and applies, keyword by keyword, exactly the constraints
the 2020-12 vocabularies put on them (``meta/validation``, ``meta/applicator``, ``meta/meta-data``,
``meta/format-annotation``, ``meta/core``'s ``$comment``; ``pattern`` through the ``regex``
format check jsonschema's metaschema validation performs).

It answers only True or False, and True only when jsonschema would accept the schema too: the
type tests are narrower than jsonschema's (plain ``int``/``float`` numbers, ``list`` arrays,
``dict`` objects), and any other keyword or value makes it answer False. False means "ask
jsonschema", which then gives the verdict and the error message as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

__all__ = ["surely_valid_2020_12"]

#: The values of JSON Schema's ``type`` keyword (``simpleTypes`` in ``meta/validation``).
_SIMPLE_TYPES: Final = frozenset(
    {"array", "boolean", "integer", "null", "number", "object", "string"}
)


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _non_negative_integer(value: Any) -> bool:
    kind = type(value)
    return (kind is int or (kind is float and value.is_integer())) and value >= 0


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _array(value: Any) -> bool:
    return isinstance(value, list)


def _anything(value: Any) -> bool:
    return True


def _type(value: Any) -> bool:
    # simpleTypes, or a non-empty array of distinct simpleTypes.
    if isinstance(value, str):
        return value in _SIMPLE_TYPES
    return (
        isinstance(value, list)
        and len(value) >= 1
        and all(isinstance(item, str) and item in _SIMPLE_TYPES for item in value)
        and len(set(value)) == len(value)
    )


def _positive_number(value: Any) -> bool:
    return _number(value) and value > 0


def _regex(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


#: A reference into the schema's own ``$defs`` (what importers such as OpenAPI's emit).
_LOCAL_DEF_REF: Final = re.compile(r"#/\$defs/[A-Za-z0-9._-]+")


def _local_def_ref(value: Any) -> bool:
    return isinstance(value, str) and _LOCAL_DEF_REF.fullmatch(value) is not None


def _string_array(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(item, str) for item in value)
        and len(set(value)) == len(value)
    )


#: Keywords whose value is not a schema, with what the 2020-12 metaschema asks of it.
_VALUE_CHECKS: Final[dict[str, Callable[[Any], bool]]] = {
    "type": _type,
    "enum": _array,
    "const": _anything,
    "multipleOf": _positive_number,
    "maximum": _number,
    "exclusiveMaximum": _number,
    "minimum": _number,
    "exclusiveMinimum": _number,
    "maxLength": _non_negative_integer,
    "minLength": _non_negative_integer,
    "pattern": _regex,
    "maxItems": _non_negative_integer,
    "minItems": _non_negative_integer,
    "uniqueItems": _boolean,
    "maxProperties": _non_negative_integer,
    "minProperties": _non_negative_integer,
    "required": _string_array,
    "title": _string,
    "description": _string,
    "default": _anything,
    "examples": _array,
    "$comment": _string,
    "deprecated": _boolean,
    "readOnly": _boolean,
    "writeOnly": _boolean,
    "format": _string,
    "$ref": _local_def_ref,
}
#: Keywords whose value is one schema.
_SUBSCHEMA: Final = frozenset({"items", "additionalProperties", "not"})
#: Keywords whose value is a non-empty array of schemas.
_SCHEMA_ARRAY: Final = frozenset({"allOf", "anyOf", "oneOf"})


def surely_valid_2020_12(schema: Any) -> bool:
    """True only if draft 2020-12's metaschema accepts *schema*; False means "ask jsonschema"."""
    try:
        return _walk(schema)
    except Exception:  # e.g. RecursionError on absurd nesting: let jsonschema decide.
        return False


def _walk(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    for keyword, value in schema.items():
        check = _VALUE_CHECKS.get(keyword)
        if check is not None:
            if not check(value):
                return False
        elif keyword in _SUBSCHEMA:
            if not _walk(value):
                return False
        elif keyword in _SCHEMA_ARRAY:
            if not (isinstance(value, list) and value and all(_walk(item) for item in value)):
                return False
        elif keyword in ("properties", "$defs"):
            if not (isinstance(value, dict) and all(_walk(item) for item in value.values())):
                return False
        else:
            return False
    return True
