"""
Tuning with GridSearchCV
========================

The package's scorers make ``GridSearchCV`` rank candidates by NDCG@k. Here
the paper's same-users protocol: every user's interactions are split into a
training and a validation part, and one "fold" keeps all users on both sides,
with the validation matrix passed as ``y``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklearn_hashrec import CCSR
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.metrics import make_ndcg_scorer, make_recall_scorer
from sklearn_hashrec.model_selection import train_test_split_interactions

X = load_movielens("100k").data
train, validation = train_test_split_interactions(X, test_size=0.2, random_state=0)
all_users = np.arange(X.shape[0])
search = GridSearchCV(
    CCSR(relevance_threshold=3, max_epochs=5, random_state=0),
    {"n_bits": [16, 64], "learning_rate": [1e-3, 3e-3]},
    scoring={"ndcg": make_ndcg_scorer(10, relevance_threshold=3),
             "recall": make_recall_scorer(10, relevance_threshold=3)},
    refit="ndcg", cv=[(all_users, all_users)],
).fit(train, validation)

for params, ndcg in zip(search.cv_results_["params"], search.cv_results_["mean_test_ndcg"],
                        strict=True):
    print(params, round(ndcg, 4))
print("best:", search.best_params_)  # refit on all of train: search.best_estimator_

# %%
# The validation NDCG@10 of every grid point.
labels = [f"{p['n_bits']} bits\nlr {p['learning_rate']:g}" for p in search.cv_results_["params"]]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(labels, search.cv_results_["mean_test_ndcg"])
ax.set_ylabel("validation NDCG@10")
fig.tight_layout()
