"""Does the same seed give the same model in another process? By thread count.

Fits a model several times, each in a fresh process, on a dataset's seed-0
training part and prints a hash of its codes and its NDCG@10 on the test
part (docs/reliability.md, "Determinism").

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/seed_determinism.py \\
        --model AECF --params '{"n_bits": 40}' --dataset ml-1m --n-jobs 1 2 --runs 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

WORKER = textwrap.dedent("""
    import hashlib, json, sys
    import sklearn_hashrec
    from sklearn_hashrec.experiments import load_dataset
    name, params, dataset, n_jobs = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    data, protocol = load_dataset(dataset)
    train, test = protocol.split(data.data, 0)
    model = getattr(sklearn_hashrec, name)(**params, n_jobs=int(n_jobs), random_state=0)
    model.fit(train)
    codes = model.user_codes_.tobytes() + model.item_codes_.tobytes()
    print(json.dumps({"n_jobs": int(n_jobs), "codes_md5": hashlib.md5(codes).hexdigest(),
                      "NDCG@10": round(protocol.evaluate(model, train, test)["NDCG@10"], 4)}))
""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="AECF")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    for n_jobs in args.n_jobs:
        for _ in range(args.runs):
            result = subprocess.run([sys.executable, "-c", WORKER, args.model, args.params,
                                     args.dataset, str(n_jobs)], capture_output=True, text=True,
                                    check=True)
            print(result.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
