"""The ``serve`` command: a SPARQL endpoint, Linked Data pages and a query page over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from ivig_kg.cli.app import StoreOption, app, err, guarded


@app.command()
@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 unless you mean to expose it.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 7878,
    store: StoreOption = None,
    base: Annotated[
        str | None,
        typer.Option(help="Public URL that https://w3id.org/ivig-kg/ maps onto, so graph IRIs and page links "
                     "agree \\[default: http://HOST:PORT/].", show_default=False),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds a query may run before it is stopped (504).")] = 5.0,
    max_rows: Annotated[int, typer.Option(help="Most rows (or triples) in one answer; more is cut and flagged.")]
    = 10_000,
    allow_update: Annotated[bool, typer.Option("--allow-update", help="Accept SPARQL updates and Graph Store "
                                               "writes from clients that send --token.")] = False,
    token: Annotated[str | None, typer.Option(help="Bearer token required for writes (with --allow-update).",
                                              envvar="IVIG_KG_TOKEN", show_default=False)] = None,
    allow_federation: Annotated[bool, typer.Option("--allow-federation", help="Let SERVICE and LOAD reach other "
                                                   "servers (refused by default).")] = False,
    cors: Annotated[str | None, typer.Option(help="Send CORS headers allowing this origin (e.g. "
                                             "https://example.org or *).", show_default=False)] = None,
    workers: Annotated[int, typer.Option(help="Query worker processes (each can be stopped at the timeout).")]
    = 2,
) -> None:
    """Serve the graph: SPARQL 1.1 Protocol at /sparql, Linked Data pages, a query page at /. Read-only by default.

    Example: `ivig-kg serve --port 7878 --timeout 10` then open http://127.0.0.1:7878/
    """
    import logging
    import sys

    from ivig_kg.store import GraphStore
    from ivig_kg.web import serve as run_serve
    from ivig_kg.web.server import ServeOptions

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    options = ServeOptions(host=host, port=port, base=base, timeout=timeout, max_rows=max_rows,
                           allow_update=allow_update, token=token, allow_federation=allow_federation, cors=cors,
                           workers=workers)

    def ready(url: str) -> None:
        mode = "read-write (token required)" if allow_update else "read-only"
        err(f"serving {GraphStore(store).path} at {url} ({mode}); SPARQL endpoint {url}sparql; Ctrl-C stops")

    run_serve(GraphStore(store), options, ready)
