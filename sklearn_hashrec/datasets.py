"""Dataset loaders that read a local data home.

The datasets' licences forbid bundling them, so nothing is shipped with the
package: the loaders read files from a *data home*, chosen in this order:

1. the ``data_home`` argument;
2. the environment variable ``SKLEARN_HASHREC_DATA``;
3. ``~/sklearn_hashrec_data``.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

__all__ = ["get_data_home", "load_movielens", "DatasetNotFoundError"]

DATA_HOME_ENV = "SKLEARN_HASHREC_DATA"

_MOVIELENS_CITATION = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History "
    "and Context. ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, "
    "Article 19. DOI 10.1145/2827872."
)

# For each variant: the accepted files (first found wins), their field separator,
# whether they have a header line, and the official archive a user can download.
_MOVIELENS = {
    "100k": {
        "folder": "ml-100k",
        "files": [("u.data", "\t", False), ("u.data.gz", "\t", False)],
        "url": "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        "description": "MovieLens 100K: 100,000 ratings (1-5) by 943 users on 1,682 movies.",
    },
    "1m": {
        "folder": "ml-1m",
        "files": [("ratings.dat", "::", False), ("ratings.dat.gz", "::", False),
                  ("ratings.csv.gz", ",", True), ("ratings.csv", ",", True)],
        "url": "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        "description": "MovieLens 1M: 1,000,209 ratings (1-5) by 6,040 users on 3,706 movies.",
    },
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not in the data home."""


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder the loaders read from.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder. When None, ``$SKLEARN_HASHREC_DATA`` if set, else
        ``~/sklearn_hashrec_data``.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from sklearn_hashrec.datasets import get_data_home
    >>> str(get_data_home("/tmp/recdata"))
    '/tmp/recdata'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path.home() / "sklearn_hashrec_data"
    return Path(data_home).expanduser()


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="latin-1")
    return open(path, encoding="latin-1")


def _read_triples(path: Path, separator: str, header: bool) -> np.ndarray:
    with _open_text(path) as handle:
        if header:
            next(handle)
        text = handle.read()
    if separator != ",":
        text = text.replace(separator, ",")
    # Columns: user, item, rating[, timestamp]; only the first three are used.
    values = np.array(text.replace("\n", ",").rstrip(",").split(","), dtype=np.int64)
    n_columns = 4 if separator != "," else 3
    if values.size % n_columns:
        raise ValueError(f"{path} does not have {n_columns} fields on every line.")
    return values.reshape(-1, n_columns)[:, :3]


def interactions_from_triples(users, items, values):
    """Build a users x items CSR matrix and the external ids of its rows and columns."""
    user_ids, rows = np.unique(users, return_inverse=True)
    item_ids, cols = np.unique(items, return_inverse=True)
    data = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), (rows, cols)),
        shape=(len(user_ids), len(item_ids)),
    )
    data.sum_duplicates()
    return data, user_ids, item_ids


def load_movielens(variant: str = "1m", *, data_home=None) -> Bunch:
    """Load MovieLens ratings as a users x items matrix.

    Reads the official GroupLens files (``ml-1m/ratings.dat``,
    ``ml-100k/u.data``) or a gzipped copy, or the ``ml-1m/ratings.csv.gz``
    layout (header ``user_id,movie_id,rating``), from the data home.

    Parameters
    ----------
    variant : {"100k", "1m"}, default="1m"
        Which MovieLens release.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data``: csr_matrix of shape (n_users, n_items), float32 ratings 1-5;
        ``user_ids`` and ``item_ids``: the original MovieLens ids of each row
        and column (sorted); ``DESCR``: description and citation.

    Raises
    ------
    DatasetNotFoundError
        If no accepted file is in the data home; the message says which file to
        put where, and where to download it.

    Examples
    --------
    >>> from sklearn_hashrec.datasets import load_movielens
    >>> ml = load_movielens("1m")  # doctest: +SKIP
    >>> ml.data.shape  # doctest: +SKIP
    (6040, 3706)
    """
    if variant not in _MOVIELENS:
        raise ValueError(f"variant must be one of {sorted(_MOVIELENS)}, got {variant!r}.")
    spec = _MOVIELENS[variant]
    folder = get_data_home(data_home) / spec["folder"]
    for name, separator, header in spec["files"]:
        path = folder / name
        if path.is_file():
            triples = _read_triples(path, separator, header)
            break
    else:
        accepted = ", ".join(name for name, _, _ in spec["files"])
        raise DatasetNotFoundError(
            f"MovieLens {variant} not found: expected one of [{accepted}] in {folder}. "
            f"Download {spec['url']}, unzip it into {get_data_home(data_home)}, or point "
            f"the data home there with data_home=... or ${DATA_HOME_ENV}."
        )
    data, user_ids, item_ids = interactions_from_triples(*triples.T)
    return Bunch(
        data=data,
        user_ids=user_ids,
        item_ids=item_ids,
        DESCR=f"{spec['description']}\nRead from {path}.\nPlease cite: {_MOVIELENS_CITATION}",
    )
