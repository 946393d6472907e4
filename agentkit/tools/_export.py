"""Tools as the function-calling formats of OpenAI, Anthropic and MCP.

* :func:`to_openai_tool` — a Chat Completions function tool. With ``strict=True`` the schema
  is rewritten to OpenAI's strict-mode (structured outputs) subset: every object lists all its
  properties in ``required`` and has ``additionalProperties: false``; optional properties become
  nullable; ``oneOf`` becomes ``anyOf``, ``const`` a one-value ``enum``; keywords strict mode
  does not support (``minLength``, ``maxLength``, ``uniqueItems``, ``default``, ``title``, ...)
  are dropped. The registry still validates calls against the original schema, so dropping a
  constraint loosens only what the model is steered to, never what a tool accepts. A schema
  strict mode cannot express (a free-form object, an array without ``items``, ``allOf``,
  ``not``, ...) raises instead of being exported wrongly; ``strict="auto"`` exports such a
  tool non-strict instead (``"strict": false``) and :func:`strict_problem` says why. An
  ``allOf`` with a single branch is merged into its parent. :func:`from_openai_strict_arguments`
  turns a strict-mode call's ``null`` placeholders back into omitted optional arguments.
* :func:`to_anthropic_tool` — a Messages API tool (``name``, ``description``, ``input_schema``).
  With ``strict=True`` (Anthropic's strict tool use) the schema is rewritten to the subset
  Anthropic's grammar accepts: ``additionalProperties: false`` on every object, optional
  properties stay optional, and the bounds it does not support (``minimum``, ``maximum``,
  ``minLength``, ``maxLength``, ``maxItems``, ``minItems`` above 1, ...) are dropped;
  ``strict="auto"`` falls back as for OpenAI.
* :func:`to_mcp_tool` — an MCP ``Tool`` definition (``inputSchema``, ``outputSchema``, and
  ``annotations`` from the tool's hints). MCP requires ``outputSchema`` to describe an object, so
  a non-object ``returns`` is wrapped as ``{"result": ...}``; :func:`mcp_structured_content`
  wraps a result the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final, Literal, NoReturn

from agentkit.exceptions import ToolRegistrationError
from agentkit.tools._tool import TOOL_NAME_PATTERN, Tool
from agentkit.tools._validation import compile_schema, json_pointer

__all__ = [
    "anthropic_strict_schema",
    "from_openai_strict_arguments",
    "mcp_structured_content",
    "openai_strict_schema",
    "strict_problem",
    "to_anthropic_tool",
    "to_mcp_tool",
    "to_openai_tool",
]

#: OpenAI strict mode: nesting depth, total object properties and enum values allowed.
OPENAI_MAX_DEPTH: Final = 10
OPENAI_MAX_PROPERTIES: Final = 5000
OPENAI_MAX_ENUM_VALUES: Final = 1000

#: String formats strict mode accepts; any other ``format`` is dropped.
OPENAI_STRING_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

#: Keywords kept per type in strict mode (besides the structural ones handled in code).
_STRICT_KEEP: Final[dict[str, frozenset[str]]] = {
    "string": frozenset({"pattern", "format"}),
    "number": frozenset(
        {"multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    ),
    "integer": frozenset(
        {"multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    ),
    "array": frozenset({"minItems", "maxItems"}),
}

#: Keywords strict mode cannot express at all: exporting them would change the meaning.
_STRICT_REFUSE: Final = frozenset(
    {
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "patternProperties",
        "prefixItems",
        "contains",
        "$dynamicRef",
        "unevaluatedProperties",
        "unevaluatedItems",
    }
)

#: Anthropic strict tool use: string formats accepted, and what it keeps per type.
ANTHROPIC_STRING_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
_ANTHROPIC_KEEP: Final[dict[str, frozenset[str]]] = {
    "string": frozenset({"pattern", "format"}),
    "array": frozenset({"minItems"}),
}

_NULL: Final = {"type": "null"}

#: ``strict=``: True (refuse what cannot be expressed), False, or "auto" (fall back, reported).
Strictness = bool | Literal["auto"]


class _Profile:
    """What one provider's strict mode accepts."""

    def __init__(
        self,
        *,
        provider: str,
        keep: Mapping[str, frozenset[str]],
        formats: frozenset[str],
        optional_nullable: bool,
        max_min_items: int | None,
    ) -> None:
        self.provider = provider
        self.keep = keep
        self.formats = formats
        self.optional_nullable = optional_nullable
        self.max_min_items = max_min_items


_OPENAI: Final = _Profile(
    provider="OpenAI",
    keep=_STRICT_KEEP,
    formats=OPENAI_STRING_FORMATS,
    optional_nullable=True,
    max_min_items=None,
)
_ANTHROPIC: Final = _Profile(
    provider="Anthropic",
    keep=_ANTHROPIC_KEEP,
    formats=ANTHROPIC_STRING_FORMATS,
    optional_nullable=False,
    max_min_items=1,
)


def to_openai_tool(tool: Tool, /, *, strict: Strictness = False) -> dict[str, Any]:
    """*tool* as an OpenAI Chat Completions function tool.

    ``{"type": "function", "function": {"name", "description", "parameters"[, "strict"]}}``.
    ``strict="auto"``: strict where strict mode can express the schema, otherwise the plain
    schema with ``"strict": false`` (:func:`strict_problem` gives the reason).

    Raises:
        ToolRegistrationError: With ``strict=True``, the schema cannot be expressed in
            OpenAI's strict mode (the message gives the JSON pointer and the reason).
    """
    _check_name(tool)
    strict_schema = _strict_or_none(tool, _OPENAI, strict)
    function: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "parameters": strict_schema if strict_schema is not None else _plain(tool.parameters),
    }
    if strict:
        function["strict"] = strict_schema is not None
    return {"type": "function", "function": function}


def to_anthropic_tool(tool: Tool, /, *, strict: Strictness = False) -> dict[str, Any]:
    """*tool* as an Anthropic Messages API tool: ``{"name", "description", "input_schema"}``.

    With ``strict=True`` the schema is rewritten for Anthropic's strict tool use and
    ``"strict": true`` is added; ``strict="auto"`` falls back to the plain schema with
    ``"strict": false`` where strict tool use cannot express it.

    Raises:
        ToolRegistrationError: With ``strict=True``, the schema cannot be expressed.
    """
    _check_name(tool)
    strict_schema = _strict_or_none(tool, _ANTHROPIC, strict)
    definition: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "input_schema": (
            strict_schema
            if strict_schema is not None
            else _object_schema(tool.parameters, tool.name)
        ),
    }
    if strict:
        definition["strict"] = strict_schema is not None
    return definition


def strict_problem(
    tool: Tool, /, *, provider: Literal["openai", "anthropic"] = "openai"
) -> str | None:
    """Why *tool* cannot be exported in *provider*'s strict mode, or None when it can.

    The reason names the JSON pointer, as the error of ``strict=True`` does; use it to report
    which tools ``strict="auto"`` exported non-strict.
    """
    profile = _OPENAI if provider == "openai" else _ANTHROPIC
    try:
        _strict_schema(tool.parameters, tool.name, profile)
    except ToolRegistrationError as exc:
        return str(exc)
    return None


def _strict_or_none(tool: Tool, profile: _Profile, strict: Strictness) -> dict[str, Any] | None:
    if strict is False:
        return None
    if strict is not True and strict != "auto":
        raise ToolRegistrationError(f"strict must be True, False or 'auto', not {strict!r}")
    try:
        return _strict_schema(tool.parameters, tool.name, profile)
    except ToolRegistrationError:
        if strict == "auto":
            return None
        raise


def to_mcp_tool(tool: Tool, /) -> dict[str, Any]:
    """*tool* as an MCP ``Tool`` definition (MCP specification 2025-06-18).

    ``annotations`` carry the hints: ``readOnlyHint``, ``destructiveHint``, ``idempotentHint``,
    ``openWorldHint`` (all given explicitly, since MCP's defaults assume a destructive,
    open-world tool), and ``title``. A ``returns`` schema that is not an object is wrapped as
    ``{"type": "object", "properties": {"result": returns}, "required": ["result"]}``.
    """
    _check_name(tool)
    title = _title(tool.name)
    definition: dict[str, Any] = {
        "name": tool.name,
        "title": title,
        "description": tool.description,
        "inputSchema": _object_schema(tool.parameters, tool.name),
    }
    if tool.returns is not None:
        returns = _plain(tool.returns)
        definition["outputSchema"] = (
            returns if _is_object_schema(returns) else _wrap_result_schema(returns)
        )
    hints = tool.hints
    definition["annotations"] = {
        "title": title,
        "readOnlyHint": hints.read_only,
        "destructiveHint": hints.destructive,
        "idempotentHint": hints.idempotent,
        "openWorldHint": hints.open_world,
    }
    return definition


def mcp_structured_content(tool: Tool, output: Any, /) -> dict[str, Any]:
    """*output* shaped as the ``structuredContent`` that :func:`to_mcp_tool`'s schema promises."""
    if tool.returns is not None and _is_object_schema(tool.returns) and isinstance(output, dict):
        return output
    return {"result": output}


def openai_strict_schema(schema: Mapping[str, Any], /, *, name: str = "tool") -> dict[str, Any]:
    """A copy of *schema* rewritten to OpenAI's strict-mode subset (see the module docstring).

    Raises:
        ToolRegistrationError: Something strict mode cannot express, with its JSON pointer.
    """
    return _strict_schema(schema, name, _OPENAI)


def anthropic_strict_schema(schema: Mapping[str, Any], /, *, name: str = "tool") -> dict[str, Any]:
    """A copy of *schema* rewritten for Anthropic's strict tool use (see the module docstring).

    Raises:
        ToolRegistrationError: Something strict tool use cannot express, with its JSON pointer.
    """
    return _strict_schema(schema, name, _ANTHROPIC)


def _strict_schema(schema: Mapping[str, Any], name: str, profile: _Profile) -> dict[str, Any]:
    source = _plain(schema)
    if not _is_object_schema(source) or "anyOf" in source:
        raise ToolRegistrationError(
            f"tool {name!r}: {profile.provider} strict mode needs an object schema at the root"
        )
    converter = _StrictConverter(name, profile)
    definitions = source.pop("$defs", None) or {}
    definitions.update(source.pop("definitions", None) or {})
    result = converter.convert(source, [], depth=1)
    if definitions:
        result["$defs"] = {
            key: converter.convert(value, ["$defs", key], depth=1)
            for key, value in definitions.items()
        }
    if converter.properties > OPENAI_MAX_PROPERTIES:
        converter.refuse([], f"more than {OPENAI_MAX_PROPERTIES} object properties")
    return result


def from_openai_strict_arguments(tool: Tool, arguments: Mapping[str, Any], /) -> dict[str, Any]:
    """Arguments from a strict-mode call, with the ``null`` of each omitted option removed.

    Strict mode makes every property required and the optional ones nullable, so the model
    sends ``null`` for an option it does not use. This drops such a ``null`` wherever the
    original schema does not itself allow ``null`` there, so the call validates against the
    tool's real schema and the tool's own default applies.
    """
    return dict(_drop_placeholders(tool.parameters, dict(arguments)))


# -- helpers -----------------------------------------------------------------------------------


def _check_name(tool: Tool) -> None:
    if not TOOL_NAME_PATTERN.fullmatch(tool.name):
        raise ToolRegistrationError(
            f"invalid tool name {tool.name!r}: use 1 to 64 letters, digits, '_' or '-'"
        )


def _plain(schema: Any) -> Any:
    """A deep copy made of plain dicts and lists, so exports never share state with the tool."""
    if isinstance(schema, Mapping):
        return {key: _plain(value) for key, value in schema.items()}
    if isinstance(schema, list | tuple):
        return [_plain(value) for value in schema]
    return copy.copy(schema)


def _is_object_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "object"


def _object_schema(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = _plain(schema)
    if not _is_object_schema(result):
        raise ToolRegistrationError(
            f'tool {name!r}: the parameters schema must have "type": "object"'
        )
    return result


def _wrap_result_schema(returns: Any) -> dict[str, Any]:
    # "#/$defs/..." references resolve from the root: the definitions move up with them.
    definitions = returns.pop("$defs", None) if isinstance(returns, dict) else None
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": returns},
        "required": ["result"],
        "additionalProperties": False,
    }
    if definitions is not None:
        wrapped["$defs"] = definitions
    return wrapped


def _title(name: str) -> str:
    words = name.replace("-", " ").replace("_", " ").split()
    return " ".join(words).capitalize() if words else name


def _accepts_null(schema: Any) -> bool:
    if schema is True:
        return True
    if not isinstance(schema, Mapping):
        return False
    return compile_schema(schema).is_valid(None)


def _drop_placeholders(schema: Any, value: Any) -> Any:
    if not isinstance(schema, Mapping):
        return value
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        properties = schema["properties"]
        required = set(schema.get("required", ()))
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            sub = properties.get(key)
            if item is None and key not in required and sub is not None and not _accepts_null(sub):
                continue
            cleaned[key] = _drop_placeholders(sub, item) if sub is not None else item
        return cleaned
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_drop_placeholders(schema["items"], item) for item in value]
    return value


class _StrictConverter:
    """Rewrites one schema for OpenAI strict mode, counting properties as it goes."""

    def __init__(self, name: str, profile: _Profile) -> None:
        self.name = name
        self.profile = profile
        self.properties = 0

    def refuse(self, path: list[str | int], reason: str) -> NoReturn:
        where = json_pointer(path) or "/"
        raise ToolRegistrationError(
            f"tool {self.name!r} cannot be exported in {self.profile.provider} strict mode: "
            f"{reason} at {where} (export it with strict=False or strict='auto')"
        )

    def merge_all_of(self, schema: Mapping[str, Any], path: list[str | int]) -> dict[str, Any]:
        """*schema* with a single-branch ``allOf`` merged into it (as OpenAI's helper does)."""
        branches = schema["allOf"]
        if not isinstance(branches, list) or len(branches) != 1:
            self.refuse(path, "the keyword 'allOf' with more than one branch")
        branch = branches[0]
        if not isinstance(branch, Mapping):
            self.refuse([*path, "allOf", 0], "a boolean schema")
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        for key, value in branch.items():
            if key in merged and merged[key] != value:
                if key in ("description", "title", "default", "examples"):
                    continue  # the outer annotation wins
                self.refuse(path, f"'allOf' whose branch conflicts with {key!r}")
            merged[key] = value
        return merged

    def convert(self, schema: Any, path: list[str | int], *, depth: int) -> dict[str, Any]:
        if depth > OPENAI_MAX_DEPTH:
            self.refuse(path, f"nesting deeper than {OPENAI_MAX_DEPTH} levels")
        if not isinstance(schema, Mapping):
            self.refuse(path, "a boolean schema")
        while "allOf" in schema:
            schema = self.merge_all_of(schema, path)
        for keyword in schema:
            if keyword in _STRICT_REFUSE:
                self.refuse(path, f"the keyword {keyword!r}")
        result: dict[str, Any] = {}
        if "description" in schema:
            result["description"] = schema["description"]
        if "$ref" in schema:
            ref = str(schema["$ref"]).replace("#/definitions/", "#/$defs/")
            if not ref.startswith("#"):
                self.refuse(path, f"a non-local $ref {ref!r}")
            result["$ref"] = ref
            return result
        branches = schema.get("anyOf", schema.get("oneOf"))
        if branches is not None:
            key = "anyOf" if "anyOf" in schema else "oneOf"
            result["anyOf"] = [
                self.convert(branch, [*path, key, index], depth=depth + 1)
                for index, branch in enumerate(branches)
            ]
            return result
        enum = [schema["const"]] if "const" in schema else schema.get("enum")
        types = schema.get("type")
        if types is None and enum is not None:
            types = sorted({_json_type(value) for value in enum})
        if types is None:
            self.refuse(path, "a schema without a type")
        type_list = [types] if isinstance(types, str) else list(types)
        result["type"] = types if isinstance(types, str) else type_list
        if enum is not None:
            if len(enum) > OPENAI_MAX_ENUM_VALUES:
                self.refuse(path, f"more than {OPENAI_MAX_ENUM_VALUES} enum values")
            result["enum"] = list(enum)
        profile = self.profile
        for kind in type_list:
            for keyword in profile.keep.get(kind, ()):
                if keyword in schema:
                    value = schema[keyword]
                    if keyword == "format" and value not in profile.formats:
                        continue
                    if (
                        keyword == "minItems"
                        and profile.max_min_items is not None
                        and value > profile.max_min_items
                    ):
                        continue
                    result[keyword] = value
        if "object" in type_list:
            self._object(schema, result, path, depth)
        if "array" in type_list:
            items = schema.get("items")
            if not isinstance(items, Mapping):
                self.refuse(path, "an array without an items schema")
            result["items"] = self.convert(items, [*path, "items"], depth=depth + 1)
        return result

    def _object(
        self, schema: Mapping[str, Any], result: dict[str, Any], path: list[str | int], depth: int
    ) -> None:
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties", True)
        if not properties and extra is not False and path:
            self.refuse(path, "a free-form object (no properties, additionalProperties allowed)")
        required = set(schema.get("required", ()))
        nullable = self.profile.optional_nullable
        converted: dict[str, Any] = {}
        for key, sub in properties.items():
            self.properties += 1
            item = self.convert(sub, [*path, "properties", key], depth=depth + 1)
            converted[key] = item if key in required or not nullable else _nullable(item)
        result["properties"] = converted
        if nullable:
            result["required"] = list(converted)
        elif required:
            result["required"] = [key for key in converted if key in required]
        result["additionalProperties"] = False


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """*schema* that also accepts ``null``."""
    if "anyOf" in schema:
        if _NULL not in schema["anyOf"]:
            schema["anyOf"].append(dict(_NULL))
        return schema
    types = schema.get("type")
    if types is None or "$ref" in schema:
        wrapped: dict[str, Any] = {"anyOf": [schema, dict(_NULL)]}
        return wrapped
    type_list = [types] if isinstance(types, str) else list(types)
    if "null" not in type_list:
        type_list.append("null")
    schema["type"] = type_list
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"].append(None)
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
