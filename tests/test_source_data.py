"""The curated source data/articles/ivig-ms-commentary.yaml against its article text.

These tests check the data, not the loader: the file loads, every quote sits
exactly once in the text, the values the graph is built from are the ones the
text states, every number of an entry is written in that entry's own quotes,
and every digit run of the text is either modeled or listed in ``not_modeled``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ivig_kg.model import (
    CI,
    Arm,
    Article,
    Claim,
    Dose,
    Estimate,
    Fact,
    Finding,
    Outcome,
    Study,
)
from ivig_kg.sourcefile import SourceArticle, load_source

SOURCE = Path(__file__).resolve().parents[1] / "data/articles/ivig-ms-commentary.yaml"

NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
DURATION_RE = re.compile(r"^P(?=\d|T\d)(?:\d+[YMWD])*(?:T(?:\d+(?:\.\d+)?[HMS])+)?$")
NUMERIC_TEXT_RE = re.compile(r"^\d+(?:-\d+)?$")  # volume "61", pages "1515-1520"

# Numbers that an entry carries although the text does not write them as
# digits: (entry id, field) -> the word of the entry's quotes that states it.
# studies_considered = 3: the studies "above" are Achiron, "a second study" and
# "a third study".
WORDED_NUMBERS: dict[tuple[str, str], str] = {
    ("claim-only-one-study-benefit", "studies_considered"): "third",
}


@pytest.fixture(scope="module")
def source() -> SourceArticle:
    return load_source(SOURCE)


@pytest.fixture(scope="module")
def article(source: SourceArticle) -> Article:
    return source.article


@pytest.fixture(scope="module")
def ids(article: Article) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for obj in _models(article):
        ident = getattr(obj, "id", None)
        if isinstance(ident, str) and not isinstance(obj, Article):
            # concepts may legitimately repeat across articles, not within one
            assert ident not in found, f"id {ident!r} declared twice"
            found[ident] = obj
    return found


# --- generic walking ------------------------------------------------------------


def _models(obj: Any) -> Iterator[BaseModel]:
    """Every pydantic model inside ``obj`` (depth first, ``obj`` included)."""
    if isinstance(obj, BaseModel):
        yield obj
        for name in type(obj).model_fields:
            yield from _models(getattr(obj, name))
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _models(item)


def _quotes_of(obj: BaseModel) -> list[str]:
    quote = getattr(obj, "quote", None)
    if quote is None:
        return []
    return [quote] if isinstance(quote, str) else list(quote)


def _literals(value: Any, field: str, owner: BaseModel) -> list[str]:
    """How a numeric field value must be written in the text (empty: not numeric)."""
    if isinstance(value, bool):
        return []
    if isinstance(owner, CI) and field == "level":
        return [f"{format((value * 100).normalize(), 'f')}%"]  # 0.95 -> "95%"
    if isinstance(value, int | Decimal):
        return [str(value)]
    if isinstance(value, str) and DURATION_RE.match(value):
        return NUMBER_RE.findall(value)  # "PT24H" -> ["24"]
    if isinstance(value, str) and NUMERIC_TEXT_RE.match(value):
        return value.split("-")
    return []


def _numbers(entry: Fact) -> Iterator[tuple[str, str]]:
    """(field path, literal) for each number an entry states.

    Nested plain models (a CI, a Timing) belong to the entry; nested entries
    (a dose's schedule, an arm's doses) have quotes of their own and are
    checked on their own.
    """

    def visit(obj: BaseModel, prefix: str) -> Iterator[tuple[str, str]]:
        for name in type(obj).model_fields:
            if name in {"id", "quote"}:
                continue
            value = getattr(obj, name)
            items = list(enumerate(value)) if isinstance(value, list | tuple) else [(None, value)]
            for i, item in items:
                path = f"{prefix}{name}" + (f"[{i}]" if i is not None else "")
                if isinstance(item, Fact):
                    continue
                if isinstance(item, BaseModel):
                    yield from visit(item, path + ".")
                    continue
                for literal in _literals(item, name, obj):
                    yield path, literal

    yield from visit(entry, "")


def _written_in(literal: str, text: str) -> bool:
    """``literal`` occurs in ``text`` as a whole number (not inside a longer one)."""
    return re.search(rf"(?<![\d.]){re.escape(literal)}(?!\.?\d)", text) is not None


def _entries(article: Article) -> list[Fact]:
    return [m for m in _models(article) if isinstance(m, Fact)]


# --- loading and quotes ----------------------------------------------------------


def test_source_loads(source: SourceArticle) -> None:
    assert source.article.format == "ivig-kg/1"
    assert source.text_path.name == "ivig-ms-commentary.txt"
    assert source.id == "ivig-ms-commentary"


def test_every_quote_reslices_exactly(source: SourceArticle, article: Article) -> None:
    quotes = [q for m in _models(article) for q in _quotes_of(m)]
    c = article.commentary
    quotes += [q for q in (c.title, c.section, c.synopsis) if q]
    assert len(quotes) > 50
    for quote in quotes:
        span = source.spans[quote]
        assert source.text[span.start:span.end] == quote
        assert source.text.count(quote) == 1, f"quote occurs more than once: {quote!r}"


def test_every_fact_has_a_nonblank_quote(article: Article) -> None:
    for entry in _entries(article):
        assert entry.quotes, entry.id
        for quote in entry.quotes:
            assert quote == quote.strip(), f"{entry.id}: quote has surrounding blanks"


# --- numbers -----------------------------------------------------------------------


def test_every_number_is_written_in_the_entrys_own_quotes(article: Article) -> None:
    checked = 0
    for entry in _entries(article):
        quotes = entry.quotes
        for path, literal in _numbers(entry):
            field = path.split(".")[-1].split("[")[0]
            word = WORDED_NUMBERS.get((entry.id, field))
            if word is not None:
                assert any(word in q for q in quotes), f"{entry.id}.{path}: {word!r} not quoted"
                continue
            assert any(_written_in(literal, q) for q in quotes), (
                f"{entry.id}.{path} = {literal!r} is not written in its quotes {quotes!r}"
            )
            checked += 1
    assert checked >= 40


def _modeled_tokens(entry: Fact) -> set[str]:
    return {tok for _, literal in _numbers(entry) for tok in NUMBER_RE.findall(literal)}


def test_every_digit_run_of_the_text_is_modeled_or_listed(
    source: SourceArticle, article: Article
) -> None:
    text = source.text
    modeled: list[tuple[int, int, set[str]]] = []
    for entry in _entries(article):
        tokens = _modeled_tokens(entry)
        for quote in entry.quotes:
            span = source.spans[quote]
            modeled.append((span.start, span.end, tokens))
    listed: list[tuple[int, int, str]] = []
    for item in article.not_modeled:
        assert item.quote is not None, f"not_modeled {item.text!r} needs a locating quote"
        span = source.spans[item.quote]
        offset = item.quote.find(item.text)
        assert offset >= 0 and item.quote.count(item.text) == 1, item
        listed.append((span.start + offset, span.start + offset + len(item.text), item.text))

    uncovered = []
    for m in NUMBER_RE.finditer(text):
        start, end, run = m.start(), m.end(), m.group()
        is_modeled = any(s <= start and end <= e and run in toks for s, e, toks in modeled)
        is_listed = any((s, e, t) == (start, end, run) for s, e, t in listed)
        assert not (is_modeled and is_listed), f"{run!r} at {start} is modeled and also listed"
        if not (is_modeled or is_listed):
            uncovered.append(f"{run!r} in ...{text[max(0, start - 25):end + 15]!r}")
    assert not uncovered, "digit runs neither modeled nor listed:\n" + "\n".join(uncovered)
    # and no not_modeled entry is stale
    assert {(s, e) for s, e, _ in listed}.issubset(
        {(m.start(), m.end()) for m in NUMBER_RE.finditer(text)}
    )


def test_decimals_keep_their_written_form(ids: dict[str, Any]) -> None:
    hr = ids["hommes-2004-edss-progression-hr"]
    assert isinstance(hr.ci.lower, Decimal)
    assert str(hr.ci.lower) == "0.80"


# --- the commentary, its author and sources ---------------------------------------


def test_commentary(article: Article) -> None:
    c = article.commentary
    assert c.id == "ivig-ms-commentary"
    assert c.title == "Conflicting Data on Benefit of IVIG Treatment in MS"
    assert c.section == "Abstracts & Commentary"
    assert c.synopsis is not None
    assert c.synopsis.startswith("Intravenous immunoglobulin treatment for the first year")
    assert c.synopsis.endswith("as measured by brain magnetic resonance imaging.")
    assert c.author == "apatoff"
    assert c.journal is None  # the commentary's venue is not stated
    assert set(c.cites) == {
        "achiron-2004-article", "sorensen-2004-article", "hommes-2004-article", "nejm-2000-article",
    }


def test_author(ids: dict[str, Any]) -> None:
    p = ids["apatoff"]
    assert p.name == "Brian R. Apatoff"
    assert p.position == "Associate Professor of Neurology"
    assert p.affiliation == "New York Presbyterian Hospital-Cornell Campus"
    assert p.editorial_role == "Assistant Editor of Neurology Alert"


@pytest.mark.parametrize(
    ("pub_id", "journal", "year", "volume", "pages"),
    [
        ("achiron-2004-article", "Arch Neurol", 2004, "61", "1515-1520"),
        ("sorensen-2004-article", "Neurology", 2004, "63", "2028-2033"),
        ("hommes-2004-article", "Lancet", 2004, "364", "1149-1156"),
        ("nejm-2000-article", "N Engl J Med", 2000, "343", "898-904"),
    ],
)
def test_publications(
    ids: dict[str, Any], pub_id: str, journal: str, year: int, volume: str, pages: str
) -> None:
    pub = ids[pub_id]
    assert (pub.journal, pub.year, pub.volume, pub.pages) == (journal, year, volume, pages)


def test_publication_authors_and_titles(ids: dict[str, Any]) -> None:
    achiron = ids["achiron-2004-article"]
    assert achiron.authors == "Achiron A, et al."
    assert achiron.title == (
        "Intravenous Immunoglobulin Treatment Following the First Demyelinating Event "
        "Suggestive of Multiple Sclerosis"
    )
    nejm = ids["nejm-2000-article"]
    assert nejm.title is None and nejm.authors is None  # not in the text


def test_concepts(article: Article) -> None:
    kinds = {c.id: c.kind for c in article.concepts}
    expected = {
        "multiple-sclerosis": "condition",
        "secondary-progressive-ms": "condition",
        "demyelinating-disease": "condition",
        "ms-relapse": "condition",
        "ivig": "intervention",
        "placebo": "intervention",
        "methylprednisolone": "intervention",
        "interferon-beta-1a": "intervention",
        "interferon-beta": "intervention",
        "glatiramer-acetate": "intervention",
        "natalizumab": "intervention",
        "edss": "measure",
        "brain-mri": "measure",
    }
    for cid, kind in expected.items():
        assert kinds.get(cid) == kind, cid


# --- Achiron 2004 ----------------------------------------------------------------------


def test_achiron_design_and_population(ids: dict[str, Any]) -> None:
    s: Study = ids["achiron-2004"]
    assert s.kind == "rct"
    assert s.publication == "achiron-2004-article"
    assert set(s.design) == {"randomized", "placebo-controlled", "double-blind"}
    assert (s.condition, s.intervention, s.duration) == ("multiple-sclerosis", "ivig", "P1Y")
    assert s.population is not None
    assert s.population.enrollment_window == "P6W"
    assert s.population.size is None  # the text gives no sample size


def test_achiron_arms_and_doses(ids: dict[str, Any]) -> None:
    ivig: Arm = ids["achiron-2004-ivig-arm"]
    placebo: Arm = ids["achiron-2004-placebo-arm"]
    assert (ivig.role, ivig.intervention) == ("experimental", "ivig")
    assert (placebo.role, placebo.intervention) == ("placebo", "placebo")
    loading: Dose = ids["achiron-2004-ivig-loading-dose"]
    booster: Dose = ids["achiron-2004-ivig-booster-dose"]
    assert (loading.amount, loading.unit, loading.role) == (Decimal("2"), "g/kg", "loading")
    assert (booster.amount, booster.unit, booster.role) == (Decimal("0.4"), "g/kg", "booster")
    assert loading.route == booster.route == "intravenous"
    assert booster.schedule is not None
    assert (booster.schedule.interval, booster.schedule.duration) == ("P6W", "P1Y")
    assert placebo.follows_schedule == booster.schedule.id


def test_achiron_outcomes(ids: dict[str, Any]) -> None:
    cdms: Outcome = ids["achiron-2004-cdms"]
    assert cdms.primary is False  # the text never says "primary" for Achiron
    assert ids["achiron-2004-clinical-assessment"].assessment_interval == "P3M"
    mri: Outcome = ids["achiron-2004-mri-lesions"]
    assert mri.measure == "brain-mri"
    assert mri.assessment_timepoints == "baseline and end of study"


def test_achiron_results(ids: dict[str, Any]) -> None:
    est: Estimate = ids["achiron-2004-cdms-rate-ratio"]
    assert est.measure == "rate-ratio"
    assert est.value == Decimal("0.36")
    assert est.ci is not None
    assert (est.ci.lower, est.ci.upper, est.ci.level) == (
        Decimal("0.15"), Decimal("0.88"), Decimal("0.95"),
    )
    assert est.p_value == Decimal("0.03")
    assert est.arms == ("achiron-2004-ivig-arm", "achiron-2004-placebo-arm")
    assert est.direction == "favours-intervention"
    lesions: Finding = ids["achiron-2004-lesion-reduction"]
    assert lesions.type == "significant-difference"
    assert lesions.p_range == (Decimal("0.01"), Decimal("0.03"))
    assert lesions.direction == "favours-intervention"
    assert ids["achiron-2004-well-tolerated"].type == "well-tolerated"
    claim: Claim = ids["achiron-2004-synopsis-claim"]
    assert set(claim.rests_on) == {"achiron-2004-cdms-rate-ratio", "achiron-2004-lesion-reduction"}


# --- Sorensen 2004 -------------------------------------------------------------------


def test_sorensen(ids: dict[str, Any]) -> None:
    s: Study = ids["sorensen-2004"]
    assert s.kind == "rct"
    assert set(s.design) == {"randomized", "placebo-controlled"}
    assert s.research_question
    assert s.population is not None
    assert s.population.size is None  # the text gives no sample size
    assert s.population.condition == "ms-relapse"

    for arm_id, first in (("sorensen-2004-ivig-arm", "ivig"), ("sorensen-2004-placebo-arm", "placebo")):
        arm: Arm = ids[arm_id]
        by_intervention = {d.intervention: d for d in arm.doses}
        assert set(by_intervention) == {first, "methylprednisolone"}
        pre = by_intervention[first]
        mp = by_intervention["methylprednisolone"]
        assert pre.role == "single"
        assert pre.timing is not None
        assert pre.timing.offset == "PT24H"
        assert pre.timing.before == mp.id  # the methylprednisolone dose of the same arm
        assert (mp.amount, mp.unit, mp.route, mp.role) == (Decimal("1"), "g/d", "intravenous", "daily")
        assert mp.schedule is not None
        assert mp.schedule.consecutive_days == 3
    ivig_dose: Dose = ids["sorensen-2004-ivig-dose"]
    assert (ivig_dose.amount, ivig_dose.unit) == (Decimal("1"), "g/kg")
    assert ids["sorensen-2004-placebo-dose"].amount is None

    edss: Outcome = ids["sorensen-2004-edss"]
    assert edss.primary is True and edss.measure == "edss"
    assert ids["sorensen-2004-both-improved"].type == "both-arms-improved"
    nsd: Finding = ids["sorensen-2004-edss-no-difference"]
    assert (nsd.type, nsd.outcome, nsd.direction) == (
        "no-significant-difference", "sorensen-2004-edss", "no-difference",
    )


# --- Hommes 2004 ---------------------------------------------------------------------


def test_hommes_design_and_population(ids: dict[str, Any]) -> None:
    s: Study = ids["hommes-2004"]
    assert {"double-blind", "placebo-controlled"} <= set(s.design)
    assert (s.duration, s.region, s.condition) == ("P2Y", "Europe", "secondary-progressive-ms")
    assert s.population is not None
    assert s.population.size == 318
    chars = {c.type: (c.value, c.unit) for c in s.population.characteristics}
    assert chars == {
        "mean-age": (Decimal("44"), "a"),
        "mean-edss": (Decimal("5.24"), "{score}"),
        "share-with-prior-relapse": (Decimal("51.7"), "%"),
    }


def test_hommes_arms_and_results(ids: dict[str, Any]) -> None:
    dose: Dose = ids["hommes-2004-ivig-dose"]
    assert (dose.amount, dose.unit, dose.role) == (Decimal("1"), "g/kg", "monthly")
    assert dose.schedule is not None and dose.schedule.interval == "P1M"
    assert ids["hommes-2004-placebo-arm"].role == "placebo"

    hr: Estimate = ids["hommes-2004-edss-progression-hr"]
    assert (hr.measure, hr.value) == ("hazard-ratio", Decimal("1.11"))
    assert hr.ci is not None
    assert (hr.ci.lower, hr.ci.upper) == (Decimal("0.80"), Decimal("1.53"))
    assert hr.arms == ("hommes-2004-ivig-arm", "hommes-2004-placebo-arm")
    assert hr.direction == "no-difference"
    assert ids["hommes-2004-edss-progression"].primary is False  # not called primary
    assert ids["hommes-2004-no-benefit-edss-progression"].type == "no-beneficial-effect"

    rates = [ids["hommes-2004-relapse-rate-ivig"], ids["hommes-2004-relapse-rate-placebo"]]
    assert {r.arm for r in rates} == {"hommes-2004-ivig-arm", "hommes-2004-placebo-arm"}
    assert all(r.measure == "event-rate" and r.value == Decimal("0.46") for r in rates)
    assert ids["hommes-2004-relapse-rate-same"].type == "same-in-both-arms"
    t2: Finding = ids["hommes-2004-t2-lesion-load-no-difference"]
    assert t2.type == "no-significant-difference"
    assert ids[t2.outcome].measure == "brain-mri"


# --- NEJM 2000 and the commentary's claims -----------------------------------------------


def test_nejm_comparator(ids: dict[str, Any]) -> None:
    s: Study = ids["nejm-2000"]
    assert s.kind == "external-comparator"
    assert s.intervention == "interferon-beta-1a"
    assert s.compared_with == ["achiron-2004"]
    assert s.arms == []  # no arms are stated


def test_commentary_claims(ids: dict[str, Any]) -> None:
    a: Claim = ids["claim-ivig-controversial"]
    assert set(a.rests_on) == {"achiron-2004", "sorensen-2004", "hommes-2004"}
    b: Claim = ids["claim-only-one-study-benefit"]
    assert b.identifies == "achiron-2004"
    assert (b.studies_showing_benefit, b.studies_considered) == (1, 3)
    assert {"achiron-2004", "sorensen-2004", "hommes-2004"} <= set(b.rests_on)
    c: Claim = ids["claim-interferon-better"]
    assert set(c.rests_on) == {"nejm-2000", "achiron-2004"}
    d: Claim = ids["claim-routine-ivig-not-justified"]
    assert d.about == "ivig"
    assert d.alternatives == ["interferon-beta", "glatiramer-acetate", "natalizumab"]
    assert set(d.rests_on) == {"claim-only-one-study-benefit", "claim-interferon-better"}
