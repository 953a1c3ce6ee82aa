"""The core promise on real data, against the documented figures.

Protocol (``experiments.DATASETS["ml-1m"]``): per-user 80/20 split (seed 0),
relevance = held-out rating > 3, full ranking over all items minus the user's
training items. The figures are those of README and docs/quality.md; the
tolerance (0.01 NDCG@10, about twice the seed-to-seed spread) absorbs
differences of platform and thread count, not a regression. About two minutes
on 2 cores.
"""

import pytest

from sklearn_hashrec import CCSR, EASE, PopularityRecommender, RerankRecommender
from sklearn_hashrec.experiments import DATASETS

TOLERANCE = 0.01
DOCUMENTED = {"Top": 0.1705, "CCSR": 0.2307, "EASE": 0.3664}


@pytest.fixture(scope="module")
def fitted(movielens_1m):
    protocol = DATASETS["ml-1m"].protocol.with_options(ndcg_at=(10,), recall_at=(10,),
                                                       tie_aware=False)
    train, test = protocol.split(movielens_1m.data, seed=0)
    models = {"Top": PopularityRecommender().fit(train),
              "CCSR": CCSR(n_bits=40, binarize="sign", random_state=0).fit(train),
              "EASE": EASE().fit(train)}
    return protocol, train, test, models


def test_documented_figures_hold(fitted):
    protocol, train, test, models = fitted
    scores = {name: protocol.evaluate(model, train, test) for name, model in models.items()}
    for name, figure in DOCUMENTED.items():
        assert scores[name]["NDCG@10"] >= figure - TOLERANCE, name
    assert models["CCSR"].item_codes_.dtype == "int8"
    assert scores["CCSR"]["NDCG@10"] > scores["Top"]["NDCG@10"]
    assert scores["CCSR"]["Recall@10"] > scores["Top"]["Recall@10"]


def test_two_stage_is_within_three_percent_of_its_reranker(fitted):
    protocol, train, test, models = fitted
    two_stage = RerankRecommender(models["CCSR"], models["EASE"], n_candidates=200,
                                  prefit=True).fit(train)
    ease = protocol.evaluate(models["EASE"], train, test)["NDCG@10"]
    assert protocol.evaluate(two_stage, train, test)["NDCG@10"] >= 0.97 * ease
