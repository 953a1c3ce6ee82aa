"""One diagnostic fit of a baseline: its scores, and whether its codes collapsed.

Fits ``family`` (a registry name: CF, CFCodeReg, AECF, DJSRH, CCSR) with
``--params`` over its defaults on a dataset's protocol (seed ``--seed``),
and appends one JSON line to ``--out``: NDCG@10 with the index tie-break and
tie-aware, the mean absolute mean of a code bit over users and over items (1:
every user has the same bit), and the number of distinct user and item codes.
A model whose codes collapse to a few patterns ranks ties by item index, which
can look like popularity where the item order follows it; the tie-aware
score does not. docs/reproduction.md's diagnosis table reads the lines.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/diagnose_baseline.py \\
        --dataset amazon --min-interactions 20 --model AECF --params '{"input": "binary"}' \\
        --out docs/results/baseline-diagnosis.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from sklearn_hashrec.experiments import build_estimator, load_dataset


def diagnose(dataset, family, params, *, seed=0, n_bits=40, min_interactions=0):
    """The JSON-ready row of one fit (see the module docstring)."""
    data, protocol = load_dataset(dataset, min_interactions=min_interactions)
    train, test = protocol.split(data.data, seed)
    model = build_estimator(family, n_bits=n_bits, random_state=seed, params=params)
    start = time.perf_counter()
    model.fit(train)
    fit = time.perf_counter() - start
    scores = protocol.evaluate(model, train, test)
    users, items = model.user_codes_, model.item_codes_
    return {"ds": dataset + (f" ({min_interactions}-core)" if min_interactions else ""),
            "model": family, "kw": json.dumps(params), "seed": seed, "fit": round(fit, 1),
            **{name: round(scores[name], 4) for name in
               ("NDCG@10", "Recall@10", "tie-aware NDCG@10", "tie-aware Recall@10")},
            "user bit mean |.|": round(float(np.abs(users.mean(axis=0)).mean()), 3),
            "item bit mean |.|": round(float(np.abs(items.mean(axis=0)).mean()), 3),
            "distinct user codes": len(np.unique(users, axis=0)),
            "distinct item codes": len(np.unique(items, axis=0)),
            "n_users": int(train.shape[0]), "n_items": int(train.shape[1])}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--min-interactions", type=int, default=0)
    parser.add_argument("--model", required=True, help="a family of the registry")
    parser.add_argument("--params", default="{}", help="parameters over the defaults, JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bits", type=int, default=40)
    parser.add_argument("--out", help="append the JSON line to this file")
    args = parser.parse_args(argv)
    row = diagnose(args.dataset, args.model, json.loads(args.params), seed=args.seed,
                   n_bits=args.bits, min_interactions=args.min_interactions)
    line = json.dumps(row)
    print(line)
    if args.out:
        with open(args.out, "a") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
