"""CLI start-up stays light: `ivig-kg --help` and `ivig-kg query run` import no heavy library.

Not a timing (timings live in bench/): the CLI runs in a fresh interpreter
that writes ``sorted(sys.modules)`` at exit, and the test asserts that none
of the heavy or web-server packages was imported. A command that needs one
imports it inside its function.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ivig_kg.store import GraphStore

HEAVY = (
    "rdflib", "owlready2", "pyshacl", "pyld", "matplotlib",  # heavy libraries
    "http.server", "socketserver", "wsgiref", "aiohttp", "uvicorn", "starlette", "fastapi", "flask",
    "werkzeug", "tornado", "gunicorn", "waitress",  # web servers
    "playwright", "SPARQLWrapper", "sssom", "bioregistry", "numpy", "pandas",
)

_RUNNER = """
import atexit, sys
out = sys.argv[1]
def dump():
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\\n".join(sorted(sys.modules)))
atexit.register(dump)
sys.argv = ["ivig-kg", *sys.argv[2:]]
from ivig_kg.cli import main
main()
"""


def _modules_after(args: list[str], tmp_path: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    out = tmp_path / "modules.txt"
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(out), *args],
                          capture_output=True, text=True, check=False, timeout=120)
    return set(out.read_text(encoding="utf-8").split()), proc


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_the_probe_sees_imports(tmp_path: Path) -> None:
    """The check can fail: a command that does import rdflib is caught."""
    out = tmp_path / "modules.txt"
    code = _RUNNER.replace("from ivig_kg.cli import main\nmain()", "import rdflib")
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, timeout=120)
    assert "rdflib" in _heavy(set(out.read_text(encoding="utf-8").split()))


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    modules, proc = _modules_after(["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "query" in proc.stdout
    assert "ivig_kg.cli.core" in modules
    assert _heavy(modules) == []


@pytest.mark.parametrize("query", ["studies", "effect-estimates"])
def test_query_run_imports_nothing_heavy(built_store: GraphStore, tmp_path: Path, query: str) -> None:
    modules, proc = _modules_after(["query", "run", query, "--format", "csv", "--store", str(built_store.path)],
                                   tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "achiron-2004" in proc.stdout
    assert "pyoxigraph" in modules
    assert _heavy(modules) == []


def test_query_run_into_a_pipe_prints_a_plain_table_without_rich(built_store: GraphStore, tmp_path: Path) -> None:
    """Scripts call `query run` many times a second: its default table in a pipe needs no terminal library."""
    modules, proc = _modules_after(["query", "run", "effect-estimates", "--store", str(built_store.path)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "-- row 1" in proc.stdout and "rate ratio 0.36" in proc.stdout
    assert "│" not in proc.stdout and "\x1b[" not in proc.stdout
    assert proc.stderr.strip().endswith("row(s)")
    assert _heavy(modules) == []
    assert not any(m == "rich" or m.startswith("rich.") for m in modules)
