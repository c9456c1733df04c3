"""Shared fixtures: the bundled article built once into a real on-disk store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from ivig_kg.build import build
from ivig_kg.store import GraphStore

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "data" / "articles"
BUNDLED_SOURCE = ARTICLES / "ivig-ms-commentary.yaml"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> GraphStore:
    """The bundled article built into a store; tests must not write to it."""
    store = GraphStore(tmp_path_factory.mktemp("kg") / "store")
    build(None, store)
    return store


@pytest.fixture(scope="session")
def oxstore(built_store: GraphStore) -> Iterator[ox.Store]:
    """A read-only pyoxigraph handle on the built store."""
    yield built_store.open()


@pytest.fixture(autouse=True)
def _isolated_store_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the user's real store: default store path points into tmp."""
    monkeypatch.setenv("IVIG_KG_STORE", str(tmp_path / "default-store"))


def nquads_dataset(data: bytes | str) -> rdflib.Dataset:
    ds = rdflib.Dataset()
    ds.parse(data=data, format="nquads")
    return ds


def assert_datasets_isomorphic(a: rdflib.Dataset, b: rdflib.Dataset) -> None:
    """Same named graphs, each pair isomorphic (rdflib compares graphs, not datasets)."""
    names_a = {str(g.identifier) for g in a.graphs() if len(g)}
    names_b = {str(g.identifier) for g in b.graphs() if len(g)}
    assert names_a == names_b
    for name in names_a:
        assert isomorphic(a.graph(rdflib.URIRef(name)), b.graph(rdflib.URIRef(name))), name
