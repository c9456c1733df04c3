"""OWL reasoning: consistency and classification with owlready2 and HermiT.

:func:`reason` takes the ontology and article graphs of a store, prepares a
*reasoning view* of them that HermiT can read, runs HermiT through owlready2,
and returns a :class:`ReasoningReport` with the types it inferred. It never
prints. :func:`materialize` writes the inferred types into the named graph
:data:`ivig_kg.vocab.INFERRED_GRAPH`, so SPARQL can ask for them.

The reasoning view differs from the stored graph in ways HermiT needs:

- it is N-Triples in a temporary directory (owlready2 reads RDF/XML, OWL/XML
  and N-Triples, not Turtle), and has no ``owl:imports`` (nothing is fetched);
- every IRI of our resource and concept namespaces that has a type or is the
  object of an ivig object property is declared ``owl:NamedIndividual``
  (owlready2 only sees declared individuals);
- literals and range axioms of datatypes outside the OWL 2 datatype map
  (``xsd:duration``, ``xsd:gYear``, ``xsd:date``) are left out: HermiT refuses
  them, and no defined class uses them;
- the W3C Web Annotation provenance (quote resources and selectors) is left
  out: it takes no part in any class definition;
- closure axioms state what the curated graph leaves implicit, so that
  negative classes (``ivig:StudyWithoutBenefit``) can be inferred under OWL's
  open-world semantics: a study has no estimates or findings besides the
  curated ones (``hasEstimate only {...}``, or ``max 0``), and a result with
  no stated direction has none (``direction max 0``).

Java must be on PATH (HermiT is a Java program). Without it the report says
so (``available`` is False) and callers carry on with the rest.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ivig_kg.errors import ValidationFailed
from ivig_kg.vocab import CONCEPT, INFERRED_GRAPH, IVIG, OA, OWL, PROV, RDF, RDFS, RESOURCE, XSD

UNSUPPORTED_DATATYPES = frozenset({XSD + "duration", XSD + "gYear", XSD + "date"})
"""Datatypes HermiT rejects (not in the OWL 2 datatype map); left out of the reasoning view."""

CLOSED_PROPERTIES = ("hasEstimate", "hasFinding")
"""Study properties closed to their curated values before classifying."""

_TYPE = ox.NamedNode(RDF + "type")
_NAMED_INDIVIDUAL = ox.NamedNode(OWL + "NamedIndividual")
_IMPORTS = ox.NamedNode(OWL + "imports")
_RANGE = ox.NamedNode(RDFS + "range")
_DERIVED = ox.NamedNode(PROV + "wasDerivedFrom")
_DIRECTION = ox.NamedNode(IVIG + "direction")


@dataclass(frozen=True)
class InferredType:
    individual: str
    cls: str


@dataclass
class ReasoningReport:
    """What the reasoner concluded. ``consistent`` is None when it could not run."""

    available: bool
    consistent: bool | None = None
    message: str = ""
    inferred: list[InferredType] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    """Named classes the ontology makes empty (equivalent to owl:Nothing)."""
    triples: int = 0
    """Size of the reasoning view."""
    seconds: float = 0.0
    """Wall time of the whole run (view, load, HermiT, read-back)."""
    reasoner_seconds: float = 0.0
    """Wall time of HermiT alone (includes starting the JVM)."""

    def types_of(self, individual: str) -> set[str]:
        return {t.cls for t in self.inferred if t.individual == individual}

    def individuals_of(self, cls: str) -> set[str]:
        return {t.individual for t in self.inferred if t.cls == cls}


# --- the reasoning view --------------------------------------------------------------


def _ours(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> bool:
    return isinstance(term, ox.NamedNode) and term.value.startswith((RESOURCE, CONCEPT))


def _keep(t: ox.Triple) -> bool:
    p, o = t.predicate.value, t.object
    if p == _IMPORTS.value or p.startswith(OA) or p == _DERIVED.value:
        return False
    if isinstance(o, ox.Literal) and o.datatype.value in UNSUPPORTED_DATATYPES:
        return False
    if p == _RANGE.value and isinstance(o, ox.NamedNode) and o.value in UNSUPPORTED_DATATYPES:
        return False
    return not (p == _TYPE.value and isinstance(o, ox.NamedNode) and o.value.startswith(OA))


def _rdf_list(items: list[ox.NamedNode]) -> tuple[ox.BlankNode, list[ox.Triple]]:
    first, rest, nil = ox.NamedNode(RDF + "first"), ox.NamedNode(RDF + "rest"), ox.NamedNode(RDF + "nil")
    head = ox.BlankNode()
    node, out = head, []
    for i, item in enumerate(items):
        out.append(ox.Triple(node, first, item))
        nxt: ox.NamedNode | ox.BlankNode = nil if i == len(items) - 1 else ox.BlankNode()
        out.append(ox.Triple(node, rest, nxt))
        if isinstance(nxt, ox.BlankNode):
            node = nxt
    return head, out


def _restriction(subject: ox.NamedNode, prop: ox.NamedNode, values: list[ox.NamedNode]) -> list[ox.Triple]:
    """``subject a [prop only {values}]``, or ``[prop max 0]`` when there are none."""
    r = ox.BlankNode()
    out = [ox.Triple(subject, _TYPE, r), ox.Triple(r, _TYPE, ox.NamedNode(OWL + "Restriction")),
           ox.Triple(r, ox.NamedNode(OWL + "onProperty"), prop)]
    if not values:
        out.append(ox.Triple(r, ox.NamedNode(OWL + "maxCardinality"),
                             ox.Literal("0", datatype=ox.NamedNode(XSD + "nonNegativeInteger"))))
        return out
    cls = ox.BlankNode()
    head, items = _rdf_list(sorted(values, key=lambda n: n.value))
    out += [ox.Triple(r, ox.NamedNode(OWL + "allValuesFrom"), cls),
            ox.Triple(cls, _TYPE, ox.NamedNode(OWL + "Class")),
            ox.Triple(cls, ox.NamedNode(OWL + "oneOf"), head), *items]
    return out


def closure_axioms(triples: Iterable[ox.Triple]) -> Iterator[ox.Triple]:
    """Closed-world closure of the curated graph (see the module docstring)."""
    triples = list(triples)
    types: dict[ox.NamedNode, set[str]] = {}
    values: dict[tuple[ox.NamedNode, str], list[ox.NamedNode]] = {}
    for t in triples:
        if not isinstance(t.subject, ox.NamedNode):
            continue
        if t.predicate == _TYPE and isinstance(t.object, ox.NamedNode):
            types.setdefault(t.subject, set()).add(t.object.value)
        elif t.predicate.value.startswith(IVIG) and isinstance(t.object, ox.NamedNode):
            values.setdefault((t.subject, t.predicate.value), []).append(t.object)
    for node, classes in sorted(types.items(), key=lambda kv: kv[0].value):
        if not _ours(node):
            continue
        if IVIG + "Study" in classes:
            for local in CLOSED_PROPERTIES:
                yield from _restriction(node, ox.NamedNode(IVIG + local), values.get((node, IVIG + local), []))
        if classes & {IVIG + "Estimate", IVIG + "Finding"} and (node, _DIRECTION.value) not in values:
            yield from _restriction(node, _DIRECTION, [])


def reasoning_view(store: ox.Store) -> list[ox.Triple]:
    """The triples HermiT gets: ontology + article graphs, prepared as the module docstring says."""
    inferred = ox.NamedNode(INFERRED_GRAPH)
    triples = {ox.Triple(q.subject, q.predicate, q.object)
               for q in store.quads_for_pattern(None, None, None, None) if q.graph_name != inferred}
    kept = [t for t in triples if _keep(t)
            and not (isinstance(t.subject, ox.NamedNode) and "/_/quote/" in t.subject.value)]
    individuals = {t.subject for t in kept if t.predicate == _TYPE and _ours(t.subject)}
    individuals |= {t.object for t in kept  # type: ignore[misc]
                    if t.predicate.value.startswith(IVIG) and _ours(t.object)}
    declared = [ox.Triple(i, _TYPE, _NAMED_INDIVIDUAL) for i in individuals]
    return sorted(kept, key=str) + sorted(declared, key=str) + list(closure_axioms(kept))


# --- running HermiT -------------------------------------------------------------------


def java_available() -> bool:
    """Whether the ``java`` that owlready2 runs is on PATH."""
    import owlready2

    return shutil.which(owlready2.JAVA_EXE) is not None


def reason(store: ox.Store) -> ReasoningReport:
    """Check consistency and classify the individuals of ``store``; see the module docstring."""
    started = time.perf_counter()
    import owlready2

    if not java_available():
        return ReasoningReport(
            available=False,
            message=f"OWL reasoning skipped: '{owlready2.JAVA_EXE}' (Java, needed by the HermiT reasoner) "
                    "is not on PATH; install a Java runtime (e.g. 'apt-get install default-jre-headless')",
            seconds=time.perf_counter() - started)
    view = reasoning_view(store)
    asserted: dict[str, set[str]] = {}
    for t in view:
        if t.predicate == _TYPE and isinstance(t.object, ox.NamedNode) and _ours(t.subject):
            asserted.setdefault(t.subject.value, set()).add(t.object.value)  # type: ignore[union-attr]
    report = ReasoningReport(available=True, triples=len(view))
    with tempfile.TemporaryDirectory(prefix="ivig-kg-reason-") as tmp:
        path = Path(tmp) / "graph.nt"
        ox.serialize(view, output=str(path), format=ox.RdfFormat.N_TRIPLES)
        world = owlready2.World()
        try:
            world.get_ontology(path.as_uri()).load()
            t0 = time.perf_counter()
            try:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
            except owlready2.OwlReadyInconsistentOntologyError:
                report.consistent = False
                report.message = ("the graph is inconsistent with the ontology (HermiT): some individual "
                                  "belongs to classes declared disjoint, or breaks a property axiom")
            except owlready2.OwlReadyJavaError as exc:
                raise ValidationFailed(f"the HermiT reasoner failed: {_java_message(exc)}") from None
            report.reasoner_seconds = time.perf_counter() - t0
            if report.consistent is None:
                report.consistent = True
                report.inferred = _inferred(world, asserted)
                report.unsatisfiable = sorted(c.iri for c in world.inconsistent_classes()
                                              if c.iri.startswith(IVIG))
                if report.unsatisfiable:
                    report.message = "unsatisfiable classes: " + ", ".join(report.unsatisfiable)
        finally:
            world.close()
    report.seconds = time.perf_counter() - started
    return report


def _java_message(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.strip().startswith("at ")]
    return " ".join(lines[-3:])[:500]


def _inferred(world: object, asserted: dict[str, set[str]]) -> list[InferredType]:
    """Entailed named ivig classes of our individuals that the graph does not assert."""
    import owlready2

    out = []
    for iri in sorted(asserted):
        ind = world[iri]  # type: ignore[index]
        if ind is None:
            continue
        for cls in ind.INDIRECT_is_a:
            if isinstance(cls, owlready2.ThingClass) and cls.iri.startswith(IVIG) \
                    and cls.iri not in asserted[iri]:
                out.append(InferredType(iri, cls.iri))
    return sorted(set(out), key=lambda t: (t.individual, t.cls))


# --- materializing -----------------------------------------------------------------------


def inferred_quads(report: ReasoningReport) -> list[ox.Quad]:
    """The inferred types as quads of the inferred graph."""
    graph = ox.NamedNode(INFERRED_GRAPH)
    return [ox.Quad(ox.NamedNode(t.individual), _TYPE, ox.NamedNode(t.cls), graph) for t in report.inferred]


def materialize(store: ox.Store) -> ReasoningReport:
    """Reason over a writable store and replace its inferred graph with the result.

    Refuses (ValidationFailed) when Java is missing or the graph is inconsistent:
    the caller asked for reasoning, so a silent partial result would mislead.
    """
    report = reason(store)
    if not report.available:
        raise ValidationFailed(report.message, hint="or build without --reason")
    if report.consistent is False:
        raise ValidationFailed(report.message + "; the store was left unchanged",
                               hint="run 'ivig-kg validate' on the previous graph, and check the types "
                                    "and functional properties of the source")
    graph = ox.NamedNode(INFERRED_GRAPH)
    store.clear_graph(graph)
    store.extend(inferred_quads(report))
    return report
