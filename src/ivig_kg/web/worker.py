"""The query worker: a separate process that owns a read-only store handle and does all store work.

pyoxigraph cannot cancel a running query, so the server runs every query
here, in a process it can kill when the timeout expires (see
:mod:`ivig_kg.web.pool`). A task is a plain dict; the answer is
``(status, headers, body)``, ready to send. The worker serializes results
itself so that it can cap the number of rows and say so; it never lets a
traceback out (they go to stderr, the client gets a short message).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import traceback
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from ivig_kg import vocab
from ivig_kg.errors import IvigKgError, QueryError, StoreLockedError
from ivig_kg.formats import RDF_FORMATS
from ivig_kg.results import write_graph
from ivig_kg.store import CURRENT, GraphStore, run_query
from ivig_kg.web import conneg, html

Response = tuple[int, list[tuple[str, str]], bytes]
TRUNCATED_HEADER = "X-Ivig-Truncated"
XSD_STRING = vocab.XSD + "string"
RDF_LANGSTRING = vocab.RDF + "langString"


def text(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """A plain-text answer (errors and notes)."""
    return status, [("Content-Type", "text/plain; charset=utf-8"), *(headers or [])], (message + "\n").encode()


class _Opened(GraphStore):
    """A GraphStore whose :meth:`open` returns the worker's cached handle (for :func:`explain.explain`)."""

    def __init__(self, path: Path, handle: ox.Store):
        super().__init__(path)
        self._handle = handle

    def open(self) -> ox.Store:
        return self._handle


class Worker:
    """State of one worker process: the store path, its open generation, limits and the site."""

    def __init__(self, store_path: str, site_base: str, max_rows: int):
        self.graphstore = GraphStore(store_path)
        self.site = html.Site(site_base)
        self.max_rows = max_rows
        self._gen: str | None = None
        self._store: ox.Store | None = None

    # --- the store, reopened when a build or an update publishes a new generation -------------

    def store(self) -> ox.Store:
        try:
            name = (self.graphstore.path / CURRENT).read_text(encoding="utf-8").strip()
        except OSError:
            name = None
        if self._store is None or name != self._gen:
            self._store = self.graphstore.open()
            self._gen = name
        return self._store

    # --- dispatch ------------------------------------------------------------------------------

    def handle(self, task: dict[str, Any]) -> Response:
        try:
            method = getattr(self, "task_" + task["kind"])
            result: Response = method(**task["args"])
            return result
        except _NotFound as exc:
            return text(404, str(exc))
        except StoreLockedError as exc:
            return text(409, str(exc))
        except IvigKgError as exc:
            return text(400, str(exc))
        except SyntaxError as exc:
            return text(400, f"SPARQL syntax error: {exc}")
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return text(500, "internal error while answering the request (details are in the server log)")

    def task_ping(self) -> Response:
        self.store()
        return text(200, "ok")

    # --- SPARQL queries -----------------------------------------------------------------------

    def task_query(self, query: str, accept: list[tuple[str, float]], fmt: str | None,
                   default_graphs: list[str], named_graphs: list[str], from_graphs: list[str],
                   canned: str | None = None, params: dict[str, str] | None = None) -> Response:
        store = self.store()
        missing = [g for g in from_graphs + default_graphs + named_graphs
                   if not store.contains_named_graph(iri_node(g))]
        if missing:
            return text(403, f"graph <{missing[0]}> is not in this store; the server never fetches remote graphs "
                             "(FROM, FROM NAMED, default-graph-uri and named-graph-uri must name a local graph; "
                             "see the service description at GET /sparql)")
        subs = None
        if canned is not None:
            from ivig_kg import queries

            cq = queries.get(canned)
            query = queries.with_values(cq.text, queries.bind(cq, params or {}))  # as queries.run binds
        if default_graphs or named_graphs:  # the protocol's dataset overrides the query's (SPARQL 1.1 Protocol 2.1.4)
            results = store.query(query, prefixes=vocab.PREFIXES, substitutions=subs,
                                  default_graph=[ox.NamedNode(g) for g in default_graphs] or ox.DefaultGraph(),
                                  named_graphs=[ox.NamedNode(g) for g in named_graphs] or None)
        elif from_graphs:  # FROM / FROM NAMED: the query's own dataset, not the union default graph
            results = store.query(query, prefixes=vocab.PREFIXES, substitutions=subs)
        else:
            results = run_query(store, query, subs)
        return self._answer(results, accept, fmt)

    def _answer(self, results: Any, accept: list[tuple[str, float]], fmt: str | None) -> Response:
        offers = conneg.RDF_MEDIA if isinstance(results, ox.QueryTriples) else conneg.RESULT_MEDIA
        chosen = (conneg.by_name(fmt, offers) if fmt else None) or conneg.choose(accept, offers)
        if chosen is None:
            wanted = f"format {fmt!r}" if fmt else "your Accept header"
            return text(406, f"this query's results cannot be given in {wanted}; available: "
                             + ", ".join(m[0] for m in offers.values()))
        name, media = chosen
        headers = [("Content-Type", f"{media}; charset=utf-8" if "json" not in media else media),
                   ("Vary", "Accept")]
        if isinstance(results, ox.QueryBoolean):
            return 200, headers, boolean_body(bool(results), name)
        if isinstance(results, ox.QueryTriples):
            triples = list(islice(results, self.max_rows + 1))
            truncated = len(triples) > self.max_rows
            buf = io.BytesIO()
            write_graph(triples[: self.max_rows], RDF_FORMATS[name], buf)
            body = buf.getvalue()
        else:
            variables = [v.value for v in results.variables]
            rows = list(islice(results, self.max_rows + 1))
            truncated = len(rows) > self.max_rows
            body = solutions_body(variables, rows[: self.max_rows], name)
        if truncated:
            headers.append((TRUNCATED_HEADER, f"true; max-rows={self.max_rows}"))
        return 200, headers, body

    # --- Linked Data --------------------------------------------------------------------------

    def task_describe(self, iri: str, accept: list[tuple[str, float]], fmt: str | None) -> Response:
        store = self.store()
        node = iri_node(iri)
        if iri.startswith(vocab.GRAPH) and store.contains_named_graph(node):
            return self._graph(iri, accept, fmt)
        offers = {**conneg.HTML_MEDIA, **conneg.RDF_MEDIA}
        chosen = (conneg.by_name(fmt, offers) if fmt else None) or conneg.choose(accept, offers)
        if chosen is None:
            return text(406, "available: text/html, " + ", ".join(m[0] for m in conneg.RDF_MEDIA.values()))
        name, media = chosen
        terms_of = iri == vocab.ONTOLOGY_IRI
        if not (any(store.quads_for_pattern(node, None, None)) or any(store.quads_for_pattern(None, None, node))
                or terms_of):
            return text(404, f"nothing is known about <{iri}> in this graph")
        if name != "html":
            subjects = [node]
            if terms_of:
                subjects += [s for s in {q.subject for q in store.quads_for_pattern(None, None, None)}
                             if isinstance(s, ox.NamedNode) and s.value.startswith(vocab.IVIG)]
            triples = {ox.Triple(q.subject, q.predicate, q.object)
                       for s in subjects for q in store.quads_for_pattern(s, None, None)}
            buf = io.BytesIO()
            write_graph(sorted(triples, key=str), RDF_FORMATS[name], buf)
            return 200, [("Content-Type", media), ("Vary", "Accept")], buf.getvalue()
        return 200, [("Content-Type", "text/html; charset=utf-8"), ("Vary", "Accept")], self._entity_html(iri)

    def _entity_html(self, iri: str) -> bytes:
        from ivig_kg.explain import explain

        store = self.store()
        subs = {ox.Variable("e"): ox.NamedNode(iri)}
        label = None
        rows: list[html.Row] = []
        seen: set[tuple[str, str]] = set()
        for sol in run_query(store, _OUT, subs):
            p, o, olabel = sol["p"], sol["o"], sol["olabel"]
            if (p.value, str(o)) in seen:
                continue
            seen.add((p.value, str(o)))
            if p.value == vocab.RDFS + "label" and label is None:
                label = str(o.value)
            rows.append(_row(p.value, o, olabel))
        incoming = []
        for sol in run_query(store, _IN, subs):
            s, p, slabel = sol["s"], sol["p"], sol["slabel"]
            if (p.value, str(s)) in seen:
                continue
            seen.add((p.value, str(s)))
            incoming.append(_row(p.value, s, slabel))
        quotes: list[html.Quote] = []
        try:
            exp = explain(_Opened(self.graphstore.path, store), iri)
            quotes = [html.Quote(s.sentence, s.offset, s.quote, s.start, s.end, s.document) for s in exp.sources]
        except IvigKgError:
            pass  # an entity with no facts of its own (only linked to) has no quote
        terms: list[html.Row] = []
        if iri == vocab.ONTOLOGY_IRI:
            for sol in run_query(store, _TERMS):
                terms.append(html.Row(sol["t"].value, "literal", str(sol["comment"].value) if sol["comment"] else "",
                                      str(sol["label"].value) if sol["label"] else None, ""))
        return html.entity_page(self.site, iri, label, rows, incoming, quotes, terms)

    def _graph(self, iri: str, accept: list[tuple[str, float]], fmt: str | None) -> Response:
        offers = {**conneg.HTML_MEDIA, **conneg.RDF_MEDIA}
        chosen = (conneg.by_name(fmt, offers) if fmt else None) or conneg.choose(accept, offers)
        if chosen is None:
            return text(406, "available: text/html, " + ", ".join(m[0] for m in conneg.RDF_MEDIA.values()))
        if chosen[0] != "html":
            return self.task_graph(iri, accept, chosen[0])
        store = self.store()
        g = ox.NamedNode(iri)
        count = sum(1 for _ in store.quads_for_pattern(None, None, None, g))
        subjects = [(sol["s"].value, str(sol["label"].value) if sol["label"] else None)
                    for sol in run_query(store, _GRAPH_SUBJECTS, {ox.Variable("g"): g})]
        return 200, [("Content-Type", "text/html; charset=utf-8"), ("Vary", "Accept")], html.graph_page(
            self.site, iri, count, subjects)

    def task_graph(self, iri: str | None, accept: list[tuple[str, float]], fmt: str | None) -> Response:
        """Graph Store Protocol GET: one named graph (or the default graph) as RDF."""
        store = self.store()
        chosen = (conneg.by_name(fmt, conneg.RDF_MEDIA) if fmt else None) or conneg.choose(accept, conneg.RDF_MEDIA)
        if chosen is None:
            return text(406, "available: " + ", ".join(m[0] for m in conneg.RDF_MEDIA.values()))
        graph: ox.NamedNode | ox.DefaultGraph = iri_node(iri) if iri else ox.DefaultGraph()
        if isinstance(graph, ox.NamedNode) and not store.contains_named_graph(graph):
            return text(404, f"no graph <{iri}> in this store")
        triples = [ox.Triple(q.subject, q.predicate, q.object)
                   for q in islice(store.quads_for_pattern(None, None, None, graph), self.max_rows + 1)]
        headers = [("Content-Type", chosen[1]), ("Vary", "Accept")]
        if len(triples) > self.max_rows:
            headers.append((TRUNCATED_HEADER, f"true; max-rows={self.max_rows}"))
        buf = io.BytesIO()
        write_graph(triples[: self.max_rows], RDF_FORMATS[chosen[0]], buf)
        return 200, headers, buf.getvalue()

    # --- service description ------------------------------------------------------------------

    def task_description(self, endpoint: str, update: bool, federation: bool,
                         accept: list[tuple[str, float]]) -> Response:
        store = self.store()
        chosen = conneg.choose(accept, conneg.RDF_MEDIA) or ("turtle", "text/turtle")
        fmts = "".join(f" , <http://www.w3.org/ns/formats/{f}>" for f in
                       ("SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
                        "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads"))
        graphs = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
        named = "".join(f" ;\n    sd:namedGraph [ sd:name <{g}> ]" for g in graphs)
        langs = "sd:SPARQL11Query" + (" , sd:SPARQL11Update" if update else "")
        feats = "sd:UnionDefaultGraph" + (" , sd:BasicFederatedQuery" if federation else "")
        ttl = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{endpoint}> a sd:Service ;
  rdfs:comment "ivig-kg SPARQL endpoint: the default graph is the union of all named graphs." ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage {langs} ;
  sd:feature {feats} ;
  sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>{fmts} ;
  sd:defaultDataset [ a sd:Dataset ;
    sd:defaultGraph [ a sd:Graph ]{named} ] .
"""
        if chosen[0] == "turtle":
            return 200, [("Content-Type", "text/turtle; charset=utf-8")], ttl.encode()
        buf = io.BytesIO()
        write_graph(list(ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE)), RDF_FORMATS[chosen[0]], buf)
        return 200, [("Content-Type", chosen[1])], buf.getvalue()

    # --- writes (only reached with --allow-update and the right token) ------------------------

    def task_update(self, update: str) -> Response:
        with self.graphstore.lock(), self.graphstore.new_generation(base_on_current=True) as st:
            st.update(update, prefixes=vocab.PREFIXES)
            del st  # closed before the generation is published
        return 204, [], b""

    def task_graph_write(self, method: str, iri: str | None, body: bytes, media: str) -> Response:
        fmt = next((f for f in RDF_FORMATS.values() if f.media_type == media and not f.datasets), None)
        if method != "DELETE" and fmt is None:
            return text(415, "send the graph as one of: " + ", ".join(
                f.media_type for f in RDF_FORMATS.values() if not f.datasets))
        graph: ox.NamedNode | ox.DefaultGraph = iri_node(iri) if iri else ox.DefaultGraph()
        with self.graphstore.lock(), self.graphstore.new_generation(base_on_current=True) as st:
            existed = isinstance(graph, ox.DefaultGraph) or st.contains_named_graph(graph)
            if method == "DELETE" and not existed:
                raise _NotFound(f"no graph <{iri}> in this store")
            if method in ("PUT", "DELETE"):
                if isinstance(graph, ox.NamedNode):
                    st.remove_graph(graph) if existed else None
                else:
                    st.clear_graph(graph)
            if method in ("PUT", "POST"):
                assert fmt is not None
                st.load(body, format=fmt.oxigraph, to_graph=graph)
            del st  # closed before the generation is published
        return (201 if method == "PUT" and not existed else 204), [], b""

    # --- the forest plot (drawn by ivig_kg.plot when that module exists) ----------------------

    def task_plot(self) -> Response:
        from ivig_kg.plot import forest_svg

        return 200, [("Content-Type", "image/svg+xml")], forest_svg(self.store())


class _NotFound(IvigKgError):
    pass


def iri_node(value: str) -> ox.NamedNode:
    """A NamedNode from a request value; an invalid IRI is the client's error (400), not ours."""
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise QueryError(f"{value!r} is not a valid IRI: {exc}") from None


_OUT = """SELECT ?e ?p ?o ?olabel WHERE { ?e ?p ?o OPTIONAL { ?o rdfs:label ?olabel } } ORDER BY ?p ?o"""
_IN = """SELECT ?e ?s ?p ?slabel WHERE { ?s ?p ?e OPTIONAL { ?s rdfs:label ?slabel } } ORDER BY ?p ?s LIMIT 500"""
_TERMS = """SELECT ?t ?label ?comment WHERE {
  GRAPH <https://w3id.org/ivig-kg/graph/ontology> { ?t a ?kind FILTER(STRSTARTS(STR(?t), STR(ivig:))) }
  OPTIONAL { ?t rdfs:label ?label } OPTIONAL { ?t rdfs:comment ?comment }
} ORDER BY ?t"""
_GRAPH_SUBJECTS = """SELECT DISTINCT ?g ?s ?label WHERE {
  GRAPH ?g { ?s ?p ?o FILTER(isIRI(?s) && !CONTAINS(STR(?s), "/_/")) }
  OPTIONAL { ?s rdfs:label ?label }
} ORDER BY ?s LIMIT 500"""


def _row(predicate: str, term: Any, label: Any) -> html.Row:
    if isinstance(term, ox.NamedNode):
        return html.Row(predicate, "iri", term.value, str(label.value) if label is not None else None, "")
    if isinstance(term, ox.BlankNode):
        return html.Row(predicate, "bnode", term.value, None, "")
    if isinstance(term, ox.Literal):
        extra = f"@{term.language}" if term.language else (
            "" if term.datatype.value == XSD_STRING else compact_dt(term.datatype.value))
        return html.Row(predicate, "literal", term.value, None, extra)
    return html.Row(predicate, "literal", str(term), None, "")


def compact_dt(iri: str) -> str:
    return "xsd:" + iri[len(vocab.XSD):] if iri.startswith(vocab.XSD) else iri


# --- SPARQL results serializers (W3C JSON, XML, CSV, TSV) ---------------------------------------
# Written here rather than with pyoxigraph's serializer so a result can be cut at the row cap.


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{xml_escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{xml_escape(term.value)}</literal>"
        return f"<literal>{xml_escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"unexpected term {term!r}")


def _csv_value(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.NamedNode | ox.Literal):
        return str(term.value)
    return str(term)


def solutions_body(variables: list[str], rows: list[Any], fmt: str) -> bytes:
    """SELECT results in a W3C format (json, xml, csv, tsv)."""
    if fmt == "json":
        bindings = [{v: _json_term(row[v]) for v in variables if row[v] is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False).encode()
    if fmt == "xml":
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
               "<head>", *(f"<variable name={quoteattr(v)}/>" for v in variables), "</head><results>"]
        for row in rows:
            out.append("<result>")
            out.extend(f"<binding name={quoteattr(v)}>{_xml_term(row[v])}</binding>"
                       for v in variables if row[v] is not None)
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode()
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_csv_value(row[v]) for v in variables])
        return buf.getvalue().encode()
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines.extend("\t".join("" if row[v] is None else str(row[v]) for v in variables) for row in rows)
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"unknown results format {fmt!r}")


def boolean_body(value: bool, fmt: str) -> bytes:
    """ASK results in a W3C format."""
    word = "true" if value else "false"
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head></head><boolean>{word}</boolean></sparql>\n").encode()
    if fmt == "csv":
        return f"_askResult\r\n{word}\r\n".encode()
    return f"?_askResult\n{word}\n".encode()


# --- the process entry point -------------------------------------------------------------------


def main(conn: Connection, store_path: str, site_base: str, max_rows: int) -> None:
    """Serve tasks from ``conn`` until it closes; one task at a time, answers in order."""
    worker = Worker(store_path, site_base, max_rows)
    try:
        conn.send(worker.handle({"kind": "ping", "args": {}}))
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return
            conn.send(worker.handle(task))
    except KeyboardInterrupt:
        return
