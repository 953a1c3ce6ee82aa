"""CCSR on MovieLens-1M under the core protocol, next to popularity.

Protocol: per-user 80/20 split (seed 0), relevance = held-out rating > 3, full
ranking over all items minus the user's training items, NDCG@10 and Recall@10.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/ml1m_protocol.py \
        --params '{"n_bits": 40, "binarize": "sign"}'
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="{}", help="CCSR parameters as JSON")
    parser.add_argument("--seed", type=int, default=0, help="split seed")
    parser.add_argument("--model-seed", type=int, default=0)
    args = parser.parse_args()
    X = load_movielens("1m").data
    train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=args.seed)
    relevant = test > 3
    popularity = np.asarray((train > 0).sum(axis=0)).ravel()
    # Popularity as a one-"bit" score: rank by decreasing count (ties by index).
    pop_ranked = hamming_topk(np.ones((X.shape[0], 1)), popularity[:, None].astype(float),
                              10, exclude=train)
    print(f"popularity NDCG@10 {ndcg_at_k(relevant, pop_ranked, 10):.4f} "
          f"Recall@10 {recall_at_k(relevant, pop_ranked, 10):.4f}")
    params = {"random_state": args.model_seed, **json.loads(args.params)}
    start = time.perf_counter()
    model = CCSR(**params).fit(train)
    seconds = time.perf_counter() - start
    ranked = model.recommend(np.arange(X.shape[0]), k=10)
    print(f"CCSR{json.dumps(params)} NDCG@10 {ndcg_at_k(relevant, ranked, 10):.4f} "
          f"Recall@10 {recall_at_k(relevant, ranked, 10):.4f} fit {seconds:.0f}s "
          f"epochs {model.n_epochs_}")


if __name__ == "__main__":
    main()
