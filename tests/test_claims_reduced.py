"""The paper's claims, reduced for CI: MovieLens-100k, 40 bits, seed 0 (a few minutes).

The orderings asserted here are the ones that hold in every seed of the full
run committed in docs/results/reproduction/ml-100k-defaults.csv (checked by
the last test, so an assertion cannot outlive the run it summarises). The full
reproduction on MovieLens-1M stays behind ``-m slow``
(tests/test_reproduction_slow.py).
"""

import csv
from pathlib import Path

import pytest

from sklearn_hashrec.cli import main
from sklearn_hashrec.experiments import read_runs

COMMITTED = (Path(__file__).resolve().parents[1] / "docs" / "results" / "reproduction"
             / "ml-100k-defaults.csv")
MODELS_RUN = ["Random", "Top", "CF", "CFCodeReg", "AECF-S", "DJSRH", "CCSR-S", "CCSR-ST",
              "CCSR-SST"]
# (better, worse): the paper's claims as they hold in every seed of the full run.
ORDERINGS = [
    ("CCSR-S", "CF-S"), ("CCSR-S", "CFCodeReg-S"), ("CCSR-S", "AECF-S"),  # Q1 at 40 bits
    ("CCSR-ST", "CCSR-SST"), ("DJSRH-ST", "DJSRH-SST"),  # Q2: SST loses against ST
]


@pytest.fixture(scope="module")
def reduced_run(tmp_path_factory, movielens_100k, data_home):
    out = tmp_path_factory.mktemp("claims")
    assert main(["reproduce", "--dataset", "ml-100k", "--bits", "40", "--seeds", "1",
                 "--models", *MODELS_RUN, "--data-home", str(data_home), "--out", str(out),
                 "--no-progress"]) == 0
    return {row["model"]: float(row["NDCG@10"])
            for row in csv.DictReader(open(out / "ml-100k.csv"))}


def committed_seeds():
    by_seed = {}
    for row in read_runs(COMMITTED):
        if int(row["n_bits"]) == 40 or row["model"] in ("Random", "Top"):
            by_seed.setdefault(int(row["seed"]), {})[row["model"]] = float(row["NDCG@10"])
    return by_seed


def test_every_learned_family_beats_random_tenfold(reduced_run):
    random = reduced_run["Random"]
    for family in ("CF", "CFCodeReg", "AECF", "DJSRH", "CCSR"):
        best = max(v for name, v in reduced_run.items() if name.startswith(family + "-"))
        assert best > 10 * random, (family, best, random)


@pytest.mark.parametrize(("better", "worse"), ORDERINGS)
def test_the_papers_orderings(reduced_run, better, worse):
    assert reduced_run[better] > reduced_run[worse]


def test_the_asserted_orderings_hold_in_every_seed_of_the_committed_run():
    seeds = committed_seeds()
    assert len(seeds) == 3
    for scores in seeds.values():
        for better, worse in ORDERINGS:
            assert scores[better] > scores[worse], (better, worse, scores)


def test_the_reduced_run_is_the_committed_seed_0(reduced_run):
    # The docs' numbers come from this release: a model change that moves a
    # score means docs/results/reproduction/ must be rerun (its commands are in
    # docs/reproduction.md). MKL's sums may differ by memory alignment across
    # processes, so a neural model can move by a few thousandths.
    committed = committed_seeds()[0]
    for name, value in reduced_run.items():
        assert value == pytest.approx(committed[name], abs=0.01), name
