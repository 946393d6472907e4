"""Every built-in's schema pinned by a snapshot, and every built-in through every export.

The snapshot (``builtin_schemas.json`` beside this file) holds each tool's parameters,
returns, category, tags, hints, timeout and blocking flag. A change to any of them fails here
until the snapshot is refreshed on purpose::

    AGENTKIT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest \
        tests/ext/agentkit_tools/builtin/test_schemas.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import mcp.types
import pytest

from agentkit import Tool
from agentkit.tools import (
    strict_problem,
    to_anthropic_tool,
    to_mcp_tool,
    to_openai_tool,
)
from agentkit_tools import ToolsConfig, create_builtin_tools_library

SNAPSHOT = Path(__file__).with_name("builtin_schemas.json")


def _library(tmp_path: Path) -> list[Tool]:
    return create_builtin_tools_library(ToolsConfig(sandbox_root=tmp_path))


def _described(tool: Tool) -> dict[str, Any]:
    return {
        "category": tool.category,
        "tags": list(tool.tags),
        "hints": {
            "read_only": tool.hints.read_only,
            "destructive": tool.hints.destructive,
            "idempotent": tool.hints.idempotent,
            "open_world": tool.hints.open_world,
        },
        "timeout": tool.timeout,
        "blocking": tool.blocking,
        "parameters": json.loads(json.dumps(tool.parameters)),
        "returns": json.loads(json.dumps(tool.returns)) if tool.returns is not None else None,
    }


def test_every_builtin_schema_matches_its_snapshot(tmp_path: Path) -> None:
    """The 72 built-ins' schemas, hints and flags are exactly the pinned ones."""
    current = {tool.name: _described(tool) for tool in _library(tmp_path)}
    assert len(current) == 72
    if os.environ.get("AGENTKIT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    pinned = json.loads(SNAPSHOT.read_text())
    assert sorted(current) == sorted(pinned), "tools added or removed"
    changed = sorted(name for name in current if current[name] != pinned[name])
    assert not changed, (
        f"schemas changed: {changed}; if on purpose, refresh the snapshot with "
        "AGENTKIT_UPDATE_SNAPSHOTS=1 (see this module's docstring)"
    )


def test_every_builtin_exports_to_openai_anthropic_and_mcp(tmp_path: Path) -> None:
    """Every built-in exports to each format; strict='auto' is strict wherever expressible."""
    not_strict: dict[str, list[str]] = {"openai": [], "anthropic": []}
    for tool in _library(tmp_path):
        for provider, export in (("openai", to_openai_tool), ("anthropic", to_anthropic_tool)):
            exported = export(tool, strict="auto")
            body = exported["function"] if provider == "openai" else exported
            schema = body["parameters"] if provider == "openai" else body["input_schema"]
            jsonschema.Draft202012Validator.check_schema(schema)
            problem = strict_problem(tool, provider=provider)  # type: ignore[arg-type]
            assert body["strict"] is (problem is None)
            if problem is not None:
                not_strict[provider].append(tool.name)
                assert tool.name in problem
                assert " at /" in problem
        definition = mcp.types.Tool.model_validate(to_mcp_tool(tool))
        assert definition.name == tool.name
        assert definition.input_schema["type"] == "object"
    # Only tools that take free-form JSON (records, headers, any value) stay non-strict.
    for names in not_strict.values():
        assert all(
            name.startswith(("data_", "web_", "text_template", "math_random")) for name in names
        )
    assert len(not_strict["openai"]) <= 18


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_strict_exports_accept_what_the_tools_accept(provider: str, tmp_path: Path) -> None:
    """A strict export keeps every property and closes every object, for each built-in."""
    for tool in _library(tmp_path):
        if strict_problem(tool, provider=provider) is not None:  # type: ignore[arg-type]
            continue
        exported = (to_openai_tool if provider == "openai" else to_anthropic_tool)(
            tool, strict=True
        )
        schema = (
            exported["function"]["parameters"] if provider == "openai" else exported["input_schema"]
        )
        assert set(schema["properties"]) == set(tool.parameters.get("properties", {}))
        assert schema["additionalProperties"] is False
        if provider == "anthropic":
            assert set(schema.get("required", ())) == set(tool.parameters.get("required", ()))


def test_every_builtin_is_a_valid_provider_sdk_type(tmp_path: Path) -> None:
    """Each built-in's exports validate as the openai and anthropic SDKs' own tool types."""
    import pydantic
    from anthropic.types import ToolParam
    from openai.types.chat import ChatCompletionFunctionToolParam

    openai_type = pydantic.TypeAdapter(ChatCompletionFunctionToolParam)
    anthropic_type = pydantic.TypeAdapter(ToolParam)
    for tool in _library(tmp_path):
        for strict in (False, "auto"):
            exported = to_openai_tool(tool, strict=strict)
            openai_type.validate_python(exported, strict=True)
            assert set(exported) <= set(ChatCompletionFunctionToolParam.__annotations__)
            definition = to_anthropic_tool(tool, strict=strict)
            anthropic_type.validate_python(definition, strict=True)
            assert set(definition) <= set(ToolParam.__annotations__)
