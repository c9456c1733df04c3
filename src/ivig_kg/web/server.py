"""The HTTP front: routing, the SPARQL 1.1 Protocol, security checks, CORS; store work goes to the pool.

Standard library only (:class:`http.server.ThreadingHTTPServer`). This process
never opens the store: it checks each request (read-only by default, no
SERVICE/LOAD unless federation is allowed, body sizes, tokens), then hands a
task to a worker process that can be killed at the timeout.
"""

from __future__ import annotations

import hmac
import importlib.util
import json
import logging
import re
import socket
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources as importlib_resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ivig_kg import vocab
from ivig_kg.web import conneg, html
from ivig_kg.web.pool import Pool
from ivig_kg.web.scan import scan
from ivig_kg.web.worker import Response, text

log = logging.getLogger("ivig_kg.serve")

MAX_QUERY_BYTES = 1 << 20
MAX_GRAPH_BYTES = 64 << 20
LD_PREFIXES = ("resource/", "concept/", "graph/", "ontology")
STATIC = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``ivig-kg serve`` can be told; the defaults are the safe ones."""

    host: str = "127.0.0.1"
    port: int = 7878
    base: str | None = None
    """Public URL that :data:`ivig_kg.vocab.BASE` maps onto (default ``http://HOST:PORT/``)."""
    timeout: float = 5.0
    max_rows: int = 10_000
    allow_update: bool = False
    token: str | None = None
    allow_federation: bool = False
    cors: str | None = None
    workers: int = 2


class SparqlServer(ThreadingHTTPServer):
    """The server object: options, the site, and the worker pool."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, options: ServeOptions, store_path: str):
        super().__init__((options.host, options.port), Handler)
        self.options = options
        port = self.server_address[1]
        host = options.host if ":" not in options.host else f"[{options.host}]"
        base = options.base or f"http://{host}:{port}/"
        self.site = html.Site(base if base.endswith("/") else base + "/")
        self.allowed_hosts: set[str] | None = None
        if options.host in LOOPBACK:  # refuse DNS-rebinding requests to a loopback server
            self.allowed_hosts = {f"{h}:{port}" for h in LOOPBACK} | {urlsplit(self.site.base).netloc}
        try:
            self.pool = Pool(max(1, options.workers), store_path, self.site.base, options.max_rows)
        except BaseException:
            self.server_close()
            raise

    def server_close(self) -> None:
        super().server_close()
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.response = text(status, message, headers)


class Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    protocol_version = "HTTP/1.1"
    server_version = "ivig-kg"
    sys_version = ""

    def version_string(self) -> str:
        return "ivig-kg"

    def setup(self) -> None:
        super().setup()
        # headers and body leave in separate writes: without NODELAY, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        try:
            response = self._route()
        except _Refused as refused:
            response = refused.response
        except Exception:
            log.error("error answering %s %s:\n%s", self.command, self.path, traceback.format_exc())
            response = text(500, "internal server error (details are in the server log)")
        self._send(response)

    def _send(self, response: Response) -> None:
        status, headers, body = response
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        if any(k.lower() == "content-type" and v.startswith("text/html") for k, v in headers):
            self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        cors = self.server.options.cors
        if cors:
            self.send_header("Access-Control-Allow-Origin", cors)
            self.send_header("Access-Control-Expose-Headers", "X-Ivig-Truncated, Content-Type")
            if cors != "*":
                self.send_header("Vary", "Origin")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _dispatch

    def _body(self, limit: int) -> bytes:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise _Refused(411, "send a Content-Length (chunked request bodies are not accepted)")
        try:
            n = int(length or 0)
        except ValueError:
            raise _Refused(400, "bad Content-Length") from None
        if n > limit:
            raise _Refused(413, f"request body of {n} bytes is over the limit of {limit} bytes")
        return self.rfile.read(n) if n else b""

    def _media(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def _accept(self) -> list[tuple[str, float]]:
        return conneg.parse_accept(self.headers.get("Accept"))

    def _run(self, task: dict[str, Any]) -> Response:
        return self.server.pool.run(task, self.server.options.timeout)

    # --- routing ----------------------------------------------------------------------------

    def _route(self) -> Response:
        if self.server.allowed_hosts is not None:
            host = (self.headers.get("Host") or "").lower()
            if host not in self.server.allowed_hosts:
                return text(403, f"unexpected Host header {host!r}; this server answers for "
                                 f"{self.server.site.base}")
        url = urlsplit(self.path)
        path = url.path
        args = parse_qs(url.query, keep_blank_values=True)
        if self.command == "OPTIONS":
            return 204, [("Allow", "GET, HEAD, POST, OPTIONS"),
                         *([("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"),
                            ("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type"),
                            ("Access-Control-Max-Age", "600")] if self.server.options.cors else [])], b""
        if path == "/sparql":
            return self._sparql(args)
        if path == "/store":
            return self._graph_store(args)
        if self.command not in ("GET", "HEAD"):
            return text(405, f"{self.command} is not allowed on {path}", [("Allow", "GET, HEAD")])
        if path in ("/", "/index.html"):
            return self._index()
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/queries":
            return self._queries_list()
        if path.startswith("/queries/"):
            return self._canned(path[len("/queries/"):], args)
        if path == "/plot/forest.svg":
            if importlib.util.find_spec("ivig_kg.plot") is None:
                return text(404, "the forest plot is not available in this version")
            return self._run({"kind": "plot", "args": {}})
        rel = path.lstrip("/")
        if rel.startswith(LD_PREFIXES):
            fmt = _one(args, "format")
            return self._run({"kind": "describe", "args": {
                "iri": vocab.BASE + rel, "accept": self._accept(), "fmt": fmt}})
        return text(404, f"nothing at {path}; try / (query page), /sparql or /queries")

    def _index(self) -> Response:
        plot = importlib.util.find_spec("ivig_kg.plot") is not None
        body = html.index_page(self.server.site, _canned_list(self.server.site), plot,
                               self.server.options.allow_update)
        return 200, [("Content-Type", "text/html; charset=utf-8")], body

    def _static(self, name: str) -> Response:
        if name not in STATIC:
            return text(404, f"no static file {name!r}")
        data = importlib_resources.files("ivig_kg.web").joinpath("static", name).read_bytes()
        return 200, [("Content-Type", STATIC[name]), ("Cache-Control", "max-age=300")], data

    def _queries_list(self) -> Response:
        body = json.dumps(_canned_list(self.server.site), indent=2).encode()
        return 200, [("Content-Type", "application/json")], body

    def _canned(self, name: str, args: dict[str, list[str]]) -> Response:
        from ivig_kg import queries
        from ivig_kg.errors import QueryError

        try:
            cq = queries.get(name)
        except QueryError as exc:
            return text(404, str(exc))
        params = {k: _one(args, k) or "" for k in args if k != "format"}
        # parameters are bound by the worker (ivig_kg.queries.bind), never formatted into the text
        accept = self._accept()
        if not conneg.acceptable_at_all(accept) and "format" not in args:
            return _not_acceptable()
        return self._run({"kind": "query", "args": {
            "query": cq.text, "accept": accept, "fmt": _one(args, "format"), "default_graphs": [],
            "named_graphs": [], "from_graphs": [], "canned": cq.name, "params": params}})

    # --- the SPARQL 1.1 Protocol ------------------------------------------------------------

    def _sparql(self, args: dict[str, list[str]]) -> Response:
        opts = self.server.options
        if self.command in ("GET", "HEAD"):
            if "update" in args:
                return text(405 if opts.allow_update else 403,
                            "GET never updates; POST the update" if opts.allow_update else
                            "this endpoint is read-only: updates are refused (the operator can start it with "
                            "--allow-update --token TOKEN)", [("Allow", "GET, HEAD, POST")])
            if "query" not in args:
                return self._run({"kind": "description", "args": {
                    "endpoint": self.server.site.url("sparql"), "update": opts.allow_update,
                    "federation": opts.allow_federation, "accept": self._accept()}})
            return self._query(_only(args, "query"), args)
        if self.command != "POST":
            return text(405, f"{self.command} is not allowed on /sparql", [("Allow", "GET, HEAD, POST")])
        media = self._media()
        if media == "application/x-www-form-urlencoded":
            form = parse_qs(self._body(MAX_QUERY_BYTES).decode("utf-8", "replace"), keep_blank_values=True)
            merged = {**args, **{k: args.get(k, []) + v for k, v in form.items()}}
            if "query" in form and "update" in form:
                return text(400, "give either query= or update=, not both")
            if "update" in form:
                return self._update(_only(form, "update"))
            if "query" in form:
                return self._query(_only(form, "query"), merged)
            return text(400, "the form has neither query= nor update=")
        if media == "application/sparql-query":
            return self._query(self._body(MAX_QUERY_BYTES).decode("utf-8", "replace"), args)
        if media == "application/sparql-update":
            return self._update(self._body(MAX_QUERY_BYTES).decode("utf-8", "replace"))
        return text(415, f"unsupported Content-Type {media or '(none)'!r}; POST application/sparql-query, "
                         "application/sparql-update or application/x-www-form-urlencoded")

    def _query(self, query: str, args: dict[str, list[str]]) -> Response:
        opts = self.server.options
        found = scan(query)
        if found.service and not opts.allow_federation:
            return text(403, "SERVICE (federated query) is disabled on this server: it never contacts other "
                             "endpoints unless started with --allow-federation")
        if found.update:
            return text(400, "this is an update, not a query; POST it as application/sparql-update "
                             "or as update= (this endpoint is read-only unless started with --allow-update)")
        accept = self._accept()
        fmt = _one(args, "format")
        if fmt is None and not conneg.acceptable_at_all(accept):
            return _not_acceptable()
        return self._run({"kind": "query", "args": {
            "query": query, "accept": accept, "fmt": fmt,
            "default_graphs": args.get("default-graph-uri", []), "named_graphs": args.get("named-graph-uri", []),
            "from_graphs": found.from_graphs + found.from_named}})

    def _authorized(self) -> None:
        opts = self.server.options
        if not opts.allow_update or not opts.token:
            raise _Refused(403, "this endpoint is read-only: updates and graph writes are refused "
                                "(the operator can start it with --allow-update --token TOKEN)")
        given = self.headers.get("Authorization") or ""
        match = re.fullmatch(r"Bearer\s+(\S+)", given.strip())
        if not match or not hmac.compare_digest(match.group(1).encode(), opts.token.encode()):
            raise _Refused(401, "updates need the operator's token: send 'Authorization: Bearer TOKEN'",
                           [("WWW-Authenticate", 'Bearer realm="ivig-kg"')])

    def _update(self, update: str) -> Response:
        self._authorized()
        found = scan(update)
        if (found.load or found.service) and not self.server.options.allow_federation:
            return text(403, "LOAD and SERVICE would fetch from the network, which this server never does "
                             "unless started with --allow-federation")
        return self._run({"kind": "update", "args": {"update": update}})

    # --- the Graph Store HTTP Protocol (indirect identification: /store?graph=IRI or ?default) -----

    def _graph_store(self, args: dict[str, list[str]]) -> Response:
        if ("graph" in args) == ("default" in args):
            return text(400, "give exactly one of ?graph=IRI or ?default")
        iri = _only(args, "graph") if "graph" in args else None
        if self.command in ("GET", "HEAD"):
            return self._run({"kind": "graph", "args": {"iri": iri, "accept": self._accept(),
                                                       "fmt": _one(args, "format")}})
        if self.command not in ("PUT", "POST", "DELETE"):
            return text(405, f"{self.command} is not allowed on /store", [("Allow", "GET, HEAD, PUT, POST, DELETE")])
        self._authorized()
        body = self._body(MAX_GRAPH_BYTES) if self.command != "DELETE" else b""
        return self._run({"kind": "graph_write", "args": {"method": self.command, "iri": iri, "body": body,
                                                         "media": self._media()}})


def _one(args: dict[str, list[str]], key: str) -> str | None:
    values = args.get(key)
    return values[-1] if values else None


def _only(args: dict[str, list[str]], key: str) -> str:
    values = args.get(key) or [""]
    if len(values) > 1:
        raise _Refused(400, f"give {key}= once, not {len(values)} times")
    return values[0]


def _not_acceptable() -> Response:
    offered = [m[0] for offers in (conneg.RESULT_MEDIA, conneg.RDF_MEDIA) for m in offers.values()]
    return text(HTTPStatus.NOT_ACCEPTABLE, "none of the formats in your Accept header is available; offered: "
                + ", ".join(offered))


def _canned_list(site: html.Site) -> list[dict[str, object]]:
    from ivig_kg.queries import registry

    return [{"name": q.name, "title": q.title, "question": q.question, "url": site.url("queries/" + q.name),
             "params": [{"name": p.name, "type": p.type, "optional": p.optional, "doc": p.doc} for p in q.params],
             "text": q.text} for q in registry().values()]
