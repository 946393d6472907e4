"""Tools from typed Python functions: :func:`tool` and ``Tool.from_function``.

The schema is worked out once, when the function is decorated: the name from the function's
name, the description from the docstring's summary (its first paragraph), each argument's
description from the docstring (Google ``Args:``, NumPy ``Parameters`` or Sphinx ``:param:``),
and the parameters from the type hints. Calls are validated against that schema by the
registry as for any tool; the arguments are then converted to the annotated types
(``msgspec.convert``) before the function runs, so a dataclass parameter receives an instance,
a tuple a tuple and an Enum a member. An annotation with no JSON Schema (``object``, a
callable, a set, an arbitrary class, ``*args``/``**kwargs``, a missing annotation) is refused
at decoration with :class:`~agentkit.exceptions.ToolRegistrationError` naming the parameter.

The decorator returns a :class:`FunctionTool`: a :class:`~agentkit.tools.Tool` (so it can be
registered and exported directly, as FastMCP and LangChain do) that stays callable as the
original function (``add(1, 2)`` runs the function itself, with no conversion).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, ParamSpec, TypeVar, cast, overload

import msgspec

from agentkit.exceptions import ToolInputError, ToolNotConfiguredError, ToolRegistrationError
from agentkit.tools._export import _json_type
from agentkit.tools._tool import _FROM_FUNCTION, TOOL_NAME_PATTERN, Tool, ToolHints
from agentkit.tools._validation import compile_schema

__all__ = ["FunctionTool", "Injected", "tool", "tool_from_function"]

P = ParamSpec("P")
R = TypeVar("R")

#: Constraint attributes read from ``Annotated`` metadata (``msgspec.Meta``, ``annotated_types``
#: objects and anything else with these attribute names), and their JSON Schema keywords.
_NUMBER_BOUNDS: Final = (
    ("ge", "minimum"),
    ("le", "maximum"),
    ("gt", "exclusiveMinimum"),
    ("lt", "exclusiveMaximum"),
    ("multiple_of", "multipleOf"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Injected:
    """Marks a parameter the caller of the tool never sees: ``Annotated[T, Injected]``.

    The parameter is left out of the tool's schema; its value is given once, in code, with
    :meth:`FunctionTool.bind` (configuration, a client, a sandbox), so a tool needs no closure
    to reach its settings and stays a plain function that can be imported and tested alone.
    ``Annotated[T, Injected()]`` works too.
    """


def _is_injected(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not typing.Annotated:
        return False
    return any(
        item is Injected or isinstance(item, Injected) for item in typing.get_args(annotation)[1:]
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class FunctionTool(Tool, Generic[P, R]):
    """A :class:`Tool` made from a typed function, and still callable as that function.

    Calling it runs the original function with the given arguments (and the values
    :meth:`bind` gave), unchanged; the registry calls :attr:`function`, which converts
    validated JSON arguments to the annotated types.

    Args:
        injected: The parameters marked :class:`Injected`; the registry reports a call as
            ``not_configured`` while one without a default has no value from :meth:`bind`.
        bound: The injected values :meth:`bind` gave.
    """

    injected: tuple[str, ...] = ()
    bound: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: The decorated function itself; :attr:`function` is what the registry calls.
    original: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    #: What the registry calls before :meth:`bind` added the bound values.
    unbound: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the original function directly (with the bound values)."""
        original = cast("Callable[..., R]", self.original)
        if self.bound:
            return original(*args, **{**self.bound, **kwargs})
        return original(*args, **kwargs)

    def bind(self, **values: Any) -> FunctionTool[P, R]:
        """This tool with values for its :class:`Injected` parameters (a new tool).

        Raises:
            ToolRegistrationError: A name is not one of the tool's injected parameters.
        """
        unknown = sorted(set(values) - set(self.injected))
        if unknown:
            known = ", ".join(self.injected) or "none"
            raise ToolRegistrationError(
                f"tool {self.name!r}: cannot bind {', '.join(unknown)}: "
                f"not an Injected parameter (injected parameters: {known})"
            )
        base = self.unbound if self.unbound is not None else self.function
        bound = {**self.bound, **values}
        return dataclasses.replace(
            self,
            function=_bind_call(cast("Callable[..., Any]", base), bound),
            bound=bound,
            unbound=base,
        )


def _bind_call(base: Callable[..., Any], bound: Mapping[str, Any]) -> Callable[..., Any]:
    """*base* (the registry-facing call) with *bound* always passed."""
    if inspect.iscoroutinefunction(base):

        async def call_async(**params: Any) -> Any:
            return await base(**params, **bound)

        return functools.wraps(base)(call_async)

    def call_sync(**params: Any) -> Any:
        return base(**params, **bound)

    return functools.wraps(base)(call_sync)


@overload
def tool(function: Callable[P, R], /) -> FunctionTool[P, R]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    category: str = "general",
    tags: tuple[str, ...] | list[str] = (),
    hints: ToolHints | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
    timeout: float | None = 30.0,
    version: str = "1.0.0",
    blocking: bool | None = None,
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...


def tool(function: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Make a :class:`Tool` from a typed function: ``@tool`` or ``@tool(name=..., ...)``.

    Options (all optional): ``name`` (default: the function's name), ``description`` (default:
    the docstring's summary), ``category``, ``tags``, ``hints`` (a :class:`ToolHints`) or the
    single hints ``read_only``/``destructive``/``idempotent``/``open_world``, ``timeout``,
    ``version`` and ``blocking`` (default: True for a sync function, which then runs in a tool
    thread; False for an async one).

    Returns:
        A :class:`FunctionTool`, which is a ``Tool`` and is callable as the function.

    Raises:
        ToolRegistrationError: An annotation has no JSON Schema (the message names the
            parameter and the type), the name is not a valid tool name, or the options clash.
    """
    if function is None:
        return functools.partial(tool_from_function, **options)
    return tool_from_function(function, **options)


def tool_from_function(
    function: Callable[P, R],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    category: str = "general",
    tags: tuple[str, ...] | list[str] = (),
    hints: ToolHints | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
    timeout: float | None = 30.0,
    version: str = "1.0.0",
    blocking: bool | None = None,
) -> FunctionTool[P, R]:
    """The :class:`FunctionTool` for *function*; see :func:`tool` for the options."""
    if isinstance(function, Tool) or not callable(function):
        raise ToolRegistrationError(f"expected a function, got {type(function).__name__}")
    tool_name = name if name is not None else getattr(function, "__name__", "")
    if not isinstance(tool_name, str) or not TOOL_NAME_PATTERN.fullmatch(tool_name):
        raise ToolRegistrationError(
            f"invalid tool name {tool_name!r}: use 1 to 64 letters, digits, '_' or '-' "
            "(pass name=...)"
        )
    flags = {
        "read_only": read_only,
        "destructive": destructive,
        "idempotent": idempotent,
        "open_world": open_world,
    }
    given = {key: value for key, value in flags.items() if value is not None}
    if hints is not None and given:
        raise ToolRegistrationError(
            f"tool {tool_name!r}: give hints=ToolHints(...) or the single hints "
            f"({', '.join(sorted(given))}), not both"
        )
    if hints is None:
        hints = ToolHints(**given)
    elif not isinstance(hints, ToolHints):
        raise ToolRegistrationError(f"tool {tool_name!r}: hints must be a ToolHints")
    is_async = inspect.iscoroutinefunction(function)
    docs = _parse_docstring(inspect.getdoc(function) or "")
    spec = _FunctionSpec(function, tool_name, docs.arguments)
    wrapper = spec.wrapper(is_async)
    return FunctionTool(
        name=tool_name,
        description=description if description is not None else docs.summary,
        category=category,
        parameters=spec.parameters,
        returns=spec.returns,
        tags=tuple(tags),
        version=version,
        timeout=timeout,
        hints=hints,
        blocking=(not is_async) if blocking is None else blocking,
        function=wrapper,
        injected=tuple(spec.injectable),
        original=function,
    )


_FROM_FUNCTION["make"] = tool_from_function


# -- the signature ----------------------------------------------------------------------------


class _FunctionSpec:
    """The schema and argument conversion of one function, worked out once."""

    def __init__(self, function: Callable[..., Any], name: str, docs: Mapping[str, str]) -> None:
        self.function = function
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError) as exc:
            raise ToolRegistrationError(f"tool {name!r}: no signature to read: {exc}") from exc
        try:
            hints = typing.get_type_hints(function, include_extras=True)
        except Exception as exc:
            raise ToolRegistrationError(
                f"tool {name!r}: its type hints cannot be resolved: {exc}"
            ) from exc
        properties: dict[str, Any] = {}
        required: list[str] = []
        #: (name, converter or None, positional only, default)
        self.arguments: list[tuple[str, Callable[[Any], Any] | None, bool, Any]] = []
        #: Injected parameters; those without a default must come with every call.
        self.injectable: list[str] = []
        self.injected: list[str] = []
        self.name = name
        for parameter in signature.parameters.values():
            where = f"tool {name!r}, parameter {parameter.name!r}"
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                star = "*" if parameter.kind is parameter.VAR_POSITIONAL else "**"
                raise ToolRegistrationError(
                    f"{where}: {star}{parameter.name} has no JSON Schema; name each argument"
                )
            if parameter.name not in hints:
                raise ToolRegistrationError(f"{where}: missing type annotation")
            annotation = hints[parameter.name]
            if _is_injected(annotation):
                if parameter.kind is parameter.POSITIONAL_ONLY:
                    raise ToolRegistrationError(f"{where}: an Injected parameter must be named")
                self.injectable.append(parameter.name)
                if parameter.default is parameter.empty:
                    self.injected.append(parameter.name)
                self.arguments.append((parameter.name, None, False, parameter.default))
                continue
            builder = _SchemaBuilder(where)
            schema = builder.build(annotation)
            _check_convertible(annotation, where)
            if parameter.name in docs and "description" not in schema:
                schema = {"description": docs[parameter.name], **schema}
            if parameter.default is parameter.empty:
                required.append(parameter.name)
            else:
                default = _json_default(parameter.default, schema)
                if default is not _NO_DEFAULT:
                    schema = {**schema, "default": default}
            properties[parameter.name] = schema
            converter = _converter(annotation) if builder.converts else None
            self.arguments.append(
                (
                    parameter.name,
                    converter,
                    parameter.kind is parameter.POSITIONAL_ONLY,
                    parameter.default,
                )
            )
        parameters: dict[str, Any] = {
            "type": "object",
            "properties": properties,
        }
        if required:
            parameters["required"] = required
        parameters["additionalProperties"] = False
        self.parameters = parameters
        compile_schema(parameters, what=f"parameters of tool {name!r}")
        self.returns: dict[str, Any] | None = None
        self.output_to_builtins = False
        returned = hints.get("return", Any)
        if returned not in (None, type(None), Any):
            builder = _SchemaBuilder(f"tool {name!r}, return value")
            self.returns = builder.build(returned)
            # A TypedDict, a list or a number is returned as built (no copy of a big result).
            self.output_to_builtins = builder.non_json
            compile_schema(self.returns, what=f"returns of tool {name!r}")

    def _call_arguments(self, params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        for name in self.injected:
            if name not in params:
                raise ToolNotConfiguredError(
                    f"tool {self.name!r} needs {name!r}, which is injected: register "
                    f"tool.bind({name}=...) instead of the tool itself"
                )
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for name, converter, positional_only, default in self.arguments:
            if name in params:
                value = params[name]
                if converter is not None:
                    value = converter(value)
            elif positional_only:
                value = default
            else:
                continue
            if positional_only:
                positional.append(value)
            else:
                keywords[name] = value
        return positional, keywords

    def wrapper(self, is_async: bool) -> Callable[..., Any]:
        """The function the registry calls as ``function(**params)``.

        With no positional-only or injected parameters the validated arguments are converted
        in place; with nothing to convert either, the registry calls the function itself.
        """
        function = self.function
        to_builtins = self.output_to_builtins
        if any(positional for _, _, positional, _ in self.arguments) or self.injected:
            return self._general_wrapper(is_async)
        integers = tuple(name for name, convert, _, _ in self.arguments if convert is _integer)
        converters = tuple(
            (name, convert)
            for name, convert, _, _ in self.arguments
            if convert is not None and convert is not _integer
        )
        if not integers and not converters and not to_builtins:
            return function

        def convert(params: dict[str, Any]) -> None:
            for name in integers:
                if type(params.get(name)) is float:  # JSON Schema counts 2.0 as an integer
                    params[name] = int(params[name])
            for name, converter in converters:
                if name in params:
                    params[name] = converter(params[name])

        if is_async:

            async def call_async(**params: Any) -> Any:
                convert(params)
                output = await function(**params)
                return msgspec.to_builtins(output) if to_builtins else output

            return functools.wraps(function)(call_async)

        def call(**params: Any) -> Any:
            convert(params)
            output = function(**params)
            return msgspec.to_builtins(output) if to_builtins else output

        return functools.wraps(function)(call)

    def _general_wrapper(self, is_async: bool) -> Callable[..., Any]:
        function = self.function
        arguments = self._call_arguments
        to_builtins = self.output_to_builtins
        if is_async:

            async def call_async(**params: Any) -> Any:
                positional, keywords = arguments(params)
                output = await function(*positional, **keywords)
                return msgspec.to_builtins(output) if to_builtins else output

            return functools.wraps(function)(call_async)

        def call(**params: Any) -> Any:
            positional, keywords = arguments(params)
            output = function(*positional, **keywords)
            return msgspec.to_builtins(output) if to_builtins else output

        return functools.wraps(function)(call)


def _converter(annotation: Any) -> Callable[[Any], Any]:
    """A function turning a validated JSON value into *annotation*'s type."""
    if annotation is int:
        return _integer

    def convert(value: Any) -> Any:
        try:
            return msgspec.convert(value, type=annotation)
        except msgspec.ValidationError as exc:
            raise ToolInputError(f"argument cannot be converted to {annotation!r}: {exc}") from exc

    return convert


def _integer(value: Any) -> Any:
    """JSON Schema counts ``2.0`` as an integer: give the function ``2``."""
    return int(value) if type(value) is float else value


def _check_convertible(annotation: Any, where: str) -> None:
    try:
        msgspec.inspect.type_info(annotation)
    except TypeError as exc:
        raise ToolRegistrationError(
            f"{where}: type {annotation!r} is not supported: {exc}"
        ) from exc


class _NoDefault:
    pass


_NO_DEFAULT: Final = _NoDefault()


def _json_default(default: Any, schema: Mapping[str, Any]) -> Any:
    """*default* as JSON if it is valid against *schema*, else nothing is recorded."""
    try:
        value = msgspec.json.decode(msgspec.json.encode(default))
    except (TypeError, ValueError, msgspec.MsgspecError):
        return _NO_DEFAULT
    if not compile_schema(schema).is_valid(value):
        return _NO_DEFAULT
    return value


# -- annotations to JSON Schema ---------------------------------------------------------------

_SCALARS: Final[Mapping[Any, str]] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
}


class _SchemaBuilder:
    """Builds the JSON Schema of one annotation; notes whether values need converting."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.converts = False
        #: Whether values of this annotation are not plain JSON data (a Struct, a dataclass,
        #: an Enum member, a tuple), so a returned value must go through msgspec.to_builtins.
        self.non_json = False
        self._seen: list[Any] = []

    def refuse(self, annotation: Any, why: str = "has no JSON Schema") -> ToolRegistrationError:
        return ToolRegistrationError(f"{self.where}: type {_type_name(annotation)} {why}")

    def build(self, annotation: Any) -> dict[str, Any]:
        if annotation is None:
            annotation = type(None)
        if annotation in _SCALARS:
            if annotation is float or annotation is int:
                self.converts = True  # 1 becomes 1.0 for a float, 2.0 becomes 2 for an int
            return {"type": _SCALARS[annotation]}
        if annotation is Any:
            return {}
        origin = typing.get_origin(annotation)
        arguments = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self._annotated(arguments[0], arguments[1:])
        if origin is typing.Literal:
            return self._literal(annotation, arguments)
        if origin is typing.Union or origin is types.UnionType:
            return self._union(arguments)
        if origin is list or annotation is list:
            items = self.build(arguments[0]) if arguments else {}
            return {"type": "array", "items": items} if items else {"type": "array"}
        if origin is tuple or annotation is tuple:
            self.converts = self.non_json = True
            return self._tuple(arguments)
        if origin is dict or annotation is dict:
            return self._dict(annotation, arguments)
        if isinstance(annotation, type):
            if issubclass(annotation, enum.Enum):
                self.converts = self.non_json = True
                return self._enum(annotation)
            if issubclass(annotation, bool | int | float | str):
                raise self.refuse(annotation, "(a subclass of a scalar type) is not supported")
            if (
                issubclass(annotation, msgspec.Struct)
                or dataclasses.is_dataclass(annotation)
                or typing.is_typeddict(annotation)
            ):
                self.converts = True
                if not typing.is_typeddict(annotation):
                    self.non_json = True
                return self._object(annotation)
        raise self.refuse(annotation)

    def _annotated(self, base: Any, metadata: tuple[Any, ...]) -> dict[str, Any]:
        schema = self.build(base)
        named = schema.get("type")
        # Keywords apply only to values of their type, so Optional[...] takes them too.
        kinds = {named} if isinstance(named, str) else set(named or ()) - {"null"}
        for item in metadata:
            if isinstance(item, str):
                schema["description"] = item
                continue
            description = getattr(item, "description", None)
            if isinstance(description, str):
                schema["description"] = description
            for attribute, keyword in _NUMBER_BOUNDS:
                value = getattr(item, attribute, None)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    if not kinds or not kinds <= {"integer", "number"}:
                        raise self.refuse(base, f"cannot take {attribute}")
                    schema[keyword] = value
            for attribute, keyword in (("min_length", "min"), ("max_length", "max")):
                value = getattr(item, attribute, None)
                if isinstance(value, int) and not isinstance(value, bool):
                    if kinds == {"string"}:
                        schema[f"{keyword}Length"] = value
                    elif kinds == {"array"}:
                        schema[f"{keyword}Items"] = value
                    elif kinds == {"object"}:
                        schema[f"{keyword}Properties"] = value
                    else:
                        raise self.refuse(base, f"cannot take {attribute}")
            pattern = getattr(item, "pattern", None)
            if isinstance(pattern, re.Pattern):
                pattern = pattern.pattern
            if isinstance(pattern, str):
                if kinds != {"string"}:
                    raise self.refuse(base, "cannot take a pattern")
                schema["pattern"] = pattern
            extra = getattr(item, "extra_json_schema", None)
            if isinstance(extra, Mapping):
                schema.update(extra)  # msgspec.Meta(extra_json_schema={"uniqueItems": True})
        return schema

    def _literal(self, annotation: Any, values: tuple[Any, ...]) -> dict[str, Any]:
        kinds: list[str] = []
        plain: list[Any] = []
        for value in values:
            if isinstance(value, enum.Enum):
                self.converts = self.non_json = True
                value = value.value
            kind = _json_kind(value)
            if kind is None:
                raise self.refuse(annotation, f"has a value {value!r} that is not a JSON scalar")
            if kind not in kinds:
                kinds.append(kind)
            plain.append(value)
        return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": plain}

    def _union(self, members: tuple[Any, ...]) -> dict[str, Any]:
        schemas = [self.build(member) for member in members]
        if all(set(schema) == {"type"} and isinstance(schema["type"], str) for schema in schemas):
            names = [schema["type"] for schema in schemas]
            return {"type": names[0] if len(names) == 1 else names}
        return {"anyOf": schemas}

    def _tuple(self, arguments: tuple[Any, ...]) -> dict[str, Any]:
        if not arguments:
            return {"type": "array"}
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return {"type": "array", "items": self.build(arguments[0])}
        if arguments == ((),):  # tuple[()]
            return {"type": "array", "maxItems": 0}
        return {
            "type": "array",
            "prefixItems": [self.build(argument) for argument in arguments],
            "items": False,
            "minItems": len(arguments),
        }

    def _dict(self, annotation: Any, arguments: tuple[Any, ...]) -> dict[str, Any]:
        if not arguments:
            return {"type": "object"}
        key, value = arguments
        if key is not str:
            raise self.refuse(annotation, "has keys that are not str")
        values = self.build(value)
        return {"type": "object", "additionalProperties": values}

    def _enum(self, annotation: type[enum.Enum]) -> dict[str, Any]:
        values = [member.value for member in annotation]
        schema = self._literal(annotation, tuple(values))
        doc = inspect.getdoc(annotation)
        if doc and doc != inspect.getdoc(enum.Enum) and annotation.__doc__:
            schema = {"description": _parse_docstring(doc).summary, **schema}
        return schema

    def _object(self, annotation: type) -> dict[str, Any]:
        if annotation in self._seen:
            raise self.refuse(annotation, "is recursive, which is not supported")
        self._seen.append(annotation)
        try:
            hints = typing.get_type_hints(annotation, include_extras=True)
        except Exception as exc:
            raise ToolRegistrationError(
                f"{self.where}: the type hints of {_type_name(annotation)} cannot be resolved: "
                f"{exc}"
            ) from exc
        properties: dict[str, Any] = {}
        required: list[str] = []
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            for field in msgspec.structs.fields(annotation):
                properties[field.encode_name] = self.build(hints.get(field.name, field.type))
                if field.required:
                    required.append(field.encode_name)
        elif dataclasses.is_dataclass(annotation):
            for item in dataclasses.fields(annotation):
                if not item.init:
                    continue
                properties[item.name] = self.build(hints.get(item.name, item.type))
                if (
                    item.default is dataclasses.MISSING
                    and item.default_factory is dataclasses.MISSING
                ):
                    required.append(item.name)
        else:  # a TypedDict
            keys: frozenset[str] = getattr(annotation, "__required_keys__", frozenset())
            for key, hint in hints.items():
                properties[key] = self.build(_strip_required(hint))
                # With string annotations, __required_keys__ misses NotRequired[...] on 3.11.
                marker = typing.get_origin(hint)
                if marker is typing.Required or (key in keys and marker is not typing.NotRequired):
                    required.append(key)
        self._seen.pop()
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        doc = annotation.__doc__
        if doc and not doc.startswith(f"{annotation.__name__}("):  # not dataclass's own
            schema = {"description": _parse_docstring(inspect.cleandoc(doc)).summary, **schema}
        return schema


def _strip_required(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Required or origin is typing.NotRequired:
        return typing.get_args(hint)[0]
    return hint


def _json_kind(value: Any) -> str | None:
    """The JSON type of a scalar *value* (None for arrays, objects and anything else)."""
    kind = _json_type(value)
    return None if kind in ("array", "object") else kind


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__qualname__
    return repr(annotation).replace("collections.abc.", "").replace("typing.", "")


# -- docstrings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Docs:
    summary: str
    arguments: dict[str, str]


_GOOGLE_ARGS: Final = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args):\s*$")
_GOOGLE_ENTRY: Final = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY: Final = re.compile(r"^\*{0,2}(\w+(?:\s*,\s*\w+)*)\s*(?::.*)?$")
_SPHINX_PARAM: Final = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")


def _parse_docstring(doc: str) -> _Docs:
    """The summary (first paragraph) and the per-argument descriptions of a cleaned docstring."""
    lines = doc.splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip():
            if summary_lines:
                break
            continue
        if _GOOGLE_ARGS.match(line.strip()) or line.strip().startswith(":param"):
            break
        summary_lines.append(line.strip())
    arguments: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if (
            stripped == "Parameters"
            and index + 1 < len(lines)
            and set(lines[index + 1].strip()) == {"-"}
        ):
            index = _numpy_section(lines, index + 2, _indent(line), arguments)
            continue
        if _GOOGLE_ARGS.match(stripped):
            index = _google_section(lines, index + 1, _indent(line), arguments)
            continue
        match = _SPHINX_PARAM.match(stripped)
        if match:
            text = [match.group(2).strip()]
            index += 1
            while index < len(lines) and lines[index].strip() and _indent(lines[index]) > 0:
                if lines[index].strip().startswith(":"):
                    break
                text.append(lines[index].strip())
                index += 1
            arguments[match.group(1)] = " ".join(part for part in text if part)
            continue
        index += 1
    return _Docs(" ".join(summary_lines), arguments)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google_section(lines: list[str], index: int, base: int, out: dict[str, str]) -> int:
    entry_indent: int | None = None
    current: str | None = None
    while index < len(lines):
        line = lines[index]
        if line.strip():
            indent = _indent(line)
            if indent <= base:
                break
            if entry_indent is None:
                entry_indent = indent
            if indent == entry_indent:
                match = _GOOGLE_ENTRY.match(line.strip())
                current = match.group(1) if match else None
                if current is not None and match is not None:
                    out[current] = match.group(2).strip()
            elif current is not None:
                out[current] = f"{out[current]} {line.strip()}".strip()
        index += 1
    return index


def _numpy_section(lines: list[str], index: int, base: int, out: dict[str, str]) -> int:
    names: list[str] = []
    while index < len(lines):
        line = lines[index]
        if line.strip():
            indent = _indent(line)
            if indent == base:
                if index + 1 < len(lines) and set(lines[index + 1].strip()) == {"-"}:
                    break  # the next section
                match = _NUMPY_ENTRY.match(line.strip())
                names = [n.strip() for n in match.group(1).split(",")] if match else []
                for name in names:
                    out[name] = ""
            elif indent > base:
                for name in names:
                    out[name] = f"{out[name]} {line.strip()}".strip()
            else:
                break
        index += 1
    for name in [key for key, value in out.items() if not value]:
        del out[name]
    return index
