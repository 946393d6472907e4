"""``data_validate``: jsonschema with its regex keywords on RE2 and its work counted.

jsonschema runs ``pattern`` and ``patternProperties`` (also inside ``additionalProperties``
and ``unevaluatedProperties``) on Python's backtracking ``re``, where one pattern such as
``(a+)+$`` holds the GIL for seconds. Those keywords are replaced here by the registry's own
RE2 versions (``LINEAR_TIME_KEYWORDS``), plus an RE2 ``unevaluatedProperties``.
``uniqueItems`` is replaced by a linear check (jsonschema's falls back to comparing every
pair). Every keyword evaluation is counted, so a
small schema whose ``$ref`` chains multiply the work stops at ``ToolLimits.max_validation_steps``;
depth is bounded by ``ToolLimits.max_depth`` before anything runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Final

import jsonschema
import referencing
import referencing.exceptions
from jsonschema import ValidationError
from jsonschema.protocols import Validator

from agentkit.exceptions import LimitExceededError, ToolInputError
from agentkit.tools import LINEAR_TIME_KEYWORDS, compile_pattern
from agentkit_tools.builtin._limits import ToolLimits, check_depth

__all__ = ["validate_data"]

#: Errors reported per call; the rest are not computed.
MAX_ERRORS: Final = 100
#: Longest error message kept (jsonschema quotes the whole offending value).
MAX_MESSAGE_CHARS: Final = 500

Keyword = Callable[[Any, Any, Any, dict[str, Any]], Iterator[ValidationError] | None]


def _matches_any_pattern(schema: Any, key: str) -> bool:
    return any(compile_pattern(p).search(key) for p in schema.get("patternProperties", {}))


def _evaluated_keys(validator: Any, instance: Any, schema: Any) -> set[str]:
    """The keys of *instance* that *schema* evaluates (jsonschema's rules, patterns on RE2)."""
    if not isinstance(schema, dict):
        return set()
    keys: set[str] = set()
    for reference in ("$ref", "$dynamicRef"):
        if (ref := schema.get(reference)) is not None:
            resolved = validator._resolver.lookup(ref)
            child = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(child, instance, resolved.contents)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if (subschema := schema.get(keyword)) is not None:
            keys |= {
                key
                for key, value in instance.items()
                if not any(validator.descend(value, subschema))
            }
    keys |= {key for key in instance if _matches_any_pattern(schema, key)}
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if not any(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            keys |= _evaluated_keys(validator, instance, schema.get("then", {}))
        else:
            keys |= _evaluated_keys(validator, instance, schema.get("else", {}))
    return keys


def _unevaluated_properties(
    validator: Any, unevaluated: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    failing = [
        key
        for key in instance
        if key not in evaluated
        and any(validator.descend(instance[key], unevaluated, path=key, schema_path=key))
    ]
    if failing:
        joined = ", ".join(repr(key) for key in sorted(failing, key=str))
        if unevaluated is False:
            yield ValidationError(f"Unevaluated properties are not allowed ({joined} unexpected)")
        else:
            yield ValidationError(
                "Unevaluated properties are not valid under the given schema "
                f"({joined} unevaluated and invalid)"
            )


def _canonical(value: Any) -> Any:
    """A hashable stand-in equal exactly when JSON Schema calls two values equal."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    return value


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


_REPLACED: Final[dict[str, Keyword]] = {
    **LINEAR_TIME_KEYWORDS,
    "unevaluatedProperties": _unevaluated_properties,
    "uniqueItems": _unique_items,
}


def _counted(keyword: Keyword, budget: list[int], limits: ToolLimits) -> Keyword:
    def run(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        budget[0] -= 1
        if budget[0] < 0:
            raise LimitExceededError(
                f"validation took more than {limits.max_validation_steps:,} steps; simplify "
                "the schema or raise ToolLimits.max_validation_steps"
            )
        return keyword(validator, value, instance, schema) or iter(())

    return run


def _validator_class(schema: dict[str, Any], limits: ToolLimits) -> Any:
    base: Any = jsonschema.validators.validator_for(schema)
    try:
        base.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ToolInputError(f"the schema itself is invalid: {exc.message}") from None
    budget = [limits.max_validation_steps]
    keywords = {
        name: _counted(_REPLACED.get(name, function), budget, limits)
        for name, function in base.VALIDATORS.items()
    }
    return jsonschema.validators.extend(base, keywords)  # type: ignore[no-untyped-call]


def _message(error: ValidationError) -> str:
    message = str(error.message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return message


def validate_data(data: Any, schema: dict[str, Any], *, limits: ToolLimits) -> dict[str, Any]:
    """Check *data* against *schema*; at most MAX_ERRORS errors, each with its path."""
    check_depth(schema, limits, "the schema")
    check_depth(data, limits, "the data")
    # Only references inside the schema resolve: an empty registry retrieves nothing, where
    # jsonschema left to itself would fetch http(s) and file: references.
    registry: referencing.Registry[Any] = referencing.Registry()
    validator: Validator = _validator_class(schema, limits)(schema, registry=registry)
    try:
        found = list(itertools.islice(validator.iter_errors(data), MAX_ERRORS + 1))
    except referencing.exceptions.Unresolvable as exc:
        raise ToolInputError(
            f"the schema refers to {exc!s}, which data_validate does not fetch: only "
            "references inside the schema resolve"
        ) from None
    errors = [
        {"path": "/" + "/".join(str(p) for p in error.absolute_path), "message": _message(error)}
        for error in found[:MAX_ERRORS]
    ]
    return {"valid": not found, "errors": errors}
