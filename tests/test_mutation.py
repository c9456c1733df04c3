"""Property: whatever a curator's slip does to the bundled source, the build succeeds or says why.

Hypothesis mutates data/articles/ivig-ms-commentary.yaml at random (delete,
duplicate or swap lines, change a character, change a number, change an
indentation) and builds it into a store that already holds a graph. The build
must either succeed or raise an :class:`IvigKgError` with a message; any other
exception is a bug. A refused build must leave every file of the store as it was.
Bounded to 40 examples (a build that reaches the store costs ~0.5 s of disk I/O here).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivig_kg.build import build
from ivig_kg.errors import IvigKgError
from ivig_kg.store import GraphStore

from .conftest import BUNDLED_SOURCE

LINES = BUNDLED_SOURCE.read_text(encoding="utf-8").splitlines(keepends=True)
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
ODD_CHARS = [*":-[]{}#&*!|>'\"%@`,?\t \\", "\u00e9", "\u2013", "\x00", "\ufeff"]
ODD_NUMBERS = ["-1", "0", "1e9", "0.0001", "999999999999999999999", ".inf", "NaN", "01", "1.5", "2", "1_0", "0x1F"]


@st.composite
def mutated_source(draw: st.DrawFn) -> str:
    """The bundled source after one to three random edits of the kinds curators make."""
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "char", "number", "indent"]))
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], line
        elif op == "char" and line.strip():
            pos = draw(st.integers(0, len(line) - 1))
            char = draw(st.sampled_from(ODD_CHARS) | st.characters(codec="utf-8", exclude_categories=["Cs"]))
            lines[i] = line[:pos] + char + line[pos + 1:]
        elif op == "number":
            numbers = list(NUMBER_RE.finditer(line))
            if numbers:
                m = draw(st.sampled_from(numbers))
                new = draw(st.sampled_from(ODD_NUMBERS) | st.integers(-5, 5000).map(str))
                lines[i] = line[:m.start()] + new + line[m.end():]
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["  ", "\t", " "])) + line if draw(st.booleans()) else line[2:]
        if not lines:
            lines = [""]
    return "".join(lines)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GraphStore]:
    folder = tmp_path_factory.mktemp("mutation")
    shutil.copy(BUNDLED_SOURCE.with_suffix(".txt"), folder / "ivig-ms-commentary.txt")
    store = GraphStore(folder / "store")
    build(None, store)
    return folder / "ivig-ms-commentary.yaml", store


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_source())
def test_a_mutated_source_builds_or_is_refused_with_a_message(
    text: str, workspace: tuple[Path, GraphStore]
) -> None:
    source, store = workspace
    source.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = snapshot(store.path)
    try:
        build([source], store)
    except IvigKgError as exc:
        assert str(exc).strip()
        assert snapshot(store.path) == before
    else:
        assert store.open() is not None  # a build that succeeded left a store that opens


def test_the_strategy_does_produce_both_outcomes(workspace: tuple[Path, GraphStore]) -> None:
    """Guard against a vacuous property: the unmutated source builds, a typical slip is refused."""
    source, store = workspace
    source.write_text("".join(LINES), encoding="utf-8")
    build([source], store)
    source.write_text("".join(LINES).replace("  - id: achiron-2004-article\n", "  - id: achiron-2004-article\n\t"),
                      encoding="utf-8")
    with pytest.raises(IvigKgError):
        build([source], store)
