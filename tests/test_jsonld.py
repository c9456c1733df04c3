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
from hypothesis import given, settings
from hypothesis import strategies as st

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
        self.pieces: list[bytes] = []

    def write(self, data: Any) -> int:
        self.at_write.append(self.consumed[0])
        self.pieces.append(bytes(data))
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


# --- write_store: the fast path (SPARQL TSV text from Oxigraph, compacted with str operations) -----------------

EX = "http://example.org/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TRICKY_STRINGS = [
    "", "plain", 'say "hi"', "back\\slash", "\\u0041 is not A", "\\U0001F600 neither", "tab\there", "line\nbreak",
    "cr\rhere", "\x01\x0b\x1f\x7f controls", "\b\f", "line\u2028separator", "astral \U0001F600", "é ü ß 漢字",
    "%s %d {} %(x)s", "ends with backslash \\", "\\\\", "\\\"", "'single'", "\\t literally", "a\tb\\tc",
]


def _tricky_quads() -> list[ox.Quad]:
    g = ox.NamedNode(EX + "graph/tricky")
    s = ox.NamedNode("https://w3id.org/ivig-kg/resource/x/s")
    b = ox.BlankNode("tricky1")
    quads = [ox.Quad(s, ox.NamedNode(term("text")), ox.Literal(text), g) for text in TRICKY_STRINGS]
    quads += [ox.Quad(s, ox.NamedNode(EX + "lang"), ox.Literal(text, language="en-GB"), g) for text in TRICKY_STRINGS]
    typed = [("-5", "integer"), ("0.36", "decimal"), ("1.0E3", "double"), ("1000", "double"), ("true", "boolean"),
             ("false", "boolean"), ("P1D", "duration"), ("2004", "gYear"), ("x", "string"), ("+7", "integer")]
    quads += [ox.Quad(s, ox.NamedNode(term("value")), ox.Literal(lex, datatype=ox.NamedNode(XSD + dt)), g)
              for lex, dt in typed]
    quads += [ox.Quad(s, ox.NamedNode(EX + "typed"), ox.Literal(lex, datatype=ox.NamedNode(XSD + dt)), g)
              for lex, dt in typed]
    quads += [
        ox.Quad(s, ox.NamedNode(EX + "odd"), ox.Literal("v", datatype=ox.NamedNode(EX + "dt%20with%25percent")), g),
        ox.Quad(s, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(term("Study")), g),
        ox.Quad(s, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), b, g),
        ox.Quad(s, ox.NamedNode(term("hasArm")), b, g),
        ox.Quad(s, ox.NamedNode(EX + "ref"), ox.NamedNode(EX + "é%20x"), g),
        ox.Quad(s, ox.NamedNode(EX + "ref"), ox.NamedNode("https://w3id.org/ivig-kg/resource/"), g),  # empty suffix
        ox.Quad(s, ox.NamedNode(EX + "ref"), ox.NamedNode("https://w3id.org/ivig-kg/resource//x"), g),  # "//"
        ox.Quad(b, ox.NamedNode(RDFS_LABEL), ox.Literal("a blank node", language="en"), g),
        ox.Quad(s, ox.NamedNode(EX + "in-default"), ox.Literal("default graph"), ox.DefaultGraph()),
        ox.Quad(b, ox.NamedNode(EX + "in-blank-graph"), ox.Literal("graph named by a blank node"), ox.BlankNode("g1")),
    ]
    return quads


def _ox_parse(data: bytes) -> set[ox.Quad]:
    """Oxigraph's own JSON-LD parser: independent of our writer, keeps blank node labels."""
    return set(ox.parse(data, format=ox.RdfFormat.JSON_LD))


def _write_store(store: ox.Store, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    jsonld.write_store(store, buf, CTX, **kwargs)
    return buf.getvalue()


def test_store_writer_is_exact_for_tricky_literals_iris_and_blank_nodes(tmp_path: Path) -> None:
    quads = _tricky_quads()
    store = ox.Store(str(tmp_path / "store"))  # a real on-disk store
    store.extend(quads)
    data = _write_store(store)
    json.loads(data)  # valid JSON
    assert _ox_parse(data) == set(store)
    # rdflib as a second parser (its dataset comparison cannot pair graphs named by blank nodes: leave that one out)
    named = ox.Store()
    named.extend(q for q in quads if not isinstance(q.graph_name, ox.BlankNode))
    expected = nquads_dataset(named.dump(format=ox.RdfFormat.N_QUADS) or b"")
    assert_datasets_isomorphic(_parse(_write_store(named)), expected)
    doc = json.loads(data)
    node = next(n for g in doc["@graph"] if g.get("@id") == EX + "graph/tricky" for n in g["@graph"]
                if n["@id"] == "ivigr:x/s")
    assert node["@type"] == ["Study", "_:tricky1"] or node["@type"] == ["_:tricky1", "Study"]
    assert node["hasArm"] == "_:tricky1"
    assert sorted(node["text"]) == sorted(TRICKY_STRINGS)  # plain strings, exact after JSON decoding
    assert node["value"] == "0.36"  # the one value that fits the xsd:decimal term: a plain string
    assert {"@value": "-5", "@type": "xsd:integer"} in node["ivig:value"]
    refs = {r["@id"] for r in node[EX + "ref"]}
    assert refs == {EX + "é%20x", "https://w3id.org/ivig-kg/resource/", "ivigr:/x"}  # never "ivigr:" alone


def test_store_writer_and_term_writer_agree(synthetic_store: GraphStore) -> None:
    oxstore = synthetic_store.open()
    fast, slow = io.BytesIO(), io.BytesIO()
    assert jsonld.write_store(oxstore, fast, CTX) == jsonld.write(iter(oxstore), slow, CTX) == len(oxstore)

    def nodes(data: bytes) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for item in json.loads(data)["@graph"]:
            members = item.get("@graph", [item])
            key = item["@id"] if "@graph" in item else ""
            out.setdefault(key, []).extend(json.dumps(n, sort_keys=True) for n in members)
        return {k: sorted(v) for k, v in out.items()}

    assert nodes(fast.getvalue()) == nodes(slow.getvalue())


def test_store_writer_round_trips_a_large_store_exactly(synthetic_store: GraphStore) -> None:
    oxstore = synthetic_store.open()
    data = _write_store(oxstore)
    assert _ox_parse(data) == set(oxstore)
    subjects = {(q.graph_name, q.subject) for q in oxstore}
    nodes = sum(len(g["@graph"]) if "@graph" in g else 1 for g in json.loads(data)["@graph"])
    assert nodes == len(subjects)  # one node object per subject and graph: fully compacted


def test_store_writer_small_chunks_keep_subjects_whole(synthetic_store: GraphStore,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks cut anywhere between rows (here every ~200 bytes): subjects spanning chunks stay one node."""
    monkeypatch.setattr(jsonld, "_CHUNK_BYTES", 200)
    oxstore = synthetic_store.open()
    data = _write_store(oxstore)
    assert _ox_parse(data) == set(oxstore)
    nodes = sum(len(g["@graph"]) if "@graph" in g else 1 for g in json.loads(data)["@graph"])
    assert nodes == len({(q.graph_name, q.subject) for q in oxstore})


def test_store_writer_streams_its_output(synthetic_store: GraphStore) -> None:
    out = _Recorder([0])
    jsonld.write_store(synthetic_store.open(), out, CTX)
    assert len(out.at_write) > 5  # many pieces, not one document built in memory
    assert max(len(piece) for piece in out.pieces) < 4 * jsonld._FLUSH_CHARS


def test_store_writer_one_graph(synthetic_store: GraphStore) -> None:
    oxstore = synthetic_store.open()
    name = next(g for g in oxstore.named_graphs() if isinstance(g, ox.NamedNode) and "/article/" in g.value)
    data = _write_store(oxstore, graph=name.value)
    assert _ox_parse(data) == set(oxstore.quads_for_pattern(None, None, None, name))


def test_store_writer_indented(tmp_path: Path) -> None:
    store = ox.Store(str(tmp_path / "store"))
    store.extend(_tricky_quads())
    data = _write_store(store, indent=True)
    assert b'\n  "@id"' in data
    assert _ox_parse(data) == set(store)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.text(st.characters(blacklist_categories=["Cs"]), max_size=12), min_size=1, max_size=8),
       lang=st.sampled_from(["en", "de-CH", "x-private"]))
def test_store_writer_is_exact_for_any_string(texts: list[str], lang: str) -> None:
    store = ox.Store()
    g = ox.NamedNode(EX + "g")
    for i, text in enumerate(texts):
        s = ox.NamedNode(f"https://w3id.org/ivig-kg/resource/s{i % 3}")
        store.add(ox.Quad(s, ox.NamedNode(term("statement")), ox.Literal(text), g))
        store.add(ox.Quad(s, ox.NamedNode(RDFS_LABEL), ox.Literal(text, language=lang), g))
        store.add(ox.Quad(s, ox.NamedNode(EX + "t"), ox.Literal(text, datatype=ox.NamedNode(EX + "dt")), g))
    data = _write_store(store)
    assert _ox_parse(data) == set(store)


def test_rdf_star_terms_are_refused() -> None:
    s = ox.NamedNode(EX + "s")
    triple = ox.Triple(s, ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"))
    with pytest.raises(ValueError, match="RDF-star"):
        jsonld.write([ox.Quad(s, ox.NamedNode(EX + "q"), triple)], io.BytesIO(), CTX)
