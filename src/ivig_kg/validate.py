"""Validate a built graph: SHACL shapes, statistical sanity rules, OWL reasoning, the claims check.

:func:`validate` returns a :class:`ValidationReport`; it never prints and never
fails by itself — the caller (the ``validate`` command, or ``build`` through
:func:`shacl_check`) decides what a failure is. Severity ``Violation`` fails,
``Warning`` and ``Info`` do not.

The shapes are ``ontology/shapes.ttl``: SHACL Core shapes for the structure of
every class, and SHACL-SPARQL constraints for the statistical rules. They are
checked with pyshacl against the article and links graphs (the ontology and
inferred graphs are left out: the ontology is not data, and inferred types
are derived from the data). rdflib, pyshacl and owlready2 are imported only
inside the functions that need them, so the CLI starts fast.

A store is validated one *unit* at a time (:func:`shacl_store`): one per
article graph, plus one for the cross-article graphs (concepts, links). A
unit holds its own graphs plus what the checks of the nodes it reports on
read elsewhere: those nodes' own triples in any graph, the rdf:type triples
of their values, rdfs:subClassOf. Each node is reported by the unit(s) whose
graph mentions it — by the cross-article unit if the concepts or links graph
does — so the merged results are exactly those of one run over the whole
graph, while memory holds one article's worth and time grows linearly.
:func:`_reach_beyond_focus` checks that the shapes read no further (else
the store is validated as one graph).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ivig_kg import resources
from ivig_kg.errors import UsageError, ValidationFailed
from ivig_kg.store import GraphStore, run_query
from ivig_kg.vocab import INFERRED_GRAPH, OA, ONTOLOGY_GRAPH, PROV, article_graph_iri

if TYPE_CHECKING:
    from ivig_kg.reason import ReasoningReport

SH = "http://www.w3.org/ns/shacl#"
SEVERITIES = {SH + "Violation": "Violation", SH + "Warning": "Warning", SH + "Info": "Info"}
"""SHACL severities by IRI; only Violation fails validation."""

CLAIMS_CHECK_QUERY = "claims-check"
"""The canned query (queries/claims-check.rq) that recomputes the claims' study counts."""


def shapes_file() -> Path:
    """The bundled SHACL shapes (``ontology/shapes.ttl``)."""
    return resources.root() / "ontology" / "shapes.ttl"


@dataclass(frozen=True)
class ShaclResult:
    """One SHACL validation result, with the source passage of its focus node."""

    severity: str
    """Violation, Warning or Info."""
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str | None
    component: str | None
    quotes: tuple[str, ...] = ()
    """The exact passages (oa:exact) the focus node was derived from."""


@dataclass(frozen=True)
class ClaimCheck:
    """A claim's stated study counts against the counts recomputed from the studies' results."""

    claim: str
    statement: str
    stated_benefit: int | None
    stated_considered: int | None
    considered: tuple[str, ...]
    """Studies the claim's evidence reaches: ivig:restsOn followed through other claims, to studies
    directly or through their estimates and findings (none: the claim considers no study)."""
    showing_benefit: tuple[str, ...]
    """Of those, the studies with a significant result in favour of the intervention."""
    identified: tuple[str, ...]
    """Studies the claim singles out (ivig:identifiesStudy)."""

    @property
    def agrees(self) -> bool:
        """The stated counts match the recomputed ones and each identified study shows benefit."""
        return (
            (self.stated_benefit is None or self.stated_benefit == len(self.showing_benefit))
            and (self.stated_considered is None or self.stated_considered == len(self.considered))
            and set(self.identified) <= set(self.showing_benefit)
        )

    @property
    def explanation(self) -> str:
        """Why the claim agrees or not, in one line."""
        parts = []
        if self.stated_benefit is not None:
            parts.append(f"states {self.stated_benefit} showing benefit, results show {len(self.showing_benefit)}")
        if self.stated_considered is not None:
            parts.append(f"states {self.stated_considered} considered, rests on {len(self.considered)}")
        missing = sorted(set(self.identified) - set(self.showing_benefit))
        if missing:
            parts.append("identified study without a significant benefit: " + ", ".join(missing))
        return "; ".join(parts)


@dataclass
class ValidationReport:
    """Everything ``validate`` found; :attr:`conforms` is what decides the exit code."""

    results: list[ShaclResult] = field(default_factory=list)
    report_turtle: str = ""
    """The W3C SHACL validation report graph, as Turtle."""
    claims: list[ClaimCheck] = field(default_factory=list)
    reasoning: ReasoningReport | None = None
    shacl_seconds: float = 0.0
    data_triples: int = 0

    @property
    def violations(self) -> list[ShaclResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ShaclResult]:
        return [r for r in self.results if r.severity != "Violation"]

    @property
    def conforms(self) -> bool:
        """No SHACL violation, and the OWL reasoner (if it ran) found the graph consistent.

        Warnings, a reasoner that could not run (no Java) and claims that
        disagree with the numbers are reported but do not fail: the last is a
        finding about the commentary, which the graph records faithfully.
        """
        return not self.violations and (self.reasoning is None or self.reasoning.consistent is not False)


# --- data ------------------------------------------------------------------------

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
NOT_DATA = (ONTOLOGY_GRAPH, INFERRED_GRAPH)
"""Graphs SHACL does not check: the ontology is not data, inferred types are derived from the data."""
CROSS_UNIT = "cross-article graphs"
"""The name of the unit that validates the concepts, links (and any other non-article) graphs."""


def data_nquads(store: ox.Store) -> bytes:
    """The graphs SHACL checks (all but the ontology and inferred graphs) as N-Triples bytes."""
    skip = {ox.NamedNode(g) for g in NOT_DATA}
    triples = (ox.Triple(q.subject, q.predicate, q.object)
               for q in store.quads_for_pattern(None, None, None, None) if q.graph_name not in skip)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _rdflib_graph(nt: bytes) -> Any:
    g = _graph_class()()
    g.parse(data=nt, format="nt")
    return g


@cache
def _graph_class() -> Any:
    """An rdflib Graph whose ``query`` parses each SPARQL text once per process.

    pyshacl runs each SHACL-SPARQL constraint (and sh:lessThan...) as a query
    per focus node, passing the same text every time; rdflib parses it again
    on each call, which was ~95% of validation time. The parsed query is
    prepared with the graph's own namespace bindings, exactly as
    ``Graph.query`` would, so answers are unchanged.
    """
    import rdflib
    from rdflib.plugins.sparql import prepareQuery

    prepared: dict[str, Any] = {}

    class CachedQueryGraph(rdflib.Graph):
        def query(self, query_object: Any, processor: Any = "sparql", result: Any = "sparql",
                  initNs: Any = None, initBindings: Any = None,  # rdflib's parameter names
                  use_store_provided: bool = True, **kwargs: Any) -> Any:
            if isinstance(query_object, str) and processor == "sparql" and not initNs:
                compiled = prepared.get(query_object)
                if compiled is None:
                    compiled = prepared[query_object] = prepareQuery(
                        query_object, initNs=dict(self.namespaces()))
                query_object = compiled
            return super().query(query_object, processor, result, initNs, initBindings,
                                 use_store_provided, **kwargs)

    return CachedQueryGraph


def _to_rdflib(triples: Iterable[tuple[Any, Any, Any]]) -> Any:
    """An rdflib graph of Oxigraph triples, terms converted directly (blank node labels kept).

    Literals come out as rdflib's N-Triples parser makes them (a plain string
    has no datatype), so a unit graph holds the same terms as the graph
    :func:`data_nquads` + :func:`_rdflib_graph` give.
    """
    from rdflib import BNode, Literal, URIRef

    nodes: dict[Any, Any] = {}

    def term(t: Any) -> Any:
        got = nodes.get(t)
        if got is None:
            if isinstance(t, ox.NamedNode):
                got = URIRef(t.value)
            elif isinstance(t, ox.BlankNode):
                got = BNode(t.value)
            else:
                dt = t.datatype.value
                got = (Literal(t.value, lang=t.language) if t.language else
                       Literal(t.value) if dt == XSD_STRING else
                       Literal(t.value, datatype=URIRef(dt)))
            nodes[t] = got
        return got

    g = _graph_class()()
    add = g.add
    for s, p, o in triples:
        add((term(s), term(p), term(o)))
    return g


# --- SHACL: shapes -----------------------------------------------------------------


@dataclass(frozen=True)
class Shapes:
    """The SHACL shapes of one run: parsed once, shared by every unit of validation.

    :attr:`whole_graph_reason` says why the shapes cannot be checked one article
    at a time (None: they can; see :func:`shacl_store`).
    """

    graph: Any
    path: Path
    target_objects_of: tuple[str, ...] = ()
    """Predicates of sh:targetObjectsOf: a focus node chosen by a triple that points at it."""
    target_nodes: tuple[str, ...] = ()
    whole_graph_reason: str | None = None


def _load_shapes(path: Path) -> Any:
    import rdflib

    g = rdflib.Graph()
    try:
        g.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises various parser errors
        raise ValidationFailed(f"cannot read SHACL shapes {path}: {exc}") from None
    return g


def load_shapes(path: Path | None = None) -> Shapes:
    """Parse a shapes file (default: the bundled shapes) and work out how far its shapes reach."""
    from rdflib import URIRef

    path = path or shapes_file()
    g = _load_shapes(path)
    return Shapes(
        graph=g, path=path,
        target_objects_of=tuple(sorted({str(o) for o in g.objects(None, URIRef(SH + "targetObjectsOf"))})),
        target_nodes=tuple(sorted({str(o) for o in g.objects(None, URIRef(SH + "targetNode"))})),
        whole_graph_reason=_reach_beyond_focus(g))


NEEDS_WHOLE_GRAPH = ("node", "qualifiedValueShape", "validator", "nodeValidator", "propertyValidator",
                     "rule", "js", "jsFunctionName", "shapesGraph", "targetValidator")
"""SHACL terms whose checks can read nodes other than a focus node and its values' types."""


def _reach_beyond_focus(g: Any) -> str | None:
    """Why a shape may read more than a focus node's own triples and its values' types, or None.

    Per-article validation is exact when every constraint on a focus node
    reads only triples whose subject is that node, the rdf:type triples of
    their objects (sh:class) and rdfs:subClassOf; and when every target is
    chosen by such triples or by a triple pointing at the node
    (sh:targetObjectsOf). That holds for single-predicate paths, Core
    constraints on the focus and its values, logical constraints (sh:or...)
    on the focus itself, and SPARQL whose triple patterns all have ``$this``
    as subject. Anything else makes :func:`shacl_store` validate the whole
    graph at once (exact, but slower).
    """
    from rdflib import URIRef
    from rdflib.collection import Collection as RdfList

    def sh(name: str) -> Any:
        return URIRef(SH + name)

    for name in NEEDS_WHOLE_GRAPH:
        if next(g.triples((None, sh(name), None)), None) is not None:
            return f"the shapes use sh:{name}"
    for path in g.objects(None, sh("path")):
        if not isinstance(path, URIRef):
            return "a property path other than a single predicate"
    for prop_shape in set(g.subjects(sh("path"), None)):
        if next(g.triples((prop_shape, sh("property"), None)), None) is not None:
            return "a property shape with nested property shapes"
        for logic in ("or", "and", "xone", "not"):
            for head in g.objects(prop_shape, sh(logic)):
                members = [head] if logic == "not" else list(RdfList(g, head))
                for m in members:
                    if any(next(g.triples((m, sh(p), None)), None) is not None
                           for p in ("path", "property", "sparql")):
                        return f"sh:{logic} on the values of a property shape reads the values' own triples"
    prefixes = "".join(f"PREFIX {g.value(d, sh('prefix'))}: <{g.value(d, sh('namespace'))}>\n"
                       for d in g.objects(None, sh("declare")))
    for text in g.objects(None, sh("select")):
        if not _sparql_reads_only_this(prefixes + str(text)):
            return "a SPARQL constraint or target reads triples of nodes other than $this"
    if next(g.triples((None, sh("ask"), None)), None) is not None:
        return "the shapes use sh:ask"
    return None


def _sparql_reads_only_this(text: str) -> bool:
    """Every triple pattern of the query has ``$this`` (or ``?this``) as subject; no GRAPH, SERVICE or paths."""
    from rdflib import URIRef, Variable
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        algebra = prepareQuery(text).algebra
    except Exception:  # a query rdflib cannot parse cannot be analysed: assume the worst
        return False
    this = Variable("this")
    stack: list[Any] = [algebra]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name in ("Graph", "ServiceGraphPattern"):
                return False
            if "triples" in node:  # a BGP, or a TriplesBlock not yet translated (inside EXISTS)
                for s, p, _o in node["triples"]:
                    if s != this or not isinstance(p, (URIRef, Variable)):
                        return False
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return True


# --- SHACL: one unit ----------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """What one pyshacl run validates: the triples it needs and whose results it reports."""

    name: str
    triples: frozenset[tuple[Any, Any, Any]]
    keep: frozenset[Any] | None
    """Focus nodes whose results this unit reports (None: all)."""
    home_quads: int
    """Quads of the unit's own graphs (each data quad is home to exactly one unit)."""


@dataclass(frozen=True)
class _Layout:
    """The store's data graphs: article graphs by id, the cross-article graphs and what they mention."""

    data: frozenset[Any]
    articles: dict[str, Any]
    cross: tuple[Any, ...]
    cross_nodes: frozenset[Any]
    subclass: tuple[tuple[Any, Any, Any], ...]


ARTICLE_GRAPH_PREFIX = article_graph_iri("")


def _layout(store: ox.Store) -> _Layout:
    skip = {ox.NamedNode(g) for g in NOT_DATA}
    graphs = [g for g in store.named_graphs() if g not in skip]
    articles = {g.value[len(ARTICLE_GRAPH_PREFIX):]: g for g in graphs
                if g.value.startswith(ARTICLE_GRAPH_PREFIX)}
    cross: list[Any] = sorted((g for g in graphs if not g.value.startswith(ARTICLE_GRAPH_PREFIX)),
                              key=lambda g: g.value)
    if next(store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None) is not None:
        cross.append(ox.DefaultGraph())
    cross_nodes: set[Any] = set()
    for g in cross:
        for q in store.quads_for_pattern(None, None, None, g):
            cross_nodes.add(q.subject)
            if not isinstance(q.object, ox.Literal):
                cross_nodes.add(q.object)
    data = frozenset([*graphs, *cross])
    subclass = tuple(sorted({(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(
        None, ox.NamedNode(RDFS_SUBCLASS_OF), None, None) if q.graph_name in data}, key=str))
    return _Layout(frozenset(data), articles, tuple(cross), frozenset(cross_nodes), subclass)


def _unit(store: ox.Store, layout: _Layout, name: str, home: Sequence[Any], shapes: Shapes) -> _Unit:
    """The unit of ``home`` graphs: their triples plus everything their focus nodes' checks read.

    The unit keeps (reports the results of) the nodes its graphs mention,
    except, for an article, nodes the cross-article graphs mention: those are
    the cross-article unit's. For each kept node it adds, from every data
    graph, the node's own triples and the rdf:type triples of their objects
    (sh:class), plus all rdfs:subClassOf triples; the cross-article unit also
    adds the triples that choose its nodes as targets (sh:targetObjectsOf).
    By :func:`_reach_beyond_focus` that is all a check of a kept node reads.
    """
    triples: set[tuple[Any, Any, Any]] = set(layout.subclass)
    mentioned: set[Any] = set()
    home_quads = 0
    for g in home:
        for q in store.quads_for_pattern(None, None, None, g):
            home_quads += 1
            triples.add((q.subject, q.predicate, q.object))
            mentioned.add(q.subject)
            if not isinstance(q.object, ox.Literal):
                mentioned.add(q.object)
    cross = name == CROSS_UNIT
    if cross:
        mentioned.update(ox.NamedNode(n) for n in shapes.target_nodes)
    keep = mentioned if cross else mentioned - layout.cross_nodes
    not_data = [ox.NamedNode(g) for g in NOT_DATA]
    triples.update(_matching(store, "s", keep, (), [*not_data, *home]))
    if cross and shapes.target_objects_of:
        triples.update(_matching(store, "o", keep, shapes.target_objects_of, not_data))
    values = {o for s, _p, o in triples if s in keep and not isinstance(o, ox.Literal)}
    triples.update(_matching(store, "s", values, (RDF_TYPE,), not_data))
    return _Unit(name, frozenset(triples), frozenset(_node_key(n) for n in keep), home_quads)


VALUES_CHUNK = 2000
"""Nodes per SPARQL VALUES block in :func:`_matching`."""


def _matching(store: ox.Store, position: str, nodes: Collection[Any], predicates: Sequence[str],
              exclude: Sequence[Any]) -> Iterator[tuple[Any, Any, Any]]:
    """Triples of every graph but ``exclude`` with one of ``nodes`` as subject (``position`` "s") or object ("o").

    ``predicates``: only those (empty: any). One SPARQL query per 2000 nodes:
    a ``quads_for_pattern`` call costs ~50 µs on an on-disk store, and an
    article mentions ~300 nodes. Graphs are excluded by FILTER, not listed in
    VALUES (Oxigraph then scans every graph: 1.6 s instead of 8 ms at 100k
    quads). The VALUES lists are written from terms the store itself
    returned (``str`` of a pyoxigraph term is its N-Triples form), never from
    user input. Blank nodes cannot appear in VALUES: they are looked up one by one.
    """
    if not nodes:
        return
    named = [g for g in exclude if isinstance(g, ox.NamedNode)]
    with_default = not any(isinstance(g, ox.DefaultGraph) for g in exclude)
    not_in = f"FILTER(?g NOT IN ({', '.join(map(str, named))}))" if named else ""
    iris = sorted((n for n in nodes if isinstance(n, ox.NamedNode)), key=lambda n: n.value)
    # a constant predicate, not VALUES ?p: with VALUES Oxigraph scanned every rdf:type triple (1.3 s at 1M quads)
    fixed: list[ox.NamedNode | None] = [ox.NamedNode(p) for p in predicates] or [None]
    for pred in fixed:
        pattern = f"?s {pred or '?p'} ?o"
        where = f"{{ GRAPH ?g {{ {pattern} }} {not_in} }}" + (f" UNION {{ {pattern} }}" if with_default else "")
        for i in range(0, len(iris), VALUES_CHUNK):
            chunk = " ".join(map(str, iris[i:i + VALUES_CHUNK]))
            query = f"SELECT * WHERE {{ VALUES ?{position} {{ {chunk} }} {where} }}"
            for sol in store.query(query):  # type: ignore[union-attr]
                yield sol["s"], pred or sol["p"], sol["o"]
    skip = set(exclude)
    for n in nodes:
        if isinstance(n, ox.BlankNode):
            for pred in fixed:
                found = (store.quads_for_pattern(n, pred, None, None) if position == "s"
                         else store.quads_for_pattern(None, pred, n, None))
                for q in found:
                    if q.graph_name not in skip:
                        yield q.subject, q.predicate, q.object


def _whole_unit(store: ox.Store, layout: _Layout) -> _Unit:
    """All data graphs at once: for shapes that reach beyond a focus node."""
    triples = {(q.subject, q.predicate, q.object) for g in layout.data
               for q in store.quads_for_pattern(None, None, None, g)}
    return _Unit("whole graph", frozenset(triples), None, len(triples))


def _node_key(n: Any) -> str:
    """A node as pyshacl's report names it (str of the rdflib term)."""
    return str(n.value)


ResultTriples = list[tuple[Any, Any, Any]]


def _run_unit(unit: _Unit, shapes: Shapes, want_report: bool
              ) -> list[tuple[ShaclResult, ResultTriples]]:
    """Validate one unit with pyshacl; its kept results, each with its report triples (if wanted)."""
    data = _to_rdflib(unit.triples)
    results, report = _pyshacl(data, shapes.graph)
    out = []
    for node, r in results:
        if unit.keep is not None and r.focus not in unit.keep:
            continue
        out.append((r, _closure(report, node) if want_report else []))
    return out


def _closure(g: Any, node: Any) -> ResultTriples:
    """The triples of a report node and of the blank nodes it reaches (its shape, paths...)."""
    from rdflib import BNode

    out, seen, todo = [], {node}, [node]
    while todo:
        n = todo.pop()
        for s, p, o in g.triples((n, None, None)):
            out.append((s, p, o))
            if isinstance(o, BNode) and o not in seen:
                seen.add(o)
                todo.append(o)
    return out


def _pyshacl(data: Any, shapes_graph: Any) -> tuple[list[tuple[Any, ShaclResult]], Any]:
    """Run pyshacl on an rdflib graph; (result node, result) pairs without quotes, and the report graph.

    The options are those ``validate`` always used; ``inplace`` only spares a
    copy of the data graph (pyshacl copies in advanced mode in case SHACL
    rules add triples; the callers pass a graph of their own to throw away).
    """
    import pyshacl
    from rdflib import RDF, Namespace

    shacl = Namespace(SH)
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes_graph, inference="none",
        abort_on_first=False, allow_warnings=True, meta_shacl=False, advanced=True,
        do_owl_imports=False, inplace=True)
    if not hasattr(report, "subjects"):  # pyshacl's ValidationFailure: the shapes themselves are wrong
        raise ValidationFailed(f"the SHACL shapes could not be applied: {report}")
    results = []
    for node in report.subjects(RDF.type, shacl.ValidationResult):
        def one(pred: Any, node: Any = node) -> str | None:
            value = report.value(node, pred)
            return None if value is None else str(value)

        results.append((node, ShaclResult(
            severity=SEVERITIES.get(one(shacl.resultSeverity) or "", "Violation"),
            focus=one(shacl.focusNode) or "", path=one(shacl.resultPath), value=one(shacl.value),
            message=one(shacl.resultMessage) or "", shape=one(shacl.sourceShape),
            component=one(shacl.sourceConstraintComponent))))
    return results, report


RESULT_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


def _sort(results: list[ShaclResult]) -> None:
    results.sort(key=lambda r: (RESULT_ORDER[r.severity], r.focus, r.path or "", r.message, r.value or "",
                                r.shape or ""))


def run_shacl(data: Any, shapes: Path | Shapes | None = None) -> tuple[list[ShaclResult], Any]:
    """Validate one rdflib graph at once; the results (sorted, quotes attached) and the report graph.

    The whole-graph check: the tests break rules in an rdflib copy of the
    bundled graph with it, and it is the reference :func:`shacl_store` is
    compared with.
    """
    if not isinstance(shapes, Shapes):
        shapes = load_shapes(shapes)
    if not isinstance(data, _graph_class()):
        cached = _graph_class()()
        for t in data:
            cached.add(t)
        data = cached
    pairs, report = _pyshacl(data, shapes.graph)
    results = [replace(r, quotes=_quotes(data, r.focus)) for _node, r in pairs]
    _sort(results)
    return results, report


def _quotes(data: Any, focus: str) -> tuple[str, ...]:
    """The exact text passages a node was derived from (empty for blank or unquoted nodes)."""
    from rdflib import URIRef

    if not focus.startswith(("http://", "https://")):
        return ()
    rows = data.query(
        """SELECT DISTINCT ?exact ?start WHERE {
             ?n <http://www.w3.org/ns/prov#wasDerivedFrom> ?q .
             ?q <http://www.w3.org/ns/oa#hasSelector> ?sel .
             ?sel <http://www.w3.org/ns/oa#exact> ?exact .
             OPTIONAL { ?q <http://www.w3.org/ns/oa#hasSelector>/<http://www.w3.org/ns/oa#start> ?start }
           } ORDER BY ?start""",
        initBindings={"n": URIRef(focus)})
    return tuple(str(r[0]) for r in rows)


def _store_quotes(store: ox.Store, data: frozenset[Any], focus: str) -> tuple[str, ...]:
    """:func:`_quotes` read from the store: the passages of the quotes ``focus`` was derived from."""
    if not focus.startswith(("http://", "https://")):
        return ()

    def objects(s: Any, p: str) -> list[Any]:
        return [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None) if q.graph_name in data]

    rows: set[tuple[int, int, str]] = set()
    for quote in objects(ox.NamedNode(focus), PROV + "wasDerivedFrom"):
        selectors = objects(quote, OA + "hasSelector")
        starts: list[int | None] = [int(st.value) for sel in selectors for st in objects(sel, OA + "start")]
        for sel in selectors:
            for exact in objects(sel, OA + "exact"):
                for st in starts or [None]:
                    rows.add((st is not None, st or 0, exact.value))
    return tuple(exact for _has, _st, exact in sorted(rows))


# --- SHACL: a store, one unit at a time -----------------------------------------------


@dataclass
class ShaclRun:
    """The SHACL results of a store, validated one unit (article, or the cross-article graphs) at a time."""

    results: list[ShaclResult] = field(default_factory=list)
    report: Any = None
    """The merged W3C validation report (an rdflib graph), when asked for."""
    units: list[tuple[str, int, int, float]] = field(default_factory=list)
    """Per unit: name, quads of its own graphs, triples validated (with what they reach), seconds."""
    whole_graph_reason: str | None = None
    """Why the store was validated as one graph (None: one unit per article)."""

    @property
    def data_triples(self) -> int:
        return sum(u[1] for u in self.units)


def shacl_units(store: ox.Store, shapes: Shapes, articles: Collection[str] | None = None) -> Iterator[_Unit]:
    """The units of validation of ``store``, built one at a time (memory: one article's worth).

    The cross-article unit comes first and is always there; then one unit per
    article (``articles``: only those ids; an id with no graph in the store is
    a :class:`~ivig_kg.errors.UsageError`). Shapes that reach beyond a focus
    node give a single whole-graph unit instead.
    """
    layout = _layout(store)
    if shapes.whole_graph_reason is not None:
        yield _whole_unit(store, layout)
        return
    if articles is None:
        ids = sorted(layout.articles)
    else:
        ids = sorted(set(articles))
        missing = [a for a in ids if a not in layout.articles]
        if missing:
            raise UsageError(f"no article graph for {', '.join(repr(m) for m in missing)} in the store",
                             hint="pass the ids of articles the store holds (see 'ivig-kg stats')")
    yield _unit(store, layout, CROSS_UNIT, layout.cross, shapes)
    for a in ids:
        yield _unit(store, layout, a, [layout.articles[a]], shapes)


def shacl_store(store: ox.Store, articles: Collection[str] | None = None, *,
                shapes: Path | Shapes | None = None, report: bool = False, quotes: bool = True) -> ShaclRun:
    """SHACL-validate a store one article at a time; the same results as validating it all at once.

    Each article graph is validated with what its nodes' checks read (see
    :func:`_unit`), the cross-article graphs (concepts, links) once on their
    own; results are merged (a result two units both report counts once).
    Memory holds one unit at a time; time grows with the number of articles.
    (Validating units in two forked worker processes was measured no faster
    on a 2-core machine, 9.7-10.9 s vs 9.0 s at 100k quads, and forking a
    process that holds RocksDB threads is unsafe, so units run in turn.)
    """
    if not isinstance(shapes, Shapes):
        shapes = load_shapes(shapes)
    run = ShaclRun(whole_graph_reason=shapes.whole_graph_reason)
    seen: dict[ShaclResult, ResultTriples] = {}
    units = shacl_units(store, shapes, articles)
    for (name, home_quads, size), kept, seconds in _sequential(units, shapes, report):
        for r, triples in kept:
            seen.setdefault(r, triples)
        run.units.append((name, home_quads, size, seconds))
    layout_data = frozenset(g for g in _data_graphs(store))
    run.results = [replace(r, quotes=_store_quotes(store, layout_data, r.focus)) if quotes else r
                   for r in seen]
    _sort(run.results)
    if report:
        run.report = _merged_report(seen, shapes)
    return run


UnitOutcome = tuple[tuple[str, int, int], list[tuple[ShaclResult, ResultTriples]], float]
"""(name, home quads, triples), the unit's kept results, seconds (building the unit and validating it)."""


def _sequential(units: Iterator[_Unit], shapes: Shapes, want_report: bool) -> Iterator[UnitOutcome]:
    while True:
        started = time.perf_counter()
        unit = next(units, None)
        if unit is None:
            return
        kept = _run_unit(unit, shapes, want_report)
        yield (unit.name, unit.home_quads, len(unit.triples)), kept, time.perf_counter() - started


def _data_graphs(store: ox.Store) -> Iterator[Any]:
    skip = {ox.NamedNode(g) for g in NOT_DATA}
    yield ox.DefaultGraph()
    yield from (g for g in store.named_graphs() if g not in skip)


def _merged_report(results: dict[ShaclResult, ResultTriples], shapes: Shapes) -> Any:
    """One sh:ValidationReport holding every unit's kept results."""
    import rdflib
    from rdflib import RDF, BNode, Literal, Namespace

    shacl = Namespace(SH)
    g = rdflib.Graph(bind_namespaces="core")
    for prefix, ns in shapes.graph.namespace_manager.namespaces():
        g.namespace_manager.bind(prefix, ns)
    report = BNode()
    g.add((report, RDF.type, shacl.ValidationReport))
    g.add((report, shacl.conforms, Literal(not any(r.severity == "Violation" for r in results))))
    for triples in results.values():
        if triples:
            g.add((report, shacl.result, triples[0][0]))
        for t in triples:
            g.add(t)
    return g


# --- claims check ------------------------------------------------------------------


def check_claims(store: ox.Store) -> list[ClaimCheck]:
    """Recompute, for each claim that states study counts, the counts from the studies' results.

    Runs the canned query ``claims-check``, so ``ivig-kg query run
    claims-check`` shows the same numbers as the validate report.
    """
    from ivig_kg import queries

    checks = []
    for sol in run_query(store, queries.get(CLAIMS_CHECK_QUERY).text):
        def val(name: str, sol: Any = sol) -> str | None:
            term = sol[name]
            return None if term is None else str(term.value)

        def iris(name: str) -> tuple[str, ...]:
            return tuple(sorted((val(name) or "").split()))

        benefit, considered = val("statedBenefit"), val("statedConsidered")
        checks.append(ClaimCheck(
            claim=val("claim") or "", statement=val("statement") or "",
            stated_benefit=None if benefit is None else int(benefit),
            stated_considered=None if considered is None else int(considered),
            considered=iris("consideredStudies"), showing_benefit=iris("benefitStudies"),
            identified=iris("identifiedStudies")))
    return checks


# --- entry points --------------------------------------------------------------------


def validate_store(store: ox.Store, *, reason: bool = True, shapes: Path | None = None) -> ValidationReport:
    """SHACL (one article at a time), the claims check and (with ``reason``) OWL reasoning of one store."""
    started = time.perf_counter()
    run = shacl_store(store, shapes=shapes, report=True)
    out = ValidationReport(results=run.results, report_turtle=run.report.serialize(format="turtle"),
                           data_triples=run.data_triples)
    out.shacl_seconds = time.perf_counter() - started
    out.claims = check_claims(store)
    if reason:
        from ivig_kg.reason import reason as run_reasoner

        out.reasoning = run_reasoner(store)
    return out


def validate(store: GraphStore, *, reason: bool = True, shapes: Path | None = None) -> ValidationReport:
    """Validate the live generation of ``store``; see :func:`validate_store`."""
    return validate_store(store.open(), reason=reason, shapes=shapes)


def shacl_check(new: ox.Store, articles: Collection[str] | None = None) -> None:
    """A build check: refuse a new generation with SHACL violations (warnings pass).

    ``articles``: validate only these article ids (an incremental build's
    changed articles) plus the cross-article graphs, which are always checked;
    None validates every article of the store.
    """
    results = shacl_store(new, articles, quotes=False).results
    violations = [r for r in results if r.severity == "Violation"]
    if violations:
        lines = [f"{_short(r.focus)} {_short(r.path) if r.path else ''}: {r.message}".replace("  ", " ")
                 for r in violations[:20]]
        more = f"\n  ... and {len(violations) - 20} more" if len(violations) > 20 else ""
        raise ValidationFailed(
            f"the new graph breaks {len(violations)} SHACL rule(s); the store was left unchanged:\n  "
            + "\n  ".join(lines) + more,
            hint="fix the source file (see 'ivig-kg validate' for the quotes), or build with --no-validate")


def _short(iri: str | None) -> str:
    from ivig_kg.results import compact

    return compact(iri) if iri else ""
