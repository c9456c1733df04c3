"""The Typer application object, shared helpers, and the error boundary."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ivig_kg import __version__
from ivig_kg.errors import IvigKgError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="ivig-kg",
    help="Build, query and export traceable knowledge graphs of clinical-trial evidence.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", "-s", help="Store directory \\[default: $IVIG_KG_STORE or the user data dir].",
                 show_default=False),
]


ANSI = {"error": "\x1b[1;31m", "ok": "\x1b[32m", "warn": "\x1b[33m"}
"""Styles for :func:`err` on a terminal (plain ANSI: no need to import rich for one word)."""


def err(message: str, *, lead: str = "", style: str | None = None) -> None:
    """A message on stderr (never mixed into results on stdout), taken literally.

    ``lead`` (e.g. ``error:``) is written before it, in ``style`` when stderr
    is a terminal.
    """
    if lead and style and sys.stderr.isatty():
        lead = f"{ANSI[style]}{lead}\x1b[0m"
    sys.stderr.write(f"{lead} {message}\n" if lead else message + "\n")
    sys.stderr.flush()


class ProgressBar:
    """A build progress callback that draws a rich bar on stderr once the job has run for a while.

    ``mode`` None (the default) draws only on a terminal and only after
    ``delay`` seconds, so quick builds and scripts see no bar; True draws at
    once, wherever stderr goes; False never draws. rich is imported only when
    a bar is actually drawn.
    """

    def __init__(self, mode: bool | None = None, delay: float = 1.0, what: str = "building"):
        self.enabled = sys.stderr.isatty() if mode is None else mode
        self.delay = delay if mode is None else 0.0
        self.what = what
        self.started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self.started < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn(self.what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.description}"), console=Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task(label, total=total)
        self._bar.update(self._task, completed=done, total=total, description=label)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def guarded(fn: F) -> F:
    """Report an IvigKgError as ``error: ...`` with its exit code instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IvigKgError as exc:
            err(str(exc), lead="error:", style="error")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:  # e.g. `ivig-kg export | head`
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ivig-kg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Build, query and export traceable knowledge graphs of clinical-trial evidence.

    Example: `ivig-kg build && ivig-kg query run conflicting-evidence`
    """


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ivig-kg")
