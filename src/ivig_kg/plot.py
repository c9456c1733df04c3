"""Forest plot of the graph's numeric results, drawn from a canned SPARQL query.

The rows come from ``queries/forest-plot.rq`` (one row per estimate: study,
outcome, measure, point, confidence interval, p-value, null value,
significance and source quote), so the plot shows exactly what the graph says.

Layout decisions:

* Estimates are grouped in **panels** by their null value (:data:`PANELS`):
  ratio measures (null value 1) on a log scale with a dashed line at 1;
  differences (null value 0) on a linear scale with a line at 0; single-arm
  figures such as an annual relapse rate of 0.46 compare nothing, so they get
  their own linear panel **without** a null line instead of being mixed in
  among ratios.
* Significance (the query's ``?significant``) is a filled marker; not
  significant is an open marker; not tested (single-arm figures) a grey
  diamond. A legend says so.
* In the SVG every marker and its CI line is a ``<g class="estimate">`` with
  ``data-estimate`` = the estimate's IRI and a ``<title>`` holding the
  estimate and its exact source quote, which browsers show as a tooltip.

matplotlib is imported inside the functions only (the CLI starts fast), and
only its object API is used (no pyplot, no global backend switch). Styling
goes through ``matplotlib.rc_context``, which is process-global, so renders
are serialized by a lock: a threaded server may call :func:`forest_svg`
from several threads.
"""

from __future__ import annotations

import io
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivig_kg.errors import QueryError, UsageError
from ivig_kg.vocab import IVIG, RATIO_MEASURES

if TYPE_CHECKING:
    import pyoxigraph as ox

    from ivig_kg.store import GraphStore

DEFAULT_QUERY = "forest-plot"

PLOT_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (media type, file extensions)
    "svg": ("image/svg+xml", (".svg",)),
    "png": ("image/png", (".png",)),
}


@dataclass(frozen=True)
class Panel:
    title: str
    log: bool
    null: float | None


PANELS: dict[str, Panel] = {
    "ratio": Panel("Ratio measures (experimental vs comparator arm; log scale, 1 = no difference)", True, 1.0),
    "difference": Panel("Differences (experimental minus comparator arm; 0 = no difference)", False, 0.0),
    "single-arm": Panel("Single-arm figures (one arm each: no comparison, so no null line)", False, None),
}

_RENDER_LOCK = threading.Lock()

REQUIRED_COLUMNS = ("studyLabel", "outcomeLabel", "measureType", "value")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

# Colours: a dark blue for the points, grey for the reference lines and single-arm figures.
_INK = "#1f3b73"
_GREY = "#6b6b6b"
_RULE = "#c8c8c8"
DASH = "\u2013"  # en dash, for ranges and empty cells


@dataclass(frozen=True)
class ForestRow:
    """One estimate as the plot needs it."""

    estimate: str
    study: str
    outcome: str
    measure: str
    measure_type: str
    arm: str | None
    value: float
    ci_lower: float | None
    ci_upper: float | None
    ci_level: float | None
    p_value: str | None
    null_value: float | None
    significant: bool | None
    quote: str

    @property
    def panel(self) -> str:
        if self.null_value == 1.0:
            return "ratio"
        if self.null_value == 0.0:
            return "difference"
        return "single-arm"

    def summary(self) -> str:
        """``rate ratio 0.36 (95% CI 0.15-0.88), p = 0.03`` (with an en dash)."""
        out = f"{self.measure} {_num(self.value)}"
        if self.ci_lower is not None and self.ci_upper is not None:
            level = f"{_num(self.ci_level * 100)}% " if self.ci_level is not None else ""
            out += f" ({level}CI {_num(self.ci_lower)}{DASH}{_num(self.ci_upper)})"
        if self.p_value:
            out += f", {self.p_value}"
        return out


def _num(x: float) -> str:
    return f"{x:g}"


# --- rows from the graph ---------------------------------------------------------------


def rows_from_results(results: Any) -> list[ForestRow]:
    """Turn query solutions (pyoxigraph, embedded or parsed from an endpoint) into plot rows."""
    from ivig_kg import results as res

    if res.kind(results) != "select":
        raise QueryError("the forest plot needs a SELECT query")
    names = [v.value for v in results.variables]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise QueryError(f"the plot query lacks the column(s) {', '.join('?' + m for m in missing)}",
                         hint=f"it needs {', '.join('?' + c for c in REQUIRED_COLUMNS)}; "
                              f"see queries/{DEFAULT_QUERY}.rq")
    rows: list[ForestRow] = []
    for i, sol in enumerate(results):
        values = {n: sol[n].value for n in names if sol[n] is not None}
        rows.append(row_from_values(values, i))
    return rows


def row_from_values(values: Mapping[str, str], index: int = 0) -> ForestRow:
    """One row from a ``column -> lexical value`` mapping; bad numbers are a QueryError."""

    def number(col: str) -> float | None:
        text = values.get(col)
        if text is None or text == "":
            return None
        try:
            return float(text)
        except ValueError:
            raise QueryError(f"row {index + 1}: ?{col} is {text!r}, not a number") from None

    value = number("value")
    if value is None:
        raise QueryError(f"row {index + 1}: ?value is unbound")
    measure_type = values["measureType"]
    null_value = number("nullValue")
    if "nullValue" not in values and measure_type.startswith(IVIG):
        local = measure_type[len(IVIG):]
        null_value = 1.0 if local in RATIO_MEASURES else 0.0 if local == "MeanDifference" else None
    significant = values.get("significant")
    p_value = None
    if values.get("pValue"):
        p_value = f"p = {values['pValue']}"
    elif values.get("pValueMax"):
        p_value = f"p < {values['pValueMax']}" if values.get("pValueMin") in (None, "0", "0.0") \
            else f"{values['pValueMin']} < p < {values['pValueMax']}"
    return ForestRow(
        estimate=values.get("estimate", f"row-{index + 1}"),
        study=values["studyLabel"],
        outcome=values["outcomeLabel"],
        measure=values.get("measureTypeLabel") or measure_type.rsplit("#", 1)[-1],
        measure_type=measure_type,
        arm=values.get("armLabel") or None,
        value=value,
        ci_lower=number("ciLower"),
        ci_upper=number("ciUpper"),
        ci_level=number("ciLevel"),
        p_value=p_value,
        null_value=null_value,
        significant=None if significant is None else significant in ("true", "1"),
        quote=values.get("quote", ""),
    )


def forest_rows(source: GraphStore | ox.Store, query_name: str = DEFAULT_QUERY,
                params: Mapping[str, str] | None = None) -> list[ForestRow]:
    """Run the plot query on a GraphStore or an open pyoxigraph store."""
    from ivig_kg import queries
    from ivig_kg.store import GraphStore

    if isinstance(source, GraphStore):
        results = queries.run(query_name, params, store=source)
    else:
        results = queries.run(query_name, params, oxstore=source)
    return rows_from_results(results)


# --- drawing ----------------------------------------------------------------------------


def plot_format(name: str | None, filename: str | None = None) -> str:
    """``svg`` or ``png``, from the name, else the file extension, else svg."""
    if name:
        key = name.lower().lstrip(".")
        if key not in PLOT_FORMATS:
            raise UsageError(f"unknown plot format {name!r}; choose one of: {', '.join(PLOT_FORMATS)}")
        return key
    if filename:
        suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        for key, (_, exts) in PLOT_FORMATS.items():
            if suffix in exts:
                return key
        raise UsageError(f"cannot tell the plot format from {filename!r}",
                         hint=f"use a file name ending in {', '.join(e for _, x in PLOT_FORMATS.values() for e in x)}"
                              " or give --format")
    return "svg"


def forest(source: GraphStore | ox.Store, fmt: str = "svg", query_name: str = DEFAULT_QUERY,
           params: Mapping[str, str] | None = None) -> bytes:
    """The forest plot of the graph in ``source`` as SVG or PNG bytes."""
    return render(forest_rows(source, query_name, params), fmt)


def forest_svg(source: GraphStore | ox.Store, query_name: str = DEFAULT_QUERY,
               params: Mapping[str, str] | None = None) -> bytes:
    """The forest plot as SVG bytes (markers carry their source quotes as tooltips)."""
    return forest(source, "svg", query_name, params)


def render(rows: Iterable[ForestRow], fmt: str = "svg") -> bytes:
    """Draw the rows; SVG output gets the tooltip post-processing."""
    with _RENDER_LOCK:
        return _render(list(rows), fmt)


def _render(rows: list[ForestRow], fmt: str) -> bytes:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, NullLocator
    from matplotlib.transforms import blended_transform_factory

    fmt = plot_format(fmt)
    if not rows:
        raise QueryError("no estimates to plot: the query returned no rows",
                         hint="build the graph first ('ivig-kg build'), or check --query/--param")
    panels = {name: [r for r in rows if r.panel == name] for name in PANELS}
    panels = {name: rs for name, rs in panels.items() if rs}
    for name, rs in panels.items():
        if PANELS[name].log:
            for r in rs:
                bad = [x for x in (r.value, r.ci_lower, r.ci_upper) if x is not None and x <= 0]
                if bad:
                    raise QueryError(f"{r.estimate}: a ratio ({r.measure}) must be positive, got {_num(bad[0])}")

    # Vertical layout in "row units": a study heading row, then one row per estimate.
    layouts = {name: _layout(rs) for name, rs in panels.items()}
    unit_in = 0.36
    head_in, panel_head_in, axis_in, legend_in = 0.95, 0.62, 0.62, 0.3
    heights = [panel_head_in + layouts[n][0] * unit_in + axis_in for n in panels]
    fig_h = head_in + sum(heights) + legend_in
    fig_w = 11.0

    with matplotlib.rc_context({
        "svg.fonttype": "none",  # keep text as <text>: searchable, selectable, smaller
        "svg.hashsalt": "ivig-kg",  # stable element ids, so two runs give the same SVG
        "font.family": "DejaVu Sans",
        "font.size": 8.5,
        "axes.linewidth": 0.8,
        "xtick.labelsize": 8,
        "xtick.color": "#333333",
    }):
        fig = Figure(figsize=(fig_w, fig_h), dpi=100)
        fig.patch.set_facecolor("white")
        n_studies = len({r.study for r in rows})
        fig.text(0.012, 1 - 0.28 / fig_h, "Effect estimates in the graph", fontsize=13, fontweight="bold",
                 va="top", color="#111111")
        fig.text(0.012, 1 - 0.58 / fig_h,
                 f"{len(rows)} estimate(s) from {n_studies} stud{'y' if n_studies == 1 else 'ies'}; "
                 "point estimate with confidence interval. Hover a point in the SVG for its source quote.",
                 fontsize=8.5, va="top", color=_GREY)

        x_label, x_measure, x_plot0, x_plot1, x_est, x_p = 0.012, 0.41, 0.53, 0.80, 0.815, 0.945
        top = 1 - head_in / fig_h
        drawn: list[ForestRow] = []  # in the order their groups are numbered
        for name, rs in panels.items():
            panel = PANELS[name]
            n_units, positions, headings = layouts[name]
            h = panel_head_in + n_units * unit_in + axis_in
            ax_top = top - panel_head_in / fig_h
            ax_h = n_units * unit_in / fig_h
            ax = fig.add_axes((x_plot0, ax_top - ax_h, x_plot1 - x_plot0, ax_h))
            top -= h / fig_h
            fig.text(x_label, ax_top + 0.52 / fig_h, panel.title, fontsize=9.5, fontweight="bold", va="top",
                     color=_INK)
            # column headings
            trans = blended_transform_factory(fig.transFigure, ax.transData)
            ax.set_ylim(n_units, 0)
            levels = {r.ci_level for r in rs if r.ci_lower is not None}
            level = levels.pop() if len(levels) == 1 else None
            ci_head = f"Estimate ({_num(level * 100)}% CI)" if level is not None else "Estimate (CI)"
            for x, text, ha in ((x_label, "Study / outcome", "left"), (x_measure, "Measure", "left"),
                                (x_est, ci_head if any(r.ci_lower is not None for r in rs) else "Estimate", "left"),
                                (x_p, "p", "left")):
                ax.text(x, -0.15, text, transform=trans, fontsize=8, fontweight="bold", color="#333333",
                        ha=ha, va="bottom", clip_on=False)
            # horizontal rules between study groups
            for y, study in headings:
                ax.text(x_label, y + 0.5, study, transform=trans, fontsize=8.5, fontweight="bold", va="center",
                        ha="left", clip_on=False, color="#111111")
                if y > 0:
                    ax.add_line(Line2D([x_label, 0.99], [y, y], transform=trans, color=_RULE, lw=0.6,
                                       clip_on=False))
            # x range
            lo, hi = _x_range(rs, panel)
            if panel.log:
                ax.set_xscale("log")
                ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
                         if lo <= t <= hi]
                ax.xaxis.set_major_locator(FixedLocator(ticks))
                ax.xaxis.set_minor_locator(NullLocator())
                ax.set_xticklabels([_num(t) for t in ticks])
            ax.set_xlim(lo, hi)
            if panel.null is not None:
                ax.axvline(panel.null, color=_GREY, lw=0.9, ls=(0, (4, 3)), zorder=1)
            if panel.log:
                ax.annotate("◀ lower in experimental arm", xy=(panel.null or 1, n_units), xytext=(-6, -22),
                            textcoords="offset points", ha="right", va="top", fontsize=7.5, color=_GREY,
                            annotation_clip=False)
                ax.annotate("higher in experimental arm ▶", xy=(panel.null or 1, n_units), xytext=(6, -22),
                            textcoords="offset points", ha="left", va="top", fontsize=7.5, color=_GREY,
                            annotation_clip=False)
            ax.set_yticks([])
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
            ax.grid(axis="x", color="#ececec", lw=0.6, zorder=0)
            ax.set_axisbelow(True)

            for r, y in zip(rs, positions, strict=True):
                label = r.outcome + (f" — {r.arm} arm" if r.arm else "")
                ax.text(x_label + 0.012, y, textwrap.fill(label, 58), transform=trans, va="center", ha="left",
                        clip_on=False, color="#222222", linespacing=1.15)
                ax.text(x_measure, y, r.measure, transform=trans, va="center", ha="left", clip_on=False,
                        color="#222222")
                est = _num(r.value)
                if r.ci_lower is not None and r.ci_upper is not None:
                    est += f" ({_num(r.ci_lower)}{DASH}{_num(r.ci_upper)})"
                ax.text(x_est, y, est, transform=trans, va="center", ha="left", clip_on=False, color="#222222")
                ax.text(x_p, y, r.p_value.removeprefix("p = ") if r.p_value else DASH, transform=trans,
                        va="center", ha="left", clip_on=False, color="#222222")
                gid = f"estimate-{len(drawn)}"
                drawn.append(r)
                if r.ci_lower is not None and r.ci_upper is not None:
                    (ci,) = ax.plot([r.ci_lower, r.ci_upper], [y, y], color=_INK, lw=1.6, solid_capstyle="butt",
                                    zorder=3)
                    ci.set_gid(gid + "-ci")
                    for end in (r.ci_lower, r.ci_upper):
                        ax.plot([end, end], [y - 0.13, y + 0.13], color=_INK, lw=1.2, zorder=3)
                style_kw = _marker_style(r.significant)
                (point,) = ax.plot([r.value], [y], linestyle="none", zorder=4, **style_kw)
                point.set_gid(gid)

        handles = [
            Line2D([], [], linestyle="none", **_marker_style(True), label="significant (CI excludes the null value, "
                                                                          "else p < 0.05)"),
            Line2D([], [], linestyle="none", **_marker_style(False), label="not significant"),
            Line2D([], [], linestyle="none", **_marker_style(None), label="not tested (single-arm figure)"),
            Line2D([], [], color=_INK, lw=1.6, label="confidence interval"),
            Line2D([], [], color=_GREY, lw=0.9, ls=(0, (4, 3)), label="no difference"),
        ]
        fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.005, 0.0), ncol=5, frameon=False,
                   fontsize=7.8, handlelength=1.8, columnspacing=1.4)

        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata=_metadata(fmt), facecolor="white", dpi=200 if fmt == "png" else 100)
    data = buf.getvalue()
    if fmt == "svg":
        data = _add_tooltips(data, drawn)
    return data


def _layout(rows: list[ForestRow]) -> tuple[float, list[float], list[tuple[float, str]]]:
    """Row centres (in row units, top = 0) and study heading positions; rows keep their query order."""
    y = 0.0
    positions: list[float] = []
    headings: list[tuple[float, str]] = []
    current: str | None = None
    for r in rows:
        if r.study != current:
            headings.append((y, r.study))
            y += 1.0
            current = r.study
        label = r.outcome + (f" — {r.arm} arm" if r.arm else "")
        height = 1.0 if len(textwrap.wrap(label, 58)) <= 1 else 1.45
        positions.append(y + height / 2)
        y += height
    return y + 0.25, positions, headings


def _x_range(rows: list[ForestRow], panel: Panel) -> tuple[float, float]:
    xs = [x for r in rows for x in (r.value, r.ci_lower, r.ci_upper) if x is not None]
    if panel.null is not None:
        xs.append(panel.null)
    lo, hi = min(xs), max(xs)
    if panel.log:
        return lo / 1.6, hi * 1.6
    if panel.null is None:
        lo = min(lo, 0.0)
    pad = (hi - lo) * 0.2 or max(abs(hi), 1.0) * 0.5
    return lo - (pad if lo < 0 else 0), hi + pad


def _marker_style(significant: bool | None) -> dict[str, Any]:
    if significant is None:
        return {"marker": "D", "markersize": 6.5, "markerfacecolor": "#9a9a9a", "markeredgecolor": "#555555",
                "markeredgewidth": 1.0}
    return {"marker": "s", "markersize": 7.5, "markerfacecolor": _INK if significant else "white",
            "markeredgecolor": _INK, "markeredgewidth": 1.4}


def _metadata(fmt: str) -> dict[str, Any]:
    if fmt == "svg":
        return {"Date": None, "Creator": "ivig-kg (matplotlib)"}
    return {"Software": "ivig-kg (matplotlib)"}


def _add_tooltips(svg: bytes, rows: list[ForestRow]) -> bytes:
    """Mark each estimate's groups and give them a <title> (tooltip) with the source quote.

    ``rows[i]`` is the estimate drawn as group ``estimate-{i}`` (and its CI as ``estimate-{i}-ci``).
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    groups = {g.get("id"): g for g in root.iter(f"{{{SVG_NS}}}g") if g.get("id")}
    for i, r in enumerate(rows):
        tip = r.study + "\n" + r.outcome + (f" ({r.arm} arm)" if r.arm else "") + "\n" + r.summary()
        if r.quote:
            tip += f"\n\nSource: “{r.quote}”"
        for gid, cls in ((f"estimate-{i}", "estimate"), (f"estimate-{i}-ci", "estimate-ci")):
            g = groups.get(gid)
            if g is None:
                if cls == "estimate":
                    raise AssertionError(f"matplotlib did not write group {gid}")
                continue
            g.set("class", cls)
            g.set("data-estimate", r.estimate)
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = tip
            g.insert(0, title)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out
