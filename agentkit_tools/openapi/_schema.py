"""OpenAPI schema objects to JSON Schema, and tool names that every model provider accepts.

OpenAPI 3.1 schemas are JSON Schema 2020-12 already. OpenAPI 3.0 and Swagger 2.0 schemas are
converted: ``nullable: true`` adds ``"null"`` to the type, boolean ``exclusiveMinimum``/
``exclusiveMaximum`` become the numeric form, Swagger's ``type: file`` becomes a binary string,
and OpenAPI-only annotations (``example``, ``xml``, ``discriminator``, ``x-...``) are dropped.
A ``pattern`` that the linear-time regex engine cannot run (a backreference or lookaround) is
dropped too, with a note in the schema's description, so one such pattern does not keep the
whole API from importing; the server still checks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from agentkit.exceptions import PatternError
from agentkit.tools import TOOL_NAME_PATTERN, compile_pattern

__all__ = ["NameAllocator", "SchemaConverter", "base_tool_name", "merge_all_of"]

_MAX_NAME: Final = 64
_INVALID_NAME_CHARS: Final = re.compile(r"[^a-zA-Z0-9_-]+")

#: Keywords whose value is one schema.
_ONE: Final = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "contains",
        "if",
        "then",
        "else",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "additionalItems",
    }
)
#: Keywords whose value is a list of schemas.
_MANY: Final = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
#: Keywords whose value maps names to schemas.
_NAMED: Final = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
#: OpenAPI annotations that are not JSON Schema (dropped, so strict exporters stay happy).
_OPENAPI_ONLY: Final = frozenset({"example", "xml", "externalDocs", "discriminator", "nullable"})


class SchemaConverter:
    """Converts the schemas of one document; shared subtrees are converted once and shared.

    Args:
        legacy: The document is OpenAPI 3.0 or Swagger 2.0 (not 3.1).
    """

    def __init__(self, *, legacy: bool) -> None:
        self._legacy = legacy
        self._done: dict[int, Any] = {}
        self._keep: list[Any] = []  # keeps the sources alive, so their ids stay unique

    def convert(self, schema: Any) -> Any:
        """The JSON Schema (draft 2020-12) for the OpenAPI *schema*."""
        if not isinstance(schema, Mapping):
            return schema if isinstance(schema, bool) else {}
        key = id(schema)
        done = self._done.get(key)
        if done is not None:
            return done
        result: dict[str, Any] = {}
        self._done[key] = result  # the resolved spec is acyclic; this only shares work
        self._keep.append(schema)
        for name, value in schema.items():
            if name in _ONE:
                result[name] = self.convert(value) if isinstance(value, Mapping | bool) else value
            elif name in _MANY and isinstance(value, list):
                result[name] = [self.convert(item) for item in value]
            elif name in _NAMED and isinstance(value, Mapping):
                result[name] = {key: self.convert(item) for key, item in value.items()}
            elif not _dropped(name, value):
                result[name] = value
        if "pattern" in schema and "pattern" not in result:
            note = f"Pattern {schema['pattern']!r} is not checked here (the server checks it)."
            description = result.get("description")
            result["description"] = f"{description} {note}" if description else note
        if self._legacy:
            self._legacy_keywords(schema, result)
        return result

    def _legacy_keywords(self, source: Mapping[str, Any], result: dict[str, Any]) -> None:
        if result.get("type") == "file":
            result["type"] = "string"
            result["format"] = "binary"
        for bound, exclusive in (
            ("minimum", "exclusiveMinimum"),
            ("maximum", "exclusiveMaximum"),
        ):
            flag = result.get(exclusive)
            if isinstance(flag, bool):
                del result[exclusive]
                if flag and bound in result:
                    result[exclusive] = result.pop(bound)
        if source.get("nullable") is True:
            kind = result.get("type")
            if isinstance(kind, str):
                result["type"] = [kind, "null"]
            if isinstance(result.get("enum"), list) and None not in result["enum"]:
                result["enum"] = [*result["enum"], None]
            if kind is None and "enum" not in result:
                inner = dict(result)
                result.clear()
                result["anyOf"] = [inner, {"type": "null"}]


def _dropped(keyword: str, value: Any) -> bool:
    """Whether *keyword* is left out: OpenAPI-only, an extension, or a pattern we cannot run."""
    if keyword in _OPENAPI_ONLY or (keyword.startswith("x-") and keyword != "x-recursive-ref"):
        return True
    return keyword == "pattern" and not _runnable(value)


def _runnable(pattern: Any) -> bool:
    """Whether the registry can check *pattern* (anything not a string is left to it)."""
    if not isinstance(pattern, str):
        return True
    try:
        compile_pattern(pattern)
    except PatternError:
        return False
    return True


def merge_all_of(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """*schema* as one object schema with ``properties``, merging ``allOf`` parts; else None.

    None when it is not a plain object: ``oneOf``/``anyOf``/``not`` at the top, a non-object
    part, or no properties at all.
    """
    if any(key in schema for key in ("oneOf", "anyOf", "not", "if")):
        return None
    properties: dict[str, Any] = {}
    required: list[str] = []
    parts: list[Any] = [schema]
    merged: dict[str, Any] = {}
    while parts:
        part = parts.pop(0)
        if not isinstance(part, Mapping):
            return None
        kind = part.get("type")
        if kind not in (None, "object") and kind != ["object"]:
            return None
        if any(key in part for key in ("oneOf", "anyOf", "not", "if")):
            return None
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                properties.update(value)
            elif key == "required" and isinstance(value, list):
                required.extend(name for name in value if name not in required)
            elif key == "allOf" and isinstance(value, list):
                parts.extend(value)
            elif key not in merged:
                merged[key] = value
    if not properties:
        return None
    merged.pop("allOf", None)
    merged.update(type="object", properties=properties, required=required)
    return merged


def base_tool_name(operation_id: Any, method: str, path: str) -> str:
    """The name before prefixing and de-duplication: the operationId, else method + path.

    Characters outside ``[a-zA-Z0-9_-]`` become ``_`` (``meta/root`` → ``meta_root``,
    ``users.get`` → ``users_get``, ``GET /users/{id}`` → ``get_users_id``).
    """
    if isinstance(operation_id, str) and operation_id.strip():
        name = _INVALID_NAME_CHARS.sub("_", operation_id.strip()).strip("_")
        if name:
            return name
    name = _INVALID_NAME_CHARS.sub("_", f"{method.lower()}_{path}").strip("_")
    return re.sub(r"_{2,}", "_", name) or method.lower()


class NameAllocator:
    """Hands out unique tool names: prefix + base, cut to 64 characters, ``_2``... on repeats."""

    def __init__(self, prefix: str = "", taken: Iterable[str] = ()) -> None:
        self._prefix = prefix
        self._taken = set(taken)

    def allocate(self, base: str) -> str:
        """A name for *base* that no earlier call returned."""
        name = (self._prefix + base)[:_MAX_NAME]
        number = 1
        candidate = name
        while candidate in self._taken:
            number += 1
            suffix = f"_{number}"
            candidate = name[: _MAX_NAME - len(suffix)] + suffix
        self._taken.add(candidate)
        assert TOOL_NAME_PATTERN.fullmatch(candidate), candidate
        return candidate
