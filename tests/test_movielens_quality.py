"""The core promise on real data: default CCSR-S at 40 bits beats popularity.

Protocol: MovieLens-1M, per-user 80/20 split (seed 0), relevance = held-out
rating > 3, full ranking over all items minus the user's training items.
About a minute on 2 cores.
"""

import numpy as np

from sklearn_hashrec import CCSR
from sklearn_hashrec.metrics import ndcg_at_k, recall_at_k
from sklearn_hashrec.model_selection import train_test_split_interactions
from sklearn_hashrec.ranking import hamming_topk


def test_ccsr_sign_beats_popularity_on_movielens_1m(movielens_1m):
    X = movielens_1m.data
    train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=0)
    relevant = test > 3
    users = np.arange(X.shape[0])
    popularity = np.asarray((train != 0).sum(axis=0), dtype=float).T
    top = hamming_topk(np.ones((len(users), 1)), popularity, 10, exclude=train)

    model = CCSR(n_bits=40, binarize="sign", random_state=0).fit(train)
    ranked = model.recommend(users, k=10)

    assert model.item_codes_.dtype == np.int8
    assert ndcg_at_k(relevant, ranked, 10) > ndcg_at_k(relevant, top, 10)
    assert recall_at_k(relevant, ranked, 10) > recall_at_k(relevant, top, 10)
