"""Dataset loaders that read a local data home.

The datasets' licences forbid bundling them, so nothing is shipped with the
package: the loaders read files from a *data home*, chosen in this order:

1. the ``data_home`` argument;
2. the environment variable ``SKLEARN_HASHREC_DATA``;
3. ``~/sklearn_hashrec_data``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

__all__ = [
    "DatasetNotFoundError",
    "filter_min_interactions",
    "get_data_home",
    "load_amazon",
    "load_citeulike",
    "load_gowalla",
    "load_interactions",
    "load_lastfm",
    "load_movielens",
]

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
        # Checked on the extracted ratings file: sha256 of ml-100k/u.data.
        "member": "ml-100k/u.data",
        "sha256": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "description": "MovieLens 100K: 100,000 ratings (1-5) by 943 users on 1,682 movies.",
    },
    "1m": {
        "folder": "ml-1m",
        "files": [("ratings.dat", "::", False), ("ratings.dat.gz", "::", False),
                  ("ratings.csv.gz", ",", True), ("ratings.csv", ",", True)],
        "url": "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        # git blob id (sha1 of "blob <size>\\0" + content) of ml-1m/ratings.dat, the
        # hash under which every public copy of the file is known.
        "member": "ml-1m/ratings.dat",
        "git_blob": "77a7c4b150f588c23bb9e1f068aa996c0b413695",
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


def _file_digest(path: Path, algorithm: str) -> str:
    if algorithm == "git_blob":
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_movielens(spec: dict, home: Path, url: str | None = None) -> Path:
    """Download the official zip, extract the ratings file and check its hash."""
    url = url or spec["url"]
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home) as tmp:
        archive = Path(tmp) / "archive.zip"
        try:
            with urllib.request.urlopen(url, timeout=60) as response, \
                    open(archive, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:  # URLError, timeouts, refused connections
            raise DatasetNotFoundError(
                f"{spec['member']} is not in the data home {home}, and downloading {url} "
                f"failed ({exc}). Put the file there, or point SKLEARN_HASHREC_DATA (or "
                "data_home=) at a folder that has it."
            ) from None
        with zipfile.ZipFile(archive) as zf:
            zf.extract(spec["member"], tmp)
        extracted = Path(tmp) / spec["member"]
        algorithm = "git_blob" if "git_blob" in spec else "sha256"
        digest = _file_digest(extracted, algorithm)
        if digest != spec[algorithm]:
            raise OSError(
                f"{spec['member']} from {url} has {algorithm} {digest}, expected "
                f"{spec[algorithm]}; the download is corrupt or not the official file. "
                "Nothing was written to the data home."
            )
        target = home / spec["member"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(extracted), target)
    return target


def _bunch(data, user_ids, item_ids, description, path, citation):
    return Bunch(data=data, user_ids=user_ids, item_ids=item_ids,
                 DESCR=f"{description}\nRead from {path}.\nPlease cite: {citation}")


def load_movielens(variant: str = "1m", *, data_home=None, download_if_missing: bool = False,
                   url: str | None = None) -> Bunch:
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
    download_if_missing : bool, default=False
        When no file is found, download the official zip from GroupLens into
        the data home, extract the ratings file and check it against its
        known hash (sha256 of ``u.data``; the git blob id of ``ratings.dat``).
        A mismatch raises ``OSError`` and writes nothing.
    url : str, default=None
        Another source for the same zip (a mirror, or a local ``file://``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data``: csr_matrix of shape (n_users, n_items), float32 ratings 1-5;
        ``user_ids`` and ``item_ids``: the original MovieLens ids of each row
        and column (sorted); ``DESCR``: description and citation.

    Raises
    ------
    DatasetNotFoundError
        If no accepted file is in the data home (and no download was asked
        for); the message says which file to put where, and where to download it.

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
    home = get_data_home(data_home)
    folder = home / spec["folder"]
    found = [(folder / name, sep, header) for name, sep, header in spec["files"]
             if (folder / name).is_file()]
    if not found and download_if_missing:
        found = [(_download_movielens(spec, home, url), *spec["files"][0][1:])]
    if not found:
        accepted = ", ".join(name for name, _, _ in spec["files"])
        raise DatasetNotFoundError(
            f"MovieLens {variant} not found: expected one of [{accepted}] in {folder}. "
            f"Download {spec['url']}, unzip it into {home}, or call with "
            f"download_if_missing=True, or point the data home elsewhere with "
            f"data_home=... or ${DATA_HOME_ENV}."
        )
    path, separator, header = found[0]
    triples = _read_triples(path, separator, header)
    data, user_ids, item_ids = interactions_from_triples(*triples.T)
    return _bunch(data, user_ids, item_ids, spec["description"], path, _MOVIELENS_CITATION)


def _find(home: Path, folder: str, names: list[str], what: str, source: str) -> Path:
    for name in names:
        if (home / folder / name).is_file():
            return home / folder / name
    raise DatasetNotFoundError(
        f"{what} not found: expected one of {names} in {home / folder}. {source} "
        f"Point the data home at the folder holding {folder}/ with data_home=... or "
        f"${DATA_HOME_ENV}."
    )


def load_amazon(*, data_home=None) -> Bunch:
    """Load the Amazon ratings subset (6,170 users x 2,753 items, 195,791 ratings).

    Reads ``amazon-hin/user_item.dat`` (or ``.gz``): tab-separated
    ``user, item, rating, timestamp``, 0-based ids. This is the Amazon set of
    librahu/HIN-Datasets-for-Recommendation-and-Network-Embedding, which stands
    in for the paper's Amazon Books (not available).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (ratings 1-5, float32 CSR), ``user_ids``, ``item_ids``, ``DESCR``.
    """
    path = _find(get_data_home(data_home), "amazon-hin", ["user_item.dat", "user_item.dat.gz"],
                 "Amazon ratings subset",
                 "It is Amazon/user_item.dat of librahu/HIN-Datasets-for-Recommendation-and-"
                 "Network-Embedding on GitHub.")
    triples = _read_triples(path, "\t", False)
    data, user_ids, item_ids = interactions_from_triples(*triples.T)
    return _bunch(data, user_ids, item_ids,
                  "Amazon product ratings subset (explicit 1-5).", path,
                  "R. He and J. McAuley, WWW 2016; J. McAuley et al., SIGIR 2015.")


def load_lastfm(*, data_home=None) -> Bunch:
    """Load Last.fm HetRec 2011 listening as implicit interactions (1,892 x 17,632).

    Reads ``lastfm-hetrec2011/user_artists.dat`` (or ``.gz``); every
    (user, artist) pair with a play count becomes a 1. The play counts are in
    ``play_counts`` (same sparsity pattern). Non-commercial use only.
    """
    path = _find(get_data_home(data_home), "lastfm-hetrec2011",
                 ["user_artists.dat", "user_artists.dat.gz"], "Last.fm HetRec 2011",
                 "It is in hetrec2011-lastfm-2k.zip from GroupLens.")
    with _open_text(path) as handle:
        next(handle)
        values = np.array(handle.read().split(), dtype=np.int64).reshape(-1, 3)
    counts, user_ids, item_ids = interactions_from_triples(*values.T)
    data = counts.copy()
    data.data = np.ones_like(data.data)
    bunch = _bunch(data, user_ids, item_ids, "Last.fm HetRec 2011 user-artist listening "
                   "(implicit).", path, "Cantador, Brusilovsky and Kuflik, HetRec 2011.")
    bunch.play_counts = counts
    return bunch


def load_citeulike(*, data_home=None) -> Bunch:
    """Load citeulike-a (5,551 users x 16,980 articles, 204,986 pairs), implicit.

    Reads ``citeulike-a/users.dat`` (or ``.gz``): line ``u`` holds user ``u``'s
    count followed by that many 0-based article ids.
    """
    path = _find(get_data_home(data_home), "citeulike-a", ["users.dat", "users.dat.gz"],
                 "citeulike-a", "It is users.dat of js05212/citeulike-a on GitHub.")
    with _open_text(path) as handle:
        lines = handle.read().splitlines()
    rows, cols = [], []
    for user, line in enumerate(lines):
        fields = np.array(line.split(), dtype=np.int64)
        if len(fields) and fields[0] != len(fields) - 1:
            raise ValueError(f"{path}, line {user + 1}: count {fields[0]} does not match "
                             f"{len(fields) - 1} ids.")
        rows.append(np.full(len(fields) - 1, user))
        cols.append(fields[1:])
    users, items = np.concatenate(rows), np.concatenate(cols)
    n_items = int(items.max()) + 1 if len(items) else 0
    data = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)),
                         shape=(len(lines), n_items))
    data.sum_duplicates()
    data.data[:] = 1
    return _bunch(data, np.arange(len(lines)), np.arange(n_items),
                  "citeulike-a user-article library (implicit).", path,
                  "H. Wang, B. Chen and W.-J. Li, IJCAI 2013.")


def load_gowalla(*, data_home=None) -> Bunch:
    """Load Gowalla check-ins as preprocessed by LightGCN (29,858 x 40,981), implicit.

    Reads ``gowalla-lightgcn/{train,valid,test}.txt`` (or ``.gz``), lines
    ``user item item ...``. ``data`` is their union; ``train``, ``valid`` and
    ``test`` are the published parts (same shape).
    """
    home = get_data_home(data_home)
    parts = {}
    for part in ("train", "valid", "test"):
        path = _find(home, "gowalla-lightgcn", [f"{part}.txt", f"{part}.txt.gz"],
                     "Gowalla (LightGCN)", "It is data/gowalla of the LightGCN code.")
        users, items = [], []
        with _open_text(path) as handle:
            for line in handle:
                fields = np.array(line.split(), dtype=np.int64)
                if len(fields) > 1:
                    users.append(np.full(len(fields) - 1, fields[0]))
                    items.append(fields[1:])
        parts[part] = (np.concatenate(users), np.concatenate(items))
    n_users = 1 + max(int(u.max()) for u, _ in parts.values())
    n_items = 1 + max(int(i.max()) for _, i in parts.values())

    def matrix(users, items):
        out = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)),
                            shape=(n_users, n_items))
        out.sum_duplicates()
        out.data[:] = 1
        return out

    splits = {part: matrix(*pair) for part, pair in parts.items()}
    data = matrix(*map(np.concatenate, zip(*parts.values(), strict=True)))
    bunch = _bunch(data, np.arange(n_users), np.arange(n_items),
                   "Gowalla check-ins, LightGCN preprocessing (implicit).", path,
                   "Wang et al., NGCF, SIGIR 2019; He et al., LightGCN, SIGIR 2020.")
    bunch.update(splits)
    return bunch


def load_interactions(source, *, sep: str | None = None, columns=None,
                      header: bool | None = None, implicit: bool = False,
                      duplicates: str = "sum") -> Bunch:
    r"""Load your own ``(user, item[, rating])`` interactions as a users x items matrix.

    The matrix is built by :class:`~sklearn_hashrec.preprocessing.InteractionEncoder`,
    returned as ``bunch.encoder`` to map ids to rows and columns and back
    (``encoder.decode_items(model.recommend(...))``).

    Parameters
    ----------
    source : str, path-like or DataFrame
        A CSV/TSV file (optionally ``.gz``), a parquet file (needs pandas with
        a parquet engine), or a DataFrame (pandas, polars, ...).
    sep : str, default=None
        Field separator of a text file; by default guessed from the first line
        (tab, ``::``, comma, semicolon, else whitespace). Fields may be quoted
        (the csv module's rules), except with ``::`` or whitespace.
    columns : tuple of int or str, default=None
        Positions (or header names) of the user, item and rating fields. By
        default ``(0, 1, 2)``, or ``(0, 1)`` (no ratings) when the table has
        two columns.
    header : bool, default=None
        Whether a text file's first line is a header. By default it is one when
        its rating field is not a number, when an id field is not a number
        where the next line's is, or when its user field is a usual column
        name (``user``, ``user_id``, ``userId``, ...).
    implicit : bool, default=False
        Store 1 for every pair instead of the rating.
    duplicates : {"sum", "last"}, default="sum"
        A pair given several times: values summed, or the last one kept.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (float32 CSR), ``user_ids`` and ``item_ids`` (the ids, sorted;
        integers when every id of a text file is one, else strings),
        ``encoder`` (the fitted ``InteractionEncoder``), ``DESCR``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_hashrec.datasets import load_interactions
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ratings.csv"
    >>> _ = path.write_text('user,item,rating\nann,"x, 2nd ed.",5\nbob,x,3\nbob,y,4\n')
    >>> bunch = load_interactions(path)
    >>> bunch.data.toarray()
    array([[0., 5., 0.],
           [3., 0., 4.]], dtype=float32)
    >>> bunch.user_ids.tolist(), bunch.item_ids.tolist()
    (['ann', 'bob'], ['x', 'x, 2nd ed.', 'y'])
    """
    from .preprocessing import InteractionEncoder

    path = None
    if hasattr(source, "columns"):
        table = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No interactions file at {path}.")
        if path.suffix == ".parquet":
            table = _read_parquet(path)
        else:
            table = _read_delimited(path, sep, columns, header)
            columns = tuple(range(len(table.columns)))
    if columns is None:
        columns = (0, 1, 2) if len(table.columns) >= 3 else (0, 1)
    if len(columns) not in (2, 3):
        raise ValueError(f"columns must name 2 or 3 fields (user, item[, rating]); got "
                         f"{columns!r}.")
    rating = columns[2] if len(columns) > 2 and not implicit else None
    encoder = InteractionEncoder(columns[0], columns[1], rating, duplicates=duplicates)
    where = path if path is not None else "the DataFrame"
    try:
        data = encoder.fit_transform(table)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    bunch = _bunch(data, encoder.user_ids_, encoder.item_ids_,
                   "User-supplied interactions.", where, "your source")
    bunch.encoder = encoder
    return bunch


class _Columns:
    """A minimal column table (``.columns``, ``table[name]``) for parsed text files."""

    def __init__(self, fields: list):
        self.columns = list(range(len(fields)))
        self._fields = fields

    def __getitem__(self, position):
        return self._fields[position]


_HEADER_WORDS = {"user", "users", "user_id", "userid", "uid", "item", "items", "item_id",
                 "itemid", "iid", "movie", "movieid", "movie_id", "product", "product_id"}


def _read_parquet(path):
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("Reading parquet needs pandas and pyarrow: pip install pandas "
                          "pyarrow.") from exc
    return pd.read_parquet(path)


def _read_delimited(path, sep, columns, header) -> _Columns:
    """The selected fields of a delimited text file, as a column table of ids and values."""
    import csv

    with _open_text(path) as handle:
        lines = [line for line in handle.read().splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path} is empty.")
    if sep is None:
        sep = next((s for s in ("\t", "::", ",", ";") if s in lines[0]), None)
    if sep is None or len(sep) > 1:  # whitespace or "::" (MovieLens .dat): no quoting
        rows = [line.split(sep) for line in lines]
    else:
        rows = list(csv.reader(lines, delimiter=sep, skipinitialspace=True))
    n_fields = len(rows[0])
    longer = next((n for n, row in enumerate(rows) if len(row) > n_fields), None)
    if longer is not None:
        # A field too many is a shifted or malformed line, never a row to read by position.
        raise ValueError(f"{path}: line {longer + 1} has {len(rows[longer])} fields, more "
                         f"than the {n_fields} of line 1.")
    if columns is None:
        columns = (0, 1, 2) if n_fields >= 3 else (0, 1)
    first = [field.strip() for field in rows[0]]
    if header is None:
        header = any(isinstance(c, str) for c in columns) or _looks_like_header(
            first, rows[1:2], [c for c in columns if isinstance(c, int)])
    names = first if header else []
    body = rows[1:] if header else rows
    if not body:
        raise ValueError(f"{path} has a header and no interactions.")
    try:
        indices = [names.index(c) if isinstance(c, str) else c for c in columns]
    except ValueError:
        raise ValueError(f"{path}: columns {columns!r} are not all in the header "
                         f"{names}.") from None
    try:
        fields = [np.array([row[i].strip() for row in body]) for i in indices]
    except IndexError:
        line = next(n for n, row in enumerate(body) if len(row) <= max(indices))
        raise ValueError(f"{path}: line {line + 1 + bool(header)} has fewer than "
                         f"{max(indices) + 1} fields.") from None
    return _Columns([_normalize_ids(fields[0]), _normalize_ids(fields[1]), *fields[2:]])


def _looks_like_header(first, following, positions) -> bool:
    """Whether the stripped first line ``first`` is a header, given the next line (if any)."""
    if len(positions) > 2 and positions[2] < len(first) and not _is_number(first[positions[2]]):
        return True  # a rating field that is not a number
    if first and first[positions[0]].lower() in _HEADER_WORDS:
        return True
    if following:
        second = [field.strip() for field in following[0]]
        return any(p < min(len(first), len(second)) and not _is_number(first[p])
                   and _is_number(second[p]) for p in positions[:2])
    return False


def _normalize_ids(values):
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        try:
            return values.astype(np.int64)
        except ValueError:
            return values.astype(str)
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def filter_min_interactions(X, min_user: int = 1, min_item: int = 1):
    """k-core filtering: drop users and items with too few interactions, until stable.

    The paper keeps Amazon users and items with at least 20 ratings, and Ichiba
    ones with at least 50; removing items can push users under the limit and
    back, so the filter repeats until nothing changes.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
    min_user, min_item : int, default=1
        Minimum number of stored interactions per user (row) and item (column).

    Returns
    -------
    X_filtered : csr_matrix
        The kept rows and columns.
    users, items : ndarray of int
        Indices of the kept rows and columns in ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hashrec.datasets import filter_min_interactions
    >>> X = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]])
    >>> Xf, users, items = filter_min_interactions(X, min_user=2, min_item=2)
    >>> users.tolist(), items.tolist(), Xf.toarray().tolist()
    ([0, 1], [0, 1], [[1.0, 1.0], [1.0, 1.0]])
    """
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.eliminate_zeros()
    users, items = np.arange(X.shape[0]), np.arange(X.shape[1])
    while True:
        keep_users = np.diff(X.indptr) >= min_user
        keep_items = np.bincount(X.indices, minlength=X.shape[1]) >= min_item
        if keep_users.all() and keep_items.all():
            return X, users, items
        X = X[keep_users][:, keep_items].tocsr()
        users, items = users[keep_users], items[keep_items]
