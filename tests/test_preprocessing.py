import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec.preprocessing import BinarizeInteractions


def test_binarize_dense_and_sparse():
    X = np.array([[5.0, 3.0, 0.0, 4.0], [1.0, 0.0, 4.5, 0.0]])
    expected = (X > 3).astype(float)
    np.testing.assert_array_equal(BinarizeInteractions(threshold=3).fit_transform(X), expected)
    out = BinarizeInteractions(threshold=3).fit_transform(sp.csr_matrix(X))
    assert sp.issparse(out) and out.nnz == 3
    np.testing.assert_array_equal(out.toarray(), expected)


def test_binarize_rejects_negative_threshold():
    with pytest.raises(ValueError, match="threshold"):
        BinarizeInteractions(threshold=-1).fit(np.eye(2))
