"""OpenAPI import of specs written for the purpose: versions, schemas, names, errors, refs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openapi_app import ApiServer, start_api

from agentkit import ConfigurationError, ToolRegistrationError, ToolRegistry
from agentkit.tools import compile_schema
from agentkit.tools._tool import TOOL_NAME_PATTERN
from agentkit_tools import OpenAPIParser
from agentkit_tools.openapi import OpenAPIError
from agentkit_tools.openapi._schema import NameAllocator, base_tool_name, shorten

pytestmark = pytest.mark.timeout(60)

OK = {"200": {"description": "ok"}}


def spec30(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A minimal OpenAPI 3.0 document around *paths*."""
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def tools_of(spec: Any, **options: Any) -> dict[str, Any]:
    """The tools of *spec*, by name."""
    return {tool.name: tool for tool in OpenAPIParser(**options).extract_tools(spec)}


SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "pets", "version": "1"},
    "host": "127.0.0.1:1",
    "basePath": "/v1",
    "schemes": ["http"],
    "paths": {
        "/pets": {
            "post": {
                "operationId": "createPet",
                "consumes": ["application/json"],
                "parameters": [
                    {
                        "name": "pet",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/Pet"},
                    },
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "multi",
                    },
                ],
                "responses": {
                    "201": {"description": "made", "schema": {"$ref": "#/definitions/Pet"}}
                },
            }
        },
        "/contact": {
            "post": {
                "operationId": "sendContact",
                "consumes": ["application/x-www-form-urlencoded"],
                "parameters": [
                    {"name": "email", "in": "formData", "type": "string", "required": True},
                    {
                        "name": "age",
                        "in": "formData",
                        "type": "integer",
                        "minimum": 0,
                        "exclusiveMinimum": True,
                    },
                ],
                "responses": OK,
            }
        },
        "/uploads": {
            "post": {
                "operationId": "upload",
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "note", "in": "formData", "type": "string"},
                    {"name": "document", "in": "formData", "type": "file"},
                ],
                "responses": OK,
            }
        },
    },
    "definitions": {
        "Pet": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        }
    },
}


def test_swagger_2_body_and_form_data() -> None:
    """Swagger 2.0: an `in: body` object spreads into arguments; formData becomes fields."""
    tools = tools_of(SWAGGER)
    create = tools["createPet"].parameters
    assert list(create["properties"]) == ["tags", "name", "age"]
    assert create["required"] == ["name"]
    assert tools["createPet"].returns["properties"]["name"] == {"type": "string"}
    contact = tools["sendContact"].parameters
    assert contact["required"] == ["email"]
    assert contact["properties"]["age"] == {"type": "integer", "exclusiveMinimum": 0}
    assert tools["upload"].parameters["properties"]["document"]["anyOf"][0] == {"type": "string"}
    servers = OpenAPIParser().list_operations(SWAGGER)[0]["servers"]
    assert servers == ["http://127.0.0.1:1/v1"]


@pytest.mark.timeout(30)
async def test_swagger_2_calls_send_json_form_and_multipart(api: ApiServer) -> None:
    """Against the real API: body as JSON, formData urlencoded, a file as multipart."""
    parser = OpenAPIParser(base_url=api.url + "/v1")
    registry = ToolRegistry()
    assert parser.register_tools_from_spec(SWAGGER, registry) == 3
    results = [
        await registry.execute_tool("createPet", {"name": "Rex", "tags": ["a", "b"]}),
        await registry.execute_tool("sendContact", {"email": "a@b.c", "age": 3}),
        await registry.execute_tool("upload", {"note": "n", "document": "file text"}),
    ]
    await parser.aclose()
    assert all(result.success for result in results), results
    pet, contact, upload = api.calls
    assert (pet.json, pet.query) == ({"name": "Rex"}, [("tags", "a"), ("tags", "b")])
    assert contact.form == [("email", "a@b.c"), ("age", "3")]
    assert [part["name"] for part in upload.parts] == ["note", "document"]
    assert upload.parts[1]["text"] == "file text"


def test_openapi_31_schemas_pass_through() -> None:
    """3.1 schemas are JSON Schema already: type lists, const and examples are kept."""
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "x",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": ["string", "null"], "examples": ["a"]},
                        },
                        {"name": "k", "in": "query", "schema": {"const": 3}},
                    ],
                    "responses": OK,
                }
            }
        },
    }
    properties = tools_of(spec)["x"].parameters["properties"]
    assert properties["q"] == {"type": ["string", "null"], "examples": ["a"]}
    assert properties["k"] == {"const": 3}


def test_openapi_30_nullable_and_openapi_only_keywords_are_converted() -> None:
    """nullable adds null; example, xml and x- extensions are dropped."""
    schema = {
        "type": "string",
        "nullable": True,
        "example": "a",
        "x-internal": 1,
        "enum": ["a", "b"],
    }
    spec = spec30(
        {
            "/x": {
                "get": {
                    "operationId": "x",
                    "parameters": [{"name": "q", "in": "query", "schema": schema}],
                    "responses": OK,
                }
            }
        }
    )
    assert tools_of(spec)["x"].parameters["properties"]["q"] == {
        "type": ["string", "null"],
        "enum": ["a", "b", None],
    }


COMPOSED = spec30(
    {
        "/pets": {
            "post": {
                "operationId": "create",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Named"},
                                    {
                                        "type": "object",
                                        "required": ["age"],
                                        "properties": {"age": {"type": "integer"}},
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": OK,
            },
            "put": {
                "operationId": "either",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/Named"},
                                    {"type": "integer"},
                                ]
                            }
                        }
                    }
                },
                "responses": OK,
            },
        }
    },
    components={
        "schemas": {
            "Named": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            }
        }
    },
)


async def test_all_of_merges_and_one_of_becomes_one_body_argument() -> None:
    """allOf object parts merge into arguments; a oneOf body is one `body` argument."""
    tools = tools_of(COMPOSED)
    create = tools["create"].parameters
    assert (list(create["properties"]), create["required"]) == (["name", "age"], ["name", "age"])
    either = tools["either"].parameters
    assert list(either["properties"]) == ["body"]
    registry = ToolRegistry()
    for tool in tools.values():
        registry.register_tool(tool)
    assert (await registry.execute_tool("either", {"body": "x"})).error_type == "validation"


NODE = spec30(
    {
        "/tree": {
            "post": {
                "operationId": "plant",
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                    }
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                        },
                    }
                },
            }
        }
    },
    components={
        "schemas": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                },
            }
        }
    },
)


def test_self_referencing_schema_stays_a_reference() -> None:
    """A recursive schema is kept as a reference into the tool's own `$defs`, and validates."""
    tool = tools_of(NODE)["plant"]
    assert tool.parameters["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert tool.parameters["$defs"]["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/Node"
    }
    assert tool.returns["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    json.dumps(tool.parameters)  # acyclic: serialisable
    ToolRegistry().register_tool(tool)
    check = compile_schema(tool.parameters)
    assert check.is_valid({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})
    assert not check.is_valid({"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]})


def test_path_level_parameters_are_merged_and_the_operation_wins() -> None:
    """Path-item parameters apply to each operation; an operation's own one replaces them."""
    spec = spec30(
        {
            "/u/{id}": {
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "path level",
                    },
                    {"name": "trace", "in": "header", "schema": {"type": "string"}},
                ],
                "get": {
                    "operationId": "a",
                    "responses": OK,
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                            "description": "operation level",
                        }
                    ],
                },
                "delete": {"operationId": "b", "responses": OK},
            }
        }
    )
    tools = tools_of(spec)
    assert tools["a"].parameters["properties"]["id"] == {
        "type": "integer",
        "description": "operation level",
    }
    assert tools["b"].parameters["properties"]["id"]["type"] == "string"
    assert set(tools["a"].parameters["properties"]) == {"id", "trace"}
    assert tools["b"].hints.destructive


async def test_server_variables_defaults_and_overrides(api: ApiServer) -> None:
    """Server variables take their defaults unless overridden; calls go to the result."""
    port = api.url.rsplit(":", 1)[1]
    spec = spec30(
        {"/search": {"get": {"operationId": "s", "responses": OK}}},
        servers=[
            {
                "url": "http://{host}:{port}/{base}",
                "variables": {
                    "host": {"default": "127.0.0.1"},
                    "port": {"default": port},
                    "base": {"default": "v0", "enum": ["v0", "v1"]},
                },
            }
        ],
    )
    assert OpenAPIParser().list_operations(spec)[0]["servers"] == [f"{api.url}/v0"]
    # The spec, not the user, chose this loopback server: calls need allow_private_addresses.
    parser = OpenAPIParser(server_variables={"base": "v1"}, allow_private_addresses=True)
    registry = ToolRegistry()
    parser.register_tools_from_spec(spec, registry)
    result = await registry.execute_tool("s", {})
    await parser.aclose()
    assert result.success, result.error
    assert api.calls[-1].path == "/v1/search"


def test_relative_server_without_a_spec_url_asks_for_base_url() -> None:
    """A relative server URL with no spec URL to resolve against is a clear not-configured."""
    import asyncio

    registry = ToolRegistry()
    OpenAPIParser().register_tools_from_spec(
        spec30({"/a": {"get": {"operationId": "a", "responses": OK}}}), registry
    )
    result = asyncio.run(registry.execute_tool("a", {}))
    assert result.error_type == "not_configured"
    assert "base_url" in (result.error or "")


def test_names_missing_ids_slashes_dots_and_collisions() -> None:
    """No operationId: method + path; `/` and `.` become `_`; repeats get stable suffixes.

    (Duplicate operationIds are invalid, so validation is off: real specs have them.)
    """
    spec = spec30(
        {
            "/users/{id}": {
                "get": {
                    "responses": OK,
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                }
            },
            "/meta": {
                "get": {"operationId": "meta/root", "responses": OK},
                "put": {"operationId": "users.get", "responses": OK},
                "post": {"operationId": "meta.root", "responses": OK},
                "delete": {"operationId": "meta/root", "responses": OK},
            },
            "/long": {
                "get": {"operationId": "x" * 80, "responses": OK},
                "put": {"operationId": "x" * 90, "responses": OK},
            },
        }
    )
    first = [
        op["name"] for op in OpenAPIParser(validate=False).list_operations(spec, tool_prefix="api_")
    ]
    assert first == [
        "api_get_users_id",
        "api_meta_root",
        "api_users_get",
        "api_meta_root_2",
        "api_meta_root_3",
        shorten("api_" + "x" * 80),
        shorten("api_" + "x" * 90),
    ]
    assert all(len(name) <= 64 for name in first)
    assert first[-2].startswith("api_" + "x" * 51 + "_")
    assert first[-2] != first[-1]
    again = [
        op["name"] for op in OpenAPIParser(validate=False).list_operations(spec, tool_prefix="api_")
    ]
    assert again == first


@given(
    st.lists(st.one_of(st.none(), st.text(max_size=100)), max_size=20),
    st.from_regex(r"[a-zA-Z0-9_-]{0,10}", fullmatch=True),
)
def test_generated_names_are_always_valid_and_unique(ids: list[Any], prefix: str) -> None:
    """Whatever the operationIds, every tool name is valid and no two are equal."""
    names = NameAllocator(prefix)
    made = [names.allocate(base_tool_name(op_id, "get", f"/p/{i}")) for i, op_id in enumerate(ids)]
    assert all(TOOL_NAME_PATTERN.fullmatch(name) for name in made)
    assert len(set(made)) == len(made)


def test_filters_and_deprecated() -> None:
    """Deprecated operations are skipped unless asked; tags, methods and path globs filter."""
    spec = spec30(
        {
            "/a": {
                "get": {"operationId": "a", "tags": ["x"], "responses": OK},
                "post": {"operationId": "old", "deprecated": True, "responses": OK},
            },
            "/b/c": {"get": {"operationId": "c", "tags": ["y"], "responses": OK}},
        }
    )
    assert set(tools_of(spec)) == {"a", "c"}
    assert set(tools_of(spec, include_deprecated=True)) == {"a", "old", "c"}
    assert set(tools_of(spec, tags=["y"])) == {"c"}
    assert set(tools_of(spec, methods=["POST"], include_deprecated=True)) == {"old"}
    assert set(tools_of(spec, path_pattern="/b/*")) == {"c"}
    with pytest.raises(ConfigurationError, match="unknown HTTP methods"):
        OpenAPIParser(methods=["FETCH"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /users:\n    get: {}\n",
            'at #/paths/~1users/get: "responses" is a required property',
        ),
        ("openapi: [unclosed", "not valid YAML"),
        ("title: not an api\n", "no 'openapi' (3.x) or 'swagger' (2.0) version"),
        ("openapi: 4.0.0\ninfo: {}\npaths: {}\n", "unsupported OpenAPI version"),
        ("specs/missing.yaml", "not an existing file or an http(s) URL"),
        ('{"openapi": "3.0.3",', "not valid YAML"),
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
            "      responses: {'200': {$ref: '#/components/responses/Nope'}}\n",
            "at #/paths/~1a/get/responses/200: $ref '#/components/responses/Nope' points at "
            "nothing",
        ),
    ],
)
def test_broken_specs_give_a_clear_error(spec: str, message: str) -> None:
    """Each broken spec raises OpenAPIError (a ToolRegistrationError) saying what is wrong."""
    with pytest.raises(OpenAPIError) as caught:
        OpenAPIParser().parse_spec(spec)
    assert message in str(caught.value)
    assert isinstance(caught.value, ToolRegistrationError)


def test_a_dict_spec_is_not_modified() -> None:
    """Reading a dict never changes it (refs are resolved in a copy)."""
    before = json.dumps(NODE, sort_keys=True)
    tools_of(NODE)
    assert json.dumps(NODE, sort_keys=True) == before


def test_relative_file_refs(tmp_path: Path) -> None:
    """A spec file may refer to schemas in a neighbouring file."""
    (tmp_path / "schemas.json").write_text(
        json.dumps({"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}})
    )
    spec = spec30(
        {
            "/p": {
                "post": {
                    "operationId": "p",
                    "responses": OK,
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "schemas.json#/Pet"}}}
                    },
                }
            }
        }
    )
    path = tmp_path / "api.yaml"
    path.write_text(json.dumps(spec))
    assert list(tools_of(str(path))["p"].parameters["properties"]) == ["name"]
    assert list(tools_of(path)["p"].parameters["properties"]) == ["name"]


@pytest.mark.timeout(30)
def test_remote_refs_are_refused_unless_allowed(tmp_path: Path, refuse_transport: Any) -> None:
    """A $ref to another host fails before any request; allowed, it is fetched with httpx."""
    remote, httpd, thread = start_api(
        {"/schemas.json": {"Pet": {"type": "object", "properties": {"tag": {"type": "string"}}}}}
    )
    try:
        spec = spec30(
            {
                "/p": {
                    "post": {
                        "operationId": "p",
                        "responses": OK,
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": remote.url + "/schemas.json#/Pet"}
                                }
                            }
                        },
                    }
                }
            }
        )
        with pytest.raises(OpenAPIError, match="allow_remote_refs=True"):
            OpenAPIParser(transport=refuse_transport).parse_spec(spec)
        assert remote.requests == []
        tools = tools_of(spec, allow_remote_refs=True, allow_private_addresses=True)
        assert list(tools["p"].parameters["properties"]) == ["tag"]
        assert [seen.path for seen in remote.requests] == ["/schemas.json"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_auth_for_an_undefined_scheme_is_a_configuration_error() -> None:
    """A credential for a scheme the spec does not define is reported, not ignored."""
    with pytest.raises(ConfigurationError, match="Beraer"):
        tools_of(NODE, auth={"Beraer": "x"})


def test_strict_registration_is_all_or_nothing() -> None:
    """With strict=True a taken name fails before anything is registered; the prefix avoids it."""
    registry = ToolRegistry()
    parser = OpenAPIParser()
    assert parser.register_tools_from_spec(COMPOSED, registry, strict=True) == 2
    with pytest.raises(ToolRegistrationError, match="already registered"):
        parser.register_tools_from_spec(COMPOSED, registry, strict=True)
    assert len(registry) == 2
    assert parser.register_tools_from_spec(COMPOSED, registry, tool_prefix="v2_") == 2
    with pytest.raises(ToolRegistrationError, match="tool_prefix"):
        parser.register_tools_from_spec(COMPOSED, registry, tool_prefix="bad prefix")
    assert parser.register_tools_from_spec(COMPOSED, registry, replace=True) == 2


def test_registration_reports_taken_names_instead_of_failing() -> None:
    """Without strict, a taken name skips that tool and the report says so."""
    registry = ToolRegistry()
    parser = OpenAPIParser()
    first = parser.import_spec(COMPOSED, registry)
    assert len(first.imported) == 2
    again = parser.import_spec(COMPOSED, registry)
    assert again.imported == ()
    assert [item.reason for item in again.skipped] == [
        f"tool {name!r}: a tool of this name is already registered" for name in first.imported
    ]
    assert len(registry) == 2


def test_plugin_imports_specs_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `openapi` entry-point plugin registers the specs listed in AGENTKIT_OPENAPI_SPECS."""
    from agentkit import PluginManager

    path = tmp_path / "tree.json"
    path.write_text(json.dumps(NODE))
    monkeypatch.setenv("AGENTKIT_OPENAPI_SPECS", str(path))
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    manager.discover_plugins()
    assert "plant" in registry
    info = manager.plugin_info("openapi")
    assert info is not None
    assert info.status.value == "active"


@given(
    st.sampled_from([r"^(?!admin).*$", r"(a)\1", r"(?<=x)y", r"^(?=.*\d).+$"]),
    st.sampled_from(["3.0.3", "3.1.0"]),
)
def test_pattern_the_safe_engine_cannot_run_is_dropped_with_a_note(
    pattern: str, version: str
) -> None:
    """A lookaround or backreference pattern leaves the tool importable, with a note, unchecked."""
    spec = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "x",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": "string", "pattern": pattern, "description": "Q"},
                        },
                        {"name": "k", "in": "query", "schema": {"pattern": "^[a-z]+$"}},
                    ],
                    "responses": OK,
                }
            }
        },
    }
    tool = tools_of(spec)["x"]
    ToolRegistry().register_tool(tool)
    properties = tool.parameters["properties"]
    assert "pattern" not in properties["q"]
    assert properties["q"]["description"].startswith("Q")
    assert repr(pattern) in properties["q"]["description"]
    assert properties["k"]["pattern"] == "^[a-z]+$"
