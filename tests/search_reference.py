"""The reference search_tools answers are checked against: every tool scored by hand."""

from __future__ import annotations

from agentkit import Tool


def reference_search(tools: list[Tool], text: str) -> list[str]:
    """Score every tool as search_tools is documented to (name 4, category 2, tags 2,
    description 1 per field holding each word; ties by name); the names, best first."""
    words = text.lower().split()
    scored: list[tuple[int, str]] = []
    for tool in tools:
        fields = (
            (tool.name.lower(), 4),
            (tool.category.lower(), 2),
            (" ".join(tool.tags).lower(), 2),
            (tool.description.lower(), 1),
        )
        score = 0
        for word in words:
            gained = sum(weight for field, weight in fields if word in field)
            if not gained:
                break
            score += gained
        else:
            scored.append((score, tool.name))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [name for _, name in scored]
