// ivig-kg query page: canned queries, run, results table, downloads. Plain JS, no libraries.
// All data goes into the page through textContent / attributes, never innerHTML.
"use strict";

(function () {
  const app = document.getElementById("app");
  if (!app) return;
  const config = JSON.parse(app.dataset.config);
  const $ = (id) => document.getElementById(id);
  const select = $("canned"), textarea = $("query"), paramsBox = $("params");
  const statusLine = $("status"), results = $("results"), downloads = $("downloads");
  const byName = Object.fromEntries(config.queries.map((q) => [q.name, q]));
  const SELECT_FORMATS = [["json", "JSON"], ["xml", "XML"], ["csv", "CSV"], ["tsv", "TSV"]];
  const GRAPH_FORMATS = [["turtle", "Turtle"], ["ntriples", "N-Triples"], ["jsonld", "JSON-LD"], ["rdfxml", "RDF/XML"]];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function compact(iri) {
    let best = "";
    for (const [p, ns] of Object.entries(config.prefixes)) {
      if (iri.startsWith(ns) && ns.length > (config.prefixes[best] || "").length) best = p;
    }
    return best ? best + ":" + iri.slice(config.prefixes[best].length) : iri;
  }

  function href(iri) {
    return iri.startsWith(config.iriBase) ? config.base + iri.slice(config.iriBase.length) : iri;
  }

  select.addEventListener("change", () => {
    paramsBox.replaceChildren();
    const q = byName[select.value];
    $("question").textContent = q ? q.question : "";
    if (!q) return;
    textarea.value = q.text;
    for (const p of q.params) {
      const id = "param-" + p.name;
      const row = el("div", { class: "param" });
      row.append(el("label", { for: id }, p.name + (p.optional ? " (optional)" : "")));
      row.append(el("input", { id: id, name: p.name, type: "text", placeholder: p.doc, size: "60" }));
      paramsBox.append(row);
    }
  });

  function requestFor() {
    const q = byName[select.value];
    if (q && textarea.value === q.text) {
      const params = new URLSearchParams();
      for (const input of paramsBox.querySelectorAll("input")) if (input.value) params.set(input.name, input.value);
      const qs = params.toString();
      return { url: q.url + (qs ? "?" + qs : ""), init: {}, link: (f) => q.url + "?" + (qs ? qs + "&" : "") + "format=" + f };
    }
    const body = new URLSearchParams({ query: textarea.value });
    return {
      url: config.base + "sparql",
      init: { method: "POST", body: body, headers: { "Content-Type": "application/x-www-form-urlencoded" } },
      link: (f) => config.base + "sparql?" + new URLSearchParams({ query: textarea.value, format: f }).toString(),
    };
  }

  function cell(term) {
    const td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.append(el("a", { href: href(term.value), title: term.value }, compact(term.value)));
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) td.append(el("span", { class: "datatype" }, " @" + term["xml:lang"]));
    }
    return td;
  }

  function showDownloads(req, formats) {
    downloads.replaceChildren(document.createTextNode("Download: "));
    for (const [f, name] of formats) {
      downloads.append(el("a", { href: req.link(f), class: "download", download: "" }, name), " ");
    }
  }

  $("query-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const req = requestFor();
    req.init.headers = Object.assign({ Accept: "application/sparql-results+json, application/n-triples;q=0.9" },
      req.init.headers || {});
    statusLine.className = "";
    statusLine.textContent = "Running…";
    results.replaceChildren();
    downloads.replaceChildren();
    const started = performance.now();
    let response;
    try {
      response = await fetch(req.url, req.init);
    } catch (err) {
      statusLine.className = "error";
      statusLine.textContent = "Request failed: " + err;
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      statusLine.className = "error";
      statusLine.textContent = response.status + " " + (await response.text());
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const truncated = response.headers.get("X-Ivig-Truncated");
    if (type.includes("sparql-results+json")) {
      const data = await response.json();
      showDownloads(req, SELECT_FORMATS);
      if ("boolean" in data) {
        statusLine.textContent = "Answer: " + data.boolean + " (" + seconds + " s)";
        return;
      }
      const vars = data.head.vars;
      const table = el("table", { class: "results" });
      const head = el("tr");
      for (const v of vars) head.append(el("th", {}, v));
      const thead = el("thead");
      thead.append(head);
      table.append(thead);
      const body = el("tbody");
      for (const b of data.results.bindings) {
        const tr = el("tr");
        for (const v of vars) tr.append(cell(b[v]));
        body.append(tr);
      }
      table.append(body);
      results.append(table);
      statusLine.textContent = data.results.bindings.length + " row(s) in " + seconds + " s" +
        (truncated ? " — truncated at the server's row limit (" + truncated + ")" : "");
      if (truncated) statusLine.className = "warning";
    } else {
      showDownloads(req, GRAPH_FORMATS);
      results.append(el("pre", { class: "triples" }, await response.text()));
      statusLine.textContent = "Graph result in " + seconds + " s" + (truncated ? " — truncated (" + truncated + ")" : "");
    }
  });
})();
