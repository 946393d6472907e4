"""The big real-world specs (GitHub, Stripe, Kubernetes, Discord, OpenAI): counts and reports.

Each is imported once per module (no registry: the importer checks the schemas itself), so
the whole file costs a few seconds of import each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from big_specs import text

from agentkit import ToolRegistrationError
from agentkit_tools.openapi import ImportReport, OpenAPIParser
from agentkit_tools.openapi._schema import shorten

#: Limits that fit the biggest of them (GitHub: 13 MB).
BIG = {"max_spec_bytes": 64 * 1024 * 1024, "max_spec_nodes": 10_000_000}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operation_count(document: dict[str, Any]) -> int:
    """How many operations *document* holds (deprecated ones too)."""
    return sum(1 for item in document["paths"].values() for method in item if method in METHODS)


def refs_in(schema: Any) -> Iterator[str]:
    """Every `$ref` keyword value in a converted tool schema (names of properties skipped)."""
    stack = [(schema, False)]
    while stack:
        node, names = stack.pop()
        if isinstance(node, dict):
            if not names and isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for key, value in node.items():
                if key in ("enum", "const", "default", "examples"):
                    continue
                stack.append((value, not names and key in ("properties", "$defs")))
        elif isinstance(node, list):
            stack.extend((item, False) for item in node)


def assert_self_contained(tools: list[Any]) -> None:
    """Every reference of every tool schema points into that schema's own `$defs`."""
    for tool in tools:
        for schema in (tool.parameters, tool.returns):
            if schema is None:
                continue
            defs = schema.get("$defs", {})
            for ref in refs_in(schema):
                assert ref.startswith("#/$defs/"), (tool.name, ref)
                assert ref.removeprefix("#/$defs/") in defs, (tool.name, ref)


class Imported:
    """A spec imported once: the parser, its tools and its report."""

    def __init__(self, name: str, **options: Any) -> None:
        self.text = text(name)
        self.parser = OpenAPIParser(include_deprecated=True, **BIG, **options)
        self.tools = self.parser.extract_tools(self.text)
        report = self.parser.last_report
        assert report is not None
        self.report: ImportReport = report
        self.document = self.parser._load(self.text, None).document


@pytest.fixture(scope="module")
def github() -> Imported:
    """GitHub's REST API, imported once for the module."""
    return Imported("github")


@pytest.fixture(scope="module")
def stripe() -> Imported:
    """Stripe's API, imported once for the module."""
    return Imported("stripe")


@pytest.fixture(scope="module")
def kubernetes() -> Imported:
    """Kubernetes' Swagger 2.0 API, imported once for the module."""
    return Imported("kubernetes")


def test_kubernetes_imports_every_operation(kubernetes: Imported) -> None:
    """Every one of Kubernetes' 1,014 operations becomes a tool and nothing is reported."""
    assert operation_count(kubernetes.document) == 1014
    assert len(kubernetes.tools) == 1014
    assert kubernetes.report.complete
    assert_self_contained(kubernetes.tools)
    # A referenced definition returned in whole is an object (MCP's outputSchema), even where
    # the Swagger definition leaves out "type".
    returning = [tool for tool in kubernetes.tools if "$defs" in (tool.returns or {})]
    assert returning
    assert all(tool.returns["type"] == "object" for tool in returning)


def test_a_property_named_ref_is_a_property(kubernetes: Imported) -> None:
    """JSONSchemaProps' property named `$ref` stays a string property, not a reference."""
    name = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaProps"
    holders = [
        tool.parameters["$defs"][name]
        for tool in kubernetes.tools
        if name in tool.parameters.get("$defs", {})
    ]
    assert holders
    assert holders[0]["properties"]["$ref"] == {"type": "string"}
    assert holders[0]["properties"]["properties"]["additionalProperties"] == {
        "$ref": f"#/$defs/{name}"
    }


def test_github_imports_every_operation_with_stable_names(github: Imported) -> None:
    """All 1,223 GitHub operations import; long ids are shortened with a hash, never `_2`."""
    assert operation_count(github.document) == 1223
    assert len(github.tools) == 1223
    assert github.report.complete
    names = [tool.name for tool in github.tools]
    assert len(set(names)) == len(names)
    ids = [
        spec["operationId"]
        for item in github.document["paths"].values()
        for method, spec in item.items()
        if method in METHODS
    ]
    long_ids = [operation_id for operation_id in ids if len(operation_id) > 64]
    assert long_ids
    by_id = {tool.function.openapi_operation.operation_id: tool.name for tool in github.tools}
    for operation_id in long_ids:
        assert by_id[operation_id] == shorten(operation_id.replace("/", "_"))
        assert by_id[operation_id].startswith(operation_id.replace("/", "_")[:40])
    assert_self_contained(github.tools)


def test_github_tools_stay_proportional(github: Imported) -> None:
    """No tool carries the whole spec: the largest is a small fraction of it."""
    largest = max(
        len(json.dumps(tool.parameters)) + len(json.dumps(tool.returns)) for tool in github.tools
    )
    assert largest < len(github.text) // 20


def test_stripe_imports_every_operation(stripe: Imported) -> None:
    """All 452 Stripe operations import, each with its own self-contained `$defs`."""
    assert operation_count(stripe.document) == 452
    assert len(stripe.tools) == 452
    assert stripe.report.complete
    assert_self_contained(stripe.tools)


def test_discord_imports_every_operation() -> None:
    """All 242 Discord operations (OpenAPI 3.1, single-branch allOf everywhere) import."""
    imported = Imported("discord")
    assert operation_count(imported.document) == 242
    assert len(imported.tools) == 242
    assert imported.report.complete
    assert_self_contained(imported.tools)


def test_openai_imports_the_valid_operations_and_reports_the_others() -> None:
    """OpenAI: every operation is imported or reported, with its source location and reason."""
    imported = Imported("openai")
    report = imported.report
    total = operation_count(imported.document)
    assert len(report.imported) + len(report.skipped) == total
    assert report.skipped
    assert len(report.imported) > total * 3 // 4
    paths = imported.document["paths"]
    for skipped in report.skipped:
        assert skipped.location.startswith("#/paths/")
        assert skipped.method.lower() in paths[skipped.path]
        assert "is not valid JSON Schema at" in skipped.reason
    assert {tool.name for tool in imported.tools} == set(report.imported)
    assert any("(written at #/components/schemas/" in item.reason for item in report.skipped)
    with pytest.raises(ToolRegistrationError, match="is not valid JSON Schema"):
        OpenAPIParser(**BIG).extract_tools(imported.document, strict=True)


def _provider_checkers() -> list[tuple[str, Any]]:
    """(name, check) pairs validating one tool's export with each provider SDK's own type."""
    import mcp.types
    import pydantic
    from anthropic.types import ToolParam
    from openai.types.chat import ChatCompletionFunctionToolParam

    from agentkit.tools import to_anthropic_tool, to_mcp_tool, to_openai_tool

    openai_type = pydantic.TypeAdapter(ChatCompletionFunctionToolParam)
    anthropic_type = pydantic.TypeAdapter(ToolParam)
    openai_keys = set(ChatCompletionFunctionToolParam.__annotations__)
    anthropic_keys = set(ToolParam.__annotations__)

    def openai_check(tool: Any) -> None:
        exported = to_openai_tool(tool, strict="auto")
        openai_type.validate_python(exported, strict=True)
        assert set(exported) <= openai_keys

    def anthropic_check(tool: Any) -> None:
        exported = to_anthropic_tool(tool, strict="auto")
        anthropic_type.validate_python(exported, strict=True)
        assert set(exported) <= anthropic_keys

    def mcp_check(tool: Any) -> None:
        mcp.types.Tool.model_validate(to_mcp_tool(tool))

    return [("openai", openai_check), ("anthropic", anthropic_check), ("mcp", mcp_check)]


def test_exports_are_valid_provider_sdk_types(github: Imported, kubernetes: Imported) -> None:
    """Every GitHub and Kubernetes tool exports to the openai, anthropic and mcp SDKs' types."""
    invalid: list[tuple[str, str, str]] = []
    checkers = _provider_checkers()
    for tool in [*github.tools, *kubernetes.tools]:
        for provider, check in checkers:
            try:
                check(tool)
            except Exception as exc:  # collected, so the report names every failure
                invalid.append((tool.name, provider, str(exc)[:200]))
    assert invalid == []
