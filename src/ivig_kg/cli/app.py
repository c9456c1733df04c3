"""The Typer application object, shared helpers, and the error boundary."""

from __future__ import annotations

import functools
import sys
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
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", "-s", help="Store directory [default: $IVIG_KG_STORE or the user data dir].",
                 show_default=False),
]


def err(message: str) -> None:
    """A message on stderr (never mixed into results on stdout)."""
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(message)


def guarded(fn: F) -> F:
    """Report an IvigKgError as ``error: ...`` with its exit code instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IvigKgError as exc:
            from rich.markup import escape

            err(f"[bold red]error:[/] {escape(str(exc))}")
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
