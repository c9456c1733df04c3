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
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ivig_kg import resources
from ivig_kg.errors import ValidationFailed
from ivig_kg.store import GraphStore, run_query
from ivig_kg.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH

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
    """Studies the claim rests on (directly, or through their estimates and findings)."""
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


def data_nquads(store: ox.Store) -> bytes:
    """The graphs SHACL checks (all but the ontology and inferred graphs) as N-Triples bytes."""
    skip = {ox.NamedNode(ONTOLOGY_GRAPH), ox.NamedNode(INFERRED_GRAPH)}
    triples = (ox.Triple(q.subject, q.predicate, q.object)
               for q in store.quads_for_pattern(None, None, None, None) if q.graph_name not in skip)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _rdflib_graph(nt: bytes) -> Any:
    import rdflib

    g = rdflib.Graph()
    g.parse(data=nt, format="nt")
    return g


# --- SHACL -------------------------------------------------------------------------


def _load_shapes(path: Path) -> Any:
    import rdflib

    g = rdflib.Graph()
    try:
        g.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises various parser errors
        raise ValidationFailed(f"cannot read SHACL shapes {path}: {exc}") from None
    return g


def run_shacl(data: Any, shapes: Path | None = None) -> tuple[list[ShaclResult], Any]:
    """Validate an rdflib graph; the results (sorted, quotes attached) and the report graph."""
    import pyshacl
    from rdflib import RDF, Namespace

    shacl = Namespace(SH)
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=_load_shapes(shapes or shapes_file()), inference="none",
        abort_on_first=False, allow_warnings=True, meta_shacl=False, advanced=True,
        do_owl_imports=False)
    if not hasattr(report, "subjects"):  # pyshacl's ValidationFailure: the shapes themselves are wrong
        raise ValidationFailed(f"the SHACL shapes could not be applied: {report}")
    results = []
    for node in report.subjects(RDF.type, shacl.ValidationResult):
        def one(pred: Any, node: Any = node) -> str | None:
            value = report.value(node, pred)
            return None if value is None else str(value)

        focus = one(shacl.focusNode) or ""
        severity = SEVERITIES.get(one(shacl.resultSeverity) or "", "Violation")
        results.append(ShaclResult(
            severity=severity, focus=focus, path=one(shacl.resultPath), value=one(shacl.value),
            message=one(shacl.resultMessage) or "", shape=one(shacl.sourceShape),
            component=one(shacl.sourceConstraintComponent), quotes=_quotes(data, focus)))
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    results.sort(key=lambda r: (order[r.severity], r.focus, r.path or "", r.message))
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
    """SHACL, the claims check and (with ``reason``) OWL consistency and classification of one store."""
    started = time.perf_counter()
    nt = data_nquads(store)
    data = _rdflib_graph(nt)
    results, report_graph = run_shacl(data, shapes)
    out = ValidationReport(results=results, report_turtle=report_graph.serialize(format="turtle"),
                           data_triples=len(data))
    out.shacl_seconds = time.perf_counter() - started
    out.claims = check_claims(store)
    if reason:
        from ivig_kg.reason import reason as run_reasoner

        out.reasoning = run_reasoner(store)
    return out


def validate(store: GraphStore, *, reason: bool = True, shapes: Path | None = None) -> ValidationReport:
    """Validate the live generation of ``store``; see :func:`validate_store`."""
    return validate_store(store.open(), reason=reason, shapes=shapes)


def shacl_check(new: ox.Store) -> None:
    """A build check: refuse a new generation with SHACL violations (warnings pass)."""
    results, _ = run_shacl(_rdflib_graph(data_nquads(new)))
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
