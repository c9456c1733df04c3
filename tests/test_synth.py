"""The synthetic corpus: real source format, quotes found, deterministic, and it builds."""

from __future__ import annotations

import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ivig_kg.build import build
from ivig_kg.cli import app
from ivig_kg.errors import UsageError
from ivig_kg.sourcefile import load_source
from ivig_kg.store import GraphStore
from ivig_kg.synth import article, draw_estimate, generate


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_articles_load_and_every_quote_is_located(tmp_path: Path) -> None:
    report = generate(6, tmp_path, seed=11)
    assert len(report.sources) == 6
    for path in report.sources:
        src = load_source(path)  # raises if a quote is missing or ambiguous
        a = src.article
        assert len(a.studies) == 4 and [s.kind for s in a.studies].count("rct") == 3
        for st in a.studies[:3]:
            assert st.arms and st.outcomes and st.estimates and st.findings and st.claims
            assert any(d.schedule or d.timing for arm in st.arms for d in arm.doses)
        # each quote string sits exactly once in the text
        for quote, span in src.spans.items():
            assert src.text.count(quote) == 1
            assert src.text[span.start:span.end] == quote


def test_estimates_are_consistent_in_the_generated_files(tmp_path: Path) -> None:
    generate(8, tmp_path, seed=5)
    checked = 0
    for path in sorted(tmp_path.glob("*.yaml")):
        for st in load_source(path).article.studies:
            for e in st.estimates:
                if e.ci is None:
                    continue
                null = Decimal(0) if e.measure == "mean-difference" else Decimal(1)
                assert e.p_value is not None
                assert (e.p_value < Decimal("0.05")) == (e.ci.upper < null or e.ci.lower > null), e.id
                assert e.ci.lower < e.value < e.ci.upper
                checked += 1
    assert checked >= 40


def test_draw_estimate_agrees_over_many_draws() -> None:
    rng = random.Random(0)
    for i in range(2000):
        e = draw_estimate(rng, "hazard-ratio" if i % 2 else "mean-difference", benefit=i % 3 == 0)
        null = 1 if e.measure == "hazard-ratio" else 0
        assert e.significant == (e.p < Decimal("0.05")) == (e.upper < null or e.lower > null)
        assert (e.direction == "no-difference") == (not e.significant)


def test_same_seed_gives_identical_bytes_and_other_seeds_differ(tmp_path: Path) -> None:
    generate(4, tmp_path / "a", seed=7)
    generate(4, tmp_path / "b", seed=7)
    generate(4, tmp_path / "c", seed=8)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")
    # article i does not depend on how many are generated
    assert article(2, 7)[1] == (tmp_path / "a" / f"{article(2, 7)[0]}.yaml").read_text(encoding="utf-8")
    # and articles of one corpus differ from one another
    texts = [p.read_text(encoding="utf-8") for p in (tmp_path / "a").glob("*.txt")]
    assert len(set(texts)) == 4


def test_a_small_corpus_builds(tmp_path: Path) -> None:
    generate(3, tmp_path / "corpus", seed=1)
    store = GraphStore(tmp_path / "store")
    report = build([tmp_path / "corpus"], store)
    assert [a.id for a in report.articles] == sorted(a.id for a in report.articles)
    assert all(1100 < a.quads < 1500 for a in report.articles)
    rows = list(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s a ivig:EffectEstimate }"))
    assert int(rows[0]["n"].value) >= 3 * 3 * 2


def test_bad_article_count_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        generate(0, tmp_path)


def test_cli_synth_writes_the_corpus(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--articles", "2", "--out", str(tmp_path / "x"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "x").glob("*.yaml"))) == 2
    bad = CliRunner().invoke(app, ["synth", "--articles", "0", "--out", str(tmp_path / "y")])
    assert bad.exit_code == 2 and "at least 1" in bad.output


def test_cli_synth_as_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    cmd = [str(Path(sys.executable).parent / "ivig-kg"), "synth", "-n", "1", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 1 synthetic articles" in proc.stderr
    load_source(next(out.glob("*.yaml")))
