"""A streaming, compacting JSON-LD writer that applies our own context.

Generic JSON-LD libraries (rdflib, pyld) build the whole document in memory,
expand it, and compact it again: seconds and hundreds of MB for a large graph.
Our data is simple (IRIs, typed or language-tagged literals, a few canonical
blank nodes in the ontology), so compaction reduces to a table look-up:

* each subject becomes one node object ``{"@id", "@type", key: value...}``
  inside its named graph object ``{"@id": graph, "@graph": [...]}``, and is
  written out as soon as the next subject starts, so memory is bounded by one
  subject's quads (plus a fixed-size chunk of input and output);
* a property uses the context's term when the value fits the term's
  definition (``@type: @id`` for IRIs, the term's datatype for typed literals,
  none for plain or language-tagged strings), otherwise its compact IRI
  (``ivig:value``) with an explicit value object: the output expands back to
  exactly the input quads;
* IRIs become compact IRIs with the context's prefixes (longest prefix wins).

Speed: reading an on-disk Oxigraph store costs about 1 us per term decoded in
Rust, and creating a Python term object per term costs more again. So
:func:`write_store` never creates term objects: for each graph it runs
``SELECT ?s ?p ?o WHERE { GRAPH <g> { ?s ?p ?o } }`` (the graph name is not
decoded per quad, unlike ``Store.dump``), lets Oxigraph serialize the rows as
SPARQL TSV into a file-like sink, and processes that text in chunks with
``str`` operations: cells are split in bulk, and each cell is turned into JSON
through dict look-ups keyed by the cell text. Literal cells are copied into
the JSON verbatim: TSV and N-Triples escape only ``\\t \\n \\r \\" \\\\`` (and
N-Triples ``\\b \\f \\uXXXX``), which mean the same in JSON; a chunk holding a
raw control character or any other escape takes the exact path (unescape,
then ``json.dumps``) for the literals concerned.

Rows come out of Oxigraph's GSPO index, so one subject's quads of one graph
are contiguous. If they are not (any order is accepted by :func:`write`), the
writer emits a second node object with the same ``@id`` (valid JSON-LD;
processors merge them), so the output is correct for any quad order and
compact for the store's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import IO, Any, cast

import pyoxigraph as ox

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
_RDF_TYPE_CELL = f"<{RDF_TYPE}>"
_GEN_DELIMS = tuple(":/?#[]@")
_FLUSH_CHARS = 1 << 16
"""Output is handed to the file in pieces of about this many characters."""
_CHUNK_BYTES = 1 << 18
"""Input (TSV rows from Oxigraph) is processed in chunks of about this many bytes."""
_BATCH_QUADS = 1024
"""Quads of :func:`write`'s iterable processed at a time."""
_CACHE_MAX = 1 << 16
"""Bound on each look-up table keyed by IRIs, so memory stays flat for any store size."""

_NEEDS_CARE = re.compile(r'[\x00-\x08\x0b-\x1f]|\\[^"\\bfnrtu]')
"""Text that is not valid inside a JSON string as it stands (a raw control, an escape JSON lacks)."""
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_SPARQL_IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_TSV = ox.QueryResultsFormat.TSV
_MISSING = object()
_KEEP_CONTROLS = bytes(range(256)).translate(None, bytes([*range(0x09), *range(0x0B, 0x20)]))
"""``data.translate(None, _KEEP_CONTROLS)`` keeps only raw control characters other than tab and newline."""
_ODD_ESCAPE = re.compile(r'\\[^"\\bfnrtu]')


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
        self._prefix_ends = sorted({iri[-1] for iri in raw_prefixes.values()})
        self._heads: dict[str, object] = {}
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
        self.iri = self._iri
        self.vocab = lru_cache(maxsize=4096)(self._vocab)

    def expand(self, value: str) -> str:
        """A context value (``ivig:Study`` or a full IRI) as a full IRI."""
        prefix, sep, suffix = value.partition(":")
        if sep and not suffix.startswith("//") and prefix in self.prefixes:
            return self.prefixes[prefix] + suffix
        return value

    def _iri(self, iri: str) -> str:
        """Compact an IRI used as a node id (``@id``): prefixes only, never terms.

        Every prefix ends in one of a few characters (``/ # _ =``), so the
        longest prefix of ``iri`` is the longest prefix of its head up to the
        last such character; heads repeat a lot, so their match is cached.
        """
        cut = max([iri.rfind(char) for char in self._prefix_ends], default=-1) + 1
        head = iri[:cut]
        found = self._heads.get(head, _MISSING)
        if found is _MISSING:
            match = self._prefix_re.match(head) if self._prefix_re is not None else None
            found = (self._by_iri[match.group()] + ":", match.end()) if match else None
            if len(self._heads) >= 4096:
                self._heads.clear()
            self._heads[head] = found
        if found is not None:
            name, end = cast(tuple[str, int], found)
            suffix = iri[end:]
            if suffix and not suffix.startswith("//"):
                return name + suffix
        return iri

    def _vocab(self, iri: str) -> str:
        """Compact an IRI in vocabulary position (``@type`` values): a term if one maps to it."""
        return self.class_terms.get(iri) or self._iri(iri)


def _json_string(cell: str) -> str:
    """A quoted literal cell (TSV or N-Triples escapes) as an exact JSON string."""
    def unescape(match: re.Match[str]) -> str:
        hex4, hex8, char = match.groups()
        if hex4 or hex8:
            return chr(int(hex4 or hex8, 16))
        if char in _ECHARS:
            return _ECHARS[char]
        raise ValueError(f"invalid escape \\{char} in literal {cell}")
    return json.dumps(_ESCAPE.sub(unescape, cell[1:-1]), ensure_ascii=False)


def _bare_suffix(cell: str) -> str:
    """The datatype suffix of a literal TSV writes bare (Turtle's integer, decimal, double, boolean forms)."""
    if cell == "true" or cell == "false":
        return f"^^<{XSD}boolean>"
    if not cell or cell[0] not in "+-.0123456789":
        raise ValueError(f"cannot write the term {cell!r} as JSON-LD (RDF-star or unknown syntax)")
    if "e" in cell or "E" in cell:
        return f"^^<{XSD}double>"
    return f"^^<{XSD}decimal>" if "." in cell else f"^^<{XSD}integer>"


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


Template = tuple[str, str] | None
"""How a value's JSON is wrapped: ``None`` (as is) or (head, tail) of a value object."""


class _Builder:
    """Rows of term cells (N-Triples syntax, or SPARQL TSV's) -> compacted JSON-LD text.

    A cell is ``<iri>``, ``_:label``, ``"lexical"`` with an optional
    ``@lang`` or ``^^<datatype>``, or a bare TSV number/boolean. Each distinct
    cell, predicate and (predicate, literal suffix) is compacted once and
    cached as ready-made JSON text; the per-quad work is a few dict look-ups
    and string slices.
    """

    def __init__(self, compactor: Compactor, output: IO[bytes], indent: bool):
        self.c = compactor
        self.out = _Out(output)
        self.indent = indent
        self.dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
        self.refs: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.id_keys: dict[str, tuple[str, Template]] = {}
        self.lit_keys: dict[tuple[str, str], tuple[str, Template]] = {}
        self.subject: str | None = None
        self.node_types: list[str] = []
        self.props: dict[str, list[str]] = {}
        self.graph: str | None = None
        self.in_named = False
        self.first_top = True
        self.first_in_graph = True
        self.count = 0

    # -- look-up table misses -------------------------------------------------------------------
    def _iri(self, cell: str) -> str:
        if cell[:1] != "<" or cell.find(">") != len(cell) - 1 or " " in cell:  # quoted triples hold both
            raise ValueError(f"cannot write the term {cell!r} as JSON-LD (RDF-star or unknown syntax)")
        return cell[1:-1]

    def _ref(self, cell: str) -> str:
        """A node reference (``@id`` value) as JSON text."""
        value = cell if cell.startswith("_:") else self.c.iri(self._iri(cell))
        # IRIs never hold '"', '\\' or controls; anything unusual takes json's exact path
        value = '"' + value + '"' if value.isprintable() and '"' not in value and "\\" not in value \
            else self.dumps(value)
        if len(self.refs) >= _CACHE_MAX:
            self.refs.clear()
        self.refs[cell] = value
        return value

    def _type(self, cell: str) -> str:
        value = self.dumps(cell if cell.startswith("_:") else self.c.vocab(self._iri(cell)))
        if len(self.types) >= _CACHE_MAX:
            self.types.clear()
        self.types[cell] = value
        return value

    def _key(self, predicate: str) -> str:
        return self.dumps(self.c.plain_terms.get(predicate) or self.c.iri(predicate))

    def _id_key(self, cell: str) -> tuple[str, Template]:
        predicate = self._iri(cell)
        term = self.c.id_terms.get(predicate)
        entry: tuple[str, Template] = (self.dumps(term), None) if term else (self._key(predicate), ('{"@id":', "}"))
        self.id_keys[cell] = entry
        return entry

    def _lit_key(self, cell: str, suffix: str) -> tuple[str, Template]:
        predicate = self._iri(cell)
        entry: tuple[str, Template]
        if suffix.startswith("@"):
            entry = self._key(predicate), ('{"@value":', ',"@language":' + self.dumps(suffix[1:]) + "}")
        elif suffix == "" or suffix == f"^^<{XSD_STRING}>":
            entry = self._key(predicate), None
        elif suffix.startswith("^^<") and suffix.endswith(">"):
            datatype = suffix[3:-1]
            term = self.c.typed_terms.get((predicate, datatype))
            entry = (self.dumps(term), None) if term else \
                (self._key(predicate), ('{"@value":', ',"@type":' + self.dumps(self.c.vocab(datatype)) + "}"))
        else:
            raise ValueError(f"cannot write a literal ending in {suffix!r} as JSON-LD")
        if len(self.lit_keys) >= _CACHE_MAX:
            self.lit_keys.clear()
        self.lit_keys[cell, suffix] = entry
        return entry

    # -- document structure ---------------------------------------------------------------------
    def begin(self) -> None:
        context = json.dumps(self.c.context, ensure_ascii=False, indent=1 if self.indent else None,
                             separators=(",", ": ") if self.indent else (",", ":"))
        self.out.write('{"@context":' + context + ',\n"@graph":[')

    def start_graph(self, cell: str | None) -> None:
        """Begin the default graph (``None``) or the named graph ``cell`` (``<iri>`` or ``_:label``)."""
        self._emit_subject()
        if self.in_named:
            self.out.write("]}")
        self.graph = cell
        self.in_named = cell is not None
        if cell is not None:
            self.out.write(("\n" if self.first_top else ",\n") + '{"@id":' + self._ref(cell) + ',"@graph":[')
            self.first_top = False
            self.first_in_graph = True

    def finish(self) -> int:
        self._emit_subject()
        if self.in_named:
            self.out.write("]}")
        self.out.write("\n]}\n")
        self.out.flush()
        return self.count

    def _node(self, subject: str, types: list[str], props: dict[str, list[str]]) -> str:
        text = '{"@id":' + (self.refs.get(subject) or self._ref(subject))
        if types:
            text += ',"@type":' + (types[0] if len(types) == 1 else "[" + ",".join(types) + "]")
        text += "".join(["," + key + ":" + (values[0] if len(values) == 1 else "[" + ",".join(values) + "]")
                         for key, values in props.items()])
        return text + "}"

    def _write_nodes(self, nodes: list[str]) -> None:
        if not nodes:
            return
        if self.indent:
            nodes = [json.dumps(json.loads(node), ensure_ascii=False, indent=1) for node in nodes]
        if self.in_named:
            self.out.write(("\n" if self.first_in_graph else ",\n") + ",\n".join(nodes))
            self.first_in_graph = False
        else:
            self.out.write(("\n" if self.first_top else ",\n") + ",\n".join(nodes))
            self.first_top = False

    def _emit_subject(self) -> None:
        if self.subject is not None:
            self._write_nodes([self._node(self.subject, self.node_types, self.props)])
        self.subject, self.node_types, self.props = None, [], {}

    # -- the hot loop -----------------------------------------------------------------------------
    def rows(self, cells: list[str], careful: bool) -> None:
        """Add rows given as a flat list ``[s, p, o, s, p, o, ...]`` of cells of the current graph.

        ``careful``: some literal cell may not be valid JSON as it stands
        (see ``_NEEDS_CARE``), so check each one.
        """
        refs, types_of, id_keys, lit_keys = self.refs, self.types, self.id_keys, self.lit_keys
        subject, types, props = self.subject, self.node_types, self.props
        nodes: list[str] = []
        template: Template
        for s, p, o in zip(cells[0::3], cells[1::3], cells[2::3], strict=True):
            if s != subject:
                if subject is not None:
                    nodes.append(self._node(subject, types, props))
                subject, types, props = s, [], {}
            first = o[0]
            if first == '"':
                end = o.rindex('"') + 1
                key, template = lit_keys.get((p, o[end:])) or self._lit_key(p, o[end:])
                value = o[:end]
                if careful and _NEEDS_CARE.search(value):
                    value = _json_string(value)
            elif first == "<" or first == "_":
                if p == _RDF_TYPE_CELL:
                    types.append(types_of.get(o) or self._type(o))
                    continue
                value = refs.get(o) or self._ref(o)
                key, template = id_keys.get(p) or self._id_key(p)
            else:
                suffix = _bare_suffix(o)
                key, template = lit_keys.get((p, suffix)) or self._lit_key(p, suffix)
                value = '"' + o + '"'
            if template is not None:
                value = template[0] + value + template[1]
            values = props.get(key)
            if values is None:
                props[key] = [value]
            else:
                values.append(value)
        self.subject, self.node_types, self.props = subject, types, props
        self.count += len(cells) // 3
        self._write_nodes(nodes)


class _TsvSink:
    """A file-like target for Oxigraph's SPARQL TSV writer (``?s ?p ?o`` rows).

    Oxigraph writes in small pieces; they are gathered into chunks of about
    ``_CHUNK_BYTES``, cut at a line end, and handed to the builder, so memory
    stays bounded whatever the graph's size.
    """

    def __init__(self, builder: _Builder):
        self.builder = builder
        self.parts: list[bytes] = []
        self.size = 0
        self.header = True

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= _CHUNK_BYTES:
            self._process(final=False)
        return len(data)

    def flush(self) -> None:
        """Called by Oxigraph; the chunking is ours."""

    def close(self) -> None:
        self._process(final=True)

    def _process(self, final: bool) -> None:
        data = b"".join(self.parts)
        cut = len(data) if final else data.rfind(b"\n") + 1
        self.parts = [data[cut:]] if cut < len(data) else []
        self.size = len(data) - cut
        text = data[:cut].decode("utf-8")
        if self.header:
            if not text:
                return
            text = text[text.index("\n") + 1:]
            self.header = False
        if text.endswith("\n"):
            text = text[:-1]
        if text:
            careful = bool(data[:cut].translate(None, _KEEP_CONTROLS)) or _ODD_ESCAPE.search(text) is not None
            self.builder.rows(text.replace("\n", "\t").split("\t"), careful)


def _context_compactor(context: dict[str, Any], output: IO[bytes], indent: bool) -> _Builder:
    builder = _Builder(Compactor(context), output, indent)
    builder.begin()
    return builder


def write_store(store: ox.Store, output: IO[bytes], context: dict[str, Any], *, graph: str | None = None,
                indent: bool = False) -> int:
    """Write the store (or only its named graph ``graph``) as one compacted JSON-LD document.

    The fast path (see the module docstring): per graph, Oxigraph serializes
    the graph's rows as TSV straight into our chunked sink. Blank-node graph
    names, and IRIs SPARQL cannot spell, go through the term-object path.
    Returns the quads written.
    """
    builder = _context_compactor(context, output, indent)
    names: list[ox.NamedNode | ox.BlankNode]
    if graph is None:
        builder.start_graph(None)
        _select(store, builder, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
        names = sorted(store.named_graphs(), key=str)
    else:
        names = [ox.NamedNode(graph)]
    for name in names:
        builder.start_graph(str(name))
        if isinstance(name, ox.NamedNode) and not _SPARQL_IRI_UNSAFE.search(name.value):
            _select(store, builder, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{name.value}> {{ ?s ?p ?o }} }}")
        else:
            _quads_into(builder, store.quads_for_pattern(None, None, None, name), name)
    return builder.finish()


def _select(store: ox.Store, builder: _Builder, sparql: str) -> None:
    sink = _TsvSink(builder)
    result = store.query(sparql)
    assert isinstance(result, ox.QuerySolutions)
    result.serialize(cast(IO[bytes], sink), format=_TSV)
    sink.close()


def _quads_into(builder: _Builder, quads: Iterable[ox.Quad], graph: object) -> None:
    """The term-object path: quads of any order, grouped into runs of one graph."""
    cells: list[str] = []
    for quad in quads:
        g = quad.graph_name
        if g != graph:
            if cells:
                builder.rows(cells, True)
                cells = []
            builder.start_graph(None if isinstance(g, ox.DefaultGraph) else str(g))
            graph = g
        cells += (str(quad.subject), str(quad.predicate), str(quad.object))
        if len(cells) >= 3 * _BATCH_QUADS:
            builder.rows(cells, True)
            cells = []
    if cells:
        builder.rows(cells, True)


def write(quads: Iterable[ox.Quad], output: IO[bytes], context: dict[str, Any], *, indent: bool = False) -> int:
    """Write ``quads`` (any order) as one compacted JSON-LD document with ``context``; returns the quads written.

    ``context`` is the value of ``@context`` (a term -> definition mapping),
    written inline, so readers never need to fetch it. For a whole store,
    :func:`write_store` is several times faster.
    """
    builder = _context_compactor(context, output, indent)
    _quads_into(builder, quads, _NO_GRAPH)
    return builder.finish()


_NO_GRAPH = object()
