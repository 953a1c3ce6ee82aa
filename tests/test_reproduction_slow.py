"""Slow reproductions on real data, outside the default run: ``pytest -m slow``."""

import csv

import pytest

from sklearn_hashrec.cli import main


@pytest.mark.slow
def test_ccsr_beats_mf_models_at_40_bits_on_movielens_1m(tmp_path, movielens_1m, data_home):
    """The paper's Q1 at 40 bits: CCSR-S above CF and CFCodeReg (a few minutes)."""
    assert main(["reproduce", "--dataset", "ml-1m", "--bits", "40", "--seeds", "1",
                 "--models", "CF", "CFCodeReg", "CCSR", "--data-home", str(data_home),
                 "--out", str(tmp_path), "--no-progress"]) == 0
    ndcg = {row["model"]: float(row["NDCG@10"])
            for row in csv.DictReader(open(tmp_path / "ml-1m.csv"))}
    assert ndcg["CCSR-S"] > max(ndcg["CF-S"], ndcg["CFCodeReg-S"])
    assert ndcg["CCSR-ST"] > ndcg["CCSR-SST"]  # SST loses against ST
