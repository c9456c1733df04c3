"""The exceptions ivig-kg raises for anything a user can cause.

The CLI catches :class:`IvigKgError` once and turns it into a message on
stderr and an exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in a file a problem sits (1-based line and column)."""

    path: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        out = str(self.path)
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out


class IvigKgError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        out = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out


class UsageError(IvigKgError):
    """The command line itself is wrong (unknown format, missing argument...)."""

    exit_code = 2


class SourceError(IvigKgError):
    """A curated source file (YAML, text or mapping) is malformed or inconsistent."""


class SourceErrors(SourceError):
    """Several problems found in one pass over the sources; each keeps its location."""

    def __init__(self, errors: list[SourceError]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) in the sources")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class StoreError(IvigKgError):
    """The store is missing, locked by another process, or unreadable."""


class StoreLockedError(StoreError):
    """Another process is writing the store."""


class QueryError(IvigKgError):
    """A SPARQL query is unknown, malformed, or given bad parameters."""


class ValidationFailed(IvigKgError):
    """A check ran and found problems; the report says which."""
