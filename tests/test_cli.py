"""The CLI through Typer's CliRunner and as a real subprocess of the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from typer.testing import CliRunner

from ivig_kg import __version__
from ivig_kg.cli import app
from ivig_kg.store import GraphStore

from .conftest import BUNDLED_SOURCE

runner = CliRunner()
EXE = Path(sys.executable).with_name("ivig-kg")  # the console script of the running environment


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.strip() == f"ivig-kg {__version__}"


def test_build_then_query_then_export(tmp_path: Path) -> None:
    store = str(tmp_path / "kg")
    code, out, errs = invoke("build", "--store", store)
    assert code == 0, errs
    assert out == ""  # messages go to stderr
    assert "built ivig-ms-commentary" in errs
    code, out, _ = invoke("query", "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s a ivig:Study }",
                          "--store", store, "-f", "json")
    assert code == 0
    assert json.loads(out)["results"]["bindings"][0]["n"]["value"] == "4"
    target = tmp_path / "graph.ttl"
    code, _, errs = invoke("export", "-o", str(target), "--store", store)
    assert code == 0, errs
    g = rdflib.Graph().parse(target, format="turtle")
    assert len(g) > 1000
    assert not target.with_name("graph.ttl.part").exists()


def test_query_list_names_every_canned_query(built_store: GraphStore) -> None:
    code, out, _ = invoke("query", "list", "-f", "json")
    assert code == 0
    names = {q["name"] for q in json.loads(out)}
    assert names == {p.stem for p in (Path(__file__).resolve().parents[1] / "queries").glob("*.rq")}


def test_query_run_formats(built_store: GraphStore) -> None:
    store = str(built_store.path)
    code, out, _ = invoke("query", "sparql", "SELECT ?v WHERE { ?e ivig:pointEstimate ?v } ORDER BY ?v",
                          "-f", "csv", "--store", store)
    assert code == 0
    assert out.splitlines()[0] == "v"
    assert "0.36" in out.splitlines() and "1.11" in out.splitlines()
    code, out, _ = invoke("query", "sparql", "ASK { ?e ivig:pointEstimate 0.36 }", "-f", "xml", "--store", store)
    assert code == 0 and "<boolean>true</boolean>" in out
    construct = "CONSTRUCT { ?e ivig:pointEstimate ?v } WHERE { ?e ivig:pointEstimate ?v }"
    code, out, _ = invoke("query", "sparql", construct, "-f", "nt", "--store", store)
    assert code == 0
    assert len(rdflib.Graph().parse(data=out, format="nt")) >= 4


def test_table_output_is_readable(built_store: GraphStore) -> None:
    code, out, errs = invoke("query", "sparql", "SELECT ?s WHERE { ?s a ivig:Study } ORDER BY ?s",
                             "--store", str(built_store.path))
    assert code == 0
    assert "ivigr:ivig-ms-commentary/achiron-2004" in out
    assert "4 row(s)" in errs


@pytest.mark.parametrize(("args", "code", "message"), [
    (["query", "run", "no-such-query"], 1, "no canned query named"),
    (["query", "sparql", "SELEKT nothing"], 1, "SPARQL syntax error"),
    (["export", "-f", "docx"], 2, "unknown RDF format"),
    (["query", "sparql"], 2, "give a query or --file"),
    (["build", "/nonexistent/source.yaml"], 2, "does not exist"),
])
def test_errors_are_messages_with_exit_codes(built_store: GraphStore, args: list[str], code: int,
                                              message: str) -> None:
    got, out, errs = invoke(*args, "--store", str(built_store.path))
    assert got == code
    assert message in errs
    assert "Traceback" not in errs + out


def test_query_on_unbuilt_store_says_how_to_build(tmp_path: Path) -> None:
    code, _, errs = invoke("query", "run", "studies", "--store", str(tmp_path / "empty"))
    assert code == 1
    assert "ivig-kg build" in errs


def test_explain_shows_facts_and_the_quote(built_store: GraphStore) -> None:
    code, out, _ = invoke("explain", "achiron-2004", "--store", str(built_store.path))
    assert code == 0
    assert "Achiron" in out
    assert "randomized, placebo-controlled, double-blind" in out.replace("\n", " ") or "source" in out


def test_schema_is_json_schema() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "Article" and "commentary" in schema["properties"]


def test_installed_command_as_subprocess(tmp_path: Path) -> None:
    assert EXE.exists(), "install the package (pip install -e .) so the ivig-kg script exists"
    env = {**os.environ, "IVIG_KG_STORE": str(tmp_path / "kg"), "NO_COLOR": "1"}
    subprocess.run([EXE, "build", "-q"], check=True, env=env, cwd=tmp_path, timeout=120)
    done = subprocess.run([EXE, "query", "run", "effect-estimates", "-f", "tsv"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "0.36" in done.stdout and "1.11" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: ivig-kg/1\ncommentary: [unclosed\n", encoding="utf-8")
    done = subprocess.run([EXE, "build", str(bad)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert f"{bad}:" in done.stderr and "malformed YAML" in done.stderr
    assert "Traceback" not in done.stderr
    assert BUNDLED_SOURCE.exists()
