"""A trace as an indented tree for the terminal (``agentkit demo --trace``).

Works on finished spans as the OpenTelemetry SDK hands them to an exporter (``ReadableSpan``),
read by attribute only, so this module imports nothing from OpenTelemetry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["render_trace", "traces"]

#: Attributes shown beside a span, in this order, when it has them (the rest stay hidden),
#: each with the short label it is printed under.
SHOWN_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("agentkit.agent.id", "agent"),
    ("agentkit.vote.option", "option"),
    ("agentkit.vote.confidence", "confidence"),
    ("agentkit.vote.weight", "weight"),
    ("agentkit.consensus.votes", "votes"),
    ("agentkit.consensus.decision", "decision"),
    ("agentkit.consensus.score", "score"),
    ("agentkit.consensus.escalated", "escalated"),
    ("agentkit.message.attempt", "attempt"),
    ("agentkit.tool.success", "success"),
    ("error.type", "error"),
)
#: Longest attribute value shown, in characters.
MAX_VALUE = 40


def _span_id(span: Any) -> int:
    return int(span.context.span_id)


def _parent_id(span: Any) -> int | None:
    parent = span.parent
    return None if parent is None else int(parent.span_id)


def traces(spans: Iterable[Any]) -> dict[int, list[Any]]:
    """The spans grouped by trace id, each group in start order."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for span in spans:
        grouped[int(span.context.trace_id)].append(span)
    for group in grouped.values():
        group.sort(key=lambda span: span.start_time or 0)
    return dict(grouped)


def _value(value: object) -> str:
    if isinstance(value, float):
        text = f"{value:.3g}"
    elif isinstance(value, (list, tuple)):
        text = ",".join(map(str, value))
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _describe(span: Any, shown: Sequence[tuple[str, str]]) -> str:
    start, end = span.start_time or 0, span.end_time or span.start_time or 0
    milliseconds = (end - start) / 1e6
    attributes = span.attributes or {}
    details = " ".join(
        f"{label}={_value(attributes[key])}" for key, label in shown if key in attributes
    )
    status = getattr(getattr(span, "status", None), "status_code", None)
    error = " ERROR" if getattr(status, "name", "") == "ERROR" else ""
    line = f"{span.name}  {milliseconds:.2f} ms{error}"
    return f"{line}  {details}" if details else line


def render_trace(
    spans: Sequence[Any], *, shown: Sequence[tuple[str, str]] = SHOWN_ATTRIBUTES
) -> str:
    """One trace's *spans* as an indented tree: name, duration, chosen attributes, events.

    *shown* lists ``(attribute, label)`` pairs printed beside each span that has them; an
    event's attributes are printed under their last dotted part.

    Children sit under their parent in start order; a span whose parent is not among *spans*
    (it lives in another process, or was not recorded) starts a tree of its own.
    """
    ordered = sorted(spans, key=lambda span: span.start_time or 0)
    ids = {_span_id(span) for span in ordered}
    children: dict[int | None, list[Any]] = defaultdict(list)
    for span in ordered:
        parent = _parent_id(span)
        children[parent if parent in ids else None].append(span)
    lines: list[str] = []

    def walk(span: Any, prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{_describe(span, shown)}")
        below = prefix if root else prefix + ("   " if last else "│  ")
        kids = children.get(_span_id(span), [])
        for event in span.events or ():
            marker = "│  " if kids else "   "
            attributes = event.attributes or {}
            details = " ".join(
                f"{key.rsplit('.', 1)[-1]}={_value(value)}" for key, value in attributes.items()
            )
            lines.append(f"{below}{marker}• {event.name} {details}".rstrip())
        for index, kid in enumerate(kids):
            walk(kid, below, index == len(kids) - 1, False)

    for root in children.get(None, []):
        walk(root, "", True, True)
    return "\n".join(lines)
