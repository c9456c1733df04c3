"""A deterministic synthetic corpus: N realistic articles in the real source format.

Each article is a ``<name>.yaml`` + ``<name>.txt`` pair shaped like the bundled
commentary: a commentator, three randomised trials (arms, doses, schedules,
outcomes, effect estimates, findings, claims), an external comparator study and
the commentary's own claims. Every quote is a whole sentence of the generated
text, found there exactly once; every number sits in the quote of the entry
that models it. Statistics are internally consistent: for a ratio measure the
95% CI excludes 1 exactly when p < 0.05 (0 for a mean difference), and the
direction follows from the estimate.

Used by the benchmarks (``bench/``) and ``ivig-kg synth``. The output depends
only on ``seed`` and the article index, so the same call gives byte-identical
files, and article ``i`` is the same whatever N is.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ivig_kg.errors import UsageError

TRIPLES_PER_ARTICLE = 1285
"""Mean quads per synthetic article (measured over 20 articles: 1220-1333)."""

ONTOLOGY_TRIPLES = 956
"""Quads of the ontology graph, which every build adds."""

SURNAMES = (
    "Achterberg", "Baranowski", "Castellanos", "Dubois", "Eriksen", "Fitzgerald", "Gallardo", "Haverkamp",
    "Ibrahim", "Jankowska", "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura", "Okonkwo", "Pellegrini",
    "Quintero", "Rasmussen", "Sandoval", "Takahashi", "Uhlmann", "Valdivia", "Wojcik", "Xenakis",
    "Yilmaz", "Zamora", "Bergstrom", "Ciccone", "Delacroix", "Engstrom", "Ferreira", "Gundersen",
    "Holmberg", "Iversen", "Jovanovic", "Kaminski", "Lefebvre", "Moreau", "Nieminen", "Oliveira",
    "Petersen", "Romano", "Schreiber", "Tanaka", "Vasquez", "Weber", "Zielinski", "Abernathy",
)
GIVEN = ("Anna", "Brian", "Carla", "David", "Elena", "Frank", "Grace", "Henrik", "Irene", "Jonas",
         "Karin", "Luis", "Maria", "Nils", "Olga", "Peter", "Rosa", "Stefan", "Teresa", "Viktor")
INITIALS = "ABCDEFGHJKLMNPRSTW"
POSITIONS = ("Associate Professor of Neurology", "Professor of Neurology", "Assistant Professor of Neurology",
             "Clinical Professor of Neurology", "Director of the Multiple Sclerosis Center")
AFFILIATIONS = ("New York Presbyterian Hospital-Cornell Campus", "University Hospital Basel",
                "Karolinska University Hospital", "Charite University Medicine Berlin",
                "University of California San Francisco", "Royal Melbourne Hospital",
                "Hopital de la Pitie-Salpetriere", "Leiden University Medical Center")
ROLES = ("Assistant Editor of Neurology Alert", "Associate Editor of Neurology Alert",
         "Editor of Neurology Alert", "a member of the Neurology Alert editorial board")
JOURNALS = ("Arch Neurol", "Neurology", "Lancet", "Ann Neurol", "Mult Scler", "Brain", "JAMA Neurol",
            "J Neurol Neurosurg Psychiatry", "Lancet Neurol", "Eur J Neurol")
REGIONS = ("Europe", "North America", "Scandinavia", "Israel", "Japan", "Australia")

# id, label, phrase used in the text
CONDITIONS = (
    ("multiple-sclerosis", "multiple sclerosis", "multiple sclerosis"),
    ("relapsing-remitting-ms", "relapsing-remitting multiple sclerosis", "relapsing-remitting MS"),
    ("secondary-progressive-ms", "secondary progressive multiple sclerosis", "secondary progressive MS"),
    ("primary-progressive-ms", "primary progressive multiple sclerosis", "primary progressive MS"),
    ("ms-relapse", "acute relapse of multiple sclerosis", "an acute MS relapse"),
    ("demyelinating-disease", "demyelinating disease", "a first demyelinating event"),
)


@dataclass(frozen=True)
class Drug:
    id: str
    label: str
    short: str
    route: str
    unit: str
    amounts: tuple[str, ...]


DRUGS = (
    Drug("ivig", "intravenous immunoglobulin", "IVIG", "intravenous", "g/kg", ("0.4", "1", "2", "0.15", "0.2")),
    Drug("natalizumab", "natalizumab", "natalizumab", "intravenous", "mg", ("300",)),
    Drug("interferon-beta-1a", "interferon beta-1a", "interferon beta-1a", "intramuscular", "ug", ("30", "44")),
    Drug("glatiramer-acetate", "glatiramer acetate", "glatiramer acetate", "subcutaneous", "mg", ("20", "40")),
    Drug("rituximab", "rituximab", "rituximab", "intravenous", "mg", ("375", "500", "1000")),
    Drug("ocrelizumab", "ocrelizumab", "ocrelizumab", "intravenous", "mg", ("300", "600")),
    Drug("fingolimod", "fingolimod", "fingolimod", "oral", "mg", ("0.5", "1.25")),
    Drug("cyclophosphamide", "cyclophosphamide", "cyclophosphamide", "intravenous", "mg/kg", ("10", "15")),
)
METHYLPREDNISOLONE = Drug("methylprednisolone", "methylprednisolone", "methylprednisolone", "intravenous",
                          "g/d", ("0.5", "1"))
MEASURES = (("edss", "Expanded Disability Status Scale", "EDSS"),
            ("brain-mri", "brain magnetic resonance imaging", "brain MRI"),
            ("msfc", "Multiple Sclerosis Functional Composite", "MSFC"),
            ("relapse-count", "number of clinical relapses", "relapse count"))
# outcome templates: id suffix, label, short phrase, measure id, ratio measure type
OUTCOMES = (
    ("conversion", "conversion to clinically definite MS", "conversion to clinically definite MS", None,
     "hazard-ratio"),
    ("relapse", "annualised relapse rate", "the annualised relapse rate", "relapse-count", "rate-ratio"),
    ("progression", "time to confirmed EDSS progression", "confirmed EDSS progression", "edss", "hazard-ratio"),
    ("new-lesions", "new T2 lesions on brain MRI", "the odds of new T2 lesions", "brain-mri", "odds-ratio"),
    ("relapse-free", "proportion of patients free of relapse", "the risk of any relapse", "relapse-count",
     "risk-ratio"),
    ("disability", "change in EDSS score", "the change in EDSS score", "edss", "mean-difference"),
    ("msfc-change", "change in MSFC z-score", "the change in MSFC z-score", "msfc", "mean-difference"),
)
DURATIONS = (("P1Y", "1 year"), ("P2Y", "2 years"), ("P18M", "18 months"), ("P3Y", "3 years"),
             ("P6M", "6 months"))
INTERVALS = (("P4W", "4 weeks"), ("P6W", "6 weeks"), ("P1M", "month"), ("P3M", "3 months"),
             ("P8W", "8 weeks"))
MEASURE_WORDS = {"rate-ratio": "rate ratio", "hazard-ratio": "hazard ratio", "odds-ratio": "odds ratio",
                 "risk-ratio": "risk ratio", "mean-difference": "mean difference"}
TITLE_WORDS = ("Conflicting Data on", "Mixed Evidence for", "Uncertain Benefit of", "New Trials of",
               "Reassessing")


def _d(value: float, places: int = 2) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def _txt(d: Decimal) -> str:
    return format(d, "f")


def _p(z: float) -> float:
    """Two-sided p-value of a normal z statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass
class Estimate:
    """A drawn estimate whose CI, p and direction agree after rounding."""

    measure: str
    value: Decimal
    lower: Decimal
    upper: Decimal
    p: Decimal
    significant: bool
    direction: str


def draw_estimate(rng: random.Random, measure: str, benefit: bool) -> Estimate:
    """An estimate with a 95% CI; p < 0.05 exactly when the CI excludes the null (1, or 0)."""
    ratio = measure != "mean-difference"
    null = Decimal(1) if ratio else Decimal(0)
    while True:
        se = rng.uniform(0.12, 0.45)
        mean = (-rng.uniform(1.2, 3.5) if benefit else rng.uniform(-1.6, 1.6)) * se
        p = _p(mean / se)
        if p < 0.001:
            continue
        lo, hi = mean - 1.96 * se, mean + 1.96 * se
        if ratio:
            value, lower, upper = _d(math.exp(mean)), _d(math.exp(lo)), _d(math.exp(hi))
        else:
            value, lower, upper = _d(mean), _d(lo), _d(hi)
        pd = _d(p, 3) if p < 0.1 else _d(p, 2)
        significant = pd < Decimal("0.05")
        excludes = upper < null or lower > null
        if significant != excludes or not (lower < value < upper) or (ratio and lower <= 0) or pd in (0, 1):
            continue
        if not significant:
            direction = "no-difference"
        else:
            direction = "favours-intervention" if value < null else "favours-comparator"
        return Estimate(measure, value, lower, upper, pd, significant, direction)


class _Text:
    """The article text, built sentence by sentence; each quote is a whole sentence."""

    def __init__(self) -> None:
        self.paragraphs: list[list[str]] = []

    def para(self) -> None:
        self.paragraphs.append([])

    def say(self, sentence: str) -> str:
        self.paragraphs[-1].append(sentence)
        return sentence.rstrip(".")

    def render(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs if p) + "\n"


@dataclass
class _Article:
    """An article being drawn: the YAML-ready mapping and the text."""

    id: str
    rng: random.Random
    text: _Text = field(default_factory=_Text)
    concepts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def concept(self, ident: str, label: str, kind: str) -> str:
        self.concepts.setdefault(ident, {"id": ident, "label": label, "kind": kind})
        return ident


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _study(a: _Article, surname: str, year: int, drug: Drug, cond: tuple[str, str, str],
           benefit: bool, pub_id: str) -> tuple[dict[str, Any], bool]:
    """One RCT: design, population, two arms with doses, outcomes, estimates, findings, a claim."""
    rng, t = a.rng, a.text
    sid = f"{_slug(surname)}-{year}"
    a.concept(cond[0], cond[1], "condition")
    a.concept(drug.id, drug.label, "intervention")
    design = rng.choice([["randomized", "placebo-controlled", "double-blind"],
                         ["randomized", "double-blind", "placebo-controlled", "multicentre"],
                         ["randomized", "placebo-controlled"],
                         ["randomized", "parallel-group", "double-blind", "placebo-controlled"]])
    words = ", ".join(design)
    size = rng.randint(40, 900)
    dur, dur_words = rng.choice(DURATIONS)
    region = rng.choice(REGIONS)
    t.para()
    q_design = t.say(f"{surname} and colleagues conducted a {words} study of {drug.short} in {size} patients "
                     f"with {cond[2]}.")
    q_dur = t.say(f"The {surname} trial followed patients for {dur_words} at centres in {region}.")
    age, edss, share = _d(rng.uniform(28, 55), 1), _d(rng.uniform(1.5, 6.5), 2), _d(rng.uniform(20, 75), 1)
    q_base = t.say(f"At baseline in the {surname} trial the mean age was {_txt(age)} yrs, the mean EDSS was "
                   f"{_txt(edss)}, and {_txt(share)}% of patients had a prior relapse.")
    population = {
        "id": f"{sid}-population", "description": f"Patients with {cond[1]}", "condition": cond[0], "size": size,
        "quote": q_design,
        "characteristics": [
            {"id": f"{sid}-mean-age", "type": "mean-age", "value": age, "unit": "a", "quote": q_base},
            {"id": f"{sid}-mean-edss", "type": "mean-edss", "value": edss, "unit": "{score}", "quote": q_base},
            {"id": f"{sid}-prior-relapse", "type": "share-with-prior-relapse", "value": share, "unit": "%",
             "quote": q_base},
        ],
    }

    # arms and doses: three dosing patterns
    placebo = a.concept("placebo", "placebo", "intervention")
    exp_arm, pbo_arm = f"{sid}-{drug.id}-arm", f"{sid}-placebo-arm"
    pattern = rng.randrange(3)
    amount = Decimal(rng.choice(drug.amounts))
    interval, interval_words = rng.choice(INTERVALS)
    exp_doses: list[dict[str, Any]] = []
    pbo: dict[str, Any] = {"id": pbo_arm, "label": "placebo", "role": "placebo", "intervention": placebo}
    if pattern == 0:  # loading dose, then maintenance on a schedule
        maint = Decimal(rng.choice([x for x in drug.amounts if Decimal(x) != amount] or [str(amount)]))
        q = t.say(f"In the {surname} trial patients received {drug.short} ({_txt(amount)} {drug.unit} loading "
                  f"dose) or placebo and then maintenance doses ({_txt(maint)} {drug.unit}) every "
                  f"{interval_words} for {dur_words}.")
        sched = {"id": f"{sid}-maintenance-schedule", "interval": interval, "duration": dur, "quote": q}
        exp_doses = [
            {"id": f"{sid}-loading-dose", "intervention": drug.id, "amount": amount, "unit": drug.unit,
             "route": drug.route, "role": "loading", "quote": q},
            {"id": f"{sid}-maintenance-dose", "intervention": drug.id, "amount": maint, "unit": drug.unit,
             "route": drug.route, "role": "maintenance", "schedule": sched, "quote": q},
        ]
        pbo.update(follows_schedule=sched["id"], quote=q)
        arm_q = q
    elif pattern == 1:  # a regular dose on a schedule
        q = t.say(f"Patients in the {surname} trial were dosed with {drug.short} {_txt(amount)} {drug.unit} or "
                  f"placebo every {interval_words} for {dur_words}.")
        sched = {"id": f"{sid}-regular-schedule", "interval": interval, "duration": dur, "quote": q}
        exp_doses = [{"id": f"{sid}-regular-dose", "intervention": drug.id, "amount": amount, "unit": drug.unit,
                      "route": drug.route, "role": "maintenance", "schedule": sched, "quote": q}]
        pbo.update(follows_schedule=sched["id"], quote=q)
        arm_q = q
    else:  # single dose 24 h before a course of methylprednisolone in both arms
        mp = METHYLPREDNISOLONE
        a.concept(mp.id, mp.label, "intervention")
        days = rng.randint(3, 5)
        mp_amount = Decimal(rng.choice(mp.amounts))
        q1 = t.say(f"In the {surname} trial patients were randomly assigned to a single dose of either "
                   f"{drug.short} ({_txt(amount)} {drug.unit}) or placebo 24 hours before treatment.")
        q2 = t.say(f"Both arms of the {surname} trial then received {_txt(mp_amount)} g/d IV methylprednisolone "
                   f"for {days} consecutive days.")
        arm_q = q1

        def mp_dose(arm: str) -> dict[str, Any]:
            return {"id": f"{arm}-mp-dose", "intervention": mp.id, "amount": mp_amount, "unit": mp.unit,
                    "route": mp.route, "role": "daily", "quote": q2,
                    "schedule": {"id": f"{arm}-mp-schedule", "consecutive_days": days, "duration": f"P{days}D",
                                 "quote": q2}}

        exp_doses = [{"id": f"{sid}-single-dose", "intervention": drug.id, "amount": amount, "unit": drug.unit,
                      "route": drug.route, "role": "single",
                      "timing": {"before": f"{exp_arm}-mp-dose", "offset": "PT24H"}, "quote": q1},
                     mp_dose(exp_arm)]
        pbo.update(quote=q1, doses=[
            {"id": f"{sid}-placebo-dose", "intervention": placebo, "role": "single",
             "timing": {"before": f"{pbo_arm}-mp-dose", "offset": "PT24H"}, "quote": q1},
            mp_dose(pbo_arm)])
    arms = [{"id": exp_arm, "label": drug.short, "role": "experimental", "intervention": drug.id,
             "quote": arm_q, "doses": exp_doses}, pbo]

    # outcomes: one primary plus two or three secondary
    chosen = rng.sample(OUTCOMES, rng.randint(3, 4))
    assess, assess_words = rng.choice((("P3M", "3 months"), ("P6M", "6 months"), ("P1Y", "year")))
    names = [o[1] for o in chosen]
    q_out = t.say(f"The primary end point of the {surname} trial was {names[0]}; secondary end points were "
                  f"{', '.join(names[1:-1])}{' and ' if len(names) > 2 else ''}{names[-1]}, assessed every "
                  f"{assess_words}.")
    outcomes = []
    for k, (suffix, label, _short, measure, _mt) in enumerate(chosen):
        o: dict[str, Any] = {"id": f"{sid}-{suffix}", "label": label, "primary": k == 0,
                             "assessment_interval": assess, "quote": q_out}
        if measure:
            m = next(x for x in MEASURES if x[0] == measure)
            o["measure"] = a.concept(m[0], m[1], "measure")
        outcomes.append(o)

    estimates: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    t.para()
    for k, (suffix, _label, short, _measure, mtype) in enumerate(chosen[:2]):
        est = draw_estimate(rng, mtype, benefit and k == 0)
        if est.measure == "mean-difference":
            ci_words = f"{_txt(est.lower)} to {_txt(est.upper)}"
        else:
            ci_words = f"{_txt(est.lower)}-{_txt(est.upper)}"
        trend = {"favours-intervention": "was lower", "favours-comparator": "was higher",
                 "no-difference": "did not differ"}[est.direction]
        q = t.say(f"In the {surname} trial {short} {trend} with {drug.short} vs placebo "
                  f"({MEASURE_WORDS[mtype]}, {_txt(est.value)} [95% confidence interval {ci_words}]; "
                  f"P = {_txt(est.p)}).")
        eid = f"{sid}-{suffix}-{mtype}"
        estimates.append({"id": eid, "outcome": f"{sid}-{suffix}", "measure": mtype, "value": est.value,
                          "ci": {"lower": est.lower, "upper": est.upper, "level": Decimal("0.95")},
                          "p_value": est.p, "arms": [exp_arm, pbo_arm], "direction": est.direction, "quote": q})
        findings.append({"id": f"{sid}-{suffix}-finding",
                         "type": "significant-difference" if est.significant else "no-significant-difference",
                         "statement": f"{short[0].upper()}{short[1:]} {trend} with {drug.short} than with "
                                      "placebo" + (" (significant)." if est.significant
                                                   else "; the difference was not significant."),
                         "outcome": f"{sid}-{suffix}", "p_value": est.p, "direction": est.direction, "quote": q})
        if k == 0:
            primary_est = est
    # single-arm event rates for the relapse outcome, when present
    rel = next((o for o in chosen if o[0] == "relapse"), None)
    if rel is not None:
        r1, r2 = _d(rng.uniform(0.2, 1.2)), _d(rng.uniform(0.2, 1.2))
        q = t.say(f"The annual relapse rate in the {surname} trial was {_txt(r1)} with {drug.short} and "
                  f"{_txt(r2)} with placebo.")
        for arm, r in ((exp_arm, r1), (pbo_arm, r2)):
            estimates.append({"id": f"{arm}-relapse-rate", "outcome": f"{sid}-relapse", "measure": "event-rate",
                              "value": r, "arm": arm, "quote": q})
    lo_p = _d(rng.uniform(0.001, 0.02), 3)
    hi_p = _d(rng.uniform(0.021, 0.049), 3)
    q = t.say(f"Patients receiving {drug.short} in the {surname} trial also had fewer gadolinium-enhancing "
              f"lesions (P = {_txt(lo_p)}-{_txt(hi_p)}).")
    mri = a.concept("brain-mri", "brain magnetic resonance imaging", "measure")
    outcomes.append({"id": f"{sid}-gd-lesions", "label": "number of gadolinium-enhancing lesions on brain MRI",
                     "measure": mri, "quote": q})
    findings.append({"id": f"{sid}-gd-lesions-finding", "type": "significant-difference",
                     "statement": f"Patients receiving {drug.short} had fewer gadolinium-enhancing lesions.",
                     "outcome": f"{sid}-gd-lesions", "p_range": [lo_p, hi_p], "direction": "favours-intervention",
                     "quote": q})
    q = t.say(f"Treatment in the {surname} trial was generally well tolerated.")
    findings.append({"id": f"{sid}-well-tolerated", "type": "well-tolerated",
                     "statement": "Treatment was generally well tolerated.", "quote": q})
    shows = primary_est.direction == "favours-intervention"
    verb = "lowers" if shows else "does not clearly lower"
    q = t.say(f"On this evidence, {drug.short} {verb} {chosen[0][2]} in {cond[2]}, as the {surname} trial "
              "reports.")
    claims = [{"id": f"{sid}-claim", "statement": f"{drug.short} {verb} {chosen[0][2]} in {cond[1]}.",
               "about": drug.id, "rests_on": [estimates[0]["id"], findings[0]["id"]], "quote": q}]
    study = {
        "id": sid, "label": f"{surname} et al. {year}: {drug.short} in {cond[1]}", "kind": "rct",
        "publication": pub_id, "design": design, "condition": cond[0], "intervention": drug.id,
        "duration": dur, "region": region, "quote": [q_design, q_dur], "population": population,
        "arms": arms, "outcomes": outcomes, "estimates": estimates, "findings": findings, "claims": claims,
    }
    return study, shows


def _draw(index: int, seed: int, attempt: int) -> tuple[str, dict[str, Any], str]:
    rng = random.Random(f"ivig-kg-synth/{seed}/{index}/{attempt}")
    names = rng.sample(SURNAMES, 6)
    author_surname, study_surnames, ext_surname = names[0], names[1:4], names[4]
    aid = f"synth-{index:05d}-{_slug(author_surname)}"
    a = _Article(aid, rng)
    t = a.text
    drug = DRUGS[0] if rng.random() < 0.5 else rng.choice(DRUGS)
    cond = rng.choice(CONDITIONS)
    alternatives = rng.sample([d for d in DRUGS if d.id != drug.id], 3)
    author = f"{rng.choice(GIVEN)} {rng.choice(INITIALS)}. {author_surname}"
    position, affiliation, role = rng.choice(POSITIONS), rng.choice(AFFILIATIONS), rng.choice(ROLES)

    title = f"{rng.choice(TITLE_WORDS)} {drug.short} Treatment in {cond[1][0].upper()}{cond[1][1:]}"
    section = "Abstracts & Commentary"
    synopsis = (f"{drug.short} treatment given to patients with {cond[2]} was studied in three trials by "
                f"{', '.join(study_surnames[:2])} and {study_surnames[2]}, with conflicting results.")
    t.para()
    t.say(title)
    t.para()
    t.say(section)
    t.para()
    t.say(f"Synopsis: {synopsis}")

    publications: list[dict[str, Any]] = []
    cites = []
    for surname in study_surnames:
        year = rng.randint(1995, 2024)
        journal = rng.choice(JOURNALS)
        volume = str(rng.randint(10, 400))
        first = rng.randint(100, 2900)
        pages = f"{first}-{first + rng.randint(4, 12)}"
        ptitle = (f"{rng.choice(('Randomised Trial of', 'Efficacy of', 'A Controlled Study of'))} "
                  f"{drug.label[0].upper()}{drug.label[1:]} in {cond[1][0].upper()}{cond[1][1:]}")
        pid = f"{_slug(surname)}-{year}-article"
        authors = f"{surname} {rng.choice(INITIALS)}, et al."
        publications.append({"id": pid, "authors": authors, "title": ptitle, "journal": journal, "year": year,
                             "volume": volume, "pages": pages,
                             "quote": f"{authors} {ptitle}. {journal}. {year};{volume}:{pages}"})
        cites.append(pid)
    t.para()
    t.say("Sources: " + "; ".join(p["quote"] for p in publications) + ".")

    studies = []
    benefit_at = rng.randrange(3)
    shows_benefit = []
    for k, (surname, pub) in enumerate(zip(study_surnames, publications, strict=True)):
        study, shows = _study(a, surname, pub["year"], drug, cond, k == benefit_at, pub["id"])
        studies.append(study)
        if shows:
            shows_benefit.append(study["id"])

    # external comparator, cited inline
    alt = alternatives[0]
    a.concept(alt.id, alt.label, "intervention")
    ext_year, ext_journal = rng.randint(1995, 2024), rng.choice(JOURNALS)
    ext_vol, ext_first = str(rng.randint(10, 400)), rng.randint(100, 2900)
    ext_pages = f"{ext_first}-{ext_first + rng.randint(4, 12)}"
    ext_pid = f"{_slug(ext_surname)}-{ext_year}-article"
    citation = f"{ext_journal}. {ext_year};{ext_vol}:{ext_pages}"
    publications.append({"id": ext_pid, "journal": ext_journal, "year": ext_year, "volume": ext_vol,
                         "pages": ext_pages, "quote": citation})
    cites.append(ext_pid)
    t.para()
    q_ctl = t.say(f"The use of {drug.short} in the treatment of {cond[1]} remains controversial, despite "
                  "conflicting clinical efficacy data.")
    n = len(shows_benefit)
    count = {0: "None of the 3 studies above showed", 1: "Only 1 study above showed",
             2: "Only 2 of the 3 studies above showed", 3: "All 3 studies above showed"}[n]
    q_count = t.say(f"{count} a benefit of {drug.short} on its primary end point.")
    q_ext = t.say(f"However, in a similar study design using {alt.label}, there was a substantially better "
                  f"reduction in clinical attacks and brain MRI findings ({citation}).")
    alts = [a.concept(d.id, d.label, "intervention") for d in alternatives]
    q_routine = t.say(f"Thus, the routine use of {drug.short} for {cond[1]} cannot be justified given the "
                      f"availability of other therapies ({', '.join(d.label for d in alternatives)}) that "
                      "appear more beneficial.")
    t.say(f"\u2014 {author}")
    t.para()
    q_person = t.say(f"Dr. {author_surname}, {position}, {affiliation}, is {role}.")
    studies.append({"id": f"{_slug(ext_surname)}-{ext_year}",
                    "label": f"{ext_journal} {ext_year}: study of {alt.label}", "kind": "external-comparator",
                    "publication": ext_pid, "intervention": alt.id, "compared_with": [studies[0]["id"]],
                    "quote": q_ext,
                    "population": {"id": f"{_slug(ext_surname)}-{ext_year}-population",
                                   "description": "Patients in a similar study design", "quote": q_ext}})
    study_ids = [s["id"] for s in studies[:3]]
    claim_count: dict[str, Any] = {
        "id": "claim-benefit-count",
        "statement": f"{n} of the three studies showed a benefit of {drug.short} on its primary end point.",
        "about": drug.id, "studies_showing_benefit": n, "studies_considered": 3,
        "rests_on": study_ids + [s["estimates"][0]["id"] for s in studies[:3]], "quote": q_count}
    if n == 1:
        claim_count["identifies"] = shows_benefit[0]
    claims = [
        {"id": "claim-controversial", "statement": f"The use of {drug.short} in {cond[1]} remains controversial.",
         "about": drug.id, "rests_on": study_ids, "quote": q_ctl},
        claim_count,
        {"id": "claim-alternative-better",
         "statement": f"In a similar study design, {alt.label} gave a better reduction in attacks than "
                      f"{drug.short}.", "about": drug.id, "alternatives": [alt.id],
         "rests_on": [studies[-1]["id"], studies[0]["id"]], "quote": q_ext},
        {"id": "claim-routine-use-not-justified",
         "statement": f"The routine use of {drug.short} for {cond[1]} cannot be justified given other therapies.",
         "about": drug.id, "alternatives": alts, "rests_on": ["claim-benefit-count", "claim-alternative-better"],
         "quote": q_routine},
    ]
    person_id = _slug(author_surname)
    data: dict[str, Any] = {
        "format": "ivig-kg/1",
        "commentary": {"id": aid, "title": title, "section": section, "synopsis": synopsis, "author": person_id,
                       "cites": cites},
        "people": [{"id": person_id, "name": author, "position": position, "affiliation": affiliation,
                    "editorial_role": role, "quote": [author, q_person.split(", ", 1)[1]]}],
        "publications": publications,
        "concepts": sorted(a.concepts.values(), key=lambda c: (c["kind"], c["id"])),
        "studies": studies,
        "claims": claims,
    }
    return aid, data, t.render()


def _quotes(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "quote":
                yield from ([value] if isinstance(value, str) else value)
            else:
                yield from _quotes(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _quotes(item)


def _unique(text: str, quote: str) -> bool:
    first = text.find(quote)
    return first >= 0 and text.find(quote, first + 1) < 0


def article(index: int, seed: int = 0) -> tuple[str, str, str]:
    """Synthetic article ``index``: ``(name, yaml_text, article_text)``.

    A draw whose quotes are not each found exactly once in its text (a chance
    collision of generated sentences) is redrawn, deterministically.
    """
    for attempt in range(20):
        name, data, text = _draw(index, seed, attempt)
        c = data["commentary"]
        quotes = [c["title"], c["section"], c["synopsis"], *_quotes(data)]
        if all(_unique(text, q) for q in quotes):
            header = (f"# Synthetic article {index} (seed {seed}) generated by `ivig-kg synth`: invented trials,\n"
                      "# not real evidence. Text beside this file; every quote occurs once in it.\n\n")
            return name, header + dump_yaml(data), text
    raise RuntimeError(f"could not draw article {index} with unique quotes")  # pragma: no cover


_PLAIN_RE = re.compile(r"^(?:[a-z][a-z0-9-]*|P[0-9A-Z.]+|PT[0-9A-Z.]+)$")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "nan", "inf"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _txt(value)
    if isinstance(value, str):
        if _PLAIN_RE.match(value) and value not in _YAML_WORDS:
            return value
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    raise TypeError(f"cannot write {type(value).__name__} to YAML")


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            nested = isinstance(item, dict) or (isinstance(item, list) and any(isinstance(x, dict) for x in item))
            if nested and item:
                out.append(f"{pad}{key}:\n")
                _emit(item, indent + 2, out)
            elif isinstance(item, list):
                out.append(f"{pad}{key}: [{', '.join(_scalar(x) for x in item)}]\n")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                sub[0] = pad + "- " + sub[0][indent + 2:]
                out.extend(sub)
            else:
                out.append(f"{pad}- {_scalar(item)}\n")


def dump_yaml(data: dict[str, Any]) -> str:
    """Block-style YAML, byte-stable: keys in insertion order, numbers with their exact digits."""
    out: list[str] = []
    for key, value in data.items():
        _emit({key: value}, 0, out)
        out.append("\n")
    return "".join(out)


@dataclass
class SynthReport:
    out: Path
    sources: list[Path] = field(default_factory=list)


def generate(articles: int, out: Path, seed: int = 0) -> SynthReport:
    """Write ``articles`` synthetic source files (each ``.yaml`` + ``.txt``) into directory ``out``."""
    if articles < 1:
        raise UsageError(f"--articles must be at least 1, got {articles}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out}: {exc.strerror}") from None
    report = SynthReport(out)
    for i in range(articles):
        name, yaml_text, text = article(i, seed)
        (out / f"{name}.txt").write_text(text, encoding="utf-8")
        path = out / f"{name}.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        report.sources.append(path)
    return report


def articles_for(triples: int) -> int:
    """How many articles give about ``triples`` quads, counting the ontology graph."""
    return max(1, round((triples - ONTOLOGY_TRIPLES) / TRIPLES_PER_ARTICLE))
