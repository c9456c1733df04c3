"""The streaming JSON-LD writer: valid JSON, compacted with our context, and exactly the store's quads.

rdflib is the independent oracle: it parses our document (the context is
inline, so nothing is fetched) and must get a dataset isomorphic to the store.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from ivig_kg import jsonld
from ivig_kg.build import build
from ivig_kg.export import context, export
from ivig_kg.formats import RDF_FORMATS
from ivig_kg.store import GraphStore
from ivig_kg.synth import generate
from ivig_kg.vocab import XSD, article_graph_iri, term

from .conftest import assert_datasets_isomorphic, nquads_dataset

CTX = context()["@context"]


def _dump(store: GraphStore) -> rdflib.Dataset:
    data = store.open().dump(format=ox.RdfFormat.N_QUADS)
    assert data is not None
    return nquads_dataset(data)


def _parse(data: bytes) -> rdflib.Dataset:
    ds = rdflib.Dataset()
    ds.parse(data=data, format="json-ld")
    return ds


def _export(store: GraphStore) -> bytes:
    buf = io.BytesIO()
    export(store, RDF_FORMATS["jsonld"], buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> GraphStore:
    root = tmp_path_factory.mktemp("synth")
    generate(4, root / "corpus", seed=3)
    store = GraphStore(root / "store")
    build([root / "corpus"], store)
    return store


def test_bundled_graph_round_trips(built_store: GraphStore) -> None:
    data = _export(built_store)
    assert_datasets_isomorphic(_parse(data), _dump(built_store))


def test_synthetic_corpus_round_trips(synthetic_store: GraphStore) -> None:
    data = _export(synthetic_store)
    got, expected = _parse(data), _dump(synthetic_store)
    assert len(got) == len(expected) > 5000
    assert_datasets_isomorphic(got, expected)


def test_output_is_json_compacted_with_our_context(built_store: GraphStore) -> None:
    doc = json.loads(_export(built_store))
    assert doc["@context"] == CTX  # inline: readers never fetch it
    graphs = {g["@id"]: g["@graph"] for g in doc["@graph"]}
    article = graphs[article_graph_iri("ivig-ms-commentary")]
    by_id = {n["@id"]: n for n in article}
    est = by_id["ivigr:ivig-ms-commentary/achiron-2004-cdms-rate-ratio"]  # compact IRI for the subject
    assert est["pointEstimate"] == "0.36"  # xsd:decimal term: a plain string
    assert est["measureType"] == "ivig:RateRatio"  # @type @id term: a compact IRI string
    assert est["experimentalArm"] == "ivigr:ivig-ms-commentary/achiron-2004-ivig-arm"
    assert "EffectEstimate" in est["@type"]  # class terms of the context
    assert est["label"] == {"@value": "rate ratio 0.36", "@language": "en"}
    assert "http://" not in json.dumps(article).replace("http://www.w3.org/ns/oa#", "")


def test_values_that_do_not_fit_a_term_use_the_compact_iri() -> None:
    g = ox.NamedNode("https://w3id.org/ivig-kg/graph/test")
    s = ox.NamedNode("https://w3id.org/ivig-kg/resource/x/dose")
    b = ox.BlankNode("b0")
    quads = [
        ox.Quad(s, ox.NamedNode(term("amount")), ox.Literal("2", datatype=ox.NamedNode(XSD + "integer")), g),
        ox.Quad(s, ox.NamedNode(term("amount")), ox.Literal("0.4", datatype=ox.NamedNode(XSD + "decimal")), g),
        ox.Quad(s, ox.NamedNode(term("route")), ox.Literal("iv", language="en"), g),
        ox.Quad(s, ox.NamedNode(term("route")), b, g),
        ox.Quad(s, ox.NamedNode("http://example.org/p"), ox.Literal("plain"), g),
        ox.Quad(b, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(term("Route")),
                ox.DefaultGraph()),
    ]
    buf = io.BytesIO()
    assert jsonld.write(iter(quads), buf, CTX) == len(quads)
    doc = json.loads(buf.getvalue())
    node = doc["@graph"][0]["@graph"][0]
    assert node["amount"] == "0.4"
    assert node["ivig:amount"] == {"@value": "2", "@type": "xsd:integer"}
    assert node["route"] == "_:b0"
    assert node["ivig:route"] == {"@value": "iv", "@language": "en"}
    assert node["http://example.org/p"] == "plain"
    assert doc["@graph"][1] == {"@id": "_:b0", "@type": "Route"}  # default graph at top level
    expected = rdflib.Dataset()
    expected.parse(data=ox.serialize(quads, format=ox.RdfFormat.N_QUADS), format="nquads")
    assert_datasets_isomorphic(_parse(buf.getvalue()), expected)


class _Recorder(io.BytesIO):
    """Records how many quads had been read each time the writer wrote bytes."""

    def __init__(self, consumed: list[int]):
        super().__init__()
        self.consumed = consumed
        self.at_write: list[int] = []

    def write(self, data: Any) -> int:
        self.at_write.append(self.consumed[0])
        return super().write(data)


def test_writer_streams_rather_than_building_the_document(synthetic_store: GraphStore) -> None:
    consumed = [0]
    oxstore = synthetic_store.open()
    total = len(oxstore)

    def counted() -> Iterator[ox.Quad]:
        for quad in oxstore:
            consumed[0] += 1
            yield quad

    out = _Recorder(consumed)
    jsonld.write(counted(), out, CTX)
    # bytes left for the output long before the last quad was read, in many chunks
    assert len(out.at_write) > 5
    assert out.at_write[0] < total / 4
    json.loads(out.getvalue())


def test_indented_output_is_the_same_data(built_store: GraphStore, tmp_path: Path) -> None:
    buf = io.BytesIO()
    jsonld.write(iter(built_store.open()), buf, CTX, indent=True)
    assert b"\n " in buf.getvalue()
    assert_datasets_isomorphic(_parse(buf.getvalue()), _dump(built_store))
