"""``hashrec``: reproduce the paper's tables, and fit / recommend / evaluate from files.

    hashrec reproduce --dataset ml-1m --bits 5 10 20 40 --seeds 3
    hashrec fit --data ratings.csv --model CCSR --out model.joblib
    hashrec recommend --model model.joblib --k 10 --out recommendations.csv
    hashrec evaluate --dataset ml-1m --model CCSR --params '{"n_bits": 40}'

Also ``python -m sklearn_hashrec``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp

from . import (
    AECF,
    CCSR,
    DJSRH,
    BinaryMF,
    CFCodeReg,
    PopularityRecommender,
    RandomRecommender,
    __version__,
    datasets,
)
from .metrics import ndcg_at_k, recall_at_k, tie_aware_ndcg_at_k, tie_aware_recall_at_k
from .model_selection import train_test_split_interactions

MODELS = {
    "Random": RandomRecommender,
    "Top": PopularityRecommender,
    "CF": BinaryMF,
    "CFCodeReg": CFCodeReg,
    "AECF": AECF,
    "DJSRH": DJSRH,
    "CCSR": CCSR,
}
# The paper's variants of each model (Section 5.2 and Tables 3-6).
VARIANTS = {
    "Random": [None], "Top": [None],
    "CF": ["sign"], "CFCodeReg": ["sign"],
    "AECF": ["sign", "tanh", "sign_tanh", None],
    "DJSRH": ["tanh", "sign_tanh"],
    "CCSR": ["sign", "tanh", "sign_tanh", None],
}
SUFFIX = {"sign": "S", "tanh": "ST", "sign_tanh": "SST", None: "C"}
# Models without a code length: one run serves every column of a table.
CODE_FREE = ("Random", "Top")

# Dataset -> (loader, split protocol, relevance threshold). The paper splits
# MovieLens per user and the sparse sets globally; relevance is rating > 3 on
# explicit data and any interaction on implicit data.
DATASETS = {
    "ml-1m": (lambda home: datasets.load_movielens("1m", data_home=home), True, 3.0),
    "ml-100k": (lambda home: datasets.load_movielens("100k", data_home=home), True, 3.0),
    "amazon": (lambda home: datasets.load_amazon(data_home=home), False, 3.0),
    "gowalla": (lambda home: datasets.load_gowalla(data_home=home), False, 0.0),
    "citeulike": (lambda home: datasets.load_citeulike(data_home=home), False, 0.0),
    "lastfm": (lambda home: datasets.load_lastfm(data_home=home), False, 0.0),
}
K_NDCG = (2, 6, 10)
K_RECALL = (6, 10)


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, file=sys.stderr)


def variant_name(model: str, binarize) -> str:
    if model in CODE_FREE:
        return model
    if model in ("CF", "CFCodeReg"):
        return model
    return f"{model}-{SUFFIX[binarize]}"


def build(model: str, binarize, n_bits: int, seed: int, device: str, quick: bool, params=None):
    cls = MODELS[model]
    kwargs = {}
    if "random_state" in cls().get_params():
        kwargs["random_state"] = seed
    if "n_bits" in cls().get_params():
        kwargs.update(n_bits=n_bits, binarize=binarize, device=device)
        if quick:
            kwargs["max_epochs"] = 2
    kwargs.update(params or {})
    return cls(**kwargs)


def evaluate_model(model, train, test, relevance_threshold, candidates="all", tie_aware=True):
    """NDCG@2/6/10 and Recall@6/10 (and their tie-aware versions) of a fitted model."""
    users = np.arange(train.shape[0])
    relevant = (test > relevance_threshold).astype(np.float64)
    if candidates == "test":
        # Only the user's held-out items are ranked, with graded gain (NeuHash-CF).
        gains = test.multiply(relevant).tocsr()
        ranked = _rank_held_out(model, test, max(K_NDCG + K_RECALL))
        scores = {f"NDCG@{k}": ndcg_at_k(gains, ranked, k, gain="graded") for k in K_NDCG}
        scores.update({f"Recall@{k}": recall_at_k(relevant, ranked, k) for k in K_RECALL})
        return scores
    ranked = model.recommend(users, k=max(K_NDCG + K_RECALL))
    scores = {f"NDCG@{k}": ndcg_at_k(relevant, ranked, k) for k in K_NDCG}
    scores.update({f"Recall@{k}": recall_at_k(relevant, ranked, k) for k in K_RECALL})
    codes = getattr(model, "user_codes_", None)
    if tie_aware and codes is not None and codes.dtype == np.int8:
        scores["tie-aware NDCG@10"] = tie_aware_ndcg_at_k(
            relevant, codes, model.item_codes_, 10, exclude=train)
        scores["tie-aware Recall@10"] = tie_aware_recall_at_k(
            relevant, codes, model.item_codes_, 10, exclude=train)
    return scores


def _rank_held_out(model, test, k, chunk=512):
    """Rank, for each user, only the items of its row of ``test`` (in user batches)."""
    n_users, n_items = test.shape
    out = np.full((n_users, min(k, n_items)), -1, dtype=np.int64)
    for start in range(0, n_users, chunk):
        stop = min(start + chunk, n_users)
        exclude = sp.csr_matrix((test[start:stop] == 0).toarray())
        query = model._users_query(np.arange(start, stop))
        out[start:stop] = model._rank(query, k, exclude, False)
    return out


def _split(X, per_user, seed):
    train, test = train_test_split_interactions(X, 0.2, per_user=per_user, random_state=seed)
    return train.astype(np.float32), test


def cmd_reproduce(args) -> int:
    # Checked before the data is read: a typo fails at once, not after loading.
    variants = _select_variants(args.models)
    loader, per_user, threshold = DATASETS[args.dataset]
    data = loader(args.data_home)
    X = data.data
    if args.min_interactions:
        # The paper's k-core filtering (it uses the 20-core Amazon Books set).
        X, _, _ = datasets.filter_min_interactions(X, args.min_interactions,
                                                   args.min_interactions)
    bits = args.bits or ([10] if args.quick else [5, 10, 20, 40])
    seeds = list(range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds)))
    # Longest codes first: an interrupted run still has whole columns of the table.
    runs = [(m, b, nb, s) for s in seeds for nb in sorted(bits, reverse=True)
            for m, b in variants
            if m not in CODE_FREE or nb == max(bits)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    splits = {s: _split(X, per_user, s) for s in seeds}
    for model_name, binarize, n_bits, seed in _progress(runs, len(runs), "reproduce",
                                                         not args.no_progress):
        train, test = splits[seed]
        model = build(model_name, binarize, n_bits, seed, args.device, args.quick)
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        scores = evaluate_model(model, train, test, threshold, args.candidates)
        rows.append({"model": variant_name(model_name, binarize), "n_bits": n_bits,
                     "seed": seed, "fit_seconds": seconds, **scores})
        # Rewritten after every run, so an interrupted reproduction keeps its results.
        _write_csv(out / f"{args.dataset}.csv", rows)
    table = _markdown_table(rows, bits, args)
    (out / f"{args.dataset}.md").write_text(table)
    _plot(rows, bits, out / f"{args.dataset}.png", args.dataset)
    print(table)
    print(f"wrote {out / (args.dataset + '.md')}, .csv and .png")
    return 0


def _select_variants(names):
    """(model, binarize) pairs for ``--models``: families (``AECF``) or variants (``AECF-ST``)."""
    by_name = {variant_name(m, b): (m, b) for m in MODELS for b in VARIANTS[m]}
    if not names:
        return list(by_name.values())
    chosen = []
    for name in names:
        if name in MODELS:
            picked = [(name, b) for b in VARIANTS[name]]
        elif name in by_name:
            picked = [by_name[name]]
        else:
            raise SystemExit(f"hashrec: unknown model {name!r}; choose a family from "
                             f"{list(MODELS)} or a variant from {list(by_name)}.")
        chosen += [pair for pair in picked if pair not in chosen]
    return chosen


def _write_csv(path, rows):
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def aggregate_over_seeds(rows, metric, bits):
    """``(model, n_bits) -> (mean, std, n_seeds)`` of ``metric`` over the runs' seeds.

    ``rows`` are the runs, as written to (or read back from) the CSV.
    ``CODE_FREE`` models count each seed once, whatever code length a run
    wrote them under, and fill every length in ``bits``.
    """
    groups, code_free = {}, {}
    for row in rows:
        value = row.get(metric)
        if value is None or value == "":
            continue
        if row["model"] in CODE_FREE:
            code_free.setdefault(row["model"], {})[int(row["seed"])] = float(value)
        else:
            groups.setdefault((row["model"], int(row["n_bits"])), []).append(float(value))
    for model, by_seed in code_free.items():
        groups.update({(model, b): list(by_seed.values()) for b in bits})
    return {key: (float(np.mean(v)), float(np.std(v)), len(v)) for key, v in groups.items()}


def _markdown_table(rows, bits, args):
    names = list(dict.fromkeys(row["model"] for row in rows))
    metrics = [f"NDCG@{k}" for k in K_NDCG] + [f"Recall@{k}" for k in K_RECALL]
    if any("tie-aware NDCG@10" in row for row in rows):
        metrics.append("tie-aware NDCG@10")
    metrics.append("fit_seconds")
    seeds = len({row["seed"] for row in rows})
    core = (f" --min-interactions {args.min_interactions}"
            if getattr(args, "min_interactions", 0) else "")
    lines = [f"`hashrec reproduce --dataset {args.dataset}{core}` ({seeds} seed(s), mean +- std;"
             f" candidates: {args.candidates}; sklearn-hashrec {__version__})", ""]
    for metric in metrics:
        agg = aggregate_over_seeds(rows, metric, bits)
        lines.append(f"**{metric}**")
        lines.append("")
        lines.append("| model | " + " | ".join(f"{b} bits" for b in bits) + " |")
        lines.append("|---" * (len(bits) + 1) + "|")
        for name in names:
            cells = []
            for b in bits:
                if (name, b) not in agg:
                    cells.append("")
                    continue
                mean, std, _ = agg[(name, b)]
                cells.append(f"{mean:.4f} +- {std:.4f}" if metric != "fit_seconds"
                             else f"{mean:.0f}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _plot(rows, bits, path, dataset):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate_over_seeds(rows, "NDCG@10", bits)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in dict.fromkeys(row["model"] for row in rows):
        points = sorted((b, m, s) for (n, b), (m, s, _) in agg.items() if n == name)
        if name in CODE_FREE:  # no code length: a reference line
            ax.axhline(points[0][1], linestyle=":", label=name,
                       color="grey" if name == "Random" else "black")
            continue
        x, mean, std = map(np.array, zip(*points, strict=True))
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=name)
    ax.set_xticks(sorted(bits))
    ax.set_xlabel("code length (bits)")
    ax.set_ylabel("NDCG@10")
    ax.set_title(f"NDCG@10 by code length, {dataset}")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _load_data(args):
    if args.data:
        return datasets.load_interactions(args.data, implicit=args.implicit)
    return DATASETS[args.dataset][0](args.data_home)


def cmd_fit(args) -> int:
    data = _load_data(args)
    model = MODELS[args.model](**json.loads(args.params))
    start = time.perf_counter()
    model.fit(data.data)
    joblib.dump({"model": model, "user_ids": data.user_ids, "item_ids": data.item_ids,
                 "seen": data.data, "version": __version__}, args.out)
    print(f"fitted {args.model} on {data.data.shape[0]} users x {data.data.shape[1]} items "
          f"in {time.perf_counter() - start:.1f}s; saved to {args.out}")
    return 0


def cmd_recommend(args) -> int:
    saved = joblib.load(args.model)
    model, user_ids, item_ids = saved["model"], saved["user_ids"], saved["item_ids"]
    users = np.arange(len(user_ids))
    if args.users:
        index = {str(u): i for i, u in enumerate(user_ids)}
        missing = [u for u in args.users if u not in index]
        if missing:
            raise SystemExit(f"hashrec: unknown user id(s) {missing[:5]}.")
        users = np.array([index[u] for u in args.users])
    distances, items = model.recommend(users, k=args.k, return_distance=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "rank", "item_id", "distance"])
        for row, user in enumerate(users):
            for rank in range(items.shape[1]):
                if items[row, rank] >= 0:
                    writer.writerow([user_ids[user], rank + 1, item_ids[items[row, rank]],
                                     f"{distances[row, rank]:g}"])
    print(f"wrote top-{args.k} for {len(users)} users to {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    data = _load_data(args)
    per_user, threshold = (DATASETS[args.dataset][1:] if not args.data
                           else (True, args.relevance_threshold))
    train, test = _split(data.data, per_user, args.seed)
    model = MODELS[args.model](**json.loads(args.params))
    start = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - start
    scores = evaluate_model(model, train, test, threshold, args.candidates)
    for name, value in scores.items():
        print(f"{name}: {value:.4f}")
    print(f"fit seconds: {seconds:.1f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hashrec", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p, dataset_default=None):
        p.add_argument("--dataset", choices=sorted(DATASETS), default=dataset_default)
        p.add_argument("--data", help="your own (user, item[, rating]) CSV/TSV/parquet file")
        p.add_argument("--implicit", action="store_true", help="store 1 for every pair")
        p.add_argument("--data-home", help="data home (default: $SKLEARN_HASHREC_DATA)")

    rep = sub.add_parser("reproduce", help="the paper's tables: every model x binarization")
    rep.add_argument("--dataset", choices=sorted(DATASETS), default="ml-1m")
    rep.add_argument("--data-home")
    rep.add_argument("--bits", type=int, nargs="+", help="code lengths (default 5 10 20 40)")
    rep.add_argument("--seeds", type=int, default=3, help="number of seeds (split and model)")
    rep.add_argument("--first-seed", type=int, default=0,
                     help="seeds are FIRST_SEED, ..., FIRST_SEED + SEEDS - 1, so that more seeds "
                          "can be run later and their CSVs merged")
    rep.add_argument("--models", nargs="+",
                     help=f"families from {list(MODELS)} or single variants such as AECF-ST")
    rep.add_argument("--min-interactions", type=int, default=0, metavar="K",
                     help="keep the K-core: users and items with at least K interactions")
    rep.add_argument("--quick", action="store_true", help="2 epochs, 1 seed, 10 bits")
    rep.add_argument("--candidates", choices=["all", "test"], default="all",
                     help="rank all unseen items, or only the user's held-out items")
    rep.add_argument("--device", default="cpu")
    rep.add_argument("--out", default="results", help="output folder")
    rep.add_argument("--no-progress", action="store_true")
    rep.set_defaults(func=cmd_reproduce)

    fit = sub.add_parser("fit", help="train a model on a ratings file and save it")
    data_options(fit)
    fit.add_argument("--model", choices=list(MODELS), default="CCSR")
    fit.add_argument("--params", default="{}", help="model parameters as JSON")
    fit.add_argument("--out", default="model.joblib")
    fit.set_defaults(func=cmd_fit)

    rec = sub.add_parser("recommend", help="top-k per user from a saved model, as CSV")
    rec.add_argument("--model", required=True, help="file written by hashrec fit")
    rec.add_argument("--k", type=int, default=10)
    rec.add_argument("--users", nargs="+", help="external user ids (default: all)")
    rec.add_argument("--out", default="recommendations.csv")
    rec.set_defaults(func=cmd_recommend)

    ev = sub.add_parser("evaluate", help="fit on an 80/20 split and print the metrics")
    data_options(ev, dataset_default="ml-1m")
    ev.add_argument("--model", choices=list(MODELS), default="CCSR")
    ev.add_argument("--params", default="{}")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--relevance-threshold", type=float, default=0.0,
                    help="for --data files: relevant = held-out value above this")
    ev.add_argument("--candidates", choices=["all", "test"], default="all")
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "fit" and args.data is None and args.dataset is None:
        parser.error("give --dataset or --data")
    try:
        return args.func(args)
    except datasets.DatasetNotFoundError as exc:
        print(f"hashrec: {exc}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, json.JSONDecodeError) as exc:
        print(f"hashrec: {exc}", file=sys.stderr)
        return 2
