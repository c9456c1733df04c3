"""A streaming, compacting JSON-LD writer that applies our own context.

Generic JSON-LD libraries (rdflib, pyld) build the whole document in memory,
expand it, and compact it again: seconds and hundreds of MB for a large graph.
Our data is simple (IRIs, typed or language-tagged literals, a few canonical
blank nodes in the ontology), so compaction reduces to a table look-up:

* quads arrive grouped graph by graph, subject by subject (Oxigraph iterates
  its GSPO index, so one subject's quads of one graph are contiguous);
* each subject becomes one node object ``{"@id", "@type", key: value...}``
  inside its named graph object ``{"@id": graph, "@graph": [...]}``, and is
  written out as soon as the next subject starts, so memory is bounded by one
  subject's quads;
* a property uses the context's term when the value fits the term's
  definition (``@type: @id`` for IRIs, the term's datatype for typed literals,
  none for plain or language-tagged strings), otherwise its compact IRI
  (``ivig:value``) with an explicit value object: the output expands back to
  exactly the input quads;
* IRIs become compact IRIs with the context's prefixes (longest prefix wins).

If a subject's quads are not contiguous the writer emits a second node object
with the same ``@id`` (valid JSON-LD; processors merge them), so the output
is correct for any quad order and compact for the store's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import IO, Any

import pyoxigraph as ox

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_GEN_DELIMS = tuple(":/?#[]@")
_FLUSH_CHARS = 1 << 16

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class Compactor:
    """Our context, turned into look-up tables for IRI and value compaction."""

    def __init__(self, context: dict[str, Any]):
        self.context = context
        raw_prefixes: dict[str, str] = {}
        for name, definition in context.items():
            if name.startswith("@"):
                continue
            if isinstance(definition, str) and definition.endswith(_GEN_DELIMS) and "://" in definition:
                raw_prefixes[name] = definition
            elif isinstance(definition, dict) and definition.get("@prefix") is True:
                raw_prefixes[name] = str(definition["@id"])
        self.prefixes = raw_prefixes
        ordered = sorted(raw_prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        self._by_iri = {iri: name for name, iri in ordered}
        self._prefix_re = re.compile("|".join(re.escape(iri) for _, iri in ordered)) if ordered else None
        self.class_terms: dict[str, str] = {}
        """IRI -> term, for simple terms usable as ``@type`` values."""
        self.id_terms: dict[str, str] = {}
        """Property IRI -> term whose values are IRIs (``@type: @id``)."""
        self.typed_terms: dict[tuple[str, str], str] = {}
        """(property IRI, datatype IRI) -> term whose values are literals of that type."""
        self.plain_terms: dict[str, str] = {}
        """Property IRI -> term with no type coercion (strings, language strings, value objects)."""
        for name, definition in sorted(context.items()):
            if name.startswith("@") or name in raw_prefixes:
                continue
            if isinstance(definition, str):
                self.class_terms.setdefault(self.expand(definition), name)
                self.plain_terms.setdefault(self.expand(definition), name)
                continue
            if not isinstance(definition, dict) or "@id" not in definition or "@language" in definition \
                    or "@container" in definition or "@reverse" in definition:
                continue
            prop = self.expand(str(definition["@id"]))
            kind = definition.get("@type")
            if kind is None:
                self.plain_terms.setdefault(prop, name)
                self.class_terms.setdefault(prop, name)
            elif kind == "@id":
                self.id_terms.setdefault(prop, name)
            elif isinstance(kind, str) and not kind.startswith("@"):
                self.typed_terms.setdefault((prop, self.expand(kind)), name)
        self.iri = lru_cache(maxsize=1 << 16)(self._iri)
        self.vocab = lru_cache(maxsize=4096)(self._vocab)

    def expand(self, value: str) -> str:
        """A context value (``ivig:Study`` or a full IRI) as a full IRI."""
        prefix, sep, suffix = value.partition(":")
        if sep and not suffix.startswith("//") and prefix in self.prefixes:
            return self.prefixes[prefix] + suffix
        return value

    def _iri(self, iri: str) -> str:
        """Compact an IRI used as a node id (``@id``): prefixes only, never terms."""
        if self._prefix_re is not None:
            match = self._prefix_re.match(iri)
            if match:
                suffix = iri[match.end():]
                if suffix and not suffix.startswith("//"):
                    return f"{self._by_iri[match.group()]}:{suffix}"
        return iri

    def _vocab(self, iri: str) -> str:
        """Compact an IRI in vocabulary position (``@type`` values): a term if one maps to it."""
        return self.class_terms.get(iri) or self._iri(iri)

    def node_ref(self, node: ox.NamedNode | ox.BlankNode) -> str:
        return self.iri(node.value) if isinstance(node, ox.NamedNode) else "_:" + node.value

    def entry(self, predicate: str, obj: Term) -> tuple[str, Any]:
        """The key and compacted value of one ``predicate obj`` pair."""
        if isinstance(obj, ox.Literal):
            if obj.language:
                term = self.plain_terms.get(predicate)
                return term or self.iri(predicate), {"@value": obj.value, "@language": obj.language}
            datatype = obj.datatype.value
            if datatype == XSD_STRING:
                return self.plain_terms.get(predicate) or self.iri(predicate), obj.value
            term = self.typed_terms.get((predicate, datatype))
            if term:
                return term, obj.value
            term = self.plain_terms.get(predicate)
            return term or self.iri(predicate), {"@value": obj.value, "@type": self.vocab(datatype)}
        if isinstance(obj, ox.NamedNode | ox.BlankNode):
            ref = self.node_ref(obj)
            term = self.id_terms.get(predicate)
            if term:
                return term, ref
            return self.plain_terms.get(predicate) or self.iri(predicate), {"@id": ref}
        raise ValueError(f"cannot write {type(obj).__name__} terms (RDF-star) as JSON-LD")


class _Out:
    """Buffered text -> UTF-8 bytes, in chunks, so the document is never held whole."""

    def __init__(self, output: IO[bytes]):
        self.output = output
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.output.write("".join(self.parts).encode("utf-8"))
            self.parts.clear()
            self.size = 0


def _node(compactor: Compactor, subject: ox.NamedNode | ox.BlankNode,
          pairs: list[tuple[ox.NamedNode, Term]]) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": compactor.node_ref(subject)}
    types: list[str] = []
    props: dict[str, list[Any]] = {}
    for predicate, obj in pairs:
        p = predicate.value
        if p == RDF_TYPE and isinstance(obj, ox.NamedNode | ox.BlankNode):
            types.append(compactor.vocab(obj.value) if isinstance(obj, ox.NamedNode) else "_:" + obj.value)
            continue
        key, value = compactor.entry(p, obj)
        props.setdefault(key, []).append(value)
    if types:
        node["@type"] = types[0] if len(types) == 1 else types
    for key, values in props.items():
        node[key] = values[0] if len(values) == 1 else values
    return node


def write(quads: Iterable[ox.Quad], output: IO[bytes], context: dict[str, Any], *, indent: bool = False) -> int:
    """Write ``quads`` as one compacted JSON-LD document with ``context``; returns the quads written.

    ``context`` is the value of ``@context`` (a term -> definition mapping),
    written inline, so readers never need to fetch it.
    """
    compactor = Compactor(context)
    dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False,
                             indent=1 if indent else None,
                             separators=(",", ": ") if indent else (",", ":")).encode
    out = _Out(output)
    out.write('{"@context":' + dumps(context) + ',\n"@graph":[')
    count = 0
    graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None
    in_named = False
    first_in_graph = True
    first_top = True
    subject: ox.NamedNode | ox.BlankNode | None = None
    pairs: list[tuple[ox.NamedNode, Term]] = []

    def emit() -> None:
        nonlocal first_in_graph, first_top
        if subject is None or not pairs:
            return
        text = dumps(_node(compactor, subject, pairs))
        if in_named:
            out.write(("\n" if first_in_graph else ",\n") + text)
            first_in_graph = False
        else:
            out.write(("\n" if first_top else ",\n") + text)
            first_top = False

    for quad in quads:
        count += 1
        g = quad.graph_name
        if g != graph:
            emit()
            subject, pairs = None, []
            if in_named:
                out.write("]}")
            graph = g
            in_named = not isinstance(g, ox.DefaultGraph)
            if in_named:
                assert isinstance(g, ox.NamedNode | ox.BlankNode)
                out.write(("\n" if first_top else ",\n") + '{"@id":' + dumps(compactor.node_ref(g))
                          + ',"@graph":[')
                first_top = False
                first_in_graph = True
        s = quad.subject
        if s != subject:
            emit()
            if not isinstance(s, ox.NamedNode | ox.BlankNode):
                raise ValueError("cannot write quoted-triple subjects (RDF-star) as JSON-LD")
            subject, pairs = s, []
        pairs.append((quad.predicate, quad.object))
    emit()
    if in_named:
        out.write("]}")
    out.write("\n]}\n")
    out.flush()
    return count
