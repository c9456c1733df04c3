"""Remote stores (--endpoint): a real Oxigraph server gives the same answers as the embedded store.

The server is the ``oxigraph`` CLI from PyPI (a test dependency), started on 127.0.0.1 on a free port with
``--union-default-graph`` (the embedded store queries the union of the named graphs too) and stopped after.
Auth, redirects and timeouts are checked against small stdlib HTTP servers on 127.0.0.1 that record requests.
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from ivig_kg import queries, remote
from ivig_kg.cli import app
from ivig_kg.errors import QueryError, StoreError, UsageError
from ivig_kg.store import GraphStore
from ivig_kg.vocab import GRAPH

from .conftest import assert_datasets_isomorphic, nquads_dataset

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
EXE = Path(sys.executable).with_name("ivig-kg")
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class OxigraphServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    @property
    def endpoint(self) -> remote.Endpoint:
        return remote.Endpoint.create(self.query_url)


def start_oxigraph(location: Path, log: Path) -> OxigraphServer:
    """Start ``oxigraph serve`` and wait until it answers a query (or fail with its log)."""
    for _ in range(3):  # the free port may be taken between our probe and the server's bind
        port = free_port()
        with open(log, "wb") as fh:
            proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(location),
                                     "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                                    stdout=fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/query?query=ASK%7B%7D"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return OxigraphServer(port, proc, log)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        stop(proc)
    raise RuntimeError(f"oxigraph serve did not start: {log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """An Oxigraph server holding the bundled article, built remotely through the CLI."""
    tmp = tmp_path_factory.mktemp("oxigraph")
    srv = start_oxigraph(tmp / "data", tmp / "server.log")
    try:
        result = runner.invoke(app, ["build", "--endpoint", srv.query_url])
        assert result.exit_code == 0, result.stderr
        assert f"to http://127.0.0.1:{srv.port}/store" in result.stderr
        yield srv
    finally:
        stop(srv.process)


# --- every canned query, remote vs embedded --------------------------------------------------------


def _term(t: Any) -> str:
    if isinstance(t, ox.BlankNode):
        return "_:b"  # blank node labels are local to each store
    return "" if t is None else str(t)


def _rows(results: Any) -> tuple[list[str], list[tuple[str, ...]]]:
    names = [v.value for v in results.variables]
    return names, [tuple(_term(s[n]) for n in names) for s in results]


def _order_vars(text: str, names: list[str]) -> list[str]:
    """The projected variables of the query's final (unindented) ORDER BY."""
    lines = [ln for ln in text.splitlines() if ln.startswith("ORDER BY")]
    if not lines:
        return []
    return [v for v in re.findall(r"\?(\w+)", lines[-1]) if v in names]


def _cases() -> list[tuple[str, dict[str, str]]]:
    """Each canned query with its required parameters only, then with each optional one added.

    Parameter values are the examples their ``# param:`` lines document ("such as X" / "e.g. X").
    """
    cases: list[tuple[str, dict[str, str]]] = []
    for name, q in queries.registry().items():
        examples = {}
        for p in q.params:
            m = re.search(r"(?:such as|e\.g\.)\s+([^\s);,]+)", p.doc)
            assert m, f"{name}: parameter {p.name} documents no example"
            examples[p.name] = m.group(1)
        required = {p.name: examples[p.name] for p in q.params if not p.optional}
        cases.append((name, required))  # only what is required (often nothing)
        cases.extend((name, {**required, p.name: examples[p.name]}) for p in q.params if p.optional)
    return cases


def test_every_canned_query_is_exercised() -> None:
    names = {name for name, _ in _cases()}
    assert names == set(queries.registry()) and len(names) >= 18


@pytest.mark.parametrize(("name", "params"), _cases(), ids=lambda x: x if isinstance(x, str) else ",".join(x))
def test_canned_query_remote_equals_embedded(server: OxigraphServer, oxstore: ox.Store, name: str,
                                             params: dict[str, str]) -> None:
    local = queries.run(name, params, oxstore=oxstore)
    answer = remote.run_canned(server.endpoint, name, params)
    if isinstance(local, ox.QueryBoolean):
        assert bool(answer) == bool(local)
        return
    names, want = _rows(local)
    got_names, got = _rows(answer)
    assert got_names == names
    assert Counter(got) == Counter(want)  # the same bindings, as a multiset
    keys = _order_vars(queries.get(name).text, names)
    if keys:  # the ORDER BY keys come in the same sequence (rows tied on them may differ in order)
        idx = [names.index(k) for k in keys]
        assert [tuple(r[i] for i in idx) for r in got] == [tuple(r[i] for i in idx) for r in want]


def test_cli_query_run_remote_equals_embedded(server: OxigraphServer, built_store: GraphStore) -> None:
    args = ["query", "run", "effect-estimates", "-p", "study=ivigr:ivig-ms-commentary/hommes-2004", "-f", "json"]
    local = runner.invoke(app, [*args, "--store", str(built_store.path)])
    remote_ = runner.invoke(app, [*args, "--endpoint", server.query_url])
    assert local.exit_code == remote_.exit_code == 0, remote_.stderr
    want, got = json.loads(local.stdout), json.loads(remote_.stdout)
    assert got["head"] == want["head"]
    assert sorted(map(json.dumps, got["results"]["bindings"])) == sorted(map(json.dumps, want["results"]["bindings"]))
    assert len(got["results"]["bindings"]) == 3


def test_cli_query_sparql_remote_all_forms(server: OxigraphServer, built_store: GraphStore) -> None:
    # our prefixes are predeclared remotely too
    select = "SELECT ?s ?label WHERE { ?s a ivig:Study ; rdfs:label ?label } ORDER BY ?label"
    construct = "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s a ivig:Estimate ; rdfs:label ?l }"
    for text, fmt in ((select, "csv"), (select, "tsv"), (select, "xml"), ("ASK { ?s a ivig:Study }", "json"),
                      (construct, "nt")):
        local = runner.invoke(app, ["query", "sparql", text, "-f", fmt, "--store", str(built_store.path)])
        got = runner.invoke(app, ["query", "sparql", text, "-f", fmt, "--endpoint", server.query_url])
        assert local.exit_code == got.exit_code == 0, got.stderr
        if fmt == "nt":
            assert sorted(got.stdout.splitlines()) == sorted(local.stdout.splitlines())
            assert len(got.stdout.splitlines()) == 4
        else:
            assert got.stdout == local.stdout, text


def test_remote_query_as_subprocess(server: OxigraphServer) -> None:
    proc = subprocess.run([str(EXE), "query", "run", "studies", "--endpoint", server.query_url, "-f", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["results"]["bindings"]) >= 4


def test_forest_plot_from_the_remote_store(server: OxigraphServer, built_store: GraphStore, tmp_path: Path) -> None:
    got, want = tmp_path / "remote.svg", tmp_path / "local.svg"
    result = runner.invoke(app, ["plot", "forest", "-o", str(got), "--endpoint", server.query_url])
    assert result.exit_code == 0, result.stderr
    assert runner.invoke(app, ["plot", "forest", "-o", str(want), "--store", str(built_store.path)]).exit_code == 0
    assert got.read_bytes() == want.read_bytes()  # the same rows give the same (deterministic) SVG


# --- export and rebuild -------------------------------------------------------------------------------


def test_export_remote_is_isomorphic_with_embedded(server: OxigraphServer, built_store: GraphStore,
                                                   tmp_path: Path) -> None:
    local, got = tmp_path / "local.nq", tmp_path / "remote.nq"
    assert runner.invoke(app, ["export", "-o", str(local), "--store", str(built_store.path)]).exit_code == 0
    result = runner.invoke(app, ["export", "-o", str(got), "--endpoint", server.query_url])
    assert result.exit_code == 0, result.stderr
    assert_datasets_isomorphic(nquads_dataset(got.read_bytes()), nquads_dataset(local.read_bytes()))
    # one graph, as Turtle, to stdout
    graph = "https://w3id.org/ivig-kg/graph/article/ivig-ms-commentary"
    a = runner.invoke(app, ["export", "-g", graph, "-f", "nt", "--endpoint", server.query_url])
    b = runner.invoke(app, ["export", "-g", graph, "-f", "nt", "--store", str(built_store.path)])
    assert a.exit_code == 0 and len(a.stdout.splitlines()) == len(b.stdout.splitlines()) > 1000
    bad = runner.invoke(app, ["export", "-g", GRAPH + "nope", "--endpoint", server.query_url])
    assert bad.exit_code == 2 and "no graph" in bad.stderr


def _graph_counts(ep: remote.Endpoint) -> dict[str, int]:
    rows = remote.query(ep, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"].value: int(r["n"].value) for r in rows}


def test_rebuild_is_idempotent_and_drops_stale_graphs(tmp_path: Path, built_store: GraphStore) -> None:
    srv = start_oxigraph(tmp_path / "data", tmp_path / "server.log")
    try:
        ep = srv.endpoint
        first = remote.build(ep, None)
        before = _graph_counts(ep)
        assert sum(before.values()) == first.build.quads == len(built_store.open())
        # a stale graph of ours (an article no longer built) and someone else's graph
        t = ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))
        remote.put_graph(ep, GRAPH + "article/removed-article", [t])
        remote.put_graph(ep, "http://example.org/not-ours", [t])
        result = runner.invoke(app, ["build", "--endpoint", srv.query_url])
        assert result.exit_code == 0, result.stderr
        assert f"removed stale graph {GRAPH}article/removed-article" in result.stderr
        after = _graph_counts(ep)
        assert after.pop("http://example.org/not-ours") == 1  # never touch graphs outside our namespace
        assert after == before  # same graphs, same triple counts: PUT replaced, nothing doubled
    finally:
        stop(srv.process)


def test_bad_source_leaves_the_remote_store_untouched(server: OxigraphServer, tmp_path: Path) -> None:
    before = _graph_counts(server.endpoint)
    bad = tmp_path / "bad.yaml"
    bad.write_text("commentary: [unclosed\n", encoding="utf-8")
    result = runner.invoke(app, ["build", str(bad), "--endpoint", server.query_url])
    assert result.exit_code == 1 and "bad.yaml" in result.stderr and "Traceback" not in result.stderr
    assert _graph_counts(server.endpoint) == before


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "code", "message"), [
    (["query", "run", "studies", "--endpoint", "ftp://example.org/sparql"], 2, "is not an http(s) URL"),
    (["query", "run", "studies", "--endpoint", "http://u:p@127.0.0.1:1/query"], 2, "must not carry credentials"),
    (["query", "run", "studies", "--endpoint", "http://127.0.0.1:1/query", "--store", "x"], 2, "not both"),
    (["query", "run", "studies", "--endpoint", "http://127.0.0.1:1/query", "--user", "u"], 2, "needs a password"),
    (["query", "run", "studies", "--endpoint", "http://127.0.0.1:1/query", "--user", "u", "--password", "p",
      "--token", "t"], 2, "not both"),
    (["build", "--endpoint", "http://127.0.0.1:1/sparql"], 2, "cannot tell the Graph Store Protocol URL"),
    (["query", "run", "studies", "--endpoint", "http://127.0.0.1:1/query", "--timeout", "0"], 2, "positive"),
])
def test_usage_errors(args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_connection_refused_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
    proc = subprocess.run([str(EXE), "query", "run", "studies", "--endpoint", url], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert f"cannot connect to {url}: connection refused" in proc.stderr and "Traceback" not in proc.stderr


def test_http_errors_carry_the_servers_message(server: OxigraphServer) -> None:
    result = runner.invoke(app, ["query", "sparql", "SELECT ?x WHERE {", "--endpoint", server.query_url])
    assert result.exit_code == 1 and "answered 400" in result.stderr and "error at 1:" in result.stderr
    with pytest.raises(QueryError):
        remote.query(server.endpoint, "SELEC nothing")
    missing = remote.Endpoint.create(f"http://127.0.0.1:{server.port}/no-such-path/query")
    with pytest.raises(StoreError, match="answered 404"):
        remote.query(missing, "ASK {}")


# --- auth, redirects, timeouts: against recording stdlib servers ------------------------------------


@dataclass
class Recorder:
    """A loopback HTTP server that records requests and answers with a programmable response."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    port: int = 0


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            rec.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                 "body": self.rfile.read(length)})
            time.sleep(rec.delay)
            self.send_response(rec.status)
            for k, v in rec.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rec.body)))
            self.end_headers()
            self.wfile.write(rec.body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    rec.port = srv.server_address[1]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        srv.shutdown()
        srv.server_close()


SRX = (b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="n"/>'
       b'</head><results><result><binding name="n"><literal>42</literal></binding></result></results></sparql>')


def test_basic_auth_and_protocol(recorder: Recorder) -> None:
    recorder.headers = {"Content-Type": "application/sparql-results+xml; charset=utf-8"}
    recorder.body = SRX
    url = f"http://127.0.0.1:{recorder.port}/sparql"
    result = runner.invoke(app, ["query", "sparql", "SELECT ?n WHERE { ?s ivig:x ?n }", "-f", "csv",
                                 "--endpoint", url, "--user", "alice"], env={"IVIG_KG_ENDPOINT_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "42"]  # SPARQL XML results parsed back
    (req,) = recorder.requests
    assert req["method"] == "POST" and req["path"] == "/sparql"
    assert req["headers"]["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert "application/sparql-results+json" in req["headers"]["Accept"]
    sent = urllib.parse.parse_qs(req["body"].decode())["query"][0]
    assert sent.endswith("SELECT ?n WHERE { ?s ivig:x ?n }")
    assert "PREFIX ivig: <https://w3id.org/ivig-kg/ontology#>" in sent


def test_bearer_token_from_env_and_401(recorder: Recorder) -> None:
    recorder.status = 401
    recorder.body = b"authentication required"
    url = f"http://127.0.0.1:{recorder.port}/query"
    result = runner.invoke(app, ["query", "run", "studies", "--endpoint", url], env={"IVIG_KG_ENDPOINT_TOKEN": "tok"})
    assert result.exit_code == 1
    assert "answered 401" in result.stderr and "authentication required" in result.stderr and "--token" in result.stderr
    assert recorder.requests[0]["headers"]["Authorization"] == "Bearer tok"


def test_parameters_are_bound_not_formatted(recorder: Recorder) -> None:
    recorder.headers = {"Content-Type": "application/sparql-results+json"}
    recorder.body = b'{"head":{"vars":["study"]},"results":{"bindings":[]}}'
    ep = remote.Endpoint.create(f"http://127.0.0.1:{recorder.port}/query")
    remote.run_canned(ep, "effect-estimates", {"study": "ivigr:ivig-ms-commentary/achiron-2004"})
    sent = urllib.parse.parse_qs(recorder.requests[0]["body"].decode())["query"][0]
    assert "VALUES (?study) { (<https://w3id.org/ivig-kg/resource/ivig-ms-commentary/achiron-2004>) }" in sent
    for attempt in ("http://x/a> } ; DROP ALL ; {<http://y", "<x> } ; DROP ALL ; {"):
        with pytest.raises(QueryError, match=r"invalid IRI|not an IRI"):  # never reaches the server
            remote.run_canned(ep, "effect-estimates", {"study": attempt})
    assert len(recorder.requests) == 1


def test_redirect_to_another_host_is_refused(recorder: Recorder) -> None:
    other = Recorder()

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            other.requests.append({"path": self.path, "headers": dict(self.headers)})
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        recorder.status = 302
        recorder.headers = {"Location": f"http://localhost:{srv.server_address[1]}/steal"}
        ep = remote.Endpoint.create(f"http://127.0.0.1:{recorder.port}/query", token="secret")
        with pytest.raises(StoreError, match="redirected \\(302\\) to another host"):
            remote.query(ep, "ASK {}")
        with pytest.raises(StoreError, match="redirected \\(302\\) to another host"):
            remote.get_graph(remote.Endpoint(ep.query_url, ep.query_url, token="secret"), GRAPH + "ontology")
        # same host, but a POST: refused too (urllib would replay it as a GET without the query)
        recorder.headers = {"Location": "/elsewhere"}
        with pytest.raises(StoreError, match="redirected a POST"):
            remote.query(ep, "ASK {}")
        assert other.requests == []  # the token never left for the other host
    finally:
        srv.shutdown()
        srv.server_close()


def test_timeout_is_a_clear_error(recorder: Recorder) -> None:
    recorder.delay = 3.0
    url = f"http://127.0.0.1:{recorder.port}/query"
    started = time.monotonic()
    result = runner.invoke(app, ["query", "run", "studies", "--endpoint", url, "--timeout", "0.5"])
    assert result.exit_code == 1 and "no answer from" in result.stderr and "within 0.5 s" in result.stderr
    assert time.monotonic() - started < 3.0  # it gave up before the server answered


def test_endpoint_construction() -> None:
    ep = remote.Endpoint.create("http://127.0.0.1:7878/query")
    assert ep.store_url() == "http://127.0.0.1:7878/store"
    other = remote.Endpoint.create("https://example.org/ds/sparql", "https://example.org/ds/data")
    assert other.store_url() == "https://example.org/ds/data"
    with pytest.raises(UsageError):
        remote.Endpoint.create("https://example.org/sparql").store_url()
    assert "s3cret" not in repr(remote.Endpoint.create("http://h/query", user="u", password="s3cret"))
