"""One diagnostic fit of a baseline: its scores, and whether its codes collapsed.

Fits ``family`` (a registry name: CF, CFCodeReg, AECF, DJSRH, CCSR) with
``--params`` over its defaults on a dataset's protocol (seed ``--seed``),
and appends one JSON line to ``--out``: NDCG@10 with the index tie-break and
tie-aware, the mean absolute mean of a code bit over users and over items (1:
every user has the same bit), and the number of distinct user and item codes.
A model whose codes collapse to a few patterns ranks ties by item index, which
can look like popularity where the item order follows it; the tie-aware
score does not. docs/reproduction.md's diagnosis table reads the lines.

With ``--thresholds`` the model is fitted continuous (``binarize=None``)
instead, and the line holds the continuous model's NDCG@10 beside the
tie-aware NDCG@10 of the codes that four thresholds make of its features: the
sign, each row's median (CFCodeReg's rule), each bit's median over the side's
rows, and each bit's mean. If the continuous model ranks no better than
popularity, no threshold of its features can rescue the binary one.

With ``--probe`` (AECF only) AECF-S trains on a changed loss, for the
diagnosis only (the package keeps none of them): ``balance`` adds CCSR's
balance penalty, the squared per-bit mean over the batch, on the features or
on the straight-through codes (``balance_on``); ``agreement`` maps the codes'
inner product onto ratings as ``R_max (1/2 + <b_u, b_i> / 2r)`` (``"offset"``,
AECF's own), ``R_max <b_u, b_i> / r`` (``"range"``) or ``<b_u, b_i>``
(``"unit"``), so that an unobserved entry asks for opposite or for orthogonal
codes.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/diagnose_baseline.py \\
        --dataset amazon --min-interactions 20 --model AECF --params '{"input": "binary"}' \\
        --out docs/results/baseline-diagnosis.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from sklearn_hashrec import AECF
from sklearn_hashrec.binarization import straight_through_sign
from sklearn_hashrec.experiments import build_estimator, load_dataset
from sklearn_hashrec.metrics import tie_aware_ndcg_at_k
from sklearn_hashrec.nn import encode_batch, reconstruction_loss, squared_error

THRESHOLDS = {
    "sign": lambda f: 0.0,
    "row median": lambda f: np.median(f, axis=1, keepdims=True),
    "bit median": lambda f: np.median(f, axis=0),
    "bit mean": lambda f: f.mean(axis=0),
}


def aecf_probe(balance=0.0, balance_on="features", agreement="offset"):
    """AECF whose sign variant trains on a changed loss (see the module docstring)."""

    class AECFProbe(AECF):
        def _batch_loss(self, networks, batch):
            if not self._codes_in_loss():
                raise ValueError("the probes change AECF-S's loss: binarize='sign' only")
            x_users, f_users, x_items, f_items = encode_batch(networks, batch)
            codes_users = straight_through_sign(f_users)
            codes_items = straight_through_sign(f_items)
            agree = codes_users @ codes_items.T
            _, high = networks["rating_range"].bounds()
            pred = {"offset": lambda: high * (0.5 + agree / (2 * self.n_bits)),
                    "range": lambda: high * agree / self.n_bits,
                    "unit": lambda: agree}[agreement]()
            squared, n_observed = squared_error(pred, batch.block, self.unobserved_weight)
            loss = squared / n_observed + self.lambda_ae * reconstruction_loss(
                networks, x_users, f_users, x_items, f_items)
            sides = (f_users, f_items) if balance_on == "features" else (codes_users, codes_items)
            return loss + balance * sum(side.mean(0).pow(2).sum() for side in sides)

    return AECFProbe


def _fit_on_split(model, dataset, seed, min_interactions):
    """Fit ``model`` on the seed's training part: the protocol, the split and the seconds."""
    data, protocol = load_dataset(dataset, min_interactions=min_interactions)
    train, test = protocol.split(data.data, seed)
    start = time.perf_counter()
    model.fit(train)
    return protocol, train, test, time.perf_counter() - start


def _row_head(dataset, min_interactions, family, params, seed, fit):
    return {"ds": dataset + (f" ({min_interactions}-core)" if min_interactions else ""),
            "model": family, "kw": json.dumps(params), "seed": seed, "fit": round(fit, 1)}


def diagnose(dataset, family, params, *, seed=0, n_bits=40, min_interactions=0, probe=None):
    """The JSON-ready row of one fit (see the module docstring)."""
    if probe is None:
        model = build_estimator(family, n_bits=n_bits, random_state=seed, params=params)
    elif family == "AECF":
        model = aecf_probe(**probe)(n_bits, random_state=seed, **params)
    else:
        raise ValueError("--probe changes AECF's loss; it needs --model AECF")
    protocol, train, test, fit = _fit_on_split(model, dataset, seed, min_interactions)
    scores = protocol.evaluate(model, train, test)
    users, items = model.user_codes_, model.item_codes_
    return {**_row_head(dataset, min_interactions, family, params, seed, fit),
            **({"probe": json.dumps(probe)} if probe is not None else {}),
            **{name: round(scores[name], 4) for name in
               ("NDCG@10", "Recall@10", "tie-aware NDCG@10", "tie-aware Recall@10")},
            "user bit mean |.|": round(float(np.abs(users.mean(axis=0)).mean()), 3),
            "item bit mean |.|": round(float(np.abs(items.mean(axis=0)).mean()), 3),
            "distinct user codes": len(np.unique(users, axis=0)),
            "distinct item codes": len(np.unique(items, axis=0)),
            "n_users": int(train.shape[0]), "n_items": int(train.shape[1])}


def diagnose_thresholds(dataset, family, params, *, seed=0, n_bits=40, min_interactions=0):
    """The continuous fit's NDCG@10 and its thresholded codes' tie-aware NDCG@10."""
    model = build_estimator(family, n_bits=n_bits, random_state=seed,
                            params={**params, "binarize": None})
    protocol, train, test, fit = _fit_on_split(model, dataset, seed, min_interactions)
    relevant = (test > protocol.relevance_threshold).astype(np.float64)
    sides = [np.asarray(model.user_codes_, dtype=np.float64),
             np.asarray(model.item_codes_, dtype=np.float64)]
    tie_aware = {}
    for name, threshold in THRESHOLDS.items():
        users, items = (np.where(f >= threshold(f), 1, -1).astype(np.int8) for f in sides)
        tie_aware[f"tie-aware NDCG@10, {name}"] = round(
            tie_aware_ndcg_at_k(relevant, users, items, 10, exclude=train), 4)
    return {**_row_head(dataset, min_interactions, family, params, seed, fit),
            "thresholds": True,
            "continuous NDCG@10": round(protocol.evaluate(model, train, test)["NDCG@10"], 4),
            **tie_aware}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--min-interactions", type=int, default=0)
    parser.add_argument("--model", required=True, help="a family of the registry")
    parser.add_argument("--params", default="{}", help="parameters over the defaults, JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bits", type=int, default=40)
    changes = parser.add_mutually_exclusive_group()
    changes.add_argument("--thresholds", action="store_true",
                         help="fit continuous and score thresholds of its features")
    changes.add_argument("--probe", help="AECF-S's changed loss, JSON (see above)")
    parser.add_argument("--out", help="append the JSON line to this file")
    args = parser.parse_args(argv)
    options = dict(seed=args.seed, n_bits=args.bits, min_interactions=args.min_interactions)
    if args.thresholds:
        row = diagnose_thresholds(args.dataset, args.model, json.loads(args.params), **options)
    else:
        probe = json.loads(args.probe) if args.probe else None
        row = diagnose(args.dataset, args.model, json.loads(args.params), probe=probe,
                       **options)
    line = json.dumps(row)
    print(line)
    if args.out:
        with open(args.out, "a") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
