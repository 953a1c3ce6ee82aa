"""The result tables in docs/ are regenerated from the committed CSVs, not typed in."""

import importlib.util
import json
from pathlib import Path

import pytest

from sklearn_hashrec.experiments import read_runs

REPO = Path(__file__).resolve().parents[1]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dataset", ["ml-1m", "gowalla"])
def test_quality_tables_match_their_csv(dataset):
    quality = load_script("quality")
    doc = (REPO / "docs" / "quality.md").read_text()
    table = quality.report(read_runs(REPO / "docs" / "results" / f"quality-{dataset}.csv"))
    assert table in doc


def test_reproduction_page_is_regenerated_from_the_committed_runs():
    page = load_script("reproduction_doc").render()
    assert page == (REPO / "docs" / "reproduction.md").read_text(), (
        "docs/reproduction.md is out of date: run python benchmarks/reproduction_doc.py")


def test_reproduction_page_sections_from_runs(tmp_path):
    from sklearn_hashrec.experiments import write_runs

    doc = load_script("reproduction_doc")
    write_runs(tmp_path / "ml-1m-defaults.csv", [
        {"model": m, "n_bits": 40, "seed": s, "NDCG@10": v, "Recall@6": v / 2,
         "fit_seconds": 10.0 * (s + 1)}
        for m, s, v in [("Random", 0, 0.01), ("Random", 1, 0.01), ("Top", 0, 0.2),
                        ("Top", 1, 0.2), ("CCSR-S", 0, 0.3), ("CCSR-S", 1, 0.5),
                        ("CCSR-SST", 0, 0.1), ("CCSR-SST", 1, 0.1)]])
    page = doc.render("{{ tables ml-1m defaults }}\n{{ learned ml-1m defaults }}\n"
                      "{{ tables ml-1m tuned }}", results=tmp_path)
    assert "| CCSR-S | 0.4000 +- 0.1000 | 0.7897 |" in page  # mean +- std, the paper beside
    assert "| CCSR-S | 15 |" in page  # mean fit seconds
    assert "| CCSR | CCSR-S | 0.4000 | 40.0 | above (+0.2000) |" in page
    assert "--bits 40 --seeds 2 --out results" in page  # the command that ran them
    assert "Not run yet" in page and "--tune" in page
    with pytest.raises(ValueError, match="directive"):
        doc.render("{{ nonsense }}", results=tmp_path)


def test_sparse_points_are_the_validation_best_and_the_table_is_regenerated(monkeypatch):
    # The parameters of docs/quality.md's sparse tables were chosen on validation
    # data carved from the training part (docs/results/sparse-selection.csv).
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    selection, quality = load_script("sparse_selection"), load_script("sparse_quality")
    best = selection.best_points(selection.read_rows(
        REPO / "docs" / "results" / "sparse-selection.csv"))
    for dataset, chosen in quality.CHOSEN.items():
        for model, params in chosen.items():
            assert json.loads(best[(dataset, model)][2]) == params, (dataset, model)
    table = quality.report(selection.read_rows(REPO / "docs" / "results" / "quality-sparse.csv"))
    assert table in (REPO / "docs" / "quality.md").read_text()
