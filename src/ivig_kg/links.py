"""Links to external terminologies and the literature: SSSOM mapping files -> the ``links`` graph.

The mappings are data (``data/mappings/*.sssom.tsv``, SSSOM TSV with a YAML
metadata header). This module reads them with a small reader of its own (the
reference reader, sssom-py, is heavy and only a test dependency), checks them
(:func:`check` returns a report; the caller decides to fail) and turns them
into N-Quads for the ``links`` named graph (:func:`links_nquads`, registered
as a build contributor).

For each mapping row the graph gets, in ``<https://w3id.org/ivig-kg/graph/links>``:

* the SKOS triple ``<our term> skos:exactMatch <external IRI>`` (or close/broad/
  narrow/related), the external IRI being the scheme's *semantic* IRI
  (``http://id.nlm.nih.gov/mesh/D009103``, ``http://purl.obolibrary.org/obo/MONDO_0005301``...);
* the external label, ``<external IRI> rdfs:label "..."``;
* the mapping reified as SSSOM does in RDF: an ``owl:Axiom`` with
  ``owl:annotatedSource/Property/Target``, ``sssom:mapping_justification``,
  ``sssom:confidence``, labels, comment and ``sssom:other`` (verification
  status and source), linked from its ``sssom:MappingSet`` by ``sssom:mappings``.
  Axioms and sets get minted IRIs, never blank nodes, so builds are byte-identical.

Schemes without a semantic IRI (UMLS, ICD-10: Bioregistry only knows web-page
resolvers for them, and the verified table gives no IRI) are recorded as a
``skos:notation`` literal holding the CURIE (``"umls:C0026769"``); their axiom
reifies that triple and its comment names the SKOS predicate. No IRI is ever
made up for them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import yaml

from ivig_kg import resources
from ivig_kg.errors import Location, SourceError, SourceErrors
from ivig_kg.vocab import (
    BASE,
    CLASSES,
    CONCEPT,
    DATA_PROPERTIES,
    DCT,
    INDIVIDUALS,
    IVIG,
    LINKS_GRAPH,
    OBJECT_PROPERTIES,
    OWL,
    RDF,
    RDFS,
    RESOURCE,
    SKOS,
    XSD,
    resource_iri,
)

if TYPE_CHECKING:
    import curies

    from ivig_kg.build import BuildContext

SSSOM: Final = "https://w3id.org/sssom/"
SEMAPV: Final = "https://w3id.org/semapv/vocab/"
MAPPING_BASE: Final = BASE + "mappings/"
"""Mapping sets are ``mappings/{file name}``; their mappings ``mappings/{set}/{subject}/{predicate}/{object}``."""


@dataclass(frozen=True)
class Scheme:
    """An external identifier scheme: its canonical prefix, IRI namespace and local-id syntax."""

    name: str
    uri_prefix: str
    pattern: str
    example: str
    semantic: bool = True
    """False: the URI prefix is a web-page resolver; ids are emitted as skos:notation literals."""


SCHEMES: Final[dict[str, Scheme]] = {
    s_prefix: s
    for s_prefix, s in (
        ("mesh", Scheme("MeSH", "http://id.nlm.nih.gov/mesh/", r"D\d{6}(\d{3})?", "D009103")),
        ("MONDO", Scheme("Mondo", "http://purl.obolibrary.org/obo/MONDO_", r"\d{7}", "0005301")),
        ("DOID", Scheme("Disease Ontology", "http://purl.obolibrary.org/obo/DOID_", r"\d{1,7}", "2377")),
        ("snomedct", Scheme("SNOMED CT", "http://snomed.info/id/", r"[1-9]\d{5,17}", "24700007")),
        ("umls", Scheme("UMLS", "https://uts.nlm.nih.gov/uts/umls/concept/", r"C\d{7}", "C0026769",
                        semantic=False)),
        ("NCIT", Scheme("NCI Thesaurus", "http://purl.obolibrary.org/obo/NCIT_", r"C\d+", "C3243")),
        ("icd10", Scheme("ICD-10", "https://icd.who.int/browse10/2019/en#/", r"[A-Z]\d{2}(\.\d{1,2})?", "G35",
                         semantic=False)),
        ("CHEBI", Scheme("ChEBI", "http://purl.obolibrary.org/obo/CHEBI_", r"\d+", "6888")),
        ("atc", Scheme("ATC", "http://www.whocc.no/atc_ddd_index/?code=", r"[A-Z]\d{2}[A-Z]{2}\d{2}", "J06BA02")),
        ("drugbank", Scheme("DrugBank", "https://go.drugbank.com/drugs/", r"DB\d{5}", "DB00028")),
        ("OBI", Scheme("OBI", "http://purl.obolibrary.org/obo/OBI_", r"\d{7}", "0000793")),
        ("STATO", Scheme("STATO", "http://purl.obolibrary.org/obo/STATO_", r"\d{7}", "0000677")),
        ("pubmed", Scheme("PubMed", "https://pubmed.ncbi.nlm.nih.gov/", r"[1-9]\d{0,8}", "15477504")),
        ("doi", Scheme("DOI", "https://doi.org/", r"10\.\d{4,9}/\S+", "10.1001/archneur.61.10.1515")),
    )
}
"""External schemes by their Bioregistry canonical prefix (its preferred capitalisation where it has one).

The URI prefixes are the semantic (RDF) IRIs where one exists; ``ivig-kg links
check`` validates every object's local id against ``pattern``.
"""

OWN_PREFIXES: Final[dict[str, tuple[str, str]]] = {
    "ivigc": (CONCEPT, r"[a-z0-9]+(-[a-z0-9]+)*"),
    "ivig": (IVIG, r"[A-Za-z][A-Za-z0-9]*"),
    "ivigr": (RESOURCE, r"[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*"),
}
"""Our own prefixes (subjects of mappings) with their namespace and local-id syntax."""

PREFIX_MAP: Final[dict[str, str]] = {
    **{p: ns for p, (ns, _) in OWN_PREFIXES.items()},
    **{p: s.uri_prefix for p, s in SCHEMES.items()},
}
"""The CURIE prefix map for mapping files (``curie_map`` must agree with it)."""

BUILTIN_PREFIXES: Final[dict[str, str]] = {
    "skos": SKOS,
    "semapv": SEMAPV,
    "sssom": SSSOM,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
}
"""Prefixes SSSOM predefines; a file need not (and should not) redeclare them."""

MAPPING_PREDICATES: Final[dict[str, str]] = {
    f"skos:{name}": SKOS + name
    for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
}
JUSTIFICATIONS: Final = frozenset({
    "semapv:ManualMappingCuration", "semapv:LexicalMatching", "semapv:LogicalReasoning",
    "semapv:MappingReview", "semapv:MappingChaining", "semapv:UnspecifiedMatching",
})
REQUIRED_METADATA: Final = ("curie_map", "mapping_set_id", "license", "mapping_date")
REQUIRED_COLUMNS: Final = ("subject_id", "predicate_id", "object_id", "mapping_justification")
COLUMNS: Final = (*REQUIRED_COLUMNS, "subject_label", "object_label", "confidence", "comment", "other")

_CURIE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*):(\S+)$")


@cache
def converter() -> curies.Converter:
    """CURIE <-> IRI for every prefix a mapping file may use (ours, external, SSSOM's built-ins).

    curies is imported here, not at module level: a build of articles without mapping files never
    needs it (its import costs ~170 ms and ~3 MB).
    """
    import curies

    return curies.Converter.from_prefix_map({**PREFIX_MAP, **BUILTIN_PREFIXES})


def expand(curie: str) -> str:
    """The IRI of a CURIE with a known prefix; ValueError otherwise."""
    iri = converter().expand(curie)
    if iri is None:
        raise ValueError(f"unknown prefix in {curie!r}")
    return iri


def compress(iri: str) -> str | None:
    """The CURIE of an IRI under a known namespace, else None."""
    return converter().compress(iri)


# --- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingRow:
    """One row of a mapping file, as written (strings), with where it sits."""

    path: Path
    line: int
    subject_id: str
    predicate_id: str
    object_id: str
    mapping_justification: str
    subject_label: str = ""
    object_label: str = ""
    confidence: str = ""
    comment: str = ""
    other: str = ""

    @property
    def scheme(self) -> str:
        """The object's prefix (``mesh``, ``MONDO``...)."""
        return self.object_id.partition(":")[0]

    @property
    def extras(self) -> dict[str, str]:
        """The ``other`` column's ``key=value|key=value`` pairs (status, source)."""
        pairs = (item.partition("=") for item in self.other.split("|") if item)
        return {k.strip(): v.strip() for k, _, v in pairs}

    @property
    def source(self) -> str:
        """The source that verified the mapping (``other``: ``source=...``)."""
        return self.extras.get("source", "")

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    def as_dict(self) -> dict[str, str]:
        """The row's SSSOM slots (empty ones left out), as sssom-py reads them."""
        return {c: getattr(self, c) for c in COLUMNS if getattr(self, c)}


@dataclass
class MappingSet:
    """One mapping file: its YAML metadata and its rows."""

    path: Path
    metadata: dict[str, Any]
    rows: list[MappingRow] = field(default_factory=list)
    metadata_line: int = 1
    header_ok: bool = True
    """False when the YAML header could not be read (its checks are then skipped, not repeated)."""

    @property
    def iri(self) -> str:
        return str(self.metadata.get("mapping_set_id") or MAPPING_BASE + self.path.name)

    @property
    def name(self) -> str:
        """The file name without ``.sssom.tsv`` (part of the minted mapping IRIs)."""
        return self.path.name.removesuffix(".tsv").removesuffix(".sssom")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a mapping file."""

    path: Path
    line: int | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        out = f"{Location(self.path, self.line)}: {self.message}"
        return out + (f"\n  hint: {self.hint}" if self.hint else "")

    def error(self) -> SourceError:
        return SourceError(self.message, location=Location(self.path, self.line), hint=self.hint)


@dataclass
class LinksReport:
    """What :func:`check` found: the files and rows read and every problem, in file order."""

    files: list[Path] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def mappings_dir() -> Path:
    return resources.data_dir() / "mappings"


def mapping_files(paths: Sequence[Path] | None = None) -> list[Path]:
    """The given files and the ``*.sssom.tsv`` of given directories; default: the bundled mappings."""
    found: list[Path] = []
    for p in paths or [mappings_dir()]:
        p = Path(p)
        found.extend(sorted(p.glob("*.sssom.tsv")) if p.is_dir() else [p])
    return found


def read_mapping_set(path: Path) -> tuple[MappingSet, list[Problem]]:
    """Read one SSSOM TSV file (``#``-prefixed YAML header, then a TSV table) with line numbers.

    Structural problems (unreadable header, missing columns, ragged rows) come back
    as problems, not exceptions, so a check can report them all.
    """
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return MappingSet(path, {}), [Problem(path, None, f"cannot read mapping file: {exc.strerror}")]
    lines = text.splitlines()
    header_end = 0
    while header_end < len(lines) and lines[header_end].startswith("#"):
        header_end += 1
    metadata: dict[str, Any] = {}
    try:
        loaded = yaml.safe_load("\n".join(line[1:] for line in lines[:header_end])) if header_end else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(path, mark.line + 1 if mark else 1, f"metadata header is not valid YAML: "
                                f"{getattr(exc, 'problem', exc)}", "each header line is '#' + YAML; quote "
                                "values containing ': '"))
        loaded = {}
    if loaded is not None and not isinstance(loaded, dict):
        problems.append(Problem(path, 1, "metadata header is not a YAML mapping"))
    elif loaded:
        metadata = loaded
    mset = MappingSet(path, metadata, header_ok=not problems)
    if header_end >= len(lines):
        problems.append(Problem(path, header_end or 1, "no mapping table after the metadata header"))
        return mset, problems
    reader = csv.reader(io.StringIO("\n".join(lines[header_end:])), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = next(reader)
    header_line = header_end + 1
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(Problem(path, header_line, f"table lacks column(s) {', '.join(missing)}",
                                f"the first line after the header names the columns: {', '.join(COLUMNS)}"))
        return mset, problems
    known = [c for c in columns if c in COLUMNS]
    for offset, values in enumerate(reader, start=1):
        lineno = header_line + offset
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            problems.append(Problem(path, lineno, f"row has {len(values)} fields, the header {len(columns)}",
                                    "separate fields with exactly one tab; leave empty fields empty"))
            continue
        cells = dict(zip(columns, values, strict=True))
        mset.rows.append(MappingRow(path, lineno, **{c: cells[c].strip() for c in known}))
    return mset, problems


def read_mappings(paths: Sequence[Path] | None = None) -> list[MappingSet]:
    """Every mapping set; a structural problem in any file is a SourceErrors naming file and line."""
    sets: list[MappingSet] = []
    problems: list[Problem] = []
    for path in mapping_files(paths):
        mset, found = read_mapping_set(path)
        sets.append(mset)
        problems.extend(found)
    if problems:
        raise SourceErrors([p.error() for p in problems])
    return sets


# --- checking --------------------------------------------------------------------------


def ontology_terms() -> dict[str, str]:
    """IRIs of the ivig ontology terms that may be mapping subjects -> their kind."""
    terms: dict[str, str] = {}
    for kind, names in (("class", CLASSES), ("object property", OBJECT_PROPERTIES),
                        ("data property", DATA_PROPERTIES), ("individual", INDIVIDUALS)):
        terms.update({IVIG + name: kind for name in names})
    return terms


def declared_subjects(article_paths: Sequence[Path] | None = None) -> dict[str, Path]:
    """What a mapping may be about: each article's concepts and publications -> the declaring file.

    Loads the articles (default: the bundled ones) as the build does.
    """
    from ivig_kg.sourcefile import load_source

    if not article_paths:
        article_paths = [resources.articles_dir()]
    subjects: dict[str, Path] = {}
    for p in article_paths:
        p = Path(p)
        for path in sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p]:
            art = load_source(path)
            for concept in art.article.concepts:
                subjects.setdefault(CONCEPT + concept.id, path)
            subjects.setdefault(resource_iri(art.id), path)
            for pub in art.article.publications:
                subjects.setdefault(resource_iri(art.id, pub.id), path)
    return subjects


def _check_curie(row: MappingRow, column: str, value: str) -> Problem | None:
    """A problem if ``value`` is not a CURIE with a known prefix and a local id valid for its scheme."""
    match = _CURIE_RE.match(value)
    if not match:
        return Problem(row.path, row.line, f"{column} {value!r} is not a CURIE (prefix:local)")
    prefix, local = match.groups()
    if prefix in SCHEMES:
        scheme = SCHEMES[prefix]
        if not re.fullmatch(scheme.pattern, local):
            return Problem(row.path, row.line, f"{column} {value!r}: {local!r} is not a valid {scheme.name} id",
                           f"{scheme.name} ids match {scheme.pattern}, e.g. {prefix}:{scheme.example}")
        return None
    if prefix in OWN_PREFIXES:
        if not re.fullmatch(OWN_PREFIXES[prefix][1], local):
            return Problem(row.path, row.line, f"{column} {value!r}: {local!r} is not a valid {prefix} id")
        return None
    close = [p for p in (*SCHEMES, *OWN_PREFIXES) if p.lower() == prefix.lower()]
    return Problem(row.path, row.line, f"{column} {value!r}: unknown prefix {prefix!r}",
                   f"did you mean {close[0]!r}?" if close else
                   f"known prefixes: {', '.join(sorted((*SCHEMES, *OWN_PREFIXES), key=str.lower))}")


def _check_metadata(mset: MappingSet) -> Iterator[Problem]:
    path, meta = mset.path, mset.metadata
    for key in REQUIRED_METADATA:
        if not meta.get(key):
            yield Problem(path, mset.metadata_line, f"metadata lacks {key!r}",
                          "SSSOM TSV files start with '#'-prefixed YAML giving "
                          + ", ".join(REQUIRED_METADATA))
    curie_map = meta.get("curie_map") or {}
    if not isinstance(curie_map, dict):
        yield Problem(path, mset.metadata_line, "curie_map is not a mapping of prefix: IRI")
        return
    for prefix, ns in curie_map.items():
        expected = PREFIX_MAP.get(prefix, BUILTIN_PREFIXES.get(prefix))
        if expected is None:
            yield Problem(path, mset.metadata_line, f"curie_map declares unknown prefix {prefix!r}",
                          "use Bioregistry's canonical prefixes: " + ", ".join(SCHEMES))
        elif ns != expected:
            yield Problem(path, mset.metadata_line, f"curie_map maps {prefix!r} to {ns!r}, not {expected!r}",
                          "ivig-kg uses each scheme's semantic IRI namespace")


def check_set(mset: MappingSet, subjects: Mapping[str, Path]) -> Iterator[Problem]:
    """Every rule for one mapping set (whose structure has been read)."""
    if mset.header_ok:
        yield from _check_metadata(mset)
    curie_map = mset.metadata.get("curie_map")
    declared_prefixes = set(curie_map if isinstance(curie_map, dict) else PREFIX_MAP) | set(BUILTIN_PREFIXES)
    terms = ontology_terms()
    exact: dict[tuple[str, str], MappingRow] = {}
    for row in mset.rows:
        for column in ("subject_id", "object_id"):
            value = getattr(row, column)
            problem = _check_curie(row, column, value)
            if problem:
                yield problem
            elif value.partition(":")[0] not in declared_prefixes:
                yield Problem(row.path, row.line, f"{column} {value!r}: prefix not in this file's curie_map",
                              f"add it to the header: #  {value.partition(':')[0]}: "
                              f"{PREFIX_MAP[value.partition(':')[0]]}")
        if row.predicate_id not in MAPPING_PREDICATES:
            yield Problem(row.path, row.line, f"predicate_id {row.predicate_id!r} is not a SKOS mapping predicate",
                          "use one of " + ", ".join(MAPPING_PREDICATES))
        if not row.mapping_justification:
            yield Problem(row.path, row.line, "mapping has no mapping_justification",
                          "state how it was made, e.g. semapv:ManualMappingCuration")
        elif row.mapping_justification not in JUSTIFICATIONS:
            yield Problem(row.path, row.line, f"mapping_justification {row.mapping_justification!r} is not a "
                          "SEMAPV justification", "e.g. semapv:ManualMappingCuration")
        if row.confidence:
            try:
                ok = 0.0 <= float(row.confidence) <= 1.0
            except ValueError:
                ok = False
            if not ok:
                yield Problem(row.path, row.line, f"confidence {row.confidence!r} is not a number from 0 to 1")
        subject = row.subject_id.partition(":")[0]
        if subject in OWN_PREFIXES and _CURIE_RE.match(row.subject_id):
            iri = expand(row.subject_id)
            if iri not in subjects and iri not in terms:
                yield Problem(row.path, row.line, f"subject {row.subject_id!r} is not a concept, publication "
                              "or ontology term of the graph",
                              "declare it under `concepts:` of an article (data/articles/*.yaml) or map a "
                              "declared one")
        elif subject in SCHEMES:
            yield Problem(row.path, row.line, f"subject {row.subject_id!r} is external; subjects are our terms",
                          "put our concept (ivigc:...) as subject_id and the external term as object_id")
        if row.predicate_id == "skos:exactMatch":
            key = (row.subject_id, row.scheme)
            if key in exact:
                first = exact[key]
                yield Problem(row.path, row.line, f"{row.subject_id} has a second exact match in {row.scheme} "
                              f"({row.object_id}; first: {first.object_id} on line {first.line})",
                              "keep one exact match per scheme; make the other close, broad or narrow")
            else:
                exact[key] = row


def check(
    paths: Sequence[Path] | None = None,
    *,
    articles: Sequence[Path] | None = None,
    subjects: Mapping[str, Path] | None = None,
) -> LinksReport:
    """Check mapping files (default: the bundled ones) against the articles' declared subjects.

    Returns a report of every problem (file and line); never raises for bad rows.
    """
    if subjects is None:
        subjects = declared_subjects(articles)
    report = LinksReport()
    exact: dict[tuple[str, str], MappingRow] = {}
    for path in mapping_files(paths):
        report.files.append(path)
        mset, problems = read_mapping_set(path)
        report.problems.extend(problems)
        report.rows += len(mset.rows)
        report.problems.extend(check_set(mset, subjects))
        for row in mset.rows:  # the one-exact-match rule across files too
            if row.predicate_id != "skos:exactMatch":
                continue
            first = exact.setdefault((row.subject_id, row.scheme), row)
            if first.path != row.path:
                report.problems.append(Problem(
                    row.path, row.line, f"{row.subject_id} has a second exact match in {row.scheme} "
                    f"({row.object_id}; first: {first.object_id} at {first.path.name}:{first.line})",
                    "keep one exact match per scheme"))
    return report


def list_links(paths: Sequence[Path] | None = None, scheme: str | None = None) -> list[MappingRow]:
    """Every mapping row (optionally of one scheme, case-insensitive), in file order."""
    rows = [row for mset in read_mappings(paths) for row in mset.rows]
    if scheme is None:
        return rows
    wanted = {p for p in SCHEMES if p.lower() == scheme.lower()}
    if not wanted:
        from ivig_kg.errors import UsageError

        raise UsageError(f"unknown scheme {scheme!r}", hint="choose one of: " + ", ".join(SCHEMES))
    return [row for row in rows if row.scheme in wanted]


# --- N-Quads -----------------------------------------------------------------------------

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_ESCAPE_RE = re.compile(r'[\\"\n\r]')


def _lit(value: str, datatype: str | None = None) -> str:
    out = '"' + _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], value) + '"'
    return out + (f"^^<{datatype}>" if datatype else "")


def mapping_iri(mset: MappingSet, row: MappingRow) -> str:
    """A readable, deterministic IRI for one mapping: set, subject, predicate and object."""
    parts = (row.subject_id, row.predicate_id.partition(":")[2], row.object_id)
    return MAPPING_BASE + quote(mset.name, safe="") + "/" + "/".join(quote(p, safe=":") for p in parts)


def external_iri(curie: str) -> str | None:
    """The semantic IRI of an external CURIE; None for schemes recorded as notations (UMLS, ICD-10)."""
    prefix = curie.partition(":")[0]
    if prefix in SCHEMES and not SCHEMES[prefix].semantic:
        return None
    return expand(curie)


def set_nquads(mset: MappingSet) -> Iterator[str]:
    """The quads of one (checked) mapping set."""
    g = f"<{LINKS_GRAPH}>"
    set_iri = f"<{mset.iri}>"

    def q(s: str, p: str, o: str) -> str:
        return f"{s} {p} {o} {g} .\n"

    meta = mset.metadata
    yield q(set_iri, f"<{RDF}type>", f"<{SSSOM}MappingSet>")
    if meta.get("license"):
        yield q(set_iri, f"<{DCT}license>", f"<{meta['license']}>")
    for key, prop in (("mapping_set_title", DCT + "title"), ("mapping_set_description", DCT + "description"),
                      ("mapping_set_version", OWL + "versionInfo"), ("comment", RDFS + "comment")):
        if meta.get(key):
            yield q(set_iri, f"<{prop}>", _lit(str(meta[key])))
    date = str(meta.get("mapping_date") or "")
    for row in mset.rows:
        subject = f"<{expand(row.subject_id)}>"
        target_iri = external_iri(row.object_id)
        if target_iri is None:
            prop, target = f"<{SKOS}notation>", _lit(row.object_id)
        else:
            prop, target = f"<{MAPPING_PREDICATES[row.predicate_id]}>", f"<{target_iri}>"
            if row.object_label:
                yield q(target, f"<{RDFS}label>", _lit(row.object_label))
        yield q(subject, prop, target)
        axiom = f"<{mapping_iri(mset, row)}>"
        yield q(set_iri, f"<{SSSOM}mappings>", axiom)
        yield q(axiom, f"<{RDF}type>", f"<{OWL}Axiom>")
        yield q(axiom, f"<{OWL}annotatedSource>", subject)
        yield q(axiom, f"<{OWL}annotatedProperty>", prop)
        yield q(axiom, f"<{OWL}annotatedTarget>", target)
        yield q(axiom, f"<{SSSOM}mapping_justification>", f"<{expand(row.mapping_justification)}>")
        if row.subject_label:
            yield q(axiom, f"<{SSSOM}subject_label>", _lit(row.subject_label))
        if row.object_label:
            yield q(axiom, f"<{SSSOM}object_label>", _lit(row.object_label))
        if row.confidence:
            yield q(axiom, f"<{SSSOM}confidence>", _lit(repr(float(row.confidence)), XSD + "double"))
        if date:
            yield q(axiom, f"<{DCT}created>", _lit(date, XSD + "date"))
        comment = row.comment
        if target_iri is None:
            note = (f"{row.predicate_id} {row.object_id}: {SCHEMES[row.scheme].name} has no semantic IRI, "
                    "so the identifier is recorded as a notation")
            comment = f"{comment}; {note}" if comment else note
        if comment:
            yield q(axiom, f"<{RDFS}comment>", _lit(comment))
        if row.other:
            yield q(axiom, f"<{SSSOM}other>", _lit(row.other))


def mapping_dirs_for(sources: Iterable[Path]) -> list[Path]:
    """The mapping directories that travel with these article sources: ``../mappings`` of each.

    Mappings are curated beside the articles they map (``data/articles/`` <->
    ``data/mappings/``), so building other articles does not pick up, or trip
    over, mappings of concepts those articles never declare.
    """
    dirs = {Path(src).resolve().parent.parent / "mappings" for src in sources}
    return sorted(d for d in dirs if d.is_dir())


def links_nquads(context: BuildContext) -> Iterable[str]:
    """Build contributor: the ``links`` graph from the mapping files beside the built articles.

    Refuses (SourceErrors, each with file and line) any file that fails a check,
    including a subject that is not a concept, publication or ontology term of the build.
    """
    dirs = mapping_dirs_for(set(context.resources.values()) | set(context.concepts.values()))
    files = mapping_files(dirs) if dirs else []
    if not files:
        return []
    subjects: dict[str, Path] = {CONCEPT + cid: path for cid, path in context.concepts.items()}
    subjects.update(context.resources)
    report = check(files, subjects=subjects)
    if not report.ok:
        raise SourceErrors([p.error() for p in report.problems])
    lines: dict[str, None] = {}  # ordered and without repeats (a term mapped twice gets one label)
    for path in report.files:
        mset, _ = read_mapping_set(path)
        lines.update(dict.fromkeys(set_nquads(mset)))
    return list(lines)
