"""``ivig-kg audit``: every number of the text is in the graph (or deliberately not modeled), and back.

The bundled article must reach 100%; each rule is also shown to fail on a
source that breaks it (a number dropped from the graph, a not_modeled entry
removed, a value that its quote does not state).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivig_kg.audit import (
    COVERED,
    NOT_MODELED,
    UNCOVERED,
    AuditReport,
    TextNumber,
    audit,
    duration_values,
    scan_numbers,
)
from ivig_kg.build import build
from ivig_kg.cli import app
from ivig_kg.errors import StoreError
from ivig_kg.store import GraphStore

from .conftest import BUNDLED_SOURCE

runner = CliRunner()
EXE = Path(sys.executable).with_name("ivig-kg")
TEXT = BUNDLED_SOURCE.with_suffix(".txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    store = GraphStore(tmp_path_factory.mktemp("audit") / "store")
    build(None, store)
    return audit(None, store)


def number_at(report: AuditReport, phrase: str, token: str) -> TextNumber:
    """The audited number ``token`` inside the (unique) ``phrase`` of the bundled text."""
    assert TEXT.count(phrase) == 1, phrase
    start = TEXT.index(phrase) + phrase.index(token)
    (found,) = [n for n in report.articles[0].numbers if n.start == start]
    assert found.text == token
    return found


def variant(tmp_path: Path, *edits: tuple[str, str], build_it: bool = True) -> tuple[Path, GraphStore]:
    """A copy of the bundled source with text edits, built (unless told not to) into a fresh store."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(BUNDLED_SOURCE.with_suffix(".txt"), folder / "ivig-ms-commentary.txt")
    text = BUNDLED_SOURCE.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    source = folder / "ivig-ms-commentary.yaml"
    source.write_text(text, encoding="utf-8")
    store = GraphStore(tmp_path / "store")
    if build_it:
        build([source], store)
    return source, store


# --- the bundled article -------------------------------------------------------------


def test_the_bundled_article_is_fully_accounted_for(report: AuditReport) -> None:
    (art,) = report.articles
    assert report.ok
    assert report.coverage_percent == 100.0
    assert art.unexplained == [] and art.unquoted_literals == [] and art.notes == []
    # every digit run of the text, found by an independent regex, is audited
    assert [n.start for n in art.numbers] == [m.start() for m in re.finditer(r"\d+(?:\.\d+)?", TEXT)]
    assert len(art.numbers) == 50
    assert len(art.explained) == 5  # the five not_modeled entries, each explaining one number
    assert len(art.covered) == 45 and art.graph_coverage_percent == 90.0
    assert len(art.literals) >= 50


@pytest.mark.parametrize(("phrase", "token", "literal"), [
    ("interval 0.80-1.53", "0.80", "hommes-2004-edss-progression-hr ivig:ciLower 0.8"),  # canonicalized 0.80
    ("0.36 [95% confidence", "95", "achiron-2004-cdms-rate-ratio ivig:ciLevel 0.95"),
    ("within 6 weeks", "6", "achiron-2004-population ivig:enrollmentWindow P42D"),
    ("24 hours before", "24", "sorensen-2004-ivig-dose ivig:timeOffset P1D"),
    ("for 1 year", "1", "achiron-2004 ivig:studyDuration P1Y"),
    ("2-year European", "2", "hommes-2004 ivig:studyDuration P2Y"),
    ("2004;61:1515-1520", "1515", "achiron-2004-article ivig:pageStart 1515"),
    ("2004;61:1515-1520", "61", "achiron-2004-article ivig:volume 61"),
    ("(2 g/kg loading dose)", "2", "achiron-2004-ivig-loading-dose ivig:amount 2"),
    ("Only 1 study", "1", "claim-only-one-study-benefit ivig:studiesShowingBenefit 1"),
])
def test_numbers_are_covered_by_the_literal_whose_quote_holds_them(
    report: AuditReport, phrase: str, token: str, literal: str
) -> None:
    n = number_at(report, phrase, token)
    assert n.status == COVERED
    assert literal in [str(g) for g in n.covered_by]


def test_a_time_value_matches_only_with_its_unit_word(report: AuditReport) -> None:
    """P1D is "24 hours", not the "1" of "1 g/kg" that shares its quote."""
    n = number_at(report, "IVIG (1 g/kg) or placebo 24", "1")
    assert [str(g) for g in n.covered_by] == ["sorensen-2004-ivig-dose ivig:amount 1"]


@pytest.mark.parametrize(("phrase", "token", "reason"), [
    ("T2- and gadolinium", "2", "T2"),
    ("T2-lesion load", "2", "T2"),
    ("relapse/24 months", "24", "look-back window"),
    ("with IVIG every 6 weeks for a year", "6", "restatement"),
    ("beta-1a", "1", "interferon beta-1a"),
])
def test_unmodeled_numbers_carry_their_reason(report: AuditReport, phrase: str, token: str, reason: str) -> None:
    n = number_at(report, phrase, token)
    assert n.status == NOT_MODELED and n.covered_by == []
    assert n.reason is not None and reason in n.reason


def test_the_reverse_check_finds_every_literal_in_its_own_quote(report: AuditReport) -> None:
    checks = {str(c.literal): c.written_as for c in report.articles[0].literals}
    assert checks["achiron-2004-population ivig:enrollmentWindow P42D"] == "6 weeks"
    assert checks["sorensen-2004-ivig-dose ivig:timeOffset P1D"] == "24 hours"
    assert checks["achiron-2004-cdms-rate-ratio ivig:ciLevel 0.95"] == "95%"
    assert checks["hommes-2004-edss-progression-hr ivig:ciLower 0.8"] == "0.80"
    assert checks["claim-only-one-study-benefit ivig:studiesConsidered 3"] == "'third' (in words)"
    assert all(checks.values())


# --- the pieces ------------------------------------------------------------------------


@pytest.mark.parametrize(("lexical", "expected"), [
    ("P42D", {(Decimal(42), "days"), (Decimal(6), "weeks"), (Decimal(1008), "hours")}),
    ("P1D", {(Decimal(1), "days"), (Decimal(24), "hours")}),
    ("P1Y", {(Decimal(12), "months"), (Decimal(1), "years")}),
    ("P3M", {(Decimal(3), "months")}),
    ("PT36H", {(Decimal(36), "hours"), (Decimal("1.5"), "days")}),
])
def test_duration_values(lexical: str, expected: set[tuple[Decimal, str]]) -> None:
    assert expected <= set(duration_values(lexical))


def test_duration_values_of_a_non_duration_is_empty() -> None:
    assert duration_values("six weeks") == [] and duration_values("P") == []


def test_scan_numbers_kinds() -> None:
    text = "T2 lesions; beta-1a; 2 g/kg; 6 weeks; 95% CI 0.15-0.88; P = 0.03; Lancet. 2004;61:1515-1520; 1,000 cases"
    kinds = {(n.text, n.kind) for n in scan_numbers(text)}
    assert kinds == {
        ("2", "name part"), ("1", "name part"), ("2", "dose"), ("6", "duration"), ("95", "percentage"),
        ("0.15", "range (low end)"), ("0.88", "range (high end)"), ("0.03", "p-value"), ("2004", "year"),
        ("61", "volume"), ("1515", "page"), ("1520", "page"), ("1,000", "count"),
    }
    assert next(n for n in scan_numbers(text) if n.text == "1,000").value == 1000


def test_line_and_column_are_those_of_the_text() -> None:
    (first, second) = scan_numbers("a\nbb 12\n  3.5")
    assert (first.line, first.column, second.line, second.column) == (2, 4, 3, 3)


# --- rules that fail when broken ------------------------------------------------------------


def test_a_number_dropped_from_the_graph_is_unexplained(tmp_path: Path) -> None:
    source, store = variant(tmp_path, ("      size: 318\n", ""))
    result = audit([source], store)
    assert not result.ok
    (missing,) = result.unexplained
    assert (missing.text, missing.status, missing.line) == ("318", UNCOVERED, 15)
    code = runner.invoke(app, ["audit", str(source), "--store", str(store.path), "--problems-only"])
    assert code.exit_code == 1
    assert "318" in code.stdout and "1 unexplained" in code.stderr


def test_removing_a_not_modeled_entry_makes_its_number_unexplained(tmp_path: Path) -> None:
    entry = '''  - text: "1"
    reason: "part of the drug name interferon beta-1a, not a quantity"
    quote: "weekly interferon beta-1a"
'''
    source, store = variant(tmp_path, (entry, ""))
    (n,) = audit([source], store).unexplained
    assert n.text == "1" and n.kind == "name part" and "beta-1a" in n.context


def test_a_value_its_quote_does_not_state_fails_both_ways(tmp_path: Path) -> None:
    source, store = variant(tmp_path, ("          value: 44\n", "          value: 45\n"))
    result = audit([source], store)
    assert [str(c.literal) for c in result.unquoted_literals] == ["hommes-2004-mean-age ivig:value 45"]
    assert [n.text for n in result.unexplained] == ["44"]
    out = runner.invoke(app, ["audit", str(source), "--store", str(store.path), "--format", "json"])
    assert out.exit_code == 1
    data = json.loads(out.stdout)
    assert data["ok"] is False and data["unquoted_literals"] == 1 and data["unexplained"] == 1


def test_stale_and_redundant_not_modeled_entries_are_noted(tmp_path: Path) -> None:
    extra = '''  - text: "318"
    reason: redundant on purpose
    quote: "318 secondary progressive patients"
  - text: "4"
    reason: matches only part of 44
    quote: "mean age 44 yrs"
'''
    source, store = variant(tmp_path, ("not_modeled:\n", "not_modeled:\n" + extra))
    art = audit([source], store).articles[0]
    assert art.ok  # warnings only
    assert any("redundant" in note and "318" in note for note in art.notes)
    assert any("'4'" in note and "not a whole number" in note for note in art.notes)


def test_an_article_missing_from_the_store_is_a_clear_error(tmp_path: Path) -> None:
    other = GraphStore(tmp_path / "other")
    build(None, other)
    source, _ = variant(tmp_path, ("  id: ivig-ms-commentary\n", "  id: another-commentary\n"), build_it=False)
    with pytest.raises(StoreError, match=r"'another-commentary'.*is not in the store"):
        audit([source], other)


def test_a_store_built_from_another_text_must_be_rebuilt(tmp_path: Path) -> None:
    source, store = variant(tmp_path)
    text = source.with_suffix(".txt")
    text.write_text(text.read_text(encoding="utf-8").replace("Dr. Apatoff", "Dr Apatoff"))
    result = runner.invoke(app, ["audit", str(source), "--store", str(store.path)])
    assert result.exit_code == 1
    assert "different text" in result.stderr and "Traceback" not in result.stderr


# --- the command ---------------------------------------------------------------------------


def test_cli_table_and_json(built_store: GraphStore) -> None:
    table = runner.invoke(app, ["audit", "--store", str(built_store.path)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.stderr
    assert "not-modeled" in table.stdout and "ivig:ciLower 0.8" in table.stdout
    assert "coverage 100.0%" in table.stderr
    data = json.loads(runner.invoke(app, ["audit", "--store", str(built_store.path), "-f", "json"]).stdout)
    assert data["ok"] is True and data["coverage_percent"] == 100.0 and data["unexplained"] == 0
    assert data["articles"][0]["counts"] == {
        "numbers": 50, "covered": 45, "not_modeled": 5, "uncovered": 5, "unexplained": 0,
        "literals": len(data["articles"][0]["literals"]), "unquoted_literals": 0,
    }


def test_cli_unknown_format_is_a_usage_error(built_store: GraphStore) -> None:
    result = runner.invoke(app, ["audit", "--store", str(built_store.path), "-f", "xml"])
    assert result.exit_code == 2 and "unknown format 'xml'" in result.stderr


def test_installed_command(built_store: GraphStore) -> None:
    proc = subprocess.run([str(EXE), "audit", "--store", str(built_store.path), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["coverage_percent"] == 100.0
