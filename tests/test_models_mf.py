"""The factorisation models (models/mf.py, models/base.py): BinaryMF, CFCodeReg."""

import numpy as np
import pytest

from sklearn_hashrec import BinaryMF, CFCodeReg
from sklearn_hashrec.model_selection import train_test_split_interactions


@pytest.fixture(scope="module")
def split(make_planted):
    X = make_planted(n_users=150, n_items=100, seed=3)[0]
    return train_test_split_interactions(X, 0.25, random_state=0)


@pytest.mark.parametrize("name", ["BinaryMF", "CFCodeReg"])
def test_mf_fold_in_recovers_training_codes(name, learning_model, split):
    train, _ = split
    model = learning_model(name).fit(train)
    agreement = (model.transform(train) == model.user_codes_).mean()
    assert agreement > 0.8
    assert (model.transform_items(train.T) == model.item_codes_).mean() > 0.8


def test_mf_fold_in_solves_the_ridge_problem(split):
    train, _ = split
    model = BinaryMF(n_bits=6, max_epochs=2, l2_reg=0.4, binarize=None,
                     unobserved_weight=0.2, random_state=0).fit(train)
    row = train[7]
    # Independent: minimise the user's loss with a generic least-squares solver.
    Q = model.item_factors_.astype(np.float64)
    observed = row.toarray().ravel() != 0
    y = row.toarray().ravel()
    weights = np.where(observed, 1.0, 0.2)
    design = np.vstack([Q * np.sqrt(weights)[:, None],
                        np.sqrt(0.4) * np.eye(6)])
    target = np.concatenate([y * np.sqrt(weights), np.zeros(6)])
    expected = np.linalg.lstsq(design, target, rcond=None)[0]
    np.testing.assert_allclose(model.transform(row)[0], expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("rotation", [False, True])
def test_cfcodereg_codes_are_balanced_per_user(rotation, split):
    train, _ = split
    model = CFCodeReg(n_bits=16, max_epochs=5, rotation=rotation, random_state=0).fit(train)
    for codes in (model.user_codes_, model.item_codes_, model.transform(train[:10])):
        np.testing.assert_array_equal((codes == 1).sum(axis=1), 8)
    if rotation:
        R = model.rotation_
        np.testing.assert_allclose(R @ R.T, np.eye(16), atol=1e-4)


def test_cfcodereg_records_the_training_rating_range(split):
    train, _ = split
    model = CFCodeReg(n_bits=8, max_epochs=1, random_state=0).fit(train)
    # Unobserved entries count as ratings of 0, so the range starts at 0 or below.
    assert model.rating_range_ == (min(0.0, train.data.min()), train.data.max())
    assert not any(name.startswith("_training") for name in vars(model))

