"""OpenAPI import end to end: a real API on 127.0.0.1, imported from its own document URL."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openapi_app import (
    API_KEY_COOKIE,
    API_KEY_HEADER,
    API_KEY_QUERY,
    BASIC,
    BEARER_TOKEN,
    ApiServer,
)

from agentkit import ToolRegistry
from agentkit.cli._main import main
from agentkit_tools import OpenAPIParser

pytestmark = pytest.mark.timeout(60)

AUTH: dict[str, Any] = {
    "KeyHeader": API_KEY_HEADER,
    "KeyQuery": API_KEY_QUERY,
    "KeyCookie": API_KEY_COOKIE,
    "Bearer": BEARER_TOKEN,
    "Basic": BASIC,
}


@pytest.fixture
async def imported(api: ApiServer) -> AsyncIterator[tuple[ToolRegistry, OpenAPIParser]]:
    """A registry holding every operation of the API, imported from its URL, with auth."""
    parser = OpenAPIParser(auth=AUTH)
    registry = ToolRegistry()
    count = parser.register_tools_from_spec(api.spec_url, registry)
    assert count == len(registry) == 14
    yield registry, parser
    await parser.aclose()


async def call(registry: ToolRegistry, tool_name: str, /, **params: Any) -> Any:
    """Execute a tool and return its output, failing with the error if it failed."""
    result = await registry.execute_tool(tool_name, params)
    assert result.success, result.error
    return result.output


async def test_import_from_url_makes_one_tool_per_operation(imported: Any, api: ApiServer) -> None:
    """Every operation becomes a tool, named from its operationId, schemas merged."""
    registry, _ = imported
    names = {tool.name for tool in registry.list_tools()}
    assert {"getPet", "replacePet", "search", "createPet", "upload", "basicSecure"} <= names
    get_pet = registry.get_tool("getPet")
    assert set(get_pet.parameters["properties"]) == {"petId", "fields", "X-Request-Id", "session"}
    assert get_pet.parameters["required"] == ["petId"]
    assert get_pet.hints.read_only
    assert get_pet.hints.open_world
    assert get_pet.returns == {"type": "object", "additionalProperties": True}
    assert [seen.path for seen in api.requests] == ["/openapi.json"]


async def test_path_query_header_and_cookie_parameters(imported: Any, api: ApiServer) -> None:
    """Each parameter travels where the spec says, and the tool returns the server's answer."""
    registry, _ = imported
    output = await call(
        registry,
        "getPet",
        petId=7,
        fields=["name", "tag"],
        **{"X-Request-Id": "r-1"},
        session="abc",
    )
    seen = api.calls[-1]
    assert (seen.method, seen.path) == ("GET", "/v1/pets/7")
    assert seen.query == [("fields", "name,tag")]
    assert seen.headers["x-request-id"] == "r-1"
    assert seen.cookies == {"session": "abc"}
    assert output == seen.echo()


async def test_query_styles_form_explode_and_deep_object(imported: Any, api: ApiServer) -> None:
    """Arrays explode into repeated keys; a deepObject becomes filter[key]=value."""
    registry, _ = imported
    await call(registry, "search", tags=["a", "b"], filter={"color": "red", "size": 9}, limit=5)
    assert api.calls[-1].query == [
        ("tags", "a"),
        ("tags", "b"),
        ("filter[color]", "red"),
        ("filter[size]", "9"),
        ("limit", "5"),
    ]


async def test_path_parameters_are_escaped(imported: Any, api: ApiServer) -> None:
    """A slash or space in a path parameter is percent-encoded, not a new path segment."""
    registry, _ = imported
    await call(registry, "getFile", name="a b/c?d")
    assert api.calls[-1].raw_path == "/v1/files/a%20b%2Fc%3Fd"


async def test_json_body(imported: Any, api: ApiServer) -> None:
    """Body properties become arguments and are sent as one JSON object."""
    registry, _ = imported
    output = await call(registry, "createPet", name="Rex", tag=None)
    seen = api.calls[-1]
    assert seen.content_type == "application/json"
    assert seen.json == {"name": "Rex", "tag": None}
    assert output["json"] == {"name": "Rex", "tag": None}


async def test_body_property_colliding_with_a_parameter_keeps_both(
    imported: Any, api: ApiServer
) -> None:
    """Path id and body id both survive: the body's is called body_id."""
    registry, _ = imported
    tool = registry.get_tool("replaceOwner")
    assert list(tool.parameters["properties"]) == ["id", "body_id", "name", "tag"]
    assert tool.parameters["required"] == ["id"]  # the body is optional here
    await call(registry, "replaceOwner", id=3, body_id=4, name="Rex")
    seen = api.calls[-1]
    assert (seen.method, seen.path, seen.json) == ("PUT", "/v1/owners/3", {"id": 4, "name": "Rex"})


async def test_form_urlencoded_body(imported: Any, api: ApiServer) -> None:
    """A form body is sent urlencoded (not as JSON), arrays as repeated fields."""
    registry, _ = imported
    await call(registry, "sendContact", email="a@b.c", topics=["x", "y"], subscribe=True)
    seen = api.calls[-1]
    assert seen.content_type == "application/x-www-form-urlencoded"
    assert seen.form == [
        ("email", "a@b.c"),
        ("topics", "x"),
        ("topics", "y"),
        ("subscribe", "true"),
    ]


async def test_multipart_body_with_a_file(imported: Any, api: ApiServer) -> None:
    """A multipart body carries the field and the file part with its name and content."""
    registry, _ = imported
    await call(
        registry,
        "upload",
        note="hello",
        document={"filename": "r.txt", "content_base64": base64.b64encode(b"\x00hi").decode()},
    )
    parts = api.calls[-1].parts
    assert api.calls[-1].content_type.startswith("multipart/form-data; boundary=")
    assert parts[0] == {"name": "note", "filename": None, "content_type": None, "text": "hello"}
    assert parts[1]["name"] == "document"
    assert parts[1]["filename"] == "r.txt"
    assert parts[1]["text"] == "\x00hi"


@pytest.mark.parametrize(
    ("tool", "check"),
    [
        ("headerSecure", lambda seen: seen.headers["x-api-key"] == API_KEY_HEADER),
        ("querySecure", lambda seen: seen.query == [("api_key", API_KEY_QUERY)]),
        ("cookieSecure", lambda seen: seen.cookies == {"sid": API_KEY_COOKIE}),
        ("bearerSecure", lambda seen: seen.headers["authorization"] == "Bearer t0ken"),
        (
            "basicSecure",
            lambda seen: (
                seen.headers["authorization"] == "Basic " + base64.b64encode(b"ann:s3cret").decode()
            ),
        ),
    ],
)
async def test_each_auth_scheme(imported: Any, api: ApiServer, tool: str, check: Any) -> None:
    """apiKey (header, query, cookie), bearer and basic credentials reach the server."""
    registry, _ = imported
    await call(registry, tool)
    assert check(api.calls[-1])
    # Credentials go only where the operation asks for them.
    await call(registry, "search")
    assert "authorization" not in api.calls[-1].headers
    assert "x-api-key" not in api.calls[-1].headers


async def test_missing_credentials_fail_before_sending(api: ApiServer) -> None:
    """Without the scheme's credentials the call fails as not configured; nothing is sent."""
    parser = OpenAPIParser()
    registry = ToolRegistry()
    parser.register_tools_from_spec(api.spec_url, registry)
    result = await registry.execute_tool("bearerSecure", {})
    await parser.aclose()
    assert result.error_type == "not_configured"
    assert "Bearer" in (result.error or "")
    assert api.calls == []


async def test_wrong_credentials_give_the_servers_401(api: ApiServer) -> None:
    """A 401 comes back as a structured error with status and body."""
    parser = OpenAPIParser(auth={"Bearer": "wrong"})
    registry = ToolRegistry()
    parser.register_tools_from_spec(api.spec_url, registry)
    result = await registry.execute_tool("bearerSecure", {})
    await parser.aclose()
    assert not result.success
    assert result.error_type == "APIResponseError"
    assert "HTTP 401" in (result.error or "")
    assert "bad credentials" in (result.error or "")


async def test_non_2xx_is_an_error_with_status_and_body(imported: Any, api: ApiServer) -> None:
    """A 404 answer fails the call; the message holds the status, URL and body."""
    registry, _ = imported
    result = await registry.execute_tool("answerWith", {"code": 404})
    assert not result.success
    assert result.error_type == "APIResponseError"
    assert result.error == (
        f"GET {api.url}/v1/status/404 returned HTTP 404: "
        + json.dumps({"detail": "you asked for 404"})
    )


async def test_the_function_raises_api_response_error_with_fields(
    imported: Any, api: ApiServer
) -> None:
    """Called directly, the tool's function raises APIResponseError carrying status and body."""
    from agentkit_tools.openapi import APIResponseError

    registry, _ = imported
    function = registry.get_tool("answerWith").function
    assert function is not None
    with pytest.raises(APIResponseError) as caught:
        await function(code=503)
    assert caught.value.status_code == 503
    assert caught.value.body == {"detail": "you asked for 503"}


async def test_arguments_are_validated_before_any_request(imported: Any, api: ApiServer) -> None:
    """Bad arguments fail validation and never reach the server."""
    registry, _ = imported
    wrong_type = await registry.execute_tool("getPet", {"petId": "seven"})
    unknown = await registry.execute_tool("getPet", {"petId": 1, "colour": "red"})
    missing = await registry.execute_tool("sendContact", {})
    assert wrong_type.error_type == unknown.error_type == "validation"
    assert wrong_type.error_path == "/petId"
    assert missing.error_type == "validation"
    assert api.calls == []


async def test_base_url_override(api: ApiServer) -> None:
    """base_url replaces the spec's servers."""
    parser = OpenAPIParser(base_url=api.url + "/v1/files/", methods={"get"}, tags=None)
    registry = ToolRegistry()
    parser.register_tools_from_spec(api.spec_url, registry)
    await call(registry, "search")
    await parser.aclose()
    assert api.calls[-1].path == "/v1/files/search"


def test_cli_inspect_and_call(api: ApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    """`agentkit openapi inspect` lists the tools; `call` runs one and prints its result."""
    assert main(["openapi", "inspect", api.spec_url]) == 0
    listing = capsys.readouterr().out
    assert "getPet" in listing
    assert "GET" in listing
    assert "/pets/{petId}" in listing
    assert "14 tools" in listing
    code = main(
        [
            "openapi",
            "call",
            api.spec_url,
            "getPet",
            "--params",
            '{"petId": 5}',
            "--base-url",
            api.url + "/v1",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["success"] is True
    assert result["output"]["path"] == "/v1/pets/5"
    code = main(["openapi", "call", api.spec_url, "bearerSecure", "--auth", "Bearer=nope"])
    assert code == 1
    assert "HTTP 401" in json.loads(capsys.readouterr().out)["error"]
    assert main(["openapi", "call", api.spec_url, "nosuch"]) == 2
    assert "no operation 'nosuch'" in capsys.readouterr().err


def test_cli_reports_a_broken_spec(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken spec gives exit code 1 and a message naming the wrong place."""
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get: {}\n")
    assert main(["openapi", "inspect", str(spec)]) == 1
    assert "#/paths/~1x/get" in capsys.readouterr().err


def test_cli_limits_are_options(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A spec over a limit fails with the option named; the command-line flag raises it."""
    spec = tmp_path / "api.json"
    spec.write_text(
        json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})
    )
    assert main(["openapi", "inspect", str(spec), "--max-spec-bytes", "20"]) == 1
    assert "max_spec_bytes=20" in capsys.readouterr().err
    assert main(["openapi", "inspect", str(spec), "--max-spec-depth", "1"]) == 1
    assert "max_spec_depth=1" in capsys.readouterr().err
    assert main(["openapi", "inspect", str(spec), "--max-spec-bytes", "1000"]) == 0
