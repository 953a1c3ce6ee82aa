"""Every user's top-k, streamed to Parquet or CSV: content, ids, resume, refusals."""

import io
import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sklearn_hashrec import BinaryMF, PopularityRecommender, export
from sklearn_hashrec.export import recommend_all
from sklearn_hashrec.pipeline import make_recommender_pipeline
from sklearn_hashrec.preprocessing import InteractionEncoder
from sklearn_hashrec.ranking import hamming_distances

pytest.importorskip("pyarrow")

N_USERS, N_ITEMS = 230, 40


@pytest.fixture(scope="module")
def interactions():
    rng = np.random.default_rng(0)
    X = (rng.random((N_USERS, N_ITEMS)) < 0.15).astype(np.float32)
    X[5] = 1  # a user who has seen everything gets no rows
    X[6, :-3] = 1  # one with only 3 items left
    return sp.csr_matrix(X)


@pytest.fixture(scope="module")
def model(interactions):
    return BinaryMF(n_bits=16, max_epochs=2, batch_size=64, random_state=0).fit(interactions)


def _brute_force(model, X, k):
    """Rows (user, rank, item, distance) from all distances, a stable sort and the seen mask."""
    distances = hamming_distances(model.user_codes_, model.item_codes_).astype(np.float64)
    distances[X.toarray() > 0] = np.inf
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    rows = [(u, r + 1, i, distances[u, i]) for u in range(X.shape[0])
            for r, i in enumerate(order[u]) if np.isfinite(distances[u, i])]
    return pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "distance"])


def _read(path):
    frame = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    return frame.sort_values(["user_id", "rank"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("name", ["recs.parquet", "recs.csv"])
def test_every_user_matches_brute_force(tmp_path, model, interactions, name):
    report = recommend_all(model, tmp_path / name, k=7, block_size=50)
    expected = _brute_force(model, interactions, 7)
    found = _read(tmp_path / name)
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)
    assert report.n_blocks == 5 and report.blocks_written == 5
    assert report.rows_written == len(expected)
    assert 5 not in set(found["user_id"]) and (found["user_id"] == 6).sum() == 3


def test_parquet_is_parts_in_a_directory(tmp_path, model):
    recommend_all(model, tmp_path / "recs.parquet", k=3, block_size=100)
    names = sorted(p.name for p in (tmp_path / "recs.parquet").iterdir())
    assert names == ["_SUCCESS", "_hashrec_export.json", "part-00000.parquet",
                     "part-00001.parquet", "part-00002.parquet"]


def test_users_subset_in_the_given_order(tmp_path, model):
    users = np.array([17, 3, 200])
    recommend_all(model, tmp_path / "recs.csv", k=4, users=users)
    found = pd.read_csv(tmp_path / "recs.csv")
    assert found["user_id"].tolist() == np.repeat(users, 4).tolist()
    _, items = model.recommend(users, k=4, return_distance=True)
    assert found["item_id"].to_numpy().reshape(3, 4).tolist() == items.tolist()


def test_ids_through_the_encoder(tmp_path):
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"user": [f"u{u}" for u in rng.integers(0, 60, 700)],
                          "item": [f"m{i}" for i in rng.integers(0, 25, 700)],
                          "stars": rng.integers(1, 6, 700)})
    pipe = make_recommender_pipeline(InteractionEncoder("user", "item", "stars"),
                                     PopularityRecommender()).fit(table)
    recommend_all(pipe, tmp_path / "recs.parquet", k=5, block_size=16)
    found = _read(tmp_path / "recs.parquet")
    users = pipe.steps[0][1].user_ids_
    distances, items = pipe.recommend(users, k=5, return_distance=True)
    expected = [(u, r + 1, items[row, r], distances[row, r]) for row, u in enumerate(users)
                for r in range(5) if items[row, r] is not None]
    assert list(found.itertuples(index=False, name=None)) == expected
    picked = recommend_all(pipe, tmp_path / "two.csv", k=2, users=["u7", "u3"])
    assert picked.n_users == 2
    assert pd.read_csv(tmp_path / "two.csv")["user_id"].tolist() == ["u7", "u7", "u3", "u3"]


def test_stream_output(model):
    text = io.StringIO()
    recommend_all(model, text, k=2, users=[0, 1])
    lines = text.getvalue().splitlines()
    _, items = model.recommend([0, 1], k=2, return_distance=True)
    assert lines[0] == "user_id,rank,item_id,distance"
    assert [int(line.split(",")[2]) for line in lines[1:]] == items.ravel().tolist()


class _Interrupt(Exception):
    pass


def _dies_on_block(monkeypatch, block):
    """Ranking raises on the given (1-based) block, as a kill would stop it there."""
    calls = {"n": 0}
    original = export._RankingSource.rank

    def rank(self, rows, k):
        calls["n"] += 1
        if calls["n"] == block:
            raise _Interrupt
        return original(self, rows, k)

    monkeypatch.setattr(export._RankingSource, "rank", rank)


@pytest.mark.parametrize("name", ["recs.parquet", "recs.csv"])
def test_resumes_from_the_last_block_written(tmp_path, model, monkeypatch, name):
    complete = tmp_path / "complete" / name
    recommend_all(model, complete, k=6, block_size=40)
    out = tmp_path / "resumed" / name
    _dies_on_block(monkeypatch, 4)
    with pytest.raises(_Interrupt):
        recommend_all(model, out, k=6, block_size=40)
    monkeypatch.undo()
    if name.endswith(".csv"):
        with open(out, "ab") as handle:  # a block cut off half-way by the kill
            handle.write(b"17,1,3,4.0\n17,2")
    report = recommend_all(model, out, k=6, block_size=40)
    assert (report.n_blocks, report.blocks_written) == (6, 3)
    pd.testing.assert_frame_equal(_read(out), _read(complete))
    if name.endswith(".csv"):
        assert not (tmp_path / "resumed" / "recs.csv.progress").exists()
    # Finished: a Parquet export is left as it is; a CSV file is not replaced unasked.
    if name.endswith(".parquet"):
        assert recommend_all(model, out, k=6, block_size=40).blocks_written == 0
    else:
        with pytest.raises(FileExistsError, match="overwrite=True"):
            recommend_all(model, out, k=6, block_size=40)


@pytest.mark.parametrize("name", ["recs.parquet", "recs.csv"])
def test_another_job_is_refused_then_overwritten(tmp_path, model, monkeypatch, name):
    out = tmp_path / name
    _dies_on_block(monkeypatch, 2)
    with pytest.raises(_Interrupt):  # an unfinished export of k=6 ...
        recommend_all(model, out, k=6, block_size=40)
    monkeypatch.undo()
    # ... is not continued with k=3 answers mixed in.
    with pytest.raises(FileExistsError, match="differs in k"):
        recommend_all(model, out, k=3, block_size=40)
    report = recommend_all(model, out, k=3, block_size=40, overwrite=True)
    assert report.blocks_written == 6
    assert _read(out)["rank"].max() == 3


def test_refuses_what_it_cannot_write(tmp_path, model):
    with pytest.raises(ValueError, match=r"\*.parquet or \*.csv"):
        recommend_all(model, tmp_path / "recs.json")
    with pytest.raises(ValueError, match="format must be one of"):
        recommend_all(model, tmp_path / "recs", format="json")
    with pytest.raises(ValueError, match="block_size"):
        recommend_all(model, tmp_path / "recs.csv", block_size=0)
    with pytest.raises(ValueError, match=r"row indices in \[0, 230\)"):
        recommend_all(model, tmp_path / "recs.csv", users=[0, 230])
    (tmp_path / "mine.csv").write_text("precious\n")
    with pytest.raises(FileExistsError, match="no unfinished export"):
        recommend_all(model, tmp_path / "mine.csv")
    assert (tmp_path / "mine.csv").read_text() == "precious\n"
    with pytest.raises(TypeError, match="fitted recommender"):
        recommend_all(object(), tmp_path / "recs.csv")


def test_manifest_names_the_job(tmp_path, model):
    recommend_all(model, tmp_path / "recs.parquet", k=4, block_size=64)
    job = json.loads((tmp_path / "recs.parquet" / "_hashrec_export.json").read_text())
    assert (job["k"], job["block_size"], job["n_users"]) == (4, 64, N_USERS)


_KILLED_CHILD = """
import sys, time, joblib
from sklearn_hashrec import export
rank = export._RankingSource.rank
def slow(self, rows, k):
    time.sleep(0.3)
    return rank(self, rows, k)
export._RankingSource.rank = slow
export.recommend_all(joblib.load(sys.argv[1]), sys.argv[2], k=6, block_size=20)
"""


@pytest.mark.integration
@pytest.mark.parametrize("name", ["recs.parquet", "recs.csv"])
def test_resumes_after_sigkill(tmp_path, model, name):
    import subprocess
    import sys
    import time

    import joblib

    joblib.dump(model, tmp_path / "model.joblib")
    complete = tmp_path / "complete" / name
    recommend_all(model, complete, k=6, block_size=20)
    out = tmp_path / "killed" / name
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(tmp_path / "model.joblib"),
                              str(out)])
    progress = out.with_name(name + ".progress")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        written = (len(list(out.glob("part-*.parquet"))) if out.suffix == ".parquet"
                   else len(json.loads(progress.read_text())["blocks"])
                   if progress.exists() else 0)
        if written >= 3:
            break
        time.sleep(0.05)
    child.kill()  # SIGKILL: no handler, no clean-up
    child.wait()
    report = recommend_all(joblib.load(tmp_path / "model.joblib"), out, k=6, block_size=20)
    assert 0 < report.blocks_written < report.n_blocks == 12
    pd.testing.assert_frame_equal(_read(out), _read(complete))


@pytest.mark.integration
def test_dask_cluster_gives_the_local_output(tmp_path, model):
    distributed = pytest.importorskip("distributed")
    local = recommend_all(model, tmp_path / "local.parquet", k=5, block_size=30)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = recommend_all(model, tmp_path / "dask.parquet", k=5, block_size=30,
                                   client=client)
            csv_remote = recommend_all(model, tmp_path / "dask.csv", k=5, block_size=30,
                                       client=client)
    assert remote.rows_written == local.rows_written == csv_remote.rows_written
    pd.testing.assert_frame_equal(_read(tmp_path / "dask.parquet"),
                                  _read(tmp_path / "local.parquet"))
    pd.testing.assert_frame_equal(_read(tmp_path / "dask.csv"), _read(tmp_path / "local.parquet"),
                                  check_dtype=False)
