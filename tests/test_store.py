"""The store: generations, all-or-nothing builds, locking, determinism."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest

from ivig_kg.build import build
from ivig_kg.errors import SourceError, StoreError, StoreLockedError
from ivig_kg.store import CURRENT, GraphStore
from ivig_kg.vocab import ONTOLOGY_GRAPH, article_graph_iri

from .conftest import BUNDLED_SOURCE, assert_datasets_isomorphic, nquads_dataset


def sorted_nquads(store: GraphStore) -> bytes:
    data = store.open().dump(format=ox.RdfFormat.N_QUADS)
    return b"".join(sorted(data.splitlines(keepends=True)))


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under a store directory with its bytes (the lock file's pid aside)."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def test_build_creates_one_graph_per_article_and_one_for_the_ontology(built_store: GraphStore) -> None:
    graphs = {g.value for g in built_store.open().named_graphs()}
    assert ONTOLOGY_GRAPH in graphs
    assert article_graph_iri("ivig-ms-commentary") in graphs


def test_two_builds_give_byte_identical_sorted_nquads_and_isomorphic_graphs(tmp_path: Path) -> None:
    a, b = GraphStore(tmp_path / "a"), GraphStore(tmp_path / "b")
    build(None, a)
    build(None, b)
    assert sorted_nquads(a) == sorted_nquads(b)
    assert_datasets_isomorphic(nquads_dataset(sorted_nquads(a)), nquads_dataset(sorted_nquads(b)))


def test_rebuild_replaces_the_generation_and_keeps_at_most_two(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "s")
    build(None, store)
    first = store.current_generation()
    build(None, store)
    second = store.current_generation()
    build(None, store)
    assert first != second != store.current_generation()
    gens = sorted(p.name for p in store.path.glob("gen-*") if p.is_dir())
    assert len(gens) == 2 and store.current_generation().name in gens  # type: ignore[union-attr]
    assert first is not None and not first.exists()
    manifests = sorted(p.name for p in store.path.glob("gen-*.build.json"))
    assert manifests == [g + ".build.json" for g in gens]  # each kept generation's manifest, no stale one


def test_failed_build_leaves_the_existing_store_byte_for_byte(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "s")
    build(None, store)
    before = snapshot(store.path)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    shutil.copy(BUNDLED_SOURCE.with_suffix(".txt"), bad_dir / "ivig-ms-commentary.txt")
    bad = bad_dir / "ivig-ms-commentary.yaml"
    bad.write_text(BUNDLED_SOURCE.read_text().replace("0.36", "0.37", 1), encoding="utf-8")
    with pytest.raises(SourceError):
        build([BUNDLED_SOURCE, bad], store)  # second file: duplicate article and a changed number
    assert snapshot(store.path) == before
    assert [p for p in store.path.glob("gen-*") if p.is_dir()] == [store.current_generation()]


def test_query_on_a_store_never_built_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="ivig-kg build"):
        GraphStore(tmp_path / "nothing").open()


def test_a_damaged_current_pointer_is_a_clear_error(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "s")
    build(None, store)
    (store.path / CURRENT).write_text("gen-missing\n")
    with pytest.raises(StoreError, match="damaged"):
        store.open()


def test_second_writer_in_another_process_gets_a_lock_error(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "s")
    holder = textwrap.dedent(f"""
        import sys, time
        from ivig_kg.store import GraphStore
        with GraphStore({str(store.path)!r}).lock():
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match=f"pid {proc.pid}"):
            build(None, store)
    finally:
        proc.communicate("\n", timeout=30)
    build(None, store)  # the lock is released with the process
    assert store.exists()


def test_readers_keep_working_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "s")
    build(None, store)
    with store.lock():
        assert len(store.open()) > 0


def test_store_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVIG_KG_STORE", str(tmp_path / "env-store"))
    assert GraphStore().path == tmp_path / "env-store"
    monkeypatch.delenv("IVIG_KG_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert GraphStore().path == tmp_path / "xdg" / "ivig-kg" / "store"
    assert os.fspath(GraphStore(tmp_path / "x").path) == os.fspath(tmp_path / "x")


def test_background_loader_loads_in_order_and_raises_a_load_error(tmp_path: Path) -> None:
    from ivig_kg.store import BackgroundLoader

    oxstore = ox.Store(str(tmp_path / "raw"))
    good = "".join(f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" <http://example.org/g> .\n"
                   for i in range(1000))
    with BackgroundLoader(oxstore) as loader:
        loader.submit(good)
        loader.submit("<http://example.org/s> this is not N-Quads .\n")
        with pytest.raises(SyntaxError):
            loader.finish()
    assert len(oxstore) == 1000
    with BackgroundLoader(oxstore) as loader:  # the context manager joins the thread even when unfinished
        loader.submit(good.replace("/g>", "/h>"))
        loader.submit(good.replace("/g>", "/i>"))
    assert len(oxstore) == 3000
    with BackgroundLoader(oxstore) as loader:  # one batch: loaded by finish(), in the calling thread
        loader.submit(good.replace("/g>", "/j>"))
        assert len(oxstore) == 3000
        loader.finish()
    assert len(oxstore) == 4000
    loader = BackgroundLoader(oxstore)
    loader.submit("not N-Quads at all\n")  # held, so the error surfaces when it is loaded
    with pytest.raises(SyntaxError):
        loader.finish()
