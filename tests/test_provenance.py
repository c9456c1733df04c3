"""Every fact-bearing node is traceable to the exact text that states it."""

from __future__ import annotations

import pyoxigraph as ox

from .conftest import BUNDLED_SOURCE

FACT_BEARING = ["Study", "Population", "PopulationCharacteristic", "Arm", "Dose", "DosingSchedule", "Outcome",
                "Estimate", "Finding", "Claim", "Publication", "Person"]


def test_every_recorded_offset_reslices_to_its_quote(oxstore: ox.Store) -> None:
    text = BUNDLED_SOURCE.with_suffix(".txt").read_text(encoding="utf-8")
    rows = list(oxstore.query("""
        SELECT ?exact ?start ?end ?doctext WHERE {
          ?q oa:hasSource ?doc ; oa:hasSelector ?a, ?b .
          ?a oa:exact ?exact . ?b oa:start ?start ; oa:end ?end .
          ?doc ivig:text ?doctext .
        }""", use_default_graph_as_union=True, prefixes={"oa": "http://www.w3.org/ns/oa#",
                                                          "ivig": "https://w3id.org/ivig-kg/ontology#"}))
    assert len(rows) > 30
    for row in rows:
        start, end = int(row["start"].value), int(row["end"].value)
        assert text[start:end] == row["exact"].value
        assert row["doctext"].value == text


def test_every_fact_bearing_node_has_a_quote(oxstore: ox.Store) -> None:
    for cls in FACT_BEARING:
        missing = list(oxstore.query(f"""
            SELECT ?n WHERE {{ ?n a ivig:{cls} FILTER NOT EXISTS {{ ?n prov:wasDerivedFrom ?q }} }}""",
            use_default_graph_as_union=True,
            prefixes={"ivig": "https://w3id.org/ivig-kg/ontology#", "prov": "http://www.w3.org/ns/prov#"}))
        assert missing == [], f"{cls} without provenance: {[r['n'] for r in missing]}"
        present = bool(oxstore.query(f"ASK {{ ?n a ivig:{cls} }}", use_default_graph_as_union=True,
                                     prefixes={"ivig": "https://w3id.org/ivig-kg/ontology#"}))
        assert present, cls


def test_numbers_are_typed_literals(oxstore: ox.Store) -> None:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    expected = {"pointEstimate": "decimal", "ciLower": "decimal", "pValue": "decimal", "sampleSize": "integer",
                "amount": "decimal", "interval": "duration", "studyDuration": "duration", "year": "gYear"}
    for prop, dtype in expected.items():
        rows = list(oxstore.query(f"SELECT ?v WHERE {{ ?s <https://w3id.org/ivig-kg/ontology#{prop}> ?v }}",
                                  use_default_graph_as_union=True))
        assert rows, prop
        assert {r["v"].datatype.value for r in rows} == {xsd + dtype}, prop
