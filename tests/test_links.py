"""Links to external terminologies: SSSOM files, the links graph, `ivig-kg links`, and their checks.

Independent parts are used wherever one exists: sssom-py reads our SSSOM files
(TSV) and our links graph (RDF); Bioregistry judges our prefix map offline;
the verified identifier table (data/reference/identifiers.tsv) judges every
identifier, label and source; the ontology's own SKOS annotations judge the
mappings of ontology terms.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
import yaml
from typer.testing import CliRunner

from ivig_kg import export, formats, links, queries, resources, vocab
from ivig_kg.build import build
from ivig_kg.cli import app
from ivig_kg.errors import SourceErrors
from ivig_kg.store import GraphStore

from .conftest import BUNDLED_SOURCE, REPO

MAPPINGS = REPO / "data" / "mappings"
MAPPING_FILES = sorted(MAPPINGS.glob("*.sssom.tsv"))
BAD = Path(__file__).parent / "bad_mappings"
REFERENCE = REPO / "data" / "reference" / "identifiers.tsv"
ONTOLOGY = REPO / "ontology" / "ivig-trial.ttl"
SKOS = rdflib.Namespace(vocab.SKOS)
LINKS = ox.NamedNode(vocab.LINKS_GRAPH)
IVIG_KG = str(Path(sys.executable).parent / "ivig-kg")

# How the verified table names each scheme -> our (Bioregistry) prefix.
TABLE_SCHEMES = {
    "MeSH": "mesh", "MONDO": "MONDO", "DOID": "DOID", "SNOMED CT": "snomedct", "UMLS": "umls",
    "NCIT": "NCIT", "ICD-10": "icd10", "ChEBI": "CHEBI", "ATC": "atc", "DrugBank": "drugbank",
    "OBI": "OBI", "STATO": "STATO", "PubMed": "pubmed", "DOI": "doi",
}
CONFIDENCE = {"verified": "0.95", "secondary": "0.8"}

# Rows whose predicate deliberately differs from the table's `match` column, and why.
PREDICATE_DEVIATIONS = {
    # our concept is brain MRI; the table's exact match is for MRI in general
    ("ivigc:brain-mri", "mesh:D008279"): "skos:broadMatch",
    # the ontology relates these terms rather than equating them (its own SKOS annotations)
    ("ivig:RandomizedControlledTrial", "mesh:D016449"): "skos:relatedMatch",
    ("ivig:PlaceboControlled", "mesh:D010919"): "skos:relatedMatch",
    ("ivig:Study", "OBI:0003699"): "skos:closeMatch",
    ("ivig:ciLower", "STATO:0000196"): "skos:relatedMatch",
    ("ivig:ciUpper", "STATO:0000196"): "skos:relatedMatch",
    ("ivig:ciLevel", "STATO:0000196"): "skos:relatedMatch",
}

# Bioregistry gives no RDF IRI, or a different one, for these: the issue asks for these forms.
# PubMed: Bioregistry's RDF prefix is PubChem's reference namespace; DOI: its RDF prefix is the
# legacy http://dx.doi.org/; we use the forms of the verified table (and of the DOI Handbook).
IRI_EXCEPTIONS = {"pubmed", "doi"}


# --- helpers -----------------------------------------------------------------------------------


def table_rows() -> list[dict[str, str]]:
    with REFERENCE.open(encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))


def table_curie(row: dict[str, str]) -> str:
    local = row["id"].split(":", 1)[1] if ":" in row["id"] else row["id"]
    return f"{TABLE_SCHEMES[row['scheme']]}:{local}"


def table_by_curie() -> dict[str, dict[str, str]]:
    return {table_curie(r): r for r in table_rows()}


def our_rows() -> list[links.MappingRow]:
    return [row for mset in links.read_mappings() for row in mset.rows]


def clean(record: dict[str, Any]) -> dict[str, Any]:
    """A pandas record without its empty cells (sssom-py reads them as '' or NaN)."""
    return {k: v for k, v in record.items()
            if v not in ("", None) and not (isinstance(v, float) and math.isnan(v))}


def links_quads(store: ox.Store) -> list[ox.Quad]:
    return list(store.quads_for_pattern(None, None, None, LINKS))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


# --- the SSSOM files, read by sssom-py ----------------------------------------------------------


@pytest.mark.parametrize("path", MAPPING_FILES, ids=lambda p: p.name)
def test_sssom_py_reads_our_files_without_warnings_and_the_same_rows(
    path: Path, caplog: pytest.LogCaptureFixture, no_network: None
) -> None:
    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(path)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    mset, problems = links.read_mapping_set(path)
    assert problems == []
    date = mset.metadata["mapping_date"]
    theirs = [clean(rec) for rec in msdf.df.to_dict("records")]
    ours = [{**row.as_dict(), "mapping_date": date} for row in mset.rows]
    for rec in ours:
        if "confidence" in rec:
            rec["confidence"] = float(rec["confidence"])
    def key(rec: dict[str, Any]) -> tuple[str, str, str]:
        return rec["subject_id"], rec["predicate_id"], rec["object_id"]

    assert sorted(theirs, key=key) == sorted(ours, key=key)  # sssom-py sorts rows; same set
    # the set's metadata, and every CURIE expanded to the same IRI by their converter and ours
    header = {k: v for k, v in mset.metadata.items() if k not in ("curie_map", "mapping_date")}
    assert {k: msdf.metadata[k] for k in header} == header
    for row in mset.rows:
        for curie in (row.subject_id, row.object_id, row.predicate_id, row.mapping_justification):
            assert msdf.converter.expand(curie) == links.expand(curie), curie
    # sssom-py's own validators (JSON Schema, prefix map completeness, CURIE format): no findings
    reports = validate(msdf, [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness,
                              SchemaValidationType.StrictCurieFormat], fail_on_error=False)
    assert {k.value: v.results for k, v in reports.items()} == {
        "JsonSchema": [], "PrefixMapCompleteness": [], "StrictCurieFormat": []}


def test_links_graph_reads_back_as_the_same_mappings_with_sssom_py(oxstore: ox.Store) -> None:
    """Our RDF is SSSOM's RDF: sssom-py rebuilds each mapping set from the links graph."""
    from curies import Converter
    from sssom.parsers import from_sssom_rdf

    for mset in links.read_mappings():
        query = """CONSTRUCT { ?set ?p ?o . ?m ?mp ?mo } WHERE { GRAPH ?g {
            { ?set ?p ?o } UNION { ?set <https://w3id.org/sssom/mappings> ?m . ?m ?mp ?mo } } }"""
        triples = oxstore.query(query, substitutions={ox.Variable("set"): ox.NamedNode(mset.iri),
                                                      ox.Variable("g"): LINKS})
        assert isinstance(triples, ox.QueryTriples)
        graph = rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
        msdf = from_sssom_rdf(graph, prefix_map=Converter.from_prefix_map(links.PREFIX_MAP))
        assert msdf.metadata["mapping_set_id"] == mset.iri
        assert msdf.metadata["license"] == mset.metadata["license"]
        theirs = {(r["subject_id"], r["predicate_id"], r["object_id"]): r
                  for r in map(clean, msdf.df.to_dict("records"))}
        assert len(theirs) == len(mset.rows)
        for row in mset.rows:
            notation = row.scheme in links.SCHEMES and not links.SCHEMES[row.scheme].semantic
            key = (row.subject_id, "skos:notation" if notation else row.predicate_id, row.object_id)
            rec = theirs[key]
            assert rec["mapping_justification"] == row.mapping_justification
            assert rec["confidence"] == float(row.confidence)
            assert rec.get("object_label", "") == row.object_label
            assert rec["subject_label"] == row.subject_label
            assert rec["other"] == row.other
            assert str(rec["mapping_date"]) == mset.metadata["mapping_date"]
            if notation:  # the note names the mapping's real predicate
                assert f"{row.predicate_id} {row.object_id}" in rec["comment"]


# --- every identifier, label and source is the verified one -------------------------------------


def test_every_mapping_object_is_a_verified_identifier_with_its_label_and_source() -> None:
    table = table_by_curie()
    for row in our_rows():
        where = f"{row.path.name}:{row.line}"
        assert row.object_id in table, f"{where}: {row.object_id} is not in {REFERENCE.name}"
        ref = table[row.object_id]
        assert row.object_label == ref["label_as_found"], where
        assert row.extras == {"status": ref["status"], "source": ref["source"]}, where
        assert row.confidence == CONFIDENCE[ref["status"]], where
        expected = PREDICATE_DEVIATIONS.get((row.subject_id, row.object_id), f"skos:{ref['match']}Match")
        assert row.predicate_id == expected, where


def test_every_emitted_external_iri_is_in_the_verified_table(oxstore: ox.Store) -> None:
    verified_iris = {r["iri"] for r in table_rows() if r["iri"]}
    notations = {table_curie(r) for r in table_rows() if not r["iri"]}
    ours = (vocab.BASE, vocab.RDF, vocab.RDFS, vocab.OWL, vocab.SKOS, vocab.DCT, vocab.XSD,
            links.SSSOM, links.SEMAPV, "https://spdx.org/licenses/")
    emitted: set[str] = set()
    literal_ids: set[str] = set()
    for quad in links_quads(oxstore):
        for term in (quad.subject, quad.object):
            if isinstance(term, ox.NamedNode) and not term.value.startswith(ours):
                emitted.add(term.value)
            assert not isinstance(term, ox.BlankNode), quad
        if quad.predicate.value == vocab.SKOS + "notation":
            assert isinstance(quad.object, ox.Literal)
            literal_ids.add(quad.object.value)
    assert emitted <= verified_iris, emitted - verified_iris
    assert literal_ids == notations == {"umls:C0026769", "umls:C0751965", "icd10:G35"}
    # and every verified IRI the mapped rows name is emitted
    mapped = {table_by_curie()[r.object_id]["iri"] for r in our_rows()} - {""}
    assert mapped == emitted


def test_natalizumab_has_only_its_current_atc_code_and_the_change_is_recorded() -> None:
    rows = [r for r in our_rows() if r.subject_id == "ivigc:natalizumab" and r.scheme == "atc"]
    assert [r.object_id for r in rows] == ["atc:L04AG03"]
    assert "L04AA23 until 2023" in rows[0].comment and "2024" in rows[0].comment
    assert all("L04AA23" not in r.object_id for r in our_rows())


def test_subject_labels_are_the_graph_labels(oxstore: ox.Store) -> None:
    for row in our_rows():
        iri = ox.NamedNode(links.expand(row.subject_id))
        labels = {str(q.object.value) for q in oxstore.quads_for_pattern(iri, ox.NamedNode(vocab.RDFS + "label"), None)
                  if isinstance(q.object, ox.Literal)}
        assert row.subject_label in labels, (row.subject_id, labels)


def test_every_declared_concept_with_a_verified_identifier_is_mapped() -> None:
    data = yaml.safe_load(BUNDLED_SOURCE.read_text(encoding="utf-8"))
    declared = {f"ivigc:{c['id']}" for c in data["concepts"]}
    mapped = {r.subject_id for r in our_rows()}
    assert declared <= mapped, declared - mapped


def test_ontology_terms_mappings_equal_the_ontology_annotations() -> None:
    """The ontology's SKOS annotations to verified terms are exactly our ontology-terms mappings."""
    graph = rdflib.Graph().parse(ONTOLOGY, format="turtle")
    verified = {r["iri"] for r in table_rows() if r["iri"]}
    annotated = {
        (str(s), str(p), str(o))
        for p in (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
        for s, o in graph.subject_objects(p) if str(o) in verified
    }
    rows = links.read_mappings([MAPPINGS / "ontology-terms.sssom.tsv"])[0].rows
    mapped = {(links.expand(r.subject_id), links.MAPPING_PREDICATES[r.predicate_id], links.expand(r.object_id))
              for r in rows}
    assert mapped == annotated


def test_bibliography_maps_the_four_cited_articles() -> None:
    rows = links.read_mappings([MAPPINGS / "bibliography.sssom.tsv"])[0].rows
    by_pub: dict[str, set[str]] = {}
    for r in rows:
        by_pub.setdefault(r.subject_id, set()).add(r.object_id)
    prefix = "ivigr:ivig-ms-commentary/"
    assert by_pub == {
        prefix + "achiron-2004-article": {"pubmed:15477504", "doi:10.1001/archneur.61.10.1515"},
        prefix + "sorensen-2004-article": {"pubmed:15596745"},
        prefix + "hommes-2004-article": {"pubmed:15451222", "doi:10.1016/S0140-6736(04)17101-8"},
        prefix + "nejm-2000-article": {"pubmed:11006365", "doi:10.1056/NEJM200009283431301"},
    }


# --- prefix map against Bioregistry (offline) ----------------------------------------------------


def test_prefix_map_follows_bioregistry(no_network: None) -> None:
    import bioregistry

    for prefix, scheme in links.SCHEMES.items():
        canonical = bioregistry.normalize_prefix(prefix)
        assert canonical == prefix.lower(), prefix
        assert (bioregistry.get_preferred_prefix(canonical) or canonical) == prefix
        resource = bioregistry.get_resource(canonical)
        assert resource is not None
        rdf_prefix = resource.get_rdf_uri_prefix()
        if not scheme.semantic:
            assert rdf_prefix is None, prefix  # no semantic IRI: recorded as a notation
            assert scheme.uri_prefix == bioregistry.get_uri_prefix(canonical), prefix
        elif rdf_prefix and prefix not in IRI_EXCEPTIONS:
            assert scheme.uri_prefix == rdf_prefix, prefix
        else:
            assert scheme.uri_prefix in resource.get_uri_prefixes(), prefix
        # every verified id of the scheme is valid for Bioregistry's pattern and for ours
        pattern = resource.get_pattern()
        for row in table_rows():
            if TABLE_SCHEMES[row["scheme"]] == prefix:
                local = table_curie(row).split(":", 1)[1]
                assert re.fullmatch(scheme.pattern, local), (prefix, local)
                assert pattern is None or re.fullmatch(pattern, local), (prefix, local, pattern)


def test_prefix_map_agrees_with_our_json_ld_context_and_the_sssom_headers() -> None:
    context = export.context()["@context"]
    for prefix, ns in links.PREFIX_MAP.items():
        if prefix in links.SCHEMES and not links.SCHEMES[prefix].semantic:
            assert prefix not in context  # never an IRI, so no prefix needed
            continue
        entry = context[prefix]
        assert (entry["@id"] if isinstance(entry, dict) else entry) == ns, prefix
    for mset in links.read_mappings():
        for prefix, ns in mset.metadata["curie_map"].items():
            assert links.PREFIX_MAP[prefix] == ns


def test_curies_round_trip() -> None:
    for row in our_rows():
        for curie in (row.subject_id, row.object_id):
            assert links.compress(links.expand(curie)) == curie
    assert links.expand("MONDO:0005301") == "http://purl.obolibrary.org/obo/MONDO_0005301"
    assert links.expand("atc:J06BA02") == "http://www.whocc.no/atc_ddd_index/?code=J06BA02"
    assert links.external_iri("umls:C0026769") is None


# --- the graph ---------------------------------------------------------------------------------


def test_links_graph_carries_skos_links_labels_and_provenance(oxstore: ox.Store) -> None:
    def ask(q: str) -> bool:
        return bool(oxstore.query(q))

    assert ask("""ASK { GRAPH <https://w3id.org/ivig-kg/graph/links> {
        <https://w3id.org/ivig-kg/concept/multiple-sclerosis>
            <http://www.w3.org/2004/02/skos/core#exactMatch> <http://id.nlm.nih.gov/mesh/D009103> ,
            <http://purl.obolibrary.org/obo/MONDO_0005301> , <http://snomed.info/id/24700007> .
        <http://id.nlm.nih.gov/mesh/D009103> <http://www.w3.org/2000/01/rdf-schema#label> "Multiple Sclerosis" .
        ?m <http://www.w3.org/2002/07/owl#annotatedSource> <https://w3id.org/ivig-kg/concept/multiple-sclerosis> ;
           <http://www.w3.org/2002/07/owl#annotatedTarget> <http://id.nlm.nih.gov/mesh/D009103> ;
           <https://w3id.org/sssom/mapping_justification> <https://w3id.org/semapv/vocab/ManualMappingCuration> ;
           <https://w3id.org/sssom/other> "status=verified|source=MeSH Browser record D009103" .
        <https://w3id.org/ivig-kg/mappings/concepts.sssom.tsv> <https://w3id.org/sssom/mappings> ?m .
    } }""")
    n = len(our_rows())
    axioms = list(oxstore.quads_for_pattern(None, ox.NamedNode(vocab.RDF + "type"),
                                            ox.NamedNode(vocab.OWL + "Axiom"), LINKS))
    assert len(axioms) == n == 59


def test_two_builds_give_byte_identical_links(tmp_path: Path) -> None:
    """Same sources, same bytes: the contributor's N-Quads and the exported links graph."""
    from ivig_kg.build import BuildContext

    subjects = links.declared_subjects()
    context = BuildContext(
        concepts={iri.removeprefix(vocab.CONCEPT): p for iri, p in subjects.items() if iri.startswith(vocab.CONCEPT)},
        resources={iri: p for iri, p in subjects.items() if iri.startswith(vocab.RESOURCE)},
    )
    first, second = "".join(links.links_nquads(context)), "".join(links.links_nquads(context))
    assert first == second and "_:" not in first
    exported: list[bytes] = []
    for name in ("a", "b"):
        store = GraphStore(tmp_path / name)
        build(None, store)
        out = ox.serialize(store.open().quads_for_pattern(None, None, None, LINKS), format=ox.RdfFormat.N_QUADS)
        assert out is not None
        exported.append(out)
    assert exported[0] == exported[1]
    assert len(exported[0].splitlines()) == len(first.splitlines())


def test_exported_json_ld_compacts_external_iris_with_our_context(built_store: GraphStore) -> None:
    import io

    buf = io.BytesIO()
    export.export(built_store, formats.rdf_format("jsonld"), buf, vocab.LINKS_GRAPH)
    text = buf.getvalue().decode()
    doc = json.loads(text)
    assert doc["@context"] == export.context()["@context"]
    for compact in ('"mesh:D009103"', '"MONDO:0005301"', '"atc:J06BA02"', '"snomedct:24700007"',
                    '"pubmed:15477504"', '"drugbank:DB00028"', '"STATO:0000677"'):
        assert compact in text, compact
    for full in ("http://id.nlm.nih.gov/mesh/D009103", "http://purl.obolibrary.org/obo/MONDO_0005301"):
        assert f'"{full}"' not in text
    # and an independent JSON-LD processor expands it back to the same IRIs
    ds = rdflib.Dataset()
    ds.parse(data=text, format="json-ld")
    assert (rdflib.URIRef(vocab.CONCEPT + "ivig"), SKOS.exactMatch,
            rdflib.URIRef("http://www.whocc.no/atc_ddd_index/?code=J06BA02")) in ds.graph(
                rdflib.URIRef(vocab.LINKS_GRAPH))


# --- queries across the links -------------------------------------------------------------------


def rows_of(name: str, oxstore: ox.Store, **params: str) -> list[dict[str, str]]:
    res = queries.run(name, params, oxstore=oxstore)
    names = [v.value for v in res.variables]
    return [{n: sol[n].value for n in names if sol[n] is not None} for sol in res]


def test_multiple_sclerosis_resolves_to_mesh_and_mondo(oxstore: ox.Store) -> None:
    rows = rows_of("concept-identifiers", oxstore, concept="ivigc:multiple-sclerosis")
    ids = {(r["scheme"], r["identifier"]) for r in rows}
    assert ids == {("MeSH", "D009103"), ("MONDO", "0005301"), ("DOID", "2377"), ("SNOMED CT", "24700007"),
                   ("UMLS", "C0026769"), ("NCIT", "C3243"), ("ICD-10", "G35")}
    mesh = next(r for r in rows if r["scheme"] == "MeSH")
    assert mesh["external"] == "http://id.nlm.nih.gov/mesh/D009103"
    assert mesh["property"] == vocab.SKOS + "exactMatch"
    assert mesh["verification"] == "status=verified|source=MeSH Browser record D009103"


def test_ivig_resolves_to_atc_j06ba02(oxstore: ox.Store) -> None:
    rows = rows_of("interventions-atc", oxstore)
    ivig = next(r for r in rows if r["intervention"] == vocab.CONCEPT + "ivig")
    assert (ivig["atcCode"], ivig["drugbankId"]) == ("J06BA02", "DB00028")
    assert ivig["givenIn"].count("2004") == 3
    codes = {r["interventionLabel"]: r.get("atcCode") for r in rows}
    assert codes == {"intravenous immunoglobulin": "J06BA02", "methylprednisolone": "H02AB04",
                     "interferon beta-1a": "L03AB07", "glatiramer acetate": "L03AX13",
                     "natalizumab": "L04AG03", "placebo": None, "interferon beta": None}


def test_studies_by_mesh_walks_from_trials_to_descriptors(oxstore: ox.Store) -> None:
    rows = rows_of("studies-by-mesh", oxstore)
    found = {(r["study"].rsplit("/", 1)[1], r["meshId"], r["match"]) for r in rows}
    assert found == {("achiron-2004", "D009103", "exact"), ("achiron-2004", "D003711", "exact"),
                     ("sorensen-2004", "D012008", "broad"), ("hommes-2004", "D020528", "broad")}
    only = rows_of("studies-by-mesh", oxstore, mesh="http://id.nlm.nih.gov/mesh/D009103")
    assert [r["study"].rsplit("/", 1)[1] for r in only] == ["achiron-2004"]


def test_bibliography_links_query(oxstore: ox.Store) -> None:
    rows = {r["publication"].rsplit("/", 1)[1]: r for r in rows_of("bibliography-links", oxstore)}
    assert rows["achiron-2004-article"]["pmid"] == "15477504"
    assert rows["achiron-2004-article"]["doi"] == "10.1001/archneur.61.10.1515"
    assert rows["hommes-2004-article"]["doiLink"] == "https://doi.org/10.1016/S0140-6736(04)17101-8"
    assert "doi" not in rows["sorensen-2004-article"]
    assert rows["nejm-2000-article"]["pmid"] == "11006365"
    assert "pmid" not in rows["ivig-ms-commentary"]


# --- `ivig-kg links` and `ivig-kg links check` ---------------------------------------------------

runner = CliRunner()


def test_cli_lists_every_link_as_json_tsv_and_table() -> None:
    result = runner.invoke(app, ["links", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == len(our_rows()) == 59
    assert {"concept": "ivigc:ivig", "predicate": "skos:exactMatch", "external": "atc:J06BA02",
            "label": "immunoglobulins, normal human, for intravascular adm.", "source": "WHO ATC/DDD index",
            "file": "concepts.sssom.tsv"}.items() <= next(r for r in records if r["external"] == "atc:J06BA02").items()
    tsv = runner.invoke(app, ["links", "--scheme", "MONDO", "-f", "tsv"])
    lines = tsv.stdout.splitlines()
    assert lines[0].split("\t") == list(("concept", "predicate", "external", "label", "source", "file", "line"))
    assert [line.split("\t")[2] for line in lines[1:]] == ["MONDO:0005301", "MONDO:0000450"]
    table = runner.invoke(app, ["links", "--scheme", "atc"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "atc:J06BA02" in table.stdout and "mesh:" not in table.stdout


def test_cli_rejects_unknown_scheme_and_format() -> None:
    for args in (["links", "--scheme", "wikidata"], ["links", "--format", "xml"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output


def test_bundled_mappings_pass_the_check() -> None:
    report = links.check()
    assert report.ok, [str(p) for p in report.problems]
    assert report.rows == 59 and len(report.files) == 3
    result = runner.invoke(app, ["links", "check"])
    assert result.exit_code == 0 and "ok: 59 mapping(s) in 3 file(s)" in result.stderr


# fixture -> (line, what the message says): one fixture per rule of `links check`
BAD_CASES = {
    "bad-mesh-id": (15, "'9103' is not a valid MeSH id"),
    "bad-mondo-id": (15, "'5301' is not a valid Mondo id"),
    "bad-atc-code": (15, "'J06BA' is not a valid ATC id"),
    "bad-doi": (15, "is not a valid DOI id"),
    "bad-pubmed-id": (15, "'PMC15477504' is not a valid PubMed id"),
    "bad-snomed-id": (15, "is not a valid SNOMED CT id"),
    "unknown-prefix": (15, "unknown prefix 'MESH'"),
    "prefix-not-in-curie-map": (15, "prefix not in this file's curie_map"),
    "not-a-curie": (15, "'D009103' is not a CURIE"),
    "bad-predicate": (15, "'owl:sameAs' is not a SKOS mapping predicate"),
    "no-justification": (15, "mapping has no mapping_justification"),
    "bad-justification": (15, "'semapv:Guesswork' is not a SEMAPV justification"),
    "two-exact-matches": (15, "ivigc:multiple-sclerosis has a second exact match in mesh"),
    "undeclared-subject": (15, "'ivigc:not-declared-anywhere' is not a concept, publication or ontology term"),
    "external-subject": (15, "'mesh:D009103' is external"),
    "bad-confidence": (15, "confidence '1.5' is not a number from 0 to 1"),
    "ragged-row": (15, "row has 3 fields, the header 8"),
    "missing-license": (1, "metadata lacks 'license'"),
    "curie-map-mismatch": (1, "curie_map maps 'mesh' to 'https://meshb.nlm.nih.gov/record/ui?ui='"),
    "bad-yaml-header": (12, "metadata header is not valid YAML"),
    "missing-justification-column": (13, "table lacks column(s) mapping_justification"),
}


def test_every_bad_fixture_has_a_case() -> None:
    assert {p.name.removesuffix(".sssom.tsv") for p in BAD.glob("*.sssom.tsv")} == set(BAD_CASES)


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_check_reports_each_bad_row_with_file_and_line(name: str) -> None:
    path = BAD / f"{name}.sssom.tsv"
    line, message = BAD_CASES[name]
    report = links.check([path])
    assert not report.ok
    assert [(p.path, p.line) for p in report.problems] == [(path, line)], [str(p) for p in report.problems]
    assert message in report.problems[0].message
    result = runner.invoke(app, ["links", "check", "--mappings", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{line}: " in result.stderr and message in result.stderr
    assert "Traceback" not in result.output


def test_check_as_a_subprocess_exits_1_with_file_and_line() -> None:
    path = BAD / "two-exact-matches.sssom.tsv"
    proc = subprocess.run([IVIG_KG, "links", "check", "-m", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert f"{path}:15: ivigc:multiple-sclerosis has a second exact match in mesh" in proc.stderr
    assert "Traceback" not in proc.stderr
    ok = subprocess.run([IVIG_KG, "links", "--scheme", "atc", "-f", "tsv"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "ivigc:ivig\tskos:exactMatch\tatc:J06BA02" in ok.stdout


def test_build_refuses_a_mapping_whose_subject_is_not_a_concept(tmp_path: Path) -> None:
    """Articles that no longer declare natalizumab, beside the bundled mappings that name it -> no build."""
    src, maps = tmp_path / "data" / "articles", tmp_path / "data" / "mappings"
    src.mkdir(parents=True)
    shutil.copytree(MAPPINGS, maps)
    shutil.copy(BUNDLED_SOURCE.with_suffix(".txt"), src / BUNDLED_SOURCE.with_suffix(".txt").name)
    text = BUNDLED_SOURCE.read_text(encoding="utf-8")
    block = '  - id: natalizumab\n    label: natalizumab\n    kind: intervention\n    quote: "natalizumab"\n'
    assert block in text
    text = text.replace(block, "").replace("[interferon-beta, glatiramer-acetate, natalizumab]",
                                           "[interferon-beta, glatiramer-acetate]")
    (src / BUNDLED_SOURCE.name).write_text(text, encoding="utf-8")

    store_dir = tmp_path / "store"
    build(None, GraphStore(store_dir))
    before = sorted(p.relative_to(store_dir) for p in store_dir.rglob("*"))
    current = (store_dir / "CURRENT").read_text() if (store_dir / "CURRENT").exists() else None

    with pytest.raises(SourceErrors) as info:
        build([src], GraphStore(store_dir))
    lines = [r.line for r in our_rows() if r.subject_id == "ivigc:natalizumab"]
    assert len(lines) == 2
    assert [(e.location.path, e.location.line) for e in info.value.errors if e.location] == [
        (maps.resolve() / "concepts.sssom.tsv", line) for line in lines]
    assert "subject 'ivigc:natalizumab' is not a concept" in str(info.value)

    result = runner.invoke(app, ["build", str(src), "--store", str(store_dir)])
    assert result.exit_code == 1
    assert f"concepts.sssom.tsv:{lines[0]}: subject 'ivigc:natalizumab'" in result.stderr
    assert "Traceback" not in result.output
    # the existing store is left as it was
    assert sorted(p.relative_to(store_dir) for p in store_dir.rglob("*")) == before
    if current is not None:
        assert (store_dir / "CURRENT").read_text() == current

    # the same articles with the natalizumab rows removed from the mappings build, links included
    concepts = maps / "concepts.sssom.tsv"
    concepts.write_text("".join(line for line in concepts.read_text(encoding="utf-8").splitlines(keepends=True)
                                if not line.startswith("ivigc:natalizumab\t")), encoding="utf-8")
    build([src], GraphStore(store_dir))
    assert len(our_rows()) - 2 == len(list(GraphStore(store_dir).open().quads_for_pattern(
        None, ox.NamedNode(vocab.RDF + "type"), ox.NamedNode(vocab.OWL + "Axiom"), LINKS)))


def test_articles_elsewhere_build_without_the_bundled_mappings(tmp_path: Path) -> None:
    """Mappings travel with their articles: a copy of the article alone gets no links graph."""
    shutil.copy(BUNDLED_SOURCE, tmp_path / BUNDLED_SOURCE.name)
    shutil.copy(BUNDLED_SOURCE.with_suffix(".txt"), tmp_path / BUNDLED_SOURCE.with_suffix(".txt").name)
    store = GraphStore(tmp_path / "store")
    build([tmp_path / BUNDLED_SOURCE.name], store)
    assert links_quads(store.open()) == []
    assert links.mapping_dirs_for([BUNDLED_SOURCE]) == [MAPPINGS.resolve()]


def test_mapping_files_ship_with_the_package_resources() -> None:
    assert links.mappings_dir() == resources.data_dir() / "mappings"
    assert sorted(links.mapping_files()) == MAPPING_FILES
