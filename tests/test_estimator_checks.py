"""scikit-learn's common estimator checks on every exported estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hashrec import (
    AECF,
    CCSR,
    DJSRH,
    EASE,
    BinaryMF,
    CFCodeReg,
    GraphFilter,
    GraphHash,
    PopularityRecommender,
    RandomRecommender,
    RerankRecommender,
)
from sklearn_hashrec.preprocessing import BinarizeInteractions

# Small and fast settings: the checks fit dozens of times.
FAST = dict(n_bits=4, max_epochs=2, batch_size=16, random_state=0)
FAST_CCSR = dict(hidden_layer_sizes=(8,), **FAST)
ESTIMATORS = [
    CCSR(**FAST_CCSR),
    CCSR(binarize="tanh", **FAST_CCSR),
    AECF(hidden_layer_sizes=(8, 4), **FAST),
    DJSRH(hidden_layer_sizes=(8,), binarize="tanh", **FAST),
    DJSRH(hidden_layer_sizes=(8,), binarize="sign_tanh", **FAST),
    BinaryMF(**FAST),
    CFCodeReg(**FAST),
    CFCodeReg(rotation=True, **FAST),
    RandomRecommender(random_state=0),
    PopularityRecommender(),
    EASE(l2_reg=1.0),
    GraphFilter(n_components=2, random_state=0),
    GraphHash(n_bits=1, max_epochs=2, batch_size=16, random_state=0),
    RerankRecommender(CCSR(**FAST_CCSR), EASE(l2_reg=1.0), n_candidates=5),
    BinarizeInteractions(),
]

# Every check we are known to fail, with the reason.
_Y_IS_A_MATRIX = (
    "score(X, y) reads y as the held-out interaction matrix (same shape as X); the "
    "check passes a 1-D label vector, which is rejected with a ValueError rather "
    "than silently ignored."
)
_RECOMMENDER_FAILURES = {
    "check_fit_score_takes_y": _Y_IS_A_MATRIX,
    "check_pipeline_consistency": _Y_IS_A_MATRIX,
}
_FIT_TRANSFORM_IS_STORED = (
    "fit_transform returns the stored user codes, the ones recommend ranks with; transform "
    "folds rows in by the ridge problem of the loss, which training has not reached, so "
    "the two differ for the factorisation models (docs/models.md, 'Fold-in codes of "
    "training users'; pinned in tests/test_models_common.py)."
)
_STORED_NOT_FOLDED = {
    "check_transformer_general": _FIT_TRANSFORM_IS_STORED,
    "check_transformer_data_not_an_array": _FIT_TRANSFORM_IS_STORED,
}
EXPECTED_FAILURES = {
    name: _RECOMMENDER_FAILURES
    for name in ["CCSR", "AECF", "DJSRH", "RandomRecommender", "PopularityRecommender", "EASE",
                 "GraphFilter", "GraphHash", "RerankRecommender"]
}
EXPECTED_FAILURES.update({name: {**_RECOMMENDER_FAILURES, **_STORED_NOT_FOLDED}
                          for name in ["BinaryMF", "CFCodeReg"]})


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
