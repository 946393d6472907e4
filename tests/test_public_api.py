"""The public API: what agentkit exports, and the shape of its exception hierarchy."""

from __future__ import annotations

import builtins
import inspect
import re
from types import ModuleType

import pytest

import agentkit
import agentkit.agents
import agentkit.bus
import agentkit.cli
import agentkit.demo
import agentkit.exceptions
import agentkit.execution
import agentkit.loadtest
import agentkit.observability
import agentkit.plugins
import agentkit.reliability
import agentkit.testing
import agentkit.tools
import agentkit.voting
from agentkit import Bus, InMemoryPubSub, NatsPubSub

#: The package root, its root modules and the public face of every subpackage.
PUBLIC_MODULES = [
    agentkit,
    agentkit.exceptions,
    agentkit.testing,
    agentkit.agents,
    agentkit.bus,
    agentkit.cli,
    agentkit.demo,
    agentkit.execution,
    agentkit.loadtest,
    agentkit.observability,
    agentkit.plugins,
    agentkit.reliability,
    agentkit.tools,
    agentkit.voting,
]

# One line of the tree in agentkit.exceptions' docstring: indent, name, optional (Builtin).
_TREE_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(?: \((?P<builtin>\w+)\))?")


def _exception_tree() -> dict[str, tuple[str | None, str | None]]:
    """``{name: (parent, builtin)}`` read from the tree in agentkit.exceptions' docstring."""
    doc = agentkit.exceptions.__doc__ or ""
    block = doc.split("Hierarchy::", 1)[1].split("\n\n", 2)[1]
    tree: dict[str, tuple[str | None, str | None]] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        found = _TREE_LINE.match(line.strip("\n")[4:])
        assert found, f"unreadable line in the exception tree: {line!r}"
        depth = len(found["indent"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        tree[found["name"]] = (stack[-1][1] if stack else None, found["builtin"])
        stack.append((depth, found["name"]))
    return tree


EXCEPTION_TREE = _exception_tree()


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda module: module.__name__)
def test_every_name_in_all_exists(module: ModuleType) -> None:
    """Every name listed in a public module's ``__all__`` can be imported from it."""
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda module: module.__name__)
def test_all_is_sorted_without_duplicates(module: ModuleType) -> None:
    """A public module's ``__all__`` is sorted and lists each name once."""
    assert list(module.__all__) == sorted(set(module.__all__))


def test_every_public_exception_is_exported_from_the_root() -> None:
    """Every exception in agentkit.exceptions is in its ``__all__`` and in agentkit's."""
    classes = {
        name
        for name, value in vars(agentkit.exceptions).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    assert classes == set(agentkit.exceptions.__all__)
    assert classes <= set(agentkit.__all__)
    for name in classes:
        assert getattr(agentkit, name) is getattr(agentkit.exceptions, name)


def test_the_docstring_tree_lists_every_exception() -> None:
    """The hierarchy drawn in the exceptions docstring names exactly the exported classes."""
    assert set(EXCEPTION_TREE) == set(agentkit.exceptions.__all__)


@pytest.mark.parametrize("name", sorted(EXCEPTION_TREE))
def test_exception_matches_its_place_in_the_tree(name: str) -> None:
    """Each exception subclasses AgentkitError, its parent in the tree and the builtin named."""
    error = getattr(agentkit.exceptions, name)
    parent, builtin = EXCEPTION_TREE[name]
    assert issubclass(error, agentkit.AgentkitError)
    if parent is not None:
        assert issubclass(error, getattr(agentkit.exceptions, parent))
    if builtin is not None:
        assert issubclass(error, getattr(builtins, builtin))
    doc = inspect.getdoc(error) or ""
    assert doc, f"{name} has no docstring"


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (agentkit.InvalidSubjectError, ValueError),
        (agentkit.RequestTimeoutError, TimeoutError),
        (agentkit.BackpressureError, TimeoutError),
        (agentkit.DeadLetterNotFoundError, KeyError),
        (agentkit.MessageEncodeError, TypeError),
        (agentkit.MessageDecodeError, ValueError),
        (agentkit.BusClosedError, RuntimeError),
        (agentkit.ConnectionLostError, ConnectionError),
        (agentkit.ConfigurationError, ValueError),
        (agentkit.MissingExtraError, ImportError),
        (agentkit.LimitExceededError, ValueError),
        (agentkit.PatternError, ValueError),
    ],
)
def test_errors_are_catchable_as_their_builtin(
    error: type[Exception], builtin: type[Exception]
) -> None:
    """Callers can catch agentkit errors as the builtin exception they resemble."""
    with pytest.raises(builtin):
        raise error("x") if error is not agentkit.MissingExtraError else error("feature", "x")


def test_missing_extra_error_names_the_pip_line() -> None:
    """MissingExtraError's message holds the exact pip install line for the extra."""
    error = agentkit.MissingExtraError("the NATS bus", "nats")
    assert error.install_line == "pip install 'agentkit-kernel[nats]'"
    assert error.install_line in str(error)
    assert isinstance(error, agentkit.ConfigurationError)


def test_buses_implement_the_bus_protocol() -> None:
    """Both core buses satisfy the runtime-checkable Bus protocol."""
    assert isinstance(InMemoryPubSub(), Bus)
    assert isinstance(NatsPubSub("nats://127.0.0.1:1"), Bus)


def test_conformance_suite_is_public() -> None:
    """agentkit.testing exports BusConformance, which pytest does not collect on its own."""
    suite = agentkit.testing.BusConformance
    assert not suite.__name__.startswith("Test")
    assert any(name.startswith("test_") for name in vars(suite))


def test_version_is_a_string() -> None:
    """agentkit.__version__ is a dotted version string."""
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", agentkit.__version__)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda module: module.__name__)
def test_public_names_come_from_the_core_and_have_docstrings(module: ModuleType) -> None:
    """Every class and function a public module exports is documented and defined in agentkit."""
    undocumented = []
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("agentkit"), (name, value.__module__)
            if not inspect.getdoc(value):
                undocumented.append(name)
    assert undocumented == []


def test_the_root_re_exports_the_faces_and_leaves_internals_to_them() -> None:
    """The root's names are the subpackages' own objects; internal bases and the demo live only
    in their subpackages."""
    faces = [module for module in PUBLIC_MODULES if module.__name__.count(".") == 1]
    for name in agentkit.__all__:
        owners = [face for face in faces if name in getattr(face, "__all__", ())]
        for face in owners:
            assert getattr(face, name) is getattr(agentkit, name), (name, face.__name__)
    for internal, face in [
        ("BusBase", agentkit.bus),
        ("BusSubscription", agentkit.bus),
        ("TaskTable", agentkit.execution),
        ("run_demo", agentkit.demo),
    ]:
        assert internal not in agentkit.__all__
        assert internal in face.__all__
