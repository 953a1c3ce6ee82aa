"""Every model x binarization on MovieLens-1M at one code length (docs/models.md).

Protocol: per-user 80/20 split (seed 0), relevance = held-out rating > 3,
ranking over all items minus the user's training items; default parameters
of each model, ``random_state=0``.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/models_table.py --n-bits 40
"""

import argparse
import time

import numpy as np

from sklearn_hashrec import (
    AECF,
    CCSR,
    DJSRH,
    BinaryMF,
    CFCodeReg,
    PopularityRecommender,
    RandomRecommender,
)
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions

VARIANTS = {"sign": "S", "tanh": "ST", "sign_tanh": "SST", None: "C"}


def models(n_bits, only):
    yield "Random", RandomRecommender(random_state=0)
    yield "Top", PopularityRecommender()
    for cls in (BinaryMF, CFCodeReg, AECF, DJSRH, CCSR):
        for binarize, suffix in VARIANTS.items():
            name = f"{cls.__name__}-{suffix}"
            if only and not any(o in name for o in only):
                continue
            yield name, cls(n_bits=n_bits, binarize=binarize, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-bits", type=int, default=40)
    parser.add_argument("--only", nargs="*", help="substrings of model names to run")
    args = parser.parse_args()
    X = load_movielens("1m").data
    train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=0)
    relevant = test > 3
    users = np.arange(X.shape[0])
    print(f"| model ({args.n_bits} bits) | NDCG@10 | Recall@10 | fit s |")
    print("|---|---|---|---|")
    for name, model in models(args.n_bits, args.only):
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        ranked = model.recommend(users, k=10)
        print(f"| {name} | {ndcg_at_k(relevant, ranked, 10):.4f} | "
              f"{recall_at_k(relevant, ranked, 10):.4f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
