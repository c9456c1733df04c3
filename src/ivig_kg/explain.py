"""Explain an entity: its facts, each backed by the sentence of the article that states it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from ivig_kg.errors import QueryError
from ivig_kg.queries import expand_iri
from ivig_kg.results import show
from ivig_kg.store import GraphStore, run_query
from ivig_kg.vocab import CONCEPT, RESOURCE

_FACTS = """
SELECT ?e ?p ?o ?olabel WHERE {
  ?e ?p ?o .
  FILTER(?p != prov:wasDerivedFrom)
  OPTIONAL { ?o rdfs:label ?olabel }
} ORDER BY ?p ?o
"""

_SOURCES = """
SELECT DISTINCT ?e ?exact ?start ?end ?doc ?text WHERE {
  ?e prov:wasDerivedFrom ?q .
  ?q oa:hasSource ?doc ; oa:hasSelector ?qs, ?ps .
  ?qs oa:exact ?exact .
  ?ps oa:start ?start ; oa:end ?end .
  ?doc ivig:text ?text .
} ORDER BY ?start
"""

_FIND = """
SELECT DISTINCT ?e ?suffix WHERE { ?e ?p ?o . FILTER(isIRI(?e) && (STRENDS(STR(?e), ?suffix))) } LIMIT 10
"""

# pyoxigraph binds substitutions only for projected variables: ?e and ?suffix are projected on purpose.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n\s*\n|\n")


@dataclass(frozen=True)
class Fact:
    predicate: str
    value: str
    label: str | None = None


@dataclass(frozen=True)
class Source:
    quote: str
    start: int
    end: int
    document: str
    sentence: str
    """The sentence(s) holding the quote."""
    offset: int
    """Where the quote starts within ``sentence``."""


@dataclass
class Explanation:
    iri: str
    label: str | None
    facts: list[Fact] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence(s) of ``text`` spanning ``[start, end)`` and the quote's offset in it."""
    begin, finish = 0, len(text)
    for match in _SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            finish = match.start()
            break
    return text[begin:finish], start - begin


def resolve(oxstore: ox.Store, entity: str) -> str:
    """An entity's IRI from an IRI, a CURIE, or a bare id such as ``achiron-2004``."""
    if ":" in entity:
        return expand_iri(entity)
    hits = [
        sol["e"].value
        for sol in run_query(oxstore, _FIND, {ox.Variable("suffix"): ox.Literal("/" + entity)})
        if sol["e"].value.startswith((RESOURCE, CONCEPT))
    ]
    if not hits:
        raise QueryError(f"no entity with id {entity!r} in the graph",
                         hint="use an id from a source file, a CURIE (ivigr:...) or a full IRI")
    if len(hits) > 1:
        raise QueryError(f"id {entity!r} names several entities: {', '.join(sorted(hits))}",
                         hint="give the full IRI")
    return str(hits[0])


def explain(store: GraphStore, entity: str) -> Explanation:
    """Gather an entity's facts and the article sentences that state them."""
    oxstore = store.open()
    iri = resolve(oxstore, entity)
    subs = {ox.Variable("e"): ox.NamedNode(iri)}
    exp = Explanation(iri=iri, label=None)
    for sol in run_query(oxstore, _FACTS, subs):
        p, o, olabel = sol["p"], sol["o"], sol["olabel"]
        if p.value.endswith("#label") and exp.label is None:
            exp.label = str(o.value)
        exp.facts.append(Fact(show(p), show(o), str(olabel.value) if olabel is not None else None))
    if not exp.facts:
        raise QueryError(f"{iri} has no facts in the graph")
    for sol in run_query(oxstore, _SOURCES, subs):
        start, end, text = int(sol["start"].value), int(sol["end"].value), str(sol["text"].value)
        sentence, offset = sentence_around(text, start, end)
        exp.sources.append(Source(str(sol["exact"].value), start, end, sol["doc"].value, sentence, offset))
    return exp
