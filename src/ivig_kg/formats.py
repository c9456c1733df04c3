"""Registries of output formats: names, aliases, media types and file extensions.

Plain dicts drive both the code and the CLI's choices, so adding a format is one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ivig_kg.errors import UsageError


@dataclass(frozen=True)
class RdfFormat:
    name: str
    oxigraph: ox.RdfFormat
    media_type: str
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    datasets: bool = False


RDF_FORMATS: dict[str, RdfFormat] = {
    f.name: f
    for f in (
        RdfFormat("turtle", ox.RdfFormat.TURTLE, "text/turtle", (".ttl",), ("ttl",)),
        RdfFormat("jsonld", ox.RdfFormat.JSON_LD, "application/ld+json", (".jsonld", ".json"),
                  ("json-ld", "json_ld"), datasets=True),
        RdfFormat("ntriples", ox.RdfFormat.N_TRIPLES, "application/n-triples", (".nt",), ("nt", "n-triples")),
        RdfFormat("nquads", ox.RdfFormat.N_QUADS, "application/n-quads", (".nq",), ("nq", "n-quads"),
                  datasets=True),
        RdfFormat("trig", ox.RdfFormat.TRIG, "application/trig", (".trig",), (), datasets=True),
        RdfFormat("rdfxml", ox.RdfFormat.RDF_XML, "application/rdf+xml", (".rdf", ".owl", ".xml"),
                  ("xml", "rdf/xml", "rdf-xml", "owl")),
    )
}

RESULT_FORMATS: dict[str, tuple[ox.QueryResultsFormat | None, str, tuple[str, ...]]] = {
    # name: (pyoxigraph format, media type, aliases); None = our terminal table
    "table": (None, "text/plain", ("text",)),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv", ()),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values", ()),
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json", ("srj",)),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml", ("srx",)),
}


def rdf_format(name: str | None, output: Path | None = None, default: str = "turtle") -> RdfFormat:
    """Resolve an RDF format by name or alias, else by the output file's extension."""
    if name:
        key = name.lower()
        for f in RDF_FORMATS.values():
            if key == f.name or key in f.aliases:
                return f
        raise UsageError(f"unknown RDF format {name!r}; choose one of: {', '.join(RDF_FORMATS)}")
    if output is not None:
        ext = output.suffix.lower()
        for f in RDF_FORMATS.values():
            if ext in f.extensions:
                return f
        raise UsageError(f"cannot tell the format from {output.name!r}; give --format")
    return RDF_FORMATS[default]


def result_format(name: str) -> str:
    """Resolve a SPARQL results format name or alias to its canonical name."""
    key = name.lower()
    for canonical, (_, _, aliases) in RESULT_FORMATS.items():
        if key == canonical or key in aliases:
            return canonical
    raise UsageError(f"unknown results format {name!r}; choose one of: {', '.join(RESULT_FORMATS)}")
