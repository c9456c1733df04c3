"""``ivig-kg audit``: numeric coverage of the article text by the graph."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ivig_kg.cli.app import StoreOption, app, err, guarded
from ivig_kg.errors import UsageError

AUDIT_FORMATS = {"table": "readable tables on stdout", "json": "the full report as JSON"}


@app.command()
@guarded
def audit(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Source files or directories the store was built from \\[default: the bundled "
                            "articles].", show_default=False),
    ] = None,
    store: StoreOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Output format: {', '.join(AUDIT_FORMATS)}.")]
    = "table",
    problems_only: Annotated[
        bool, typer.Option("--problems-only", help="Table: list only unexplained numbers and unquoted literals.")
    ] = False,
) -> None:
    """Check that every number of the article text is in the graph (or listed as not modeled), and back.

    Exits 1 when a number is neither carried by a graph literal whose quote covers it nor listed in the
    source file's `not_modeled` (with a reason), or when a graph literal's value is not written in its own quote.

    Example: `ivig-kg audit --store ./kg --format json`
    """
    if fmt not in AUDIT_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(AUDIT_FORMATS)}")
    from ivig_kg.audit import audit as run_audit
    from ivig_kg.store import GraphStore

    report = run_audit(sources, GraphStore(store))
    if fmt == "json":
        import json

        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_tables(report, problems_only)
    for a in report.articles:
        for note in a.notes:
            err(f"{a.source}: {note}", lead="warning:", style="warn")
    err(f"{report.numbers} number(s) in {len(report.articles)} article(s): coverage {report.coverage_percent:.1f}%, "
        f"{len(report.uncovered)} not in the graph, {len(report.unexplained)} unexplained; "
        f"{len(report.unquoted_literals)} graph literal(s) not written in their quote")
    if not report.ok:
        raise typer.Exit(1)


def _print_tables(report: Any, problems_only: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # `ivig-kg audit | head`: stop quietly, exit 0 (see guarded)
            self.quiet = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise BrokenPipeError

    console = _Console(soft_wrap=False)
    style = {"covered": "green", "not-modeled": "yellow", "uncovered": "bold red"}
    for a in report.articles:
        numbers = [n for n in a.numbers if not problems_only or n.status == "uncovered"]
        table = Table("where", "number", "kind", "status", "graph literal / reason", "context",
                      title=f"{a.article}: numbers of {a.text_path.name} "
                            f"({a.coverage_percent:.1f}% accounted for, {a.graph_coverage_percent:.1f}% in the graph)",
                      header_style="bold", show_lines=False)
        for n in numbers:
            why = "\n".join(str(g) for g in n.covered_by) if n.covered_by else (n.reason or "not in the graph")
            table.add_row(f"{n.line}:{n.column}", n.text, n.kind, f"[{style[n.status]}]{n.status}[/]",
                          escape(why), escape(f"...{n.context}..."))
        if numbers:
            console.print(table)
        literals = [c for c in a.literals if not problems_only or not c.ok]
        if literals:
            back = Table("node", "property", "value", "written in its quote as",
                         title=f"{a.article}: numeric literals of the graph", header_style="bold")
            for c in sorted(literals, key=lambda c: (c.ok, c.literal.node, c.literal.predicate)):
                back.add_row(escape(c.literal.node), c.literal.predicate, escape(c.literal.value),
                             escape(c.written_as) if c.ok else "[bold red]not in its quote[/]")
            console.print(back)
