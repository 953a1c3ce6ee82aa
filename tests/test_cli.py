import csv
import io
import os
import subprocess
import sys

import joblib
import numpy as np
import pytest

from sklearn_hashrec import CCSR
from sklearn_hashrec.cli import main
from sklearn_hashrec.datasets import filter_min_interactions
from sklearn_hashrec.model_selection import train_test_split_interactions
from sklearn_hashrec.pipeline import RecommenderPipeline


@pytest.mark.integration
def test_reproduce_quick_on_movielens_100k(tmp_path, movielens_100k, data_home):
    code = main(["reproduce", "--dataset", "ml-100k", "--quick", "--data-home", str(data_home),
                 "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    table = (tmp_path / "ml-100k.md").read_text()
    for name in ["Random", "Top", "CF-S", "CFCodeReg-S", "AECF-S", "DJSRH-SST", "CCSR-S",
                 "CCSR-C"]:
        assert f"| {name} |" in table
    rows = list(csv.DictReader(open(tmp_path / "ml-100k.csv")))
    assert len(rows) == 14  # Random, Top, CF, CFCodeReg, AECF x4, DJSRH x2, CCSR x4
    assert all(0 <= float(row["NDCG@10"]) <= 1 for row in rows)
    assert (tmp_path / "ml-100k.png").stat().st_size > 10_000


def test_reproduce_on_a_k_core(tmp_path, movielens_100k, data_home, popularity_ndcg):
    code = main(["reproduce", "--dataset", "ml-100k", "--quick", "--models", "Top",
                 "--min-interactions", "50", "--data-home", str(data_home),
                 "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    assert "--min-interactions 50" in (tmp_path / "ml-100k.md").read_text()
    # The 50-core is much smaller than ML-100k; Top's score on it differs from the
    # full set's, so check it against an independent computation on the filtered matrix.
    X = movielens_100k.data
    core, _, _ = filter_min_interactions(X, 50, 50)
    assert core.shape[0] < X.shape[0] and core.shape[1] < X.shape[1]
    train, test = train_test_split_interactions(core, 0.2, per_user=True, random_state=0)
    row = next(csv.DictReader(open(tmp_path / "ml-100k.csv")))
    assert float(row["NDCG@10"]) == pytest.approx(popularity_ndcg(train, test, 10, 3.0))


def test_reproduce_single_variants_and_later_seeds(tmp_path, movielens_100k, data_home,
                                                   popularity_ndcg):
    """--models takes single variants; --first-seed adds seeds to an earlier run."""
    code = main(["reproduce", "--dataset", "ml-100k", "--quick", "--models", "Top", "CCSR-ST",
                 "--first-seed", "2", "--data-home", str(data_home),
                 "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    rows = list(csv.DictReader(open(tmp_path / "ml-100k.csv")))
    assert [row["model"] for row in rows] == ["Top", "CCSR-ST"]
    assert {row["seed"] for row in rows} == {"2"}
    # Seed 2's split, not seed 0's, was used.
    X = movielens_100k.data
    train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=2)
    assert float(rows[0]["NDCG@10"]) == pytest.approx(popularity_ndcg(train, test, 10, 3.0))
    other, _ = train_test_split_interactions(X, 0.2, per_user=True, random_state=0)
    assert (other != train).nnz > 0


def test_reproduce_tuned_and_paper_recipe_write_their_own_files(tmp_path, movielens_100k,
                                                                data_home):
    common = ["reproduce", "--dataset", "ml-100k", "--quick", "--models", "Top", "CF",
              "--data-home", str(data_home), "--out", str(tmp_path), "--no-progress"]
    assert main(common + ["--tune"]) == 0
    assert main(common + ["--paper-recipe"]) == 0
    assert not (tmp_path / "ml-100k.csv").exists()
    tuned = list(csv.DictReader(open(tmp_path / "ml-100k-tuned.csv")))
    assert [row["model"] for row in tuned] == ["Top", "CF-S"]
    assert tuned[1]["params"].startswith("{") and float(tuned[1]["validation NDCG@10"]) >= 0
    assert "--tune" in (tmp_path / "ml-100k-tuned.md").read_text()
    assert "--paper-recipe" in (tmp_path / "ml-100k-paper.md").read_text()
    with pytest.raises(SystemExit):  # one setting per run
        main(common + ["--tune", "--paper-recipe"])


def test_reproduce_unknown_model_names_the_choices(tmp_path):
    with pytest.raises(SystemExit, match="AECF-ST"):  # the message lists the variants
        main(["reproduce", "--dataset", "ml-100k", "--models", "AECF-X",
              "--data-home", str(tmp_path), "--out", str(tmp_path)])


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    code = main(["reproduce", "--dataset", "ml-1m", "--data-home", str(tmp_path),
                 "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "ml-1m" in err and "Traceback" not in err


def test_fit_recommend_evaluate_from_a_file(tmp_path, capsys, popularity_ndcg):
    rng = np.random.default_rng(0)
    ratings = tmp_path / "ratings.csv"
    lines = ["user,item,rating"] + [
        f"u{u},i{i},{rng.integers(1, 6)}"
        for u in range(40) for i in range(30) if rng.random() < 0.3
    ]
    ratings.write_text("\n".join(lines) + "\n")
    model = tmp_path / "model.joblib"
    params = '{"n_bits": 8, "max_epochs": 2, "random_state": 0}'
    assert main(["fit", "--data", str(ratings), "--params", params, "--out", str(model)]) == 0
    # The estimator's own defaults, binary codes included (not the continuous variant).
    # The file is a RecommenderPipeline: the encoder of the file's ids, then the model.
    pipeline = joblib.load(model)
    assert isinstance(pipeline, RecommenderPipeline)
    fitted = pipeline[-1]
    assert fitted.get_params()["binarize"] == CCSR().binarize == "sign"
    assert fitted.item_codes_.dtype == np.int8
    assert pipeline.recommend(["u1"], k=3)[0][0].startswith("i")
    out = tmp_path / "recs.csv"
    assert main(["recommend", "--model", str(model), "--k", "3", "--users", "u1", "u7",
                 "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out)))
    assert [r["user_id"] for r in rows] == ["u1"] * 3 + ["u7"] * 3
    assert all(r["item_id"].startswith("i") for r in rows)
    seen_u1 = {line.split(",")[1] for line in lines[1:] if line.startswith("u1,")}
    assert not seen_u1 & {r["item_id"] for r in rows if r["user_id"] == "u1"}
    capsys.readouterr()
    assert main(["evaluate", "--data", str(ratings), "--model", "Top",
                 "--relevance-threshold", "3"]) == 0
    printed = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    # Independent: the same file read by hand, split per user, popularity scored by sklearn.
    users = sorted({line.split(",")[0] for line in lines[1:]})
    items = sorted({line.split(",")[1] for line in lines[1:]})
    X = np.zeros((len(users), len(items)))
    for line in lines[1:]:
        u, i, r = line.split(",")
        X[users.index(u), items.index(i)] = float(r)
    train, test = train_test_split_interactions(X, 0.2, per_user=True, random_state=0)
    assert float(printed["NDCG@10"]) == pytest.approx(popularity_ndcg(train, test, 10, 3.0),
                                                      abs=5e-5)


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "sklearn_hashrec", "--version"],
                            capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0 and result.stdout.strip()


def test_recommend_writes_csv_to_standard_output_parquet_and_refuses_other_formats(
        tmp_path, capsys):
    ratings = tmp_path / "r.tsv"
    ratings.write_text("1\t1\t5\n1\t2\t3\n2\t2\t4\n2\t3\t1\n")
    model = tmp_path / "m.joblib"
    main(["fit", "--data", str(ratings), "--model", "Top", "--out", str(model)])
    capsys.readouterr()
    assert main(["recommend", "--model", str(model), "--k", "1"]) == 0
    out = [line.split(",")[:3] for line in capsys.readouterr().out.splitlines()]
    # By hand: each user has one unseen item left, user 1 item 3 and user 2 item 1.
    assert out == [["user_id", "rank", "item_id"], ["1", "1", "3"], ["2", "1", "1"]]
    assert not list(tmp_path.glob("recommendations*"))
    pytest.importorskip("pyarrow")
    assert main(["recommend", "--model", str(model), "--k", "1",
                 "--out", str(tmp_path / "recs.parquet")]) == 0
    import pandas as pd

    table = pd.read_parquet(tmp_path / "recs.parquet")
    assert table[["user_id", "rank", "item_id"]].values.tolist() == [[1, 1, 3], [2, 1, 1]]
    with pytest.raises(SystemExit, match="cannot tell the format"):
        main(["recommend", "--model", str(model), "--out", str(tmp_path / "recs.json")])
    assert not (tmp_path / "recs.json").exists()
    (tmp_path / "mine.csv").write_text("precious\n")
    with pytest.raises(SystemExit, match="pass --overwrite"):
        main(["recommend", "--model", str(model), "--out", str(tmp_path / "mine.csv")])
    assert main(["recommend", "--model", str(model), "--overwrite",
                 "--out", str(tmp_path / "mine.csv")]) == 0
    assert (tmp_path / "mine.csv").read_text().startswith("user_id,rank,item_id,distance")


def test_evaluate_takes_cut_offs_and_refuses_ones_beyond_the_catalogue(tmp_path, capsys):
    ratings = tmp_path / "small.csv"
    rows = [f"u{u},i{i},{1 + (u + i) % 5}" for u in range(12) for i in range(6) if (u + i) % 3]
    ratings.write_text("\n".join(rows) + "\n")
    # Six items: the default cut-off 10 is refused before any fit, with what to do.
    with pytest.raises(SystemExit, match="catalogue has 6 items; pass --k"):
        main(["evaluate", "--data", str(ratings), "--model", "Top"])
    capsys.readouterr()
    assert main(["evaluate", "--data", str(ratings), "--model", "Top", "--k", "1", "3"]) == 0
    printed = [line.split(": ")[0] for line in capsys.readouterr().out.splitlines()]
    assert printed[:4] == ["NDCG@1", "NDCG@3", "Recall@1", "Recall@3"]


def test_evaluate_runs_the_sparse_catalogue_models_by_name(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ratings = tmp_path / "r.csv"
    rows = [f"u{u},i{i}" for u in range(40) for i in range(25) if rng.random() < 0.3]
    ratings.write_text("\n".join(rows) + "\n")
    for model, params in [("GraphFilter", '{"n_components": 8}'),
                          ("GraphHash", '{"n_bits": 8, "max_epochs": 2}')]:
        capsys.readouterr()
        assert main(["evaluate", "--data", str(ratings), "--model", model,
                     "--params", params]) == 0
        printed = dict(line.split(": ") for line in capsys.readouterr().out.splitlines())
        assert 0 < float(printed["NDCG@10"]) <= 1, model


def test_unknown_user_id(tmp_path):
    ratings = tmp_path / "r.tsv"
    ratings.write_text("1\t1\t5\n1\t2\t3\n2\t2\t4\n")
    model = tmp_path / "m.joblib"
    main(["fit", "--data", str(ratings), "--model", "Top", "--out", str(model)])
    with pytest.raises(SystemExit, match="unknown user"):
        main(["recommend", "--model", str(model), "--users", "99"])


def test_fit_under_torchrun_refuses_a_model_without_torch_before_joining(tmp_path, monkeypatch):
    # torchrun's environment with nobody else to join: refusing after
    # init_process_group would hang waiting for rank 1.
    import torch.distributed

    ratings = tmp_path / "r.tsv"
    ratings.write_text("1\t1\t5\n1\t2\t3\n2\t2\t4\n")
    for name, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0",
                        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match="does not train with torch"):
        main(["fit", "--data", str(ratings), "--model", "Top", "--out", str(tmp_path / "m")])
    assert not torch.distributed.is_initialized()


def test_recommend_speaks_integer_ids_and_refuses_old_files(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("".join(f"{u},{100 + i},{rng.integers(1, 6)}\n" for u in range(30)
                               for i in rng.choice(25, 6, replace=False)))
    model = tmp_path / "pop.joblib"
    assert main(["fit", "--data", str(ratings), "--model", "Top", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["recommend", "--model", str(model), "--k", "2", "--users", "7"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    seen = {int(line.split(",")[1]) for line in ratings.read_text().splitlines()
            if line.startswith("7,")}
    assert [r["user_id"] for r in rows] == ["7", "7"]
    assert all(100 <= int(r["item_id"]) < 125 and int(r["item_id"]) not in seen for r in rows)
    old = tmp_path / "old.joblib"
    joblib.dump({"model": joblib.load(model)[-1], "user_ids": np.arange(30)}, old)
    with pytest.raises(SystemExit, match="earlier release.*fit it again"):
        main(["recommend", "--model", str(old)])
