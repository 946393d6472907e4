"""Loading an OpenAPI document: text, dict, file or URL in; validated, ``$ref``-free dict out.

The document and every external document it references are read by
:class:`~agentkit_tools.openapi._read.SpecReader` (regular files under the spec's folder only,
HTTP with every redirect re-checked against the spec's origin and the private-address guard,
one byte budget for the whole import) and parsed within limits on depth and alias expansion
(:mod:`agentkit_tools.openapi._text`). prance's ``RefResolver`` then inlines the references
from a cache that holds every document already read; a miss raises instead of letting prance
fetch anything, and openapi-spec-validator only ever sees the resolved, ``$ref``-free document,
so neither opens a file or a connection. Relative references are made absolute first (prance
cannot resolve a relative reference inside an http(s) document). Recursive references are cut
at the first repetition and replaced by a marker schema
``{"description": "recursive reference to #/components/schemas/Node (cut)"}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from agentkit_tools.openapi._errors import OpenAPIError
from agentkit_tools.openapi._read import FetchSettings, SpecReader
from agentkit_tools.openapi._text import SpecLimits, measure, parse_text, too_deep

__all__ = [
    "FetchSettings",
    "LoadOptions",
    "LoadedSpec",
    "SpecLimits",
    "load_spec",
    "parse_text",
    "pointer",
]

_SCHEMES_HTTP = ("http", "https")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to read a spec: the validation switch, size limits and network settings."""

    validate: bool = True
    limits: SpecLimits = field(default_factory=SpecLimits)
    fetch: FetchSettings = field(default_factory=FetchSettings)


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """A resolved spec, the URL it came from (None for text and dicts) and its version."""

    document: dict[str, Any]
    source_url: str | None
    version: str


def pointer(tokens: Any) -> str:
    """A JSON pointer (``#/paths/~1users/get``) from path tokens."""
    parts = [str(token).replace("~", "~0").replace("/", "~1") for token in tokens]
    return "#/" + "/".join(parts) if parts else "#"


def _is_url(text: str) -> bool:
    return "\n" not in text and urlsplit(text.strip()).scheme in _SCHEMES_HTTP


def load_spec(spec: Any, format: str | None, options: LoadOptions) -> LoadedSpec:
    """Read *spec* (text, bytes, mapping, path or http(s) URL), resolve refs and validate.

    Raises:
        OpenAPILimitError: over ``max_spec_bytes``, ``max_ref_documents``, ``max_spec_nodes``
            or ``max_spec_depth`` (the message names the option).
        OpenAPIError: unreadable, unparsable, not OpenAPI, a refused or broken ``$ref``, or
            invalid (the message names the location, e.g. ``#/paths/~1users/get``).
    """
    limits = options.limits
    reader = SpecReader(limits, options.fetch)
    source_url: str | None = None
    text_base = (Path.cwd() / "openapi-spec.json").as_uri()
    if isinstance(spec, Mapping):
        measure(spec, where="the spec", limits=limits)
        try:  # a private, JSON-clean copy
            document: Any = json.loads(json.dumps(spec, default=str))
        except (TypeError, ValueError) as exc:
            raise OpenAPIError(f"the spec cannot be read as JSON data: {exc}") from None
        except RecursionError:
            raise too_deep("the spec", limits, stack=True) from None
        base = text_base
    elif isinstance(spec, str | bytes) and len(spec) > limits.max_spec_bytes:
        raise reader.over_budget("the spec text")
    elif isinstance(spec, Path) or (
        isinstance(spec, str) and "\n" not in spec and not _is_url(spec) and _is_file(spec)
    ):
        path = Path(spec).expanduser()
        text = reader.read_spec_file(str(path))
        document = parse_text(text, format or _format_of(path.name), where=str(path), limits=limits)
        base = Path(os.path.realpath(path)).as_uri()
    elif isinstance(spec, str | bytes):
        text = spec.decode("utf-8", errors="replace") if isinstance(spec, bytes) else spec
        if _is_url(text):
            source_url = text.strip()
            body, _final = reader.fetch(source_url, reference=False, where="the spec")
            document = parse_text(
                body, format or _format_of(source_url), where=source_url, limits=limits
            )
            base = source_url
        else:
            reader.take(len(text), "the spec text")
            document = parse_text(text, format, where="the spec", limits=limits)
            base = text_base
    else:
        raise OpenAPIError(
            f"a spec is YAML/JSON text, a dict, a file path or an http(s) URL, "
            f"not {type(spec).__name__}"
        )
    if not isinstance(document, dict):
        hint = ""
        if isinstance(spec, str) and "\n" not in spec:
            shown = spec if len(spec) <= 200 else spec[:200] + "..."
            hint = f" (and {shown!r} is not an existing file or an http(s) URL)"
        raise OpenAPIError(f"the spec must be a mapping, got {type(document).__name__}{hint}")
    version = _version_of(document)
    resolved = _resolve(document, base, reader)
    measure(resolved, where="the spec with its $refs resolved", limits=limits)
    _refuse_leftover_refs(resolved)
    if options.validate:
        _validate(resolved, version, limits)
    return LoadedSpec(resolved, source_url, version)


def _is_file(text: str) -> bool:
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):  # RuntimeError: "~user" with no home
        return False


def _format_of(name: str) -> str | None:
    lowered = urlsplit(name).path.lower() if "://" in name else name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return None


def _version_of(document: Mapping[str, Any]) -> str:
    version = document.get("openapi", document.get("swagger"))
    if not isinstance(version, str):
        raise OpenAPIError(
            "not an OpenAPI document: no 'openapi' (3.x) or 'swagger' (2.0) version string at #"
        )
    if not (version.startswith(("3.0", "3.1")) or version == "2.0"):
        raise OpenAPIError(
            f"unsupported OpenAPI version {version!r} at #/openapi (use 2.0, 3.0.x or 3.1.x)"
        )
    return version


class _ReadOnlyCache(dict[Any, Any]):
    """prance's reference cache, holding every document the loader read.

    prance fetches a URL itself when its cache has no entry; here a miss is an error, so it
    never opens a file or a connection.
    """

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            resource = key[0] if isinstance(key, tuple) and key else key
            raise OpenAPIError(
                f"cannot resolve a $ref into {resource!r}: it was not read"
            ) from None


def _resolve(document: dict[str, Any], base: str, reader: SpecReader) -> dict[str, Any]:
    """Read every external document *document* refers to, then let prance inline the refs."""
    from prance.util import url as prance_url
    from prance.util.resolver import RefResolver

    cache = _ReadOnlyCache()
    pending: list[tuple[str, Any]] = [(base, document)]
    base_resource = _resource(base)
    loaded = {base_resource}
    while pending:
        url, current = pending.pop()
        for holder, where in _refs(current, ()):
            target = _absolute_ref(url, holder["$ref"], where)
            holder["$ref"] = target
            resource = _resource(target)
            if resource in loaded:
                continue
            loaded.add(resource)
            location = pointer(where) if url == base else f"{pointer(where)} of {url}"
            reader.count_reference(location)
            scheme = urlsplit(resource).scheme
            if scheme in _SCHEMES_HTTP:
                text, _final = reader.fetch(resource, reference=True, where=location)
            elif scheme == "file":
                text = reader.read_ref_file(resource, location)
            else:
                raise OpenAPIError(f"unsupported $ref {target!r} at {location}")
            external = parse_text(text, _format_of(resource), where=resource, limits=reader.limits)
            if not isinstance(external, dict | list):
                raise OpenAPIError(
                    f"$ref {target!r} at {location}: the document is not a mapping or a list"
                )
            cache[(resource, True)] = external
            pending.append((resource, external))

    def cut(limit: int, parsed_url: Any, recursions: Any = ()) -> dict[str, Any]:
        target = parsed_url.geturl()
        if prance_url.urlresource(parsed_url) == base_resource:
            target = "#" + parsed_url.fragment
        return {"description": f"recursive reference to {target} (cut)", "x-recursive-ref": target}

    try:
        resolver = RefResolver(
            document,
            base,
            reference_cache=cache,
            recursion_limit=1,
            recursion_limit_handler=cut,
        )
        resolver.resolve_references()
    except OpenAPIError:
        raise
    except RecursionError:
        raise too_deep("the spec", reader.limits, stack=True) from None
    except (LookupError, ValueError, TypeError) as exc:
        raise OpenAPIError(f"cannot resolve a $ref: {exc}") from None
    resolved: dict[str, Any] = resolver.specs
    return resolved


def _refuse_leftover_refs(document: Any) -> None:
    """Refuse anything a JSON Schema validator would fetch; each shared node is seen once.

    A ``$ref`` left over, or a ``$dynamicRef``/``$recursiveRef`` to anything but a fragment
    of its own schema, would make jsonschema (in the validator, or later when a tool's
    arguments are checked) retrieve the URL itself.
    """
    seen: set[int] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                raise OpenAPIError(f"the $ref {node['$ref']!r} could not be resolved")
            for keyword in ("$dynamicRef", "$recursiveRef"):
                target = node.get(keyword)
                if isinstance(target, str) and not target.startswith("#"):
                    raise OpenAPIError(
                        f"{keyword} {target!r} refused: only a fragment of the same schema "
                        f"(such as '#node') is allowed, never another document"
                    )
            stack.extend(value for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            stack.extend(value for value in node if isinstance(value, dict | list))


def _resource(url: str) -> str:
    return url.split("#", 1)[0]


def _absolute_ref(base: str, ref: Any, where: tuple[Any, ...]) -> str:
    if not isinstance(ref, str):
        raise OpenAPIError(f"$ref at {pointer(where)} must be a string, not {type(ref).__name__}")
    if ref.startswith("#"):
        return _resource(base) + ref
    try:
        return urljoin(base, ref)
    except ValueError as exc:
        raise OpenAPIError(f"$ref {ref!r} at {pointer(where)} is not a usable URL: {exc}") from None


def _refs(node: Any, where: tuple[Any, ...]) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Every mapping holding a ``$ref`` (and its location), iteratively."""
    found: list[tuple[dict[str, Any], tuple[Any, ...]]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(node, where)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, dict):
            if "$ref" in current:
                found.append((current, at))
            stack.extend((value, (*at, key)) for key, value in current.items() if key != "$ref")
        elif isinstance(current, list):
            stack.extend((value, (*at, index)) for index, value in enumerate(current))
    return found


def _validate(document: dict[str, Any], version: str, limits: SpecLimits) -> None:
    """Check *document* with openapi-spec-validator; the error names the wrong location."""
    from jsonschema.exceptions import ValidationError, best_match
    from openapi_spec_validator import validate

    try:
        validate(document)
    except ValidationError as exc:
        # For "not valid under any of the given schemas", the closest alternative says more,
        # unless it only says that a $ref is missing (every object may also be a reference).
        useful = [
            error
            for error in exc.context or ()
            if not (error.validator == "required" and "'$ref'" in error.message)
        ]
        closest = best_match(useful) if useful else None
        message = exc.message if len(exc.message) < 200 else exc.message[:197] + "..."
        where = pointer(exc.absolute_path)
        if closest is not None:
            where, message = pointer(closest.absolute_path), closest.message
        raise OpenAPIError(f"invalid OpenAPI {version} spec at {where}: {message}") from None
    except RecursionError:
        raise too_deep("the spec", limits, stack=True) from None
    except Exception as exc:  # the validator's own failures (an unresolvable ref, ...)
        raise OpenAPIError(f"invalid OpenAPI {version} spec: {exc}") from None
