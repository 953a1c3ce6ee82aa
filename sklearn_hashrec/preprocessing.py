"""Transformers that prepare an interaction matrix, for use in Pipelines."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["BinarizeInteractions"]


class BinarizeInteractions(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Turn ratings into 0/1 interactions: 1 where the value exceeds a threshold.

    The paper converts MovieLens and Amazon ratings to a similarity matrix this
    way (``S_ab = 1 if R_ab > 3``). Sparse input stays sparse, with the entries
    at or below the threshold dropped.

    Parameters
    ----------
    threshold : float, default=0.0
        Entries strictly greater than ``threshold`` become 1, all others 0.
        It must be >= 0 so that sparse zeros stay zeros.

    Attributes
    ----------
    n_features_in_ : int
        Number of items seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.preprocessing import BinarizeInteractions
    >>> BinarizeInteractions(threshold=3).fit_transform(np.array([[5.0, 3.0, 0.0, 4.0]]))
    array([[1., 0., 0., 1.]])
    """

    _parameter_constraints: dict = {"threshold": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, threshold: float = 0.0):
        self.threshold = threshold

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate ``X`` and record its number of items.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
        y : None
            Ignored.

        Returns
        -------
        self : BinarizeInteractions
        """
        validate_data(self, X, accept_sparse=("csr", "csc", "coo"), ensure_all_finite=True)
        return self

    def transform(self, X):
        """Binarize ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)

        Returns
        -------
        X_binary : ndarray or csr_matrix of shape (n_users, n_items)
            Same kind (dense or sparse) as ``X``; float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          ensure_all_finite=True, reset=False)
        if sp.issparse(X):
            out = (X > self.threshold).astype(X.dtype)
            return sp.csr_matrix(out)
        return (X > self.threshold).astype(X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = False
        return tags
