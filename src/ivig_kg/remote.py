"""A remote SPARQL store: SPARQL 1.1 Protocol for queries, Graph Store HTTP Protocol for graphs.

``--endpoint URL`` makes ``build``, ``query`` and ``export`` talk to a SPARQL
server (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever...) instead of the
embedded store. Only the standard library's ``urllib`` is used.

* **Queries** are POSTed (``application/x-www-form-urlencoded``, ``query=``)
  with an Accept header listing SPARQL JSON/XML/TSV results and N-Triples/
  Turtle/RDF-XML; the answer is parsed back into the pyoxigraph result objects
  the embedded store returns, so the CLI prints both the same way. Our
  prefixes (``ivig:``...) are prepended when a query does not declare them.
  Canned-query parameters are bound by a trailing ``VALUES`` block whose terms
  pyoxigraph serializes (never by formatting user text into the query).
* **The default graph** must be the union of the named graphs, as in the
  embedded store (e.g. ``oxigraph serve --union-default-graph``); see the
  README for other servers.
* **Build** runs the full local build (parsing, checks) into a temporary
  store, then PUTs each named graph (``?graph=IRI``, which replaces it, so a
  rebuild is idempotent) and DELETEs graphs of ours (under
  :data:`ivig_kg.vocab.GRAPH`) that the new build no longer has. A push is not
  atomic across graphs: readers may briefly see a mix of old and new graphs.
* **Export** lists our graphs by SPARQL and GETs each by the Graph Store
  Protocol, then writes them with the embedded exporter.
* **Safety**: credentials (HTTP basic or a bearer token) are only ever sent to
  the endpoint's own scheme/host/port; a redirect elsewhere is refused, and a
  redirect of a POST/PUT/DELETE is refused too (urllib would silently turn it
  into a GET without its body). Every network failure is a :class:`StoreError`
  naming the URL; a rejected query is a :class:`QueryError` with the server's
  message.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import ipaddress
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPMessage
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from ivig_kg.errors import QueryError, StoreError, UsageError
from ivig_kg.queries import with_values
from ivig_kg.vocab import GRAPH, PREFIXES

ENV_TOKEN = "IVIG_KG_ENDPOINT_TOKEN"
ENV_PASSWORD = "IVIG_KG_ENDPOINT_PASSWORD"
DEFAULT_TIMEOUT = 60.0

QUERY_ACCEPT = ", ".join((
    "application/sparql-results+json",
    "application/sparql-results+xml;q=0.9",
    "text/tab-separated-values;q=0.8",
    "application/n-triples",
    "text/turtle;q=0.9",
    "application/rdf+xml;q=0.7",
))
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.7"

# Servers whose Graph Store Protocol URL follows from the query URL; others need --graph-store.
GRAPH_STORE_FROM_QUERY: dict[str, str] = {
    "/query": "/store",  # Oxigraph server: /query (SPARQL) and /store (Graph Store Protocol)
}

_LIST_GRAPHS = ("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                f"FILTER(STRSTARTS(STR(?g), {ox.Literal(GRAPH)})) }} ORDER BY ?g")


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach a remote store."""

    query_url: str
    graph_store_url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def create(cls, url: str, graph_store: str | None = None, *, user: str | None = None,
               password: str | None = None, token: str | None = None,
               timeout: float | None = None) -> Endpoint:
        """Check the URLs and the auth options; derive the Graph Store URL where we know how."""
        _check_url(url, "--endpoint")
        if graph_store is not None:
            _check_url(graph_store, "--graph-store")
        else:
            parts = urllib.parse.urlsplit(url)
            for suffix, replacement in GRAPH_STORE_FROM_QUERY.items():
                if parts.path.endswith(suffix):
                    path = parts.path[: -len(suffix)] + replacement
                    graph_store = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        if token and user:
            raise UsageError("give --user/--password or --token, not both")
        if password and not user:
            raise UsageError("--password needs --user")
        if user and password is None:
            raise UsageError(f"--user {user} needs a password", hint=f"give --password or set ${ENV_PASSWORD}")
        if timeout is not None and timeout <= 0:
            raise UsageError(f"--timeout must be positive, got {timeout:g}")
        return cls(url, graph_store, user, password, token or None,
                   DEFAULT_TIMEOUT if timeout is None else timeout)

    def store_url(self) -> str:
        """The Graph Store Protocol URL, or a usage error saying how to give it."""
        if self.graph_store_url is None:
            raise UsageError(
                f"cannot tell the Graph Store Protocol URL from --endpoint {self.query_url}",
                hint="give --graph-store URL (Oxigraph: http://HOST:7878/store, Fuseki: http://HOST:3030/DATASET/data, "
                     "GraphDB: http://HOST:7200/repositories/REPO/rdf-graphs/service, "
                     "Virtuoso: http://HOST:8890/sparql-graph-crud-auth)",
            )
        return self.graph_store_url


def _check_url(url: str, option: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} {url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:7878/query")
    if parts.username or parts.password:
        raise UsageError(f"{option} must not carry credentials in the URL",
                         hint=f"use --user with --password or ${ENV_PASSWORD}, or --token / ${ENV_TOKEN}")


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only for GET/HEAD and only within the endpoint's scheme, host and port."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        target = urllib.parse.urljoin(req.full_url, newurl)
        if _origin(target) != _origin(req.full_url):
            raise StoreError(f"{req.full_url} redirected ({code}) to another host: {target}; not following it",
                             hint="give the final URL as --endpoint/--graph-store if you trust it")
        if req.get_method() not in ("GET", "HEAD"):
            raise StoreError(f"{req.full_url} redirected a {req.get_method()} ({code}) to {target}",
                             hint="give that URL as --endpoint/--graph-store")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def request(ep: Endpoint, method: str, url: str, *, data: bytes | None = None,
            content_type: str | None = None, accept: str | None = None) -> Response:
    """One HTTP exchange; any failure becomes a StoreError (or QueryError for a rejected query)."""
    headers = {"User-Agent": "ivig-kg"}
    if accept:
        headers["Accept"] = accept
    if content_type:
        headers["Content-Type"] = content_type
    if ep.token:
        headers["Authorization"] = f"Bearer {ep.token}"
    elif ep.user is not None:
        pair = f"{ep.user}:{ep.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    proxies = urllib.request.ProxyHandler({} if _is_loopback(url) else None)
    opener = urllib.request.build_opener(proxies, _SameOriginRedirects())
    try:
        with opener.open(req, timeout=ep.timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", errors="replace").strip()
        raise _http_error(method, url, exc.code, exc.reason, body) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise StoreError(f"cannot connect to {url}: connection refused",
                             hint="is the SPARQL server running, and are host and port right?") from None
        if isinstance(reason, TimeoutError):
            raise _timeout(url, ep) from None
        if isinstance(reason, socket.gaierror):
            raise StoreError(f"cannot resolve the host of {url}: {reason.strerror}") from None
        raise StoreError(f"cannot reach {url}: {reason}") from None
    except TimeoutError:
        raise _timeout(url, ep) from None
    except (ConnectionError, OSError) as exc:  # e.g. reset while reading
        raise StoreError(f"connection to {url} failed: {exc}") from None


def _timeout(url: str, ep: Endpoint) -> StoreError:
    return StoreError(f"no answer from {url} within {ep.timeout:g} s", hint="raise --timeout, or check the server")


def _http_error(method: str, url: str, code: int, reason: str, body: str) -> StoreError | QueryError:
    detail = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()[:500]
    message = f"{method} {url} answered {code} {reason}" + (f": {detail}" if detail else "")
    if code in (401, 403):
        return StoreError(message, hint=f"check --user/--password (${ENV_PASSWORD}) or --token (${ENV_TOKEN}), "
                                        "and that the endpoint allows writes for a build")
    if code == 400 and method == "POST" and "graph=" not in url:
        return QueryError(message)
    if code == 404:
        return StoreError(message, hint="check the URL (--endpoint / --graph-store)")
    return StoreError(message)


# --- queries --------------------------------------------------------------------------------


def with_prefixes(sparql: str) -> str:
    """Prepend our PREFIX declarations that the query does not make itself (the embedded store predeclares them).

    They go on the query's first line, so a server's syntax-error line numbers still match the user's text.
    """
    missing = [p for p in PREFIXES if not re.search(rf"(?i)\bPREFIX\s+{re.escape(p)}\s*:", sparql)]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}> " for p in missing) + sparql


def query(ep: Endpoint, sparql: str, substitutions: Mapping[ox.Variable, Any] | None = None) -> Any:
    """Run SPARQL on the endpoint; returns pyoxigraph QuerySolutions, QueryBoolean or QueryTriples."""
    text = with_values(with_prefixes(sparql), substitutions)
    resp = request(ep, "POST", ep.query_url, data=urllib.parse.urlencode({"query": text}).encode(),
                   content_type="application/x-www-form-urlencoded", accept=QUERY_ACCEPT)
    return parse_answer(resp, ep.query_url)


def parse_answer(resp: Response, url: str) -> Any:
    """Turn a SPARQL Protocol answer into the objects the embedded store returns."""
    media = resp.media_type
    results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
    if results_format is not None and results_format != ox.QueryResultsFormat.CSV:
        try:
            return ox.parse_query_results(resp.body, format=results_format)
        except SyntaxError as exc:
            raise StoreError(f"{url} sent invalid {results_format.name}: {exc}") from None
    rdf_format = ox.RdfFormat.N_TRIPLES if media == "text/plain" else (
        ox.RdfFormat.from_media_type(media) if media else None)
    if rdf_format is None:
        raise StoreError(f"{url} answered with an unsupported content type {media or '(none)'!r}",
                         hint=f"it should honour Accept: {QUERY_ACCEPT}")
    memory = ox.Store()
    try:
        memory.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                      for t in ox.parse(resp.body, format=rdf_format))
    except SyntaxError as exc:
        raise StoreError(f"{url} sent invalid {rdf_format.name}: {exc}") from None
    # A CONSTRUCT over the parsed triples gives the same QueryTriples type the embedded store returns.
    return memory.query("CONSTRUCT WHERE { ?s ?p ?o }")


def run_canned(ep: Endpoint, name: str, params: Mapping[str, str] | None = None) -> Any:
    """Run a canned query on the endpoint, its parameters checked and bound as for the embedded store."""
    from ivig_kg import queries

    canned = queries.get(name)
    return query(ep, canned.text, queries.bind(canned, params or {}))


def graph_names(ep: Endpoint) -> list[str]:
    """Our named graphs on the endpoint (those under :data:`ivig_kg.vocab.GRAPH`; a server may have others)."""
    results = query(ep, _LIST_GRAPHS)
    return [s["g"].value for s in results if isinstance(s["g"], ox.NamedNode)]


# --- Graph Store Protocol --------------------------------------------------------------------


def _graph_url(ep: Endpoint, graph: str | None) -> str:
    base = ep.store_url()
    sep = "&" if urllib.parse.urlsplit(base).query else "?"
    arg = "default" if graph is None else urllib.parse.urlencode({"graph": graph})
    return f"{base}{sep}{arg}"


def put_graph(ep: Endpoint, graph: str | None, triples: Iterable[ox.Triple]) -> int:
    """Replace one graph (None = the default graph) with ``triples``; returns how many were sent."""
    items = list(triples)
    body = ox.serialize(items, format=ox.RdfFormat.N_TRIPLES)
    assert body is not None
    request(ep, "PUT", _graph_url(ep, graph), data=body, content_type="application/n-triples")
    return len(items)


def delete_graph(ep: Endpoint, graph: str) -> None:
    request(ep, "DELETE", _graph_url(ep, graph))


def get_graph(ep: Endpoint, graph: str) -> list[ox.Triple]:
    """One graph's triples (N-Triples preferred; Turtle or RDF/XML accepted)."""
    url = _graph_url(ep, graph)
    resp = request(ep, "GET", url, accept=GRAPH_ACCEPT)
    media = resp.media_type
    fmt = ox.RdfFormat.N_TRIPLES if media == "text/plain" else (ox.RdfFormat.from_media_type(media) if media else None)
    if fmt is None:
        raise StoreError(f"{url} answered with an unsupported content type {media or '(none)'!r}")
    try:
        return list(ox.parse(resp.body, format=fmt))
    except SyntaxError as exc:
        raise StoreError(f"{url} sent invalid {fmt.name}: {exc}") from None


@dataclass
class PushReport:
    graphs: list[tuple[str, int]] = field(default_factory=list)
    """(graph IRI, triples sent), in push order."""
    removed: list[str] = field(default_factory=list)
    """Graphs of ours on the endpoint that the pushed dataset no longer has (deleted)."""
    seconds: float = 0.0


def push(ep: Endpoint, oxstore: ox.Store) -> PushReport:
    """Replace each named graph of ``oxstore`` on the endpoint; delete our graphs it no longer has."""
    started = time.perf_counter()
    ep.store_url()  # fail before any work if we cannot push
    report = PushReport()
    names = sorted(g.value for g in oxstore.named_graphs() if isinstance(g, ox.NamedNode))
    before = set(graph_names(ep))
    for name in names:
        quads = oxstore.quads_for_pattern(None, None, None, ox.NamedNode(name))
        report.graphs.append((name, put_graph(ep, name, (q.triple for q in quads))))
    default = [q.triple for q in oxstore.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    if default:
        put_graph(ep, None, default)
    for stale in sorted(before - set(names)):
        delete_graph(ep, stale)
        report.removed.append(stale)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class RemoteBuildReport:
    endpoint: str
    build: Any
    """The local :class:`ivig_kg.build.BuildReport` (articles, quads)."""
    push: PushReport


def build(ep: Endpoint, sources: Sequence[Path] | None, *, checks: Iterable[Any] = (),
          progress: Any = None) -> RemoteBuildReport:
    """Build locally into a temporary store (the full checked pipeline), then push every graph.

    A source error stops before anything is sent, so the remote store is left as it was.
    """
    from ivig_kg.build import build as run_build
    from ivig_kg.store import GraphStore

    ep.store_url()
    with tempfile.TemporaryDirectory(prefix="ivig-kg-remote-build-") as tmp:
        local = GraphStore(Path(tmp) / "store")
        report = run_build(sources, local, checks=checks, progress=progress)
        oxstore = local.open()
        try:
            pushed = push(ep, oxstore)
        finally:
            del oxstore
            gc.collect()  # release RocksDB files before the directory is removed
    return RemoteBuildReport(ep.query_url, report, pushed)


# --- export --------------------------------------------------------------------------------


def fetch(ep: Endpoint, graph: str | None = None) -> ox.Store:
    """Our graphs (or one) from the endpoint, in an in-memory store."""
    names = graph_names(ep)
    if graph is not None:
        if graph not in names:
            raise UsageError(f"no graph {graph!r} at {ep.query_url}",
                             hint="graphs: " + (", ".join(names) or "none (build first: ivig-kg build --endpoint ...)"))
        names = [graph]
    if not names:
        raise StoreError(f"no ivig-kg graph at {ep.query_url}", hint="build one: ivig-kg build --endpoint URL")
    memory = ox.Store()
    for name in names:
        g = ox.NamedNode(name)
        memory.extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in get_graph(ep, name))
    return memory


def export(ep: Endpoint, fmt: Any, output: IO[bytes], graph: str | None = None) -> None:
    """Write the endpoint's graphs (or one) like the embedded ``export`` (same formats, same rules)."""
    from ivig_kg import export as ex

    with _as_graph_store(fetch(ep, graph)) as store:
        ex.export(store, fmt, output, graph)


@contextlib.contextmanager
def _as_graph_store(memory: ox.Store) -> Iterator[Any]:
    """The embedded exporter reads a GraphStore; give it one backed by the in-memory store."""
    from ivig_kg.store import GraphStore

    class _Fetched(GraphStore):
        def open(self) -> ox.Store:
            return memory

    yield _Fetched(Path("(remote)"))
