"""Write a synthetic corpus of about N triples (or N articles) for benchmarks.

    python bench/synth.py --triples 1000000 --out /tmp/ivig-bench/corpus-1M [--seed 0]
    python bench/synth.py --articles 7 --out /tmp/corpus

The generator itself is the library module :mod:`ivig_kg.synth` (also
``ivig-kg synth``); this script only turns a triple count into an article
count, using the measured mean of ~1,285 quads per article plus the ontology.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ivig_kg.synth import articles_for, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--triples", type=int, help="target size of the built graph (quads, ontology included)")
    size.add_argument("--articles", type=int, help="number of articles")
    parser.add_argument("--out", type=Path, required=True, help="directory for <name>.yaml + <name>.txt")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = args.articles if args.articles is not None else articles_for(args.triples)
    started = time.perf_counter()
    report = generate(n, args.out, args.seed)
    print(f"wrote {len(report.sources)} articles to {report.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
