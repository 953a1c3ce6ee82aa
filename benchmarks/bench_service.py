"""Load test of the example HTTP service on localhost: throughput, p50 and p99 latency.

Fits CCSR (64 bits) on MovieLens-1M through an InteractionEncoder, saves its
ServingIndex, starts ``examples/service/app.py`` in a separate process and,
for 1, 8 and 32 concurrent clients (threads, each with its own keep-alive
connection), sends requests for ``--seconds``: 4 in 5 ask by user id, 1 in 5
posts a history of 20 random items. Then it sends the bad requests (unknown
id, malformed history, k beyond the catalogue) and checks each gets a 4xx
while the service still answers.

    python benchmarks/bench_service.py              # writes docs/results/service-load.csv
    python benchmarks/bench_service.py --quick      # MovieLens-100k, 3 s a level, no CSV

Needs MovieLens in the data home ($SKLEARN_HASHREC_DATA), fastapi and uvicorn.
The clients and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from results_csv import write_rows

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "service-load.csv"
BAD_REQUESTS = [
    ("GET", "/users/no-such-user/recommendations", None),
    ("GET", "/users/{user}/recommendations?k=100000000", None),
    ("POST", "/recommendations", b'{"items": "not a list"}'),
    ("POST", "/recommendations", b'{"items": ["no-such-item"]}'),
    ("POST", "/recommendations", b"{truncated"),
]


def build_index(variant: str, path: Path) -> tuple[list[str], list[str], float]:
    import pandas as pd

    from sklearn_hashrec import CCSR
    from sklearn_hashrec.datasets import load_movielens
    from sklearn_hashrec.pipeline import make_recommender_pipeline
    from sklearn_hashrec.preprocessing import InteractionEncoder
    from sklearn_hashrec.serving import ServingIndex

    data = load_movielens(variant).data.tocoo()
    table = pd.DataFrame({"user": data.row, "item": data.col, "rating": data.data})
    pipe = make_recommender_pipeline(InteractionEncoder("user", "item", "rating"),
                                     CCSR(n_bits=64, random_state=0)).fit(table)
    ServingIndex.from_model(pipe).save(path)
    import joblib

    joblib.dump(pipe, path.with_name("model.joblib"))  # what hashrec fit saves, for its size
    encoder = pipe.steps[0][1]
    return ([str(u) for u in encoder.user_ids_], [str(i) for i in encoder.item_ids_],
            path.with_name("model.joblib").stat().st_size / 2**20)


def request(connection, method, url, body=None):
    headers = {"content-type": "application/json"} if body is not None else {}
    connection.request(method, url, body=body, headers=headers)
    reply = connection.getresponse()
    return reply.status, reply.read()


def client_loop(port, users, items, seconds, seed, latencies, errors):
    rng = np.random.default_rng(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        if rng.random() < 0.8:
            method, url, body = ("GET", f"/users/{users[rng.integers(len(users))]}"
                                 "/recommendations?k=10", None)
        else:
            history = [int(i) for i in rng.choice(items, 20, replace=False)]
            method, url, body = "POST", "/recommendations", json.dumps(
                {"items": history, "k": 10}).encode()
        start = time.perf_counter()
        try:
            status, _ = request(connection, method, url, body)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append(time.perf_counter() - start)
        if status != 200:
            errors.append(status)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    variant = "100k" if args.quick else "1m"
    seconds = 3.0 if args.quick else args.seconds
    folder = Path(tempfile.mkdtemp(prefix="hashrec-service-"))
    index_path = folder / "index.npz"
    users, items, model_mb = build_index(variant, index_path)
    item_ids = np.array([int(i) for i in items])
    index_mb = index_path.stat().st_size / 2**20
    print(f"index: {index_mb:.2f} MB (the pipeline's joblib file: {model_mb:.2f} MB) for "
          f"{len(users)} users x {len(items)} items", flush=True)
    server = subprocess.Popen([sys.executable, str(ROOT / "examples" / "service" / "app.py"),
                               "--index", str(index_path), "--port", str(args.port)])
    rows = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _ = request(http.client.HTTPConnection("127.0.0.1", args.port),
                                    "GET", "/health")
                if status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for n_clients in args.clients:
            latencies, errors = [], []
            threads = [threading.Thread(target=client_loop, args=(
                args.port, users, item_ids, seconds, seed, latencies, errors))
                for seed in range(n_clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            ms = np.array(latencies) * 1e3
            rows.append({"clients": n_clients, "requests": len(latencies),
                         "errors": len(errors), "seconds": round(elapsed, 1),
                         "requests_per_second": round(len(latencies) / elapsed, 1),
                         "p50_ms": round(float(np.percentile(ms, 50)), 2),
                         "p99_ms": round(float(np.percentile(ms, 99)), 2),
                         "dataset": f"ml-{variant}", "cores": os.cpu_count(),
                         "index_mb": round(index_mb, 2), "model_file_mb": round(model_mb, 2)})
            print(json.dumps(rows[-1]), flush=True)
        connection = http.client.HTTPConnection("127.0.0.1", args.port)
        for method, url, body in BAD_REQUESTS:
            status, payload = request(connection, method, url.format(user=users[0]), body)
            assert 400 <= status < 500, (url, status, payload)
            assert request(connection, "GET", f"/users/{users[0]}/recommendations")[0] == 200
            print(f"bad request {method} {url} {body}: {status} {json.loads(payload)['detail']}")
    finally:
        server.terminate()
        server.wait()
    if not args.quick:
        write_rows(RESULTS, rows)


if __name__ == "__main__":
    main()
