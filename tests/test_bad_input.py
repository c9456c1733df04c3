"""The bad-input catalogue (tests/bad_inputs/cases.yaml): a clear error, exit 1, and nothing lost.

Every case runs the real ``ivig-kg build`` (Typer's CliRunner; a subset also
as a subprocess of the installed executable) against a store that already
holds the bundled article, and checks: exit code 1; the exact error
(file:line:column: message) and its hint on stderr; no traceback; and every
file under the store directory byte for byte as before.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ivig_kg.build import build
from ivig_kg.cli import app
from ivig_kg.store import GraphStore

from .conftest import BUNDLED_SOURCE

BAD = Path(__file__).resolve().parent / "bad_inputs"
CASES: list[dict[str, Any]] = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))
EXE = Path(sys.executable).with_name("ivig-kg")
HUGE_BYTES = 50_000_000

runner = CliRunner()


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under the store directory (the lock file included) with its bytes."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> GraphStore:
    """A store holding the bundled article: every bad build must leave it exactly so."""
    s = GraphStore(tmp_path_factory.mktemp("bad-input") / "store")
    build(None, s)
    return s


def write_huge(target: Path) -> Path:
    """A 50 MB source file: good.yaml followed by comment lines (written at test time, never committed)."""
    head = (BAD / "good.yaml").read_bytes()
    line = b"# " + b"x" * 97 + b"\n"
    with open(target, "wb") as fh:
        fh.write(head)
        remaining = HUGE_BYTES - len(head)
        fh.write(line * (remaining // len(line)))
        fh.write(b"#" * (remaining % len(line)))
    assert target.stat().st_size == HUGE_BYTES
    return target


def case_paths(case: dict[str, Any], tmp_path: Path) -> list[Path]:
    if case.get("generate") == "huge":
        return [write_huge(tmp_path / case["file"])]
    return [BAD / f for f in case.get("files", [case["file"]])]


def expected_prefix(case: dict[str, Any], path: Path) -> str:
    where = str(path)
    if "line" in case:
        where += f":{case['line']}:{case['column']}"
    return f"error: {where}: {case['message']}"


def check_output(case: dict[str, Any], path: Path, stderr: str) -> None:
    assert "Traceback" not in stderr
    first, *rest = stderr.splitlines()
    want = expected_prefix(case, path)
    assert first.startswith(want), f"\nexpected: {want}\ngot:      {first}"
    hints = [ln.strip().removeprefix("hint: ") for ln in rest if ln.strip().startswith("hint: ")]
    if "hint" in case:
        assert any(case["hint"] in h for h in hints), f"hint {case['hint']!r} not in {hints}"
    else:
        assert not hints, f"unexpected hint {hints}"


def test_catalogue_is_complete() -> None:
    """Every fixture file is a catalogued case, and the catalogue has at least 25 of them."""
    listed = {c["file"] for c in CASES}
    on_disk = {str(p.relative_to(BAD)) for p in BAD.rglob("*.yaml")} - {"good.yaml", "cases.yaml"}
    assert on_disk == listed - {c["file"] for c in CASES if c.get("generate")}
    assert len(CASES) >= 25


def test_the_good_fixture_builds_and_its_numbers_are_accounted_for(tmp_path: Path) -> None:
    """The base of the edited fixtures is valid, so each fixture fails for its one edit only."""
    from ivig_kg.audit import audit

    store = GraphStore(tmp_path / "s")
    # built beside the bundled article: the links graph maps that article's concepts
    build([BUNDLED_SOURCE, BAD / "good.yaml"], store)
    assert audit([BAD / "good.yaml"], store).ok


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("standalone")], ids=lambda c: c["file"])
def test_edited_fixtures_differ_from_good_by_one_small_edit(case: dict[str, Any]) -> None:
    good = (BAD / "good.yaml").read_bytes().decode("utf-8").splitlines()
    bad = (BAD / case["files"][-1] if "files" in case else BAD / case["file"]).read_bytes()
    diff = [ln for ln in difflib.unified_diff(good, bad.decode("utf-8", errors="replace").splitlines(), n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert 1 <= len(diff) <= 8, diff


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_bad_input_is_refused_clearly_and_changes_nothing(
    case: dict[str, Any], store: GraphStore, tmp_path: Path
) -> None:
    paths = case_paths(case, tmp_path)
    before = snapshot(store.path)
    result = runner.invoke(app, ["build", *map(str, paths), "--store", str(store.path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    check_output(case, paths[-1], result.stderr)
    assert snapshot(store.path) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.get("subprocess")], ids=lambda c: c["file"])
def test_bad_input_through_the_installed_command(case: dict[str, Any], store: GraphStore, tmp_path: Path) -> None:
    paths = case_paths(case, tmp_path)
    before = snapshot(store.path)
    proc = subprocess.run([str(EXE), "build", *map(str, paths), "--store", str(store.path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    check_output(case, paths[-1], proc.stderr)
    assert snapshot(store.path) == before


def _peak_rss_kib(source: Path, store: Path) -> int:
    """Peak memory of a fresh process that builds ``source`` (the build is expected to fail)."""
    code = textwrap.dedent(f"""
        import resource, sys
        from ivig_kg.build import build
        from ivig_kg.errors import SourceError
        from ivig_kg.store import GraphStore
        try:
            build([{str(source)!r}], GraphStore({str(store)!r}))
        except SourceError:
            pass
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.strip())


def test_a_50_mb_source_is_refused_without_reading_it_into_memory(tmp_path: Path) -> None:
    """Bounded memory: refusing the 50 MB file costs far less than its size over refusing a tiny bad file."""
    huge = write_huge(tmp_path / "huge.yaml")
    small = _peak_rss_kib(BAD / "empty.yaml", tmp_path / "s1")
    big = _peak_rss_kib(huge, tmp_path / "s2")
    assert big - small < 10 * 1024, (small, big)  # KiB: reading the file would add ~49 000


def test_a_fifo_source_is_read_with_the_same_size_limit(tmp_path: Path) -> None:
    """A pipe has no size to stat: the limit is enforced while reading, not only from stat()."""
    import contextlib
    import os
    import threading

    from ivig_kg.errors import SourceError
    from ivig_kg.sourcefile import MAX_SOURCE_BYTES, parse_yaml

    fifo = tmp_path / "piped.yaml"
    os.mkfifo(fifo)

    def feed() -> None:
        # the reader stops at the limit and closes the pipe
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as fh:
            fh.write(b"# " + b"x" * (MAX_SOURCE_BYTES + 10))

    writer = threading.Thread(target=feed)
    writer.start()
    with pytest.raises(SourceError, match="over the 5 MB limit"):
        parse_yaml(fifo)
    writer.join(timeout=30)
