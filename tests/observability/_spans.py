"""Spans as plain dicts, so a child process can print its spans and a test can join them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """The ids, name, kind, attributes and events of *span* as JSON-ready values."""
    context = span.get_span_context()
    assert context is not None
    parent = span.parent
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{parent.span_id:016x}" if parent is not None else None,
        "attributes": dict(span.attributes or {}),
        "events": [
            {"name": event.name, "attributes": dict(event.attributes or {})}
            for event in span.events
        ],
        "status": span.status.status_code.name,
    }


def dump_spans(spans: Iterable[ReadableSpan]) -> str:
    """One JSON line per span (what a child process prints for the test to read)."""
    return "\n".join(json.dumps(span_record(span), default=str) for span in spans)


def load_spans(text: str) -> list[dict[str, Any]]:
    """The span records in *text*, one JSON object per line; other lines are skipped."""
    records = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"span_id"' in line:
            records.append(json.loads(line))
    return records


def by_name(records: Sequence[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The records whose span name starts with *prefix*."""
    return [record for record in records if record["name"].startswith(prefix)]


def assert_one_trace(records: Sequence[dict[str, Any]]) -> str:
    """Assert every record shares one trace id and every parent is in the set; return the id."""
    trace_ids = {record["trace_id"] for record in records}
    assert len(trace_ids) == 1, f"spans in {len(trace_ids)} traces: {trace_ids}"
    span_ids = {record["span_id"] for record in records}
    roots = [record for record in records if record["parent_id"] not in span_ids]
    assert len(roots) == 1, f"expected one root, got {[root['name'] for root in roots]}"
    return trace_ids.pop()
