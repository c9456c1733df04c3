"""SHACL one article at a time gives exactly the results of validating the whole graph at once.

A small corpus (3 synthetic articles + the bundled one, built without
validation into a real on-disk store) is validated both ways, clean and with
rules broken on purpose in different articles, including breaks whose triples
sit in another article's graph, in the links graph or in the concepts graph.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from ivig_kg import vocab
from ivig_kg.build import build
from ivig_kg.errors import UsageError, ValidationFailed
from ivig_kg.store import GraphStore
from ivig_kg.synth import generate
from ivig_kg.validate import (
    CROSS_UNIT,
    ShaclResult,
    Shapes,
    _rdflib_graph,
    data_nquads,
    load_shapes,
    run_shacl,
    shacl_check,
    shacl_store,
    shacl_units,
    shapes_file,
)

from .conftest import ARTICLES

IVIG = vocab.IVIG
BUNDLED = "ivig-ms-commentary"
Key = tuple[str, str | None, str, str, str | None]


def key(r: ShaclResult) -> Key:
    return (r.focus, r.path, r.severity, r.message, r.shape)


SHAPES = load_shapes()
"""Parsed once and used both ways: a property shape is a blank node, named alike only within one parse."""


def whole(store: ox.Store, shapes: Shapes = SHAPES) -> set[Key]:
    """The reference: every data graph in one rdflib graph, one pyshacl run."""
    results, _ = run_shacl(_rdflib_graph(data_nquads(store)), shapes)
    return {key(r) for r in results}


def per_article(store: ox.Store, articles: list[str] | None = None, shapes: Shapes = SHAPES) -> set[Key]:
    return {key(r) for r in shacl_store(store, articles, shapes=shapes).results}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[GraphStore, list[str]]:
    """3 synthetic articles + the bundled one, built with no checks; the synthetic ids."""
    tmp = tmp_path_factory.mktemp("scale")
    generate(3, tmp / "synth", seed=3)
    store = GraphStore(tmp / "kg")
    report = build([tmp / "synth", ARTICLES], store)
    ids = sorted(a.id for a in report.articles if a.id != BUNDLED)
    assert len(ids) == 3
    return store, ids


def copy(store: ox.Store) -> ox.Store:
    mem = ox.Store()
    mem.extend(list(store.quads_for_pattern(None, None, None, None)))
    return mem


def graph(article: str) -> ox.NamedNode:
    return ox.NamedNode(vocab.article_graph_iri(article))


CONCEPTS = ox.NamedNode(vocab.CONCEPTS_GRAPH)
LINKS = ox.NamedNode(vocab.LINKS_GRAPH)


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def dec(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=n(vocab.XSD + "decimal"))


def pick(store: ox.Store, g: ox.NamedNode, where: str, var: str = "x") -> ox.NamedNode:
    """The first node (by IRI) matching a pattern inside one graph."""
    solutions = store.query(f"PREFIX ivig: <{IVIG}> PREFIX prov: <{vocab.PROV}> "
                            f"SELECT ?{var} ?g WHERE {{ GRAPH ?g {{ {where} }} }} ORDER BY ?{var}",
                            substitutions={ox.Variable("g"): g})
    assert isinstance(solutions, ox.QuerySolutions)
    rows = list(solutions)
    assert rows, f"nothing matches {where} in {g}"
    node = rows[0][var]
    assert isinstance(node, ox.NamedNode)
    return node


def literal(store: ox.Store, s: ox.NamedNode, p: str) -> ox.Literal:
    value = next(store.quads_for_pattern(s, n(p), None, None)).object
    assert isinstance(value, ox.Literal)
    return value


def set_value(store: ox.Store, s: ox.NamedNode, p: str, o: ox.Literal | ox.NamedNode) -> None:
    """Replace the values of ``s p`` in whatever graph holds them."""
    old = list(store.quads_for_pattern(s, n(p), None, None))
    assert old
    for q in old:
        store.remove(q)
    store.add(ox.Quad(s, n(p), o, old[0].graph_name))


@pytest.fixture(scope="module")
def broken(corpus: tuple[GraphStore, list[str]]) -> tuple[ox.Store, dict[str, str]]:
    """A copy of the corpus with rules broken in different articles and graphs; what each break hits."""
    store, (a, b, c) = corpus
    mem = copy(store.open())
    hits: dict[str, str] = {}

    # 1. article a: a point estimate outside its CI (SHACL-SPARQL)
    est_a = pick(mem, graph(a), "?x ivig:ciUpper ?u ; ivig:pointEstimate ?v")
    upper = literal(mem, est_a, IVIG + "ciUpper")
    set_value(mem, est_a, IVIG + "pointEstimate", dec(str(float(upper.value) + 1)))
    hits["estimate outside CI, article a"] = est_a.value
    # 2. article b: a finding without provenance (Core minCount)
    finding_b = pick(mem, graph(b), f"?x a ivig:Finding ; <{vocab.PROV}wasDerivedFrom> ?q")
    for q in list(mem.quads_for_pattern(finding_b, n(vocab.PROV + "wasDerivedFrom"), None, None)):
        mem.remove(q)
    hits["finding without provenance, article b"] = finding_b.value
    # 3. concepts graph: an intervention loses its types -> sh:class fails in the articles that use it
    drug = pick(mem, graph(a), "?arm ivig:hasIntervention ?x", "x")
    for q in list(mem.quads_for_pattern(drug, n(vocab.RDF + "type"), None, CONCEPTS)):
        mem.remove(q)
    hits["untyped intervention used by article a"] = drug.value
    # 4. links graph: a zero duration about a study of article c (focus in c, triple in links)
    study_c = pick(mem, graph(c), "?x a ivig:RandomizedControlledTrial")
    mem.add(ox.Quad(study_c, n(IVIG + "studyDuration"), ox.Literal("P0D", datatype=n(vocab.XSD + "duration")),
                    LINKS))
    hits["zero duration from the links graph, study of c"] = study_c.value
    # 5. links graph types concepts as people: one quoted in the bundled article (its provenance
    #    lives in that article's graph), one synthetic concept (no provenance anywhere)
    quoted = pick(mem, graph(BUNDLED), f"?x <{vocab.PROV}wasDerivedFrom> ?q FILTER(STRSTARTS(STR(?x), "
                                       f"\"{vocab.CONCEPT}\"))")
    mem.add(ox.Quad(quoted, n(vocab.RDF + "type"), n(IVIG + "Person"), LINKS))
    mem.add(ox.Quad(drug, n(vocab.RDF + "type"), n(IVIG + "Person"), LINKS))
    hits["quoted concept typed Person"] = quoted.value
    # 6. article b's graph says something wrong about article a's estimate
    est_a2 = pick(mem, graph(a), "?x ivig:ciLevel ?l FILTER(?x != ?skip)".replace("?skip", str(est_a)))
    mem.add(ox.Quad(est_a2, n(IVIG + "ciLevel"), dec("95"), graph(b)))
    hits["CI level 95 from article b's graph"] = est_a2.value
    # 7. article c's graph types an experimental arm of a as a placebo arm too (sh:xone)
    arm_a = pick(mem, graph(a), "?x a ivig:ExperimentalArm")
    mem.add(ox.Quad(arm_a, n(vocab.RDF + "type"), n(IVIG + "PlaceboArm"), graph(c)))
    hits["arm of a typed placebo by c"] = arm_a.value
    # 8. article b cites a node described nowhere (sh:targetObjectsOf + sh:class)
    pub_b = pick(mem, graph(b), "?x ivig:cites ?y")
    nowhere = n(vocab.resource_iri("nowhere", "publication"))
    mem.add(ox.Quad(pub_b, n(IVIG + "cites"), nowhere, graph(b)))
    hits["dangling cited publication"] = nowhere.value
    # 9. the bundled article cites a publication of article a (its types live in a's graph: no violation)
    cited_a = pick(mem, graph(a), "?p ivig:cites ?x", "x")
    pub_m = pick(mem, graph(BUNDLED), "?x ivig:cites ?y")
    mem.add(ox.Quad(pub_m, n(IVIG + "cites"), cited_a, graph(BUNDLED)))
    # 10. article c: a p-value that disagrees with its CI (a Warning, not a Violation)
    est_c = pick(mem, graph(c), "?x ivig:pValue ?p ; ivig:ciLevel ?l ; ivig:measureType ?t "
                               "FILTER(?t IN (ivig:RateRatio, ivig:HazardRatio, ivig:OddsRatio, ivig:RiskRatio))")
    p_old = literal(mem, est_c, IVIG + "pValue")
    set_value(mem, est_c, IVIG + "pValue", dec("0.9" if float(p_old.value) < 0.05 else "0.001"))
    hits["p-value disagrees with CI, article c"] = est_c.value
    return mem, hits


def test_clean_corpus_same_results_both_ways(corpus: tuple[GraphStore, list[str]]) -> None:
    store = corpus[0].open()
    assert per_article(store) == whole(store)
    shacl_check(store)  # the bundled and synthetic articles conform


def test_broken_corpus_same_results_both_ways(broken: tuple[ox.Store, dict[str, str]]) -> None:
    mem, hits = broken
    reference = whole(mem)
    # every planted break is seen by the reference, so the comparison is not vacuous
    foci = {k[0] for k in reference}
    for what, focus in hits.items():
        assert focus in foci, what
    assert any(k[2] == "Warning" for k in reference)
    assert len(reference) >= 15
    assert per_article(mem) == reference


def test_cross_graph_breaks_are_reported_with_the_right_message(broken: tuple[ox.Store, dict[str, str]]) -> None:
    mem, hits = broken
    results = shacl_store(mem).results

    def messages(focus: str) -> set[str]:
        return {r.message for r in results if r.focus == focus}

    assert "duration is not positive" in messages(hits["zero duration from the links graph, study of c"])
    assert any("confidence level 95" in m for m in messages(hits["CI level 95 from article b's graph"]))
    # the quoted concept's provenance sits in the bundled article's graph: no provenance violation for it
    assert not any("provenance" in m for m in messages(hits["quoted concept typed Person"]))
    for concept in (hits["quoted concept typed Person"], hits["untyped intervention used by article a"]):
        assert any("foaf:name" in m for m in messages(concept)), concept
    # each result carries the passages of its focus node, read from the store
    est = [r for r in results if r.focus == hits["estimate outside CI, article a"]]
    assert est and all(r.quotes for r in est)


def test_some_articles_only(broken: tuple[ox.Store, dict[str, str]], corpus: tuple[GraphStore, list[str]]) -> None:
    mem, hits = broken
    _a, b, _c = corpus[1]
    reference = whole(mem)
    only_b = per_article(mem, [b])
    assert only_b <= reference
    foci = {k[0] for k in only_b}
    assert hits["finding without provenance, article b"] in foci
    assert hits["CI level 95 from article b's graph"] in foci  # stated in b's graph
    assert hits["quoted concept typed Person"] in foci  # the cross-article graphs are always checked
    assert hits["estimate outside CI, article a"] not in foci
    assert {k for k in reference if k[0] == hits["finding without provenance, article b"]} <= only_b
    assert per_article(mem, []) <= reference


def test_shacl_check_for_some_articles(corpus: tuple[GraphStore, list[str]]) -> None:
    a, b, _c = corpus[1]
    mem = copy(corpus[0].open())
    est = pick(mem, graph(a), "?x ivig:ciUpper ?u ; ivig:pointEstimate ?v")
    set_value(mem, est, IVIG + "pointEstimate", dec("-5"))
    shacl_check(mem, [b])
    shacl_check(mem, [])
    with pytest.raises(ValidationFailed) as info:
        shacl_check(mem, [a])
    assert "lies outside its confidence interval" in str(info.value)
    with pytest.raises(ValidationFailed):
        shacl_check(mem)
    with pytest.raises(UsageError) as missing:
        shacl_check(mem, ["no-such-article"])
    assert "no-such-article" in str(missing.value)


def test_an_article_unit_does_not_grow_with_the_corpus(corpus: tuple[GraphStore, list[str]]) -> None:
    """Each article is validated with its own graph and a few triples about the nodes it names."""
    store = corpus[0].open()
    units = list(shacl_units(store, SHAPES))
    assert units[0].name == CROSS_UNIT
    assert sorted(u.name for u in units[1:]) == sorted([*corpus[1], BUNDLED])
    for u in units[1:]:
        assert u.home_quads > 1000
        assert len(u.triples) - u.home_quads < 150, u.name
    total = sum(1 for q in store.quads_for_pattern(None, None, None, None)
                if q.graph_name not in {n(vocab.ONTOLOGY_GRAPH), n(vocab.INFERRED_GRAPH)})
    assert sum(u.home_quads for u in units) == total


CROSS_NODE_RULE = """
@prefix sh:     <http://www.w3.org/ns/shacl#> .
@prefix ivigsh: <https://w3id.org/ivig-kg/shapes#> .
@prefix ivig:   <https://w3id.org/ivig-kg/ontology#> .
ivigsh:ArmInterventionLabelled a sh:NodeShape ;
    sh:targetClass ivig:Arm ;
    sh:sparql [ a sh:SPARQLConstraint ;
        sh:prefixes <https://w3id.org/ivig-kg/shapes> ;
        sh:message "the arm's intervention is not typed an intervention" ;
        sh:select \"\"\"SELECT $this WHERE { $this ivig:hasIntervention ?i .
                                          FILTER NOT EXISTS { ?i a ivig:Intervention } }\"\"\" ] .
"""


def test_shapes_that_read_other_nodes_fall_back_to_the_whole_graph(
        broken: tuple[ox.Store, dict[str, str]], tmp_path: Path) -> None:
    mem, _hits = broken
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(shapes_file().read_text(encoding="utf-8") + CROSS_NODE_RULE, encoding="utf-8")
    assert SHAPES.whole_graph_reason is None
    wider = load_shapes(shapes)
    assert "SPARQL" in (wider.whole_graph_reason or "")
    run = shacl_store(mem, shapes=wider)
    assert [u[0] for u in run.units] == ["whole graph"]
    got = {key(r) for r in run.results}
    assert any(k[3] == "the arm's intervention is not typed an intervention" for k in got)
    assert got == whole(mem, wider)


@pytest.mark.parametrize(("snippet", "reason"), [
    ("ivigsh:X a sh:NodeShape ; sh:targetClass ivig:Arm ; sh:property [ sh:path ivig:hasDose ; "
     "sh:node ivigsh:Y ] .", "sh:node"),
    ("ivigsh:X a sh:NodeShape ; sh:targetClass ivig:Arm ; sh:property [ sh:path ( ivig:hasDose ivig:amount ) ; "
     "sh:minCount 1 ] .", "single predicate"),
    ("ivigsh:X a sh:NodeShape ; sh:targetClass ivig:Arm ; sh:property [ sh:path ivig:hasDose ; "
     "sh:or ( [ sh:path ivig:amount ; sh:minCount 1 ] ) ] .", "sh:or on the values"),
])
def test_reach_beyond_focus_is_detected(tmp_path: Path, snippet: str, reason: str) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                      "@prefix ivigsh: <https://w3id.org/ivig-kg/shapes#> .\n"
                      f"@prefix ivig: <{IVIG}> .\n" + snippet, encoding="utf-8")
    assert reason in (load_shapes(shapes).whole_graph_reason or "")
