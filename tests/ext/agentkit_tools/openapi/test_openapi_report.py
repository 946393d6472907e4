"""Import reports: valid operations imported, the others skipped with reason and location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import ToolRegistry
from agentkit.cli._main import main
from agentkit.tools import compile_schema
from agentkit_tools.openapi import OpenAPIError, OpenAPIParser
from agentkit_tools.openapi._schema import NameAllocator, shorten

OK = {"200": {"description": "ok"}}


def spec(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI 3.0.3 document with *paths* and component *schemas*."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


def body(name: str) -> dict[str, Any]:
    """A JSON request body that is the component schema *name*."""
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


MIXED = spec(
    {
        "/good": {"post": {"operationId": "good", "requestBody": body("Good"), "responses": OK}},
        "/bad": {"post": {"operationId": "bad", "requestBody": body("Bad"), "responses": OK}},
        "/broken": {"get": {"operationId": "broken", "responses": "not a mapping"}},
    },
    {
        "Good": {"type": "object", "properties": {"a": {"type": "string"}}},
        "Bad": {"type": "object", "properties": {"a": {"type": 12}}},
    },
)


def test_valid_operations_are_registered_and_the_others_reported() -> None:
    """An invalid shared schema skips only the operations that use it, naming where it is."""
    registry = ToolRegistry()
    report = OpenAPIParser().import_spec(MIXED, registry)
    assert report.imported == ("good",)
    assert "good" in registry
    skipped = {item.operation_id: item for item in report.skipped}
    assert set(skipped) == {"bad", "broken"}
    assert skipped["bad"].location == "#/paths/~1bad/post"
    assert "#/components/schemas/Bad/properties/a" in skipped["bad"].reason
    assert skipped["broken"].location == "#/paths/~1broken/get"
    assert "at #/paths/~1broken/get/responses" in skipped["broken"].reason
    assert not report.complete
    assert report.summary() == "1 tools imported, 2 operations skipped"


def test_strict_is_all_or_nothing() -> None:
    """With strict=True the first problem raises, naming its source location; nothing is added."""
    registry = ToolRegistry()
    with pytest.raises(OpenAPIError, match=r"at #/paths/~1broken/get/responses: .* 1 more"):
        OpenAPIParser().import_spec(MIXED, registry, strict=True)
    assert len(registry) == 0


def test_problems_outside_operations_cost_no_tool() -> None:
    """A problem in `info` is reported as a problem; every operation is still imported."""
    document = spec({"/good": {"get": {"operationId": "good", "responses": OK}}})
    document["info"] = {"title": "t"}
    report = OpenAPIParser().import_spec(document)
    assert report.imported == ("good",)
    assert report.skipped == ()
    assert len(report.problems) == 1
    assert report.problems[0].startswith("at #/info: ")


def test_a_broken_reference_skips_the_operations_that_use_it() -> None:
    """A `$ref` that points at nothing is reported at the reference, in the operation using it."""
    document = spec(
        {
            "/a": {"post": {"operationId": "a", "requestBody": body("Nope"), "responses": OK}},
            "/b": {"get": {"operationId": "b", "responses": OK}},
        }
    )
    report = OpenAPIParser().import_spec(document)
    assert report.imported == ("b",)
    (skipped,) = report.skipped
    assert "$ref '#/components/schemas/Nope' points at nothing" in skipped.reason
    assert "#/paths/~1a/post/requestBody" in skipped.reason


@given(st.text(st.sampled_from("abcxyz_-0123456789"), min_size=1, max_size=200))
def test_shortened_names_fit_and_are_stable(base: str) -> None:
    """A name fits 64 characters, keeps its start and is the same on every import."""
    name = shorten(base)
    assert len(name) <= 64
    assert name == shorten(base)
    if len(base) <= 64:
        assert name == base
    else:
        assert name[:40] == base[:40]


@given(st.lists(st.text("xy", min_size=60, max_size=90), min_size=2, max_size=20, unique=True))
def test_long_names_sharing_a_start_stay_apart(bases: list[str]) -> None:
    """Distinct long ids get distinct names without `_2` suffixes."""
    names = NameAllocator()
    allocated = [names.allocate(base) for base in bases]
    assert len(set(allocated)) == len(allocated)
    assert allocated == [shorten(base) for base in bases]


def many_operations(count: int) -> dict[str, Any]:
    """A valid spec with *count* GET operations."""
    return spec({f"/r{index}": {"get": {"responses": OK}} for index in range(count)})


def test_cli_shows_progress_for_big_specs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inspect` of a 300-operation spec prints progress on stderr; a small one or --quiet not."""
    big = tmp_path / "big.json"
    big.write_text(json.dumps(many_operations(300)))
    assert main(["openapi", "inspect", str(big)]) == 0
    captured = capsys.readouterr()
    assert "300 tools" in captured.out
    assert "making tools 300/300" in captured.err
    assert "reading paths 300/300" in captured.err
    assert main(["openapi", "inspect", str(big), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    small = tmp_path / "small.json"
    small.write_text(json.dumps(many_operations(5)))
    assert main(["openapi", "inspect", str(small)]) == 0
    assert capsys.readouterr().err == ""


def test_cli_lists_skipped_operations_and_names_the_limit_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inspect` lists what it skipped (exit 1); a limit error names the flag that raises it."""
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(MIXED))
    assert main(["openapi", "inspect", str(path)]) == 1
    captured = capsys.readouterr()
    assert "1 tools" in captured.out
    assert "skipped POST /bad (#/paths/~1bad/post)" in captured.err
    assert main(["openapi", "inspect", str(path), "--max-spec-bytes", "50"]) == 1
    assert "--max-spec-bytes N" in capsys.readouterr().err


def test_a_schema_id_cannot_rebase_the_references() -> None:
    """`$id`/`$schema` in a spec's schema are dropped, so `#/$defs/...` still resolves locally."""
    document = spec(
        {"/a": {"post": {"operationId": "a", "requestBody": body("Outer"), "responses": OK}}},
        {
            "Outer": {
                "type": "object",
                "properties": {"inner": {"$ref": "#/components/schemas/Inner"}},
            },
            "Inner": {
                "$id": "http://127.0.0.1:9/elsewhere.json",
                "type": "object",
                "properties": {"next": {"$ref": "#/components/schemas/Inner"}},
            },
        },
    )
    document["openapi"] = "3.1.0"  # 3.0 does not allow $id at all
    (tool,) = OpenAPIParser().extract_tools(document, strict=True)
    assert "$id" not in tool.parameters["$defs"]["Inner"]
    check = compile_schema(tool.parameters)
    assert check.is_valid({"inner": {"next": {"next": {}}}})
    assert not check.is_valid({"inner": {"next": {"next": 5}}})


@pytest.mark.parametrize("with_registry", [True, False])
def test_a_schema_the_registry_refuses_names_where_it_is_written(with_registry: bool) -> None:
    """A 3.1 schema that is not valid JSON Schema skips its operation, citing its source."""
    document = spec(
        {
            "/a": {"post": {"operationId": "a", "requestBody": body("Outer"), "responses": OK}},
            "/b": {"get": {"operationId": "b", "responses": OK}},
        },
        {
            "Outer": {"type": "object", "properties": {"i": {"$ref": "#/components/schemas/I"}}},
            "I": {"type": "object", "required": ["x", "x"]},
        },
    )
    document["openapi"] = "3.1.0"  # 3.1 schemas are JSON Schema, checked when tools are made
    report = OpenAPIParser().import_spec(document, ToolRegistry() if with_registry else None)
    assert report.imported == ("b",)
    (skipped,) = report.skipped
    assert "is not valid JSON Schema at /$defs/I/required" in skipped.reason
    assert "(written at #/components/schemas/I/required)" in skipped.reason
