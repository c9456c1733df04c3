"""Requests per second and latency of ``ivig-kg serve`` vs ``oxigraph serve`` on the same store.

One canned query, at 1 and 4 concurrent connections, against three targets
started on 127.0.0.1 over the same store generation (the bundled article
built into a temporary store, or --store):

* ``ivig-kg serve`` (its own process, like oxigraph's), the query's text sent to
  ``/sparql`` (SPARQL 1.1 Protocol);
* ``ivig-kg serve``, the canned-query URL ``/queries/NAME``;
* ``oxigraph serve-read-only --union-default-graph``, the same text to ``/query``.

Loopback only, bounded in count and time: at most --requests requests per
level, or --seconds. The levels alternate between the servers (ours, oxigraph,
ours, oxigraph...) so machine noise falls on both. Each connection is a
thread with its own keep-alive http.client connection. ``--json`` prints the
figures as one JSON object (bench/run.py reads it).

    python bench/serve_load.py [--query studies] [--requests 2000] [--seconds 20] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from ivig_kg import queries
from ivig_kg.build import build
from ivig_kg.remote import with_prefixes
from ivig_kg.store import GraphStore


def load(port: int, path: str, concurrency: int, total: int, seconds: float) -> dict[str, float]:
    """Send up to ``total`` GETs over ``concurrency`` connections; stop early after ``seconds``."""
    lock = threading.Lock()
    sent = 0
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    def client() -> None:
        nonlocal sent, errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while True:
                with lock:
                    if sent >= total or time.monotonic() > deadline:
                        return
                    sent += 1
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                resp = conn.getresponse()
                resp.read()
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if resp.status != 200:
                        errors += 1
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "seconds": wall, "rps": len(latencies) / wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exe(name: str) -> str:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        raise SystemExit(f"{name} is not installed in this environment")
    return exe


def start(argv: list[str], port: int, probe: str) -> subprocess.Popen[bytes]:
    """Start a server process and wait until ``probe`` answers 200 on ``port``."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", probe)
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{argv[0]} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="a built store [default: build the bundled article]")
    parser.add_argument("--query", default="studies", help="canned query to request (one without parameters)")
    parser.add_argument("--requests", type=int, default=2000, help="most requests per concurrency level")
    parser.add_argument("--seconds", type=float, default=20.0, help="most seconds per concurrency level")
    parser.add_argument("--workers", type=int, default=2, help="server query worker processes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    text = with_prefixes(queries.get(args.query).text)
    encoded = urllib.parse.urlencode({"query": text})
    with tempfile.TemporaryDirectory() as tmp:
        store = GraphStore(args.store) if args.store else GraphStore(Path(tmp) / "store")
        if not args.store:
            build(None, store)
        gen = store.current_generation()
        assert gen is not None
        ours, oxi_port = _free_port(), _free_port()
        servers = [
            start([_exe("ivig-kg"), "serve", "--store", str(store.path), "--port", str(ours), "--workers",
                   str(args.workers), "--timeout", "30"], ours, "/sparql?query=ASK%7B%7D"),
            start([_exe("oxigraph"), "serve-read-only", "--location", str(gen), "--bind", f"127.0.0.1:{oxi_port}",
                   "--union-default-graph"], oxi_port, "/query?query=ASK%7B%7D"),
        ]
        targets = {"ours /sparql": (ours, f"/sparql?{encoded}"),
                   f"ours /queries/{args.query}": (ours, f"/queries/{args.query}"),
                   "oxigraph serve": (oxi_port, f"/query?{encoded}")}
        figures: dict[str, dict[str, dict[str, float]]] = {name: {} for name in targets}
        try:
            for port, path in targets.values():
                load(port, path, 1, 20, 10)  # warm-up
            for concurrency in (1, 4):
                for name, (port, path) in targets.items():
                    figures[name][str(concurrency)] = load(port, path, concurrency, args.requests, args.seconds)
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=10)
    if args.json:
        print(json.dumps({"query": args.query, "workers": args.workers, "figures": figures}))
        return
    print(f"canned query {args.query!r}, {args.workers} worker process(es), loopback")
    for name, levels in figures.items():
        for concurrency, r in levels.items():
            print(f"  {name:<24} {concurrency} connection(s): {r['rps']:.0f} req/s  ({r['requests']:.0f} requests "
                  f"in {r['seconds']:.1f} s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                  f"{r['errors']:.0f} errors)")


if __name__ == "__main__":
    main()
