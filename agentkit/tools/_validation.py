"""JSON Schema validation, compiled once: a fast path for common schemas, jsonschema for the rest.

:func:`compile_schema` checks a schema against its metaschema (draft 2020-12 by default; any
draft jsonschema knows when ``$schema`` names it) at once, and compiles it once, on first use
(so registering many tools builds nothing for the ones never called). Schemas built only from
the common keywords — ``type`` (one or several), ``enum``, ``const``, the numeric bounds,
``multipleOf``, ``minLength``/``maxLength``/``pattern``, ``items`` (one schema for every item),
``minItems``/``maxItems``, ``properties``, ``required``, ``additionalProperties``,
``minProperties``/``maxProperties``, ``anyOf``/``allOf``/``oneOf``/``not`` and boolean schemas,
plus annotations — are compiled into a tree of small closures. Anything else (``$ref``,
``patternProperties``, ``uniqueItems``, ``if``, ...) falls back, for the whole schema, to
jsonschema's own compiled validator.

The fast path gives exactly jsonschema's accept/reject answer (its keyword functions are
mirrored line by line: ``1.0`` is an integer, ``True`` is not a number and not equal to ``1``,
keywords apply only to their type) and reports the first error in jsonschema's order: keywords
in the schema's order, properties in the ``properties`` order. ``format`` is an annotation, as
in jsonschema without a format checker. Tests hold the two to the same answers with hypothesis.

Regular expressions in schemas (``pattern``, the keys of ``patternProperties``) run on the
linear-time RE2 engine (:mod:`agentkit.tools._regex`) on both paths, never on Python's backtracking
``re``: a schema's pattern cannot be turned against the registry by a crafted argument. A
pattern RE2 cannot run (a backreference, lookaround) is refused at compile time with
:class:`~agentkit.exceptions.ToolRegistrationError` naming its place, as is the rare
combination of ``patternProperties`` with ``unevaluatedProperties`` (whose matching jsonschema
does only with ``re``). Instances nested deeper than ``max_depth`` are reported as a violation
before jsonschema's recursive walk sees them, and error messages show values abridged.
"""

from __future__ import annotations

import functools
import heapq
import numbers
import reprlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, cast

import jsonschema
import jsonschema.validators
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema_specifications import REGISTRY as _METASCHEMAS

from agentkit.exceptions import PatternError, ToolRegistrationError
from agentkit.tools._metaschema import surely_valid_2020_12
from agentkit.tools._regex import compile_pattern

__all__ = [
    "LINEAR_TIME_KEYWORDS",
    "MAX_INSTANCE_DEPTH",
    "SchemaValidator",
    "SchemaViolation",
    "compile_schema",
    "json_pointer",
]

#: Deepest nesting of an instance that schemas reaching into it (``$ref`` loops, fallback
#: path) are applied to; deeper ones are a violation, not a ``RecursionError``.
MAX_INSTANCE_DEPTH: Final = 100

#: Most unexpected property names an error message lists.
_MOST_NAMES_SHOWN: Final = 20

#: Keywords that never reject anything (``format`` included: jsonschema asserts it only when
#: given a format checker, and we give none).
_ANNOTATIONS: Final = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)

#: Drafts whose keywords the fast path mirrors; any other draft goes to jsonschema. Before
#: 2020-12, ``items: false`` applies the false schema to each item (jsonschema's legacy rule).
_FAST_DRAFTS: Final[frozenset[Any]] = frozenset(
    {jsonschema.Draft7Validator, jsonschema.Draft201909Validator, jsonschema.Draft202012Validator}
)


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """Why an instance failed: a JSON pointer to the offending value and a message."""

    pointer: str
    message: str


class _Failure:
    """A failure on its way up the closure tree; path tokens are appended innermost first."""

    __slots__ = ("message", "tokens")

    def __init__(self, message: str) -> None:
        self.message = message
        self.tokens: list[str | int] = []


_Check = Callable[[Any], "_Failure | None"]


class _Unsupported(Exception):
    """The schema uses something the fast path does not mirror: use jsonschema."""


def json_pointer(tokens: Sequence[str | int]) -> str:
    """The RFC 6901 pointer for *tokens* from the root (``""`` is the root itself)."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def _pending(instance: Any) -> _Failure | None:
    """Stands for a fast path not compiled yet (never called)."""
    raise AssertionError("a deferred SchemaValidator ran before it was compiled")


class SchemaValidator:
    """A schema compiled once; :meth:`first_error` answers as jsonschema would.

    :func:`compile_schema` checks the schema at once but compiles it on first use: the fast
    path's closures when :meth:`first_error` (or ``fast``) is first asked for, jsonschema's
    validator only when the fast path cannot take the schema (or ``jsonschema_validator`` is
    read). Registering thousands of tools that are never called then builds nothing for them.

    Attributes:
        schema: The schema as given.
        fast: Whether the fast path handles it (False: jsonschema's validator does).
        jsonschema_validator: jsonschema's compiled validator for the same schema.
    """

    __slots__ = ("_check", "_draft", "_max_depth", "_validator", "schema")

    def __init__(
        self,
        schema: Mapping[str, Any] | bool,
        validator: Any,
        check: _Check | None,
        max_depth: int = MAX_INSTANCE_DEPTH,
    ):
        self.schema = schema
        self._validator = validator
        self._check = check
        self._max_depth = max_depth
        self._draft: Any = jsonschema.Draft202012Validator

    @classmethod
    def _deferred(
        cls, schema: Mapping[str, Any] | bool, draft: Any, max_depth: int
    ) -> SchemaValidator:
        """A validator for a checked *schema* of *draft* (a jsonschema validator class),
        compiled on first use."""
        deferred = cls(schema, None, _pending, max_depth)
        deferred._draft = draft
        return deferred

    @property
    def fast(self) -> bool:
        """Whether the fast path handles the schema (False: jsonschema's validator does)."""
        check = self._check
        if check is _pending:
            check = self._compile()
        return check is not None

    @property
    def jsonschema_validator(self) -> Any:
        """jsonschema's compiled validator for the same schema."""
        validator = self._validator
        if validator is None:
            # Only the drafts' own meta-schemas resolve: jsonschema's default registry fetches
            # any other remote $ref over HTTP, which would let a schema author aim requests
            # anywhere.
            validator = _linear_time(self._draft)(self.schema, registry=_METASCHEMAS)
            self._validator = validator
        return validator

    def _compile(self) -> _Check | None:
        """Build the fast path's closures (None: the schema needs jsonschema). Idempotent, so
        two threads racing here build equal closures and either may win."""
        draft = self._draft
        check: _Check | None = None
        if draft in _FAST_DRAFTS:
            try:
                compiler = _Compiler(legacy_items=draft is not jsonschema.Draft202012Validator)
                check = compiler.compile(self.schema, root=True)
            except _Unsupported:
                check = None
        self._check = check
        return check

    def __repr__(self) -> str:
        return f"SchemaValidator(fast={self.fast})"

    def first_error(self, instance: Any) -> SchemaViolation | None:
        """The first error jsonschema would report for *instance*, or None when it is valid."""
        check = self._check
        if check is _pending:
            check = self._compile()
        if check is not None:
            failure = check(instance)
            if failure is None:
                return None
            return SchemaViolation(json_pointer(failure.tokens[::-1]), failure.message)
        too_deep = _too_deep(instance, self._max_depth)
        if too_deep is not None:
            return too_deep
        try:
            error = next(self.jsonschema_validator.iter_errors(instance), None)
        except Exception as exc:  # an unresolvable $ref: not the caller's data
            return SchemaViolation("", f"the schema could not be applied: {_shown(exc)}")
        if error is None:
            return None
        return SchemaViolation(json_pointer(list(error.absolute_path)), error.message)

    def is_valid(self, instance: Any) -> bool:
        """Whether *instance* is valid."""
        return self.first_error(instance) is None


def compile_schema(
    schema: Mapping[str, Any] | bool,
    *,
    what: str = "schema",
    max_depth: int = MAX_INSTANCE_DEPTH,
) -> SchemaValidator:
    """Check *schema* against its metaschema now; compile it once, when it is first used.

    Args:
        schema: The JSON Schema.
        what: Names the schema in error messages (e.g. "parameters of tool 'x'").
        max_depth: Deepest instance nesting the jsonschema path applies the schema to.

    Raises:
        ToolRegistrationError: The schema is not valid JSON Schema, names an unknown draft in
            ``$schema``, or has a pattern the linear-time engine refuses.
    """
    if not isinstance(schema, bool | Mapping):
        raise ToolRegistrationError(f"{what} must be a JSON Schema object, not {_kind(schema)}")
    _check_patterns(schema, what)
    cls: Any = jsonschema.Draft202012Validator
    if isinstance(schema, Mapping) and "$schema" in schema:
        # default=None: an unknown $schema gives None, not a warning and the latest draft.
        cls = jsonschema.validators.validator_for(schema, default=cast(Any, None))
        if cls is None:
            raise ToolRegistrationError(
                f"{what}: unknown $schema {schema['$schema']!r} (use draft 2020-12 or draft-07)"
            )
    try:
        # The quick walk vouches for common 2020-12 schemas; jsonschema checks everything else
        # (and gives the error message for anything the walk does not vouch for).
        if not (cls is jsonschema.Draft202012Validator and surely_valid_2020_12(schema)):
            cls.check_schema(schema, format_checker=_schema_format_checker(cls))
    except SchemaError as exc:
        where = json_pointer(list(exc.absolute_path))
        raise ToolRegistrationError(
            f"{what} is not valid JSON Schema at {where or '/'}: {exc.message}"
        ) from None
    return SchemaValidator._deferred(schema, cls, max_depth)


# -- regular expressions on RE2, in both paths ---------------------------------------------------

#: Keywords whose value is one subschema or a list of them.
_SUBSCHEMA_KEYWORDS: Final = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "oneOf",
        "prefixItems",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
#: Keywords whose value maps names to subschemas.
_SCHEMA_MAP_KEYWORDS: Final = frozenset(
    {"$defs", "definitions", "dependentSchemas", "dependencies", "properties"}
)


def _check_patterns(schema: Any, what: str) -> None:
    """Compile every pattern of *schema* on RE2 (without recursion), refusing what it cannot run.

    Only schema positions are visited: a ``"pattern"`` inside ``enum``, ``const`` or
    ``default`` data is not a pattern.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(schema, ())]
    has_pattern_properties = has_unevaluated = False
    while stack:
        node, path = stack.pop()
        if not isinstance(node, Mapping):
            continue
        for keyword, value in node.items():
            where = (*path, keyword)
            if keyword == "pattern" and isinstance(value, str):
                _compile_or_refuse(value, what, where)
            elif keyword == "patternProperties" and isinstance(value, Mapping):
                has_pattern_properties = True
                for pattern, sub in value.items():
                    _compile_or_refuse(pattern, what, where)
                    stack.append((sub, (*where, pattern)))
            elif keyword == "unevaluatedProperties":
                has_unevaluated = True
                stack.append((value, where))
            elif keyword in _SUBSCHEMA_KEYWORDS:
                if isinstance(value, list):
                    stack.extend((sub, (*where, index)) for index, sub in enumerate(value))
                else:
                    stack.append((value, where))
            elif keyword in _SCHEMA_MAP_KEYWORDS and isinstance(value, Mapping):
                stack.extend((sub, (*where, name)) for name, sub in value.items())
    if has_pattern_properties and has_unevaluated:
        raise ToolRegistrationError(
            f"{what}: patternProperties together with unevaluatedProperties is not supported "
            "(use additionalProperties, or properties with exact names)"
        )


def _compile_or_refuse(pattern: Any, what: str, where: tuple[str | int, ...]) -> None:
    if not isinstance(pattern, str):
        return  # the metaschema check reports it
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        raise ToolRegistrationError(f"{what}: at {json_pointer(where)}: {exc}") from None


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not compile_pattern(pattern).search(instance):
        yield ValidationError(f"{_shown(instance)} does not match {pattern!r}")


def _re2_pattern_properties(
    validator: Any, pattern_properties: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        search = compile_pattern(pattern).search
        for name, value in instance.items():
            if search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _re2_additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    searches = [compile_pattern(pattern).search for pattern in schema.get("patternProperties", {})]
    extras = [
        name
        for name in instance
        if name not in known and not any(search(name) for search in searches)
    ]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        listed = _names(extras)
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{listed} {verb} not match any of the regexes: {patterns}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({listed} {verb} unexpected)"
            )


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
    # jsonschema's own divides outside its try: a huge integer over a float divisor raised
    # OverflowError instead of getting the exact answer.
    if not validator.is_type(instance, "number"):
        return
    if isinstance(divisor, float):
        try:
            quotient = instance / divisor
            failed = int(quotient) != quotient
        except OverflowError:
            failed = (Fraction(instance) / Fraction(divisor)).denominator != 1
    else:
        failed = bool(instance % divisor)
    if failed:
        yield ValidationError(f"{_shown(instance)} is not a multiple of {divisor}")


def _is_re2_pattern(instance: Any) -> bool:
    if isinstance(instance, str):
        compile_pattern(instance)  # raises PatternError
    return True


@functools.cache
def _schema_format_checker(cls: Any) -> Any:
    """*cls*'s metaschema format checker with ``regex`` meaning "RE2 runs it", not ``re``."""
    checker: Any = jsonschema.FormatChecker(())
    checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
    checker.checks("regex", raises=PatternError)(_is_re2_pattern)
    return checker


#: jsonschema keyword functions whose regular expressions run on RE2 (and ``multipleOf``
#: exact for huge integers); pass them to ``jsonschema.validators.extend``.
LINEAR_TIME_KEYWORDS: Final[Mapping[str, Callable[..., Iterator[Any]]]] = {
    "pattern": _re2_pattern,
    "patternProperties": _re2_pattern_properties,
    "additionalProperties": _re2_additional_properties,
    "multipleOf": _multiple_of,
}


@functools.cache
def _linear_time(cls: Any) -> Any:
    """jsonschema's validator class *cls* with its regular expressions on RE2."""
    extend: Any = jsonschema.validators.extend
    # Only keywords the draft has: an older draft must keep ignoring the ones it lacks.
    return extend(cls, {k: v for k, v in LINEAR_TIME_KEYWORDS.items() if k in cls.VALIDATORS})


# -- bounded instances and messages ------------------------------------------------------------

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlong = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 10


def _shown(value: Any) -> str:
    """*value* for a message, abridged: never megabytes long, never a RecursionError."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<a {value.bit_length():,}-bit integer>"
    try:
        return _REPR.repr(value)
    except Exception:  # a huge int inside a list, a broken __repr__
        return f"<{type(value).__name__}>"


def _names(names: list[Any]) -> str:
    """The first few of *names*, sorted as jsonschema sorts them, and how many more."""
    shown = heapq.nsmallest(_MOST_NAMES_SHOWN, names, key=str)
    listed = ", ".join(_shown(name) for name in shown)
    if len(names) > len(shown):
        listed += f" and {len(names) - len(shown):,} more"
    return listed


def _too_deep(instance: Any, limit: int) -> SchemaViolation | None:
    """A violation when *instance* nests more than *limit* levels (counted without recursion)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(instance, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            children: Any = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if len(path) >= limit:
            return SchemaViolation(
                json_pointer(path),
                f"the value is nested more than {limit} levels deep (flatten it, or raise "
                "compile_schema's max_depth)",
            )
        stack.extend((child, (*path, key)) for key, child in children)
    return None


def _kind(value: Any) -> str:
    return type(value).__name__


# -- type tests, as jsonschema's draft 6+ type checker -----------------------------------------


def _is_integer(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return True
    if kind is float:
        return bool(value.is_integer())
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    kind = type(value)
    if kind is int or kind is float:
        return True
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


_TYPE_TESTS: Final[dict[str, Callable[[Any], bool]]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _json_equal(one: Any, two: Any) -> bool:
    """jsonschema's ``equal``: ``True`` is not ``1``, sequences and mappings compared deeply."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(
            _json_equal(left, right) for left, right in zip(one, two, strict=False)
        )
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(
            key in two and _json_equal(value, two[key]) for key, value in one.items()
        )
    return bool(_unbool(one) == _unbool(two))


_TRUE: Final = object()
_FALSE: Final = object()


def _unbool(value: Any) -> Any:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


def _ok(value: Any) -> None:
    return None


# -- the compiler ------------------------------------------------------------------------------


class _Compiler:
    """Turns a schema into closures, keyword by keyword in the schema's own order."""

    def __init__(self, *, legacy_items: bool) -> None:
        self.legacy_items = legacy_items

    def compile(self, schema: Any, *, root: bool = False) -> _Check:
        if schema is True:
            return _ok
        if schema is False:
            return _false_schema
        if not isinstance(schema, Mapping):
            raise _Unsupported
        checks: list[_Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or (keyword == "$schema" and root):
                continue
            build = getattr(self, "_kw_" + keyword.replace("$", "_"), None)
            if build is None:
                raise _Unsupported(keyword)
            check = build(value, schema)
            if check is not None:
                checks.append(check)
        return _sequence(checks)

    # each _kw_<keyword>(value, schema) returns a check, or None when it can never fail

    def _kw_type(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        names = [value] if isinstance(value, str) else list(value)
        tests = tuple(_TYPE_TESTS[name] for name in names)
        shown = ", ".join(repr(name) for name in names)
        if len(tests) == 1:
            (test,) = tests

            def check_one(instance: Any) -> _Failure | None:
                if test(instance):
                    return None
                return _Failure(f"{_shown(instance)} is not of type {shown}")

            return check_one

        def check_any(instance: Any) -> _Failure | None:
            for test in tests:
                if test(instance):
                    return None
            return _Failure(f"{_shown(instance)} is not of type {shown}")

        return check_any

    def _kw_enum(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        options = list(value)
        if options and all(isinstance(option, str) for option in options):
            allowed = frozenset(options)

            def check_strings(instance: Any) -> _Failure | None:
                if isinstance(instance, str) and instance in allowed:
                    return None
                return _Failure(f"{_shown(instance)} is not one of {options!r}")

            return check_strings

        def check_enum(instance: Any) -> _Failure | None:
            for option in options:
                if _json_equal(option, instance):
                    return None
            return _Failure(f"{_shown(instance)} is not one of {options!r}")

        return check_enum

    def _kw_const(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if _json_equal(instance, value):
                return None
            return _Failure(f"{value!r} was expected")

        return check

    def _kw_minimum(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if _is_number(instance) and instance < value:
                return _Failure(f"{_shown(instance)} is less than the minimum of {value!r}")
            return None

        return check

    def _kw_maximum(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if _is_number(instance) and instance > value:
                return _Failure(f"{_shown(instance)} is greater than the maximum of {value!r}")
            return None

        return check

    def _kw_exclusiveMinimum(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if _is_number(instance) and instance <= value:
                return _Failure(
                    f"{_shown(instance)} is less than or equal to the minimum of {value!r}"
                )
            return None

        return check

    def _kw_exclusiveMaximum(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if _is_number(instance) and instance >= value:
                return _Failure(
                    f"{_shown(instance)} is greater than or equal to the maximum of {value!r}"
                )
            return None

        return check

    def _kw_multipleOf(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if not _is_number(instance):
                return None
            if isinstance(value, float):
                try:
                    quotient = instance / value
                    failed = int(quotient) != quotient
                except OverflowError:
                    failed = (Fraction(instance) / Fraction(value)).denominator != 1
            else:
                failed = bool(instance % value)
            if failed:
                return _Failure(f"{_shown(instance)} is not a multiple of {value}")
            return None

        return check

    def _kw_minLength(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, str) and len(instance) < value:
                return _Failure(f"{_shown(instance)} is too short (minLength {value})")
            return None

        return check

    def _kw_maxLength(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, str) and len(instance) > value:
                return _Failure(f"{_shown(instance)} is too long (maxLength {value})")
            return None

        return check

    def _kw_pattern(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        search = compile_pattern(value).search  # checked by _check_patterns already

        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, str) and not search(instance):
                return _Failure(f"{_shown(instance)} does not match {value!r}")
            return None

        return check

    def _kw_minItems(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, list) and len(instance) < value:
                return _Failure(f"{_shown(instance)} is too short (minItems {value})")
            return None

        return check

    def _kw_maxItems(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, list) and len(instance) > value:
                return _Failure(f"{_shown(instance)} is too long (maxItems {value})")
            return None

        return check

    def _kw_items(self, value: Any, schema: Mapping[str, Any]) -> _Check | None:
        if isinstance(value, list):  # draft-07 tuple form
            raise _Unsupported("items")
        if value is False and not self.legacy_items:

            def check_empty(instance: Any) -> _Failure | None:
                if isinstance(instance, list) and instance:
                    return _Failure(f"Expected at most 0 items but found {len(instance)}")
                return None

            return check_empty
        item_check = self.compile(value)
        if item_check is _ok:
            return None

        def check(instance: Any) -> _Failure | None:
            if not isinstance(instance, list):
                return None
            for index, item in enumerate(instance):
                failure = item_check(item)
                if failure is not None:
                    failure.tokens.append(index)
                    return failure
            return None

        return check

    def _kw_properties(self, value: Any, schema: Mapping[str, Any]) -> _Check | None:
        compiled = tuple((name, self.compile(sub)) for name, sub in value.items())
        checked = tuple((name, check) for name, check in compiled if check is not _ok)
        if not checked:
            return None

        def check(instance: Any) -> _Failure | None:
            if not isinstance(instance, dict):
                return None
            for name, property_check in checked:
                if name in instance:
                    failure = property_check(instance[name])
                    if failure is not None:
                        failure.tokens.append(name)
                        return failure
            return None

        return check

    def _kw_required(self, value: Any, schema: Mapping[str, Any]) -> _Check | None:
        names = tuple(value)
        if not names:
            return None

        def check(instance: Any) -> _Failure | None:
            if not isinstance(instance, dict):
                return None
            for name in names:
                if name not in instance:
                    return _Failure(f"{name!r} is a required property")
            return None

        return check

    def _kw_additionalProperties(self, value: Any, schema: Mapping[str, Any]) -> _Check | None:
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if value is False:

            def check_closed(instance: Any) -> _Failure | None:
                if not isinstance(instance, dict):
                    return None
                extras = [name for name in instance if name not in known]
                if not extras:
                    return None
                listed = _names(extras)
                verb = "was" if len(extras) == 1 else "were"
                return _Failure(
                    f"Additional properties are not allowed ({listed} {verb} unexpected)"
                )

            return check_closed
        extra_check = self.compile(value)
        if extra_check is _ok:
            return None

        def check_extras(instance: Any) -> _Failure | None:
            if not isinstance(instance, dict):
                return None
            for name, item in instance.items():
                if name not in known:
                    failure = extra_check(item)
                    if failure is not None:
                        failure.tokens.append(name)
                        return failure
            return None

        return check_extras

    def _kw_minProperties(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, dict) and len(instance) < value:
                return _Failure(f"{_shown(instance)} does not have enough properties")
            return None

        return check

    def _kw_maxProperties(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        def check(instance: Any) -> _Failure | None:
            if isinstance(instance, dict) and len(instance) > value:
                return _Failure(f"{_shown(instance)} has too many properties")
            return None

        return check

    def _kw_allOf(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        return _sequence([self.compile(sub) for sub in value])

    def _kw_anyOf(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        branches = tuple(self.compile(sub) for sub in value)

        def check(instance: Any) -> _Failure | None:
            for branch in branches:
                if branch(instance) is None:
                    return None
            return _Failure(f"{_shown(instance)} is not valid under any of the given schemas")

        return check

    def _kw_oneOf(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        branches = tuple(self.compile(sub) for sub in value)

        def check(instance: Any) -> _Failure | None:
            valid = sum(1 for branch in branches if branch(instance) is None)
            if valid == 1:
                return None
            if valid == 0:
                return _Failure(f"{_shown(instance)} is not valid under any of the given schemas")
            return _Failure(f"{_shown(instance)} is valid under more than one of the given schemas")

        return check

    def _kw_not(self, value: Any, schema: Mapping[str, Any]) -> _Check:
        inner = self.compile(value)

        def check(instance: Any) -> _Failure | None:
            if inner(instance) is None:
                return _Failure(f"{_shown(instance)} should not be valid under {value!r}")
            return None

        return check


def _false_schema(instance: Any) -> _Failure:
    return _Failure(f"False schema does not allow {_shown(instance)}")


def _sequence(checks: list[_Check]) -> _Check:
    """One check running *checks* in order, stopping at the first failure."""
    checks = [check for check in checks if check is not _ok]
    if not checks:
        return _ok
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks

        def check_two(instance: Any) -> _Failure | None:
            failure = first(instance)
            if failure is not None:
                return failure
            return second(instance)

        return check_two
    frozen = tuple(checks)

    def check_all(instance: Any) -> _Failure | None:
        for check in frozen:
            failure = check(instance)
            if failure is not None:
                return failure
        return None

    return check_all
