"""The ``synth`` command: write a synthetic corpus for benchmarks and scale tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ivig_kg.cli.app import app, err, guarded


@app.command()
@guarded
def synth(
    articles: Annotated[int, typer.Option("--articles", "-n", help="Number of articles (~1,285 triples each).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write <name>.yaml + <name>.txt into.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives identical files.")] = 0,
) -> None:
    """Write N synthetic articles (invented trials, real source format) for benchmarks.

    Example: `ivig-kg synth --articles 780 --out /tmp/corpus && ivig-kg build /tmp/corpus --store /tmp/kg`
    """
    from ivig_kg.synth import generate

    report = generate(articles, out, seed)
    err(f"wrote {len(report.sources)} synthetic articles to {report.out}")
