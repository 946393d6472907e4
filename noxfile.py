"""Sessions: tests, core (the kernel alone), lint, typecheck, imports, packaging, bench, demo."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "imports", "tests", "core"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite with every extra: NATS and Ray tests run (and fail if they cannot)."""
    session.install("-r", "requirements-dev.txt")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """The core install alone: agentkit imports and reports missing extras with the fix."""
    session.install("-e", ".")
    session.install(
        "pytest", "pytest-asyncio", "pytest-timeout", "hypothesis", "hypothesis-jsonschema"
    )
    session.run("python", "-c", "import agentkit")
    output = session.run("agentkit", "plugins", silent=True)
    if output is None or "pip install 'agentkit-kernel[ray]'" not in output:
        session.error(f"`agentkit plugins` did not name the ray extra:\n{output}")
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:benchmark",
        "-o",
        "addopts=",
        "-m",
        "not nats and not ray",
        "tests/plugins/test_plugins.py",
        "tests/cli/test_cli.py",
        "tests/bus/test_bus_memory.py",
        "tests/bus/test_subjects.py",
        "tests/bus/test_messages.py",
        "tests/test_clock.py",
        "tests/test_public_api.py",
        "tests/voting/test_voting.py",
        "tests/voting/test_voting_properties.py",
        "tests/voting/test_resolver.py",
        "tests/reliability/test_breaker.py",
        "tests/reliability/test_health.py",
        "tests/reliability/test_failover.py",
        "tests/execution/test_local_executor.py",
        "tests/tools/test_registry.py",
        "tests/tools/test_validation.py",
        "tests/tools/test_tool_export.py",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def imports(session: nox.Session) -> None:
    """The import rules (import-linter): no plugin imports a private core module, the core
    never imports a plugin, no cycles between subpackages."""
    session.install("-r", "requirements-dev.txt")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def packaging(session: nox.Session) -> None:
    """Build the four wheels and check them alone and together in fresh venvs."""
    session.run("bash", ".ci/packaging", external=True, env={"PYTHON": "python3"})


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the packages."""
    session.install("-r", "requirements-dev.txt")
    session.run("mypy", "--strict", "agentkit", "agentkit_tools", "agentkit_ray", "agentkit_mcp")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The benchmark suite, each figure beside its anchor (figures for benchmarks/README.md)."""
    session.install("-r", "requirements-dev.txt")
    session.install("-e", ".[bench]")  # the peers measured beside agentkit
    session.run(
        "python",
        "-m",
        "pytest",
        "benchmarks",
        "--benchmark-enable",
        "--benchmark-only",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Run `agentkit demo` on the in-memory bus with the four distributions."""
    session.install("-r", "requirements-dev.txt")
    session.run("agentkit", "demo", *session.posargs)
