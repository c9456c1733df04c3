"""Turn a checked source article into N-Quads: the facts plus their provenance.

The output is N-Quads text rather than term objects: building strings is
several times cheaper than building pyoxigraph terms in Python, and the store
bulk-loads the text directly. No blank nodes are minted, so the same input
always gives the same quads.

Provenance pattern (W3C Web Annotation + PROV-O), for each fact-bearing node::

    <node> prov:wasDerivedFrom <.../_/quote/START-END> .
    <.../_/quote/START-END> a oa:SpecificResource ; oa:hasSource <.../_/text> ;
        oa:hasSelector <.../quote/START-END/exact>, <.../quote/START-END/position> .
    <.../exact> a oa:TextQuoteSelector ; oa:exact "..." ; oa:prefix "..." ; oa:suffix "..." .
    <.../position> a oa:TextPositionSelector ; oa:start START ; oa:end END .
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from ivig_kg import model as m
from ivig_kg.sourcefile import SourceArticle
from ivig_kg.vocab import (
    CONCEPTS_GRAPH,
    DCT,
    FOAF,
    OA,
    PROV,
    RDF,
    RDFS,
    SKOS,
    XSD,
    article_graph_iri,
    concept_iri,
    resource_iri,
    term,
)

CONTEXT_CHARS = 32
"""Characters of text kept as oa:prefix / oa:suffix around each quote."""

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_ESCAPE_RE = re.compile(r'[\\"\n\r]')
_WEEKS_RE = re.compile(r"^P(\d+)W$")

A = f"<{RDF}type>"


def iri(value: str) -> str:
    return f"<{value}>"


def lit(value: str) -> str:
    return '"' + _ESCAPE_RE.sub(lambda mt: _ESCAPES[mt.group()], value) + '"'


def typed(value: str, datatype: str) -> str:
    return f"{lit(value)}^^<{XSD}{datatype}>"


def decimal(value: Decimal) -> str:
    return typed(format(value, "f"), "decimal")


def integer(value: int) -> str:
    return typed(str(value), "integer")


def boolean(value: bool) -> str:
    return typed("true" if value else "false", "boolean")


def duration(value: str) -> str:
    """An xsd:duration literal; ISO weeks (P6W), which xsd:duration lacks, become days."""
    weeks = _WEEKS_RE.match(value)
    return typed(f"P{int(weeks.group(1)) * 7}D" if weeks else value, "duration")


def en(value: str) -> str:
    return lit(value) + "@en"


def v(local: str) -> str:
    """An ontology term as an N-Quads IRI."""
    return iri(term(local))


class _Writer:
    """Collects the quads of one article graph."""

    def __init__(self, src: SourceArticle):
        self.src = src
        self.aid = src.id
        self.graph = iri(article_graph_iri(self.aid))
        self.lines: list[str] = []
        self._quotes_done: set[str] = set()

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} {self.graph} .\n")

    def node(self, ident: str) -> str:
        return iri(resource_iri(self.aid, ident))

    def doc(self) -> str:
        return iri(resource_iri(self.aid, "_", "text"))

    def types(self, s: str, *classes: str) -> None:
        for c in classes:
            self.add(s, A, v(c))

    def opt(self, s: str, p: str, value: str | None) -> None:
        if value is not None:
            self.add(s, p, value)

    def provenance(self, s: str, quotes: Iterable[str]) -> None:
        for q in quotes:
            span = self.src.spans[q]
            qiri = resource_iri(self.aid, "_", "quote", f"{span.start}-{span.end}")
            self.add(s, f"<{PROV}wasDerivedFrom>", iri(qiri))
            if qiri in self._quotes_done:
                continue
            self._quotes_done.add(qiri)
            text = self.src.text
            quote, exact, pos = iri(qiri), iri(qiri + "/exact"), iri(qiri + "/position")
            self.add(quote, A, f"<{OA}SpecificResource>")
            self.add(quote, f"<{OA}hasSource>", self.doc())
            self.add(quote, f"<{OA}hasSelector>", exact)
            self.add(quote, f"<{OA}hasSelector>", pos)
            self.add(exact, A, f"<{OA}TextQuoteSelector>")
            self.add(exact, f"<{OA}exact>", lit(span.quote))
            self.add(exact, f"<{OA}prefix>", lit(text[max(0, span.start - CONTEXT_CHARS): span.start]))
            self.add(exact, f"<{OA}suffix>", lit(text[span.end: span.end + CONTEXT_CHARS]))
            self.add(pos, A, f"<{OA}TextPositionSelector>")
            self.add(pos, f"<{OA}start>", typed(str(span.start), "nonNegativeInteger"))
            self.add(pos, f"<{OA}end>", typed(str(span.end), "nonNegativeInteger"))

    # --- entities ---------------------------------------------------------------

    def commentary(self, c: m.Commentary, studies: list[m.Study]) -> None:
        s = iri(resource_iri(self.aid))
        self.types(s, "Commentary", "Publication")
        self.add(s, f"<{DCT}title>", en(c.title))
        self.add(s, f"<{RDFS}label>", en(c.title))
        self.opt(s, v("section"), en(c.section) if c.section else None)
        self.opt(s, v("synopsis"), en(c.synopsis) if c.synopsis else None)
        self.opt(s, v("journal"), lit(c.journal) if c.journal else None)
        if c.author:
            self.add(s, v("author"), self.node(c.author))
        for pub in c.cites:
            self.add(s, v("cites"), self.node(pub))
        for study in studies:
            self.add(s, v("discusses"), self.node(study.id))
        self.add(s, v("hasSourceDocument"), self.doc())
        self.provenance(s, [q for q in (c.title, c.section, c.synopsis) if q])
        d = self.doc()
        self.types(d, "SourceDocument")
        self.add(d, f"<{RDFS}label>", lit(self.src.text_path.name))
        self.add(d, f"<{DCT}format>", lit("text/plain"))
        self.add(d, v("text"), lit(self.src.text))

    def person(self, p: m.Person) -> None:
        s = self.node(p.id)
        self.types(s, "Person")
        self.add(s, f"<{RDFS}label>", lit(p.name))
        self.add(s, f"<{FOAF}name>", lit(p.name))
        self.opt(s, v("position"), en(p.position) if p.position else None)
        self.opt(s, v("affiliation"), lit(p.affiliation) if p.affiliation else None)
        self.opt(s, v("editorialRole"), en(p.editorial_role) if p.editorial_role else None)
        self.provenance(s, p.quotes)

    def publication(self, p: m.Publication) -> None:
        s = self.node(p.id)
        self.types(s, "Publication")
        first = p.authors.split(",")[0].split()[0] if p.authors else p.journal
        self.add(s, f"<{RDFS}label>", lit(f"{first} {p.year}"))
        self.opt(s, f"<{DCT}title>", en(p.title) if p.title else None)
        self.opt(s, v("authorString"), lit(p.authors) if p.authors else None)
        self.add(s, v("journal"), lit(p.journal))
        self.add(s, v("year"), typed(str(p.year), "gYear"))
        self.opt(s, v("volume"), lit(p.volume) if p.volume else None)
        if p.pages:
            first_page, _, last_page = p.pages.partition("-")
            self.add(s, v("pageStart"), lit(first_page))
            self.opt(s, v("pageEnd"), lit(last_page) if last_page else None)
        self.provenance(s, p.quotes)

    def concept(self, c: m.Concept) -> None:
        """Only the article's quote of a concept; its types and labels go to the concepts graph."""
        if c.quote:
            self.provenance(iri(concept_iri(c.id)), [c.quote] if isinstance(c.quote, str) else c.quote)

    def study(self, st: m.Study) -> None:
        s = self.node(st.id)
        self.types(s, "Study", "RandomizedControlledTrial" if st.kind == "rct" else "ExternalComparatorStudy")
        if st.kind != "rct":
            self.types(s, "Comparator")
        self.add(s, f"<{RDFS}label>", lit(st.label))
        self.add(s, v("reportedIn"), self.node(st.publication))
        for feature in st.design:
            self.add(s, v("hasDesignFeature"), v(m.DESIGN_FEATURES[feature]))
        self.opt(s, v("studiesCondition"), iri(concept_iri(st.condition)) if st.condition else None)
        self.opt(s, v("hasIntervention"), iri(concept_iri(st.intervention)) if st.intervention else None)
        self.opt(s, v("studyDuration"), duration(st.duration) if st.duration else None)
        self.opt(s, v("region"), en(st.region) if st.region else None)
        self.opt(s, v("researchQuestion"), en(st.research_question) if st.research_question else None)
        for other in st.compared_with:
            self.add(s, v("comparedWith"), self.node(other))
        self.provenance(s, st.quotes)
        if st.population:
            self.add(s, v("hasPopulation"), self.node(st.population.id))
            self.population(st.population)
        for arm in st.arms:
            self.add(s, v("hasArm"), self.node(arm.id))
            self.arm(arm)
        for out in st.outcomes:
            self.add(s, v("hasOutcome"), self.node(out.id))
            self.outcome(out)
        for est in st.estimates:
            self.add(s, v("hasEstimate"), self.node(est.id))
            self.estimate(est)
        for f in st.findings:
            self.add(s, v("hasFinding"), self.node(f.id))
            self.finding(f)
        for cl in st.claims:
            self.claim(cl, s)

    def population(self, p: m.Population) -> None:
        s = self.node(p.id)
        self.types(s, "Population")
        self.add(s, f"<{RDFS}label>", en(p.description))
        self.add(s, v("eligibility"), en(p.description))
        self.opt(s, v("hasCondition"), iri(concept_iri(p.condition)) if p.condition else None)
        self.opt(s, v("enrollmentWindow"), duration(p.enrollment_window) if p.enrollment_window else None)
        self.opt(s, v("sampleSize"), integer(p.size) if p.size is not None else None)
        self.provenance(s, p.quotes)
        for ch in p.characteristics:
            c = self.node(ch.id)
            self.add(s, v("hasCharacteristic"), c)
            self.types(c, "PopulationCharacteristic")
            self.add(c, f"<{RDFS}label>", en(ch.type.replace("-", " ").replace("edss", "EDSS")))
            self.add(c, v("characteristicType"), v(m.CHARACTERISTIC_TYPES[ch.type]))
            self.add(c, v("value"), decimal(ch.value))
            self.add(c, v("unitCode"), lit(ch.unit))
            self.provenance(c, ch.quotes)

    def arm(self, a: m.Arm) -> None:
        s = self.node(a.id)
        self.types(s, "Arm", m.ARM_ROLES[a.role])
        if a.role == "placebo":
            self.types(s, "Comparator")
        self.add(s, f"<{RDFS}label>", en(a.label))
        self.add(s, v("hasIntervention"), iri(concept_iri(a.intervention)))
        self.opt(s, v("followsSchedule"), self.node(a.follows_schedule) if a.follows_schedule else None)
        self.provenance(s, a.quotes)
        for dose in a.doses:
            self.add(s, v("hasDose"), self.node(dose.id))
            self.dose(dose)

    def dose(self, d: m.Dose) -> None:
        s = self.node(d.id)
        self.types(s, "Dose")
        self.add(s, v("ofIntervention"), iri(concept_iri(d.intervention)))
        if d.amount is not None and d.unit is not None:
            self.add(s, v("amount"), decimal(d.amount))
            self.add(s, v("unitCode"), lit(d.unit))
            self.add(s, v("perBodyWeight"), boolean(d.unit.endswith("/kg")))
            label = f"{d.intervention} {format(d.amount, 'f')} {d.unit}" + (f" {d.role} dose" if d.role else "")
        else:
            label = f"{d.intervention}" + (f" {d.role} dose" if d.role else " dose")
        self.add(s, f"<{RDFS}label>", en(label))
        self.opt(s, v("route"), v(m.ROUTES[d.route]) if d.route else None)
        self.opt(s, v("doseRole"), v(m.DOSE_ROLES[d.role]) if d.role else None)
        if d.timing:
            anchor = d.timing.before or d.timing.after
            assert anchor is not None
            self.add(s, v("givenBefore" if d.timing.before else "givenAfter"), self.node(anchor))
            self.add(s, v("timeOffset"), duration(d.timing.offset))
        self.provenance(s, d.quotes)
        if d.schedule:
            self.add(s, v("hasSchedule"), self.node(d.schedule.id))
            self.schedule(d.schedule)

    def schedule(self, sc: m.Schedule) -> None:
        s = self.node(sc.id)
        self.types(s, "DosingSchedule")
        self.add(s, f"<{RDFS}label>", lit(sc.id.replace("-", " ")))
        self.opt(s, v("interval"), duration(sc.interval) if sc.interval else None)
        self.opt(s, v("duration"), duration(sc.duration) if sc.duration else None)
        self.opt(s, v("administrations"), integer(sc.administrations) if sc.administrations else None)
        self.opt(s, v("consecutiveDays"), integer(sc.consecutive_days) if sc.consecutive_days else None)
        self.provenance(s, sc.quotes)

    def outcome(self, o: m.Outcome) -> None:
        s = self.node(o.id)
        self.types(s, "Outcome")
        self.add(s, f"<{RDFS}label>", en(o.label))
        self.add(s, v("isPrimary"), boolean(o.primary))
        self.opt(s, v("measuredBy"), iri(concept_iri(o.measure)) if o.measure else None)
        self.opt(s, v("assessmentInterval"), duration(o.assessment_interval) if o.assessment_interval else None)
        self.opt(s, v("assessmentTimepoint"), en(o.assessment_timepoints) if o.assessment_timepoints else None)
        self.provenance(s, o.quotes)

    def p_values(self, s: str, item: m.PValued) -> None:
        if item.p_value is not None:
            self.add(s, v("pValue"), decimal(item.p_value))
        if item.p_range is not None:
            self.add(s, v("pValueMin"), decimal(item.p_range[0]))
            self.add(s, v("pValueMax"), decimal(item.p_range[1]))

    def estimate(self, e: m.Estimate) -> None:
        s = self.node(e.id)
        self.types(s, "Estimate", "EffectEstimate" if e.arms else "ArmEstimate")
        measure = m.MEASURE_TYPES[e.measure]
        self.add(s, f"<{RDFS}label>", en(f"{e.measure.replace('-', ' ')} {format(e.value, 'f')}"))
        self.add(s, v("estimates"), self.node(e.outcome))
        self.add(s, v("measureType"), v(measure))
        self.add(s, v("pointEstimate"), decimal(e.value))
        if e.ci:
            self.add(s, v("ciLower"), decimal(e.ci.lower))
            self.add(s, v("ciUpper"), decimal(e.ci.upper))
            self.add(s, v("ciLevel"), decimal(e.ci.level))
        self.p_values(s, e)
        if e.arms:
            self.add(s, v("experimentalArm"), self.node(e.arms[0]))
            self.add(s, v("comparatorArm"), self.node(e.arms[1]))
        if e.arm:
            self.add(s, v("ofArm"), self.node(e.arm))
        self.opt(s, v("direction"), v(m.DIRECTIONS[e.direction]) if e.direction else None)
        self.provenance(s, e.quotes)

    def finding(self, f: m.Finding) -> None:
        s = self.node(f.id)
        self.types(s, "Finding")
        self.add(s, f"<{RDFS}label>", en(f.statement))
        self.add(s, v("statement"), en(f.statement))
        self.add(s, v("findingType"), v(m.FINDING_TYPES[f.type]))
        self.opt(s, v("aboutOutcome"), self.node(f.outcome) if f.outcome else None)
        self.opt(s, v("direction"), v(m.DIRECTIONS[f.direction]) if f.direction else None)
        self.p_values(s, f)
        self.provenance(s, f.quotes)

    def claim(self, c: m.Claim, by: str) -> None:
        s = self.node(c.id)
        self.types(s, "Claim")
        self.add(s, f"<{RDFS}label>", en(c.statement))
        self.add(s, v("statement"), en(c.statement))
        self.add(s, v("claimedBy"), by)
        self.add(by, v("hasClaim"), s)
        for ref in c.rests_on:
            self.add(s, v("restsOn"), self.node(ref))
        self.opt(s, v("aboutIntervention"), iri(concept_iri(c.about)) if c.about else None)
        for alt in c.alternatives:
            self.add(s, v("alternative"), iri(concept_iri(alt)))
        self.opt(s, v("identifiesStudy"), self.node(c.identifies) if c.identifies else None)
        if c.studies_showing_benefit is not None:
            self.add(s, v("studiesShowingBenefit"), integer(c.studies_showing_benefit))
        if c.studies_considered is not None:
            self.add(s, v("studiesConsidered"), integer(c.studies_considered))
        self.provenance(s, c.quotes)


def concept_nquads(concepts: Iterable[m.Concept]) -> Iterator[str]:
    """Types and labels of concepts, once each, in the shared concepts graph.

    Copying them into every article graph would repeat each label once per
    article in the union default graph and multiply the rows of every join
    on it (measured: a 19 s query at 100k triples).
    """
    graph = iri(CONCEPTS_GRAPH)
    for c in concepts:
        s = iri(concept_iri(c.id))
        for cls in ("Concept", m.CONCEPT_KINDS[c.kind]):
            yield f"{s} {A} {v(cls)} {graph} .\n"
        yield f"{s} <{RDFS}label> {en(c.label)} {graph} .\n"
        yield f"{s} <{SKOS}prefLabel> {en(c.label)} {graph} .\n"


def article_nquads(src: SourceArticle) -> Iterator[str]:
    """The N-Quads lines of one article's named graph, in a stable order."""
    w = _Writer(src)
    a = src.article
    w.commentary(a.commentary, a.studies)
    for p in a.people:
        w.person(p)
    for pub in a.publications:
        w.publication(pub)
    for c in a.concepts:
        w.concept(c)
    for st in a.studies:
        w.study(st)
    commentary = iri(resource_iri(w.aid))
    for cl in a.claims:
        w.claim(cl, commentary)
    return iter(w.lines)
