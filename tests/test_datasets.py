"""Dataset loaders (datasets.py) reading the data home."""

import numpy as np
import pytest

from sklearn_hashrec.datasets import DatasetNotFoundError, get_data_home, load_movielens


def test_movielens_1m_counts(movielens_1m):
    X = movielens_1m.data
    assert X.shape == (6040, 3706) and X.nnz == 1_000_209 and X.dtype == np.float32
    assert set(np.unique(X.data)) == {1, 2, 3, 4, 5}
    assert movielens_1m.user_ids[0] == 1 and movielens_1m.user_ids[-1] == 6040
    assert movielens_1m.item_ids[-1] == 3952
    assert "Harper" in movielens_1m.DESCR


def test_movielens_100k_counts(movielens_100k):
    assert movielens_100k.data.shape == (943, 1682) and movielens_100k.data.nnz == 100_000


def test_missing_dataset_says_where(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ratings.dat.*ml-1m"):
        load_movielens("1m", data_home=tmp_path)


def test_data_home_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKLEARN_HASHREC_DATA", str(tmp_path))
    assert get_data_home() == tmp_path


def test_a_failed_download_is_a_clear_error(tmp_path):
    # No network (or a dead mirror): the error says what is missing and where to put it.
    dead = (tmp_path / "missing.zip").as_uri()
    with pytest.raises(DatasetNotFoundError, match=r"ml-100k/u.data.*downloading.*failed"):
        load_movielens("100k", data_home=tmp_path / "home", download_if_missing=True, url=dead)
