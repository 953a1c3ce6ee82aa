"""The paper's claims, reduced for CI: MovieLens-100k, 40 bits, seed 0 (a few minutes).

The orderings asserted here are the ones that hold in every seed of the full run committed
in docs/results/reproduction/ml-100k-defaults.csv, at every code length from the
shortest stated for each (checked by the last test, so an assertion cannot outlive the run
it summarises). The full reproduction on MovieLens-1M stays behind ``-m slow``
(tests/test_reproduction_slow.py).
"""

import csv
from pathlib import Path

import pytest
import torch

from sklearn_hashrec.cli import main
from sklearn_hashrec.experiments import read_runs

COMMITTED = (Path(__file__).resolve().parents[1] / "docs" / "results" / "reproduction"
             / "ml-100k-defaults.csv")
MODELS_RUN = ["Random", "Top", "CF", "CFCodeReg", "AECF-S", "DJSRH", "CCSR-S", "CCSR-ST",
              "CCSR-SST"]
# (better, worse, shortest code length): the paper's claims as they hold in every seed of
# the full run (5, 10, 20 and 40 bits) from that length on. At 5 bits CCSR-S loses to
# CFCodeReg-S or AECF-S in 2 of 3 seeds, so Q1 is asserted from 10 bits.
ORDERINGS = [
    ("CCSR-S", "CF-S", 5), ("CCSR-S", "CFCodeReg-S", 10), ("CCSR-S", "AECF-S", 10),  # Q1
    ("CCSR-ST", "CCSR-SST", 5), ("DJSRH-ST", "DJSRH-SST", 5),  # Q2: SST loses against ST
]


@pytest.fixture(scope="module")
def reduced_run(tmp_path_factory, movielens_100k, data_home):
    out = tmp_path_factory.mktemp("claims")
    # One torch thread: a seeded fit is reproducible at a fixed thread count,
    # and the committed runs' processes were started with one (most of their
    # fits then ran on two, the bug _parallel.py fixes; the scores stayed
    # within the tolerance below).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["reproduce", "--dataset", "ml-100k", "--bits", "40", "--seeds", "1",
                     "--models", *MODELS_RUN, "--data-home", str(data_home), "--out",
                     str(out), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)
    return {row["model"]: float(row["NDCG@10"])
            for row in csv.DictReader(open(out / "ml-100k.csv"))}


def committed_runs():
    """NDCG@10 of the committed run, by (code length, seed) and model."""
    rows = read_runs(COMMITTED)
    lengths = sorted({int(row["n_bits"]) for row in rows if row["model"] not in ("Random", "Top")})
    by_run = {}
    for row in rows:
        # Random and Top have no code length: one of their rows serves every length.
        for n_bits in lengths if row["model"] in ("Random", "Top") else [int(row["n_bits"])]:
            by_run.setdefault((n_bits, int(row["seed"])), {})[row["model"]] = float(
                row["NDCG@10"])
    return by_run


@pytest.mark.integration
def test_every_learned_family_beats_random_tenfold(reduced_run):
    random = reduced_run["Random"]
    for family in ("CF", "CFCodeReg", "AECF", "DJSRH", "CCSR"):
        best = max(v for name, v in reduced_run.items() if name.startswith(family + "-"))
        assert best > 10 * random, (family, best, random)


@pytest.mark.integration
@pytest.mark.parametrize(("better", "worse", "from_bits"), ORDERINGS)
def test_the_papers_orderings(reduced_run, better, worse, from_bits):
    assert reduced_run[better] > reduced_run[worse]


def test_the_asserted_orderings_hold_in_every_seed_of_the_committed_run():
    runs = committed_runs()
    assert sorted(runs) == [(bits, seed) for bits in (5, 10, 20, 40) for seed in (0, 1, 2)]
    for (bits, seed), scores in runs.items():
        for better, worse, from_bits in ORDERINGS:
            if bits >= from_bits:
                assert scores[better] > scores[worse], (bits, seed, better, worse, scores)
    # The shortest length of each ordering is as short as the committed run allows.
    for better, worse, from_bits in ORDERINGS:
        shorter = [bits for bits in (5, 10, 20) if bits < from_bits]
        if shorter:
            assert any(scores[better] <= scores[worse] for (bits, _), scores in runs.items()
                       if bits == shorter[-1]), (better, worse)


@pytest.mark.integration
def test_the_reduced_run_is_the_committed_seed_0(reduced_run):
    # The docs' numbers come from this release: a model change that moves a
    # score means docs/results/reproduction/ must be rerun (its commands are in
    # docs/reproduction.md). Another thread count (see reduced_run) or MKL's
    # sums in another memory alignment move a neural model by a few thousandths.
    committed = committed_runs()[(40, 0)]
    for name, value in reduced_run.items():
        assert value == pytest.approx(committed[name], abs=0.01), name
