"""`ivig-kg links`: list the mappings to external terminologies; `ivig-kg links check`: validate them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ivig_kg.cli.app import app, err, guarded
from ivig_kg.errors import UsageError

LINK_FORMATS = ("table", "tsv", "json")
FIELDS = ("concept", "predicate", "external", "label", "source", "file", "line")

links_app = typer.Typer(
    help="Links of our concepts to MeSH, MONDO, ATC, PubMed... (data/mappings/*.sssom.tsv).",
    invoke_without_command=True,
)
app.add_typer(links_app, name="links")

FilesOption = Annotated[
    list[Path] | None,
    typer.Option("--mappings", "-m", help="Mapping files or directories \\[default: the bundled data/mappings/].",
                 show_default=False),
]


@links_app.callback()
@guarded
def links(
    ctx: typer.Context,
    scheme: Annotated[
        str | None, typer.Option("--scheme", help="Only links into this scheme (mesh, MONDO, atc, pubmed...).",
                                 show_default=False),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, tsv or json.")] = "table",
    mappings: FilesOption = None,
) -> None:
    """List every link: our concept, the predicate, the external term, its label and the verifying source.

    Example: `ivig-kg links --scheme atc --format tsv`
    """
    if ctx.invoked_subcommand is not None:
        return
    if fmt not in LINK_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(LINK_FORMATS)}")
    from ivig_kg.links import list_links

    rows = list_links(mappings, scheme)
    records = [{"concept": r.subject_id, "predicate": r.predicate_id, "external": r.object_id,
                "label": r.object_label, "source": r.source, "file": r.path.name, "line": r.line}
               for r in rows]
    if fmt == "json":
        import json

        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt == "tsv":
        out = sys.stdout
        out.write("\t".join(FIELDS) + "\n")
        for rec in records:
            out.write("\t".join(str(rec[f]).replace("\t", " ") for f in FIELDS) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        view = Table(header_style="bold")
        for name in FIELDS[:5]:
            view.add_column(name, no_wrap=name in ("concept", "predicate", "external"))
        for rec in records:
            view.add_row(*(str(rec[f]) for f in FIELDS[:5]))
        Console(soft_wrap=False).print(view)
        err(f"{len(records)} link(s)")


@links_app.command("check")
@guarded
def links_check(
    mappings: FilesOption = None,
    articles: Annotated[
        list[Path] | None,
        typer.Option("--articles", "-a", help="Article sources declaring the concepts \\[default: the bundled "
                     "data/articles/].", show_default=False),
    ] = None,
) -> None:
    """Check the mapping files: CURIE syntax per scheme, known prefixes, one exact match per scheme,
    a justification on every row, subjects declared by the articles. Exit 1 with file:line on a problem.

    Example: `ivig-kg links check --mappings data/mappings/`
    """
    from ivig_kg.links import check

    report = check(mappings, articles=articles)
    for problem in report.problems:
        err(str(problem), lead="error:", style="error")
    if not report.ok:
        err(f"{len(report.problems)} problem(s) in {len(report.files)} file(s)")
        raise typer.Exit(1)
    err(f"ok: {report.rows} mapping(s) in {len(report.files)} file(s)")
