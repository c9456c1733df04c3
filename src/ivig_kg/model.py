"""The source format: a curated, quote-backed description of one article.

One YAML file ``data/articles/<name>.yaml`` sits beside the article text
``<name>.txt``. Every fact-bearing entry carries ``quote``: exact text of the
article that states it. ``ivig-kg schema`` prints this model as JSON Schema.

Enumerated values are kebab-case words (``rate-ratio``, ``double-blind``);
the mappings below turn them into ontology individuals.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

FORMAT_VERSION = "ivig-kg/1"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# xsd:duration, with at least one component and no negative sign (durations here are lengths)
_DURATION_RE = re.compile(
    r"^P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$"
)

UNITS: dict[str, str] = {
    "g/kg": "gram per kilogram of body weight",
    "mg/kg": "milligram per kilogram of body weight",
    "g": "gram",
    "mg": "milligram",
    "ug": "microgram",
    "g/d": "gram per day",
    "mg/d": "milligram per day",
    "ug/wk": "microgram per week",
    "a": "year (age)",
    "mo": "month",
    "wk": "week",
    "d": "day",
    "h": "hour",
    "%": "percent",
    "{score}": "score on a clinical scale",
    "1": "dimensionless",
    "/a": "per year",
}
"""UCUM codes accepted in ``unit:``; a unit outside this list is an error, not a guess."""

DESIGN_FEATURES = {
    "randomized": "Randomized",
    "double-blind": "DoubleBlind",
    "placebo-controlled": "PlaceboControlled",
    "parallel-group": "ParallelGroup",
    "multicentre": "Multicentre",
}
DOSE_ROLES = {
    "loading": "LoadingDose",
    "booster": "BoosterDose",
    "single": "SingleDose",
    "monthly": "MonthlyDose",
    "daily": "DailyDose",
    "maintenance": "MaintenanceDose",
}
ROUTES = {
    "intravenous": "Intravenous",
    "intramuscular": "Intramuscular",
    "subcutaneous": "Subcutaneous",
    "oral": "Oral",
}
MEASURE_TYPES = {
    "rate-ratio": "RateRatio",
    "hazard-ratio": "HazardRatio",
    "odds-ratio": "OddsRatio",
    "risk-ratio": "RiskRatio",
    "mean-difference": "MeanDifference",
    "event-rate": "EventRate",
}
DIRECTIONS = {
    "favours-intervention": "FavoursIntervention",
    "favours-comparator": "FavoursComparator",
    "no-difference": "NoDifference",
}
FINDING_TYPES = {
    "significant-difference": "SignificantDifference",
    "no-significant-difference": "NoSignificantDifference",
    "no-beneficial-effect": "NoBeneficialEffect",
    "both-arms-improved": "BothArmsImproved",
    "same-in-both-arms": "SameInBothArms",
    "well-tolerated": "WellTolerated",
}
CHARACTERISTIC_TYPES = {
    "mean-age": "MeanAge",
    "mean-edss": "MeanEDSS",
    "share-with-prior-relapse": "ShareWithPriorRelapse",
}
CONCEPT_KINDS = {"condition": "Condition", "intervention": "Intervention", "measure": "Measure"}
ARM_ROLES = {"experimental": "ExperimentalArm", "placebo": "PlaceboArm", "active": "Arm"}


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(f"{value!r} is not a valid id: an id is lowercase letters, digits and hyphens, "
                         "starting with a letter or digit (such as achiron-2004)")
    return value


def _check_duration(value: str) -> str:
    if not _DURATION_RE.match(value):
        raise ValueError(
            f"{value!r} is not an ISO 8601 duration such as P6W, P1Y, P3M or PT24H"
        )
    if not re.search(r"[1-9]", value):
        raise ValueError(f"duration {value!r} is zero; durations must be positive")
    return value


def _check_unit(value: str) -> str:
    if value not in UNITS:
        raise ValueError(f"unknown unit {value!r}{_did_you_mean(value, UNITS)}; "
                         f"use a UCUM code, one of: {', '.join(UNITS)}")
    return value


def _did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _enum(mapping: dict[str, str]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in mapping:
            raise ValueError(f"unknown value {value!r}{_did_you_mean(value, mapping)}; "
                             f"expected one of: {', '.join(mapping)}")
        return value

    return AfterValidator(check)


Id = Annotated[str, AfterValidator(_check_id)]
Duration = Annotated[str, AfterValidator(_check_duration)]
Unit = Annotated[str, AfterValidator(_check_unit)]
Quote = Annotated[str, Field(min_length=3)]
Quotes = Quote | list[Quote]
Positive = Annotated[Decimal, Field(gt=0)]
Probability = Annotated[Decimal, Field(ge=0, le=1)]


class Strict(BaseModel):
    """Base of every entry: unknown keys are errors (typos must not vanish silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(Strict):
    """An entry that states facts, with the quote(s) that state them."""

    id: Id
    quote: Quotes = Field(description="Exact text of the article stating this entry's facts.")

    @property
    def quotes(self) -> list[str]:
        return [self.quote] if isinstance(self.quote, str) else list(self.quote)


class Person(Fact):
    name: str
    position: str | None = None
    affiliation: str | None = None
    editorial_role: str | None = None


class Commentary(Strict):
    """The article itself: a commentary on the publications it cites."""

    id: Id
    text: Annotated[str, Field(pattern=r"^[^/\\]+$")] | None = Field(
        None, description="Text file name beside the YAML (no directories); default <name>.txt")
    title: str
    section: str | None = None
    synopsis: str | None = None
    author: Id | None = Field(None, description="id of a person")
    journal: str | None = None
    cites: list[Id] = Field(default_factory=list, description="ids of publications")


class Publication(Fact):
    authors: str | None = Field(None, description="Authors as printed, e.g. 'Achiron A, et al.'")
    title: str | None = None
    journal: str
    year: Annotated[int, Field(ge=1800, le=2100)]
    volume: str | None = None
    pages: Annotated[str, Field(pattern=r"^\d+(-\d+)?$")] | None = None


class Concept(Strict):
    """A condition, intervention or measure the article names; mapped to external terms."""

    id: Id
    label: str
    kind: Annotated[str, _enum(CONCEPT_KINDS)]
    quote: Quotes | None = None


class Characteristic(Fact):
    type: Annotated[str, _enum(CHARACTERISTIC_TYPES)]
    value: Decimal
    unit: Unit


class Population(Fact):
    description: str
    condition: Id | None = Field(None, description="id of a condition concept")
    enrollment_window: Duration | None = Field(None, description="time from the index event")
    size: Annotated[int, Field(gt=0)] | None = None
    characteristics: list[Characteristic] = Field(default_factory=list)


class Schedule(Fact):
    interval: Duration | None = None
    duration: Duration | None = None
    administrations: Annotated[int, Field(gt=0)] | None = None
    consecutive_days: Annotated[int, Field(gt=0)] | None = None


class Timing(Strict):
    """A dose given some time before or after another dose."""

    before: Id | None = Field(None, description="id of the later dose")
    after: Id | None = Field(None, description="id of the earlier dose")
    offset: Duration

    @model_validator(mode="after")
    def _one_anchor(self) -> Timing:
        if (self.before is None) == (self.after is None):
            raise ValueError("give exactly one of 'before' or 'after'")
        return self


class Dose(Fact):
    intervention: Id
    amount: Positive | None = None
    unit: Unit | None = None
    route: Annotated[str, _enum(ROUTES)] | None = None
    role: Annotated[str, _enum(DOSE_ROLES)] | None = None
    schedule: Schedule | None = None
    timing: Timing | None = None

    @model_validator(mode="after")
    def _amount_has_unit(self) -> Dose:
        if (self.amount is None) != (self.unit is None):
            raise ValueError("'amount' and 'unit' go together")
        if self.amount is not None and self.amount <= 0:
            raise ValueError(f"dose amount must be positive, got {self.amount}")
        return self


class Arm(Fact):
    label: str
    role: Annotated[str, _enum(ARM_ROLES)]
    intervention: Id
    doses: list[Dose] = Field(default_factory=list)
    follows_schedule: Id | None = Field(None, description="id of a schedule of another arm")


class Outcome(Fact):
    label: str
    primary: bool = False
    measure: Id | None = Field(None, description="id of a measure concept")
    assessment_interval: Duration | None = None
    assessment_timepoints: str | None = None


class CI(Strict):
    lower: Decimal
    upper: Decimal
    level: Annotated[Decimal, Field(gt=0, lt=1)] = Decimal("0.95")

    @model_validator(mode="after")
    def _ordered(self) -> CI:
        if self.lower > self.upper:
            raise ValueError(f"CI lower bound {self.lower} is above the upper bound {self.upper} "
                             "(write the interval as {lower: ..., upper: ...} with lower <= upper)")
        return self


class PValued(Fact):
    p_value: Probability | None = None
    p_range: tuple[Probability, Probability] | None = None

    @model_validator(mode="after")
    def _p_range_ordered(self) -> PValued:
        if self.p_range is not None and self.p_range[0] > self.p_range[1]:
            raise ValueError("p_range must be [low, high]")
        if self.p_value is not None and self.p_range is not None:
            raise ValueError("give p_value or p_range, not both")
        return self


class Estimate(PValued):
    outcome: Id
    measure: Annotated[str, _enum(MEASURE_TYPES)]
    value: Decimal
    ci: CI | None = None
    arms: tuple[Id, Id] | None = Field(None, description="[experimental arm, comparator arm]")
    arm: Id | None = Field(None, description="the arm, for a single-arm figure such as a rate")
    direction: Annotated[str, _enum(DIRECTIONS)] | None = None

    @model_validator(mode="after")
    def _arms(self) -> Estimate:
        if (self.arms is None) == (self.arm is None):
            raise ValueError("give 'arms: [experimental, comparator]' or 'arm:' (one arm), not both")
        if self.arms is not None and self.arms[0] == self.arms[1]:
            raise ValueError(f"an estimate compares two different arms, got {self.arms[0]!r} twice")
        if self.arm is not None and self.ci is not None:
            raise ValueError("a single-arm figure has no comparison CI here")
        return self


class Finding(PValued):
    type: Annotated[str, _enum(FINDING_TYPES)]
    statement: str
    outcome: Id | None = None
    direction: Annotated[str, _enum(DIRECTIONS)] | None = None


class Claim(Fact):
    statement: str
    rests_on: list[Id] = Field(default_factory=list, description="ids of studies, estimates, findings, claims")
    about: Id | None = Field(None, description="id of the intervention concept the claim is about")
    alternatives: list[Id] = Field(default_factory=list, description="ids of intervention concepts")
    identifies: Id | None = Field(None, description="id of a study the claim singles out")
    studies_showing_benefit: Annotated[int, Field(ge=0)] | None = None
    studies_considered: Annotated[int, Field(ge=0)] | None = None


class Study(Fact):
    label: str
    kind: Literal["rct", "external-comparator"] = "rct"
    publication: Id
    design: list[Annotated[str, _enum(DESIGN_FEATURES)]] = Field(default_factory=list)
    condition: Id | None = None
    intervention: Id | None = Field(None, description="the intervention under study")
    duration: Duration | None = None
    region: str | None = None
    research_question: str | None = None
    compared_with: list[Id] = Field(default_factory=list)
    population: Population | None = None
    arms: list[Arm] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    estimates: list[Estimate] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)


class NotModeled(Strict):
    """A number of the text deliberately left out of the graph, and why (see ``ivig-kg audit``)."""

    text: str
    reason: str
    quote: Quote | None = Field(None, description="context that locates the number when it recurs")


class Article(Strict):
    """One curated article: the root of a source file."""

    format: Literal["ivig-kg/1"] = Field(description="source format version")
    commentary: Commentary
    people: list[Person] = Field(default_factory=list)
    publications: list[Publication] = Field(default_factory=list)
    concepts: list[Concept] = Field(default_factory=list)
    studies: list[Study] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    not_modeled: list[NotModeled] = Field(default_factory=list)
