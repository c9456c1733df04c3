"""Content negotiation: pick a response format from an Accept header with q-values (RFC 9110 12.5.1).

The offers come from the registries in :mod:`ivig_kg.formats`, plus a few
aliases clients send in practice (``application/json`` for SPARQL JSON,
``application/x-turtle``...). A format given by name (``?format=csv``) wins
over the header, so plain links can download any format.
"""

from __future__ import annotations

from ivig_kg.formats import RDF_FORMATS, RESULT_FORMATS

# format name -> media types that select it (the first is what we answer with)
_RESULT_ORDER = ("json", "xml", "csv", "tsv")  # server preference when the client does not care
_RESULT_EXTRA: dict[str, tuple[str, ...]] = {"json": ("application/json",), "xml": ("application/xml", "text/xml")}
RESULT_MEDIA: dict[str, tuple[str, ...]] = {
    name: (RESULT_FORMATS[name][1], *_RESULT_EXTRA.get(name, ())) for name in _RESULT_ORDER
}
RDF_MEDIA: dict[str, tuple[str, ...]] = {
    name: (fmt.media_type, *{
        "turtle": ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3"),
        "ntriples": ("text/plain",),
        "jsonld": ("application/json",),
        "rdfxml": ("application/xml", "text/xml"),
    }.get(name, ()))
    for name, fmt in RDF_FORMATS.items()
}
HTML_MEDIA: dict[str, tuple[str, ...]] = {"html": ("text/html", "application/xhtml+xml")}

# names a ?format= parameter may use for each kind of answer
FORMAT_ALIASES: dict[str, str] = {
    "srj": "json", "sparql-json": "json", "srx": "xml", "sparql-xml": "xml",
    "ttl": "turtle", "nt": "ntriples", "n-triples": "ntriples", "json-ld": "jsonld", "rdf": "rdfxml",
    "rdf-xml": "rdfxml", "nq": "nquads", "n-quads": "nquads",
}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """``'text/csv;q=0.5, */*;q=0.1'`` -> ``[('text/csv', 0.5), ('*/*', 0.1)]``; empty header -> ``*/*``."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    out: list[tuple[str, float]] = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        if "/" not in media:
            media = "*/*" if media == "*" else media + "/*"
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        out.append((media, q))
    return out


def _quality(media: str, accept: list[tuple[str, float]]) -> float:
    """The q of the most specific range matching ``media`` (0 if none)."""
    best_spec, best_q = -1, 0.0
    kind = media.split("/")[0]
    for rng, q in accept:
        if rng == media:
            spec = 2
        elif rng == kind + "/*":
            spec = 1
        elif rng == "*/*":
            spec = 0
        else:
            continue
        if spec > best_spec:
            best_spec, best_q = spec, q
    return best_q


def choose(accept: list[tuple[str, float]], offers: dict[str, tuple[str, ...]]) -> tuple[str, str] | None:
    """The (format name, media type) the client prefers among ``offers``; None means 406.

    Ties go to the offer listed first (the server's preference order).
    """
    best: tuple[float, int, str, str] | None = None
    for name, medias in offers.items():
        for i, media in enumerate(medias):
            q = _quality(media, accept)
            primary = 1 if i == 0 else 0  # an alias (text/xml, application/json...) loses a tie to a real type
            if q > 0 and (best is None or (q, primary) > best[:2]):
                best = (q, primary, name, medias[0])
    return (best[2], best[3]) if best else None


def by_name(name: str, offers: dict[str, tuple[str, ...]]) -> tuple[str, str] | None:
    """A format requested by name (``?format=``), resolved among ``offers``."""
    key = FORMAT_ALIASES.get(name.lower(), name.lower())
    return (key, offers[key][0]) if key in offers else None


def acceptable_at_all(accept: list[tuple[str, float]]) -> bool:
    """Whether any result, RDF or HTML format we serve is acceptable (else 406 before running)."""
    return any(choose(accept, offers) for offers in (RESULT_MEDIA, RDF_MEDIA))
