"""Loading an OpenAPI document: text, dict, file or URL in; validated, ``$ref``-free dict out.

The document and every external document it references are read here — files from disk,
http(s) documents with httpx — and handed to prance's ``RefResolver`` through its reference
cache, so prance itself never opens a connection. A reference to another origin than the
spec's own is refused unless ``allow_remote_refs`` is set. Relative references are made
absolute first (prance cannot resolve a relative reference inside an http(s) document).
Recursive references are cut at the first repetition and replaced by a marker schema
``{"description": "recursive reference to #/components/schemas/Node (cut)"}``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from agentkit.exceptions import OpenAPIError

__all__ = ["LoadedSpec", "LoadOptions", "load_spec", "parse_text", "pointer"]

_SCHEMES_HTTP = ("http", "https")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to read a spec: the validation switch, remote references, timeout and transport."""

    validate: bool = True
    allow_remote_refs: bool = False
    timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    transport: Any = None


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


def parse_text(text: str, format: str | None = None, *, where: str = "spec") -> Any:
    """Parse JSON or YAML text (*format* ``"json"``, ``"yaml"`` or None to guess).

    Raises:
        OpenAPIError: the text is not valid JSON/YAML.
    """
    kind = (format or "").lower()
    if kind not in ("", "json", "yaml", "yml"):
        raise OpenAPIError(f"unknown spec format {format!r}: use 'yaml', 'json' or None")
    if kind == "json" or (not kind and text.lstrip().startswith(("{", "["))):
        try:
            return json.loads(text)
        except ValueError as exc:
            if kind == "json":
                raise OpenAPIError(f"{where} is not valid JSON: {exc}") from None
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return _plain(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise OpenAPIError(f"{where} is not valid YAML: {exc}") from None


def _plain(value: Any) -> Any:
    """YAML's extras made JSON-like: integer keys (status codes) and dates become strings."""
    if isinstance(value, dict):
        return {_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return key if isinstance(key, str) else str(key)


def _is_url(text: str) -> bool:
    return "\n" not in text and urlsplit(text.strip()).scheme in _SCHEMES_HTTP


def load_spec(spec: Any, format: str | None, options: LoadOptions) -> LoadedSpec:
    """Read *spec* (text, bytes, mapping, path or http(s) URL), resolve refs and validate.

    Raises:
        OpenAPIError: unreadable, unparsable, not OpenAPI, a refused or broken ``$ref``, or
            invalid (the message names the location, e.g. ``#/paths/~1users/get``).
    """
    source_url: str | None = None
    if isinstance(spec, Mapping):
        document: Any = json.loads(json.dumps(spec, default=str))  # a private, JSON-clean copy
        base = (Path.cwd() / "openapi-spec.json").as_uri()
    elif isinstance(spec, Path) or (
        isinstance(spec, str) and "\n" not in spec and not _is_url(spec) and _is_file(spec)
    ):
        path = Path(spec).expanduser().resolve()
        document = parse_text(_read_file(path), format or _format_of(path.name), where=str(path))
        base = path.as_uri()
    elif isinstance(spec, str | bytes):
        text = spec.decode("utf-8", errors="replace") if isinstance(spec, bytes) else spec
        if _is_url(text):
            source_url = text.strip()
            document = parse_text(
                _fetch(source_url, options), format or _format_of(source_url), where=source_url
            )
            base = source_url
        else:
            document = parse_text(text, format)
            base = (Path.cwd() / "openapi-spec.yaml").as_uri()
    else:
        raise OpenAPIError(
            f"a spec is YAML/JSON text, a dict, a file path or an http(s) URL, "
            f"not {type(spec).__name__}"
        )
    if not isinstance(document, dict):
        hint = ""
        if isinstance(spec, str) and "\n" not in spec:
            hint = f" (and {spec!r} is not an existing file or an http(s) URL)"
        raise OpenAPIError(f"the spec must be a mapping, got {type(document).__name__}{hint}")
    version = _version_of(document)
    resolved = _resolve(document, base, options)
    if options.validate:
        _validate(resolved, version)
    return LoadedSpec(resolved, source_url, version)


def _is_file(text: str) -> bool:
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError):
        return False


def _format_of(name: str) -> str | None:
    lowered = urlsplit(name).path.lower() if "://" in name else name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return None


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OpenAPIError(f"cannot read spec file {str(path)!r}: {exc}") from None


def _fetch(url: str, options: LoadOptions) -> str:
    """GET *url* with httpx (the user's transport, if any); body capped at ``max_bytes``."""
    import httpx

    try:
        with (
            httpx.Client(
                transport=options.transport,
                timeout=options.timeout,
                follow_redirects=True,
                trust_env=False,
            ) as client,
            client.stream("GET", url, headers={"Accept": "application/json, */*"}) as response,
        ):
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > options.max_bytes:
                    raise OpenAPIError(f"{url} is over the {options.max_bytes}-byte limit")
                chunks.append(chunk)
            if response.status_code >= 400:
                raise OpenAPIError(f"cannot fetch {url}: HTTP {response.status_code}")
            return b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
    except httpx.HTTPError as exc:
        raise OpenAPIError(f"cannot fetch {url}: {exc}") from None


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


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _resolve(document: dict[str, Any], base: str, options: LoadOptions) -> dict[str, Any]:
    """Load every external document *document* refers to, then let prance inline the refs."""
    from prance.util import url as prance_url
    from prance.util.resolver import RefResolver

    cache: dict[Any, Any] = {}
    pending: list[tuple[str, Any]] = [(base, document)]
    loaded = {_resource(base)}
    while pending:
        url, current = pending.pop()
        for holder, where in _refs(current, ()):
            target = _absolute_ref(url, holder["$ref"], where)
            holder["$ref"] = target
            resource = _resource(target)
            if resource in loaded:
                continue
            loaded.add(resource)
            scheme = urlsplit(resource).scheme
            if scheme in _SCHEMES_HTTP:
                if _origin(resource) != _origin(base) and not options.allow_remote_refs:
                    raise OpenAPIError(
                        f"remote $ref {target!r} at {pointer(where)} refused: pass "
                        "allow_remote_refs=True to fetch references from other hosts"
                    )
                text = _fetch(resource, options)
            elif scheme == "file":
                text = _read_file(Path(prance_url.parse.urlparse(resource).path))
            else:
                raise OpenAPIError(f"unsupported $ref {target!r} at {pointer(where)}")
            external = parse_text(text, _format_of(resource), where=resource)
            cache[(resource, True)] = external
            pending.append((resource, external))

    base_resource = _resource(base)

    def cut(limit: int, parsed_url: Any, recursions: Any = ()) -> dict[str, Any]:
        target = parsed_url.geturl()
        if prance_url.urlresource(parsed_url) == base_resource:
            target = "#" + parsed_url.fragment
        return {"description": f"recursive reference to {target} (cut)", "x-recursive-ref": target}

    resolver = RefResolver(
        document,
        base,
        reference_cache=cache,
        recursion_limit=1,
        recursion_limit_handler=cut,
    )
    try:
        resolver.resolve_references()
    except (LookupError, ValueError) as exc:
        raise OpenAPIError(f"cannot resolve a $ref: {exc}") from None
    resolved: dict[str, Any] = resolver.specs
    return resolved


def _resource(url: str) -> str:
    return url.split("#", 1)[0]


def _absolute_ref(base: str, ref: Any, where: tuple[Any, ...]) -> str:
    if not isinstance(ref, str):
        raise OpenAPIError(f"$ref at {pointer(where)} must be a string, not {type(ref).__name__}")
    if ref.startswith("#"):
        return _resource(base) + ref
    return urljoin(base, ref)


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


def _validate(document: dict[str, Any], version: str) -> None:
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
    except Exception as exc:  # the validator's own failures (an unresolvable ref, ...)
        raise OpenAPIError(f"invalid OpenAPI {version} spec: {exc}") from None
