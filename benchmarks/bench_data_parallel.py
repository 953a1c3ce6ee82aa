"""Data-parallel CCSR: fit time and quality with 1 and N processes under torchrun.

Each run is a fresh ``torchrun --standalone --nproc-per-node N`` (N = 1 runs
a plain process) that fits ``CCSR(n_bits, random_state=0)`` on the dataset's
training part (protocol of ``sklearn_hashrec.experiments``, seed 0) with one
torch thread per process, gloo on CPU; rank 0 scores the test part. Fit time
is the slowest rank's ``fit`` call, without start-up. ``--threads 2`` adds,
in the same run, one plain process fitting with ``n_jobs=2``: the
single-machine alternative the processes are compared with.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/bench_data_parallel.py \\
        --dataset ml-1m --processes 1 2 --threads 2 --out docs/results/data-parallel.csv
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from sklearn_hashrec.experiments import write_runs

WORKER = textwrap.dedent("""
    import json, sys, time, torch
    torch.set_num_threads(1)
    from sklearn_hashrec import CCSR
    from sklearn_hashrec.experiments import load_dataset
    from sklearn_hashrec.training.distributed import init_from_environment

    group = init_from_environment()
    rank = group[0] if group else 0
    data, protocol = load_dataset(sys.argv[1])
    protocol = protocol.with_options(ndcg_at=(10,), recall_at=(10,))
    train, test = protocol.split(data.data, 0)
    if group:
        torch.distributed.barrier()
    start = time.perf_counter()
    model = CCSR(n_bits=int(sys.argv[2]), n_jobs=int(sys.argv[4]), random_state=0).fit(train)
    seconds = torch.tensor([time.perf_counter() - start], dtype=torch.float64)
    if group:
        torch.distributed.all_reduce(seconds, op=torch.distributed.ReduceOp.MAX)
    if rank == 0:
        result = {"fit_seconds": float(seconds), **protocol.evaluate(model, train, test)}
        with open(sys.argv[3], "w") as handle:
            json.dump(result, handle)
""")


def run(dataset: str, n_bits: int, processes: int, threads: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        script, out = Path(folder) / "worker.py", Path(folder) / "result.json"
        script.write_text(WORKER)
        launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone",
                     f"--nproc-per-node={processes}"] if processes > 1 else [sys.executable])
        subprocess.run([*launcher, str(script), dataset, str(n_bits), str(out), str(threads)],
                       check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        return json.loads(out.read_text())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--bits", type=int, default=40)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, nargs="*", default=[],
                        help="also one process with n_jobs=T for each T")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    rows = []
    runs = [(p, 1) for p in args.processes] + [(1, t) for t in args.threads]
    for processes, threads in runs:
        result = run(args.dataset, args.bits, processes, threads)
        rows.append({"dataset": args.dataset, "n_bits": args.bits, "processes": processes,
                     "threads_per_process": threads, **result})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["fit_seconds"]
    for row in rows:
        row["speed_up"] = base / row["fit_seconds"]
    if args.out:
        write_runs(args.out, [{key: f"{value:.4g}" if isinstance(value, float) else value
                               for key, value in row.items()} for row in rows])


if __name__ == "__main__":
    main()
