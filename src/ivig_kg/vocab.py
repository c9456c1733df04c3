"""Namespaces, IRI minting and the ontology terms the builder emits.

Every IRI ivig-kg writes is minted here, so the graph's shape has one owner
and the ontology can be checked against it (``tests/test_ontology.py``).
"""

from __future__ import annotations

from typing import Final

BASE: Final = "https://w3id.org/ivig-kg/"
"""Base of every IRI the builder mints; the server maps it onto its own URL."""

IVIG: Final = BASE + "ontology#"
ONTOLOGY_IRI: Final = BASE + "ontology"
ONTOLOGY_VERSION_IRI: Final = BASE + "ontology/0.1.0"
CONCEPT: Final = BASE + "concept/"
RESOURCE: Final = BASE + "resource/"
GRAPH: Final = BASE + "graph/"

ONTOLOGY_GRAPH: Final = GRAPH + "ontology"
LINKS_GRAPH: Final = GRAPH + "links"
CONCEPTS_GRAPH: Final = GRAPH + "concepts"
"""Each concept's types and labels, written once however many articles name it."""
INFERRED_GRAPH: Final = GRAPH + "inferred"

RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
OWL: Final = "http://www.w3.org/2002/07/owl#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
DCT: Final = "http://purl.org/dc/terms/"
PROV: Final = "http://www.w3.org/ns/prov#"
OA: Final = "http://www.w3.org/ns/oa#"
FABIO: Final = "http://purl.org/spar/fabio/"
BIBO: Final = "http://purl.org/ontology/bibo/"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
SCHEMA: Final = "http://schema.org/"
OBO: Final = "http://purl.obolibrary.org/obo/"

PREFIXES: Final[dict[str, str]] = {
    "ivig": IVIG,
    "ivigc": CONCEPT,
    "ivigr": RESOURCE,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCT,
    "prov": PROV,
    "oa": OA,
    "fabio": FABIO,
    "bibo": BIBO,
    "foaf": FOAF,
    "schema": SCHEMA,
    "obo": OBO,
}
"""Prefixes used in Turtle/TriG exports, canned queries and the JSON-LD context."""


def concept_iri(concept_id: str) -> str:
    """A concept (condition, drug, measure...) shared by every article that names it."""
    return CONCEPT + concept_id


def resource_iri(article_id: str, *path: str) -> str:
    """An entity of one article: ``resource/{article}/{path...}``."""
    return RESOURCE + "/".join((article_id, *path))


def article_graph_iri(article_id: str) -> str:
    """The named graph holding one article's facts."""
    return GRAPH + "article/" + article_id


# --- Ontology terms -----------------------------------------------------------
# Kept as plain dicts (local name -> what it is) so tests can check that the
# ontology declares every term the builder emits.

CLASSES: Final[dict[str, str]] = {
    "Publication": "a published article with its bibliographic details",
    "Commentary": "an article that summarises and judges other publications",
    "SourceDocument": "the plain text of an article from which facts were curated",
    "Person": "an author or editor",
    "Study": "a clinical study reported in a publication",
    "RandomizedControlledTrial": "a study whose participants are randomly allocated to arms",
    "ExternalComparatorStudy": "a study outside the reviewed set that a commentary compares with",
    "Comparator": "what an intervention is compared with: a placebo arm or another study",
    "Population": "the participants of a study",
    "PopulationCharacteristic": "a stated summary figure of a population (mean age, share...)",
    "CharacteristicType": "a kind of population characteristic",
    "Arm": "a group of participants receiving one regimen",
    "ExperimentalArm": "an arm receiving the intervention under test",
    "PlaceboArm": "an arm receiving placebo",
    "Intervention": "a drug or other treatment given in an arm",
    "Condition": "a disease or clinical state",
    "Measure": "an instrument or procedure used to assess an outcome",
    "Concept": "a named concept of the article that may map to external terms",
    "Dose": "an amount of an intervention given at one administration",
    "DoseRole": "the role of a dose in a regimen (loading, booster...)",
    "Route": "a route of administration",
    "DosingSchedule": "when and how often doses are given",
    "Outcome": "a measured result of interest in a study",
    "Estimate": "a numeric result reported for an outcome",
    "EffectEstimate": "a numeric comparison of two arms (ratio, difference)",
    "ArmEstimate": "a numeric result of a single arm (a rate)",
    "MeasureType": "a kind of statistic (hazard ratio, rate ratio...)",
    "Finding": "a result stated without a point estimate",
    "FindingType": "a kind of finding (significant difference, no difference...)",
    "Direction": "which arm a result favours",
    "Claim": "a conclusion stated by a commentary or a study",
    "DesignFeature": "a property of a study design (randomized, double-blind...)",
    # OWL defined classes: inferred by the reasoner (reason.py) into the inferred graph, never emitted
    "StatisticallySignificantResult": "(inferred) an estimate or finding significant at the 5% level",
    "StatisticallySignificantEstimate": "(inferred) a significant numeric estimate",
    "SignificantBenefit": "(inferred) a significant result favouring the intervention",
    "StudyShowingBenefit": "(inferred) a study with a significant result favouring the intervention",
    "StudyWithoutBenefit": "(inferred) an RCT with no significant result favouring the intervention",
    "FirstDemyelinatingEventTrial": "(inferred) a study in a first-demyelinating-event population",
}

OBJECT_PROPERTIES: Final[dict[str, str]] = {
    "author": "Publication -> Person",
    "cites": "Commentary -> Publication",
    "hasSourceDocument": "Publication -> SourceDocument",
    "reportedIn": "Study -> Publication",
    "discusses": "Commentary -> Study",
    "hasDesignFeature": "Study -> DesignFeature",
    "studiesCondition": "Study -> Condition",
    "hasPopulation": "Study -> Population",
    "hasArm": "Study -> Arm",
    "hasOutcome": "Study -> Outcome",
    "hasFinding": "Study -> Finding",
    "hasEstimate": "Study -> Estimate",
    "hasClaim": "Publication or Study -> Claim",
    "comparedWith": "ExternalComparatorStudy -> Study",
    "hasCondition": "Population -> Condition",
    "hasCharacteristic": "Population -> PopulationCharacteristic",
    "characteristicType": "PopulationCharacteristic -> CharacteristicType",
    "hasIntervention": "Arm or Study -> Intervention",
    "hasDose": "Arm -> Dose",
    "followsSchedule": "Arm -> DosingSchedule",
    "ofIntervention": "Dose -> Intervention",
    "doseRole": "Dose -> DoseRole",
    "route": "Dose -> Route",
    "hasSchedule": "Dose -> DosingSchedule",
    "givenBefore": "Dose -> Dose",
    "givenAfter": "Dose -> Dose",
    "measuredBy": "Outcome -> Measure",
    "estimates": "Estimate -> Outcome",
    "measureType": "Estimate -> MeasureType",
    "experimentalArm": "EffectEstimate -> Arm",
    "comparatorArm": "EffectEstimate -> Arm",
    "ofArm": "ArmEstimate -> Arm",
    "direction": "Estimate or Finding -> Direction",
    "aboutOutcome": "Finding -> Outcome",
    "findingType": "Finding -> FindingType",
    "restsOn": "Claim -> Study, Estimate, Finding or Claim",
    "aboutIntervention": "Claim -> Intervention",
    "alternative": "Claim -> Intervention named as an alternative",
    "claimedBy": "Claim -> Publication or Study",
    "identifiesStudy": "Claim -> Study it singles out",
}

DATA_PROPERTIES: Final[dict[str, str]] = {
    "journal": "Publication -> xsd:string",
    "year": "Publication -> xsd:gYear",
    "volume": "Publication -> xsd:string",
    "pageStart": "Publication -> xsd:string",
    "pageEnd": "Publication -> xsd:string",
    "authorString": "Publication -> xsd:string (authors as printed)",
    "section": "Commentary -> rdf:PlainLiteral",
    "synopsis": "Commentary -> rdf:PlainLiteral",
    "affiliation": "Person -> xsd:string",
    "position": "Person -> rdf:PlainLiteral (academic position)",
    "editorialRole": "Person -> rdf:PlainLiteral",
    "text": "SourceDocument -> xsd:string (the full text)",
    "region": "Study -> rdf:PlainLiteral",
    "studyDuration": "Study -> xsd:duration",
    "researchQuestion": "Study -> rdf:PlainLiteral",
    "eligibility": "Population -> rdf:PlainLiteral",
    "enrollmentWindow": "Population -> xsd:duration (time from an index event)",
    "sampleSize": "Population -> xsd:integer",
    "value": "PopulationCharacteristic -> xsd:decimal",
    "unitCode": "PopulationCharacteristic or Dose -> xsd:string (UCUM)",
    "amount": "Dose -> xsd:decimal",
    "perBodyWeight": "Dose -> xsd:boolean",
    "timeOffset": "Dose -> xsd:duration (with givenBefore/givenAfter)",
    "interval": "DosingSchedule -> xsd:duration",
    "duration": "DosingSchedule -> xsd:duration",
    "administrations": "DosingSchedule -> xsd:integer",
    "consecutiveDays": "DosingSchedule -> xsd:integer",
    "isPrimary": "Outcome -> xsd:boolean",
    "assessmentInterval": "Outcome -> xsd:duration",
    "assessmentTimepoint": "Outcome -> rdf:PlainLiteral",
    "pointEstimate": "Estimate -> xsd:decimal",
    "ciLower": "EffectEstimate -> xsd:decimal",
    "ciUpper": "EffectEstimate -> xsd:decimal",
    "ciLevel": "EffectEstimate -> xsd:decimal (0.95 for a 95% CI)",
    "pValue": "Estimate or Finding -> xsd:decimal",
    "pValueMin": "Estimate or Finding -> xsd:decimal",
    "pValueMax": "Estimate or Finding -> xsd:decimal",
    "statement": "Claim or Finding -> rdf:PlainLiteral",
    "studiesShowingBenefit": "Claim -> xsd:integer",
    "studiesConsidered": "Claim -> xsd:integer",
}

INDIVIDUALS: Final[dict[str, str]] = {
    # design features
    "Randomized": "DesignFeature",
    "DoubleBlind": "DesignFeature",
    "PlaceboControlled": "DesignFeature",
    "ParallelGroup": "DesignFeature",
    "Multicentre": "DesignFeature",
    # dose roles
    "LoadingDose": "DoseRole",
    "BoosterDose": "DoseRole",
    "SingleDose": "DoseRole",
    "MonthlyDose": "DoseRole",
    "DailyDose": "DoseRole",
    "MaintenanceDose": "DoseRole",
    # routes
    "Intravenous": "Route",
    "Intramuscular": "Route",
    "Subcutaneous": "Route",
    "Oral": "Route",
    # measure types
    "RateRatio": "MeasureType",
    "HazardRatio": "MeasureType",
    "OddsRatio": "MeasureType",
    "RiskRatio": "MeasureType",
    "MeanDifference": "MeasureType",
    "EventRate": "MeasureType",
    # directions
    "FavoursIntervention": "Direction",
    "FavoursComparator": "Direction",
    "NoDifference": "Direction",
    # finding types
    "SignificantDifference": "FindingType",
    "NoSignificantDifference": "FindingType",
    "NoBeneficialEffect": "FindingType",
    "BothArmsImproved": "FindingType",
    "SameInBothArms": "FindingType",
    "WellTolerated": "FindingType",
    # population characteristic types
    "MeanAge": "CharacteristicType",
    "MeanEDSS": "CharacteristicType",
    "ShareWithPriorRelapse": "CharacteristicType",
}

RATIO_MEASURES: Final = frozenset({"RateRatio", "HazardRatio", "OddsRatio", "RiskRatio"})


def term(local: str) -> str:
    """The full IRI of an ontology term, checked to be one we declare."""
    if local not in CLASSES and local not in OBJECT_PROPERTIES and local not in DATA_PROPERTIES \
            and local not in INDIVIDUALS:
        raise KeyError(f"not an ivig ontology term: {local}")
    return IVIG + local
