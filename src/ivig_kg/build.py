"""Build: source files -> checked articles -> N-Quads -> a new store generation, swapped in on success."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ivig_kg import resources
from ivig_kg.errors import Location, SourceError, UsageError
from ivig_kg.links import links_nquads
from ivig_kg.model import Concept
from ivig_kg.sourcefile import SourceArticle, load_source
from ivig_kg.store import GraphStore, load_file, load_nquads
from ivig_kg.triples import article_nquads, concept_nquads
from ivig_kg.vocab import ONTOLOGY_GRAPH, resource_iri

Progress = Callable[[str, int, int], None]
"""Called as ``progress(label, done, total)``; the CLI draws it, the library never prints."""

Check = Callable[[ox.Store], None]
"""Run on the new generation before it goes live; raise an IvigKgError to refuse it."""


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


@dataclass
class BuildReport:
    store: Path
    articles: list[ArticleReport] = field(default_factory=list)
    quads: int = 0
    seconds: float = 0.0


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


def load_articles(paths: Sequence[Path]) -> Iterator[SourceArticle]:
    """Load each source in turn (one in memory at a time); refuse a repeated article id."""
    seen: dict[str, Path] = {}
    for path in paths:
        art = load_source(path)
        if art.id in seen:
            raise SourceError(
                f"article {art.id!r} is also declared by {seen[art.id]}",
                location=Location(path),
                hint="each article must have its own commentary.id; remove or rename one",
            )
        seen[art.id] = path
        yield art


def _reason_check(new: ox.Store) -> None:
    from ivig_kg.reason import materialize

    materialize(new)


def _shacl_check(new: ox.Store) -> None:
    from ivig_kg.validate import shacl_check

    shacl_check(new)


def build_checks(*, validate: bool = True, reason: bool = False) -> list[Check]:
    """The checks ``ivig-kg build`` runs on a new generation before it goes live.

    ``reason`` materializes the OWL-inferred types into the inferred graph (and
    refuses an inconsistent graph, or a machine without Java); ``validate``
    refuses a graph with SHACL violations. Reasoning runs first, so a graph
    that fails either check is never published.
    """
    checks: list[Check] = []
    if reason:
        checks.append(_reason_check)
    if validate:
        checks.append(_shacl_check)
    return checks


BATCH_QUADS = 100_000
"""Quads gathered before one bulk_load: a bulk_load has a fixed cost (~90 ms) worth sharing."""


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


def build(
    sources: Sequence[Path] | None,
    store: GraphStore,
    *,
    checks: Iterable[Check] = (),
    progress: Progress | None = None,
) -> BuildReport:
    """Build every source into a fresh generation of ``store``; publish it only if all succeeds."""
    started = time.perf_counter()
    paths = discover(sources)
    report = BuildReport(store=store.path)
    context = BuildContext()
    concepts: dict[str, Concept] = {}
    pending: list[str] = []  # N-Quads of several articles: one bulk_load per batch, not per article
    with store.lock(), store.new_generation() as new:
        load_file(new, resources.ontology_file(), ONTOLOGY_GRAPH)
        for i, art in enumerate(load_articles(paths)):
            lines = list(article_nquads(art))
            pending.extend(lines)
            if len(pending) >= BATCH_QUADS:
                load_nquads(new, "".join(pending))
                pending.clear()
            report.articles.append(ArticleReport(art.id, art.path, len(lines)))
            for concept in art.article.concepts:
                _merge_concept(concepts, concept, art.path, context.concepts)
                context.concepts.setdefault(concept.id, art.path)
            context.resources.setdefault(resource_iri(art.id), art.path)
            for pub in art.article.publications:
                context.resources.setdefault(resource_iri(art.id, pub.id), art.path)
            if progress:
                progress(art.id, i + 1, len(paths))
        pending.extend(concept_nquads(concepts.values()))
        load_nquads(new, "".join(pending))
        pending.clear()
        for contribute in CONTRIBUTORS.values():
            load_nquads(new, "".join(contribute(context)))
        for check in checks:
            check(new)
        report.quads = len(new)
    report.seconds = time.perf_counter() - started
    return report

