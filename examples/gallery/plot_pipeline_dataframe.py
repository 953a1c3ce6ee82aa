"""
From a DataFrame of string ids to recommended ids
=================================================

Interaction logs are tables. ``InteractionEncoder`` turns one into the users x
items matrix, and a ``RecommenderPipeline`` that starts with it takes user ids
and answers with item ids. ``BinarizeInteractions`` keeps the ratings above 3
as positives, but a movie a user rated 1 still counts as seen.
"""

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_hashrec import CCSR
from sklearn_hashrec.datasets import load_movielens
from sklearn_hashrec.pipeline import make_recommender_pipeline
from sklearn_hashrec.preprocessing import BinarizeInteractions, InteractionEncoder

movielens = load_movielens("100k")
rows = movielens.data.tocoo()
log = pd.DataFrame({"user": [f"u{movielens.user_ids[u]}" for u in rows.row],
                    "movie": [f"m{movielens.item_ids[i]}" for i in rows.col],
                    "rating": rows.data})
print(log.head())

pipe = make_recommender_pipeline(InteractionEncoder("user", "movie", "rating"),
                                 BinarizeInteractions(threshold=3),
                                 CCSR(n_bits=32, max_epochs=10, random_state=0)).fit(log)
print(pipe.recommend(["u1", "u2"], k=5))

# %%
# A new user, from a table of her ratings: folded in through the same steps.
new = pd.DataFrame({"user": "ann", "movie": ["m50", "m172", "m181"], "rating": [5, 5, 4]})
print(pipe.recommend_from_history(new, k=5))

# %%
# What BinarizeInteractions keeps: the ratings above 3 become positives, the
# rest stay seen (excluded from recommendations) but teach nothing.
counts = log["rating"].value_counts().sort_index()
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(counts.index, counts.to_numpy(),
       color=["tab:grey" if r <= 3 else "tab:blue" for r in counts.index])
ax.set_xlabel("rating")
ax.set_ylabel("interactions")
ax.set_title("positives (blue) and seen-only (grey)")
fig.tight_layout()
