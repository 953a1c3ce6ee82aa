"""AECF and DJSRH: what is their own (AECF-S's training through the sign, DJSRH's affinity)."""

import numpy as np
import pytest
import torch
from sklearn.preprocessing import normalize

from sklearn_hashrec import DJSRH
from sklearn_hashrec.binarization import sign_codes


def test_aecf_two_stage_sign_is_the_sign_of_the_continuous_model(planted, quick_model):
    # straight_through=False is the paper's two-stage reading: AECF-C's
    # training, then the sign; the default trains through the sign instead.
    X = planted[0]
    continuous = quick_model("AECF", binarize=None).fit(X)
    two_stage = quick_model("AECF", straight_through=False).fit(X)
    np.testing.assert_array_equal(two_stage.user_codes_, sign_codes(continuous.user_codes_))
    np.testing.assert_array_equal(two_stage.item_codes_, sign_codes(continuous.item_codes_))
    assert not np.array_equal(quick_model("AECF").fit(X).item_codes_, two_stage.item_codes_)


def test_aecf_sign_learns_the_planted_groups(make_planted, learning_model):
    X, user_group, item_group = make_planted()
    model = learning_model("AECF").fit(X)
    ranked = model.recommend(np.arange(X.shape[0]), k=5)
    assert (user_group[:, None] == item_group[ranked]).mean() > 0.8  # chance: 0.25


def standardized(cosines):
    # The documented rule, in numpy: z-scores of the off-diagonal entries
    # (sample std), clipped at 3, over 3; ones on the diagonal.
    off = ~np.eye(len(cosines), dtype=bool)
    z = (cosines - cosines[off].mean()) / cosines[off].std(ddof=1)
    target = np.clip(z, -3, 3) / 3
    np.fill_diagonal(target, 1.0)
    return target


@pytest.mark.parametrize("affinity", ["shifted", "cosine", "standardized"])
def test_djsrh_target_affinity_matches_its_formula(affinity):
    rng = np.random.default_rng(0)
    users = (rng.random((6, 20)) < 0.3) * rng.integers(1, 6, (6, 20)).astype(np.float64)
    items = (rng.random((6, 15)) < 0.3) * rng.integers(1, 6, (6, 15)).astype(np.float64)
    model = DJSRH(beta=0.7, eta=0.3, mu=1.2, affinity=affinity)
    got = model._target_similarity(torch.from_numpy(users), torch.from_numpy(items)).numpy()
    s_users = normalize(users) @ normalize(users).T
    s_items = normalize(items) @ normalize(items).T
    if affinity == "shifted":  # DJSRH's own 2 cos - 1, made for dense image features
        s_users, s_items = 2 * s_users - 1, 2 * s_items - 1
    if affinity == "standardized":  # the default: sparse rows' cosines spread onto [-1, 1]
        s_users, s_items = standardized(s_users), standardized(s_items)
        assert s_users.min() >= -1 and s_users.max() <= 1
    joint = 0.7 * s_users + 0.3 * s_items
    np.testing.assert_allclose(got, 1.2 * (0.7 * joint + 0.3 * joint @ joint.T / 6), rtol=1e-10)


def test_aecf_and_djsrh_refuse_bad_new_parameters(planted, quick_model):
    with pytest.raises(ValueError, match="straight_through"):
        quick_model("AECF", straight_through="yes").fit(planted[0])
    with pytest.raises(ValueError, match="affinity"):
        quick_model("DJSRH", affinity="pearson").fit(planted[0])


def test_standardized_affinity_of_identical_pairs_is_all_ones():
    # No contrast in the batch (every row the same): no division by a zero std.
    rows = torch.ones((4, 5), dtype=torch.float64)
    got = DJSRH(eta=0.0, mu=1.0, beta=0.5)._target_similarity(rows, rows)
    assert torch.isfinite(got).all()


@pytest.mark.parametrize("affinity", ["standardized", "cosine"])
def test_djsrh_learns_the_planted_groups(make_planted, learning_model, affinity):
    X, user_group, item_group = make_planted()
    model = learning_model("DJSRH", affinity=affinity).fit(X)
    ranked = model.recommend(np.arange(X.shape[0]), k=5)
    assert (user_group[:, None] == item_group[ranked]).mean() > 0.8  # chance: 0.25
