"""Wall time of README's two commands, alone and beside another job on the cores.

README states how long the main job (``examples/quickstart.py``) and the test
command (``python -m pytest -q``) take. This times each one as a user runs
it, in a fresh process, first on a quiet machine, then beside a second process
that multiplies matrices on 2 threads (the load of
``benchmarks/bench_fit_threads.py``).

    python benchmarks/readme_commands.py            # writes docs/results/readme-commands.csv
    python benchmarks/readme_commands.py --quick    # the main job only, no CSV

Needs MovieLens-1M in the data home ($SKLEARN_HASHREC_DATA).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_fit_threads import MACHINES, machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "readme-commands.csv"
COMMANDS = {
    "main job": [sys.executable, "examples/quickstart.py"],
    "test command": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
}


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    commands = {"main job": COMMANDS["main job"]} if args.quick else COMMANDS
    rows = []
    for kind in MACHINES:
        with machine(kind):
            for name, command in commands.items():
                seconds, last_line = timed(command)
                rows.append([kind, name, " ".join(command[1:]), f"{seconds:.1f}", last_line])
                print(*rows[-1], sep=" | ", flush=True)
    if not args.quick:
        with open(RESULTS, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["machine", "command", "arguments", "wall_seconds", "last_line"])
            writer.writerows(rows)
        print(f"wrote {RESULTS} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
