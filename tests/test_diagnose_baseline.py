"""benchmarks/diagnose_baseline.py: its probes change only what they say."""

import numpy as np
import pytest
import scipy.sparse as sp
from test_docs_results import load_script

from sklearn_hashrec import AECF


@pytest.fixture(scope="module")
def ratings():
    X = sp.random(60, 40, density=0.2, random_state=0, format="csr")
    X.data = np.ceil(X.data * 5)
    return X


def test_the_unchanged_probe_trains_aecf_itself(ratings):
    # The rows of docs/reproduction.md compare each probe with AECF's own
    # row, so the probe with no change must be AECF bit for bit.
    diagnose = load_script("diagnose_baseline")
    reference = AECF(8, max_epochs=3, random_state=0).fit(ratings)
    probe = diagnose.aecf_probe()(8, max_epochs=3, random_state=0).fit(ratings)
    np.testing.assert_array_equal(probe.user_codes_, reference.user_codes_)
    np.testing.assert_array_equal(probe.item_codes_, reference.item_codes_)
    assert probe.loss_curve_ == reference.loss_curve_


def test_a_strong_balance_probe_balances_the_code_bits(ratings):
    diagnose = load_script("diagnose_baseline")
    kwargs = dict(max_epochs=20, learning_rate=1e-2, random_state=0)
    plain = diagnose.aecf_probe()(8, **kwargs).fit(ratings)
    balanced = diagnose.aecf_probe(balance=10.0, balance_on="codes")(8, **kwargs).fit(ratings)
    bias = [np.abs(m.user_codes_.mean(axis=0)).mean() for m in (plain, balanced)]
    assert bias[1] < bias[0]


def test_probes_refuse_what_they_do_not_change(ratings):
    diagnose = load_script("diagnose_baseline")
    with pytest.raises(ValueError, match="sign"):
        diagnose.aecf_probe()(8, binarize="tanh", max_epochs=1).fit(ratings)


@pytest.mark.parametrize("name", ["row median", "bit median", "bit mean", "sign"])
def test_thresholds_split_where_they_say(name):
    diagnose = load_script("diagnose_baseline")
    features = np.random.default_rng(0).normal(1.0, 1.0, size=(101, 9))
    codes = features >= diagnose.THRESHOLDS[name](features)
    if name == "row median":
        assert (codes.sum(axis=1) == 5).all()   # 9 features: the median and 4 above
    elif name == "bit median":
        assert (codes.sum(axis=0) == 51).all()  # 101 rows: the median and 50 above
    elif name == "bit mean":
        np.testing.assert_array_equal(codes, features >= features.mean(axis=0))
    else:
        np.testing.assert_array_equal(codes, features >= 0)
