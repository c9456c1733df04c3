"""Options shared by the commands that can use a remote SPARQL store (``--endpoint URL``) instead of --store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ivig_kg.remote import Endpoint

_PANEL = "Remote store (SPARQL 1.1 Protocol + Graph Store Protocol)"

EndpointOption = Annotated[
    str | None,
    typer.Option("--endpoint", help="SPARQL query URL of a remote store to use instead of --store, "
                 "e.g. http://127.0.0.1:7878/query.", show_default=False, rich_help_panel=_PANEL),
]
GraphStoreOption = Annotated[
    str | None,
    typer.Option("--graph-store", help="Its Graph Store Protocol URL (build, export) \\[default: for "
                 "Oxigraph's .../query, .../store].", show_default=False, rich_help_panel=_PANEL),
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="HTTP basic auth user.", show_default=False, rich_help_panel=_PANEL)
]
PasswordOption = Annotated[
    str | None,
    typer.Option("--password", envvar="IVIG_KG_ENDPOINT_PASSWORD", help="HTTP basic auth password.",
                 show_default=False, show_envvar=True, rich_help_panel=_PANEL),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="IVIG_KG_ENDPOINT_TOKEN", help="Bearer token.", show_default=False,
                 show_envvar=True, rich_help_panel=_PANEL),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", help="Seconds to wait for each HTTP answer \\[default: 60].", show_default=False,
                 rich_help_panel=_PANEL),
]


def endpoint(url: str | None, store: Path | None, graph_store: str | None = None, user: str | None = None,
             password: str | None = None, token: str | None = None,
             timeout: float | None = None) -> Endpoint | None:
    """The remote endpoint the options describe, or None for the embedded store."""
    from ivig_kg.errors import UsageError

    if url is None:
        if graph_store or user:
            raise UsageError("--graph-store and --user need --endpoint")
        return None
    if store is not None:
        raise UsageError("give --store or --endpoint, not both")
    from ivig_kg.remote import Endpoint

    return Endpoint.create(url, graph_store, user=user, password=password, token=token, timeout=timeout)
