"""Build: source files -> checked articles -> N-Quads -> a new store generation, swapped in on success."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ivig_kg import resources
from ivig_kg.errors import Location, SourceError, UsageError
from ivig_kg.links import links_nquads
from ivig_kg.model import Concept
from ivig_kg.prepare import PreparedArticle, digest, prepare
from ivig_kg.store import BackgroundLoader, GraphStore, load_file, optimize
from ivig_kg.triples import concept_nquads
from ivig_kg.vocab import CONCEPTS_GRAPH, INFERRED_GRAPH, LINKS_GRAPH, ONTOLOGY_GRAPH, article_graph_iri

Progress = Callable[[str, int, int], None]
"""Called as ``progress(label, done, total)``; the CLI draws it, the library never prints."""

Check = Callable[[ox.Store, "Collection[str] | None"], None]
"""Run on the new generation before it goes live; raise an IvigKgError to refuse it.

Called as ``check(new, changed)``: ``changed`` is the ids of the articles whose
graphs this build wrote (None: all of them), so a check may skip the rest.
"""


@dataclass
class BuildContext:
    """What graph contributors may see of a build: the concepts the articles declared."""

    concepts: dict[str, Path] = field(default_factory=dict)
    """Concept id -> the source file that first declared it."""
    resources: dict[str, Path] = field(default_factory=dict)
    """IRI of each article and publication -> its source file (subjects of bibliographic links)."""


Contributor = Callable[[BuildContext], Iterable[str]]
"""Produces the N-Quads lines of a graph that spans articles (e.g. external links)."""

CONTRIBUTORS: dict[str, Contributor] = {"links": links_nquads}
"""Graphs added after the articles, by name. Raise a SourceError to refuse the build."""


@dataclass
class ArticleReport:
    id: str
    source: Path
    quads: int
    reused: bool = False
    """True if the article was unchanged since the last build and its graph was kept as it was."""


@dataclass
class BuildReport:
    store: Path
    articles: list[ArticleReport] = field(default_factory=list)
    quads: int = 0
    seconds: float = 0.0
    incremental: bool = False
    """The new generation started from the live one, keeping the graphs of unchanged articles."""
    removed: list[str] = field(default_factory=list)
    """Ids of articles in the previous build that are no longer among the sources."""

    @property
    def rebuilt(self) -> list[ArticleReport]:
        return [a for a in self.articles if not a.reused]


def discover(paths: Sequence[Path] | None) -> list[Path]:
    """Source files to build: the given files and directories, else the bundled articles."""
    if not paths:
        paths = [resources.articles_dir()]
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yamls = sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
            if not yamls:
                raise UsageError(f"no source files (*.yaml) in directory {p}")
            found.extend(yamls)
        elif p.exists():
            found.append(p)
        else:
            raise UsageError(f"source {p} does not exist")
    return found


class ReasonCheck:
    """Materialize OWL-inferred types; refuse an inconsistent graph. Always the whole graph:
    a changed article can change what follows for any other."""

    __name__ = "reason"

    def __call__(self, new: ox.Store, changed: Collection[str] | None) -> None:
        from ivig_kg.reason import materialize

        materialize(new)


class ShaclCheck:
    """Refuse SHACL violations, checking only the articles that need it (see :meth:`key`)."""

    __name__ = "shacl"

    def key(self) -> str:
        """Marks an article as validated under these shapes: a reused article validated under the
        same shapes is not validated again; new shapes mean every article is."""
        from ivig_kg.validate import shapes_file

        return "shacl " + hashlib.sha256(shapes_file().read_bytes()).hexdigest()

    def __call__(self, new: ox.Store, changed: Collection[str] | None) -> None:
        from ivig_kg.validate import shacl_check

        shacl_check(new, changed)


def build_checks(*, validate: bool = True, reason: bool = False) -> list[Check]:
    """The checks ``ivig-kg build`` runs on a new generation before it goes live.

    ``reason`` materializes the OWL-inferred types into the inferred graph (and
    refuses an inconsistent graph, or a machine without Java); ``validate``
    refuses a graph with SHACL violations. Reasoning runs first, so a graph
    that fails either check is never published.
    """
    checks: list[Check] = []
    if reason:
        checks.append(ReasonCheck())
    if validate:
        checks.append(ShaclCheck())
    return checks


BATCH_QUADS = 50_000
"""Quads per bulk_load: big enough to share its fixed cost (~90 ms), small enough to overlap parsing."""


def _merge_concept(seen: dict[str, Concept], concept: Concept, path: Path, first_in: dict[str, Path]) -> None:
    """Keep one declaration per concept id; articles must agree on its label and kind."""
    known = seen.get(concept.id)
    if known is None:
        seen[concept.id] = concept
    elif (known.label, known.kind) != (concept.label, concept.kind):
        raise SourceError(
            f"concept {concept.id!r} is declared as {concept.label!r} ({concept.kind}) here but as "
            f"{known.label!r} ({known.kind}) in {first_in.get(concept.id)}",
            location=Location(path),
            hint="a concept id names one concept across all articles: use the same label and kind, or another id",
        )


MANIFEST_FORMAT = 2
"""Version of the build manifest's layout; a manifest of another version means a full build."""

_BUILDER_MODULES = ("model", "sourcefile", "triples", "vocab", "links")
"""Modules whose code decides an article's triples: editing one invalidates every reused graph."""


def builder_fingerprint() -> str:
    """A digest of everything besides the source files that shapes the graph.

    The package version, the ontology file and the code of the modules that
    turn a source file into triples: if any differs from the last build's,
    nothing is reused.
    """
    import importlib

    h = hashlib.sha256(f"ivig-kg build manifest {MANIFEST_FORMAT}\n".encode())
    files = [resources.ontology_file()]
    files += [Path(str(importlib.import_module(f"ivig_kg.{m}").__file__)) for m in _BUILDER_MODULES]
    from ivig_kg import __version__

    h.update(__version__.encode())
    for f in files:
        h.update(b"\0" + f.read_bytes())
    return h.hexdigest()


def _entry(art: PreparedArticle) -> dict[str, Any]:
    """What the manifest keeps of a built article: enough to reuse its graph without reading it again."""
    return {
        "id": art.id, "source": str(art.source.resolve()), "text": str(art.text.resolve()),
        "sha256": art.digest, "quads": art.quads,
        "concepts": [[c.id, c.label, c.kind] for c in art.concepts],
        "resources": art.resources,
        "checks": [],  # keys of the per-article checks this article's graph has passed
    }


def _reusable(previous: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The previous build's articles by resolved source path, if that build can be extended at all."""
    if not previous or previous.get("format") != MANIFEST_FORMAT or \
            previous.get("fingerprint") != builder_fingerprint():
        return {}
    articles = previous.get("articles")
    if not isinstance(articles, list):
        return {}
    return {str(a["source"]): a for a in articles if isinstance(a, dict) and "source" in a}


def build(
    sources: Sequence[Path] | None,
    store: GraphStore,
    *,
    checks: Iterable[Check] = (),
    progress: Progress | None = None,
    incremental: bool = True,
) -> BuildReport:
    """Build every source into a new generation of ``store``; publish it only if all succeeds.

    With ``incremental`` (the default), an article whose source and text files
    are byte-identical to the last build's (and built by the same code and
    ontology) keeps its named graph: the new generation starts as a copy of
    the live one, and only the graphs of changed, added and removed articles,
    and the graphs spanning articles (concepts, links, inferred), are
    replaced. The result is the same graph a full build gives, and it is
    still all-or-nothing.
    """
    started = time.perf_counter()
    paths = discover(sources)
    report = BuildReport(store=store.path)
    context = BuildContext()
    concepts: dict[str, Concept] = {}
    seen: dict[str, Path] = {}
    pending: list[str] = []  # N-Quads of several articles: one bulk_load per batch, not per article
    pending_quads = 0
    entries: list[dict[str, Any]] = []
    manifest: dict[str, Any] = {"format": MANIFEST_FORMAT, "fingerprint": builder_fingerprint(),
                                   "articles": entries}
    with store.lock():
        previous = _reusable(store.manifest()) if incremental else {}
        keep: dict[str, dict[str, Any]] = {}
        for path in paths:
            entry = previous.get(str(path.resolve()))
            if entry is not None and entry.get("sha256") == digest(path, Path(str(entry["text"]))):
                keep[str(path.resolve())] = entry
        report.incremental = bool(keep)
        changed: set[str] = set()
        with store.new_generation(base_on_current=report.incremental, manifest=manifest) as new, \
                BackgroundLoader(new) as loader:
            if report.incremental:
                kept_ids = {str(e["id"]) for e in keep.values()}
                stale = [str(e["id"]) for e in previous.values() if str(e["id"]) not in kept_ids]
                for graph in [article_graph_iri(i) for i in stale] + [CONCEPTS_GRAPH, LINKS_GRAPH, INFERRED_GRAPH]:
                    new.remove_graph(ox.NamedNode(graph))
                current_paths = {str(p.resolve()) for p in paths}
                report.removed = sorted(str(e["id"]) for src, e in previous.items() if src not in current_paths)
            else:
                load_file(new, resources.ontology_file(), ONTOLOGY_GRAPH)
            for i, path in enumerate(paths):
                entry = keep.get(str(path.resolve()))
                if entry is not None:
                    aid = str(entry["id"])
                    declared = [Concept.model_construct(id=c[0], label=c[1], kind=c[2])
                                for c in entry["concepts"]]
                    published = [str(r) for r in entry["resources"]]
                    report.articles.append(ArticleReport(aid, path, int(entry["quads"]), reused=True))
                    entries.append(entry)
                else:
                    art = prepare(path)
                    aid, declared, published = art.id, art.concepts, art.resources
                    pending.append(art.nquads)
                    pending_quads += art.quads
                    if pending_quads >= BATCH_QUADS:
                        loader.submit("".join(pending))
                        pending.clear()
                        pending_quads = 0
                    report.articles.append(ArticleReport(aid, art.source, art.quads))
                    entries.append(_entry(art))
                    changed.add(aid)
                if aid in seen:
                    raise SourceError(
                        f"article {aid!r} is also declared by {seen[aid]}",
                        location=Location(path),
                        hint="each article must have its own commentary.id; remove or rename one",
                    )
                seen[aid] = path
                for concept in declared:
                    _merge_concept(concepts, concept, path, context.concepts)
                    context.concepts.setdefault(concept.id, path)
                for iri in published:
                    context.resources.setdefault(iri, path)
                if progress:
                    progress(aid, i + 1, len(paths))
            pending.extend(concept_nquads(concepts.values()))
            for name, contribute in CONTRIBUTORS.items():
                if progress:
                    progress(f"graph: {name}", len(paths), len(paths))
                pending.extend(contribute(context))
            loader.submit("".join(pending))  # the last batch: a small build loads once, with no thread
            pending.clear()
            loader.finish()
            if sum(a.quads for a in report.rebuilt) > BATCH_QUADS:  # several bulk_loads: compact them
                optimize(new)
            for check in checks:
                if progress:
                    progress(f"check: {getattr(check, '__name__', 'check')}", len(paths), len(paths))
                key_of = getattr(check, "key", None)
                key = key_of() if key_of else None
                todo: set[str] | None = None
                if report.incremental:  # the changed articles, and reused ones this check has not passed yet
                    todo = changed | {str(e["id"]) for e in keep.values() if key is None or key not in e["checks"]}
                check(new, todo)
                if key is not None:
                    for e in entries:
                        e["checks"] = sorted({*e["checks"], key})
            report.quads = len(new)
            del new  # the generation's writer must close before it is published (no handle may outlive it)
    report.seconds = time.perf_counter() - started
    return report
