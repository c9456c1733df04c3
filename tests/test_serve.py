"""``ivig-kg serve``: the real server on 127.0.0.1, checked through independent clients and parsers.

SPARQLWrapper speaks the protocol, rdflib parses the answers, a plain socket
listener proves nothing reaches the network; the expected answers come from
the library (``ivig_kg.queries.run``) and the CLI on the same store.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.query import Result
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from ivig_kg import queries, vocab
from ivig_kg.store import GraphStore
from ivig_kg.web import make_server
from ivig_kg.web.scan import scan
from ivig_kg.web.server import ServeOptions, SparqlServer

STUDY = vocab.resource_iri("ivig-ms-commentary", "achiron-2004")
ARTICLE_GRAPH = vocab.article_graph_iri("ivig-ms-commentary")
CLI = [str(Path(sys.executable).parent / "ivig-kg")]
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 30) -> Reply:
    """One HTTP request with urllib; error statuses are returned, not raised."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def start(store: GraphStore, **options: Any) -> tuple[SparqlServer, str]:
    server = make_server(store, ServeOptions(port=0, **options))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.site.base


@pytest.fixture(scope="module")
def base(built_store: GraphStore) -> Iterator[str]:
    """The server over the bundled article (read-only, default limits)."""
    server, url = start(built_store, timeout=20)
    yield url
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cli_server(built_store: GraphStore) -> Iterator[str]:
    """``ivig-kg serve`` as a subprocess: timeout 1 s, one worker, a row cap of 5, CORS for one origin."""
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--store", str(built_store.path), "--port", str(port),
                             "--timeout", "1", "--max-rows", "5", "--workers", "1",
                             "--cors", "https://example.org"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if request(url + "sparql?query=ASK%7B%7D", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("ivig-kg serve did not start: " + proc.stderr.read().decode() if proc.stderr else "")
    yield url
    proc.terminate()
    proc.wait(10)


# --- the SPARQL 1.1 Protocol through SPARQLWrapper, compared with the library -------------------------------


def _key(term: Any, typed: bool) -> tuple[str, ...]:
    if term is None:
        return ("",)
    if isinstance(term, ox.NamedNode | rdflib.URIRef):
        return ("iri", str(term.value if isinstance(term, ox.NamedNode) else term))
    if isinstance(term, ox.Literal):
        return ("lit", term.value, *((term.language or term.datatype.value,) if typed else ()))
    if isinstance(term, rdflib.Literal):
        dt = term.language or str(term.datatype or vocab.XSD + "string")
        return ("lit", str(term), *((dt,) if typed else ()))
    raise AssertionError(f"unexpected term {term!r}")


def expected_rows(store: GraphStore, name: str, typed: bool = True) -> list[tuple[tuple[str, ...], ...]]:
    results = queries.run(name, store=store)
    names = [v.value for v in results.variables]
    return sorted(tuple(_key(sol[n], typed) for n in names) for sol in results)


def parsed_rows(body: bytes, fmt: str, typed: bool) -> list[tuple[tuple[str, ...], ...]]:
    result = Result.parse(io.BytesIO(body), format=fmt)
    names = [str(v) for v in result.vars or []]
    rows = []
    for row in result.bindings:
        values = {str(k): v for k, v in row.items()}
        key: list[tuple[str, ...]] = []
        for n in names:
            v = values.get(n)
            if not typed and isinstance(v, rdflib.URIRef | rdflib.Literal):  # CSV: everything is a string
                key.append(("iri", str(v)) if str(v).startswith(("http://", "https://")) else ("lit", str(v)))
            else:
                key.append(_key(v, typed))
        rows.append(tuple(key))
    return sorted(rows)


def without_comments(text: str) -> str:
    """The query without its comment lines: SPARQLWrapper guesses the query form from the text and is
    misled by words such as 'describe' or 'inserted' in comments."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


SELECT_QUERIES = ["studies", "effect-estimates", "claims"]
FORMATS = {JSON: ("json", True), XML: ("xml", True), TSV: ("tsv", True), CSV: ("csv", False)}


@pytest.mark.parametrize("name", SELECT_QUERIES)
@pytest.mark.parametrize("method", ["GET", "POST-form", "POST-direct"])
@pytest.mark.parametrize("return_format", list(FORMATS))
def test_sparqlwrapper_gets_library_bindings(base: str, built_store: GraphStore, name: str, method: str,
                                             return_format: str) -> None:
    client = SPARQLWrapper(base + "sparql")
    client.setQuery(without_comments(queries.get(name).text))
    client.setReturnFormat(return_format)
    if method != "GET":
        client.setMethod(POST)
    if method == "POST-direct":
        client.setRequestMethod(POSTDIRECTLY)
    response = client.query().response
    body = response.read()
    fmt, typed = FORMATS[return_format]
    assert expected_rows(built_store, name, typed)  # the comparison is not vacuous
    assert parsed_rows(body, fmt, typed) == expected_rows(built_store, name, typed)


def test_json_convert_and_order_match_library(base: str, built_store: GraphStore) -> None:
    client = SPARQLWrapper(base + "sparql")
    client.setQuery(without_comments(queries.get("studies").text))
    client.setReturnFormat(JSON)
    data = client.queryAndConvert()
    assert isinstance(data, dict)
    got = [b["study"]["value"] for b in data["results"]["bindings"]]
    assert got == [sol["study"].value for sol in queries.run("studies", store=built_store)]
    assert STUDY in got


def test_ask_in_every_format(base: str) -> None:
    for fmt, marker in (("json", b'"boolean": true'), ("xml", b"<boolean>true</boolean>"),
                        ("csv", b"true"), ("tsv", b"true")):
        q = urllib.parse.quote(f"ASK {{ <{STUDY}> a ivig:Study }}")
        reply = request(f"{base}sparql?query={q}&format={fmt}")
        assert reply.status == 200 and marker in reply.body, (fmt, reply.body)
    client = SPARQLWrapper(base + "sparql")
    client.setQuery("ASK { ?s a ivig:NoSuchClass }")
    client.setReturnFormat(JSON)
    assert client.queryAndConvert() == {"head": {}, "boolean": False}


def construct(oxstore: ox.Store) -> Any:
    return oxstore.query(CONSTRUCT)


CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ARTICLE_GRAPH}> {{ ?s ?p ?o }} }}"


@pytest.mark.parametrize(("return_format", "rdflib_format", "media"), [
    (TURTLE, "turtle", "text/turtle"), (N3, "turtle", "text/turtle"), (JSONLD, "json-ld", "application/ld+json"),
    (RDFXML, "xml", "application/rdf+xml"), (XML, "xml", "application/rdf+xml"),
])
def test_construct_formats_are_isomorphic_to_the_store(base: str, oxstore: ox.Store, return_format: str,
                                                       rdflib_format: str, media: str) -> None:
    client = SPARQLWrapper(base + "sparql")
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(return_format)
    response = client.query().response
    assert response.headers["Content-Type"].startswith(media)
    got = rdflib.Graph().parse(data=response.read(), format=rdflib_format)
    want = rdflib.Graph().parse(data=ox.serialize(construct(oxstore), format=ox.RdfFormat.N_TRIPLES),
                                format="nt")
    assert len(want) > 500
    assert isomorphic(got, want)


def test_construct_ntriples_trig_nquads_by_accept(base: str, oxstore: ox.Store) -> None:
    want = rdflib.Graph().parse(data=ox.serialize(construct(oxstore), format=ox.RdfFormat.N_TRIPLES),
                                format="nt")
    for media, fmt in (("application/n-triples", "nt"), ("application/trig", "trig"),
                       ("application/n-quads", "nquads")):
        reply = request(base + "sparql", "POST", CONSTRUCT.encode(),
                        {"Content-Type": "application/sparql-query", "Accept": media})
        assert reply.status == 200 and reply.headers["content-type"].startswith(media.split(";")[0]), media
        if fmt == "nquads":  # a graph result has no graph names: the triples come as N-Triples lines
            fmt = "nt"
        assert isomorphic(rdflib.Graph().parse(data=reply.body, format=fmt), want), media


def test_accept_q_values_choose_the_format(base: str) -> None:
    q = urllib.parse.quote("SELECT ?s WHERE { ?s a ivig:Study } LIMIT 1")
    reply = request(f"{base}sparql?query={q}",
                    headers={"Accept": "application/sparql-results+json;q=0.2, text/csv;q=0.9, */*;q=0.1"})
    assert reply.headers["content-type"].startswith("text/csv")
    reply = request(f"{base}sparql?query={q}", headers={"Accept": "text/*;q=0.5, text/csv;q=0"})
    assert reply.headers["content-type"].startswith("text/tab-separated-values")
    reply = request(f"{base}sparql?query={q}", headers={"Accept": "*/*"})
    assert reply.headers["content-type"].startswith("application/sparql-results+json")


def test_csv_matches_the_cli(base: str, built_store: GraphStore) -> None:
    cli = subprocess.run([*CLI, "query", "run", "effect-estimates", "-f", "csv", "--store", str(built_store.path)],
                         capture_output=True, check=True)
    reply = request(base + "queries/effect-estimates", headers={"Accept": "text/csv"})
    assert reply.status == 200
    served = list(csv.reader(io.StringIO(reply.text)))
    printed = list(csv.reader(io.StringIO(cli.stdout.decode())))
    assert len(served) > 3
    assert served == printed


def test_dataset_parameters(base: str, oxstore: ox.Store) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    in_ontology = sum(1 for _ in oxstore.quads_for_pattern(None, None, None, ox.NamedNode(vocab.ONTOLOGY_GRAPH)))
    args = urllib.parse.urlencode({"query": count, "default-graph-uri": vocab.ONTOLOGY_GRAPH})
    data = json.loads(request(f"{base}sparql?{args}&format=json").body)
    assert int(data["results"]["bindings"][0]["n"]["value"]) == in_ontology
    # FROM names a local graph: fine
    q = f"SELECT (COUNT(*) AS ?n) FROM <{vocab.ONTOLOGY_GRAPH}> WHERE {{ ?s ?p ?o }}"
    data = json.loads(request(f"{base}sparql?query={urllib.parse.quote(q)}&format=json").body)
    assert int(data["results"]["bindings"][0]["n"]["value"]) == in_ontology
    named = urllib.parse.urlencode({"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                    "named-graph-uri": ARTICLE_GRAPH, "format": "json"})
    data = json.loads(request(f"{base}sparql?{named}").body)
    assert [b["g"]["value"] for b in data["results"]["bindings"]] == [ARTICLE_GRAPH]


def test_service_description(base: str) -> None:
    reply = request(base + "sparql")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=reply.body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (rdflib.URIRef(base + "sparql"), sd.endpoint, rdflib.URIRef(base + "sparql")) in g
    assert rdflib.URIRef(ARTICLE_GRAPH) in set(g.objects(None, sd.name))
    assert (None, sd.supportedLanguage, sd.SPARQL11Update) not in g


# --- status codes ------------------------------------------------------------------------------------------


def test_400_with_the_parsers_message(base: str) -> None:
    reply = request(base + "sparql?query=" + urllib.parse.quote("SELECT ?s WHERE { ?s ?p }"))
    assert reply.status == 400
    assert "syntax error" in reply.text.lower() and "1:" in reply.text  # oxigraph's message names the position


def test_403_updates_on_a_read_only_server(base: str, built_store: GraphStore) -> None:
    before = (built_store.path / "CURRENT").read_text()
    update = f"INSERT DATA {{ <{STUDY}> rdfs:label 'changed' }}"
    for reply in (
        request(base + "sparql", "POST", update.encode(), {"Content-Type": "application/sparql-update"}),
        request(base + "sparql", "POST", urllib.parse.urlencode({"update": update}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"}),
        request(base + "sparql?update=" + urllib.parse.quote(update)),
        request(f"{base}store?graph={urllib.parse.quote(ARTICLE_GRAPH)}", "PUT", b"<a:b> <a:c> <a:d> .",
                {"Content-Type": "application/n-triples"}),
        request(f"{base}store?graph={urllib.parse.quote(ARTICLE_GRAPH)}", "DELETE"),
    ):
        assert reply.status == 403, reply.text
        assert "read-only" in reply.text
    assert (built_store.path / "CURRENT").read_text() == before


def test_406_when_nothing_acceptable(base: str) -> None:
    q = urllib.parse.quote("SELECT ?s WHERE { ?s a ivig:Study }")
    reply = request(f"{base}sparql?query={q}", headers={"Accept": "image/png"})
    assert reply.status == 406 and "application/sparql-results+json" in reply.text
    # a SELECT asked for in an RDF-only Accept header
    reply = request(f"{base}sparql?query={q}", headers={"Accept": "text/turtle"})
    assert reply.status == 406
    reply = request(f"{base}resource/ivig-ms-commentary/achiron-2004", headers={"Accept": "image/png"})
    assert reply.status == 406


def test_415_on_unknown_content_type(base: str) -> None:
    reply = request(base + "sparql", "POST", b"SELECT * WHERE { ?s ?p ?o }", {"Content-Type": "text/plain"})
    assert reply.status == 415 and "application/sparql-query" in reply.text


def test_timeout_answers_504_and_the_server_recovers(cli_server: str) -> None:
    started = time.monotonic()
    reply = request(cli_server + "sparql", "POST", EXPENSIVE.encode(),
                    {"Content-Type": "application/sparql-query"})
    elapsed = time.monotonic() - started
    assert reply.status in (503, 504), reply.text
    assert "stopped" in reply.text and "1 s" in reply.text
    assert elapsed < 15  # a few seconds, not the hours the query would take
    # the killed worker is replaced: the next request is answered
    nxt = request(cli_server + "sparql?query=" + urllib.parse.quote(f"ASK {{ <{STUDY}> ?p ?o }}"),
                  headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert nxt.status == 200 and json.loads(nxt.body)["boolean"] is True


def test_row_cap_is_announced(cli_server: str, built_store: GraphStore) -> None:
    q = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    reply = request(cli_server + "sparql?query=" + urllib.parse.quote(q), headers={"Accept": "text/csv"})
    assert reply.status == 200
    assert reply.headers["x-ivig-truncated"] == "true; max-rows=5"
    assert len(list(csv.reader(io.StringIO(reply.text)))) == 1 + 5
    small = request(cli_server + "sparql?query=" + urllib.parse.quote("SELECT ?s WHERE { ?s a ivig:Study }"),
                    headers={"Accept": "text/csv"})
    assert "x-ivig-truncated" not in small.headers


def test_cors_only_when_asked(base: str, cli_server: str) -> None:
    q = "sparql?query=" + urllib.parse.quote("ASK {}")
    assert "access-control-allow-origin" not in request(base + q).headers
    assert request(cli_server + q).headers["access-control-allow-origin"] == "https://example.org"
    pre = request(cli_server + "sparql", "OPTIONS", headers={"Origin": "https://example.org",
                                                             "Access-Control-Request-Method": "POST"})
    assert pre.status == 204 and "POST" in pre.headers["access-control-allow-methods"]


def test_foreign_host_header_is_refused(base: str) -> None:
    reply = request(base + "sparql?query=ASK%7B%7D", headers={"Host": "attacker.example"})
    assert reply.status == 403


# --- nothing reaches the network ---------------------------------------------------------------------------


class Listener:
    """A plain TCP listener on 127.0.0.1 that records every connection it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.hits: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.hits.append(conn.recv(4096))
            except OSError:
                self.hits.append(b"")
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


def raw_query(oxstore: ox.Store, query: str) -> Any:
    return oxstore.query(query)


def test_pyoxigraph_alone_would_call_service(oxstore: ox.Store) -> None:
    """The control: without the server's guard, SERVICE does reach the network."""
    listener = Listener()
    try:
        with pytest.raises(OSError):
            service = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"
            list(raw_query(oxstore, service))
        time.sleep(0.3)
        assert listener.hits and listener.hits[0].startswith(b"POST")
    finally:
        listener.close()


def test_service_load_from_never_reach_the_listener(base: str, tmp_path: Path, built_store: GraphStore) -> None:
    listener = Listener()
    url = f"http://127.0.0.1:{listener.port}/"
    writable = copy_store(built_store, tmp_path)
    server, wbase = start(writable, allow_update=True, token="s3cret-token")
    try:
        queries_ = [
            f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
            f"PREFIX remote: <{url}>\nselect * where {{ # comment\n service remote: {{ ?s ?p ?o }} }}",
            f"SELECT * FROM <{url}graph> WHERE {{ ?s ?p ?o }}",
            f"SELECT * FROM NAMED <{url}graph> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        ]
        for q in queries_:
            for where in (base, wbase):
                reply = request(where + "sparql", "POST", q.encode(), {"Content-Type": "application/sparql-query"})
                assert reply.status == 403, (q, reply.text)
        args = urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": url + "g"})
        assert request(f"{base}sparql?{args}").status == 403
        for update in (f"LOAD <{url}data.ttl>", f"LOAD SILENT <{url}data.ttl> INTO GRAPH <{url}g>"):
            auth = {"Content-Type": "application/sparql-update", "Authorization": "Bearer s3cret-token"}
            assert request(base + "sparql", "POST", update.encode(), auth).status == 403
            reply = request(wbase + "sparql", "POST", update.encode(), auth)
            assert reply.status == 403 and "--allow-federation" in reply.text
        time.sleep(0.5)
        assert listener.hits == []
    finally:
        listener.close()
        server.shutdown()
        server.server_close()


def test_scanner_is_not_fooled() -> None:
    assert not scan('SELECT ?service WHERE { ?s rdfs:label "SERVICE <http://x/>" } # SERVICE').service
    assert scan("select * { service <http://x/> { } }").service
    assert scan("PREFIX ex: <http://x/> SELECT * { SERVICE ex: {} }").service
    assert scan("SELECT * FROM <g1> FROM NAMED ivig:g2 WHERE {}").from_named == [vocab.IVIG + "g2"]
    assert scan("BASE <http://b/> SELECT * FROM <g1> WHERE {}").from_graphs == ["http://b/g1"]
    assert scan("LOAD <http://x/>").load and scan("LOAD <http://x/>").update
    assert scan("CONSTRUCT WHERE { ?s ?p ?o }").form == "CONSTRUCT"


# --- writes: only with --allow-update and the token, as a new generation ------------------------------------


def copy_store(store: GraphStore, tmp_path: Path) -> GraphStore:
    target = tmp_path / "copy"
    shutil.copytree(store.path, target, ignore=shutil.ignore_patterns(".lock"))
    return GraphStore(target)


def test_updates_need_the_token_and_make_a_new_generation(built_store: GraphStore, tmp_path: Path) -> None:
    store = copy_store(built_store, tmp_path)
    before = (store.path / "CURRENT").read_text()
    server, url = start(store, allow_update=True, token="s3cret-token")
    try:
        update = f"INSERT DATA {{ GRAPH <{vocab.GRAPH}extra> {{ <{STUDY}> rdfs:comment 'added over HTTP' }} }}"
        body = update.encode()
        plain = {"Content-Type": "application/sparql-update"}
        assert request(url + "sparql", "POST", body, plain).status == 401
        assert request(url + "sparql", "POST", body, {**plain, "Authorization": "Bearer wrong-token"}).status == 401
        assert request(url + "sparql?update=" + urllib.parse.quote(update)).status == 405  # GET never updates
        assert (store.path / "CURRENT").read_text() == before
        ok = request(url + "sparql", "POST", body, {**plain, "Authorization": "Bearer s3cret-token"})
        assert ok.status == 204, ok.text
        assert (store.path / "CURRENT").read_text() != before
        ask = urllib.parse.quote(f"ASK {{ <{STUDY}> rdfs:comment 'added over HTTP' }}")
        assert json.loads(request(f"{url}sparql?query={ask}&format=json").body)["boolean"] is True
        # Graph Store Protocol: replace a graph, read it back, delete it
        auth = {"Authorization": "Bearer s3cret-token", "Content-Type": "text/turtle"}
        g = urllib.parse.quote(vocab.GRAPH + "extra")
        put = request(f"{url}store?graph={g}", "PUT", b"<http://e/a> <http://e/b> 'c' .", auth)
        assert put.status == 204, put.text
        got = request(f"{url}store?graph={g}", headers={"Accept": "application/n-triples"})
        assert got.body.strip() == b'<http://e/a> <http://e/b> "c" .'
        assert request(f"{url}store?graph={g}", "DELETE", None, auth).status == 204
        assert request(f"{url}store?graph={g}").status == 404
    finally:
        server.shutdown()
        server.server_close()
    # the original store was never written
    assert built_store.exists()


# --- canned queries over HTTP ------------------------------------------------------------------------------


def test_queries_list(base: str) -> None:
    reply = request(base + "queries")
    listed = json.loads(reply.body)
    assert [q["name"] for q in listed] == list(queries.registry())
    ee = next(q for q in listed if q["name"] == "effect-estimates")
    assert ee["title"] and ee["question"] and ee["params"][0]["name"] == "study"


def test_canned_query_with_bound_parameter(base: str, built_store: GraphStore) -> None:
    want = queries.run("effect-estimates", {"study": STUDY}, store=built_store)
    names = [v.value for v in want.variables]
    want_rows = sorted(tuple(_key(sol[n], True) for n in names) for sol in want)
    curie = urllib.parse.quote("ivigr:ivig-ms-commentary/achiron-2004")
    reply = request(base + "queries/effect-estimates?study=" + curie,
                    headers={"Accept": "application/sparql-results+json"})
    assert reply.status == 200
    assert 0 < len(want_rows) < len(expected_rows(built_store, "effect-estimates"))
    assert parsed_rows(reply.body, "json", True) == want_rows


def test_canned_query_bad_parameters(base: str) -> None:
    injected = urllib.parse.quote("x> } } ; DROP ALL #")
    for path, status in ((f"queries/effect-estimates?study={injected}", 400),
                         ("queries/effect-estimates?nosuch=1", 400),
                         ("queries/provenance", 400),  # a required parameter is missing
                         ("queries/no-such-query", 404)):
        reply = request(base + path)
        assert reply.status == status, (path, reply.text)


# --- Linked Data ----------------------------------------------------------------------------------------------


def test_entity_html_has_properties_links_and_marked_quote(base: str) -> None:
    reply = request(base + "resource/ivig-ms-commentary/achiron-2004", headers={"Accept": "text/html"})
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    page = reply.text
    assert "<mark>Achiron and colleagues conducted a randomized" in page
    assert f'href="{base}concept/ivig"' in page  # a neighbour, served here
    assert f'href="{base}ontology#RandomizedControlledTrial"' in page
    assert 'class="external" href="http://www.w3.org/1999/02/22-rdf-syntax-ns#type"' in page
    assert "default-src 'self'" in reply.headers["content-security-policy"]


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                             ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_entity_rdf_by_accept(base: str, oxstore: ox.Store, accept: str, fmt: str) -> None:
    reply = request(base + "resource/ivig-ms-commentary/achiron-2004", headers={"Accept": accept})
    assert reply.status == 200 and reply.headers["content-type"].startswith(accept)
    assert "Accept" in reply.headers["vary"]
    got = rdflib.Graph().parse(data=reply.body, format=fmt)
    want = {(str(q.predicate.value), str(q.object)) for q in oxstore.quads_for_pattern(ox.NamedNode(STUDY), None, None)}
    assert set(got.subjects()) == {rdflib.URIRef(STUDY)}  # the IRI, not the server URL
    assert len(set(got.predicate_objects())) == len(want)


def test_ontology_and_graph_pages(base: str) -> None:
    onto = request(base + "ontology", headers={"Accept": "text/html"})
    assert onto.status == 200 and 'id="Study"' in onto.text
    graph = request(base + "graph/article/ivig-ms-commentary", headers={"Accept": "text/html"})
    assert graph.status == 200 and "triples" in graph.text
    ttl = request(base + "graph/article/ivig-ms-commentary", headers={"Accept": "text/turtle"})
    assert len(rdflib.Graph().parse(data=ttl.body, format="turtle")) > 500
    assert request(base + "resource/ivig-ms-commentary/no-such-thing").status == 404


def _nasty_store(tmp_path: Path) -> GraphStore:
    """A tiny store whose entity label, quote and sentence carry HTML and script."""
    r = vocab.RESOURCE + "evil/"
    text = 'Intro. The <b>bold</b> claim "<script>alert(1)</script>" & more. End.'
    start = text.index("<script>")
    end = start + len("<script>alert(1)</script>")
    nq = f"""
<{r}e> <{vocab.RDFS}label> "<script>alert('label')</script>" <{vocab.GRAPH}article/evil> .
<{r}e> <{vocab.RDF}type> <{vocab.IVIG}Claim> <{vocab.GRAPH}article/evil> .
<{r}e> <{vocab.RDFS}comment> "a & b < c" <{vocab.GRAPH}article/evil> .
<{r}e> <{vocab.PROV}wasDerivedFrom> <{r}q> <{vocab.GRAPH}article/evil> .
<{r}q> <{vocab.OA}hasSource> <{r}text> <{vocab.GRAPH}article/evil> .
<{r}q> <{vocab.OA}hasSelector> <{r}q/exact> <{vocab.GRAPH}article/evil> .
<{r}q> <{vocab.OA}hasSelector> <{r}q/pos> <{vocab.GRAPH}article/evil> .
<{r}q/exact> <{vocab.OA}exact> {json.dumps(text[start:end])} <{vocab.GRAPH}article/evil> .
<{r}q/pos> <{vocab.OA}start> "{start}"^^<{vocab.XSD}integer> <{vocab.GRAPH}article/evil> .
<{r}q/pos> <{vocab.OA}end> "{end}"^^<{vocab.XSD}integer> <{vocab.GRAPH}article/evil> .
<{r}text> <{vocab.IVIG}text> {json.dumps(text)} <{vocab.GRAPH}article/evil> .
"""
    store = GraphStore(tmp_path / "evil")
    with store.lock(), store.new_generation() as st:
        st.load(nq.encode(), format=ox.RdfFormat.N_QUADS)
    return store


def test_html_is_escaped(tmp_path: Path) -> None:
    server, url = start(_nasty_store(tmp_path))
    try:
        page = request(url + "resource/evil/e", headers={"Accept": "text/html"}).text
    finally:
        server.shutdown()
        server.server_close()
    assert "<script>" not in page.replace('<script src="', "")
    assert "&lt;script&gt;alert(&#x27;label&#x27;)&lt;/script&gt;" in page
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in page
    assert "The &lt;b&gt;bold&lt;/b&gt; claim &quot;" in page
    assert "a &amp; b &lt; c" in page


# --- the query page, static files, plot, and no tracebacks -------------------------------------------------


def test_index_page(base: str) -> None:
    page = request(base).text
    assert "<textarea" in page and 'id="canned"' in page and "static/app.js" in page
    assert "cdn" not in page.lower() and "https://" not in page.split("data-config")[0]
    assert request(base + "static/app.js").headers["content-type"].startswith("text/javascript")
    assert request(base + "static/../worker.py").status == 404
    assert 'src="' + base + 'plot/forest.svg"' in page


def test_forest_plot_is_served(base: str) -> None:
    reply = request(base + "plot/forest.svg")
    assert reply.status == 200 and reply.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in reply.body


def test_no_traceback_in_any_response(base: str) -> None:
    bad = [
        ("GET", "sparql?query=" + urllib.parse.quote("SELECT * WHERE { ?s ?p ?o } LIMIT -1"), None, {}),
        ("GET", "sparql?query=%ff%fe", None, {}),
        ("GET", "sparql?query=a&query=b", None, {}),
        ("POST", "sparql", b"query=" + b"x" * 100, {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", "sparql", b"", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", "sparql", b"x", {"Content-Type": "application/sparql-query", "Content-Length": "99999999"}),
        ("PATCH", "sparql", b"", {}),
        ("GET", "queries/effect-estimates?study=%3C%3E", None, {}),
        ("GET", "resource/" + "%00", None, {}),
        ("GET", "resource/ivig-ms-commentary/achiron-2004?format=nope", None, {}),
        ("GET", "store", None, {}),
        ("GET", "store?graph=not%20an%20iri", None, {}),
        ("GET", "nothing-here", None, {}),
    ]
    for method, path, data, headers in bad:
        try:
            reply = request(base + path, method, data, headers, timeout=10)
        except (OSError, urllib.error.URLError):
            continue  # the server may drop a request whose body never comes; that is fine
        assert b"Traceback" not in reply.body and b'File "' not in reply.body, (path, reply.body)
        assert reply.status < 500 or reply.status in (503, 504), (path, reply.status, reply.text)


def test_cli_serve_refuses_bad_options(built_store: GraphStore, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ivig_kg.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--store", str(built_store.path), "--allow-update"])
    assert result.exit_code == 2 and "--token" in result.output
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "none"), "--port", "0"])
    assert result.exit_code == 1 and "no graph has been built" in result.output
    assert "Traceback" not in result.output
    env = {**os.environ, "IVIG_KG_STORE": str(tmp_path / "none")}
    proc = subprocess.run([*CLI, "serve", "--port", "0"], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 1 and b"no graph has been built" in proc.stderr and b"Traceback" not in proc.stderr
