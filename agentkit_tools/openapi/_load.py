"""Loading an OpenAPI document: text, dict, file or URL in; the documents as written out.

The document and every external document it references are read by
:class:`~agentkit_tools.openapi._read.SpecReader` (regular files under the spec's folder only,
HTTP with every redirect re-checked against the spec's origin and the private-address guard,
one byte budget for the whole import) and parsed within limits on depth and alias expansion
(:mod:`agentkit_tools.openapi._text`). Nothing is inlined: references stay as written and are
followed by :class:`~agentkit_tools.openapi._refs.Documents` from the documents already read,
so no validator or resolver ever opens a file or a connection. The root document is validated
as written against the OpenAPI meta-schema of its version (jsonschema-rs: the whole GitHub API
in well under a second); each problem is kept with its JSON pointer in the source.
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
from agentkit_tools.openapi._refs import Documents, find_refs, pointer, resource_of
from agentkit_tools.openapi._text import SpecLimits, measure, parse_text, too_deep

__all__ = [
    "FetchSettings",
    "LoadOptions",
    "LoadedSpec",
    "Problem",
    "SpecLimits",
    "load_spec",
    "parse_text",
    "pointer",
]

#: Messages longer than this are cut (a failed ``oneOf`` repeats the whole value).
_MESSAGE_WIDTH = 300

_SCHEMES_HTTP = ("http", "https")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to read a spec: the validation switch, size limits and network settings."""

    validate: bool = True
    limits: SpecLimits = field(default_factory=SpecLimits)
    fetch: FetchSettings = field(default_factory=FetchSettings)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something invalid in the spec: its JSON pointer in the source document, and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"at {self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """A spec as written, the URL it came from (None for text and dicts) and its version.

    ``documents`` holds it and every document it references; ``problems`` what validation
    found, each with its location in the source (empty when not validated).
    """

    document: dict[str, Any]
    source_url: str | None
    version: str
    documents: Documents
    problems: tuple[Problem, ...] = ()


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
    documents = _read_references(document, base, reader)
    for url, each in documents.documents.items():
        _refuse_foreign_refs(each, url)
    problems = _broken_references(documents)
    if options.validate:
        problems += _validate(document, version)
    return LoadedSpec(document, source_url, version, documents, problems)


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


def _read_references(document: dict[str, Any], base: str, reader: SpecReader) -> Documents:
    """Read every document *document* refers to (transitively), within the reader's budget."""
    external: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = [(base, document)]
    base_resource = resource_of(base)
    loaded = {base_resource}
    while pending:
        url, current = pending.pop()
        for ref, where in find_refs(current):
            location = pointer(where) if url == base else f"{pointer(where)} of {url}"
            target = _absolute_ref(url, ref, location)
            resource = resource_of(target)
            if resource in loaded:
                continue
            loaded.add(resource)
            reader.count_reference(location)
            scheme = urlsplit(resource).scheme
            if scheme in _SCHEMES_HTTP:
                text, _final = reader.fetch(resource, reference=True, where=location)
            elif scheme == "file":
                text = reader.read_ref_file(resource, location)
            else:
                raise OpenAPIError(f"unsupported $ref {target!r} at {location}")
            parsed = parse_text(text, _format_of(resource), where=resource, limits=reader.limits)
            if not isinstance(parsed, dict | list):
                raise OpenAPIError(
                    f"$ref {target!r} at {location}: the document is not a mapping or a list"
                )
            external[resource] = parsed
            pending.append((resource, parsed))
    return Documents(document, base, external)


def _broken_references(documents: Documents) -> tuple[Problem, ...]:
    """A problem for each reference that points at nothing, at the reference's location."""
    problems: list[Problem] = []
    checked: set[str] = set()
    for url, document in documents.documents.items():
        for ref, where in find_refs(document):
            target = documents.absolute(url, ref)
            if target in checked:
                continue
            location = pointer(where) if url == documents.root_url else f"{url}{pointer(where)}"
            try:
                documents.locate(url, ref, location)
            except OpenAPIError:
                problems.append(Problem(location, f"$ref {ref!r} points at nothing"))
            else:
                checked.add(target)
    return tuple(problems)


def _refuse_foreign_refs(document: Any, url: str) -> None:
    """Refuse a ``$dynamicRef``/``$recursiveRef`` to anything but a fragment of its schema.

    jsonschema would retrieve any other target itself when a tool's arguments are checked.
    """
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
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


def _absolute_ref(base: str, ref: str, where: str) -> str:
    if ref.startswith("#"):
        return resource_of(base) + ref
    try:
        return urljoin(base, ref)
    except ValueError as exc:
        raise OpenAPIError(f"$ref {ref!r} at {where} is not a usable URL: {exc}") from None


_VALIDATORS: dict[str, Any] = {}


def _meta_validator(version: str) -> Any:
    """The compiled meta-schema validator for an OpenAPI version (2.0, 3.0 or 3.1)."""
    family = "2.0" if version == "2.0" else version[:3]
    validator = _VALIDATORS.get(family)
    if validator is None:
        import jsonschema_rs
        from openapi_spec_validator import schemas

        source = {"2.0": schemas.schema_v2, "3.0": schemas.schema_v30}.get(
            family, schemas.schema_v31
        )
        validator = jsonschema_rs.validator_for(json.loads(json.dumps(dict(source))))
        _VALIDATORS[family] = validator
    return validator


def _validate(document: dict[str, Any], version: str) -> tuple[Problem, ...]:
    """Check *document* as written against its version's meta-schema; every problem found.

    A value that fits none of a ``oneOf``'s branches is reported at its own location with a
    short message, not with the whole value repeated.
    """
    validator = _meta_validator(version)
    problems: dict[str, Problem] = {}
    try:
        errors = list(validator.iter_errors(document))
    except RecursionError:  # pragma: no cover - depth is checked while parsing
        raise OpenAPIError("the spec is nested too deep to validate") from None
    for found in errors:
        error = _closest(found)
        location = pointer(error.instance_path)
        message = str(error.message)
        if message.startswith(("{", "[")) and len(message) > _MESSAGE_WIDTH:
            kind = type(error.kind).__name__.removeprefix("ValidationErrorKind_")
            message = f"not a valid OpenAPI {version} object here ({kind})"
        elif len(message) > _MESSAGE_WIDTH:
            message = message[: _MESSAGE_WIDTH - 3] + "..."
        problems.setdefault(location, Problem(location, message))
    return tuple(problems.values())


def _closest(error: Any) -> Any:
    """For a value that fits no branch of a ``oneOf``/``anyOf``: the deepest reason why.

    Branches that only say a ``$ref`` is missing (every object may also be a reference) are
    passed over.
    """
    for _hop in range(100):
        branches = getattr(error.kind, "context", None)
        if not branches:
            return error
        candidates = [
            sub
            for branch in branches
            for sub in branch
            if not (type(sub.kind).__name__.endswith("Required") and '"$ref"' in sub.message)
        ]
        if not candidates:
            return error
        error = max(candidates, key=lambda sub: len(sub.instance_path))
    return error
