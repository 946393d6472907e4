"""Parsing spec text and measuring documents, with limits on size, depth and alias expansion.

JSON and YAML are parsed only after their cost is known to be bounded: YAML is first read as
a stream of parser events (no objects built) to count its nesting depth and the number of
nodes its aliases would expand to (billion laughs), JSON's parser is cut off by the recursion
guard, and every parsed or resolved document is measured with :func:`measure`, an iterative
walk that counts shared subtrees once per place they appear. Every refusal is an
:class:`~agentkit.exceptions.OpenAPILimitError` that names the option to raise.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agentkit_tools.openapi._errors import OpenAPIError, OpenAPILimitError

__all__ = [
    "DEFAULT_MAX_REF_DOCUMENTS",
    "DEFAULT_MAX_SPEC_BYTES",
    "DEFAULT_MAX_SPEC_DEPTH",
    "DEFAULT_MAX_SPEC_NODES",
    "SpecLimits",
    "measure",
    "parse_text",
    "too_deep",
    "too_many_nodes",
]


#: Defaults of the limits (documented in docs/tools.md, "OpenAPI import").
DEFAULT_MAX_SPEC_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_REF_DOCUMENTS = 500
DEFAULT_MAX_SPEC_NODES = 1_000_000
DEFAULT_MAX_SPEC_DEPTH = 100


@dataclass(frozen=True, slots=True)
class SpecLimits:
    """How large a spec may be: bytes read in total, documents, expanded nodes and depth."""

    max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES
    max_ref_documents: int = DEFAULT_MAX_REF_DOCUMENTS
    max_spec_nodes: int = DEFAULT_MAX_SPEC_NODES
    max_spec_depth: int = DEFAULT_MAX_SPEC_DEPTH

    def __post_init__(self) -> None:
        for name in ("max_spec_bytes", "max_ref_documents", "max_spec_nodes", "max_spec_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise OpenAPIError(f"{name} must be a positive integer, got {value!r}")


def too_deep(where: str, limits: SpecLimits, *, stack: bool = False) -> OpenAPILimitError:
    """The error for a document nested deeper than ``max_spec_depth``.

    *stack*: the nesting exhausted Python's stack (a ``RecursionError``) before the limit
    could be checked.
    """
    if stack:
        return OpenAPILimitError(
            f"{where} is nested deeper than Python's stack allows (max_spec_depth="
            f"{limits.max_spec_depth}); flatten it, or lower OpenAPIParser(max_spec_depth=...) "
            "to have it refused up front"
        )
    return OpenAPILimitError(
        f"{where} is nested deeper than max_spec_depth={limits.max_spec_depth} levels; "
        "pass OpenAPIParser(max_spec_depth=...) to allow deeper documents"
    )


def too_many_nodes(where: str, limits: SpecLimits) -> OpenAPILimitError:
    """The error for a document that expands beyond ``max_spec_nodes``."""
    return OpenAPILimitError(
        f"{where} expands to more than max_spec_nodes={limits.max_spec_nodes} values (YAML "
        "aliases and $refs count once per place they are used); pass "
        "OpenAPIParser(max_spec_nodes=...) to allow larger documents"
    )


def parse_text(text: str, format: str | None, *, where: str, limits: SpecLimits) -> Any:
    """Parse JSON or YAML text (*format* ``"json"``, ``"yaml"`` or None to guess) within *limits*.

    Raises:
        OpenAPILimitError: too deep, or expanding to too many values.
        OpenAPIError: the text is not valid JSON/YAML.
    """
    kind = (format or "").lower()
    if kind not in ("", "json", "yaml", "yml"):
        raise OpenAPIError(f"unknown spec format {format!r}: use 'yaml', 'json' or None")
    if kind == "json" or (not kind and text.lstrip().startswith(("{", "["))):
        try:
            document = json.loads(text)
        except RecursionError:
            raise too_deep(where, limits, stack=True) from None
        except ValueError as exc:
            if kind == "json":
                raise OpenAPIError(f"{where} is not valid JSON: {exc}") from None
        else:
            measure(document, where=where, limits=limits)
            return document
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_yaml_events(yaml.parse(text, Loader=loader), where=where, limits=limits)
        document = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own cap, met while scanning ahead
            raise too_deep(where, limits) from None
        raise OpenAPIError(f"{where} is not valid YAML: {exc}") from None
    except RecursionError:
        raise too_deep(where, limits, stack=True) from None
    plain = _plain(document, where)
    measure(plain, where=where, limits=limits)
    return plain


def _check_yaml_events(events: Iterator[Any], *, where: str, limits: SpecLimits) -> None:
    """Refuse a YAML stream that nests too deep or whose aliases expand to too many nodes.

    Works on parser events, so nothing is built: each anchor's expanded size and height are
    recorded when it closes, and an alias adds them where it is used.
    """
    import yaml

    anchored: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, height)
    open_anchors: set[str] = set()
    # One frame per open collection: [anchor, expanded nodes, height].
    frames: list[list[Any]] = [[None, 0, 0]]
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            if len(frames) > limits.max_spec_depth:
                raise too_deep(where, limits)
            if event.anchor:
                open_anchors.add(event.anchor)
            frames.append([event.anchor, 1, 1])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, nodes, height = frames.pop()
            if anchor:
                anchored[anchor] = (nodes, height)
                open_anchors.discard(anchor)
        elif isinstance(event, yaml.ScalarEvent):
            nodes, height = 1, 0
            if event.anchor:
                anchored[event.anchor] = (1, 0)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise OpenAPIError(
                    f"{where} has a YAML alias *{event.anchor} inside its own anchor"
                )
            nodes, height = anchored.get(event.anchor, (1, 0))
            if len(frames) - 1 + height > limits.max_spec_depth:
                raise too_deep(where, limits)
        else:
            continue
        parent = frames[-1]
        parent[1] += nodes
        parent[2] = max(parent[2], height + 1)
        if parent[1] > limits.max_spec_nodes:
            raise too_many_nodes(where, limits)


_JSON_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any, where: str) -> Any:
    """YAML's extras made JSON-like: integer keys (status codes) and dates become strings.

    Raises:
        OpenAPIError: a value JSON has no form for (``!!binary``, ``!!set``).
    """
    if isinstance(value, dict):
        return {_key(key): _plain(item, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, where) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if not isinstance(value, _JSON_SCALARS):
        raise OpenAPIError(
            f"{where} holds a YAML {type(value).__name__} value (such as !!binary or !!set), "
            "which JSON cannot represent; use a string or a list"
        )
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return key if isinstance(key, str) else str(key)


def _children(node: Any) -> Iterator[Any] | None:
    if isinstance(node, dict):
        return iter(node.values())
    if isinstance(node, list):
        return iter(node)
    return None


def measure(document: Any, *, where: str, limits: SpecLimits) -> int:
    """Check *document*'s depth and expanded size without recursion; return the value count.

    A subtree shared by several parents (a resolved ``$ref``, a YAML alias) is measured once
    and counted once per parent, so the count is what a full copy would hold.

    Raises:
        OpenAPILimitError: deeper than ``max_spec_depth`` or over ``max_spec_nodes``.
        OpenAPIError: the document contains itself.
    """
    children = _children(document)
    if children is None:
        return 1
    known: dict[int, tuple[int, int]] = {}  # id -> (expanded nodes, height)
    on_path = {id(document)}
    # Each frame: the container, its remaining children, [expanded nodes, height].
    path: list[tuple[Any, Iterator[Any], list[int]]] = [(document, children, [1, 1])]
    while path:
        node, remaining, totals = path[-1]
        for child in remaining:
            grandchildren = _children(child)
            if grandchildren is None:
                totals[0] += 1
                continue
            key = id(child)
            if key in on_path:
                raise OpenAPIError(f"{where} contains itself (a cycle); it cannot be a spec")
            seen = known.get(key)
            if seen is None:
                if len(path) + 1 > limits.max_spec_depth:
                    raise too_deep(where, limits)
                on_path.add(key)
                path.append((child, grandchildren, [1, 1]))
                break
            if len(path) + seen[1] > limits.max_spec_depth:
                raise too_deep(where, limits)
            totals[0] += seen[0]
            totals[1] = max(totals[1], seen[1] + 1)
            if totals[0] > limits.max_spec_nodes:
                raise too_many_nodes(where, limits)
        else:
            path.pop()
            on_path.discard(id(node))
            if totals[0] > limits.max_spec_nodes:
                raise too_many_nodes(where, limits)
            known[id(node)] = (totals[0], totals[1])
            if path:
                parent = path[-1][2]
                parent[0] += totals[0]
                parent[1] = max(parent[1], totals[1] + 1)
            else:
                return totals[0]
    raise AssertionError("unreachable")  # pragma: no cover
