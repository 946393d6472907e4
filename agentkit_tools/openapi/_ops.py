"""From a resolved OpenAPI document to operations: arguments, body, servers, security, schemas.

Each operation becomes one :class:`Operation` holding everything a call needs: how each tool
argument travels (path, query, header, cookie or body, with its style), the request body's
media type, the candidate server URLs, the security requirements, and the tool's parameter
and return schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

from agentkit_tools.openapi._schema import SchemaConverter, merge_all_of

__all__ = ["METHODS", "Binding", "Body", "Operation", "read_operations"]

#: HTTP methods an OpenAPI path item may hold, in the order tools are made.
METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_LOCATIONS: Final = ("path", "query", "header", "cookie")
#: Header parameters OpenAPI says to ignore: httpx and the auth settings own them.
_IGNORED_HEADERS: Final = frozenset({"accept", "content-type", "authorization"})
_JSON: Final = "application/json"
_FORM: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"
#: Swagger 2.0 collectionFormat as (style, explode).
_COLLECTION_FORMATS: Final = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "tsv": ("tabDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}


@dataclass(frozen=True, slots=True)
class Binding:
    """One tool argument sent as a path, query, header or cookie parameter.

    ``as_json``: a 3.x parameter described by ``content`` (its value is sent as JSON text).
    """

    argument: str
    location: str
    name: str
    style: str
    explode: bool
    as_json: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """The request body: its media type and which arguments fill it.

    Either ``fields`` (``(argument, property)`` pairs of an object body spread into the
    arguments) or ``argument`` (one argument holding the whole body). ``files``: properties
    sent as file parts of a multipart body.
    """

    media_type: str
    fields: tuple[tuple[str, str], ...] = ()
    argument: str | None = None
    files: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation, ready to become a tool."""

    name: str
    method: str
    path: str
    operation_id: str | None
    description: str
    tags: tuple[str, ...]
    deprecated: bool
    bindings: tuple[Binding, ...]
    body: Body | None
    servers: tuple[str, ...]
    security: tuple[Mapping[str, Any], ...] | None
    parameters: dict[str, Any]
    returns: dict[str, Any] | None


def _style(param: Mapping[str, Any], location: str, swagger: bool) -> tuple[str, bool]:
    if swagger:
        style, explode = _COLLECTION_FORMATS.get(
            str(param.get("collectionFormat", "csv")), ("form", False)
        )
        if location in ("path", "header"):
            style = "simple"
        return style, explode
    default = "form" if location in ("query", "cookie") else "simple"
    style = str(param.get("style", default))
    explode = param.get("explode", style == "form")
    return style, bool(explode)


def _swagger_param_schema(param: Mapping[str, Any]) -> dict[str, Any]:
    """Swagger 2.0 non-body parameters carry their schema keywords inline."""
    keys = (
        "type",
        "format",
        "items",
        "enum",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
    )
    return {key: param[key] for key in keys if key in param}


class _Arguments:
    """Allocates argument names; a name taken by another location gets ``<location>_`` first."""

    def __init__(self) -> None:
        self.properties: dict[str, Any] = {}
        self.required: list[str] = []

    def add(self, name: str, location: str, schema: Any, required: bool) -> str:
        candidate = name
        if candidate in self.properties:
            candidate = f"{location}_{name}"
            number = 1
            while candidate in self.properties:
                number += 1
                candidate = f"{location}_{name}_{number}"
        self.properties[candidate] = schema
        if required:
            self.required.append(candidate)
        return candidate


def _with_description(schema: Any, description: Any) -> Any:
    if not isinstance(description, str) or not description or not isinstance(schema, dict):
        return schema
    if schema.get("description"):
        return schema
    return {**schema, "description": description}


def _pick_media(content: Mapping[str, Any]) -> str | None:
    """JSON first, then form, then multipart, then whatever is listed first."""
    kinds = list(content)
    for wanted in (_JSON, _FORM, _MULTIPART):
        for kind in kinds:
            if kind.split(";", 1)[0].strip().lower() == wanted:
                return kind
    for kind in kinds:
        base = kind.split(";", 1)[0].strip().lower()
        if base.endswith("+json"):
            return kind
    return kinds[0] if kinds else None


def _is_binary(schema: Any) -> bool:
    if not isinstance(schema, Mapping) or schema.get("type") not in ("string", "file", None):
        return False
    return (
        schema.get("type") == "file"
        or schema.get("format") in ("binary", "byte")
        or "contentMediaType" in schema
    )


_FILE_SCHEMA: Final = {
    "description": "A file: its text, or an object with 'content' (text) or 'content_base64', "
    "and optional 'filename' and 'content_type'.",
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "properties": {
                "content": {"type": "string"},
                "content_base64": {"type": "string", "contentEncoding": "base64"},
                "filename": {"type": "string"},
                "content_type": {"type": "string"},
            },
            "additionalProperties": False,
        },
    ],
}


class _Reader:
    """Reads every operation of one resolved document."""

    def __init__(self, document: Mapping[str, Any], source_url: str | None) -> None:
        self.document = document
        self.swagger = str(document.get("swagger", "")).startswith("2")
        legacy = self.swagger or str(document.get("openapi", "")).startswith("3.0")
        self.convert = SchemaConverter(legacy=legacy).convert
        self.source_url = source_url

    # -- servers ---------------------------------------------------------------------------

    def servers(self, *levels: Any, variables: Mapping[str, str]) -> tuple[str, ...]:
        if self.swagger:
            return (self._swagger_server(),)
        for level in levels:
            if isinstance(level, list) and level:
                return tuple(
                    self._server_url(server, variables)
                    for server in level
                    if isinstance(server, Mapping)
                )
        return (self._absolute("/"),)

    def _server_url(self, server: Mapping[str, Any], variables: Mapping[str, str]) -> str:
        url = str(server.get("url", "/"))
        declared = server.get("variables") or {}
        for name, spec in declared.items():
            value = variables.get(name)
            if value is None and isinstance(spec, Mapping):
                value = str(spec.get("default", ""))
            url = url.replace("{" + name + "}", str(value or ""))
        return self._absolute(url)

    def _swagger_server(self) -> str:
        document = self.document
        schemes = document.get("schemes") or []
        host = document.get("host")
        base_path = str(document.get("basePath", "/"))
        if host:
            scheme = "https" if "https" in schemes and "http" not in schemes else None
            scheme = scheme or (schemes[0] if schemes else None)
            if scheme is None and self.source_url:
                scheme = self.source_url.split(":", 1)[0]
            return f"{scheme or 'http'}://{host}{base_path}"
        return self._absolute(base_path)

    def _absolute(self, url: str) -> str:
        if self.source_url and "://" not in url:
            return urljoin(self.source_url, url)
        return url

    # -- operations ------------------------------------------------------------------------

    def operation(
        self,
        name: str,
        method: str,
        path: str,
        path_item: Mapping[str, Any],
        spec: Mapping[str, Any],
        variables: Mapping[str, str],
    ) -> Operation:
        arguments = _Arguments()
        bindings: list[Binding] = []
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for param in [*(path_item.get("parameters") or []), *(spec.get("parameters") or [])]:
            if isinstance(param, Mapping) and "name" in param and "in" in param:
                merged[(str(param["in"]), str(param["name"]))] = param  # operation-level wins
        body_params = [param for (where, _), param in merged.items() if where == "body"]
        form_params = [param for (where, _), param in merged.items() if where == "formData"]
        for location in _LOCATIONS:
            for (where, wire_name), param in merged.items():
                if where != location:
                    continue
                if location == "header" and wire_name.lower() in _IGNORED_HEADERS:
                    continue
                bindings.append(self._binding(arguments, param, location, wire_name))
        body = None
        if self.swagger and (body_params or form_params):
            body = self._swagger_body(arguments, spec, body_params, form_params)
        elif not self.swagger and isinstance(spec.get("requestBody"), Mapping):
            body = self._body(arguments, spec["requestBody"])
        parameters: dict[str, Any] = {
            "type": "object",
            "properties": arguments.properties,
            "required": arguments.required,
            "additionalProperties": False,
        }
        summary = str(spec.get("summary") or "").strip()
        details = str(spec.get("description") or "").strip()
        description = "\n\n".join(part for part in (summary, details) if part)
        security = spec.get("security", self.document.get("security"))
        operation_id = spec.get("operationId")
        return Operation(
            name=name,
            method=method.upper(),
            path=path,
            operation_id=operation_id if isinstance(operation_id, str) else None,
            description=description or f"{method.upper()} {path}",
            tags=tuple(str(tag) for tag in spec.get("tags") or ()),
            deprecated=bool(spec.get("deprecated", False)),
            bindings=tuple(bindings),
            body=body,
            servers=self.servers(
                spec.get("servers"),
                path_item.get("servers"),
                self.document.get("servers"),
                variables=variables,
            ),
            security=tuple(security) if isinstance(security, list) else None,
            parameters=parameters,
            returns=self._returns(spec.get("responses") or {}),
        )

    def _binding(
        self, arguments: _Arguments, param: Mapping[str, Any], location: str, wire_name: str
    ) -> Binding:
        as_json = False
        if self.swagger:
            schema = self.convert(_swagger_param_schema(param))
        elif isinstance(param.get("content"), Mapping) and param["content"]:
            media = next(iter(param["content"].values()))
            schema = self.convert(media.get("schema") if isinstance(media, Mapping) else {})
            as_json = True
        else:
            schema = self.convert(param.get("schema") or {})
        schema = _with_description(schema, param.get("description"))
        required = bool(param.get("required", False)) or location == "path"
        argument = arguments.add(wire_name, location, schema, required)
        style, explode = _style(param, location, self.swagger)
        return Binding(argument, location, wire_name, style, explode, as_json)

    def _body(self, arguments: _Arguments, request_body: Mapping[str, Any]) -> Body | None:
        content = request_body.get("content") or {}
        media_type = _pick_media(content)
        if media_type is None:
            return None
        media = content[media_type] if isinstance(content[media_type], Mapping) else {}
        schema = media.get("schema") or {}
        required = bool(request_body.get("required", False))
        base = media_type.split(";", 1)[0].strip().lower()
        return self._spread(arguments, base, schema, required, request_body.get("description"))

    def _spread(
        self,
        arguments: _Arguments,
        media_type: str,
        schema: Any,
        required: bool,
        description: Any,
    ) -> Body:
        """An object body's properties become arguments; any other body is one ``body``."""
        plain = merge_all_of(schema) if isinstance(schema, Mapping) else None
        multipart = media_type == _MULTIPART
        if plain is None:
            converted = self.convert(schema)
            if multipart and _is_binary(schema):
                converted = _FILE_SCHEMA
            argument = arguments.add(
                "body", "body", _with_description(converted, description), required
            )
            return Body(media_type, argument=argument)
        wanted = set(plain.get("required") or ())
        fields: list[tuple[str, str]] = []
        files: set[str] = set()
        for property_name, property_schema in plain["properties"].items():
            if isinstance(property_schema, Mapping) and property_schema.get("readOnly"):
                continue
            converted = self.convert(property_schema)
            if media_type in (_MULTIPART, _FORM) and _is_binary(property_schema):
                converted = _with_description(_FILE_SCHEMA, property_schema.get("description"))
                files.add(property_name)
            argument = arguments.add(
                property_name, "body", converted, required and property_name in wanted
            )
            fields.append((argument, property_name))
        return Body(media_type, fields=tuple(fields), files=frozenset(files))

    def _swagger_body(
        self,
        arguments: _Arguments,
        spec: Mapping[str, Any],
        body_params: list[Mapping[str, Any]],
        form_params: list[Mapping[str, Any]],
    ) -> Body:
        consumes = [
            str(kind).lower() for kind in spec.get("consumes", self.document.get("consumes", []))
        ]
        if body_params:
            param = body_params[0]
            media_type = next((kind for kind in consumes if "json" in kind), _JSON)
            return self._spread(
                arguments,
                media_type,
                param.get("schema") or {},
                bool(param.get("required", False)),
                param.get("description"),
            )
        media_type = _MULTIPART if _MULTIPART in consumes else _FORM
        if any(param.get("type") == "file" for param in form_params):
            media_type = _MULTIPART
        schema = {
            "type": "object",
            "properties": {
                str(param["name"]): {
                    **_swagger_param_schema(param),
                    **({"description": param["description"]} if "description" in param else {}),
                }
                for param in form_params
            },
            "required": [str(param["name"]) for param in form_params if param.get("required")],
        }
        return self._spread(arguments, media_type, schema, True, None)

    def _returns(self, responses: Mapping[str, Any]) -> dict[str, Any] | None:
        codes = sorted(str(code) for code in responses if str(code).startswith("2"))
        for code in codes:
            response = responses[code]
            if not isinstance(response, Mapping):
                continue
            if self.swagger:
                schema = response.get("schema")
            else:
                content = response.get("content") or {}
                media_type = _pick_media(content)
                media = content.get(media_type) if media_type else None
                schema = media.get("schema") if isinstance(media, Mapping) else None
            if isinstance(schema, Mapping | bool):
                converted = self.convert(schema)
                return converted if isinstance(converted, dict) else None
            return None
        return None


def read_operations(
    document: Mapping[str, Any],
    *,
    source_url: str | None,
    name_for: Callable[[Any, str, str], str],
    server_variables: Mapping[str, str],
) -> list[Operation]:
    """Every operation of *document*, in document order.

    *name_for* ``(operationId, method, path)`` gives each operation its tool name.
    """
    reader = _Reader(document, source_url)
    operations: list[Operation] = []
    paths = document.get("paths") or {}
    for path, path_item in paths.items():
        if not isinstance(path_item, Mapping):
            continue
        for method in METHODS:
            spec = path_item.get(method)
            if not isinstance(spec, Mapping):
                continue
            name = name_for(spec.get("operationId"), method, str(path))
            operations.append(
                reader.operation(name, method, str(path), path_item, spec, server_variables)
            )
    return operations
