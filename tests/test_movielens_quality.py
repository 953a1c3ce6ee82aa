"""The core promise on real data: default CCSR-S at 40 bits beats popularity.

Protocol (``experiments.DATASETS["ml-1m"]``): per-user 80/20 split (seed 0),
relevance = held-out rating > 3, full ranking over all items minus the user's
training items. About a minute on 2 cores.
"""

from sklearn_hashrec import CCSR, PopularityRecommender
from sklearn_hashrec.experiments import DATASETS


def test_ccsr_sign_beats_popularity_on_movielens_1m(movielens_1m):
    protocol = DATASETS["ml-1m"].protocol.with_options(ndcg_at=(10,), recall_at=(10,),
                                                       tie_aware=False)
    train, test = protocol.split(movielens_1m.data, seed=0)
    top = protocol.evaluate(PopularityRecommender().fit(train), train, test)
    model = CCSR(n_bits=40, binarize="sign", random_state=0).fit(train)
    ccsr = protocol.evaluate(model, train, test)
    assert model.item_codes_.dtype == "int8"
    assert ccsr["NDCG@10"] > top["NDCG@10"]
    assert ccsr["Recall@10"] > top["Recall@10"]
