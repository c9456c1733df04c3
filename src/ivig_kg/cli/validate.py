"""The ``validate`` command: SHACL shapes, statistical rules, OWL reasoning and the claims check."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ivig_kg.cli.app import StoreOption, app, err, guarded
from ivig_kg.errors import UsageError

if TYPE_CHECKING:
    from ivig_kg.validate import ValidationReport


def _table(report: ValidationReport) -> None:
    """The readable report: SHACL results with their source quotes, the claims check, the reasoner."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ivig_kg.results import compact

    console = Console(highlight=False)
    if report.results:
        view = Table("severity", "focus node", "path", "message", "source quote",
                     title="SHACL results", header_style="bold", show_lines=True)
        for col in view.columns[1:3]:
            col.overflow = "fold"  # IRIs: wrap, never truncate
        for r in report.results:
            colour = "red" if r.severity == "Violation" else "yellow"
            view.add_row(f"[{colour}]{r.severity}[/]", escape(compact(r.focus)),
                         escape(compact(r.path)) if r.path else "", escape(r.message),
                         escape(" … ".join(f"“{q}”" for q in r.quotes)) or "[dim]none[/]")
        console.print(view)
    else:
        console.print(f"[green]SHACL:[/] no violations or warnings in {report.data_triples} triples")

    if report.claims:
        claims = Table("claim", "stated", "recomputed", "studies showing benefit", "verdict",
                       title="Claims checked against the studies' own results", header_style="bold",
                       show_lines=True)
        for col in claims.columns:
            col.overflow = "fold"
        for c in report.claims:
            stated = f"{c.stated_benefit} of {c.stated_considered}"
            computed = f"{len(c.showing_benefit)} of {len(c.considered)}"
            verdict = "[green]agrees[/]" if c.agrees else f"[yellow]disagrees[/]: {escape(c.explanation)}"
            claims.add_row(escape(compact(c.claim)) + "\n" + escape(c.statement), stated, computed,
                           escape(", ".join(compact(s) for s in c.showing_benefit)) or "none", verdict)
        console.print(claims)

    rs = report.reasoning
    if rs is None:
        console.print("[dim]OWL reasoning: not run (--no-reason)[/]")
    elif not rs.available:
        console.print(f"[yellow]OWL reasoning:[/] {escape(rs.message)}")
    elif rs.consistent is False:
        console.print(f"[red]OWL reasoning:[/] {escape(rs.message)}")
    else:
        console.print(f"[green]OWL reasoning:[/] consistent (HermiT, {rs.triples} triples, "
                      f"{rs.seconds:.1f} s); {len(rs.inferred)} inferred type(s)"
                      + (f"; [yellow]{escape(rs.message)}[/]" if rs.message else ""))
        inferred = Table("individual", "inferred type", header_style="bold", box=None)
        for t in rs.inferred:
            inferred.add_row(escape(compact(t.individual)), escape(compact(t.cls)))
        if rs.inferred:
            console.print(inferred)


def _turtle(report: ValidationReport) -> None:
    """The W3C SHACL validation report graph (sh:ValidationReport) as Turtle."""
    sys.stdout.write(report.report_turtle)
    sys.stdout.flush()
    if report.reasoning is not None and report.reasoning.available is False:
        err(report.reasoning.message, lead="warning:", style="warn")
    elif report.reasoning is not None and report.reasoning.consistent is False:
        err(report.reasoning.message, lead="error:", style="error")


VALIDATE_FORMATS: dict[str, Callable[[ValidationReport], None]] = {"table": _table, "turtle": _turtle}
"""Output formats of ``validate``, by name."""


@app.command()
@guarded
def validate(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"Report format: {', '.join(VALIDATE_FORMATS)} "
                          "(turtle = the W3C SHACL validation report graph).")
    ] = "table",
    reason: Annotated[
        bool, typer.Option("--reason/--no-reason", help="Also check OWL consistency and classify with HermiT "
                           "(needs Java; skipped with a message without it).")
    ] = True,
    store: StoreOption = None,
) -> None:
    """Check the built graph: SHACL shapes, statistical sanity rules, OWL consistency, claims vs numbers.

    Exits 0 when the graph conforms (warnings allowed), 1 when a rule is violated
    or the graph is inconsistent with the ontology.

    Example: `ivig-kg validate --format turtle > report.ttl`
    """
    if fmt not in VALIDATE_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose {' or '.join(VALIDATE_FORMATS)}")
    from ivig_kg.store import GraphStore
    from ivig_kg.validate import validate as run_validate

    report = run_validate(GraphStore(store), reason=reason)
    VALIDATE_FORMATS[fmt](report)
    disagreeing = sum(not c.agrees for c in report.claims)
    summary = (f"{len(report.violations)} violation(s), {len(report.warnings)} warning(s), "
               f"{len(report.claims) - disagreeing} of {len(report.claims)} counted claim(s) agree with the numbers")
    if report.conforms:
        err(summary, lead="conforms:", style="ok")
        return
    err(summary, lead="does not conform:", style="error")
    raise typer.Exit(1)
