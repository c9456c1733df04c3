"""``ivig-kg plot``: figures drawn from the graph (matplotlib is imported only here, when a plot runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ivig_kg.cli.app import StoreOption, app, err, guarded
from ivig_kg.cli.endpoint import EndpointOption, PasswordOption, TimeoutOption, TokenOption, UserOption, endpoint

plot_app = typer.Typer(help="Draw figures from the graph.", no_args_is_help=True)
app.add_typer(plot_app, name="plot")


@plot_app.command("forest")
@guarded
def forest(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; .svg or .png picks the format.")
    ] = Path("forest.svg"),
    query: Annotated[
        str, typer.Option("--query", help="Canned query giving the rows (see queries/forest-plot.rq for columns).")
    ] = "forest-plot",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE bound into the query (repeatable).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="svg or png \\[default: from --output].", show_default=False)
    ] = None,
    store: StoreOption = None,
    url: EndpointOption = None, user: UserOption = None, password: PasswordOption = None,
    token: TokenOption = None, timeout: TimeoutOption = None,
) -> None:
    """Draw a forest plot of the effect estimates: point, CI, log scale for ratios, significance marked.

    In the SVG, each point's tooltip is the quote of the source text that states it.

    Example: `ivig-kg plot forest -o forest.png`
    """
    from ivig_kg import plot, queries
    from ivig_kg.store import GraphStore

    kind = plot.plot_format(fmt, output.name)
    params = queries.parse_params(param or [])
    remote = endpoint(url, store, None, user, password, token, timeout)
    if remote is not None:
        from ivig_kg.remote import run_canned

        data = plot.render(plot.rows_from_results(run_canned(remote, query, params)), kind)
    else:
        data = plot.forest(GraphStore(store), kind, query, params)
    tmp = output.with_name(output.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(output)
    except OSError as exc:
        from ivig_kg.errors import IvigKgError

        raise IvigKgError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    err(f"wrote {output} ({kind}, {len(data)} bytes)")
