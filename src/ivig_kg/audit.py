"""Numeric audit: does the graph say no more and no less than the article's numbers?

Forward: every number written in an article's text (values, percentages, both
ends of ranges such as 0.15-0.88, doses, durations, years, citation volumes and
pages, even the "2" of "T2") must be carried by a graph literal of a node whose
provenance quote covers that place in the text, or be listed in the source
file's ``not_modeled`` section with a reason.

Reverse: every numeric literal of an article graph must be written in one of
its own node's quotes.

Both sides compare *values*, not strings: Oxigraph canonicalizes literals
(``0.80`` is stored as ``0.8``, ``PT24H`` as ``P1D``), durations are converted
between units (``P42D`` is "6 weeks", ``P1D`` is "24 hours") and a confidence
level is a fraction written as a percentage (``0.95`` is "95%").

The audit reads the built store (literals, ``prov:wasDerivedFrom`` quotes
with their ``oa:TextPositionSelector`` offsets, the stored article text) and
the source files (their ``not_modeled`` lists). It returns an
:class:`AuditReport`; it never prints and never decides to fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ivig_kg.build import discover
from ivig_kg.errors import StoreError
from ivig_kg.sourcefile import SourceArticle, load_source
from ivig_kg.store import GraphStore
from ivig_kg.vocab import IVIG, OA, PREFIXES, PROV, XSD, article_graph_iri, resource_iri

COVERED = "covered"
NOT_MODELED = "not-modeled"
UNCOVERED = "uncovered"

NUMBER_RE = re.compile(r"(?<![0-9])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
"""A number as written in running text: 318, 0.36, 1,000 (no sign: a hyphen is usually a range)."""

CITATION_RE = re.compile(r"(?P<year>\d{4});(?P<volume>\d+)(?:\((?P<issue>\d+)\))?:(?P<page>\d+)(?:-(?P<last>\d+))?")
"""Vancouver-style ``2004;61:1515-1520``: year, volume, (issue), first and last page."""

NUMERIC_DATATYPES = {
    XSD + name for name in (
        "decimal", "integer", "int", "long", "short", "byte", "double", "float", "nonNegativeInteger",
        "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt",
        "unsignedShort", "unsignedByte",
    )
}
TEXT_DATATYPES = {XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
_NUMERIC_TEXT_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")

FRACTION_AS_PERCENT = {IVIG + "ciLevel"}
"""Predicates whose value is a fraction the text writes as a percentage (0.95 -> "95%")."""

_CARDINALS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
              "eleven", "twelve"]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth"]
NUMBER_WORDS: dict[str, int] = {
    **{w: i for i, w in enumerate(_CARDINALS)},
    **{w: i + 1 for i, w in enumerate(_ORDINALS)},
    "single": 1, "once": 1, "twice": 2, "both": 2,
}
"""Numbers a quote may state in words (a claim's "third study" carries studies_considered 3)."""
_WORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)

_DURATION_RE = re.compile(
    r"^P(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = (("weeks", 604800), ("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1))

UNIT_WORDS: dict[str, re.Pattern[str]] = {
    "years": re.compile(r"\b(?:years?|yrs?)\b", re.IGNORECASE),
    "months": re.compile(r"\b(?:months?|mos?)\b", re.IGNORECASE),
    "weeks": re.compile(r"\b(?:weeks?|wks?)\b", re.IGNORECASE),
    "days": re.compile(r"\bdays?\b", re.IGNORECASE),
    "hours": re.compile(r"\b(?:hours?|hrs?)\b", re.IGNORECASE),
    "minutes": re.compile(r"\b(?:minutes?|mins?)\b", re.IGNORECASE),
    "seconds": re.compile(r"\b(?:seconds?|secs?)\b", re.IGNORECASE),
    "%": re.compile(r"^\s?(?:%|percent\b)"),
}
"""How the text names a unit after a number; a converted value matches only with its unit word.

A duration's number must be followed (before any other digit, within a few
words) by its unit: "6 weeks", "2-year", "3 consecutive days", "1g/kg/month";
so P1D matches "24 hours" but not the "1" of "1 g/kg".
"""
_UNIT_WINDOW = 25

_UNIT_AFTER_RE = re.compile(r"^\s?(?:g|mg|µg|ug|mcg|IU|U|mL|ml|L)(?:/(?:kg|d|day|wk|week|m2|h))*(?![A-Za-z])")
_TIME_AFTER_RE = re.compile(
    r"^[\s-]?(?:consecutive\s)?(?:years?|yrs?|months?|mo|weeks?|wks?|days?|hours?|hrs?|h|minutes?|min)\b")


# --- report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphLiteral:
    """One literal of an article graph, with its node (short id) and predicate (prefixed)."""

    node: str
    predicate: str
    value: str
    datatype: str

    def __str__(self) -> str:
        return f"{self.node} {self.predicate} {self.value}"


@dataclass
class TextNumber:
    """A number written in the article text and what accounts for it."""

    text: str
    value: Decimal
    kind: str
    start: int
    end: int
    line: int
    column: int
    context: str
    status: str = UNCOVERED
    covered_by: list[GraphLiteral] = field(default_factory=list)
    reason: str | None = None
    """The ``not_modeled`` reason, when that is what explains the number."""


@dataclass
class LiteralCheck:
    """The reverse check of one numeric literal: is its value written in its own node's quotes?"""

    literal: GraphLiteral
    written_as: str | None
    """What in the quote states it (e.g. "6" for P42D, "third" for 3); None when nothing does."""
    quotes: int
    """How many quotes the literal's node has."""

    @property
    def ok(self) -> bool:
        return self.written_as is not None


@dataclass
class ArticleAudit:
    """The audit of one article graph against its text and source file."""

    article: str
    source: Path
    text_path: Path
    numbers: list[TextNumber] = field(default_factory=list)
    literals: list[LiteralCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Warnings about the ``not_modeled`` list: entries that match no number or are redundant."""

    @property
    def covered(self) -> list[TextNumber]:
        return [n for n in self.numbers if n.status == COVERED]

    @property
    def uncovered(self) -> list[TextNumber]:
        """Numbers no graph literal accounts for (explained or not)."""
        return [n for n in self.numbers if n.status != COVERED]

    @property
    def explained(self) -> list[TextNumber]:
        return [n for n in self.numbers if n.status == NOT_MODELED]

    @property
    def unexplained(self) -> list[TextNumber]:
        return [n for n in self.numbers if n.status == UNCOVERED]

    @property
    def unquoted_literals(self) -> list[LiteralCheck]:
        return [c for c in self.literals if not c.ok]

    @property
    def coverage_percent(self) -> float:
        """Share of the text's numbers in the graph or deliberately not modeled."""
        return 100.0 if not self.numbers else 100.0 * (len(self.numbers) - len(self.unexplained)) / len(self.numbers)

    @property
    def graph_coverage_percent(self) -> float:
        """Share of the text's numbers carried by a graph literal."""
        return 100.0 if not self.numbers else 100.0 * len(self.covered) / len(self.numbers)

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.unquoted_literals


@dataclass
class AuditReport:
    """The audit of every requested article; ``ok`` when nothing is unexplained or unquoted."""

    store: Path
    articles: list[ArticleAudit] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.articles)

    @property
    def numbers(self) -> int:
        return sum(len(a.numbers) for a in self.articles)

    @property
    def unexplained(self) -> list[TextNumber]:
        return [n for a in self.articles for n in a.unexplained]

    @property
    def uncovered(self) -> list[TextNumber]:
        return [n for a in self.articles for n in a.uncovered]

    @property
    def unquoted_literals(self) -> list[LiteralCheck]:
        return [c for a in self.articles for c in a.unquoted_literals]

    @property
    def coverage_percent(self) -> float:
        total = self.numbers
        return 100.0 if not total else 100.0 * (total - len(self.unexplained)) / total

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (Decimals as strings, paths as text)."""
        def lit(g: GraphLiteral) -> dict[str, str]:
            return {"node": g.node, "predicate": g.predicate, "value": g.value, "datatype": g.datatype}

        return {
            "store": str(self.store),
            "ok": self.ok,
            "numbers": self.numbers,
            "coverage_percent": round(self.coverage_percent, 2),
            "uncovered": len(self.uncovered),
            "unexplained": len(self.unexplained),
            "unquoted_literals": len(self.unquoted_literals),
            "articles": [{
                "article": a.article,
                "source": str(a.source),
                "text": str(a.text_path),
                "ok": a.ok,
                "coverage_percent": round(a.coverage_percent, 2),
                "graph_coverage_percent": round(a.graph_coverage_percent, 2),
                "counts": {"numbers": len(a.numbers), "covered": len(a.covered), "not_modeled": len(a.explained),
                           "uncovered": len(a.uncovered), "unexplained": len(a.unexplained),
                           "literals": len(a.literals), "unquoted_literals": len(a.unquoted_literals)},
                "numbers": [{
                    "text": n.text, "value": str(n.value), "kind": n.kind, "line": n.line, "column": n.column,
                    "start": n.start, "end": n.end, "status": n.status, "context": n.context,
                    "covered_by": [lit(g) for g in n.covered_by], "reason": n.reason,
                } for n in a.numbers],
                "literals": [{**lit(c.literal), "written_as": c.written_as, "quotes": c.quotes}
                             for c in a.literals],
                "notes": a.notes,
            } for a in self.articles],
        }


# --- values ------------------------------------------------------------------------------


def duration_values(lexical: str) -> list[tuple[Decimal, str]]:
    """An xsd:duration in every unit the text might use: P42D -> 42 days, 6 weeks, 1008 hours...

    Year-month and day-time parts are converted separately (a month has no
    fixed number of days); conversions needing more than two decimals are left out.
    """
    m = _DURATION_RE.match(lexical.strip())
    if not m or lexical.strip() in {"P", "PT"}:
        return []
    part = {k: Decimal(v) for k, v in m.groupdict().items() if v is not None}
    out: list[tuple[Decimal, str]] = []
    months = part.get("Y", Decimal(0)) * 12 + part.get("M", Decimal(0))
    if months:
        out.append((months, "months"))
        if _plain_number(months / 12):
            out.append((months / 12, "years"))
    seconds = (part.get("W", Decimal(0)) * 604800 + part.get("D", Decimal(0)) * 86400
               + part.get("H", Decimal(0)) * 3600 + part.get("MI", Decimal(0)) * 60 + part.get("S", Decimal(0)))
    if seconds:
        out.extend((seconds / size, unit) for unit, size in _SECONDS if _plain_number(seconds / size))
    return out


def _plain_number(value: Decimal) -> bool:
    """A value a text would write as is (at most two decimals: 6 weeks, 1.5 days; not 0.2142857 weeks)."""
    return value == value.quantize(Decimal("0.01")) and value > 0


Candidate = tuple[Decimal, str | None]
"""A value a literal may be written as, and the unit word that must follow it (None: any)."""


def literal_values(lit: ox.Literal, predicate: str) -> list[Candidate]:
    """The numbers a literal may be written as in the text; empty when it is not numeric."""
    datatype = lit.datatype.value
    lexical = lit.value.strip()
    try:
        if datatype in NUMERIC_DATATYPES:
            value = Decimal(lexical)
            return [(value, None), (value * 100, "%")] if predicate in FRACTION_AS_PERCENT else [(value, None)]
        if datatype == XSD + "duration":
            return [(v, unit) for v, unit in duration_values(lexical)]
        if datatype == XSD + "gYear":
            return [(Decimal(re.match(r"-?\d+", lexical).group()), None)]  # type: ignore[union-attr]
        if datatype in TEXT_DATATYPES and _NUMERIC_TEXT_RE.match(lexical):
            return [(Decimal(lexical), None)]  # a volume "61", a first page "1515"
    except (InvalidOperation, AttributeError):
        return []
    return []


def written_as(number: TextNumber, text: str, candidates: Iterable[Candidate]) -> str | None:
    """The phrase ("0.80", "6 weeks", "95%") in which this number of the text states one of a
    literal's candidate values, with its unit word where the value was converted; None if it does not."""
    for value, unit in candidates:
        if number.value != value:
            continue
        if unit is None:
            return number.text
        after = text[number.end:number.end + _UNIT_WINDOW]
        after = re.split(r"[0-9]", after, maxsplit=1)[0]  # stop at the next number
        found = UNIT_WORDS[unit].search(after)
        if found:
            return number.text + after[:found.end()]
    return None


def _kind(text: str, start: int, end: int, citations: dict[tuple[int, int], str]) -> str:
    """What sort of number this is, from its neighbours (descriptive only: coverage compares values)."""
    if (start, end) in citations:
        return citations[(start, end)]
    token = text[start:end]
    before, after = text[max(0, start - 12):start], text[end:end + 24]
    if before[-1:].isalpha() or (re.search(r"[A-Za-z]-$", before) and after[:1].isalpha()):
        return "name part"  # the 2 of "T2", the 1 of "beta-1a"
    if re.match(r"^\s?(%|percent\b)", after):
        return "percentage"
    if re.search(r"\bP\s?[=<>≤≥]\s?$", before):
        return "p-value"
    if re.search(r"[0-9]\s?[-\u2013]\s?$", before):
        return "range (high end)"
    if re.match(r"^\s?[-\u2013]\s?[0-9]", after):
        return "range (low end)"
    if _UNIT_AFTER_RE.match(after):
        return "dose"
    if _TIME_AFTER_RE.match(after):
        return "duration"
    if re.fullmatch(r"\d{4}", token) and 1800 <= int(token) <= 2100:
        return "year"
    return "value" if "." in token else "count"


def scan_numbers(text: str) -> list[TextNumber]:
    """Every number written in ``text``, with its place, kind and value."""
    citations: dict[tuple[int, int], str] = {}
    for m in CITATION_RE.finditer(text):
        for group, kind in (("year", "year"), ("volume", "volume"), ("issue", "issue"),
                            ("page", "page"), ("last", "page")):
            if m.group(group) is not None:
                citations[m.span(group)] = kind
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: list[TextNumber] = []
    line = 0
    for m in NUMBER_RE.finditer(text):
        start, end = m.span()
        while line + 1 < len(line_starts) and line_starts[line + 1] <= start:
            line += 1
        context = " ".join(text[max(0, start - 30):end + 30].split())
        out.append(TextNumber(
            text=m.group(), value=Decimal(m.group().replace(",", "")), kind=_kind(text, start, end, citations),
            start=start, end=end, line=line + 1, column=start - line_starts[line] + 1, context=context,
        ))
    return out


# --- reading the graph -----------------------------------------------------------------


@dataclass
class _ArticleGraph:
    text: str | None = None
    literals: list[tuple[str, str, ox.Literal]] = field(default_factory=list)
    """(node IRI, predicate IRI, literal) of every candidate fact literal."""
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Node IRI -> the (start, end) of each of its quotes."""


def _read_graph(store: ox.Store, article_id: str) -> _ArticleGraph | None:
    graph = ox.NamedNode(article_graph_iri(article_id))
    if not store.contains_named_graph(graph):
        return None
    internal = resource_iri(article_id, "_") + "/"
    derived: dict[str, list[str]] = {}
    selectors: dict[str, list[str]] = {}
    bounds: dict[str, dict[str, int]] = {}
    out = _ArticleGraph()
    for quad in store.quads_for_pattern(None, None, None, graph):
        s, p, o = quad.subject, quad.predicate.value, quad.object
        if not isinstance(s, ox.NamedNode):
            continue
        if p == PROV + "wasDerivedFrom" and isinstance(o, ox.NamedNode):
            derived.setdefault(s.value, []).append(o.value)
        elif p == OA + "hasSelector" and isinstance(o, ox.NamedNode):
            selectors.setdefault(s.value, []).append(o.value)
        elif p in (OA + "start", OA + "end") and isinstance(o, ox.Literal):
            bounds.setdefault(s.value, {})[p.removeprefix(OA)] = int(o.value)
        elif p == IVIG + "text" and isinstance(o, ox.Literal):
            out.text = o.value
        elif isinstance(o, ox.Literal) and not s.value.startswith(internal) and not p.startswith(OA):
            out.literals.append((s.value, p, o))
    for node, quotes in derived.items():
        for q in quotes:
            for sel in selectors.get(q, []):
                b = bounds.get(sel, {})
                if "start" in b and "end" in b:
                    out.spans.setdefault(node, []).append((b["start"], b["end"]))
    return out


def _short(iri: str, article_id: str) -> str:
    base = resource_iri(article_id) + "/"
    if iri.startswith(base):
        return iri.removeprefix(base)
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}:{iri.removeprefix(ns)}"
    return f"<{iri}>"


# --- the audit ---------------------------------------------------------------------------


def _not_modeled_places(src: SourceArticle) -> tuple[list[tuple[int, int, str, str]], list[str]]:
    """(start, end, text, reason) for each ``not_modeled`` entry, and notes on unusable ones."""
    places: list[tuple[int, int, str, str]] = []
    notes: list[str] = []
    for nm in src.article.not_modeled:
        if nm.quote is not None:
            span = src.spans[nm.quote]
            offset = nm.quote.find(nm.text)
            places.append((span.start + offset, span.start + offset + len(nm.text), nm.text, nm.reason))
            continue
        count = src.text.count(nm.text)
        if count == 1:
            start = src.text.find(nm.text)
            places.append((start, start + len(nm.text), nm.text, nm.reason))
        else:
            notes.append(f"not_modeled {nm.text!r} occurs {count} times in the text and explains none of them: "
                         "add a 'quote' that says which one is meant")
    return places, notes


def audit_article(src: SourceArticle, graph: _ArticleGraph) -> ArticleAudit:
    """Audit one article: its text's numbers against the graph, and the graph's numbers against its quotes."""
    aid = src.id
    result = ArticleAudit(article=aid, source=src.path, text_path=src.text_path)
    text = graph.text if graph.text is not None else src.text
    values: list[tuple[GraphLiteral, str, list[Candidate]]] = []
    for node, pred, lit in graph.literals:
        nums = literal_values(lit, pred)
        if nums:
            values.append((GraphLiteral(_short(node, aid), _short(pred, aid), lit.value,
                                        _short(lit.datatype.value, aid)), node, nums))

    numbers = scan_numbers(text)
    for n in numbers:
        for glit, node, nums in values:
            if any(s <= n.start and n.end <= e for s, e in graph.spans.get(node, [])) and written_as(n, text, nums):
                n.covered_by.append(glit)
        if n.covered_by:
            n.status = COVERED

    places, result.notes = _not_modeled_places(src)
    for start, end, nm_text, reason in places:
        inside = [n for n in numbers if start <= n.start and n.end <= end]
        if not inside:
            line = text.count("\n", 0, start) + 1
            result.notes.append(f"not_modeled {nm_text!r} (text line {line}) is not a whole number of the text "
                                "(it matches part of a longer number, or no digits): it explains nothing")
        for n in inside:
            if n.status == COVERED:
                result.notes.append(f"not_modeled {nm_text!r} is redundant: {n.text!r} at text line {n.line} "
                                    f"is in the graph as {n.covered_by[0]}")
            else:
                n.status, n.reason = NOT_MODELED, reason
    result.numbers = numbers

    for glit, node, nums in values:
        spans = graph.spans.get(node, [])
        written: str | None = None
        for s, e in spans:
            hit = next((w for n in numbers if s <= n.start and n.end <= e
                        and (w := written_as(n, text, nums)) is not None), None)
            if hit is None:
                word = next((w.group() for w in _WORD_RE.finditer(text, s, e)
                             if (Decimal(NUMBER_WORDS[w.group().lower()]), None) in nums), None)
                hit = f"{word!r} (in words)" if word else None
            if hit is not None:
                written = hit
                break
        result.literals.append(LiteralCheck(glit, written, len(spans)))
    return result


def audit(sources: Sequence[Path] | None, store: GraphStore) -> AuditReport:
    """Audit the articles of ``sources`` (default: the bundled ones) in the built ``store``.

    Raises :class:`StoreError` when the store lacks an article or holds a
    different version of its text (the graph must be rebuilt first).
    """
    report = AuditReport(store=store.path)
    handle = store.open()
    for path in discover(sources):
        src = load_source(path)
        graph = _read_graph(handle, src.id)
        if graph is None:
            raise StoreError(f"article {src.id!r} ({path}) is not in the store {store.path}",
                             hint=f"build it first: ivig-kg build {path} --store {store.path}")
        if graph.text is not None and graph.text != src.text:
            raise StoreError(f"the store holds a different text of article {src.id!r} than {src.text_path}",
                             hint=f"rebuild the store: ivig-kg build {path} --store {store.path}")
        report.articles.append(audit_article(src, graph))
    return report


def problems(report: AuditReport) -> Iterable[str]:
    """One line per failing item (for messages and tests)."""
    for a in report.articles:
        for n in a.unexplained:
            yield (f"{a.text_path}:{n.line}:{n.column}: number {n.text!r} ({n.kind}) is in no graph literal "
                   f"and not listed in not_modeled: ...{n.context}...")
        for c in a.unquoted_literals:
            yield (f"{a.source}: {c.literal} is not written in its node's "
                   + ("quotes" if c.quotes else "quotes (the node has none)"))
