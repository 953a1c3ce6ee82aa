"""Experiments (experiments/): registry, protocols, runner and reports."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_hashrec import AECF, CCSR, DJSRH, BinaryMF, PopularityRecommender
from sklearn_hashrec.experiments import (
    MODELS,
    Protocol,
    aggregate_over_seeds,
    all_variant_names,
    build_estimator,
    markdown_table,
    parse_variant,
    plan_runs,
    plot_by_code_length,
    read_runs,
    run_grid,
    select_variants,
    variant_name,
    write_runs,
)
from sklearn_hashrec.model_selection import train_test_split_interactions


def test_every_variant_name_parses_back():
    names = all_variant_names()
    # Random, Top, EASE, GraphFilter and GraphHash by name; the paper's five families in
    # their four variants each.
    assert len(names) == 5 + 5 * 4 and len(set(names)) == len(names)
    for name in names:
        assert variant_name(*parse_variant(name)) == name


def test_one_naming_scheme_reads_the_old_names():
    assert parse_variant("CF") == ("CF", "sign")  # the paper's and earlier CSVs' name
    assert parse_variant("CFCodeReg") == ("CFCodeReg", "sign")
    assert parse_variant("BinaryMF-ST") == ("CF", "tanh")  # class names, as models_table wrote
    assert parse_variant("popularity") == ("Top", None)
    assert variant_name("BinaryMF", None) == "CF-C"
    for bad in ["CCSR", "AECF-X", "Nope", "Top-S"]:
        with pytest.raises(ValueError, match="unknown model"):
            parse_variant(bad)


def test_select_variants_expands_families_in_the_papers_order():
    assert select_variants(["CCSR", "Top", "CCSR-S"]) == [
        ("CCSR", "sign"), ("CCSR", "tanh"), ("CCSR", "sign_tanh"), ("CCSR", None), ("Top", None)]
    assert len(select_variants()) == 14  # the paper's table: Random, Top and 12 hashing rows
    with pytest.raises(ValueError, match="AECF-ST"):
        select_variants(["AECF-Y"])


def test_build_estimator_passes_what_each_model_takes():
    assert build_estimator("Top", n_bits=8, random_state=3).get_params() == {}
    model = build_estimator("DJSRH", "sign_tanh", n_bits=8, random_state=3, device="cpu",
                            params={"max_epochs": 2})
    assert isinstance(model, DJSRH)
    assert (model.n_bits, model.binarize, model.random_state, model.max_epochs) == (
        8, "sign_tanh", 3, 2)
    assert isinstance(build_estimator("CF", "sign"), BinaryMF)
    assert {spec.estimator for spec in MODELS.values()} >= {AECF, CCSR, PopularityRecommender}


def test_protocol_split_is_the_package_split(planted):
    X = planted[0]
    train, test = Protocol(per_user=False, test_size=0.3).split(X, seed=5)
    expected_train, expected_test = train_test_split_interactions(X, 0.3, per_user=False,
                                                                  random_state=5)
    assert train.dtype == np.float32
    assert (train != expected_train).nnz == 0 and (test != expected_test).nnz == 0


def test_protocol_scores_popularity_as_an_independent_computation(planted, popularity_ndcg):
    X = planted[0]
    protocol = Protocol(relevance_threshold=3.0, ndcg_at=(5, 10), recall_at=(5,))
    train, test = protocol.split(X, seed=0)
    scores = protocol.evaluate(PopularityRecommender().fit(train), train, test)
    assert set(scores) == {"NDCG@5", "NDCG@10", "Recall@5"}  # no codes: no tie-aware scores
    assert scores["NDCG@10"] == pytest.approx(popularity_ndcg(train, test, 10, 3.0))
    assert scores["NDCG@5"] == pytest.approx(popularity_ndcg(train, test, 5, 3.0))
    # Recall@5 by hand: the 5 most popular unseen items of each user.
    counts = (train.toarray() != 0).sum(axis=0)
    order = np.lexsort((np.arange(X.shape[1]), -counts))
    relevant = test.toarray() > 3
    recalls = []
    for user in np.flatnonzero(relevant.any(axis=1)):
        top = [i for i in order if train[user, i] == 0][:5]
        recalls.append(relevant[user, top].sum() / relevant[user].sum())
    assert scores["Recall@5"] == pytest.approx(np.mean(recalls))


def test_protocol_held_out_candidates_rank_only_test_items(planted):
    X = planted[0]
    protocol = Protocol(relevance_threshold=3.0, candidates="test", ndcg_at=(3,),
                        recall_at=(3,))
    train, test = protocol.split(X, seed=1)
    model = PopularityRecommender().fit(train)
    scores = protocol.evaluate(model, train, test)
    # By hand: each user's held-out items by popularity; graded gain (the rating).
    counts = (train.toarray() != 0).sum(axis=0)
    discounts = 1 / np.log2(np.arange(2, 5))
    ndcgs = []
    for user in range(X.shape[0]):
        row = test[user].toarray().ravel()
        gains = np.where(row > 3, row, 0.0)
        if not gains.any():
            continue
        held = np.flatnonzero(row)
        ranked = held[np.lexsort((held, -counts[held]))][:3]
        dcg = (gains[ranked] * discounts[:len(ranked)]).sum()
        ideal = np.sort(gains)[::-1][:3]
        ndcgs.append(dcg / (ideal * discounts[:len(ideal)]).sum())
    assert scores["NDCG@3"] == pytest.approx(np.mean(ndcgs))


def test_protocol_adds_tie_aware_scores_for_binary_codes(planted, quick_model):
    X = planted[0]
    protocol = Protocol(ndcg_at=(10,), recall_at=(10,))
    train, test = protocol.split(X, seed=0)
    binary = protocol.fit_and_evaluate(quick_model("CCSR"), train, test)
    assert {"tie-aware NDCG@10", "tie-aware Recall@10", "fit_seconds"} <= set(binary)
    continuous = protocol.evaluate(quick_model("CCSR", binarize=None).fit(train), train, test)
    assert "tie-aware NDCG@10" not in continuous
    with pytest.raises(ValueError, match="candidates"):
        Protocol(candidates="some")


def test_plan_runs_longest_codes_first_and_code_free_models_once():
    runs = plan_runs([("Top", None), ("CCSR", "sign")], bits=[10, 40], seeds=[0, 1])
    assert [(r.name, r.n_bits, r.seed) for r in runs] == [
        ("Top", 40, 0), ("CCSR-S", 40, 0), ("CCSR-S", 10, 0),
        ("Top", 40, 1), ("CCSR-S", 40, 1), ("CCSR-S", 10, 1)]


def test_run_grid_scores_each_run_under_its_seed(planted, popularity_ndcg):
    X = planted[0]
    protocol = Protocol(relevance_threshold=3.0, ndcg_at=(10,), recall_at=(10,))
    seen = []
    rows = run_grid(X, protocol, plan_runs([("Top", None), ("CF", "sign")], [4], [0, 2]),
                    params=lambda run: {"max_epochs": 1} if run.family == "CF" else {},
                    on_result=lambda rows: seen.append(len(rows)))
    assert seen == [1, 2, 3, 4]
    assert [(r["model"], r["seed"]) for r in rows] == [
        ("Top", 0), ("CF-S", 0), ("Top", 2), ("CF-S", 2)]
    for row in rows[::2]:
        train, test = train_test_split_interactions(X, 0.2, random_state=row["seed"])
        assert row["NDCG@10"] == pytest.approx(popularity_ndcg(train, test, 10, 3.0))


def runs_csv(path, rows):
    """A CSV as earlier releases wrote it (written by hand, not by write_runs)."""
    with open(path, "w", newline="") as handle:
        handle.write("model,n_bits,seed,NDCG@10\n")
        handle.writelines(f"{m},{b},{s},{v}\n" for m, b, s, v in rows)


def test_read_runs_merges_files_and_renames_old_names(tmp_path):
    runs_csv(tmp_path / "a.csv", [("CF", 10, 0, 0.1), ("CCSR-S", 10, 0, 0.2)])
    runs_csv(tmp_path / "b.csv", [("CF-S", 10, 0, 0.3), ("CCSR-S", 10, 1, 0.4)])
    rows = read_runs([tmp_path / "a.csv", tmp_path / "b.csv"])
    by_key = {(r["model"], r["seed"]): float(r["NDCG@10"]) for r in rows}
    assert by_key == {("CF-S", "0"): 0.3, ("CCSR-S", "0"): 0.2, ("CCSR-S", "1"): 0.4}


def test_aggregate_counts_code_free_models_once_per_seed():
    rows = [{"model": "Top", "n_bits": 40, "seed": 0, "NDCG@10": 0.1},
            {"model": "Top", "n_bits": 10, "seed": 0, "NDCG@10": 0.1},
            {"model": "Top", "n_bits": 40, "seed": 1, "NDCG@10": 0.3},
            {"model": "CCSR-S", "n_bits": 40, "seed": 0, "NDCG@10": 0.5},
            {"model": "CCSR-S", "n_bits": 40, "seed": 1, "NDCG@10": 0.7}]
    agg = aggregate_over_seeds(rows, "NDCG@10", [10, 40])
    assert agg[("Top", 10)] == agg[("Top", 40)] == (pytest.approx(0.2), pytest.approx(0.1), 2)
    assert agg[("CCSR-S", 40)] == (pytest.approx(0.6), pytest.approx(np.std([0.5, 0.7])), 2)
    assert ("CCSR-S", 10) not in agg


def test_reports_write_read_table_and_plot(tmp_path):
    rows = [{"model": "Top", "n_bits": 20, "seed": s, "NDCG@10": v, "fit_seconds": 0.5}
            for s, v in [(0, 0.1), (1, 0.2)]]
    rows += [{"model": "CCSR-S", "n_bits": b, "seed": 0, "NDCG@10": 0.3 + b / 100,
              "fit_seconds": 12.0} for b in (10, 20)]
    write_runs(tmp_path / "runs.csv", rows)
    back = read_runs(tmp_path / "runs.csv")
    assert [(r["model"], r["n_bits"]) for r in back] == [
        ("Top", "20"), ("Top", "20"), ("CCSR-S", "10"), ("CCSR-S", "20")]
    table = markdown_table(back, [10, 20], "title", ["NDCG@10", "fit_seconds"])
    assert "| Top | 0.1500 +- 0.0500 | 0.1500 +- 0.0500 |" in table
    assert "| CCSR-S | 0.4000 +- 0.0000 | 0.5000 +- 0.0000 |" in table
    assert "| CCSR-S | 12 | 12 |" in table
    plot_by_code_length(back, [10, 20], tmp_path / "plot.png", "title")
    assert (tmp_path / "plot.png").stat().st_size > 5_000


def test_protocol_is_a_value_object():
    base = Protocol()
    changed = base.with_options(relevance_threshold=3.0)
    assert base.relevance_threshold == 0.0 and changed.relevance_threshold == 3.0
    assert changed == Protocol(relevance_threshold=3.0)
    assert sp.issparse(Protocol().split(np.eye(5, 4), seed=0)[0])


def test_a_published_split_is_used_whatever_the_seed(data_home):
    from sklearn_hashrec.datasets import DatasetNotFoundError
    from sklearn_hashrec.experiments import load_dataset

    try:
        bunch, protocol = load_dataset("gowalla", data_home)
    except DatasetNotFoundError as exc:
        pytest.skip(f"dataset not in the data home: {exc}")
    train, test = protocol.split(bunch.data, seed=3)
    assert (test != bunch.test).nnz == 0
    assert (train != (bunch.train + bunch.valid)).nnz == 0 and train.multiply(test).nnz == 0
    assert protocol.ndcg_at == (10, 20) and protocol.relevance_threshold == 0.0
    with pytest.raises(ValueError, match="published split"):
        load_dataset("gowalla", data_home, min_interactions=5)


def test_every_learning_family_gets_the_same_tuning_budget():
    from sklearn.model_selection import ParameterGrid

    from sklearn_hashrec.experiments import TUNING_BUDGET

    for spec in MODELS.values():
        grid = spec.tuning_grid
        if spec.family in ("Random", "Top"):
            assert grid == {}
            continue
        assert len(ParameterGrid(grid)) == TUNING_BUDGET, spec.family
        assert set(grid) <= set(spec.estimator().get_params()), spec.family
        # The defaults are one of the points, so tuning can only keep or beat them.
        defaults = spec.estimator().get_params()
        assert any(all(defaults[k] == v for k, v in point.items())
                   for point in ParameterGrid(grid)), spec.family


@pytest.mark.parametrize("dataset", ["ml-1m", "amazon"])
def test_paper_recipes_name_real_parameters_and_the_papers_values(dataset):
    for spec in MODELS.values():
        if spec.paper_recipe is None:
            continue
        for n_bits in (5, 10, 20, 40):
            recipe = spec.paper_recipe(n_bits, dataset)
            spec.estimator().set_params(**recipe)  # raises on an unknown name
            if "dropout" in recipe:  # section 5.2: 0.6 up to 20 bits, 0.8 at 40
                assert recipe["dropout"] == (0.8 if n_bits == 40 else 0.6)
            if "lambda_ae" in recipe:  # 0.1 on MovieLens-1M, 10 on Amazon
                assert recipe["lambda_ae"] == (0.1 if dataset == "ml-1m" else 10.0)
    assert MODELS["DJSRH"].paper_recipe(40, dataset) == {"affinity": "shifted"}


def _ease_validation_ndcg(fit_part, validation, l2, k, threshold):
    """EASE's NDCG@k on validation data, computed apart from the package (numpy, sklearn)."""
    from sklearn.metrics import ndcg_score

    X = (fit_part.toarray() != 0).astype(float)
    P = np.linalg.inv(X.T @ X + l2 * np.eye(X.shape[1]))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    scores = X @ B
    scores[X != 0] = -np.inf
    scores = np.maximum(scores, -1e9)
    truth = (validation.toarray() > threshold).astype(float)
    keep = truth.sum(axis=1) > 0
    return ndcg_score(truth[keep], scores[keep], k=k)


def test_tuning_picks_the_best_point_on_a_validation_split_of_train(planted):
    from sklearn_hashrec import EASE
    from sklearn_hashrec.experiments import tune_estimator

    X = planted[0]
    protocol = Protocol(relevance_threshold=3.0)
    train, test = protocol.split(X, seed=0)
    grid = [0.5, 50.0, 5000.0]
    best, score = tune_estimator(EASE(), {"l2_reg": grid}, train, protocol, seed=4, k=5)
    fit_part, validation = train_test_split_interactions(train, 0.2, random_state=4)
    expected = [_ease_validation_ndcg(fit_part, validation, l2, 5, 3.0) for l2 in grid]
    assert len(set(np.round(expected, 6))) == 3  # the points are told apart
    assert best == {"l2_reg": grid[int(np.argmax(expected))]}
    assert score == pytest.approx(max(expected), rel=1e-6)
    # Nothing to search: no fit at all.
    assert tune_estimator(PopularityRecommender(), {}, train, protocol, seed=0) == ({}, None)


def test_run_grid_settings_tuned_and_paper(planted):
    X = planted[0]
    protocol = Protocol(relevance_threshold=3.0, ndcg_at=(10,), recall_at=(10,))
    runs = plan_runs([("Top", None), ("CF", "sign")], [4], [0])
    quick = lambda run: {"max_epochs": 1} if run.family == "CF" else {}  # noqa: E731
    tuned = run_grid(X, protocol, runs, params=quick, setting="tuned")
    assert tuned[0]["params"] == "{}" and tuned[0]["validation NDCG@10"] == ""
    chosen = json.loads(tuned[1]["params"])
    assert set(chosen) == set(MODELS["CF"].tuning_grid)
    # The tuned row is the refit of the chosen point on the whole training part.
    train, test = protocol.split(X, 0)
    refit = build_estimator("CF", "sign", n_bits=4, random_state=0,
                            params={"max_epochs": 1, **chosen})
    assert tuned[1]["NDCG@10"] == pytest.approx(
        protocol.fit_and_evaluate(refit, train, test)["NDCG@10"])
    paper = run_grid(X, protocol, runs[1:], params=quick, setting="paper", dataset="ml-1m")
    recipe = build_estimator("CF", "sign", n_bits=4, random_state=0,
                             params={"max_epochs": 1, "unobserved_weight": 0.0})
    assert paper[0]["NDCG@10"] == pytest.approx(
        protocol.fit_and_evaluate(recipe, train, test)["NDCG@10"])
    with pytest.raises(ValueError, match="setting"):
        run_grid(X, protocol, runs, setting="best")


def test_plots_without_matplotlib_say_how_to_get_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    rows = [{"model": "CCSR-S", "n_bits": 8, "seed": 0, "NDCG@10": 0.2}]
    with pytest.raises(ImportError, match=r"sklearn-hashrec\[plot\]"):
        plot_by_code_length(rows, [8], tmp_path / "x.png", "title")
