"""OWL reasoning with owlready2 + HermiT: the reasoning view, classification, consistency, materialization."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from ivig_kg import vocab
from ivig_kg.build import build, build_checks
from ivig_kg.cli import app
from ivig_kg.errors import ValidationFailed
from ivig_kg.queries import run as run_query
from ivig_kg.reason import UNSUPPORTED_DATATYPES, ReasoningReport, materialize, reason, reasoning_view
from ivig_kg.store import GraphStore

R = vocab.resource_iri("ivig-ms-commentary", "")
V = vocab.IVIG
ARTICLE_GRAPH = ox.NamedNode(vocab.article_graph_iri("ivig-ms-commentary"))
TYPE = ox.NamedNode(vocab.RDF + "type")
INFERRED = vocab.INFERRED_GRAPH
CLI = str(Path(sys.executable).parent / "ivig-kg")


def mem_copy(oxstore: ox.Store) -> ox.Store:
    mem = ox.Store()
    mem.extend(list(oxstore.quads_for_pattern(None, None, None, None)))
    return mem


def set_value(store: ox.Store, subject: str, local: str, value: ox.NamedNode | ox.Literal) -> None:
    s, p = ox.NamedNode(R + subject), ox.NamedNode(V + local)
    for q in list(store.quads_for_pattern(s, p, None, None)):
        store.remove(q)
    store.add(ox.Quad(s, p, value, ARTICLE_GRAPH))


@pytest.fixture(scope="module")
def report(oxstore: ox.Store) -> ReasoningReport:
    return reason(oxstore)


# --- classification of the bundled article -------------------------------------------------


def test_bundled_graph_is_consistent(report: ReasoningReport) -> None:
    assert report.available
    assert report.consistent is True
    assert report.unsatisfiable == []
    assert report.reasoner_seconds > 0


def test_significant_estimates(report: ReasoningReport) -> None:
    significant = report.individuals_of(V + "StatisticallySignificantEstimate")
    assert R + "achiron-2004-cdms-rate-ratio" in significant  # RR 0.36, CI 0.15-0.88, P = 0.03
    assert R + "hommes-2004-edss-progression-hr" not in significant  # HR 1.11, CI 0.80-1.53
    assert significant == {R + "achiron-2004-cdms-rate-ratio"}
    # the lesion finding (P = 0.01-0.03) is a significant result, but not an estimate
    assert report.individuals_of(V + "StatisticallySignificantResult") == {
        R + "achiron-2004-cdms-rate-ratio", R + "achiron-2004-lesion-reduction"}


def test_studies_with_and_without_benefit(report: ReasoningReport) -> None:
    assert report.individuals_of(V + "StudyShowingBenefit") == {R + "achiron-2004"}
    assert report.individuals_of(V + "StudyWithoutBenefit") == {R + "hommes-2004", R + "sorensen-2004"}
    # the external comparator is no randomized trial of the review: neither
    assert not report.types_of(R + "nejm-2000")


def test_first_demyelinating_event_trial(report: ReasoningReport) -> None:
    assert report.individuals_of(V + "FirstDemyelinatingEventTrial") == {R + "achiron-2004"}


def test_inferred_types_are_not_asserted_ones(report: ReasoningReport, oxstore: ox.Store) -> None:
    for t in report.inferred:
        assert not list(oxstore.quads_for_pattern(ox.NamedNode(t.individual), TYPE, ox.NamedNode(t.cls), None))
        assert t.cls.startswith(V)


def test_classification_follows_the_numbers(oxstore: ox.Store) -> None:
    """Move Hommes' CI below 1 with a favourable direction: Hommes now shows benefit."""
    mem = mem_copy(oxstore)
    set_value(mem, "hommes-2004-edss-progression-hr", "ciUpper",
              ox.Literal("0.95", datatype=ox.NamedNode(vocab.XSD + "decimal")))
    set_value(mem, "hommes-2004-edss-progression-hr", "direction", ox.NamedNode(V + "FavoursIntervention"))
    # and Achiron's estimate becomes non-significant with a p above 0.05 and a CI crossing 1
    set_value(mem, "achiron-2004-cdms-rate-ratio", "pValue",
              ox.Literal("0.3", datatype=ox.NamedNode(vocab.XSD + "decimal")))
    set_value(mem, "achiron-2004-cdms-rate-ratio", "ciUpper",
              ox.Literal("1.2", datatype=ox.NamedNode(vocab.XSD + "decimal")))
    rep = reason(mem)
    assert R + "hommes-2004-edss-progression-hr" in rep.individuals_of(V + "StatisticallySignificantEstimate")
    assert R + "achiron-2004-cdms-rate-ratio" not in rep.individuals_of(V + "StatisticallySignificantEstimate")
    # Achiron still shows benefit through its lesion finding (P = 0.01-0.03)
    assert rep.individuals_of(V + "StudyShowingBenefit") == {R + "achiron-2004", R + "hommes-2004"}
    assert rep.individuals_of(V + "StudyWithoutBenefit") == {R + "sorensen-2004"}


# --- consistency ----------------------------------------------------------------------------


def test_inconsistent_graph_is_reported_and_refused(oxstore: ox.Store) -> None:
    """A study that is also an arm breaks the ontology's disjointness axioms."""
    mem = mem_copy(oxstore)
    mem.add(ox.Quad(ox.NamedNode(R + "achiron-2004"), TYPE, ox.NamedNode(V + "Arm"), ARTICLE_GRAPH))
    rep = reason(mem)
    assert rep.available and rep.consistent is False
    assert "inconsistent" in rep.message
    assert rep.inferred == []
    with pytest.raises(ValidationFailed, match="inconsistent"):
        materialize(mem)
    assert not list(mem.quads_for_pattern(None, None, None, ox.NamedNode(vocab.INFERRED_GRAPH)))


def test_functional_property_clash_is_inconsistent(oxstore: ox.Store) -> None:
    mem = mem_copy(oxstore)
    est = ox.NamedNode(R + "hommes-2004-edss-progression-hr")
    mem.add(ox.Quad(est, ox.NamedNode(V + "direction"), ox.NamedNode(V + "FavoursComparator"), ARTICLE_GRAPH))
    assert reason(mem).consistent is False  # direction is functional; NoDifference != FavoursComparator


# --- the reasoning view -----------------------------------------------------------------------


def test_view_declares_individuals_and_drops_what_hermit_cannot_read(oxstore: ox.Store) -> None:
    mem = mem_copy(oxstore)
    mem.add(ox.Quad(ox.NamedNode(vocab.ONTOLOGY_IRI), ox.NamedNode(vocab.OWL + "imports"),
                    ox.NamedNode("http://example.org/remote-ontology"), ox.NamedNode(vocab.ONTOLOGY_GRAPH)))
    view = reasoning_view(mem)
    declared = {t.subject for t in view if t.object == ox.NamedNode(vocab.OWL + "NamedIndividual")}
    for local in ("achiron-2004", "achiron-2004-cdms-rate-ratio", "hommes-2004-population"):
        assert ox.NamedNode(R + local) in declared
    assert ox.NamedNode(vocab.concept_iri("demyelinating-disease")) in declared
    assert not [t for t in view if t.predicate.value == vocab.OWL + "imports"]
    assert not [t for t in view if isinstance(t.object, ox.Literal)
                and t.object.datatype.value in UNSUPPORTED_DATATYPES]
    assert not [t for t in view if t.predicate.value.startswith(vocab.OA)]
    # closure axioms: every study is closed on its estimates and findings
    closed = {t.subject for t in view if t.predicate == TYPE and isinstance(t.object, ox.BlankNode)}
    assert {ox.NamedNode(R + s) for s in ("achiron-2004", "hommes-2004", "sorensen-2004")} <= closed


def test_owl_imports_are_never_fetched(oxstore: ox.Store) -> None:
    """An owl:imports of an unreachable IRI is left out, so reasoning works offline."""
    mem = mem_copy(oxstore)
    mem.add(ox.Quad(ox.NamedNode(vocab.ONTOLOGY_IRI), ox.NamedNode(vocab.OWL + "imports"),
                    ox.NamedNode("http://192.0.2.1/unreachable.owl"), ox.NamedNode(vocab.ONTOLOGY_GRAPH)))
    rep = reason(mem)
    assert rep.consistent is True and rep.individuals_of(V + "StudyShowingBenefit") == {R + "achiron-2004"}


def test_without_java_the_report_says_so(oxstore: ox.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(owlready2, "JAVA_EXE", "java-that-does-not-exist")
    rep = reason(oxstore)
    assert not rep.available and rep.consistent is None
    assert "not on PATH" in rep.message and "java-that-does-not-exist" in rep.message
    with pytest.raises(ValidationFailed, match="not on PATH"):
        materialize(mem_copy(oxstore))


# --- materialized into the store, asked with SPARQL ----------------------------------------------


@pytest.fixture(scope="module")
def reasoned_store(tmp_path_factory: pytest.TempPathFactory) -> GraphStore:
    store = GraphStore(tmp_path_factory.mktemp("reasoned") / "store")
    build(None, store, checks=build_checks(validate=True, reason=True))
    return store


def test_inferred_graph_holds_the_types(reasoned_store: GraphStore) -> None:
    ask = reasoned_store.query(
        f"ASK {{ GRAPH <{INFERRED}> {{ <{R}achiron-2004> a ivig:StudyShowingBenefit }} }}")
    assert bool(ask)
    rows = list(reasoned_store.query(
        f"SELECT ?s WHERE {{ GRAPH <{INFERRED}> {{ ?s a ivig:StatisticallySignificantEstimate }} }}"))
    assert [r["s"].value for r in rows] == [R + "achiron-2004-cdms-rate-ratio"]
    # nothing inferred leaks into the article graph
    assert not bool(reasoned_store.query(
        f"ASK {{ GRAPH <{ARTICLE_GRAPH.value}> {{ ?s a ivig:StudyShowingBenefit }} }}"))


def test_inferred_canned_queries(reasoned_store: GraphStore) -> None:
    rows = list(run_query("inferred-study-benefit", {}, store=reasoned_store))
    verdicts = {r["study"].value: (r["verdict"].value, r["firstDemyelinatingEventTrial"].value) for r in rows}
    assert verdicts == {R + "achiron-2004": ("shows benefit", "true"),
                        R + "hommes-2004": ("no benefit", "false"),
                        R + "sorensen-2004": ("no benefit", "false")}
    sig = list(run_query("inferred-significant-results", {}, store=reasoned_store))
    assert {(r["result"].value, r["isEstimate"].value, r["favoursIntervention"].value) for r in sig} == {
        (R + "achiron-2004-cdms-rate-ratio", "true", "true"),
        (R + "achiron-2004-lesion-reduction", "false", "true")}


def test_inferred_queries_are_empty_without_reason(built_store: GraphStore) -> None:
    assert list(run_query("inferred-study-benefit", {}, store=built_store)) == []


def test_build_reason_cli(tmp_path: Path) -> None:
    store = tmp_path / "kg"
    result = CliRunner().invoke(app, ["build", "--store", str(store), "--reason", "-q"])
    assert result.exit_code == 0, result.output
    out = CliRunner().invoke(app, ["query", "run", "inferred-study-benefit", "--store", str(store), "-f", "csv"])
    assert out.exit_code == 0 and "shows benefit" in out.stdout


def test_build_reason_without_java_refuses_and_keeps_store(tmp_path: Path) -> None:
    store = tmp_path / "kg"
    assert CliRunner().invoke(app, ["build", "--store", str(store), "-q"]).exit_code == 0
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file() and p.name != ".lock"}
    path = str(Path(CLI).parent)
    assert shutil.which("java", path=path) is None
    proc = subprocess.run([CLI, "build", "--store", str(store), "--reason"], capture_output=True, text=True,
                          env={**os.environ, "PATH": path}, timeout=120)
    assert proc.returncode == 1
    assert "not on PATH" in proc.stderr and "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file() and p.name != ".lock"} == before


def test_validate_cli_reports_reasoning(built_store: GraphStore) -> None:
    result = CliRunner().invoke(app, ["validate", "--store", str(built_store.path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "OWL reasoning: consistent (HermiT" in result.output
    assert "ivig:StudyShowingBenefit" in result.output
