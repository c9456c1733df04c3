"""Turn pyoxigraph query results into the W3C result formats, RDF, or a plain table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import pyoxigraph as ox

from ivig_kg.formats import RESULT_FORMATS, RdfFormat
from ivig_kg.vocab import PREFIXES


@dataclass
class Table:
    """A SELECT or ASK answer as strings, for display."""

    headers: list[str]
    rows: list[list[str]]


def compact(iri: str) -> str:
    """A CURIE for an IRI under one of our prefixes, else the IRI in angle brackets."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else f"<{iri}>"


def show(term: Any) -> str:
    """A readable form of an RDF term for tables."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        return str(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def to_table(results: Any) -> Table:
    if isinstance(results, ox.QueryBoolean):
        return Table(["answer"], [["true" if bool(results) else "false"]])
    names = [v.value for v in results.variables]
    return Table(names, [[show(sol[n]) for n in names] for sol in results])


def readable(table: Table) -> Table:
    """Drop an IRI column when the query also gives its label (``x`` beside ``xLabel``): for people, not scripts."""
    keep = [i for i, h in enumerate(table.headers) if f"{h}Label" not in table.headers]
    return Table([table.headers[i] for i in keep], [[row[i] for i in keep] for row in table.rows])


def plain_text(table: Table, *, wide: int) -> str:
    """The table as aligned plain text: a grid up to ``wide`` columns, else one block of lines per row.

    For a table shown in a pipe or a log rather than a terminal: no colours,
    no wrapping, nothing that needs a terminal library.
    """
    out: list[str] = []
    if len(table.headers) <= wide:
        widths = [max([len(h)] + [len(r[i]) for r in table.rows]) for i, h in enumerate(table.headers)]
        out.append("  ".join(h.ljust(w) for h, w in zip(table.headers, widths, strict=True)).rstrip())
        out.append("  ".join("-" * w for w in widths))
        out.extend("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table.rows)
    else:
        width = max(len(h) for h in table.headers)
        for i, row in enumerate(table.rows, 1):
            out.extend(([""] if i > 1 else []) + [f"-- row {i}"])
            out.extend(f"{h.ljust(width)}  {v}" for h, v in zip(table.headers, row, strict=True) if v)
    return "\n".join(out) + "\n"


def kind(results: Any) -> str:
    """``select``, ``ask`` or ``graph`` (CONSTRUCT/DESCRIBE)."""
    if isinstance(results, ox.QueryBoolean):
        return "ask"
    if isinstance(results, ox.QueryTriples):
        return "graph"
    return "select"


def write_results(results: Any, fmt: str, output: IO[bytes]) -> None:
    """Write SELECT/ASK results in a W3C results format (csv, tsv, json, xml)."""
    oxfmt = RESULT_FORMATS[fmt][0]
    assert oxfmt is not None, "table output is rendered by the caller"
    results.serialize(output, format=oxfmt)


def write_graph(results: Any, fmt: RdfFormat, output: IO[bytes]) -> None:
    """Write CONSTRUCT/DESCRIBE results as RDF."""
    triples_format = fmt.oxigraph
    if fmt.datasets:  # a graph result has no graph names: N-Quads/TriG degrade to their triple forms
        triples_format = {ox.RdfFormat.N_QUADS: ox.RdfFormat.N_TRIPLES,
                          ox.RdfFormat.TRIG: ox.RdfFormat.TURTLE}.get(fmt.oxigraph, fmt.oxigraph)
    ox.serialize(results, output, format=triples_format,
                 prefixes=PREFIXES if triples_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None)
