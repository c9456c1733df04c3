"""SHACL shapes, statistical sanity rules, the claims check and the `validate` command.

Each rule is broken on purpose in a copy of the bundled graph (triples changed
in an rdflib graph, or a number changed in a copy of the source file) and the
exact violation must appear; the bundled graph itself must conform.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, Literal, URIRef
from typer.testing import CliRunner

from ivig_kg import vocab
from ivig_kg.build import build, build_checks
from ivig_kg.cli import app
from ivig_kg.errors import ValidationFailed
from ivig_kg.store import GraphStore
from ivig_kg.validate import ShaclResult, check_claims, data_nquads, run_shacl, validate

from .conftest import ARTICLES

IVIG = rdflib.Namespace(vocab.IVIG)
# a plain Namespace: pytest probes module globals, and rdflib's XSD warns on that
XSD = rdflib.Namespace(vocab.XSD)
PROV_DERIVED = URIRef(vocab.PROV + "wasDerivedFrom")
R = vocab.resource_iri("ivig-ms-commentary", "")
SH = "http://www.w3.org/ns/shacl#"
CLI = str(Path(sys.executable).parent / "ivig-kg")


def node(local: str) -> URIRef:
    return URIRef(R + local)


def dec(value: str) -> Literal:
    return Literal(value, datatype=XSD.decimal)


@pytest.fixture(scope="module")
def bundled(oxstore: ox.Store) -> bytes:
    """The bundled article graph as SHACL sees it (N-Triples)."""
    return data_nquads(oxstore)


def graph_of(nt: bytes) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=nt, format="nt")
    return g


def replace(g: rdflib.Graph, s: str, p: URIRef, *new: object) -> None:
    g.remove((node(s), p, None))
    for o in new:
        g.add((node(s), p, o))  # type: ignore[arg-type]


def find(results: list[ShaclResult], focus: str, fragment: str, path: str | None = None) -> ShaclResult:
    hits = [r for r in results if r.focus == R + focus and fragment in r.message
            and (path is None or (r.path or "").endswith(path))]
    assert hits, f"no result on {focus} containing {fragment!r}; got {[(r.focus, r.message) for r in results]}"
    return hits[0]


# --- the bundled graph -------------------------------------------------------------------


def test_bundled_graph_conforms(built_store: GraphStore) -> None:
    report = validate(built_store, reason=False)
    assert report.results == []
    assert report.conforms
    assert report.data_triples > 1000


def test_report_graph_is_w3c_shacl(built_store: GraphStore) -> None:
    report = validate(built_store, reason=False)
    g = rdflib.Graph().parse(data=report.report_turtle, format="turtle")
    reports = list(g.subjects(RDF.type, URIRef(SH + "ValidationReport")))
    assert len(reports) == 1
    assert g.value(reports[0], URIRef(SH + "conforms")) == Literal(True)


# --- every rule, broken one at a time ---------------------------------------------------

Mutation = Callable[[rdflib.Graph], None]

RULES: list[tuple[str, Mutation, str, str, str | None, str]] = [
    # id, mutation, focus, message fragment, path local name, severity
    ("estimate-outside-ci",
     lambda g: replace(g, "achiron-2004-cdms-rate-ratio", IVIG.pointEstimate, dec("0.9")),
     "achiron-2004-cdms-rate-ratio", "point estimate 0.9 lies outside its confidence interval 0.15-0.88",
     "pointEstimate", "Violation"),
    ("ci-lower-above-upper",
     lambda g: replace(g, "hommes-2004-edss-progression-hr", IVIG.ciLower, dec("1.6")),
     "hommes-2004-edss-progression-hr", "lower bound 1.6 is above its upper bound 1.53", "ciLower", "Violation"),
    ("ratio-bound-not-positive",
     lambda g: replace(g, "hommes-2004-edss-progression-hr", IVIG.ciLower, dec("-0.1")),
     "hommes-2004-edss-progression-hr", "a ratio measure must be positive", "ciLower", "Violation"),
    ("ratio-estimate-not-positive",
     lambda g: (replace(g, "hommes-2004-edss-progression-hr", IVIG.pointEstimate, dec("0")),
                replace(g, "hommes-2004-edss-progression-hr", IVIG.ciLower, dec("0"))),
     "hommes-2004-edss-progression-hr", "a ratio measure must be positive", "pointEstimate", "Violation"),
    ("p-value-above-one",
     lambda g: replace(g, "achiron-2004-cdms-rate-ratio", IVIG.pValue, dec("1.3")),
     "achiron-2004-cdms-rate-ratio", "1.3 is not a probability", "pValue", "Violation"),
    ("p-range-low-end-negative",
     lambda g: replace(g, "achiron-2004-lesion-reduction", IVIG.pValueMin, dec("-0.01")),
     "achiron-2004-lesion-reduction", "-0.01 is not a probability", "pValueMin", "Violation"),
    ("p-range-high-end-above-one",
     lambda g: replace(g, "achiron-2004-lesion-reduction", IVIG.pValueMax, dec("3")),
     "achiron-2004-lesion-reduction", "3 is not a probability", "pValueMax", "Violation"),
    ("p-range-reversed",
     lambda g: replace(g, "achiron-2004-lesion-reduction", IVIG.pValueMin, dec("0.05")),
     "achiron-2004-lesion-reduction", "p-value range 0.05-0.03 has its low end above its high end",
     "pValueMin", "Violation"),
    ("p-disagrees-with-ci",
     lambda g: replace(g, "achiron-2004-cdms-rate-ratio", IVIG.pValue, dec("0.3")),
     "achiron-2004-cdms-rate-ratio", "p = 0.3 disagrees with the 95% confidence interval 0.15-0.88",
     "pValue", "Warning"),
    ("significant-p-but-ci-crosses-one",
     lambda g: g.add((node("hommes-2004-edss-progression-hr"), IVIG.pValue, dec("0.01"))),
     "hommes-2004-edss-progression-hr", "p = 0.01 disagrees with the 95% confidence interval 0.8-1.53",
     "pValue", "Warning"),
    ("p-range-disagrees-with-ci",
     lambda g: (g.add((node("hommes-2004-edss-progression-hr"), IVIG.pValueMin, dec("0.01"))),
                g.add((node("hommes-2004-edss-progression-hr"), IVIG.pValueMax, dec("0.02")))),
     "hommes-2004-edss-progression-hr", "p-value range 0.01-0.02 disagrees", "pValueMax", "Warning"),
    ("ci-level-as-percent",
     lambda g: replace(g, "achiron-2004-cdms-rate-ratio", IVIG.ciLevel, dec("95")),
     "achiron-2004-cdms-rate-ratio", "confidence level 95 is not in (0, 1)", "ciLevel", "Violation"),
    ("ci-level-one",
     lambda g: replace(g, "achiron-2004-cdms-rate-ratio", IVIG.ciLevel, dec("1")),
     "achiron-2004-cdms-rate-ratio", "confidence level 1 is not in (0, 1)", "ciLevel", "Violation"),
    ("percentage-above-100",
     lambda g: replace(g, "hommes-2004-prior-relapse", IVIG.value, dec("151.7")),
     "hommes-2004-prior-relapse", "percentage 151.7% is outside [0, 100]", "value", "Violation"),
    ("zero-duration",
     lambda g: replace(g, "achiron-2004", IVIG.studyDuration, Literal("P0D", datatype=XSD.duration)),
     "achiron-2004", "duration is not positive", "studyDuration", "Violation"),
    ("negative-duration",
     lambda g: replace(g, "achiron-2004-booster-schedule", IVIG.interval, Literal("-P42D", datatype=XSD.duration)),
     "achiron-2004-booster-schedule", "duration is not positive", "interval", "Violation"),
    ("rct-with-one-arm",
     lambda g: g.remove((node("hommes-2004"), IVIG.hasArm, node("hommes-2004-placebo-arm"))),
     "hommes-2004", "at least two arms", "hasArm", "Violation"),
    ("rct-without-design",
     lambda g: g.remove((node("sorensen-2004"), IVIG.hasDesignFeature, None)),
     "sorensen-2004", "needs its design", "hasDesignFeature", "Violation"),
    ("external-comparator-without-comparison",
     lambda g: g.remove((node("nejm-2000"), IVIG.comparedWith, None)),
     "nejm-2000", "must name the study it is compared with", "comparedWith", "Violation"),
    ("arm-without-intervention",
     lambda g: g.remove((node("achiron-2004-ivig-arm"), IVIG.hasIntervention, None)),
     "achiron-2004-ivig-arm", "an arm needs exactly one intervention", "hasIntervention", "Violation"),
    ("dose-without-amount",
     lambda g: g.remove((node("achiron-2004-ivig-loading-dose"), IVIG.amount, None)),
     "achiron-2004-ivig-loading-dose", "needs an amount and a unit (only placebo doses", None, "Violation"),
    ("dose-without-unit",
     lambda g: g.remove((node("sorensen-2004-ivig-dose"), IVIG.unitCode, None)),
     "sorensen-2004-ivig-dose", "needs an amount and a unit", None, "Violation"),
    ("negative-dose",
     lambda g: replace(g, "achiron-2004-ivig-booster-dose", IVIG.amount, dec("-0.4")),
     "achiron-2004-ivig-booster-dose", "a dose amount must be a positive decimal", "amount", "Violation"),
    ("estimate-without-measure-type",
     lambda g: g.remove((node("hommes-2004-relapse-rate-ivig"), IVIG.measureType, None)),
     "hommes-2004-relapse-rate-ivig", "needs exactly one measure type", "measureType", "Violation"),
    ("estimate-without-value",
     lambda g: g.remove((node("hommes-2004-relapse-rate-ivig"), IVIG.pointEstimate, None)),
     "hommes-2004-relapse-rate-ivig", "needs exactly one decimal value", "pointEstimate", "Violation"),
    ("estimate-value-not-decimal",
     lambda g: replace(g, "hommes-2004-relapse-rate-ivig", IVIG.pointEstimate, Literal("0.46")),
     "hommes-2004-relapse-rate-ivig", "needs exactly one decimal value", "pointEstimate", "Violation"),
    ("finding-without-provenance",
     lambda g: g.remove((node("sorensen-2004-both-improved"), PROV_DERIVED, None)),
     "sorensen-2004-both-improved", "has no provenance", "wasDerivedFrom", "Violation"),
    ("dose-without-provenance",
     lambda g: g.remove((node("achiron-2004-ivig-booster-dose"), PROV_DERIVED, None)),
     "achiron-2004-ivig-booster-dose", "has no provenance", "wasDerivedFrom", "Violation"),
    ("sample-size-not-integer",
     lambda g: replace(g, "hommes-2004-population", IVIG.sampleSize, Literal("318")),
     "hommes-2004-population", "", "sampleSize", "Violation"),
    ("claim-more-benefit-than-considered",
     lambda g: replace(g, "claim-only-one-study-benefit", IVIG.studiesShowingBenefit,
                       Literal(4, datatype=XSD.integer)),
     "claim-only-one-study-benefit", "", "studiesShowingBenefit", "Violation"),
    ("claim-resting-on-nothing",
     lambda g: g.remove((node("claim-ivig-controversial"), IVIG.restsOn, None)),
     "claim-ivig-controversial", "must rest on at least one", "restsOn", "Violation"),
]


@pytest.mark.parametrize(("mutate", "focus", "fragment", "path", "severity"),
                         [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule_catches_broken_graph(bundled: bytes, mutate: Mutation, focus: str, fragment: str,
                                   path: str | None, severity: str) -> None:
    g = graph_of(bundled)
    mutate(g)
    results, _ = run_shacl(g)
    hit = find(results, focus, fragment, path)
    assert hit.severity == severity
    # warnings alone do not fail
    assert any(r.severity == "Violation" for r in results) == (severity == "Violation")


def test_placebo_dose_may_omit_amount(bundled: bytes) -> None:
    """The bundled placebo dose has no amount and conforms; give it a non-placebo drug and it fails."""
    g = graph_of(bundled)
    assert (node("sorensen-2004-placebo-dose"), IVIG.amount, None) not in g
    replace(g, "sorensen-2004-placebo-dose", IVIG.ofIntervention, URIRef(vocab.concept_iri("ivig")))
    results, _ = run_shacl(g)
    find(results, "sorensen-2004-placebo-dose", "needs an amount and a unit")


def test_violation_carries_the_source_quote(bundled: bytes) -> None:
    g = graph_of(bundled)
    replace(g, "achiron-2004-cdms-rate-ratio", IVIG.pointEstimate, dec("0.9"))
    results, _ = run_shacl(g)
    hit = find(results, "achiron-2004-cdms-rate-ratio", "outside its confidence interval")
    assert any("rate ratio, 0.36 [95% confidence interval 0.15-0.88]; P = 0.03" in q for q in hit.quotes)


# --- the claims check ---------------------------------------------------------------------


def mem_copy(oxstore: ox.Store) -> ox.Store:
    mem = ox.Store()
    mem.extend(list(oxstore.quads_for_pattern(None, None, None, None)))
    return mem


def test_claims_check_agrees_on_the_bundled_article(oxstore: ox.Store) -> None:
    checks = check_claims(oxstore)
    assert [c.claim for c in checks] == [R + "claim-only-one-study-benefit"]
    c = checks[0]
    assert (c.stated_benefit, c.stated_considered) == (1, 3)
    assert c.showing_benefit == (R + "achiron-2004",)
    assert set(c.considered) == {R + "achiron-2004", R + "hommes-2004", R + "sorensen-2004"}
    assert c.identified == (R + "achiron-2004",)
    assert c.agrees


def test_claims_check_disagrees_when_a_second_study_turns_significant(oxstore: ox.Store) -> None:
    """Make Hommes' hazard ratio significant and favourable: two studies now show benefit."""
    mem = mem_copy(oxstore)
    hr, g = ox.NamedNode(R + "hommes-2004-edss-progression-hr"), ox.NamedNode(vocab.article_graph_iri(
        "ivig-ms-commentary"))
    for p, o in ((IVIG.ciUpper, ox.Literal("0.95", datatype=ox.NamedNode(vocab.XSD + "decimal"))),
                 (IVIG.direction, ox.NamedNode(vocab.IVIG + "FavoursIntervention"))):
        pred = ox.NamedNode(str(p))
        for q in list(mem.quads_for_pattern(hr, pred, None, None)):
            mem.remove(q)
        mem.add(ox.Quad(hr, pred, o, g))
    c = check_claims(mem)[0]
    assert set(c.showing_benefit) == {R + "achiron-2004", R + "hommes-2004"}
    assert not c.agrees
    assert "states 1 showing benefit, results show 2" in c.explanation


def test_claims_check_disagrees_when_the_identified_study_shows_no_benefit(oxstore: ox.Store) -> None:
    mem = mem_copy(oxstore)
    for q in list(mem.quads_for_pattern(None, ox.NamedNode(vocab.IVIG + "direction"),
                                        ox.NamedNode(vocab.IVIG + "FavoursIntervention"), None)):
        mem.remove(q)
    c = check_claims(mem)[0]
    assert c.showing_benefit == ()
    assert not c.agrees
    assert "identified study without a significant benefit" in c.explanation


def test_claims_check_query_agrees_with_the_library(oxstore: ox.Store) -> None:
    from ivig_kg import queries

    rows = list(oxstore.query(queries.get("claims-check").text, use_default_graph_as_union=True))
    assert len(rows) == 1
    assert rows[0]["agrees"].value == "true"
    assert rows[0]["computedBenefit"].value == "1" and rows[0]["computedConsidered"].value == "3"


# --- source files that pass the model but break a graph rule ---------------------------------


@pytest.fixture
def bad_source(tmp_path: Path) -> Path:
    """A copy of the bundled source whose rate ratio (0.03, a number of its quote) lies outside its CI."""
    src = tmp_path / "src"
    src.mkdir()
    for f in ARTICLES.glob("ivig-ms-commentary.*"):
        shutil.copy(f, src / f.name)
    yaml = src / "ivig-ms-commentary.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert text.count("value: 0.36\n") == 1
    yaml.write_text(text.replace("value: 0.36\n", "value: 0.03\n"), encoding="utf-8")
    return src


def snapshot(store: Path) -> dict[str, bytes]:
    """Every file of a store by relative path (the .lock file records the last writer's pid: left out)."""
    return {str(p.relative_to(store)): p.read_bytes()
            for p in sorted(store.rglob("*")) if p.is_file() and p.name != ".lock"}


def test_library_build_check_refuses_a_point_estimate_outside_its_ci(bad_source: Path, tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "kg")
    build(None, store)
    before = snapshot(store.path)
    with pytest.raises(ValidationFailed) as info:
        build([bad_source], store, checks=build_checks(validate=True))
    assert "point estimate 0.03 lies outside its confidence interval 0.15-0.88" in str(info.value)
    assert snapshot(store.path) == before


def test_build_cli_refuses_invalid_source_and_keeps_store(bad_source: Path, tmp_path: Path) -> None:
    store = tmp_path / "kg"
    runner = CliRunner()
    assert runner.invoke(app, ["build", "--store", str(store), "-q"]).exit_code == 0
    before = snapshot(store)
    result = runner.invoke(app, ["build", str(bad_source), "--store", str(store)])
    assert result.exit_code == 1, result.output
    assert "lies outside its confidence interval" in result.output
    assert "Traceback" not in result.output
    assert snapshot(store) == before
    # --no-validate builds it anyway
    assert runner.invoke(app, ["build", str(bad_source), "--store", str(store), "--no-validate", "-q"]
                         ).exit_code == 0
    assert snapshot(store) != before


# --- the validate command ------------------------------------------------------------------------


@pytest.fixture
def bad_store(bad_source: Path, tmp_path: Path) -> Path:
    store = GraphStore(tmp_path / "bad-kg")
    build([bad_source], store)  # no checks: the invalid graph goes live
    return store.path


def test_validate_cli_conforms(built_store: GraphStore) -> None:
    result = CliRunner().invoke(app, ["validate", "--store", str(built_store.path), "--no-reason"])
    assert result.exit_code == 0, result.output
    assert "conforms: 0 violation(s), 0 warning(s)" in result.output
    assert "Claims checked against" in result.output and "agrees" in result.output


def test_validate_cli_reports_violation_with_quote(bad_store: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--store", str(bad_store), "--no-reason"],
                                env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "Violation" in flat
    assert "does not conform: 1 violation(s)" in flat
    for word in ("point", "estimate", "0.03", "outside", "P = 0.03)"):
        assert word in flat


def test_validate_cli_turtle_is_a_shacl_report(bad_store: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--store", str(bad_store), "--no-reason", "-f", "turtle"])
    assert result.exit_code == 1
    turtle = result.stdout
    g = rdflib.Graph().parse(data=turtle, format="turtle")
    report = next(g.subjects(RDF.type, URIRef(SH + "ValidationReport")))
    assert g.value(report, URIRef(SH + "conforms")) == Literal(False)
    res = g.value(report, URIRef(SH + "result"))
    assert g.value(res, URIRef(SH + "focusNode")) == node("achiron-2004-cdms-rate-ratio")
    assert g.value(res, URIRef(SH + "resultPath")) == IVIG.pointEstimate


def test_validate_cli_unknown_format_is_a_usage_error(built_store: GraphStore) -> None:
    result = CliRunner().invoke(app, ["validate", "--store", str(built_store.path), "-f", "xml"])
    assert result.exit_code == 2
    assert "unknown format 'xml'" in result.output


def test_validate_without_a_store_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no graph has been built" in result.output


def test_validate_subprocess_exit_codes(built_store: GraphStore, bad_store: Path) -> None:
    ok = subprocess.run([CLI, "validate", "--store", str(built_store.path), "--no-reason"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "conforms" in ok.stderr
    bad = subprocess.run([CLI, "validate", "--store", str(bad_store), "--no-reason"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "does not conform" in bad.stderr and "Traceback" not in bad.stderr


def test_validate_runs_shacl_without_java(built_store: GraphStore, bad_store: Path) -> None:
    """With no java on PATH: a clear message about the reasoner, and SHACL still decides the exit code."""
    path = str(Path(CLI).parent)
    assert shutil.which("java", path=path) is None
    env = {**os.environ, "PATH": path, "COLUMNS": "200"}
    ok = subprocess.run([CLI, "validate", "--store", str(built_store.path)], capture_output=True, text=True,
                        env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "OWL reasoning skipped" in ok.stdout and "not on PATH" in ok.stdout
    assert "SHACL: no violations" in ok.stdout
    bad = subprocess.run([CLI, "validate", "--store", str(bad_store)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert bad.returncode == 1
    assert "OWL reasoning skipped" in bad.stdout and "lies outside" in " ".join(bad.stdout.split())


def test_validate_module_imports_stay_lazy() -> None:
    """Importing the CLI must not load rdflib, pyshacl or owlready2."""
    code = ("import sys, ivig_kg.cli; "
            "print(sorted(m for m in ('rdflib', 'pyshacl', 'owlready2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
