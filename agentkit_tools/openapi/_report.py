"""What an import did: the tools made and the operations left out, each with why and where."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImportReport", "SkippedOperation"]


@dataclass(frozen=True, slots=True)
class SkippedOperation:
    """An operation that gave no tool.

    ``location`` is its JSON pointer in the source document (``#/paths/~1users/get``);
    ``reason`` says what is wrong and, when the fault lies elsewhere (a shared schema, a
    referenced parameter), where.
    """

    method: str
    path: str
    operation_id: str | None
    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.location}): {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The result of :meth:`OpenAPIParser.import_spec`.

    ``imported``: the tool names made (and registered, when a registry was given), in
    document order. ``skipped``: the operations left out. ``problems``: what validation
    found outside any operation that was imported or skipped (``info``, unused components),
    as ``"at <pointer>: <message>"``; they cost no tool.
    """

    imported: tuple[str, ...]
    skipped: tuple[SkippedOperation, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether every operation became a tool and validation found nothing."""
        return not self.skipped and not self.problems

    def summary(self) -> str:
        """One line: how many tools, how many operations skipped, how many other problems."""
        text = f"{len(self.imported)} tools imported, {len(self.skipped)} operations skipped"
        if self.problems:
            text += f", {len(self.problems)} other problems"
        return text
