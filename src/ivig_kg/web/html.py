"""HTML pages of the server, as Python strings; every piece of data goes through :func:`esc`.

No template engine and no CDN: the pages link only the local ``/static/`` files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from ivig_kg import vocab
from ivig_kg.results import compact


def esc(text: object) -> str:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return escape(str(text), quote=True)


@dataclass(frozen=True)
class Site:
    """Where the server's pages live: ``base`` is the public URL that :data:`vocab.BASE` maps onto."""

    base: str

    def url(self, path: str = "") -> str:
        return self.base + path.lstrip("/")

    def local(self, iri: str) -> str | None:
        """The server URL of an IRI minted under :data:`vocab.BASE`, else None."""
        return self.url(iri[len(vocab.BASE):]) if iri.startswith(vocab.BASE) else None


def page(site: Site, title: str, body: str, *, script: bool = False) -> bytes:
    """A whole HTML document around ``body`` (already escaped markup)."""
    nav = (f'<nav><a href="{esc(site.url())}">Query</a> · <a href="{esc(site.url("queries"))}">Canned queries '
           f'(JSON)</a> · <a href="{esc(site.url("sparql"))}">Service description</a> · '
           f'<a href="{esc(site.url("ontology"))}">Ontology</a></nav>')
    js = f'<script src="{esc(site.url("static/app.js"))}" defer></script>' if script else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)} · ivig-kg</title>"
        f'<link rel="stylesheet" href="{esc(site.url("static/style.css"))}">{js}</head>'
        f"<body><header><strong>ivig-kg</strong> {nav}</header><main>{body}</main></body></html>\n"
    ).encode()


def term_html(site: Site, kind: str, value: str, label: str | None = None, extra: str = "") -> str:
    """A term as HTML: our IRIs link to the server's page, other IRIs link out, literals are text."""
    if kind == "iri":
        local = site.local(value)
        shown = esc(compact(value))
        if label and label != value:
            shown += f' <span class="label">{esc(label)}</span>'
        if local is not None:
            return f'<a href="{esc(local)}">{shown}</a>'
        return f'<a class="external" href="{esc(value)}" rel="noopener noreferrer">{shown}</a>'
    if kind == "bnode":
        return f'<span class="bnode">_:{esc(value)}</span>'
    out = f'<span class="literal">{esc(value)}</span>'
    if extra:
        out += f' <span class="datatype">{esc(extra)}</span>'
    return out


@dataclass(frozen=True)
class Row:
    """One property row of an entity page: predicate IRI and the object's kind, value, label, datatype."""

    predicate: str
    kind: str
    value: str
    label: str | None
    extra: str


@dataclass(frozen=True)
class Quote:
    sentence: str
    offset: int
    quote: str
    start: int
    end: int
    document: str


def entity_page(site: Site, iri: str, label: str | None, rows: Sequence[Row], incoming: Sequence[Row],
                quotes: Sequence[Quote], terms: Sequence[Row] = ()) -> bytes:
    """The page of one entity: its properties, who links to it, and the quotes it was derived from."""
    title = label or compact(iri)
    alt = "".join(f' <a href="?format={f}">{n}</a>' for f, n in
                  (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("ntriples", "N-Triples"), ("rdfxml", "RDF/XML")))
    parts = [f"<h1>{esc(title)}</h1>", f'<p class="iri"><code>{esc(iri)}</code> · as{alt}</p>']
    if quotes:
        parts.append("<h2>Source</h2>")
        for q in quotes:
            s, o, n = q.sentence, q.offset, len(q.quote)
            doc = term_html(site, "iri", q.document)
            parts.append(
                f'<blockquote class="source">{esc(s[:o])}<mark>{esc(s[o:o + n])}</mark>{esc(s[o + n:])}'
                f'<footer>characters {q.start}&ndash;{q.end} of {doc}</footer></blockquote>')
    parts.append("<h2>Properties</h2>")
    parts.append(_rows_table(site, rows, "property", "value") if rows else "<p>No properties.</p>")
    if terms:
        parts.append("<h2>Terms</h2><dl class=\"terms\">")
        for t in terms:
            anchor = t.predicate.rsplit("#", 1)[-1]
            parts.append(f'<dt id="{esc(anchor)}">{esc(compact(t.predicate))} '
                         f'<span class="label">{esc(t.label or "")}</span></dt><dd>{esc(t.value)}</dd>')
        parts.append("</dl>")
    if incoming:
        parts.append("<h2>Referenced by</h2>")
        parts.append(_rows_table(site, incoming, "subject", "property", incoming=True))
    return page(site, title, "\n".join(parts))


def _rows_table(site: Site, rows: Iterable[Row], h1: str, h2: str, incoming: bool = False) -> str:
    out = [f"<table class=\"facts\"><thead><tr><th>{esc(h1)}</th><th>{esc(h2)}</th></tr></thead><tbody>"]
    for r in rows:
        pred = term_html(site, "iri", r.predicate)
        obj = term_html(site, r.kind, r.value, r.label, r.extra)
        out.append(f"<tr><td>{obj}</td><td>{pred}</td></tr>" if incoming else f"<tr><td>{pred}</td><td>{obj}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def graph_page(site: Site, iri: str, triples: int, subjects: Sequence[tuple[str, str | None]]) -> bytes:
    """A named graph: its size, download links and the entities it describes."""
    links = " ".join(f'<a href="{esc(site.url("store"))}?graph={esc(iri)}&amp;format={f}">{n}</a>'
                     for f, n in (("turtle", "Turtle"), ("ntriples", "N-Triples"), ("jsonld", "JSON-LD")))
    items = "".join(f"<li>{term_html(site, 'iri', s, label)}</li>" for s, label in subjects)
    body = (f"<h1>Graph {esc(compact(iri))}</h1><p class=\"iri\"><code>{esc(iri)}</code></p>"
            f"<p>{triples} triples. Download: {links}</p><h2>Entities</h2><ul>{items}</ul>")
    return page(site, compact(iri), body)


def index_page(site: Site, canned: list[dict[str, object]], plot: bool, update: bool) -> bytes:
    """The query page: editor, canned queries, run button, results table, downloads, forest plot."""
    options = "".join(f'<option value="{esc(q["name"])}">{esc(q["title"])}</option>' for q in canned)
    data = esc(json.dumps({"base": site.base, "iriBase": vocab.BASE, "prefixes": vocab.PREFIXES,
                           "queries": canned}))
    plot_html = (f'<section id="plot"><h2>Forest plot of the effect estimates</h2>'
                 f'<p><a href="{esc(site.url("plot/forest.svg"))}">'
                 f'<img src="{esc(site.url("plot/forest.svg"))}" alt="Forest plot of the effect estimates" '
                 f'width="800"></a></p></section>') if plot else ""
    note = "" if not update else "<p class=\"note\">Updates are enabled on this server (bearer token).</p>"
    body = f"""
<h1>Query the graph</h1>
<div id="app" data-config="{data}">
<form id="query-form">
<label for="canned">Canned query</label>
<select id="canned"><option value="">(your own query)</option>{options}</select>
<p id="question" class="question"></p>
<div id="params"></div>
<label for="query">SPARQL</label>
<textarea id="query" name="query" rows="9" spellcheck="false">SELECT ?study ?label WHERE {{
  ?study a ivig:Study ; rdfs:label ?label .
}} ORDER BY ?label</textarea>
<p class="hint">Prefixes such as <code>ivig:</code>, <code>ivigr:</code>, <code>rdfs:</code> are predeclared.</p>
<button id="run" type="submit">Run</button>
<span id="downloads"></span>
</form>
<p id="status" role="status"></p>
<div id="results"></div>
</div>
{note}
{plot_html}
"""
    return page(site, "Query", body, script=True)
