"""Popularity's top-k for every user: one shared order filtered per user, against dense scores.

``PopularityRecommender`` ranks every user from one sorted list, skipping the
user's seen items (``ranking.topk_shared_order``). The peer, in the same
process, is the path it replaced: a dense users x items score matrix through
``ranking.topk_dense``. Both answers are checked equal.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/bench_popularity.py --dataset gowalla
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sklearn_hashrec import PopularityRecommender
from sklearn_hashrec.experiments import load_dataset
from sklearn_hashrec.ranking import topk_dense


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="gowalla")
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()
    data, protocol = load_dataset(args.dataset)
    train, _ = protocol.split(data.data, 0)
    model = PopularityRecommender().fit(train)
    users = np.arange(train.shape[0])
    model.recommend(users[:10], k=args.k)  # compile
    start = time.perf_counter()
    ours = model.recommend(users, k=args.k)
    shared = time.perf_counter() - start
    negative = -model.item_popularity_.astype(np.float64)
    start = time.perf_counter()
    dense, _ = topk_dense(lambda a, b: np.broadcast_to(negative, (b - a, len(negative))),
                          len(users), len(negative), args.k, model.seen_)
    seconds_dense = time.perf_counter() - start
    np.testing.assert_array_equal(ours, dense)
    print(f"{args.dataset}: {train.shape[0]} users x {train.shape[1]} items, k={args.k}: "
          f"shared order {shared:.3f} s, dense scores {seconds_dense:.2f} s "
          f"({seconds_dense / shared:.0f}x); same answers")


if __name__ == "__main__":
    main()
