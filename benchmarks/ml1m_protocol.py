"""CCSR on MovieLens-1M under the core protocol, next to popularity.

Protocol: per-user 80/20 split (seed 0), relevance = held-out rating > 3, full
ranking over all items minus the user's training items, NDCG@10 and Recall@10.

One configuration::

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/ml1m_protocol.py \
        --params '{"n_bits": 40, "binarize": "sign"}'

The ablation table of docs/ccsr.md (each departure from the paper switched
back to the paper's value, one at a time, then all at once)::

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/ml1m_protocol.py --ablation
"""

import argparse
import json
import time

import numpy as np

from sklearn_hashrec import CCSR
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions
from sklearn_hashrec.ranking import hamming_topk

PAPER = {
    "straight_through": False,
    "pos_weight": 1.0,
    "logit_scale": 1.0,
    "dropout": 0.8,
    "hidden_layer_sizes": [128],
    "lambda_ae": 0.1,
    "input": "ratings",
    "relevance_threshold": 3,
}

ABLATION = [
    ("defaults", {}),
    ("defaults, relevance_threshold=3", {"relevance_threshold": 3}),
    *[(f"relevance_threshold=3, {name}={value!r} (paper)",
       {"relevance_threshold": 3, name: value})
      for name, value in PAPER.items() if name != "relevance_threshold"],
    ("paper recipe (all of the above)", PAPER),
]


def evaluate(train, relevant, params):
    start = time.perf_counter()
    model = CCSR(**params).fit(train)
    seconds = time.perf_counter() - start
    ranked = model.recommend(np.arange(train.shape[0]), k=10)
    return ndcg_at_k(relevant, ranked, 10), recall_at_k(relevant, ranked, 10), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="{}", help="CCSR parameters as JSON")
    parser.add_argument("--ablation", action="store_true", help="run the ablation table")
    parser.add_argument("--seed", type=int, default=0, help="split seed")
    parser.add_argument("--model-seed", type=int, default=0)
    args = parser.parse_args()
    X = load_movielens("1m").data
    train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=args.seed)
    relevant = test > 3
    popularity = np.asarray((train != 0).sum(axis=0), dtype=float).T
    top = hamming_topk(np.ones((X.shape[0], 1)), popularity, 10, exclude=train)
    print("| configuration (CCSR, 40-bit sign codes) | NDCG@10 | Recall@10 | fit s |")
    print("|---|---|---|---|")
    print(f"| popularity | {ndcg_at_k(relevant, top, 10):.4f} | "
          f"{recall_at_k(relevant, top, 10):.4f} | |", flush=True)
    runs = ABLATION if args.ablation else [(args.params, json.loads(args.params))]
    for name, params in runs:
        params = {"random_state": args.model_seed, **params}
        ndcg, recall, seconds = evaluate(train, relevant, params)
        print(f"| {name} | {ndcg:.4f} | {recall:.4f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
