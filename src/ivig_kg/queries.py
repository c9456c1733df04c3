"""Canned SPARQL queries: plain ``.rq`` files under ``queries/``, found by file name.

Each file opens with comment lines::

    # title: Effect estimates
    # question: Which effect estimates does each study report, with CI and p-value?
    # param: study iri optional  The study to restrict to (IRI or CURIE such as ivigr:...)

Parameters are bound with pyoxigraph substitutions (SEP-0007), never
formatted into the query text; an optional parameter left out stays unbound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ivig_kg import resources
from ivig_kg.errors import QueryError
from ivig_kg.store import GraphStore, run_query
from ivig_kg.vocab import PREFIXES, XSD

PARAM_TYPES = ("iri", "string", "decimal", "integer")
_HEADER_RE = re.compile(r"^#\s*(title|question|param):\s*(.*)$")
_PARAM_RE = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s+(?P<type>\w+)(?P<optional>\s+optional)?\s*(?P<doc>.*)$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    optional: bool
    doc: str


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    question: str
    text: str
    path: Path
    params: tuple[Param, ...] = field(default_factory=tuple)


def parse_query_file(path: Path) -> CannedQuery:
    """Read one ``.rq`` file and its header; a header problem is a QueryError naming the line."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: list[Param] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            break
        match = _HEADER_RE.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "param":
            pm = _PARAM_RE.match(value)
            if not pm or pm.group("type") not in PARAM_TYPES:
                raise QueryError(f"{path}:{lineno}: bad param line; expected "
                                 f"'# param: NAME {{{'|'.join(PARAM_TYPES)}}} [optional] description'")
            params.append(Param(pm.group("name"), pm.group("type"), bool(pm.group("optional")),
                                pm.group("doc").strip()))
        else:
            meta[key] = value
    for key in ("title", "question"):
        if not meta.get(key):
            raise QueryError(f"{path}: canned query lacks a '# {key}:' line")
    return CannedQuery(path.stem, meta["title"], meta["question"], text, path, tuple(params))


@cache
def _registry(directory: Path) -> dict[str, CannedQuery]:
    return {p.stem: parse_query_file(p) for p in sorted(directory.glob("*.rq"))}


def registry(directory: Path | None = None) -> dict[str, CannedQuery]:
    """Every canned query by name (the file name without ``.rq``)."""
    return _registry(directory or resources.queries_dir())


def get(name: str) -> CannedQuery:
    queries = registry()
    if name not in queries:
        import difflib

        close = difflib.get_close_matches(name, list(queries), n=1)
        raise QueryError(f"no canned query named {name!r}",
                         hint=f"did you mean {close[0]!r}?" if close else "see 'ivig-kg query list'")
    return queries[name]


def expand_iri(value: str) -> str:
    """An IRI from ``<iri>``, a full IRI, or a CURIE with one of our prefixes."""
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I) or value.startswith("urn:"):
        return value
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES:
        return PREFIXES[prefix] + local
    raise QueryError(f"{value!r} is not an IRI or a CURIE with a known prefix "
                     f"({', '.join(sorted(PREFIXES))})")


def to_term(param: Param, value: str) -> ox.NamedNode | ox.Literal:
    """Turn a command-line or query-string value into the RDF term the parameter expects."""
    if param.type == "iri":
        try:
            return ox.NamedNode(expand_iri(value))
        except ValueError as exc:
            raise QueryError(f"parameter {param.name}: invalid IRI {value!r}: {exc}") from None
    if param.type == "decimal":
        try:
            return ox.Literal(format(Decimal(value), "f"), datatype=ox.NamedNode(XSD + "decimal"))
        except InvalidOperation:
            raise QueryError(f"parameter {param.name}: {value!r} is not a decimal number") from None
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise QueryError(f"parameter {param.name}: {value!r} is not an integer")
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
    return ox.Literal(value)


def bind(query: CannedQuery, values: Mapping[str, str]) -> dict[ox.Variable, Any]:
    """Check the given parameter values against the query's declaration and make substitutions."""
    declared = {p.name: p for p in query.params}
    unknown = set(values) - set(declared)
    if unknown:
        raise QueryError(f"query {query.name!r} has no parameter {sorted(unknown)[0]!r}",
                         hint=f"its parameters: {', '.join(declared) or 'none'}")
    missing = [p.name for p in query.params if not p.optional and p.name not in values]
    if missing:
        raise QueryError(f"query {query.name!r} needs parameter {missing[0]!r}",
                         hint=f"--param {missing[0]}=VALUE")
    return {ox.Variable(name): to_term(declared[name], value) for name, value in values.items()}


_TOKEN_RE = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^\\]|\\.)*?\"\"\"|\'\'\'(?:[^\\]|\\.)*?\'\'\'
       |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<brace>[{}])
  | (?P<form>\b(?:SELECT|CONSTRUCT|ASK|DESCRIBE)\b)
  | (?P<word>\b[A-Za-z_]\w*\b)
  | (?P<other>\S)
""", re.VERBOSE | re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=256)  # canned and repeated queries: lexing is ~20 us of a sub-ms query
def _where_start(sparql: str) -> int:
    """Offset just after the ``{`` opening the main query's WHERE group (comments, strings, IRIs skipped)."""
    depth = 0
    form: str | None = None
    skip_template = False
    for m in _TOKEN_RE.finditer(sparql):
        kind = m.lastgroup
        if kind in ("comment", "string", "iri"):
            continue
        if kind == "form" and depth == 0 and form is None:
            form = m.group().upper()
            skip_template = form == "CONSTRUCT"
            continue
        if kind == "word" and depth == 0 and m.group().upper() == "WHERE":
            skip_template = False  # CONSTRUCT WHERE { ... } has no template
            continue
        if kind == "brace":
            if m.group() == "{":
                if depth == 0 and form is not None and not skip_template:
                    return m.end()
                depth += 1
            else:
                depth -= 1
                if depth == 0 and skip_template:
                    skip_template = False
    raise QueryError("cannot find the WHERE clause of the query to bind its parameters")


def with_values(sparql: str, substitutions: Mapping[ox.Variable, Any] | None) -> str:
    """Bind variables by a VALUES block opening the WHERE group (as if each variable were pre-bound).

    The terms are pyoxigraph objects serialized by pyoxigraph, so user text is never formatted into
    SPARQL. Unlike a trailing VALUES clause, this binding is visible to the group's FILTERs.
    """
    if not substitutions:
        return sparql
    names = " ".join(str(v) for v in substitutions)
    terms = " ".join(str(t) for t in substitutions.values())
    at = _where_start(sparql)
    return f"{sparql[:at]}\n  VALUES ({names}) {{ ({terms}) }}\n{sparql[at:]}"


def run(name: str, params: Mapping[str, str] | None = None, store: GraphStore | None = None,
        oxstore: ox.Store | None = None) -> Any:
    """Run a canned query by name with bound parameters; returns pyoxigraph results."""
    query = get(name)
    subs = bind(query, params or {})
    target = oxstore if oxstore is not None else (store or GraphStore()).open()
    # bound by VALUES, not pyoxigraph's substitutions: Oxigraph plans the query around a VALUES
    # binding but not around a substitution (provenance at 1M: 2.4 s with substitutions, ~1 ms with VALUES)
    return run_query(target, with_values(query.text, subs))


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise QueryError(f"parameter {pair!r} is not NAME=VALUE")
        out[name.strip()] = value
    return out


_GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
_CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  GRAPH ?g { ?s a ?class } FILTER(?g != <https://w3id.org/ivig-kg/graph/ontology>)
} GROUP BY ?class ORDER BY DESC(?n) ?class
"""


@dataclass
class Stats:
    graphs: list[tuple[str, int]]
    classes: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.graphs)


def stats(store: GraphStore) -> Stats:
    """Triples per named graph and entities per class (outside the ontology graph)."""
    oxstore = store.open()
    graphs = [(s["g"].value, int(s["n"].value)) for s in run_query(oxstore, _GRAPH_COUNTS)]
    classes = [(s["class"].value, int(s["n"].value)) for s in run_query(oxstore, _CLASS_COUNTS)]
    return Stats(graphs, classes)
