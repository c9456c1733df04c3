"""Requests per second of ``ivig-kg serve`` for one canned query, at 1 and 4 concurrent connections.

Loopback only, bounded in count and time: the script starts its own server
on 127.0.0.1 (over the bundled article built into a temporary store, or
--store), sends at most --requests requests per level or stops after
--seconds, and stops the server. Each connection is a thread with its own
keep-alive http.client connection.

    python bench/serve_load.py [--query studies] [--requests 2000] [--seconds 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path

from ivig_kg.build import build
from ivig_kg.store import GraphStore
from ivig_kg.web import make_server
from ivig_kg.web.server import ServeOptions


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
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="a built store [default: build the bundled article]")
    parser.add_argument("--query", default="studies", help="canned query to request")
    parser.add_argument("--requests", type=int, default=2000, help="most requests per concurrency level")
    parser.add_argument("--seconds", type=float, default=20.0, help="most seconds per concurrency level")
    parser.add_argument("--workers", type=int, default=2, help="server query worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = GraphStore(args.store) if args.store else GraphStore(Path(tmp) / "store")
        if not args.store:
            build(None, store)
        server = make_server(store, ServeOptions(host="127.0.0.1", port=0, workers=args.workers, timeout=30))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = int(server.server_address[1])
        try:
            load(port, f"/queries/{args.query}", 1, 20, 10)  # warm-up
            print(f"canned query {args.query!r}, {args.workers} worker process(es), loopback")
            for concurrency in (1, 4):
                r = load(port, f"/queries/{args.query}", concurrency, args.requests, args.seconds)
                print(f"  {concurrency} connection(s): {r['rps']:.0f} req/s  ({r['requests']:.0f} requests in "
                      f"{r['seconds']:.1f} s, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
                      f"{r['errors']:.0f} errors)")
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
