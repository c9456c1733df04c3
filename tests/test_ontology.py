"""The OWL ontology and the JSON-LD context against the terms the builder emits.

``src/ivig_kg/vocab.py`` is the single list of ontology terms; these tests check that
``ontology/ivig-trial.ttl`` declares every one of them (and nothing else in the ivig
namespace) as vocab.py describes it, that it parses the same with rdflib and
pyoxigraph, that owlready2 loads it without fetching anything, that every external
IRI it uses is either a known term of an allow-listed W3C/DCMI/SPAR vocabulary or a
verified identifier of ``data/reference/identifiers.tsv``, and that
``ontology/context.jsonld`` is a usable JSON-LD 1.1 context for the same terms.
"""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import owlready2
import pyoxigraph
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib import namespace as rdflib_ns
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VANN

from ivig_kg import vocab

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology" / "ivig-trial.ttl"
CONTEXT = ROOT / "ontology" / "context.jsonld"
IDENTIFIERS = ROOT / "data" / "reference" / "identifiers.tsv"

IVIG = Namespace(vocab.IVIG)
OBO = Namespace(vocab.OBO)
ONTOLOGY_IRI = URIRef(vocab.ONTOLOGY_IRI)
# a plain Namespace: pytest probes module globals, and rdflib's XSD warns on that
XSD = Namespace(vocab.XSD)

KINDS = {
    "class": (vocab.CLASSES, OWL.Class),
    "object property": (vocab.OBJECT_PROPERTIES, OWL.ObjectProperty),
    "data property": (vocab.DATA_PROPERTIES, OWL.DatatypeProperty),
    "individual": (vocab.INDIVIDUALS, OWL.NamedIndividual),
}
ALL_TERMS = [local for terms, _ in KINDS.values() for local in terms]
PROPERTIES = {**vocab.OBJECT_PROPERTIES, **vocab.DATA_PROPERTIES}

# --- allow-list of external vocabularies ---------------------------------------
# W3C and DCMI vocabularies that rdflib ships closed definitions of: a term is
# accepted only if rdflib knows it (so a typo such as skos:exactmatch fails).
CLOSED_NAMESPACES = (RDF, RDFS, OWL, rdflib_ns.XSD, SKOS, DCTERMS, PROV, VANN, FOAF)
# Vocabularies rdflib does not define: the terms the ontology may use, each
# checked by hand against the vocabulary's own documentation.
KNOWN_TERMS = {
    "http://www.w3.org/ns/oa#": {
        "SpecificResource", "hasSource", "hasSelector", "TextQuoteSelector", "exact",
        "prefix", "suffix", "TextPositionSelector", "start", "end",
    },
    "http://purl.org/spar/fabio/": {"JournalArticle", "Comment", "hasPublicationYear"},
    "http://purl.org/ontology/bibo/": {
        "AcademicArticle", "Journal", "volume", "pageStart", "pageEnd",
    },
    "https://creativecommons.org/licenses/": {"by/4.0/"},
}
SCHEMA_HTTP = "http://schema.org/"  # vocab.SCHEMA; rdflib's SDO is the https form

EXTERNAL_PREFIXES = {
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "MONDO": "http://purl.obolibrary.org/obo/MONDO_",
    "DOID": "http://purl.obolibrary.org/obo/DOID_",
    "snomedct": "http://snomed.info/id/",
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
    "CHEBI": "http://purl.obolibrary.org/obo/CHEBI_",
    "OBI": "http://purl.obolibrary.org/obo/OBI_",
    "STATO": "http://purl.obolibrary.org/obo/STATO_",
    "pubmed": "https://pubmed.ncbi.nlm.nih.gov/",
    "doi": "https://doi.org/",
    "drugbank": "https://go.drugbank.com/drugs/",
    "atc": "http://www.whocc.no/atc_ddd_index/?code=",
    "sssom": "https://w3id.org/sssom/",
    "semapv": "https://w3id.org/semapv/vocab/",
}


# --- fixtures and helpers --------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


@pytest.fixture(scope="module")
def context() -> dict:
    with CONTEXT.open(encoding="utf-8") as f:
        return json.load(f)["@context"]


def verified_iris() -> set[str]:
    with IDENTIFIERS.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(
            (line for line in f if not line.startswith("#")), delimiter="\t"
        )
        return {row["iri"] for row in rows if row["iri"]}


def class_set(g: Graph, node) -> set[str]:
    """The ivig local names a domain/range denotes: one class, or an owl:unionOf."""
    if isinstance(node, URIRef):
        return {node.removeprefix(vocab.IVIG) if node.startswith(vocab.IVIG) else node.n3()}
    assert isinstance(node, BNode), f"unexpected class expression {node!r}"
    assert (node, RDF.type, OWL.Class) in g
    members = g.value(node, OWL.unionOf)
    assert members is not None, "an anonymous domain/range must be an owl:unionOf"
    return set().union(*(class_set(g, m) for m in Collection(g, members)))


def expected_signature(spec: str) -> tuple[set[str], set[str]]:
    """Domain and range classes from vocab.py's 'A or B -> C, D or E (remark)'."""
    left, right = spec.split("->")

    def names(part: str) -> set[str]:
        part = part.split("(")[0]
        found = re.findall(r"(?:xsd|rdf):\w+|\b[A-Z]\w*", part)
        return {n for n in found if n in vocab.CLASSES or n.startswith(("xsd:", "rdf:"))}

    return names(left), names(right)


def told_superclasses(g: Graph, cls: URIRef) -> set[URIRef]:
    seen = {cls}
    todo = [cls]
    while todo:
        for sup in g.objects(todo.pop(), RDFS.subClassOf):
            if isinstance(sup, URIRef) and sup not in seen:
                seen.add(sup)
                todo.append(sup)
    return seen


def disjoint_pairs(g: Graph) -> set[frozenset[URIRef]]:
    pairs = {frozenset((a, b)) for a, b in g.subject_objects(OWL.disjointWith)}
    for axiom in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(axiom, OWL.members)))
        pairs |= {frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:]}
    return pairs


def lang_literals(g: Graph, subject: URIRef, predicate: URIRef) -> list[Literal]:
    return [o for o in g.objects(subject, predicate) if isinstance(o, Literal)]


# --- parsing -------------------------------------------------------------------------


def test_rdflib_and_pyoxigraph_parse_the_same_triples(graph: Graph) -> None:
    quads = list(pyoxigraph.parse(path=str(ONTOLOGY), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(graph) > 500
    assert len(quads) == len(graph)
    ntriples = pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert isomorphic(Graph().parse(data=ntriples, format="nt"), graph)


# --- header ---------------------------------------------------------------------------


def test_header(graph: Graph) -> None:
    assert list(graph.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    assert graph.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef(vocab.ONTOLOGY_VERSION_IRI)
    for predicate in (DCTERMS.title, DCTERMS.description):
        values = lang_literals(graph, ONTOLOGY_IRI, predicate)
        assert len(values) == 1 and values[0].language == "en", predicate
    assert len(graph.value(ONTOLOGY_IRI, DCTERMS.description)) > 200
    assert graph.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert graph.value(ONTOLOGY_IRI, DCTERMS.created) == Literal("2026-11-24", datatype=XSD.date)
    assert graph.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix) == Literal("ivig")
    assert graph.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri) == Literal(vocab.IVIG)


def test_no_imports(graph: Graph) -> None:
    assert not list(graph.triples((None, OWL.imports, None)))


def test_description_documents_the_provenance_pattern(graph: Graph) -> None:
    text = str(graph.value(ONTOLOGY_IRI, DCTERMS.description))
    for name in ("prov:wasDerivedFrom", "oa:SpecificResource", "oa:hasSource", "oa:hasSelector",
                 "oa:TextQuoteSelector", "oa:exact", "oa:prefix", "oa:suffix",
                 "oa:TextPositionSelector", "oa:start", "oa:end"):
        assert name in text, name


# --- terms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "local"), [(kind, local) for kind, (terms, _) in KINDS.items() for local in terms]
)
def test_term_is_declared_labelled_and_defined(graph: Graph, kind: str, local: str) -> None:
    iri = IVIG[local]
    owl_type = KINDS[kind][1]
    assert (iri, RDF.type, owl_type) in graph, f"ivig:{local} is not declared as {kind}"

    labels = lang_literals(graph, iri, RDFS.label)
    assert len(labels) == 1, f"ivig:{local} needs exactly one rdfs:label"
    assert labels[0].language == "en"
    assert labels[0][0].islower(), f"label of ivig:{local} is not a lowercase phrase"

    definitions = lang_literals(graph, iri, SKOS.definition)
    assert len(definitions) == 1, f"ivig:{local} needs exactly one skos:definition"
    definition = definitions[0]
    assert definition.language == "en"
    assert len(definition) >= 25 and definition.endswith("."), f"weak definition of ivig:{local}"
    assert definition.lower().rstrip(".") != str(labels[0]).lower()


@pytest.mark.parametrize(("local", "cls"), sorted(vocab.INDIVIDUALS.items()))
def test_individual_has_its_class(graph: Graph, local: str, cls: str) -> None:
    types = set(graph.objects(IVIG[local], RDF.type))
    assert types == {OWL.NamedIndividual, IVIG[cls]}


def test_no_other_ivig_terms(graph: Graph) -> None:
    """Every ivig: IRI in the file is a vocab.py term (catches typos and strays)."""
    used = {
        node.removeprefix(vocab.IVIG)
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and node.startswith(vocab.IVIG)
    }
    assert used - set(ALL_TERMS) == set()


def test_term_kinds_are_exclusive(graph: Graph) -> None:
    for local in ALL_TERMS:
        declared = {t for t in graph.objects(IVIG[local], RDF.type)
                    if t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
                             OWL.AnnotationProperty)}
        assert len(declared) <= 1, f"ivig:{local} is punned: {declared}"


def test_labels_are_unique(graph: Graph) -> None:
    labels = [str(graph.value(IVIG[local], RDFS.label)) for local in ALL_TERMS]
    duplicates = {label for label in labels if labels.count(label) > 1}
    assert not duplicates


# --- properties ---------------------------------------------------------------------------


@pytest.mark.parametrize(("local", "spec"), sorted(PROPERTIES.items()))
def test_property_domain_and_range_follow_vocab(graph: Graph, local: str, spec: str) -> None:
    domains = list(graph.objects(IVIG[local], RDFS.domain))
    ranges = list(graph.objects(IVIG[local], RDFS.range))
    assert len(domains) == 1 and len(ranges) == 1, f"ivig:{local}: one domain and one range"
    want_domain, want_range = expected_signature(spec)
    assert want_domain and want_range, f"cannot read vocab.py spec {spec!r}"
    assert class_set(graph, domains[0]) == want_domain
    if local in vocab.DATA_PROPERTIES:
        (datatype,) = want_range
        prefix, _, name = datatype.partition(":")
        assert ranges[0] == (XSD if prefix == "xsd" else RDF)[name]
    else:
        assert class_set(graph, ranges[0]) == want_range


@pytest.mark.parametrize(
    "local",
    ["pointEstimate", "ciLower", "ciUpper", "ciLevel", "pValue", "pValueMin", "pValueMax",
     "sampleSize", "amount", "unitCode", "isPrimary", "year", "perBodyWeight", "timeOffset",
     "estimates", "measureType", "experimentalArm", "comparatorArm", "ofArm", "findingType"],
)
def test_single_valued_properties_are_functional(graph: Graph, local: str) -> None:
    assert (IVIG[local], RDF.type, OWL.FunctionalProperty) in graph


def test_given_before_and_after_are_inverse(graph: Graph) -> None:
    assert (IVIG.givenBefore, OWL.inverseOf, IVIG.givenAfter) in graph
    assert (IVIG.givenAfter, OWL.inverseOf, IVIG.givenBefore) in graph


def test_author_specialises_dcterms_creator(graph: Graph) -> None:
    assert (IVIG.author, RDFS.subPropertyOf, DCTERMS.creator) in graph
    # an object property may only specialise an object property (OWL 2 DL)
    assert (DCTERMS.creator, RDF.type, OWL.ObjectProperty) in graph


# --- class axioms ---------------------------------------------------------------------------

SUBCLASS_AXIOMS = [
    ("RandomizedControlledTrial", IVIG.Study),
    ("ExternalComparatorStudy", IVIG.Study),
    ("ExternalComparatorStudy", IVIG.Comparator),
    ("ExperimentalArm", IVIG.Arm),
    ("PlaceboArm", IVIG.Arm),
    ("PlaceboArm", IVIG.Comparator),
    ("Commentary", IVIG.Publication),
    ("EffectEstimate", IVIG.Estimate),
    ("ArmEstimate", IVIG.Estimate),
    ("Condition", IVIG.Concept),
    ("Intervention", IVIG.Concept),
    ("Measure", IVIG.Concept),
    ("Person", PROV.Agent),
    ("SourceDocument", PROV.Entity),
]


@pytest.mark.parametrize(("sub", "sup"), SUBCLASS_AXIOMS)
def test_subclass_axiom(graph: Graph, sub: str, sup: URIRef) -> None:
    assert (IVIG[sub], RDFS.subClassOf, sup) in graph


def test_core_classes_are_pairwise_disjoint(graph: Graph) -> None:
    core = ["Arm", "Study", "Outcome", "Estimate", "Finding", "Claim", "Population", "Dose",
            "DosingSchedule", "Publication", "Person", "Concept"]
    pairs = disjoint_pairs(graph)
    missing = [(a, b) for i, a in enumerate(core) for b in core[i + 1:]
               if frozenset((IVIG[a], IVIG[b])) not in pairs]
    assert not missing


def test_no_class_is_made_unsatisfiable_by_told_disjointness(graph: Graph) -> None:
    """A placebo arm is an Arm and a Comparator, an external comparator study a Study
    and a Comparator: no class may have two told superclasses declared disjoint."""
    pairs = disjoint_pairs(graph)
    for local in vocab.CLASSES:
        supers = told_superclasses(graph, IVIG[local])
        clashes = [tuple(p) for p in pairs if p <= supers]
        assert not clashes, f"ivig:{local} is unsatisfiable: {clashes}"
    for other in ("Arm", "Study", "PlaceboArm", "ExternalComparatorStudy"):
        assert frozenset((IVIG.Comparator, IVIG[other])) not in pairs


def test_classes_used_in_axioms_are_declared(graph: Graph) -> None:
    """Without imports, every class an axiom names must be declared here (OWL 2 DL)."""
    used: set[URIRef] = set()
    for s, o in graph.subject_objects(RDFS.subClassOf | OWL.disjointWith):
        used |= {n for n in (s, o) if isinstance(n, URIRef)}
    for predicate in (RDFS.domain, RDFS.range):
        used |= {o for o in graph.objects(None, predicate)
                 if isinstance(o, URIRef) and not o.startswith(str(XSD)) and o != RDF.PlainLiteral}
    for union in graph.objects(None, OWL.unionOf):
        used |= set(Collection(graph, union))
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        used |= set(Collection(graph, graph.value(axiom, OWL.members)))
    undeclared = {c for c in used if (c, RDF.type, OWL.Class) not in graph}
    assert not undeclared


# --- alignments and external IRIs ----------------------------------------------------------

MAPPINGS = [
    (IVIG.RandomizedControlledTrial, SKOS.exactMatch, OBO.OBI_0004001),
    (IVIG.Study, SKOS.closeMatch, OBO.OBI_0003699),
    (IVIG.HazardRatio, SKOS.exactMatch, OBO.STATO_0000677),
    (IVIG.RateRatio, SKOS.exactMatch, OBO.STATO_0000680),
    (IVIG.EventRate, SKOS.closeMatch, OBO.STATO_0000672),
    (IVIG.pValue, SKOS.exactMatch, OBO.STATO_0000700),
    (IVIG.pValue, SKOS.exactMatch, OBO.OBI_0000175),
    (IVIG.DoubleBlind, SKOS.exactMatch, OBO.OBI_0000793),
    (IVIG.ParallelGroup, SKOS.exactMatch, OBO.OBI_0500006),
    (IVIG.PlaceboArm, SKOS.closeMatch, OBO.OBI_0000825),
    (IVIG.Publication, SKOS.closeMatch, URIRef("http://purl.org/spar/fabio/JournalArticle")),
    (IVIG.Publication, SKOS.closeMatch, URIRef("http://purl.org/ontology/bibo/AcademicArticle")),
    (IVIG.volume, SKOS.closeMatch, URIRef("http://purl.org/ontology/bibo/volume")),
    (IVIG.pageStart, SKOS.closeMatch, URIRef("http://purl.org/ontology/bibo/pageStart")),
    (IVIG.pageEnd, SKOS.closeMatch, URIRef("http://purl.org/ontology/bibo/pageEnd")),
    (IVIG.hasSourceDocument, RDFS.seeAlso, PROV.wasDerivedFrom),
]


@pytest.mark.parametrize("triple", MAPPINGS, ids=lambda t: t[0].removeprefix(vocab.IVIG))
def test_alignment(graph: Graph, triple: tuple[URIRef, URIRef, URIRef]) -> None:
    assert triple in graph


@pytest.mark.parametrize("local", ["ciLower", "ciUpper", "ciLevel"])
def test_confidence_interval_properties_point_to_stato(graph: Graph, local: str) -> None:
    related = set(graph.objects(IVIG[local], SKOS.relatedMatch)) | set(
        graph.objects(IVIG[local], RDFS.seeAlso)
    )
    assert OBO.STATO_0000196 in related


def test_external_classes_are_mapped_not_subclassed(graph: Graph) -> None:
    for sup in graph.objects(None, RDFS.subClassOf):
        if isinstance(sup, URIRef) and not sup.startswith(vocab.IVIG):
            assert sup in (PROV.Agent, PROV.Entity), f"subclass of external {sup}"


def _allowed_external(iri: str) -> bool:
    for ns in CLOSED_NAMESPACES:
        if iri.startswith(str(ns)):
            return URIRef(iri) in ns
    if iri.startswith(SCHEMA_HTTP):
        return URIRef("https://schema.org/" + iri.removeprefix(SCHEMA_HTTP)) in rdflib_ns.SDO
    for ns, terms in KNOWN_TERMS.items():
        if iri.startswith(ns):
            return iri.removeprefix(ns) in terms
    return False


def test_every_external_iri_is_allow_listed_or_verified(graph: Graph) -> None:
    verified = verified_iris()
    assert "http://purl.obolibrary.org/obo/STATO_0000677" in verified  # the table is read
    external = set()
    for triple in graph:
        for node in triple:
            if isinstance(node, Literal) and node.datatype is not None:
                node = node.datatype
            if isinstance(node, URIRef) and not node.startswith(vocab.BASE):
                external.add(str(node))
    unknown = sorted(i for i in external if not _allowed_external(i) and i not in verified)
    assert not unknown, f"unverified external IRIs: {unknown}"
    assert any(i.startswith(vocab.OBO) for i in external)


def test_allow_list_rejects_unknown_terms() -> None:
    assert _allowed_external(str(SKOS.exactMatch))
    assert not _allowed_external(str(SKOS) + "exactmatch")
    assert not _allowed_external("http://purl.org/spar/fabio/JournalArticles")
    assert not _allowed_external("http://purl.obolibrary.org/obo/STATO_0000677")


# --- owlready2 ----------------------------------------------------------------------------


def test_owlready2_loads_the_ontology_offline(graph: Graph, tmp_path: Path) -> None:
    nt = tmp_path / "ivig-trial.nt"
    graph.serialize(nt, format="nt", encoding="utf-8")
    world = owlready2.World()
    try:
        onto = world.get_ontology(nt.as_uri()).load()
        assert onto.imported_ontologies == []
        # only the local file and the ontology's own namespace: nothing was fetched
        for key in world.ontologies:
            assert key.startswith(("file:", vocab.BASE, "http://anonymous")), key

        for local in vocab.CLASSES:
            assert isinstance(world[IVIG[local]], owlready2.ThingClass), local
        for local in vocab.OBJECT_PROPERTIES:
            assert isinstance(world[IVIG[local]], owlready2.ObjectPropertyClass), local
        for local in vocab.DATA_PROPERTIES:
            assert isinstance(world[IVIG[local]], owlready2.DataPropertyClass), local
        for local, cls in vocab.INDIVIDUALS.items():
            assert world[IVIG[cls]] in world[IVIG[local]].is_a, local

        placebo_arm = world[IVIG.PlaceboArm]
        assert {world[IVIG.Arm], world[IVIG.Comparator]} <= set(placebo_arm.is_a)
        assert world[IVIG.givenBefore].inverse_property is world[IVIG.givenAfter]
        assert owlready2.FunctionalProperty in world[IVIG.pointEstimate].is_a
        assert len(list(onto.disjoint_classes())) >= 1
    finally:
        world.close()


# --- JSON-LD context ----------------------------------------------------------------------


def test_context_is_json_ld_1_1(context: dict) -> None:
    assert context["@version"] == 1.1
    assert "id" not in context and "type" not in context
    assert context["label"] == {"@id": "rdfs:label"}


def test_context_has_the_project_prefixes(context: dict) -> None:
    for prefix, iri in vocab.PREFIXES.items():
        assert context.get(prefix) == iri, prefix


@pytest.mark.parametrize(("prefix", "iri"), sorted(EXTERNAL_PREFIXES.items()))
def test_context_has_the_mapping_prefixes(context: dict, prefix: str, iri: str) -> None:
    definition = context[prefix]
    if iri.endswith(("_", "=")):
        # not a gen-delim: JSON-LD 1.1 uses it as a prefix only when told to
        assert definition == {"@id": iri, "@prefix": True}
    else:
        assert definition == iri


@pytest.mark.parametrize("local", sorted(PROPERTIES))
def test_context_defines_every_property(graph: Graph, context: dict, local: str) -> None:
    definition = context[local]
    assert definition["@id"] == f"ivig:{local}"
    if local in vocab.OBJECT_PROPERTIES:
        assert definition["@type"] == "@id"
    else:
        datatype = graph.value(IVIG[local], RDFS.range)
        if datatype in (XSD.string, RDF.PlainLiteral):
            # plain JSON strings are xsd:string in RDF 1.1; coercing them would make
            # compaction miss untyped literals
            assert "@type" not in definition
        else:
            assert definition["@type"] == "xsd:" + datatype.removeprefix(str(XSD))


def _sample_graph() -> Graph:
    r = Namespace(vocab.resource_iri("demo") + "/")
    g = Graph()
    g.add((r["estimate/rr"], RDF.type, IVIG.EffectEstimate))
    g.add((r["estimate/rr"], IVIG.pointEstimate, Literal(Decimal("0.36"))))
    g.add((r["estimate/rr"], IVIG.measureType, IVIG.RateRatio))
    g.add((r["estimate/rr"], IVIG.experimentalArm, r["arm/ivig"]))
    g.add((r["estimate/rr"], RDFS.label, Literal("rate ratio of a second attack", lang="en")))
    g.add((r["study/achiron"], IVIG.studyDuration, Literal("P1Y", datatype=XSD.duration)))
    g.add((r["pub/achiron"], IVIG.year, Literal("2004", datatype=XSD.gYear)))
    g.add((r["pub/achiron"], IVIG.journal, Literal("Arch Neurol")))
    g.add((r["outcome/cdms"], IVIG.isPrimary, Literal(True)))
    g.add((r["population/esims"], IVIG.sampleSize, Literal(318)))
    g.add((IVIG.HazardRatio, SKOS.exactMatch, OBO.STATO_0000677))
    return g


def test_context_round_trips_a_graph_with_rdflib(context: dict) -> None:
    g = _sample_graph()
    text = g.serialize(format="json-ld", context=context)
    document = json.loads(text)
    nodes = document["@graph"]
    keys = {key for node in nodes for key in node}
    # the terms were used, not full IRIs
    assert {"pointEstimate", "measureType", "experimentalArm", "label", "studyDuration",
            "year", "journal", "isPrimary", "sampleSize"} <= keys
    assert not any(key.startswith(("ivig:", "https://w3id.org/")) for key in keys)
    assert {"@type": "EffectEstimate"}.items() <= next(
        n for n in nodes if "pointEstimate" in n
    ).items()
    assert isomorphic(Graph().parse(data=text, format="json-ld"), g)


def test_context_expands_the_mapping_prefixes(context: dict) -> None:
    document = {
        "@context": context,
        "@id": "ivigc:multiple-sclerosis",
        "skos:exactMatch": [{"@id": "MONDO:0005301"}, {"@id": "mesh:D009103"}],
        "skos:closeMatch": [{"@id": "atc:J06BA02"}, {"@id": "STATO:0000672"}],
        "rdfs:seeAlso": {"@id": "pubmed:15477504"},
    }
    g = Graph().parse(data=json.dumps(document), format="json-ld")
    subject = URIRef(vocab.concept_iri("multiple-sclerosis"))
    assert set(g.objects(subject, SKOS.exactMatch)) == {
        OBO.MONDO_0005301, URIRef("http://id.nlm.nih.gov/mesh/D009103"),
    }
    assert set(g.objects(subject, SKOS.closeMatch)) == {
        URIRef("http://www.whocc.no/atc_ddd_index/?code=J06BA02"), OBO.STATO_0000672,
    }
    assert g.value(subject, RDFS.seeAlso) == URIRef("https://pubmed.ncbi.nlm.nih.gov/15477504")
