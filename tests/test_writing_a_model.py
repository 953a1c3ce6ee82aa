"""docs/writing-a-model.md's model (examples/gallery/plot_writing_a_model.py) is an estimator."""

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hashrec.metrics import make_ndcg_scorer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gallery" / "plot_writing_a_model.py"


def _model_class():
    # The class is everything before the example's first cell (which fits on
    # data), loaded as a module so that pickle finds the class.
    source = EXAMPLE.read_text().split("# %%")[0]
    module = types.ModuleType("writing_a_model")
    exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)
    sys.modules[module.__name__] = module
    return module.LogisticHash


LogisticHash = _model_class()
_Y_IS_A_MATRIX = "score(X, y) reads y as the held-out matrix (as every model of the package)"


@parametrize_with_checks(
    [LogisticHash(n_bits=4, max_epochs=2, batch_size=16, random_state=0)],
    expected_failed_checks=lambda _: {"check_fit_score_takes_y": _Y_IS_A_MATRIX,
                                      "check_pipeline_consistency": _Y_IS_A_MATRIX})
def test_the_example_passes_scikit_learns_checks(estimator, check):
    check(estimator)


def test_the_example_gets_the_package_behaviour_for_free(make_planted):
    X, groups = make_planted()[:2]
    model = LogisticHash(n_bits=16, max_epochs=30, learning_rate=3e-2, random_state=0).fit(X)
    codes = model.transform(X)
    assert codes.dtype == np.int8 and set(np.unique(codes)) <= {-1, 1}
    np.testing.assert_array_equal(model.fit_transform(X), model.user_codes_)
    # It learns: users of a planted group share most bits.
    same = np.mean([(codes[u] == codes[v]).mean() for u in range(40) for v in range(40)
                    if u != v and groups[u] == groups[v]])
    other = np.mean([(codes[u] == codes[v]).mean() for u in range(40) for v in range(40)
                     if groups[u] != groups[v]])
    assert same > other + 0.2
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.recommend(np.arange(10), 5),
                                  model.recommend(np.arange(10), 5))
    search = GridSearchCV(clone(model).set_params(max_epochs=3), {"pos_weight": [1.0, 3.0]},
                          scoring=make_ndcg_scorer(5), cv=3, error_score="raise").fit(X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="pos_weight"):
        LogisticHash(pos_weight=-1.0).fit(X)
