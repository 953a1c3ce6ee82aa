"""scikit-learn's common estimator checks on every exported estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hashrec import CCSR
from sklearn_hashrec.preprocessing import BinarizeInteractions

# Small and fast settings: the checks fit dozens of times.
FAST_CCSR = dict(n_bits=4, hidden_layer_sizes=(8,), max_epochs=2, batch_size=16, random_state=0)

# Every check we are known to fail, with the reason.
_Y_IS_A_MATRIX = (
    "score(X, y) reads y as the held-out interaction matrix (same shape as X); the "
    "check passes a 1-D label vector, which is rejected with a ValueError rather "
    "than silently ignored."
)
EXPECTED_FAILURES = {
    "CCSR": {
        "check_fit_score_takes_y": _Y_IS_A_MATRIX,
        "check_pipeline_consistency": _Y_IS_A_MATRIX,
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [CCSR(**FAST_CCSR), CCSR(binarize="tanh", **FAST_CCSR), BinarizeInteractions()],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
