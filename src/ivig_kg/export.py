"""Export the store's graphs as Turtle, JSON-LD, N-Triples, N-Quads, TriG or RDF/XML."""

from __future__ import annotations

import json
from typing import IO, Any

import pyoxigraph as ox

from ivig_kg import resources
from ivig_kg.errors import UsageError
from ivig_kg.formats import RdfFormat
from ivig_kg.store import GraphStore
from ivig_kg.vocab import PREFIXES

_PREFIXED = {ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML}


def graph_names(oxstore: ox.Store) -> list[str]:
    return sorted(g.value for g in oxstore.named_graphs() if isinstance(g, ox.NamedNode))


def export(store: GraphStore, fmt: RdfFormat, output: IO[bytes], graph: str | None = None) -> None:
    """Write the whole dataset (or one named graph) to ``output`` in ``fmt``.

    Triple-only formats without ``graph`` get the union of all graphs.
    """
    oxstore = store.open()
    quads: Any
    if graph is not None:
        names = graph_names(oxstore)
        if graph not in names:
            raise UsageError(f"no graph {graph!r} in the store", hint="graphs: " + ", ".join(names))
        quads = oxstore.quads_for_pattern(None, None, None, ox.NamedNode(graph))
    else:
        quads = iter(oxstore)
    if fmt.name == "jsonld":
        _write_jsonld(oxstore, output, graph)
        return
    prefixes = PREFIXES if fmt.oxigraph in _PREFIXED else None
    items = quads if fmt.datasets else (q.triple for q in quads)
    ox.serialize(items, output, format=fmt.oxigraph, prefixes=prefixes)


def context() -> dict[str, Any]:
    """Our JSON-LD context (``ontology/context.jsonld``), read locally, never fetched."""
    data: dict[str, Any] = json.loads(resources.context_file().read_text(encoding="utf-8"))
    return data


def _write_jsonld(oxstore: ox.Store, output: IO[bytes], graph: str | None) -> None:
    """Compacted JSON-LD with our context, streamed subject by subject (see :mod:`ivig_kg.jsonld`)."""
    from ivig_kg import jsonld

    jsonld.write_store(oxstore, output, context()["@context"], graph=graph)
