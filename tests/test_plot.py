"""The forest plot: drawn from the graph, one marker per estimate, quotes as SVG tooltips, SVG/PNG output."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from xml.dom import minidom

import pyoxigraph as ox
import pytest
from PIL import Image
from typer.testing import CliRunner

from ivig_kg import plot
from ivig_kg.cli import app
from ivig_kg.errors import QueryError
from ivig_kg.store import GraphStore, run_query

runner = CliRunner()
EXE = Path(sys.executable).with_name("ivig-kg")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _estimates(oxstore: ox.Store) -> dict[str, str]:
    """Estimate IRI -> its source quote(s), by an independent query over the provenance pattern."""
    rows = run_query(oxstore, """
        SELECT ?e ?exact WHERE {
          ?e a ivig:Estimate ; prov:wasDerivedFrom ?q .
          ?q oa:hasSelector ?sel . ?sel a oa:TextQuoteSelector ; oa:exact ?exact .
        }""")
    out: dict[str, str] = {}
    for r in rows:
        out[r["e"].value] = out.get(r["e"].value, "") + r["exact"].value
    return out


def _labels(oxstore: ox.Store) -> set[str]:
    """Labels of the studies and outcomes that have estimates."""
    rows = run_query(oxstore, """
        SELECT DISTINCT ?label WHERE {
          { ?s ivig:hasEstimate ?e . ?s rdfs:label ?label }
          UNION { ?e a ivig:Estimate ; ivig:estimates ?o . ?o rdfs:label ?label }
        }""")
    return {r["label"].value for r in rows}


def _groups(doc: minidom.Document, cls: str) -> list[minidom.Element]:
    return [g for g in doc.getElementsByTagName("g") if g.getAttribute("class") == cls]


def _title(g: minidom.Element) -> str:
    titles = [c for c in g.childNodes if getattr(c, "tagName", None) == "title"]
    assert len(titles) == 1
    return "".join(n.data for n in titles[0].childNodes if n.nodeType == n.TEXT_NODE)


def _all_text(doc: minidom.Document) -> str:
    parts = []
    for t in doc.getElementsByTagName("text"):
        parts.append(" ".join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE))
    return re.sub(r"\s+", " ", " ".join(parts))


@pytest.fixture(scope="module")
def svg(oxstore: ox.Store) -> bytes:
    return plot.forest_svg(oxstore)


def test_svg_has_one_marker_per_estimate_in_the_graph(svg: bytes, oxstore: ox.Store) -> None:
    doc = minidom.parseString(svg)  # an independent XML parser (expat via minidom)
    assert doc.documentElement is not None and doc.documentElement.tagName == "svg"
    (count,) = run_query(oxstore, "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ivig:Estimate }")
    markers = _groups(doc, "estimate")
    assert len(markers) == int(count["n"].value) == 4
    assert {g.getAttribute("data-estimate") for g in markers} == set(_estimates(oxstore))
    for g in markers:  # each marker group really draws something
        assert g.getElementsByTagName("use") or g.getElementsByTagName("path")


def test_svg_tooltips_carry_each_estimates_quote(svg: bytes, oxstore: ox.Store) -> None:
    doc = minidom.parseString(svg)
    quotes = _estimates(oxstore)
    for g in _groups(doc, "estimate"):
        assert quotes[g.getAttribute("data-estimate")] in _title(g)
    # the CI line of an estimate carries the same tooltip (easier to hover)
    for g in _groups(doc, "estimate-ci"):
        assert quotes[g.getAttribute("data-estimate")] in _title(g)
    assert len(_groups(doc, "estimate-ci")) == 2  # the two ratios have a CI; the single-arm rates do not


def test_svg_shows_the_study_and_outcome_labels(svg: bytes, oxstore: ox.Store) -> None:
    text = _all_text(minidom.parseString(svg))
    labels = _labels(oxstore)
    assert len(labels) == 5  # 2 studies + 3 outcomes
    for label in labels:
        assert re.sub(r"\s+", " ", label) in text, label
    for header in ("rate ratio", "hazard ratio", "event rate", "0.36 (0.15\u20130.88)", "log scale"):
        assert header in text


def test_significance_is_a_filled_marker(svg: bytes) -> None:
    doc = minidom.parseString(svg)
    fills = {}
    for g in _groups(doc, "estimate"):
        styles = " ".join(e.getAttribute("style") for e in g.getElementsByTagName("use") + g.getElementsByTagName(
            "path"))
        fills[g.getAttribute("data-estimate").rsplit("/", 1)[-1]] = re.findall(r"fill:\s*(#[0-9a-f]{6})", styles)
    # Achiron: rate ratio 0.36, CI 0.15-0.88 excludes 1 -> significant (filled in the ink colour)
    assert fills["achiron-2004-cdms-rate-ratio"] == ["#1f3b73"]
    # Hommes: hazard ratio 1.11, CI 0.80-1.53 spans 1 -> not significant (open: white fill)
    assert fills["hommes-2004-edss-progression-hr"] == ["#ffffff"]
    # single-arm rates: not tested (grey)
    assert fills["hommes-2004-relapse-rate-ivig"] == fills["hommes-2004-relapse-rate-placebo"] == ["#9a9a9a"]


def test_rows_follow_the_query(oxstore: ox.Store) -> None:
    rows = {r.estimate.rsplit("/", 1)[-1]: r for r in plot.forest_rows(oxstore)}
    rr = rows["achiron-2004-cdms-rate-ratio"]
    assert (rr.value, rr.ci_lower, rr.ci_upper, rr.p_value, rr.significant, rr.panel) == \
        (0.36, 0.15, 0.88, "p = 0.03", True, "ratio")
    hr = rows["hommes-2004-edss-progression-hr"]
    assert (hr.value, hr.ci_lower, hr.ci_upper, hr.significant, hr.panel) == (1.11, 0.8, 1.53, False, "ratio")
    for arm in ("ivig", "placebo"):  # rates are not ratios: their own panel, no null line, not tested
        r = rows[f"hommes-2004-relapse-rate-{arm}"]
        assert (r.value, r.panel, r.null_value, r.significant) == (0.46, "single-arm", None, None)
    assert plot.PANELS["ratio"].log and plot.PANELS["ratio"].null == 1.0
    assert plot.PANELS["single-arm"].null is None


def test_the_query_null_values_match_the_ratio_measures() -> None:
    from ivig_kg import queries
    from ivig_kg.vocab import RATIO_MEASURES

    text = queries.get("forest-plot").text
    with_one = set(re.findall(r"\(ivig:(\w+) 1\)", text))
    assert with_one == set(RATIO_MEASURES)


def test_svg_is_deterministic(oxstore: ox.Store, built_store: GraphStore, svg: bytes) -> None:
    assert plot.forest_svg(built_store) == svg  # same bytes from a GraphStore and an open store


def test_png_is_a_valid_png(oxstore: ox.Store) -> None:
    data = plot.forest(oxstore, "png")
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as im:
        im.verify()
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.size[0] > 1500 and im.size[1] > 800


def test_bad_queries_are_clear_errors(oxstore: ox.Store) -> None:
    with pytest.raises(QueryError, match=r"lacks the column\(s\) \?outcomeLabel"):
        plot.forest_svg(oxstore, query_name="studies")
    with pytest.raises(QueryError, match="no estimates to plot"):
        plot.forest_svg(oxstore, params={"study": "ivigr:ivig-ms-commentary/no-such-study"})


def test_cli_extension_picks_the_format(built_store: GraphStore, tmp_path: Path) -> None:
    store = str(built_store.path)
    png, svg_out = tmp_path / "f.png", tmp_path / "f.svg"
    r = runner.invoke(app, ["plot", "forest", "-o", str(png), "--store", store])
    assert r.exit_code == 0, r.stderr
    assert png.read_bytes().startswith(PNG_MAGIC)
    r = runner.invoke(app, ["plot", "forest", "-o", str(svg_out), "--store", store])
    assert r.exit_code == 0, r.stderr
    root = minidom.parse(str(svg_out)).documentElement
    assert root is not None and root.tagName == "svg"
    assert f"wrote {svg_out}" in r.stderr
    # --format wins over the extension
    forced = tmp_path / "forced.svg"
    r = runner.invoke(app, ["plot", "forest", "-o", str(forced), "-f", "png", "--store", store])
    assert r.exit_code == 0 and forced.read_bytes().startswith(PNG_MAGIC)
    # an unknown extension is a usage error, and nothing is written
    bad = tmp_path / "f.pdf"
    r = runner.invoke(app, ["plot", "forest", "-o", str(bad), "--store", store])
    assert r.exit_code == 2 and "cannot tell the plot format" in r.stderr and "Traceback" not in r.stderr
    assert not bad.exists()


def test_cli_one_study_and_query_option(built_store: GraphStore, tmp_path: Path) -> None:
    out = tmp_path / "one.svg"
    r = runner.invoke(app, ["plot", "forest", "-o", str(out), "--store", str(built_store.path),
                            "-p", "study=ivigr:ivig-ms-commentary/achiron-2004"])
    assert r.exit_code == 0, r.stderr
    doc = minidom.parse(str(out))
    assert [g.getAttribute("data-estimate").rsplit("/", 1)[-1] for g in _groups(doc, "estimate")] == \
        ["achiron-2004-cdms-rate-ratio"]
    r = runner.invoke(app, ["plot", "forest", "-o", str(out), "--store", str(built_store.path), "--query", "nope"])
    assert r.exit_code == 1 and "no canned query named 'nope'" in r.stderr


def test_cli_subprocess(built_store: GraphStore, tmp_path: Path) -> None:
    out = tmp_path / "forest.svg"
    proc = subprocess.run([str(EXE), "plot", "forest", "-o", str(out), "--store", str(built_store.path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(_groups(minidom.parse(str(out)), "estimate")) == 4
    proc = subprocess.run([str(EXE), "plot", "forest", "--store", str(tmp_path / "empty")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 1 and "no graph has been built" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "forest.svg.part").exists()


_PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nMATPLOTLIB=%s\\n" % ("matplotlib" in sys.modules)))
from ivig_kg.cli import main
sys.argv = ["ivig-kg", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(("args", "imported"), [
    (["query", "run", "effect-estimates", "-f", "csv"], False),
    (["query", "list"], False),
    (["plot", "forest", "-o", "{tmp}/p.svg"], True),  # the probe can see an import
])
def test_only_plot_imports_matplotlib(built_store: GraphStore, tmp_path: Path, args: list[str],
                                      imported: bool) -> None:
    argv = [a.format(tmp=tmp_path) for a in args] + (["--store", str(built_store.path)] if args[0] != "query"
                                                      or args[1] != "list" else [])
    proc = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"MATPLOTLIB={imported}" in proc.stderr


def test_threads_can_render_at_once(oxstore: ox.Store, svg: bytes) -> None:
    """A threaded server renders from several threads: each gets the same, complete SVG."""
    from concurrent.futures import ThreadPoolExecutor

    rows = plot.forest_rows(oxstore)
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda fmt: plot.render(rows, fmt), ["svg", "png", "svg", "png", "svg"]))
    assert outs[0] == outs[2] == outs[4] == svg
    assert outs[1] == outs[3] and outs[1].startswith(PNG_MAGIC)
