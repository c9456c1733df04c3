"""Incremental builds: only changed articles are rebuilt, and the result equals a full build.

Each test builds a small synthetic corpus into a real on-disk store, edits the
source files as a user would, builds again, and compares the store with a full
build of the same files (graph isomorphism, every named graph).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from ivig_kg.build import build, build_checks
from ivig_kg.cli import app
from ivig_kg.errors import SourceError
from ivig_kg.store import GraphStore
from ivig_kg.synth import generate
from ivig_kg.vocab import article_graph_iri

from .conftest import assert_datasets_isomorphic, nquads_dataset
from .test_bad_input import snapshot


def _dump(store: GraphStore) -> bytes:
    return bytes(store.open().dump(format=ox.RdfFormat.N_QUADS))


def _corpus(tmp_path: Path, n: int = 3) -> list[Path]:
    return generate(n, tmp_path / "src", seed=3).sources


def _retitle(path: Path, title: str) -> None:
    """Change an article's title in its source and its text, as a user fixing a typo would."""
    yaml_text = path.read_text(encoding="utf-8")
    old = next(line for line in yaml_text.splitlines() if line.startswith("  title: ")).split('"')[1]
    path.write_text(yaml_text.replace(f'"{old}"', f'"{title}"', 1), encoding="utf-8")
    text = path.with_suffix(".txt")
    assert text.read_text(encoding="utf-8").count(old) == 1
    text.write_text(text.read_text(encoding="utf-8").replace(old, title), encoding="utf-8")


def _graph_names(store: GraphStore) -> set[str]:
    return {g.value for g in store.open().named_graphs() if isinstance(g, ox.NamedNode)}


@pytest.fixture
def built(tmp_path: Path) -> tuple[list[Path], GraphStore]:
    """Three synthetic articles built into a store: the starting point of an edit."""
    sources = _corpus(tmp_path)
    store = GraphStore(tmp_path / "kg")
    build(sources, store)
    return sources, store


def test_an_unchanged_corpus_reuses_every_article_and_gives_the_same_graph(tmp_path: Path) -> None:
    sources = _corpus(tmp_path)
    store = GraphStore(tmp_path / "kg")
    first = build(sources, store)
    assert not first.incremental and not any(a.reused for a in first.articles)
    before = _dump(store)

    again = build(sources, store)
    assert again.incremental
    assert [a.reused for a in again.articles] == [True, True, True]
    assert again.rebuilt == [] and again.quads == first.quads
    assert_datasets_isomorphic(nquads_dataset(_dump(store)), nquads_dataset(before))


def test_edit_remove_and_add_articles_equals_a_full_build(tmp_path: Path) -> None:
    sources = _corpus(tmp_path, 4)
    store = GraphStore(tmp_path / "kg")
    build(sources[:3], store)
    old_ids = [a.id for a in build(sources[:3], store).articles]

    _retitle(sources[1], "An Edited Title")
    report = build([sources[0], sources[1], sources[3]], store)  # third removed, fourth added

    assert report.incremental
    assert [(a.id, a.reused) for a in report.articles] == [
        (old_ids[0], True), (old_ids[1], False), (report.articles[2].id, False)]
    assert report.removed == [old_ids[2]]
    assert article_graph_iri(old_ids[2]) not in _graph_names(store)
    titles = [row["t"].value for row in store.query("SELECT ?t WHERE { ?c a ivig:Commentary ; dcterms:title ?t }")]
    assert "An Edited Title" in titles and len(titles) == 3

    full = GraphStore(tmp_path / "full")
    full_report = build([sources[0], sources[1], sources[3]], full, incremental=False)
    assert report.quads == full_report.quads
    assert_datasets_isomorphic(nquads_dataset(_dump(store)), nquads_dataset(_dump(full)))


def test_a_changed_text_file_rebuilds_its_article(built: tuple[list[Path], GraphStore]) -> None:
    sources, store = built
    text = sources[2].with_suffix(".txt")
    text.write_text(text.read_text(encoding="utf-8") + "\nA sentence added at the end.\n", encoding="utf-8")
    report = build(sources, store)
    assert [a.reused for a in report.articles] == [True, True, False]


def test_a_bad_edit_leaves_the_store_exactly_as_it_was(built: tuple[list[Path], GraphStore]) -> None:
    sources, store = built
    before = snapshot(store.path)
    text = sources[1].read_text(encoding="utf-8")
    sources[1].write_text(text.replace("format: \"ivig-kg/1\"", "format: \"ivig-kg/1\"\nbogus_key: 1"),
                          encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        build(sources, store)
    assert str(sources[1]) in str(caught.value.location) and caught.value.location.line == 5  # type: ignore[union-attr]
    assert snapshot(store.path) == before


def test_a_concept_conflicting_with_a_reused_article_is_refused(built: tuple[list[Path], GraphStore]) -> None:
    sources, store = built
    before = snapshot(store.path)
    text = sources[2].read_text(encoding="utf-8")
    # every synthetic article declares the concept "ivig"; give it another label in one of them
    lines = text.splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.strip() == "- id: ivig")
    assert lines[i + 1].strip().startswith("label:")
    lines[i + 1] = lines[i + 1].split("label:")[0] + 'label: "something else"\n'
    sources[2].write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match="concept 'ivig' is declared as 'something else'"):
        build(sources, store)
    assert snapshot(store.path) == before


def test_without_a_usable_manifest_the_build_is_full(tmp_path: Path) -> None:
    sources = _corpus(tmp_path, 2)
    store = GraphStore(tmp_path / "kg")
    build(sources, store)
    gen = store.current_generation()
    assert gen is not None
    manifest = gen.with_name(gen.name + ".build.json")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert [Path(a["source"]).name for a in data["articles"]] == [p.name for p in sources]
    data["fingerprint"] = "0" * 64  # as if the builder code or the ontology had changed
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert not build(sources, store).incremental
    assert build(sources, store).incremental  # the full build wrote a fresh manifest
    assert not build(sources, store, incremental=False).incremental


def test_incremental_build_with_checks_validates_and_reasons(tmp_path: Path) -> None:
    sources = _corpus(tmp_path, 2)
    store = GraphStore(tmp_path / "kg")
    build(sources, store, checks=build_checks(validate=True, reason=True))
    inferred_before = _dump(store)
    _retitle(sources[0], "Retitled")
    report = build(sources, store, checks=build_checks(validate=True, reason=True))
    assert report.incremental and [a.reused for a in report.articles] == [False, True]
    full = GraphStore(tmp_path / "full")
    build(sources, full, checks=build_checks(validate=True, reason=True), incremental=False)
    assert_datasets_isomorphic(nquads_dataset(_dump(store)), nquads_dataset(_dump(full)))
    assert inferred_before != _dump(store)


def test_cli_reports_reuse_and_full_rebuilds_everything(tmp_path: Path) -> None:
    sources = _corpus(tmp_path)
    kg = str(tmp_path / "kg")
    runner = CliRunner()
    first = runner.invoke(app, ["build", str(tmp_path / "src"), "--store", kg, "--no-validate"])
    assert first.exit_code == 0, first.output
    assert "(3 article(s) built)" in first.output
    _retitle(sources[0], "Changed")
    second = runner.invoke(app, ["build", str(tmp_path / "src"), "--store", kg, "--no-validate"])
    assert second.exit_code == 0, second.output
    assert "(1 article(s) built, 2 unchanged kept)" in second.output
    assert second.output.count("built synth-") == 1
    full = runner.invoke(app, ["build", str(tmp_path / "src"), "--store", kg, "--no-validate", "--full"])
    assert "(3 article(s) built)" in full.output


def _run_in_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stderr (and stdout) on a pseudo-terminal; return its exit code and output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_never_in_a_pipe(tmp_path: Path) -> None:
    _corpus(tmp_path, 3)
    exe = [str(Path(sys.executable).with_name("ivig-kg"))]
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    code, shown = _run_in_pty([*exe, "build", str(tmp_path / "src"), "--store", str(tmp_path / "a"),
                               "--no-validate", "--progress"], env)
    assert code == 0, shown
    assert "building" in shown and "3/3" in shown and "━" in shown

    piped = subprocess.run([*exe, "build", str(tmp_path / "src"), "--store", str(tmp_path / "b"),
                            "--no-validate", "--full"], capture_output=True, text=True, env=env, check=True)
    assert "━" not in piped.stderr and "3/3" not in piped.stderr
    assert "3 article(s) built" in piped.stderr

    code, shown = _run_in_pty([*exe, "build", str(tmp_path / "src"), "--store", str(tmp_path / "c"),
                               "--no-validate"], env)  # a terminal, but well under a second
    assert code == 0 and "━" not in shown


def test_a_reused_article_never_validated_is_validated_by_the_next_validating_build(tmp_path: Path) -> None:
    from ivig_kg import resources
    from ivig_kg.errors import ValidationFailed

    src = tmp_path / "src"
    src.mkdir()
    for f in resources.articles_dir().glob("ivig-ms-commentary.*"):
        (src / f.name).write_bytes(f.read_bytes())
    yaml = src / "ivig-ms-commentary.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("value: 0.36\n", "value: 0.03\n"), encoding="utf-8")
    store = GraphStore(tmp_path / "kg")
    build([src], store)  # no checks: the bad estimate gets in
    before = snapshot(store.path)
    with pytest.raises(ValidationFailed, match=r"0\.03 lies outside its confidence interval"):
        build([src], store, checks=build_checks(validate=True))  # unchanged, but never validated
    assert snapshot(store.path) == before

    yaml.write_text(yaml.read_text(encoding="utf-8").replace("value: 0.03\n", "value: 0.36\n"), encoding="utf-8")
    report = build([src], store, checks=build_checks(validate=True))
    assert [a.reused for a in report.articles] == [False]
    manifest = store.manifest()
    assert manifest is not None
    assert [len(a["checks"]) for a in manifest["articles"]] == [1]
    again = build([src], store, checks=build_checks(validate=False))  # no check run: the mark stays
    assert again.rebuilt == []
    assert store.manifest()["articles"][0]["checks"] == manifest["articles"][0]["checks"]  # type: ignore[index]


def test_a_damaged_manifest_means_a_full_build_not_an_error(built: tuple[list[Path], GraphStore]) -> None:
    sources, store = built
    gen = store.current_generation()
    assert gen is not None
    gen.with_name(gen.name + ".build.json").write_text("{ not json", encoding="utf-8")
    assert store.manifest() is None
    report = build(sources, store)
    assert not report.incremental and len(report.rebuilt) == 3
    assert store.manifest() is not None and build(sources, store).incremental
