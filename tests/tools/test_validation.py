"""The fast validation path gives jsonschema's answers (agentkit.tools._validation)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from agentkit import ToolRegistrationError
from agentkit.tools._validation import SchemaValidator, compile_schema, json_pointer

DRAFT7 = "http://json-schema.org/draft-07/schema#"

#: Schemas the fast path handles, shaped like real tool parameters.
FAST_SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "description": "the text"},
            "max_length": {"type": "integer", "minimum": 1, "maximum": 10_000},
        },
        "required": ["text"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "properties": {
            "mode": {"enum": ["fast", "slow", 1, None, True]},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "step": {"type": "number", "multipleOf": 0.5},
            "count": {"type": "integer", "multipleOf": 3},
        },
        "required": ["mode"],
    },
    {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                "minItems": 1,
                "maxItems": 3,
            },
            "note": {"type": ["string", "null"], "default": None},
            "when": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        },
        "required": ["tags"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "op": {"const": "eq"},
                    "value": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "required": ["field", "op"],
                "additionalProperties": {"type": "boolean"},
                "minProperties": 2,
                "maxProperties": 4,
            },
            "flag": {"not": {"type": "string"}},
            "both": {"allOf": [{"type": "integer"}, {"minimum": 0}]},
        },
    },
    {
        "$schema": DRAFT7,
        "type": "object",
        "properties": {
            "rows": {"type": "array", "items": {"type": "object", "required": ["id"]}},
            "limit": {"type": "integer", "exclusiveMinimum": 0},
            "never": False,
            "anything": True,
        },
        "required": ["rows"],
    },
]

#: JSON-like values, with the numbers where Python and JSON Schema disagree.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 1.0, 0.5, -0.0, 3, 6.0, 1e300, 2**53 + 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["", "fast", "eq", "abc", "ABC", "2024-01-01T00:00:00Z"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["text", "max_length", "mode", "tags", "id", "field", "op", "value", "x"]
            )
            | st.text(max_size=3),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def _first_jsonschema_error(validator: SchemaValidator, instance: Any) -> str | None:
    error = next(validator.jsonschema_validator.iter_errors(instance), None)
    return None if error is None else json_pointer(list(error.absolute_path))


def _all_jsonschema_pointers(validator: SchemaValidator, instance: Any) -> set[str]:
    return {
        json_pointer(list(error.absolute_path))
        for error in validator.jsonschema_validator.iter_errors(instance)
    }


def _assert_agrees(validator: SchemaValidator, instance: Any, *, exact: bool = True) -> None:
    violation = validator.first_error(instance)
    expected = _first_jsonschema_error(validator, instance)
    assert (violation is None) == (expected is None), (instance, violation, expected)
    if violation is not None:
        if exact:
            assert violation.pointer == expected, (instance, violation, expected)
        else:
            # jsonschema reports a `false` subschema's error at its parent (an empty path);
            # ours points at the offending value itself, so a more specific pointer is fine.
            pointers = _all_jsonschema_pointers(validator, instance)
            assert any(
                violation.pointer == pointer or violation.pointer.startswith(pointer + "/")
                for pointer in pointers
            ), (violation.pointer, pointers)


def candidates(schema: Any) -> st.SearchStrategy[Any]:
    """Instances shaped by *schema*, mostly valid: hypothesis-jsonschema for scalar and array
    schemas, our own composition for objects.

    (hypothesis-jsonschema 0.23's object generator uses a Hypothesis internal, ``many.more``,
    that current Hypothesis no longer has, so objects are built here from their properties and
    every value below them still comes from hypothesis-jsonschema.)
    """
    if not isinstance(schema, dict):
        return json_values if schema else st.nothing()
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = [name for name in schema.get("required", ()) if name not in properties]
        return st.fixed_dictionaries(
            {
                **{
                    name: candidates(sub)
                    for name, sub in properties.items()
                    if name in schema.get("required", ())
                },
                **dict.fromkeys(required, json_values),
            },
            optional={
                name: candidates(sub)
                for name, sub in properties.items()
                if name not in schema.get("required", ())
            },
        )
    if kind == "array" and isinstance(schema.get("items"), dict | bool):
        return st.lists(
            candidates(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=max(schema.get("maxItems", 3), schema.get("minItems", 0)),
        )
    scalar_types = {"string", "integer", "number", "boolean", "null"}
    kinds = {kind} if isinstance(kind, str) else set(kind or ())
    if kinds and kinds <= scalar_types and not {"anyOf", "oneOf", "allOf", "not"} & set(schema):
        return from_schema(schema)
    return json_values


def valid_instances(schema: Any) -> st.SearchStrategy[Any]:
    """Instances jsonschema accepts for *schema*."""
    return candidates(schema).filter(compile_schema(schema).jsonschema_validator.is_valid)


@st.composite
def valid_and_invalid(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A valid instance, a mutation of one, or an arbitrary JSON value."""
    choice = draw(st.integers(0, 2))
    if choice == 2:
        return draw(json_values)
    instance = draw(valid_instances(schema))
    if choice == 1 and isinstance(instance, dict):
        key = draw(st.sampled_from([*instance, "x", "max_length", "tags", "mode"]))
        instance[key] = draw(json_values)
    return instance


@pytest.mark.parametrize("schema", FAST_SCHEMAS, ids=range(len(FAST_SCHEMAS)))
def test_common_tool_schemas_take_the_fast_path(schema: dict[str, Any]) -> None:
    """Object schemas built from the common keywords compile to the fast path."""
    assert compile_schema(schema).fast


@pytest.mark.parametrize("schema", FAST_SCHEMAS, ids=range(len(FAST_SCHEMAS)))
@given(data=st.data())
def test_fast_path_agrees_with_jsonschema(schema: dict[str, Any], data: st.DataObject) -> None:
    """On valid, mutated and arbitrary instances the fast path accepts and rejects as jsonschema
    does, and points at the same first error."""
    validator = compile_schema(schema)
    instance = data.draw(valid_and_invalid(schema))
    # additionalProperties with a schema: jsonschema visits the extras in set order.
    _assert_agrees(validator, instance, exact=schema is not FAST_SCHEMAS[3])


@pytest.mark.parametrize("schema", FAST_SCHEMAS, ids=range(len(FAST_SCHEMAS)))
@given(data=st.data())
def test_generated_valid_instances_are_accepted(
    schema: dict[str, Any], data: st.DataObject
) -> None:
    """Every instance hypothesis-jsonschema generates from a schema passes the fast path."""
    instance = data.draw(valid_instances(schema))
    assert compile_schema(schema).first_error(instance) is None


# -- random schemas ------------------------------------------------------------------------------

_numbers = st.one_of(st.integers(-5, 5), st.sampled_from([0.5, 1.0, 2.5, -1.5]))
_leaf_keywords: dict[str, st.SearchStrategy[Any]] = {
    "type": st.one_of(
        st.sampled_from(["string", "integer", "number", "object", "array", "boolean", "null"]),
        st.lists(
            st.sampled_from(["string", "integer", "number", "null", "boolean"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ),
    "enum": st.lists(json_scalars, min_size=1, max_size=4),
    "const": json_scalars,
    "minimum": _numbers,
    "maximum": _numbers,
    "exclusiveMinimum": _numbers,
    "exclusiveMaximum": _numbers,
    "multipleOf": st.sampled_from([1, 2, 3, 0.5, 0.25]),
    "minLength": st.integers(0, 3),
    "maxLength": st.integers(0, 3),
    "pattern": st.sampled_from(["^a", "b$", "[0-9]", "^$"]),
    "minItems": st.integers(0, 2),
    "maxItems": st.integers(0, 2),
    "minProperties": st.integers(0, 2),
    "maxProperties": st.integers(0, 2),
    "required": st.lists(st.sampled_from(["a", "b", "x"]), max_size=2, unique=True),
    "description": st.text(max_size=5),
    "format": st.sampled_from(["date", "email"]),
}


def _keyword_schemas(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    structural: dict[str, st.SearchStrategy[Any]] = {
        "properties": st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3),
        "additionalProperties": children,
        "items": children,
        "anyOf": st.lists(children, min_size=1, max_size=3),
        "allOf": st.lists(children, min_size=1, max_size=3),
        "oneOf": st.lists(children, min_size=1, max_size=3),
        "not": children,
    }
    keywords = {**_leaf_keywords, **structural}
    return st.lists(st.sampled_from(sorted(keywords)), max_size=4, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: keywords[name] for name in names})
    )


random_schemas = st.recursive(
    st.one_of(st.booleans(), _keyword_schemas(st.just(True))),
    _keyword_schemas,
    max_leaves=6,
)

random_instances = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c", "x"]), children, max_size=3),
    ),
    max_leaves=8,
)


@given(schema=random_schemas, instances=st.lists(random_instances, min_size=1, max_size=5))
def test_random_schemas_agree_with_jsonschema(schema: Any, instances: list[Any]) -> None:
    """For schemas made of any mix of the supported keywords, the fast path accepts exactly what
    jsonschema accepts, and its error points where one of jsonschema's errors does."""
    validator = compile_schema(schema)
    assert validator.fast
    for instance in instances:
        _assert_agrees(validator, instance, exact=False)


@given(schema=random_schemas, data=st.data())
def test_random_schemas_agree_on_instances_shaped_by_the_schema(schema: Any, data: Any) -> None:
    """Instances built from a random schema (mostly valid ones) get jsonschema's answer too."""
    validator = compile_schema(schema)
    for _ in range(3):
        _assert_agrees(validator, data.draw(candidates(schema)), exact=False)


# -- specific semantics ----------------------------------------------------------------------------


def test_integer_and_boolean_follow_json_schema_not_python() -> None:
    """1.0 is an integer, True is neither an integer nor equal to 1, as in jsonschema."""
    integer = compile_schema({"type": "integer"})
    assert integer.is_valid(1.0)
    assert not integer.is_valid(True)
    assert not integer.is_valid(1.5)
    assert not compile_schema({"enum": [1]}).is_valid(True)
    assert compile_schema({"enum": [1]}).is_valid(1.0)
    assert not compile_schema({"const": False}).is_valid(0)
    assert not compile_schema({"type": "number"}).is_valid(False)


def test_error_pointer_names_the_offending_property() -> None:
    """A bad nested value is reported with an escaped JSON pointer and a clear message."""
    schema = {
        "type": "object",
        "properties": {
            "a/b": {"type": "array", "items": {"type": "object", "properties": {"n~": {}}}},
            "max_length": {"type": "integer", "minimum": 1},
        },
    }
    validator = compile_schema(schema)
    violation = validator.first_error({"a/b": [{}, "x"], "max_length": 1})
    assert violation is not None
    assert violation.pointer == "/a~1b/1"
    assert "not of type 'object'" in violation.message
    violation = validator.first_error({"max_length": 0})
    assert violation is not None
    assert violation.pointer == "/max_length"
    assert "minimum of 1" in violation.message


def test_required_and_additional_properties_point_at_the_object() -> None:
    """Missing and unexpected properties are errors of the object itself, as in jsonschema."""
    validator = compile_schema(FAST_SCHEMAS[0])
    missing = validator.first_error({})
    assert missing is not None
    assert (missing.pointer, missing.message) == ("", "'text' is a required property")
    extra = validator.first_error({"text": "t", "colour": 1})
    assert extra is not None
    assert extra.pointer == ""
    assert "'colour' was unexpected" in extra.message


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {}}},
        {"type": "array", "uniqueItems": True},
        {"type": "object", "patternProperties": {"^x": {"type": "integer"}}},
        {"$schema": DRAFT7, "type": "array", "items": [{"type": "integer"}]},
        {"if": {"type": "string"}, "then": {"minLength": 2}},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"},
    ],
)
def test_other_keywords_fall_back_to_jsonschema(schema: dict[str, Any]) -> None:
    """Schemas with keywords outside the fast path are validated by jsonschema itself."""
    validator = compile_schema(schema)
    assert not validator.fast
    for instance in ([1, 1], [1, "a"], {"x1": "no"}, "a", 1.5, {"a": 2}):
        assert validator.is_valid(instance) == validator.jsonschema_validator.is_valid(instance)


def test_fallback_reports_jsonschema_error_pointer() -> None:
    """A fallback schema's error pointer comes from jsonschema's first error."""
    validator = compile_schema(
        {"type": "object", "properties": {"ids": {"type": "array", "uniqueItems": True}}}
    )
    violation = validator.first_error({"ids": [1, 1]})
    assert violation is not None
    assert violation.pointer == "/ids"
    assert "non-unique" in violation.message


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "strng"}, "/type"),
        ({"type": "object", "properties": {"n": {"minimum": "1"}}}, "/properties/n/minimum"),
        ({"type": "string", "pattern": "("}, "/pattern"),
        ({"$schema": "https://example.invalid/schema", "type": "object"}, "unknown $schema"),
        ("not a schema", "must be a JSON Schema object"),
    ],
)
def test_invalid_schemas_are_refused_with_the_place(schema: Any, fragment: str) -> None:
    """An invalid schema raises ToolRegistrationError naming where it is wrong."""
    with pytest.raises(ToolRegistrationError) as caught:
        compile_schema(schema, what="parameters of tool 't'")
    assert fragment in str(caught.value)
    assert "parameters of tool 't'" in str(caught.value)


def test_draft07_schemas_are_accepted_and_checked_by_their_draft() -> None:
    """A draft-07 schema validates by draft-07 rules (its own metaschema, legacy items)."""
    validator = compile_schema({"$schema": DRAFT7, "type": "array", "items": False})
    assert validator.fast
    assert validator.jsonschema_validator.META_SCHEMA == jsonschema.Draft7Validator.META_SCHEMA
    violation = validator.first_error([1])
    assert violation is not None
    assert violation.pointer == "/0"
    with pytest.raises(ToolRegistrationError):
        compile_schema({"$schema": DRAFT7, "type": "object", "required": "a"})


def test_unresolvable_reference_is_a_violation_not_a_crash() -> None:
    """A schema whose $ref cannot be resolved reports a violation instead of raising."""
    validator = compile_schema({"type": "object", "properties": {"a": {"$ref": "#/$defs/nope"}}})
    violation = validator.first_error({"a": 1})
    assert violation is not None
    assert "could not be applied" in violation.message


# -- patterns on RE2, bounded instances and messages ---------------------------------------------

CATASTROPHIC = "(a+)+$"
ATTACK = "a" * 40 + "!"


_STRING = {"type": "object", "properties": {"s": {"type": "string", "pattern": CATASTROPHIC}}}
_REF = {"$defs": {"s": {"pattern": CATASTROPHIC}}, "properties": {"s": {"$ref": "#/$defs/s"}}}
_KEYS = {"type": "object", "patternProperties": {CATASTROPHIC: {"type": "integer"}}}
_CLOSED = {"patternProperties": {CATASTROPHIC: True}, "additionalProperties": False}
_NAMES = {"type": "object", "propertyNames": {"pattern": CATASTROPHIC}}


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        (_STRING, {"s": ATTACK}, False),
        (_STRING, {"s": "aaaa"}, True),
        (_REF, {"s": ATTACK}, False),
        (_REF, {"s": "aaaa"}, True),
        (_KEYS, {ATTACK: "not checked"}, True),
        (_KEYS, {"aaaa": "checked"}, False),
        (_CLOSED, {ATTACK: 1}, False),
        (_CLOSED, {"aaaa": 1}, True),
        (_NAMES, {ATTACK: 1}, False),
        (_NAMES, {"aaaa": 1}, True),
    ],
)
def test_backtracking_patterns_answer_on_both_paths(
    schema: dict[str, Any], instance: Any, valid: bool
) -> None:
    """A pattern that backtracks exponentially in re gets RE2's answer, on either path."""
    assert compile_schema(schema).is_valid(instance) is valid


@pytest.mark.parametrize(
    ("schema", "place"),
    [
        ({"type": "string", "pattern": "(a)\\1"}, "/pattern"),
        ({"properties": {"x": {"pattern": "(?=a)"}}}, "/properties/x/pattern"),
        ({"patternProperties": {"(?<!a)b": True}}, "/patternProperties"),
        ({"$defs": {"d": {"pattern": "\\C"}}, "$ref": "#/$defs/d"}, "/$defs/d/pattern"),
        ({"items": [{"pattern": "(?P=n)"}], "$schema": DRAFT7}, "/items/0/pattern"),
        ({"anyOf": [{"pattern": "a{2000}"}]}, "/anyOf/0/pattern"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_at_registration(
    schema: dict[str, Any], place: str
) -> None:
    """Backreferences, lookaround and the like are refused with the pattern's place."""
    with pytest.raises(ToolRegistrationError, match=r"RE2|repetition|not supported") as caught:
        compile_schema(schema, what="parameters of tool 't'")
    assert place in str(caught.value)


def test_pattern_like_data_is_not_taken_for_a_pattern() -> None:
    """A "pattern" inside enum, const, default or examples is data, not a regular expression."""
    data = {"pattern": "(a)\\1"}
    schema = {"enum": [data], "const": data, "default": data, "examples": [data]}
    assert compile_schema(schema).is_valid(data)


def test_pattern_properties_with_unevaluated_properties_is_refused() -> None:
    """That combination would match patterns with re inside jsonschema, so it is refused."""
    schema = {"patternProperties": {"^a": True}, "unevaluatedProperties": False}
    with pytest.raises(ToolRegistrationError, match="unevaluatedProperties"):
        compile_schema(schema)


@given(st.text(alphabet="ab()[]{}+*?|\\^$.,:=!<>P1-9dwsC", max_size=20))
def test_any_pattern_compiles_or_is_refused_cleanly(pattern: str) -> None:
    """A schema with any pattern string compiles or raises ToolRegistrationError, nothing else."""
    schema = {"type": "object", "properties": {"x": {"type": "string", "pattern": pattern}}}
    try:
        validator = compile_schema(schema)
    except ToolRegistrationError:
        return
    for text in (ATTACK, "\ud800" + ATTACK, ""):
        violation = validator.first_error({"x": text})
        assert violation is None or violation.pointer == "/x"


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_deep_instances_are_a_violation_not_a_recursion_error() -> None:
    """An instance nested 100,000 deep gives a violation on both paths, never RecursionError."""
    deep = _nested(100_000)
    recursive = {"$defs": {"n": {"items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}
    violation = compile_schema(recursive).first_error(deep)
    assert violation is not None
    assert "nested more than" in violation.message
    fast = compile_schema({"type": "object"})
    assert fast.fast
    wrong = fast.first_error(deep)
    assert wrong is not None
    assert len(wrong.message) < 300


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"type": "string", "maxLength": 3}, "x" * 1_000_000),
        ({"type": "integer"}, [10**100_000]),
        ({"type": "object", "additionalProperties": False}, {f"k{i}": i for i in range(100_000)}),
        ({"not": {"type": "array"}}, list(range(100_000))),
        ({"type": "integer", "multipleOf": 0.5}, 10**400),
    ],
)
def test_messages_about_huge_values_stay_short(schema: dict[str, Any], instance: Any) -> None:
    """A violation by a huge value is reported in a few hundred characters, without raising."""
    validator = compile_schema(schema)
    violation = validator.first_error(instance)
    if violation is not None:
        assert len(violation.message) < 1_000
    reference = compile_schema({**schema, "$comment": "x", "uniqueItems": False})
    assert not reference.fast
    other = reference.first_error(instance)
    assert (other is None) == (violation is None)


@pytest.mark.parametrize("draft", [None, DRAFT7])
def test_patterns_are_checked_as_re2_patterns_not_re_ones(draft: str | None) -> None:
    """A pattern in RE2's syntax that re lacks (\\pN) is accepted at registration and applied."""
    schema: dict[str, Any] = {"properties": {"n": {"type": "string", "pattern": "^\\pN+$"}}}
    if draft:
        schema["$schema"] = draft
    validator = compile_schema(schema)
    assert validator.is_valid({"n": "123"})
    assert not validator.is_valid({"n": "12a"})


def test_remote_refs_are_never_fetched() -> None:
    """A schema's remote $ref is not fetched: a counting loopback server gets no request."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Counting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/schema.json"
        validator = compile_schema({"type": "object", "properties": {"a": {"$ref": url}}})
        error = validator.first_error({"a": 1})
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []
    assert error is not None
    assert "could not be applied" in error.message
