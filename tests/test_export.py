"""Every export format round-trips: rdflib re-reads it as what the store holds."""

from __future__ import annotations

import io
import json

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from ivig_kg.errors import UsageError
from ivig_kg.export import export
from ivig_kg.formats import RDF_FORMATS, rdf_format
from ivig_kg.store import GraphStore
from ivig_kg.vocab import ONTOLOGY_GRAPH, article_graph_iri

from .conftest import assert_datasets_isomorphic

RDFLIB_NAMES = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt", "nquads": "nquads", "trig": "trig",
                "rdfxml": "xml"}


def store_dataset(store: GraphStore) -> rdflib.Dataset:
    ds = rdflib.Dataset()
    ds.parse(data=store.open().dump(format=ox.RdfFormat.N_QUADS), format="nquads")
    return ds


def union(ds: rdflib.Dataset) -> rdflib.Graph:
    g = rdflib.Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


@pytest.mark.parametrize("name", list(RDF_FORMATS))
def test_export_round_trips_through_rdflib(built_store: GraphStore, name: str) -> None:
    fmt = RDF_FORMATS[name]
    buf = io.BytesIO()
    export(built_store, fmt, buf)
    expected = store_dataset(built_store)
    if fmt.datasets:
        got = rdflib.Dataset()
        got.parse(data=buf.getvalue(), format=RDFLIB_NAMES[name])
        assert_datasets_isomorphic(got, expected)
    else:
        got_graph = rdflib.Graph()
        got_graph.parse(data=buf.getvalue(), format=RDFLIB_NAMES[name])
        assert isomorphic(got_graph, union(expected))


def test_one_named_graph_exports_alone(built_store: GraphStore) -> None:
    buf = io.BytesIO()
    export(built_store, RDF_FORMATS["turtle"], buf, graph=ONTOLOGY_GRAPH)
    g = rdflib.Graph().parse(data=buf.getvalue(), format="turtle")
    expected = store_dataset(built_store).graph(rdflib.URIRef(ONTOLOGY_GRAPH))
    assert isomorphic(g, expected)
    assert (None, None, rdflib.URIRef(article_graph_iri("ivig-ms-commentary"))) not in g


def test_turtle_uses_our_prefixes(built_store: GraphStore) -> None:
    buf = io.BytesIO()
    export(built_store, RDF_FORMATS["turtle"], buf)
    head = buf.getvalue()[:2000].decode()
    assert "@prefix ivig: <https://w3id.org/ivig-kg/ontology#>" in head


def test_jsonld_is_compacted_with_our_context(built_store: GraphStore) -> None:
    buf = io.BytesIO()
    export(built_store, RDF_FORMATS["jsonld"], buf, graph=article_graph_iri("ivig-ms-commentary"))
    doc = json.loads(buf.getvalue())
    text = json.dumps(doc)
    assert "@context" in doc
    assert "https://w3id.org/ivig-kg/ontology#pointEstimate" not in text  # compacted to a term
    assert "pointEstimate" in text


def test_unknown_graph_is_a_usage_error_listing_graphs(built_store: GraphStore) -> None:
    with pytest.raises(UsageError, match="graphs:"):
        export(built_store, RDF_FORMATS["turtle"], io.BytesIO(), graph="https://example.org/none")


@pytest.mark.parametrize(("name", "expected"), [("ttl", "turtle"), ("json-ld", "jsonld"), ("nt", "ntriples"),
                                                ("nq", "nquads"), ("xml", "rdfxml"), ("TriG", "trig")])
def test_format_aliases(name: str, expected: str) -> None:
    assert rdf_format(name).name == expected


def test_format_from_output_extension(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    assert rdf_format(None, Path("out.ttl")).name == "turtle"
    assert rdf_format(None, Path("out.nq")).name == "nquads"
    assert rdf_format(None, Path("out.jsonld")).name == "jsonld"
    with pytest.raises(UsageError):
        rdf_format(None, Path("out.docx"))
    with pytest.raises(UsageError):
        rdf_format("yaml")
