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

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from agentkit.exceptions import PatternError
from agentkit.tools import TOOL_NAME_PATTERN, compile_pattern
from agentkit_tools.openapi._errors import OpenAPIError

if TYPE_CHECKING:
    from agentkit_tools.openapi._refs import Documents

__all__ = ["NameAllocator", "SchemaConverter", "base_tool_name", "merge_all_of", "shorten"]

_MAX_NAME: Final = 64
_HASH_DIGITS: Final = 8
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
#: Keywords that would change how the ``#/$defs/...`` references written here resolve.
_RESOLUTION: Final = frozenset({"$id", "$schema", "id"})


class SchemaConverter:
    """Converts the schemas of one import; references stay references, into a shared table.

    A ``$ref`` to a schema becomes ``{"$ref": "#/$defs/<name>"}`` and the schema it points
    at is converted once into :attr:`defs`; :meth:`bundle` gives a tool's schema with
    ``$defs`` holding only the definitions it reaches, so a tool stays the size of its own
    part of the spec however often the spec reuses its schemas.

    Args:
        documents: The documents of the import (references are followed across them).
        legacy: The document is OpenAPI 3.0 or Swagger 2.0 (not 3.1).
    """

    def __init__(self, documents: Documents, *, legacy: bool) -> None:
        self._documents = documents
        self._legacy = legacy
        self._done: dict[tuple[int, str], tuple[Any, frozenset[str]]] = {}
        self._keep: list[Any] = []  # keeps the sources alive, so their ids stay unique
        self._collect: list[set[str]] = []
        #: Converted definitions by name, and the names each one refers to.
        self.defs: dict[str, Any] = {}
        self.edges: dict[str, frozenset[str]] = {}
        #: Where each definition comes from (``#/components/schemas/Pet``).
        self.sources: dict[str, str] = {}
        self._failed: dict[str, OpenAPIError] = {}

    def deref(self, schema: Any, base: str, where: str = "a schema") -> tuple[Any, str]:
        """*schema* with its ``$ref`` chain followed, and the URL of the document it is in."""
        located = self._documents.follow(schema, base, where)
        return located.node, located.resource

    def convert_top(self, schema: Any, base: str) -> tuple[Any, frozenset[str]]:
        """*schema* converted, and the names of the definitions it refers to directly."""
        found: set[str] = set()
        self._collect.append(found)
        try:
            result = self.convert(schema, base)
        finally:
            self._collect.pop()
        return result, frozenset(found)

    def bundle(self, schema: Any, refs: frozenset[str]) -> Any:
        """*schema* with ``$defs`` holding every definition reachable from *refs*."""
        if not refs or not isinstance(schema, dict):
            return schema
        reached: dict[str, Any] = {}
        pending = sorted(refs)
        while pending:
            name = pending.pop()
            if name in reached:
                continue
            reached[name] = self.defs[name]
            pending.extend(other for other in self.edges[name] if other not in reached)
        return {**schema, "$defs": dict(sorted(reached.items()))}

    def convert(self, schema: Any, base: str) -> Any:
        """The JSON Schema (draft 2020-12) for the OpenAPI *schema* of the document *base*."""
        if not isinstance(schema, Mapping):
            return schema if isinstance(schema, bool) else {}
        key = (id(schema), base)
        done = self._done.get(key)
        if done is not None:
            if self._collect:
                self._collect[-1].update(done[1])
            return done[0]
        found: set[str] = set()
        self._collect.append(found)
        try:
            result = self._convert(schema, base)
        finally:
            self._collect.pop()
        self._done[key] = (result, frozenset(found))
        self._keep.append(schema)
        if self._collect:
            self._collect[-1].update(found)
        return result

    def _convert(self, schema: Mapping[str, Any], base: str) -> Any:
        ref = schema.get("$ref")
        result: dict[str, Any] = {}
        if isinstance(ref, str):
            result["$ref"] = "#/$defs/" + self._definition(ref, base)
            if self._legacy:  # OpenAPI 3.0 and Swagger 2.0 ignore a reference's siblings
                return result
        for name, value in schema.items():
            if name == "$ref":
                continue
            if name in _ONE:
                result[name] = (
                    self.convert(value, base) if isinstance(value, Mapping | bool) else value
                )
            elif name in _MANY and isinstance(value, list):
                result[name] = [self.convert(item, base) for item in value]
            elif name in _NAMED and isinstance(value, Mapping):
                result[name] = {key: self.convert(item, base) for key, item in value.items()}
            elif not _dropped(name, value):
                result[name] = value
        if "pattern" in schema and "pattern" not in result:
            note = f"Pattern {schema['pattern']!r} is not checked here (the server checks it)."
            description = result.get("description")
            result["description"] = f"{description} {note}" if description else note
        if self._legacy:
            self._legacy_keywords(schema, result)
        return result

    def _definition(self, ref: str, base: str) -> str:
        """The ``$defs`` name of the schema *ref* points at, converting it the first time."""
        located = self._documents.locate(base, ref, base)
        name = self._documents.def_name(located)
        failed = self._failed.get(name)
        if failed is not None:
            raise failed
        if name not in self.defs:
            self.defs[name] = {}  # a placeholder: a recursive schema refers to itself
            self.sources[name] = located.where(self._documents.root_url)
            try:
                converted, refs = self.convert_top(located.node, located.resource)
            except OpenAPIError as exc:
                del self.defs[name]
                self._failed[name] = exc
                raise
            self.defs[name] = converted
            self.edges[name] = refs
        if self._collect:
            self._collect[-1].add(name)
        return name

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
    if keyword in _OPENAPI_ONLY or keyword.startswith("x-"):
        return True
    if keyword in _RESOLUTION and isinstance(value, str):
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


def merge_all_of(
    schema: Mapping[str, Any],
    base: str,
    deref: Callable[[Any, str], tuple[Any, str]],
) -> dict[str, Any] | None:
    """*schema* as one object schema, merging ``allOf`` parts (references followed); else None.

    The result's ``properties`` map each name to ``(schema, document URL)``. None when it is
    not a plain object: ``oneOf``/``anyOf``/``not`` at the top, a non-object part, or no
    properties at all.
    """
    properties: dict[str, tuple[Any, str]] = {}
    required: list[str] = []
    parts: list[tuple[Any, str]] = [(schema, base)]
    merged: dict[str, Any] = {}
    seen = 0
    while parts:
        part, where = parts.pop(0)
        part, where = deref(part, where)
        seen += 1
        if not isinstance(part, Mapping) or seen > 1000:
            return None
        kind = part.get("type")
        if kind not in (None, "object") and kind != ["object"]:
            return None
        if any(key in part for key in ("oneOf", "anyOf", "not", "if")):
            return None
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                properties.update((name, (item, where)) for name, item in value.items())
            elif key == "required" and isinstance(value, list):
                required.extend(name for name in value if name not in required)
            elif key == "allOf" and isinstance(value, list):
                parts.extend((item, where) for item in value)
            elif key not in merged and key != "$ref":
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
    """Hands out unique tool names: prefix + base, at most 64 characters, stable.

    A name over 64 characters keeps its first 55 and ends with ``_`` and 8 hex digits of a
    hash of the whole name, so two long ids that share a start stay apart and keep their
    names whatever else the spec holds; only the same name given twice gets ``_2``, ``_3``...
    """

    def __init__(self, prefix: str = "", taken: Iterable[str] = ()) -> None:
        self._prefix = prefix
        self._taken = set(taken)

    def allocate(self, base: str) -> str:
        """A name for *base* that no earlier call returned."""
        name = shorten(self._prefix + base)
        number = 1
        candidate = name
        while candidate in self._taken:
            number += 1
            candidate = shorten(f"{name}_{number}")
        self._taken.add(candidate)
        assert TOOL_NAME_PATTERN.fullmatch(candidate), candidate
        return candidate


def shorten(name: str) -> str:
    """*name* if it fits 64 characters, else its first 55, ``_`` and a hash of it (8 hex)."""
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_DIGITS]
    return f"{name[: _MAX_NAME - _HASH_DIGITS - 1].rstrip('_-')}_{digest}"
