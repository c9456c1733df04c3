"""The claims check on claims whose evidence is indirect or reaches no study.

A counted claim considers the studies its evidence reaches: ivig:restsOn followed
through other claims (restsOn+), to studies directly or through their estimates and
findings. A counted claim that reaches no study considers none (0 of 0), rather than
every study of the store that shows benefit. The bundled article has no such claim,
so this hand-made graph, loaded into a real on-disk Oxigraph store, has them; the
expected counts below are worked out by hand from the graph.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from ivig_kg import queries, vocab
from ivig_kg.validate import ClaimCheck, check_claims

R = vocab.resource_iri("handmade", "")

# Three studies of IVIG: s1 (significant favourable rate ratio, p = 0.01), s2 (a finding of
# a significant favourable difference), s3 (favourable but p = 0.40: no benefit); s4 tests
# placebo only, with a significant favourable result (benefit, but not for IVIG).
# Claims: c-base states no count and rests on s1's estimate and on s3; c-chain rests only
# on c-base; c-chain2 rests on c-chain and on s2; c-none rests on nothing; c-on-none rests
# only on c-none; c-loop-a and c-loop-b rest on each other and on nothing else.
GRAPH = f"""
@prefix ivig: <{vocab.IVIG}> .
@prefix xsd: <{vocab.XSD}> .
@prefix : <{R}> .

:ivig a ivig:Intervention .
:placebo a ivig:Intervention .

:s1 a ivig:Study ; ivig:hasIntervention :ivig ; ivig:hasEstimate :s1-rr .
:s1-rr a ivig:Estimate ; ivig:direction ivig:FavoursIntervention ; ivig:pValue "0.01"^^xsd:decimal .
:s2 a ivig:Study ; ivig:hasIntervention :ivig ; ivig:hasFinding :s2-diff .
:s2-diff a ivig:Finding ; ivig:direction ivig:FavoursIntervention ; ivig:findingType ivig:SignificantDifference .
:s3 a ivig:Study ; ivig:hasIntervention :ivig ; ivig:hasEstimate :s3-rr .
:s3-rr a ivig:Estimate ; ivig:direction ivig:FavoursIntervention ; ivig:pValue "0.40"^^xsd:decimal .
:s4 a ivig:Study ; ivig:hasIntervention :placebo ; ivig:hasEstimate :s4-rr .
:s4-rr a ivig:Estimate ; ivig:direction ivig:FavoursIntervention ; ivig:pValue "0.02"^^xsd:decimal .

:c-base a ivig:Claim ; ivig:statement "IVIG helped in s1 but not in s3." ;
    ivig:aboutIntervention :ivig ; ivig:restsOn :s1-rr, :s3 .
:c-chain a ivig:Claim ; ivig:statement "One of the two studies above showed a benefit." ;
    ivig:aboutIntervention :ivig ; ivig:restsOn :c-base ; ivig:identifiesStudy :s1 ;
    ivig:studiesConsidered 2 ; ivig:studiesShowingBenefit 1 .
:c-chain2 a ivig:Claim ; ivig:statement "Two of the three studies showed a benefit." ;
    ivig:aboutIntervention :ivig ; ivig:restsOn :c-chain, :s2 ;
    ivig:studiesConsidered 3 ; ivig:studiesShowingBenefit 2 .
:c-none a ivig:Claim ; ivig:statement "No study has looked at this." ;
    ivig:aboutIntervention :ivig ; ivig:studiesConsidered 0 ; ivig:studiesShowingBenefit 0 .
:c-on-none a ivig:Claim ; ivig:statement "As said, one study showed a benefit." ;
    ivig:restsOn :c-none ; ivig:studiesShowingBenefit 1 .
:c-loop-a a ivig:Claim ; ivig:statement "Nothing shows benefit, as b says." ;
    ivig:restsOn :c-loop-b ; ivig:studiesConsidered 0 .
:c-loop-b a ivig:Claim ; ivig:statement "Nothing shows benefit, as a says." ;
    ivig:restsOn :c-loop-a ; ivig:studiesShowingBenefit 0 .
"""

# claim -> (considered, showing benefit, agrees), worked out by hand from GRAPH
EXPECTED: dict[str, tuple[set[str], set[str], bool]] = {
    # through c-base: s1 (via its estimate, benefit) and s3 (no benefit); states 1 of 2
    "c-chain": ({"s1", "s3"}, {"s1"}, True),
    # c-chain's studies plus s2 (benefit); states 2 of 3
    "c-chain2": ({"s1", "s2", "s3"}, {"s1", "s2"}, True),
    # reaches no study: 0 of 0, as it states
    "c-none": (set(), set(), True),
    # reaches only c-none, hence no study: 0 showing benefit, but it states 1
    "c-on-none": (set(), set(), False),
    # a cycle of claims reaching no study: 0 of 0 each, as they state
    "c-loop-a": (set(), set(), True),
    "c-loop-b": (set(), set(), True),
}


@pytest.fixture
def store(tmp_path: Path) -> ox.Store:
    st = ox.Store(str(tmp_path / "oxigraph"))
    st.load(GRAPH.encode(), format=ox.RdfFormat.TURTLE,
            to_graph=ox.NamedNode(vocab.article_graph_iri("handmade")))
    st.flush()
    return st


def studies(cell: str | None) -> set[str]:
    """A space-separated list of study IRIs -> their local names."""
    return {iri.removeprefix(R) for iri in (cell or "").split()}


def test_query_counts_only_the_studies_each_claims_evidence_reaches(store: ox.Store) -> None:
    rows = list(queries.run("claims-check", oxstore=store))
    got = {}
    for r in rows:
        considered, benefit = r["consideredStudies"].value, r["benefitStudies"].value
        # the lists are alphabetical, and the counts are their lengths
        assert considered.split() == sorted(considered.split())
        assert benefit.split() == sorted(benefit.split())
        assert int(r["computedConsidered"].value) == len(studies(considered))
        assert int(r["computedBenefit"].value) == len(studies(benefit))
        got[r["claim"].value.removeprefix(R)] = (studies(considered), studies(benefit),
                                                 r["agrees"].value == "true")
    # c-base states no count: not checked
    assert got == EXPECTED


def test_query_lists_c_chain2_in_alphabetical_order(store: ox.Store) -> None:
    (row,) = [r for r in queries.run("claims-check", oxstore=store) if r["claim"].value == R + "c-chain2"]
    assert row["consideredStudies"].value == f"{R}s1 {R}s2 {R}s3"
    assert row["benefitStudies"].value == f"{R}s1 {R}s2"


def test_check_claims_gives_the_same_counts_and_verdicts(store: ox.Store) -> None:
    checks: dict[str, ClaimCheck] = {c.claim.removeprefix(R): c for c in check_claims(store)}
    assert {name: (studies(" ".join(c.considered)), studies(" ".join(c.showing_benefit)), c.agrees)
            for name, c in checks.items()} == EXPECTED
    none = checks["c-none"]
    assert (none.considered, none.showing_benefit, none.stated_considered, none.stated_benefit) == ((), (), 0, 0)
    on_none = checks["c-on-none"]
    assert "states 1 showing benefit, results show 0" in on_none.explanation
    assert checks["c-chain"].identified == (R + "s1",)
