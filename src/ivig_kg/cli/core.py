"""Core commands: build, query, export, explain, schema, stats."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ivig_kg.cli.app import ProgressBar, StoreOption, app, err, guarded
from ivig_kg.cli.endpoint import (
    EndpointOption,
    GraphStoreOption,
    PasswordOption,
    TimeoutOption,
    TokenOption,
    UserOption,
    endpoint,
)
from ivig_kg.errors import UsageError
from ivig_kg.formats import RDF_FORMATS, RESULT_FORMATS

query_app = typer.Typer(help="Run canned or ad-hoc SPARQL queries.", no_args_is_help=True)
app.add_typer(query_app, name="query")

BUILD_LINES = 20
"""Up to this many rebuilt articles, build prints a line for each; beyond, only the summary."""

WIDE_TABLE_COLUMNS = 7
"""Above this many columns the terminal view prints one block per row."""

FORMAT_HELP = (
    f"Output format: {', '.join(RESULT_FORMATS)} (SELECT/ASK) "
    f"or {', '.join(RDF_FORMATS)} (CONSTRUCT/DESCRIBE)."
)


def _store(path: Path | None) -> Any:
    from ivig_kg.store import GraphStore

    return GraphStore(path)


@app.command()
@guarded
def build(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Source files or directories \\[default: the bundled articles].", show_default=False),
    ] = None,
    store: StoreOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    validate: Annotated[bool, typer.Option(
        "--validate/--no-validate", help="Refuse a graph that breaks a SHACL rule (see `ivig-kg validate`).")
    ] = True,
    reason: Annotated[bool, typer.Option(
        "--reason", help="Write the OWL-inferred types (HermiT; needs Java) into the inferred graph.")
    ] = False,
    full: Annotated[bool, typer.Option(
        "--full", help="Rebuild every article, even those unchanged since the last build.")
    ] = False,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", show_default=False,
        help="Draw a progress bar on stderr \\[default: on a terminal, for builds over a second].")
    ] = None,
    url: EndpointOption = None, graph_store: GraphStoreOption = None, user: UserOption = None,
    password: PasswordOption = None, token: TokenOption = None, timeout: TimeoutOption = None,
) -> None:
    """Build the graph from source files into a new store generation, replacing the old one only on success.

    Articles unchanged since the last build keep their graphs (use --full to rebuild all).
    With --endpoint, build and check locally, then replace each named graph on the remote store.

    Example: `ivig-kg build data/articles/ --store ./kg`
    """
    from ivig_kg.build import build as run_build
    from ivig_kg.build import build_checks

    checks = build_checks(validate=validate, reason=reason)
    remote = endpoint(url, store, graph_store, user, password, token, timeout)
    bar = ProgressBar(False if quiet else progress)
    if remote is not None:
        from ivig_kg import remote as rm

        try:
            pushed = rm.build(remote, sources, checks=checks, progress=bar)
        finally:
            bar.close()
        if not quiet:
            for a in pushed.build.articles:
                err(f"built {a.id}: {a.quads} quads from {a.source}")
            for g in pushed.push.removed:
                err(f"removed stale graph {g}")
            err(f"pushed {len(pushed.push.graphs)} graphs ({sum(n for _, n in pushed.push.graphs)} triples) "
                f"to {remote.store_url()} in {pushed.push.seconds:.2f} s")
        return
    try:
        report = run_build(sources, _store(store), checks=checks, progress=bar, incremental=not full)
    finally:
        bar.close()
    if quiet:
        return
    rebuilt = report.rebuilt
    if len(rebuilt) <= BUILD_LINES:
        for a in rebuilt:
            err(f"built {a.id}: {a.quads} quads from {a.source}")
    for aid in report.removed:
        err(f"removed {aid} (its source is no longer among the sources)")
    kept = len(report.articles) - len(rebuilt)
    detail = f"{len(rebuilt)} article(s) built" + (f", {kept} unchanged kept" if kept else "")
    err(f"store {report.store}: {report.quads} quads in {report.seconds:.2f} s ({detail})")


def _print_results(results: Any, fmt: str | None) -> None:
    from ivig_kg import formats
    from ivig_kg import results as res

    kind = res.kind(results)
    out = sys.stdout.buffer
    if kind == "graph":
        rdf = formats.rdf_format(None if fmt in (None, "table") else fmt)
        res.write_graph(results, rdf, out)
        return
    name = formats.result_format(fmt or "table")
    if name != "table":
        res.write_results(results, name, out)
        return
    table = res.readable(res.to_table(results))
    if not sys.stdout.isatty():  # a pipe or a file: plain text, and no terminal library to import
        sys.stdout.write(res.plain_text(table, wide=WIDE_TABLE_COLUMNS))
        err(f"{len(table.rows)} row(s)")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    if len(table.headers) <= WIDE_TABLE_COLUMNS:
        view = Table(*table.headers, show_lines=False, header_style="bold")
        for row in table.rows:
            view.add_row(*row)
        console.print(view)
    else:  # too many columns for a terminal: one block per row
        for i, row in enumerate(table.rows, 1):
            view = Table(show_header=False, box=None, padding=(0, 1))
            view.add_column(style="bold")
            view.add_column()
            for header, value in zip(table.headers, row, strict=True):
                if value:
                    view.add_row(header, value)
            console.rule(f"row {i}", align="left")
            console.print(view)
    err(f"{len(table.rows)} row(s)")


@query_app.command("list")
@guarded
def query_list(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List the canned queries: name, title, question and parameters.

    Example: `ivig-kg query list`
    """
    from ivig_kg.queries import registry

    queries = registry()
    if fmt == "json":
        import json

        typer.echo(json.dumps([
            {"name": q.name, "title": q.title, "question": q.question,
             "params": [{"name": p.name, "type": p.type, "optional": p.optional, "doc": p.doc} for p in q.params]}
            for q in queries.values()], indent=2))
        return
    if fmt != "table":
        raise UsageError(f"unknown format {fmt!r}; choose table or json")
    from rich.console import Console
    from rich.table import Table

    view = Table("name", "title", "question", "params", header_style="bold")
    for q in queries.values():
        params = ", ".join(f"{p.name} ({p.type}{', optional' if p.optional else ''})" for p in q.params)
        view.add_row(q.name, q.title, q.question, params)
    Console().print(view)


@query_app.command("run")
@guarded
def query_run(
    name: Annotated[str, typer.Argument(help="Canned query name (see `ivig-kg query list`).")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE, bound into the query (repeatable).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=FORMAT_HELP, show_default=False)] = None,
    store: StoreOption = None,
    url: EndpointOption = None, user: UserOption = None, password: PasswordOption = None,
    token: TokenOption = None, timeout: TimeoutOption = None,
) -> None:
    """Run a canned query by name (on the embedded store, or a remote one with --endpoint).

    Example: `ivig-kg query run effect-estimates --param study=ivigr:ivig-ms-commentary/achiron-2004 -f csv`
    """
    from ivig_kg import queries

    remote = endpoint(url, store, None, user, password, token, timeout)
    if remote is not None:
        from ivig_kg.remote import run_canned

        _print_results(run_canned(remote, name, queries.parse_params(param or [])), fmt)
        return
    _print_results(queries.run(name, queries.parse_params(param or []), store=_store(store)), fmt)


@query_app.command("sparql")
@guarded
def query_sparql(
    query: Annotated[str | None, typer.Argument(help="SPARQL text (or use --file).", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the query from a .rq file.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=FORMAT_HELP, show_default=False)] = None,
    store: StoreOption = None,
    url: EndpointOption = None, user: UserOption = None, password: PasswordOption = None,
    token: TokenOption = None, timeout: TimeoutOption = None,
) -> None:
    """Run an ad-hoc SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE); our prefixes are predeclared.

    Example: `ivig-kg query sparql 'SELECT ?s WHERE { ?s a ivig:Study }'`
    """
    if (query is None) == (file is None):
        raise UsageError("give a query or --file, not both")
    if file is not None:
        try:
            query = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror}") from None
    assert query is not None
    remote = endpoint(url, store, None, user, password, token, timeout)
    if remote is not None:
        from ivig_kg.remote import query as remote_query

        _print_results(remote_query(remote, query), fmt)
        return
    _print_results(_store(store).query(query), fmt)


@app.command()
@guarded
def export(
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help=f"One of {', '.join(RDF_FORMATS)} (or ttl, nt, nq, json-ld, xml). "
                     "Default: from -o's extension, else turtle.", show_default=False),
    ] = None,
    graph: Annotated[str | None, typer.Option("--graph", "-g", help="Export only this named graph (IRI).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
    store: StoreOption = None,
    url: EndpointOption = None, graph_store: GraphStoreOption = None, user: UserOption = None,
    password: PasswordOption = None, token: TokenOption = None, timeout: TimeoutOption = None,
) -> None:
    """Export the graph; triple formats without --graph get the union of all graphs.

    Example: `ivig-kg export -o graph.jsonld`
    """
    from ivig_kg import export as ex
    from ivig_kg import formats
    from ivig_kg.queries import expand_iri

    rdf = formats.rdf_format(fmt, output)
    target = expand_iri(graph) if graph else None
    remote = endpoint(url, store, graph_store, user, password, token, timeout)
    if remote is not None:
        from ivig_kg import remote as rm

        def run_export(out: Any) -> None:
            rm.export(remote, rdf, out, target)
    else:
        def run_export(out: Any) -> None:
            ex.export(_store(store), rdf, out, target)
    if output is None:
        run_export(sys.stdout.buffer)
        return
    tmp = output.with_name(output.name + ".part")
    try:
        with open(tmp, "wb") as fh:
            run_export(fh)
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    err(f"wrote {output} ({rdf.name})")


@app.command()
@guarded
def explain(
    entity: Annotated[str, typer.Argument(help="An id (achiron-2004), a CURIE (ivigr:...) or an IRI.")],
    store: StoreOption = None,
) -> None:
    """Show an entity's facts with the sentence of the article that states them, the quote highlighted.

    Example: `ivig-kg explain achiron-2004-rate-ratio`
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ivig_kg.explain import explain as run_explain

    exp = run_explain(_store(store), entity)
    console = Console(highlight=False)
    console.print(f"[bold]{escape(exp.label or exp.iri)}[/]  [dim]<{escape(exp.iri)}>[/]")
    facts = Table("property", "value", show_header=True, header_style="bold", box=None)
    for fact in exp.facts:
        value = fact.value if not fact.label or fact.label == fact.value else f"{fact.value}  ({fact.label})"
        facts.add_row(escape(fact.predicate), escape(value))
    console.print(facts)
    if not exp.sources:
        console.print("[dim]no source quote recorded for this entity[/]")
    for src in exp.sources:
        s, o, q = src.sentence, src.offset, len(src.quote)
        console.print(f"\n[bold]source[/] [dim]chars {src.start}-{src.end} of {escape(src.document)}[/]")
        console.print("  " + escape(s[:o]) + "[reverse]" + escape(s[o:o + q]) + "[/reverse]" + escape(s[o + q:]))


@app.command()
@guarded
def schema() -> None:
    """Print the JSON Schema of the source format (data/articles/*.yaml).

    Example: `ivig-kg schema > article.schema.json`
    """
    import json

    from ivig_kg.model import Article

    typer.echo(json.dumps(Article.model_json_schema(), indent=2))


@app.command()
@guarded
def stats(store: StoreOption = None) -> None:
    """Triples per named graph and entities per class.

    Example: `ivig-kg stats`
    """
    from rich.console import Console
    from rich.table import Table

    from ivig_kg.queries import stats as run_stats
    from ivig_kg.results import compact

    st = run_stats(_store(store))
    console = Console()
    graphs = Table("graph", "triples", header_style="bold")
    for g, n in st.graphs:
        graphs.add_row(compact(g), str(n))
    graphs.add_row("[bold]total[/]", f"[bold]{st.total}[/]")
    console.print(graphs)
    classes = Table("class", "entities", header_style="bold")
    for c, n in st.classes:
        classes.add_row(compact(c), str(n))
    console.print(classes)
