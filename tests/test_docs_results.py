"""The result tables in docs/ are regenerated from the committed CSVs, not typed in."""

import importlib.util
from pathlib import Path

from sklearn_hashrec.experiments import read_runs

REPO = Path(__file__).resolve().parents[1]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quality_tables_match_their_csv():
    quality = load_script("quality")
    doc = (REPO / "docs" / "quality.md").read_text()
    table = quality.report(read_runs(REPO / "docs" / "results" / "quality-ml-1m.csv"))
    assert table in doc
