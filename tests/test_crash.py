"""Crash and concurrency safety of ``ivig-kg build``, with real processes and SIGKILL.

The old store holds two articles (6 studies), the new build one (4 studies),
so a query tells which generation is live. A build is stopped at an exact
point and killed:

* ``reading``: the source file is a named pipe, so the build blocks while
  reading sources, after it has started writing the new generation;
* ``written``, ``swap``, ``swapped``: ``IVIG_KG_TEST_PAUSE=STAGE:DIR`` (see
  ``ivig_kg.store._pause_point``) holds the build after the new generation is
  complete, after ``CURRENT.tmp`` is written, and after ``CURRENT`` is
  replaced;

and, without any hook, at several moments of a normal build. Afterwards the
old store, or the complete new one, must open and answer queries, and the next
build must succeed. While a build is held, a second writer is refused with a
clear message and readers keep working on the last complete store.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivig_kg.build import build
from ivig_kg.store import CURRENT, GraphStore

from .conftest import BUNDLED_SOURCE

EXE = Path(sys.executable).with_name("ivig-kg")
MINI = Path(__file__).resolve().parent / "bad_inputs" / "good.yaml"
COUNT_STUDIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ivig:Study }"
OLD, NEW = 6, 4  # studies in the old store (bundled + mini article) and after the new build (bundled only)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=120, env=env)


def studies(store: Path) -> int:
    """Open the live generation read-only (a fresh handle each time) and count its studies."""
    (row,) = GraphStore(store).query(COUNT_STUDIES)
    return int(row["n"].value)


def studies_via_cli(store: Path) -> int:
    """The same question through the installed command, as a separate reader process."""
    proc = run("query", "sparql", COUNT_STUDIES, "--store", str(store), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    return int(json.loads(proc.stdout)["results"]["bindings"][0]["n"]["value"])


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"build ended (rc {proc.returncode}) before {path.name}: {proc.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"build never reached {path.name}")
        time.sleep(0.01)


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    store = GraphStore(tmp_path / "store")
    build([BUNDLED_SOURCE, MINI], store)
    return store.path


def start_build(store: Path, tmp_path: Path, stage: str | None, *sources: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if stage:
        env["IVIG_KG_TEST_PAUSE"] = f"{stage}:{tmp_path}"
    return subprocess.Popen([str(EXE), "build", *map(str, sources), "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def assert_recovers(store: Path, expected: int) -> None:
    """The live generation answers queries with ``expected`` studies; the next build succeeds and tidies up."""
    assert studies(store) == expected
    build(None, GraphStore(store))
    assert studies(store) == NEW
    gens = sorted(p.name for p in store.glob("gen-*") if p.is_dir())
    assert len(gens) <= 2 and (store / CURRENT).read_text().strip() in gens
    assert not (store / (CURRENT + ".tmp")).exists() or len(gens) <= 2
    manifests = {p.name.removesuffix(".build.json") for p in store.glob("gen-*.build.json")}
    assert manifests <= set(gens)  # no manifest outlives its generation


@pytest.fixture
def fifo_source(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "piped"
    folder.mkdir()
    shutil.copy(BUNDLED_SOURCE.with_suffix(".txt"), folder / "ivig-ms-commentary.txt")
    fifo = folder / "ivig-ms-commentary.yaml"
    os.mkfifo(fifo)
    yield fifo


def test_killed_while_reading_sources(old_store: Path, tmp_path: Path, fifo_source: Path) -> None:
    live_before = (old_store / CURRENT).read_bytes()
    proc = start_build(old_store, tmp_path, None, fifo_source)
    deadline = time.monotonic() + 60
    while True:  # opening the pipe for writing succeeds once the build has opened it for reading
        try:
            fd = os.open(fifo_source, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            assert exc.errno == errno.ENXIO
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the build never opened its source"
            time.sleep(0.01)
    try:
        assert len([p for p in old_store.glob("gen-*") if p.is_dir()]) == 2  # the new generation is being written
        kill(proc)
    finally:
        os.close(fd)
    assert (old_store / CURRENT).read_bytes() == live_before
    assert_recovers(old_store, OLD)


@pytest.mark.parametrize(("stage", "expected"), [("written", OLD), ("swap", OLD), ("swapped", NEW)])
def test_killed_at_a_named_stage(old_store: Path, tmp_path: Path, stage: str, expected: int) -> None:
    proc = start_build(old_store, tmp_path, stage)
    wait_for(tmp_path / f"{stage}.reached", proc)
    kill(proc)
    assert studies_via_cli(old_store) == expected
    assert_recovers(old_store, expected)


@pytest.mark.parametrize("delay", [0.4, 0.9, 1.4])
def test_killed_at_an_arbitrary_moment(old_store: Path, tmp_path: Path, delay: float) -> None:
    """No hook: kill a normal build after ``delay`` seconds (it may already be done: then NEW is live)."""
    proc = start_build(old_store, tmp_path, None)
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert studies(old_store) in (OLD, NEW)
    assert_recovers(old_store, studies(old_store))


def test_a_second_writer_is_refused_and_readers_keep_working(old_store: Path, tmp_path: Path) -> None:
    proc = start_build(old_store, tmp_path, "written")
    try:
        wait_for(tmp_path / "written.reached", proc)
        second = run("build", "--store", str(old_store))
        assert second.returncode == 1
        assert "is locked by another process" in second.stderr and f"pid {proc.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        # readers see the last complete store meanwhile
        assert studies_via_cli(old_store) == OLD
        listed = run("query", "run", "studies", "--store", str(old_store), "-f", "json")
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)["results"]["bindings"]) >= OLD
        out = tmp_path / "during.nq"
        exported = run("export", "-f", "nquads", "-o", str(out), "--store", str(old_store))
        assert exported.returncode == 0, exported.stderr
        assert "mini-commentary" in out.read_text(encoding="utf-8")
    finally:
        (tmp_path / "written.go").touch()
    _, errs = proc.communicate(timeout=120)
    assert proc.returncode == 0, errs
    assert studies(old_store) == NEW
    assert (old_store / ".lock").read_bytes() == b""  # released and emptied


def test_the_new_generation_is_closed_before_it_goes_live(old_store: Path, tmp_path: Path) -> None:
    """A writer handle that outlived publishing could compact files under readers: at the swap it is closed.

    RocksDB holds an exclusive LOCK file while a store is open for writing, so opening the new
    generation read-write from here succeeds only if the builder has closed its handle.
    """
    import pyoxigraph as ox

    proc = start_build(old_store, tmp_path, "swap")
    try:
        wait_for(tmp_path / "swap.reached", proc)
        new = (old_store / (CURRENT + ".tmp")).read_text(encoding="utf-8").strip()
        handle = ox.Store(str(old_store / new))  # raises if the builder still has it open
        assert len(handle) > 0
        del handle
    finally:
        (tmp_path / "swap.go").touch()
    assert proc.wait(timeout=60) == 0
    assert studies(old_store) == NEW
