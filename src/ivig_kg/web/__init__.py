"""``ivig-kg serve``: a SPARQL 1.1 Protocol endpoint, Linked Data pages and a query page.

Only the ``serve`` command imports this package (it starts processes and
sockets). :func:`make_server` builds the server (tests run it in a thread);
:func:`serve` runs it until interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ivig_kg.errors import StoreError, UsageError
from ivig_kg.store import GraphStore

if TYPE_CHECKING:
    from ivig_kg.web.server import ServeOptions, SparqlServer

__all__ = ["make_server", "serve"]


def check_options(options: ServeOptions) -> None:
    """Refuse unsafe or meaningless combinations before anything starts."""
    if options.allow_update and not options.token:
        raise UsageError("--allow-update needs --token TOKEN (clients send it as 'Authorization: Bearer TOKEN')")
    if options.token and not options.allow_update:
        raise UsageError("--token only makes sense with --allow-update")
    if options.token is not None and len(options.token) < 8:
        raise UsageError("--token must be at least 8 characters long")
    if options.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if options.max_rows < 1:
        raise UsageError("--max-rows must be at least 1")
    if options.workers < 1:
        raise UsageError("--workers must be at least 1")
    if options.base is not None and not options.base.startswith(("http://", "https://")):
        raise UsageError(f"--base must be an http(s) URL, not {options.base!r}")


def make_server(store: GraphStore, options: ServeOptions) -> SparqlServer:
    """A bound, ready server over ``store`` (call ``serve_forever``; ``server_close`` stops its workers)."""
    from ivig_kg.web.server import SparqlServer

    check_options(options)
    if store.current_generation() is None:
        raise StoreError(f"no graph has been built at {store.path}",
                         hint=f"run 'ivig-kg build --store {store.path}' first")
    try:
        return SparqlServer(options, str(store.path))
    except OSError as exc:
        raise StoreError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}",
                         hint="pick another --port, or stop the program using it") from None


def serve(store: GraphStore, options: ServeOptions, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C); ``on_ready`` gets the server's base URL once it listens."""
    server = make_server(store, options)
    try:
        if on_ready is not None:
            on_ready(server.site.base)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
