"""benchmarks/paper_comparison.py decides the paper's claims from reproduction CSVs.

Merging and aggregating the CSVs is experiments.reports' work (tests/test_experiments.py).
"""

import importlib.util
from pathlib import Path

import pytest

from sklearn_hashrec.experiments import write_runs

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "paper_comparison.py"


@pytest.fixture(scope="module")
def comparison():
    spec = importlib.util.spec_from_file_location("paper_comparison", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path, rows):
    write_runs(path, [{"model": m, "n_bits": b, "seed": s, "NDCG@10": v}
                      for m, b, s, v in rows])


def test_claims_from_merged_csvs(tmp_path, comparison):
    # Seed 0 in one file, seeds 1-2 in another, as --first-seed runs write them.
    write(tmp_path / "a.csv", [
        ("CCSR-S", 20, 0, 0.30), ("CF", 20, 0, 0.10), ("CFCodeReg", 20, 0, 0.20),
        ("AECF-S", 20, 0, 0.05), ("CCSR-S", 40, 0, 0.40), ("CF", 40, 0, 0.50),
        ("CFCodeReg", 40, 0, 0.10), ("AECF-S", 40, 0, 0.01),
        ("CCSR-ST", 40, 0, 0.40), ("CCSR-SST", 40, 0, 0.30),
        ("AECF-ST", 40, 0, 0.20), ("AECF-SST", 40, 0, 0.199),
    ])
    write(tmp_path / "b.csv", [
        ("CCSR-S", 20, 1, 0.20), ("CF", 20, 1, 0.25), ("CFCodeReg", 20, 1, 0.10),
        ("CCSR-S", 20, 2, 0.40), ("CF", 20, 2, 0.15), ("CFCodeReg", 20, 2, 0.30),
    ])
    rows = comparison.read_runs([tmp_path / "a.csv", tmp_path / "b.csv"])
    # Means: CCSR-S 0.30, CF 0.1667, CFCodeReg 0.20 at 20 bits (AECF-S seed 0 only).
    mean, std, n = comparison.aggregate(rows, "NDCG@10")[("CCSR-S", 20)]
    assert (mean, n) == (pytest.approx(0.30), 3)
    assert std == pytest.approx(0.0816, abs=1e-4)
    text = comparison.claims(rows)
    # 20 bits holds on the means; 40 bits does not (CF 0.50 > CCSR-S 0.40).
    assert "no at 40 bits" in text
    # Seed by seed at 20 bits: CCSR-S beats CF in seeds 0 and 2, CFCodeReg in all three
    # (the CSVs' old names CF and CFCodeReg are read as CF-S and CFCodeReg-S).
    assert "seeds won: CF-S 2/3, CFCodeReg-S 3/3)" in text
    # SST vs ST: CCSR drops 25% (counts), AECF 0.5% (does not).
    assert "1 of 2 cases" in text


def test_the_first_claim_is_judged_again_on_tie_aware_scores(comparison):
    # A collapsed baseline can beat CCSR-S through the index tie-break and
    # lose once ties are ordered at random: the tie-aware row says so.
    rows = [{"model": m, "n_bits": 10, "seed": 0, "NDCG@10": index, "tie-aware NDCG@10": tie}
            for m, index, tie in [("CCSR-S", 0.25, 0.18), ("CF-S", 0.26, 0.13),
                                  ("CFCodeReg-S", 0.31, 0.12), ("AECF-S", 0.32, 0.15)]]
    text = comparison.claims(rows)
    first, tie_aware = [line for line in text.splitlines() if "CCSR-S 0." in line]
    assert "no at 10 bits" in first
    assert "tie-aware" in tie_aware and "CCSR-S 0.1800 vs CF-S 0.1300" in tie_aware
    assert tie_aware.endswith("| yes (code lengths run: 10) |")
    # Without tie-aware scores (older runs) only the first row is there.
    for row in rows:
        del row["tie-aware NDCG@10"]
    assert "tie-aware" not in comparison.claims(rows)
