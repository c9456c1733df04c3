"""One source file -> its checked article and named-graph N-Quads, with what a build keeps of it.

The unit of work of a build: :func:`prepare` reads nothing else and keeps
nothing, so a build holds one article's text at a time, and an incremental
build can tell from :func:`digest` whether an article needs preparing at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ivig_kg.model import Concept
from ivig_kg.sourcefile import load_source
from ivig_kg.triples import article_nquads
from ivig_kg.vocab import resource_iri


@dataclass
class PreparedArticle:
    """One source file, checked and turned into its named graph's N-Quads."""

    id: str
    source: Path
    text: Path
    nquads: str
    quads: int
    digest: str | None = None
    """Of the source and text files (see :func:`digest`): an incremental build reuses the graph while it holds."""
    concepts: list[Concept] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    """IRIs of the article and its publications (subjects other graphs may link)."""


def digest(source: Path, text: Path, source_bytes: bytes | None = None) -> str | None:
    """SHA-256 of an article's source file and text file, or None if either cannot be read."""
    try:
        data = source.read_bytes() if source_bytes is None else source_bytes
        return hashlib.sha256(data).hexdigest() + hashlib.sha256(text.read_bytes()).hexdigest()
    except OSError:
        return None


def prepare(path: Path) -> PreparedArticle:
    """Load and check one source file and write its N-Quads; raises the loader's SourceError."""
    try:
        before = path.read_bytes()  # digest what was there before parsing: an edit meanwhile means a rebuild
    except OSError:
        before = None
    art = load_source(path)
    lines = list(article_nquads(art))
    return PreparedArticle(
        id=art.id, source=art.path, text=art.text_path, nquads="".join(lines), quads=len(lines),
        digest=None if before is None else digest(path, art.text_path, before),
        concepts=list(art.article.concepts),
        resources=[resource_iri(art.id)] + [resource_iri(art.id, pub.id) for pub in art.article.publications],
    )
