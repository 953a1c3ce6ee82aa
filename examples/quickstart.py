"""Quickstart: binary codes for MovieLens users and movies, recommendations, NDCG.

Trains CCSR (40-bit sign codes) on a per-user 80/20 split of MovieLens, prints
the top movies for three users and the held-out NDCG@10 / Recall@10 (relevant
= held-out rating > 3) next to the popularity ranking.

    SKLEARN_HASHREC_DATA=../shared/data python examples/quickstart.py [--variant 100k]
"""

import argparse
import time

import numpy as np

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions


def main():
    parser = argparse.ArgumentParser(description="CCSR quickstart on MovieLens.")
    parser.add_argument("--variant", default="1m", choices=["100k", "1m"])
    parser.add_argument("--n-bits", type=int, default=40)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()

    # Reads the data home; fetches the official GroupLens zip (hash-checked)
    # when the data home does not have it and the network allows.
    movielens = load_movielens(args.variant, download_if_missing=True)
    X = movielens.data
    print(f"MovieLens {args.variant}: {X.shape[0]} users x {X.shape[1]} movies, "
          f"{X.nnz} ratings")
    train, test = train_test_split_interactions(X, test_size=0.2, random_state=0)

    start = time.perf_counter()
    model = CCSR(n_bits=args.n_bits, binarize="sign", random_state=0,
                 verbose=args.verbose).fit(train)
    print(f"trained CCSR-S with {args.n_bits}-bit codes in "
          f"{time.perf_counter() - start:.0f}s; item codes take "
          f"{model.item_codes_packed_.nbytes} bytes packed in 64-bit words")

    users = np.arange(X.shape[0])
    distances, items = model.recommend(users, k=10, return_distance=True)
    for user in users[:3]:
        movie_ids = movielens.item_ids[items[user, :5]]
        print(f"user {movielens.user_ids[user]}: movies {movie_ids.tolist()} "
              f"at Hamming distances {distances[user, :5].astype(int).tolist()}")

    relevant = test > 3
    top = PopularityRecommender().fit(train).recommend(users, k=10)
    for name, ranked in [("CCSR-S", items), ("popularity", top)]:
        print(f"{name:>10}: NDCG@10 {ndcg_at_k(relevant, ranked, 10):.4f}  "
              f"Recall@10 {recall_at_k(relevant, ranked, 10):.4f}")


if __name__ == "__main__":
    from sklearn_hashrec.datasets import DatasetNotFoundError

    try:
        main()
    except DatasetNotFoundError as exc:
        raise SystemExit(f"quickstart: {exc}") from None
