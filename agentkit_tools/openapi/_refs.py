"""References in an OpenAPI document, kept as written: finding them, following them, naming them.

A ``$ref`` is a reference only where the spec says one may stand: a mapping whose ``$ref`` is a
string, reached through OpenAPI objects and schema keywords. The keys of a name map
(``properties``, ``patternProperties``, ``definitions``, ``$defs``, ``components/schemas``,
``paths``, ``responses``...) are names, so a property *named* ``$ref`` (Kubernetes'
``JSONSchemaProps``) is a property, never a reference; data (``example``, ``examples``,
``default``, ``enum``, ``const``, ``x-...`` extensions) is never searched for references.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urljoin

from agentkit_tools.openapi._errors import OpenAPIError

__all__ = ["Documents", "Located", "find_refs", "pointer", "resource_of"]

#: Keywords whose value is data, never searched for references.
_DATA: Final = frozenset({"example", "examples", "default", "enum", "const"})
#: Keywords whose value maps names (not keywords) to schemas or OpenAPI objects.
_NAME_MAPS: Final = frozenset(
    {
        "properties",
        "patternProperties",
        "definitions",
        "$defs",
        "dependentSchemas",
        "schemas",
        "parameters",
        "responses",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "pathItems",
        "paths",
        "webhooks",
        "content",
        "encoding",
        "securityDefinitions",
        "variables",
    }
)
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_DEF_NAME: Final = 80


def pointer(tokens: Any) -> str:
    """A JSON pointer (``#/paths/~1users/get``) from path tokens."""
    parts = [str(token).replace("~", "~0").replace("/", "~1") for token in tokens]
    return "#/" + "/".join(parts) if parts else "#"


def resource_of(url: str) -> str:
    """*url* without its fragment."""
    return url.split("#", 1)[0]


def find_refs(document: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every reference string in *document* with its location (iteratively, document order)."""
    # Each frame: the node, its location, and whether its keys are names (not keywords).
    stack: list[tuple[Any, tuple[Any, ...], bool]] = [(document, (), False)]
    while stack:
        node, at, names = stack.pop()
        if isinstance(node, dict):
            ref = None if names else node.get("$ref")
            if isinstance(ref, str):
                yield ref, at
            children = []
            for key, value in node.items():
                if not isinstance(value, dict | list):
                    continue
                if names:
                    children.append((value, (*at, key), False))
                elif key == "$ref" or key in _DATA or str(key).startswith("x-"):
                    continue
                else:
                    children.append((value, (*at, key), key in _NAME_MAPS))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(
                (value, (*at, index), False) for index, value in reversed(list(enumerate(node)))
            )


@dataclass(frozen=True, slots=True)
class Located:
    """A node of one of the documents, the document's URL and the node's JSON pointer."""

    node: Any
    resource: str
    fragment: str

    def where(self, root: str) -> str:
        """The location as shown in messages: ``#/...`` in the root document, else ``url#/...``."""
        return self.fragment if self.resource == root else f"{self.resource}{self.fragment}"


class Documents:
    """Every document of one import by URL, and references followed across them."""

    def __init__(self, root: Any, root_url: str, external: Mapping[str, Any]) -> None:
        self.root_url = resource_of(root_url)
        self.documents: dict[str, Any] = {**external, self.root_url: root}
        self._def_names: dict[tuple[str, str], str] = {}
        self._taken: set[str] = set()

    def absolute(self, base: str, ref: str) -> str:
        """*ref* made absolute against the document *base*."""
        if ref.startswith("#"):
            return resource_of(base) + ref
        try:
            return urljoin(base, ref)
        except ValueError as exc:
            raise OpenAPIError(f"$ref {ref!r} is not a usable URL: {exc}") from None

    def locate(self, base: str, ref: str, where: str) -> Located:
        """The node *ref* (a ``$ref`` in the document *base*, found at *where*) points at."""
        target = self.absolute(base, ref)
        resource, _, fragment = target.partition("#")
        document = self.documents.get(resource)
        if document is None:
            raise OpenAPIError(f"$ref {ref!r} at {where}: the document {resource!r} was not read")
        node = document
        if fragment and fragment != "/":
            if not fragment.startswith("/"):
                raise OpenAPIError(
                    f"$ref {ref!r} at {where}: only JSON pointer fragments (#/...) are supported"
                )
            for raw in fragment[1:].split("/"):
                token = unquote(raw).replace("~1", "/").replace("~0", "~")
                if isinstance(node, dict) and token in node:
                    node = node[token]
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    raise OpenAPIError(f"$ref {ref!r} at {where} points at nothing")
        return Located(node, resource, "#" + unquote(fragment) if fragment else "#")

    def follow(self, node: Any, base: str, where: str) -> Located:
        """*node* with its chain of ``$ref``s followed (an OpenAPI object, not a schema)."""
        seen: set[str] = set()
        located = Located(node, resource_of(base), where)
        while isinstance(located.node, dict) and isinstance(located.node.get("$ref"), str):
            ref = located.node["$ref"]
            key = self.absolute(located.resource, ref)
            if key in seen or len(seen) > 50:
                raise OpenAPIError(f"$ref {ref!r} at {where} is a loop of references")
            seen.add(key)
            located = self.locate(located.resource, ref, located.where(self.root_url))
        return located

    def def_name(self, located: Located) -> str:
        """A stable ``$defs`` name for the schema at *located* (``Pet``, ``io.k8s...Pod``)."""
        key = (located.resource, located.fragment)
        name = self._def_names.get(key)
        if name is not None:
            return name
        tokens = [
            token.replace("~1", "/").replace("~0", "~")
            for token in located.fragment.lstrip("#").split("/")
            if token
        ]
        for marker in (("components", "schemas"), ("definitions",), ("$defs",)):
            size = len(marker)
            if tuple(tokens[:size]) == marker and len(tokens) > size:
                tokens = tokens[size:]
                break
        if located.resource != self.root_url:
            stem = located.resource.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            tokens = [stem, *tokens]
        base = _UNSAFE_NAME.sub("_", "_".join(tokens)).strip("_") or "schema"
        if len(base) > _MAX_DEF_NAME:
            digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:8]
            base = f"{base[: _MAX_DEF_NAME - 9]}_{digest}"
        name = base
        number = 1
        while name in self._taken:
            number += 1
            name = f"{base}_{number}"
        self._taken.add(name)
        self._def_names[key] = name
        return name
