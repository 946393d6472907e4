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

from agentkit_tools.openapi._refs import Documents, pointer
from agentkit_tools.openapi._schema import SchemaConverter, merge_all_of

__all__ = ["METHODS", "Binding", "Body", "Failure", "Operation", "read_operations"]

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
    #: Where the operation is written (``#/paths/~1users/get``).
    location: str = "#"
    #: Where each definition it reaches, and each object it follows a ``$ref`` to, is written.
    sources: frozenset[str] = frozenset()
    #: ``$defs`` name -> where that definition is written (``Pet`` -> ``#/components/...``).
    definitions: tuple[tuple[str, str], ...] = ()
    #: Where ``returns`` is written when it is a referenced schema taken in whole.
    returns_source: str | None = None


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

    def __init__(
        self, document: Mapping[str, Any], documents: Documents, source_url: str | None
    ) -> None:
        self.document = document
        self.documents = documents
        self.swagger = str(document.get("swagger", "")).startswith("2")
        legacy = self.swagger or str(document.get("openapi", "")).startswith("3.0")
        self.converter = SchemaConverter(documents, legacy=legacy)
        self.source_url = source_url
        self._refs: set[str] = set()
        self._followed: set[str] = set()

    def convert(self, schema: Any, base: str) -> Any:
        """*schema* converted; the definitions it reaches are noted for the tool's ``$defs``."""
        converted, refs = self.converter.convert_top(schema, base)
        self._refs.update(refs)
        return converted

    def follow(self, node: Any, base: str, where: str) -> tuple[Any, str]:
        """An OpenAPI object with its ``$ref`` chain followed, and its document's URL."""
        located = self.documents.follow(node, base, where)
        if located.node is not node:
            self._followed.add(located.where(self.documents.root_url))
        return located.node, located.resource

    def deref(self, schema: Any, base: str) -> tuple[Any, str]:
        """A schema with its ``$ref`` chain followed (its location noted), and its document."""
        located = self.documents.follow(schema, base, "a schema")
        if located.node is not schema:
            self._followed.add(located.where(self.documents.root_url))
        return located.node, located.resource

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
        base: str,
    ) -> Operation:
        location = pointer(("paths", path, method))
        self._refs = set()
        self._followed = set()
        arguments = _Arguments()
        bindings: list[Binding] = []
        merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        for raw in [*(path_item.get("parameters") or []), *(spec.get("parameters") or [])]:
            param, param_base = self.follow(raw, base, location)
            if isinstance(param, Mapping) and "name" in param and "in" in param:
                # operation-level wins
                merged[(str(param["in"]), str(param["name"]))] = (param, param_base)
        body_params = [item for (where, _), item in merged.items() if where == "body"]
        form_params = [item[0] for (where, _), item in merged.items() if where == "formData"]
        for location_name in _LOCATIONS:
            for (where, wire_name), (param, param_base) in merged.items():
                if where != location_name:
                    continue
                if location_name == "header" and wire_name.lower() in _IGNORED_HEADERS:
                    continue
                bindings.append(
                    self._binding(arguments, param, param_base, location_name, wire_name)
                )
        body = None
        if self.swagger and (body_params or form_params):
            body = self._swagger_body(arguments, spec, body_params, form_params, base)
        elif not self.swagger and spec.get("requestBody") is not None:
            request_body, body_base = self.follow(spec["requestBody"], base, location)
            if isinstance(request_body, Mapping):
                body = self._body(arguments, request_body, body_base)
        parameters: dict[str, Any] = {
            "type": "object",
            "properties": arguments.properties,
            "required": arguments.required,
            "additionalProperties": False,
        }
        parameter_refs = frozenset(self._refs)
        self._refs = set()
        returns = self._returns(spec.get("responses") or {}, base, location)
        return_refs = frozenset(self._refs)
        returns_source = None
        if returns is not None and set(returns) == {"$ref"}:
            returns_source = self.converter.sources.get(
                str(returns["$ref"]).removeprefix("#/$defs/")
            )
        returns, return_refs = self._inline_top(returns, return_refs)
        if returns is not None and "$ref" in returns:
            returns_source = None
        summary = str(spec.get("summary") or "").strip()
        details = str(spec.get("description") or "").strip()
        description = "\n\n".join(part for part in (summary, details) if part)
        security = spec.get("security", self.document.get("security"))
        operation_id = spec.get("operationId")
        bundled_parameters = self.converter.bundle(parameters, parameter_refs)
        bundled_returns = self.converter.bundle(returns, return_refs)
        definitions = {
            name: self.converter.sources[name]
            for schema in (bundled_parameters, bundled_returns)
            if isinstance(schema, dict)
            for name in schema.get("$defs", ())
        }
        sources = self._followed | set(definitions.values())
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
            parameters=bundled_parameters,
            returns=bundled_returns,
            location=location,
            sources=frozenset(sources),
            definitions=tuple(sorted(definitions.items())),
            returns_source=returns_source,
        )

    def _inline_top(
        self, returns: dict[str, Any] | None, refs: frozenset[str]
    ) -> tuple[dict[str, Any] | None, frozenset[str]]:
        """A return schema that is only a reference to an object: that object's schema.

        MCP wants an object ``outputSchema``; a bare ``{"$ref": ...}`` would be wrapped.
        """
        if returns is None or set(returns) != {"$ref"}:
            return returns, refs
        name = str(returns["$ref"]).removeprefix("#/$defs/")
        target = self.converter.defs.get(name)
        if not isinstance(target, dict):
            return returns, refs
        if target.get("type") != "object":
            # Swagger definitions often leave out "type" beside their properties.
            if "type" in target or "properties" not in target:
                return returns, refs
            target = {"type": "object", **target}
        return dict(target), self.converter.edges.get(name, frozenset())

    def _binding(
        self,
        arguments: _Arguments,
        param: Mapping[str, Any],
        base: str,
        location: str,
        wire_name: str,
    ) -> Binding:
        as_json = False
        if self.swagger:
            schema = self.convert(_swagger_param_schema(param), base)
        elif isinstance(param.get("content"), Mapping) and param["content"]:
            media = next(iter(param["content"].values()))
            schema = self.convert(media.get("schema") if isinstance(media, Mapping) else {}, base)
            as_json = True
        else:
            schema = self.convert(param.get("schema") or {}, base)
        schema = _with_description(schema, param.get("description"))
        required = bool(param.get("required", False)) or location == "path"
        argument = arguments.add(wire_name, location, schema, required)
        style, explode = _style(param, location, self.swagger)
        return Binding(argument, location, wire_name, style, explode, as_json)

    def _body(
        self, arguments: _Arguments, request_body: Mapping[str, Any], base: str
    ) -> Body | None:
        content = request_body.get("content") or {}
        if not isinstance(content, Mapping):
            return None
        media_type = _pick_media(content)
        if media_type is None:
            return None
        media = content[media_type] if isinstance(content[media_type], Mapping) else {}
        schema = media.get("schema") or {}
        required = bool(request_body.get("required", False))
        kind = media_type.split(";", 1)[0].strip().lower()
        return self._spread(
            arguments, kind, schema, base, required, request_body.get("description")
        )

    def _spread(
        self,
        arguments: _Arguments,
        media_type: str,
        schema: Any,
        base: str,
        required: bool,
        description: Any,
    ) -> Body:
        """An object body's properties become arguments; any other body is one ``body``."""
        plain = merge_all_of(schema, base, self.deref) if isinstance(schema, Mapping) else None
        multipart = media_type == _MULTIPART
        if plain is None:
            converted = self.convert(schema, base)
            if multipart and _is_binary(self.deref(schema, base)[0]):
                converted = _FILE_SCHEMA
            argument = arguments.add(
                "body", "body", _with_description(converted, description), required
            )
            return Body(media_type, argument=argument)
        wanted = set(plain.get("required") or ())
        fields: list[tuple[str, str]] = []
        files: set[str] = set()
        for property_name, (property_schema, property_base) in plain["properties"].items():
            target, _target_base = self.deref(property_schema, property_base)
            if isinstance(target, Mapping) and target.get("readOnly"):
                continue
            converted = self.convert(property_schema, property_base)
            if media_type in (_MULTIPART, _FORM) and _is_binary(target):
                description = target.get("description") if isinstance(target, Mapping) else None
                converted = _with_description(_FILE_SCHEMA, description)
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
        body_params: list[tuple[Mapping[str, Any], str]],
        form_params: list[Mapping[str, Any]],
        base: str,
    ) -> Body:
        consumes = [
            str(kind).lower() for kind in spec.get("consumes", self.document.get("consumes", []))
        ]
        if body_params:
            param, param_base = body_params[0]
            media_type = next((kind for kind in consumes if "json" in kind), _JSON)
            return self._spread(
                arguments,
                media_type,
                param.get("schema") or {},
                param_base,
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
        return self._spread(arguments, media_type, schema, base, True, None)

    def _returns(
        self, responses: Mapping[str, Any], base: str, location: str
    ) -> dict[str, Any] | None:
        codes = sorted(str(code) for code in responses if str(code).startswith("2"))
        for code in codes:
            response, response_base = self.follow(responses[code], base, location)
            if not isinstance(response, Mapping):
                continue
            if self.swagger:
                schema = response.get("schema")
            else:
                content = response.get("content") or {}
                media_type = _pick_media(content) if isinstance(content, Mapping) else None
                media = content.get(media_type) if media_type else None
                schema = media.get("schema") if isinstance(media, Mapping) else None
            if isinstance(schema, Mapping | bool):
                converted = self.convert(schema, response_base)
                return converted if isinstance(converted, dict) else None
            return None
        return None


@dataclass(frozen=True, slots=True)
class Failure:
    """An operation that could not be made into a tool: where it is written, and why."""

    method: str
    path: str
    operation_id: str | None
    location: str
    reason: str


def read_operations(
    document: Mapping[str, Any],
    *,
    documents: Documents,
    source_url: str | None,
    name_for: Callable[[Any, str, str], str],
    server_variables: Mapping[str, str],
    failures: list[Failure] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Operation]:
    """Every operation of *document*, in document order.

    *name_for* ``(operationId, method, path)`` gives each operation its tool name. An
    operation that cannot be read (a broken reference, ...) is added to *failures* when
    given, else its error is raised.
    """
    from agentkit_tools.openapi._errors import OpenAPIError

    reader = _Reader(document, documents, source_url)
    base = documents.root_url
    operations: list[Operation] = []
    paths = document.get("paths") or {}
    if not isinstance(paths, Mapping):
        return operations
    total = len(paths)
    for done, (path, raw_item) in enumerate(paths.items(), start=1):
        if progress is not None:
            progress(done, total)
        where = pointer(("paths", path))
        try:
            path_item, item_base = reader.follow(raw_item, base, where)
        except OpenAPIError as exc:
            if failures is None:
                raise
            failures.append(Failure("*", str(path), None, where, str(exc)))
            continue
        if not isinstance(path_item, Mapping):
            continue
        for method in METHODS:
            spec = path_item.get(method)
            if not isinstance(spec, Mapping):
                continue
            operation_id = spec.get("operationId")
            try:
                name = name_for(operation_id, method, str(path))
                operations.append(
                    reader.operation(
                        name, method, str(path), path_item, spec, server_variables, item_base
                    )
                )
            except OpenAPIError as exc:
                if failures is None:
                    raise
                failures.append(
                    Failure(
                        method.upper(),
                        str(path),
                        operation_id if isinstance(operation_id, str) else None,
                        pointer(("paths", path, method)),
                        str(exc),
                    )
                )
    return operations
