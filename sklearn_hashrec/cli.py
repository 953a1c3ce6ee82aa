"""``hashrec``: reproduce the paper's tables, and fit / recommend / evaluate from files.

    hashrec reproduce --dataset ml-1m --bits 5 10 20 40 --seeds 3
    hashrec reproduce --dataset ml-1m --tune          (equal-budget grid search)
    hashrec reproduce --dataset ml-1m --paper-recipe  (the paper's stated values)
    hashrec fit --data ratings.csv --model CCSR --out model.joblib
    hashrec fit --data ratings.csv --checkpoint-dir ckpt   (resumes a killed fit)
    torchrun --nproc-per-node 2 -m sklearn_hashrec fit --data ratings.csv   (data-parallel)
    hashrec recommend --model model.joblib --k 10 --out recommendations.parquet
    hashrec evaluate --dataset ml-1m --model CCSR --params '{"n_bits": 40}'

Also ``python -m sklearn_hashrec``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import joblib
import numpy as np

from . import __version__, datasets
from .experiments import (
    DATASETS,
    MODELS,
    TUNING_BUDGET,
    Protocol,
    all_variant_names,
    build_estimator,
    load_dataset,
    markdown_table,
    plan_runs,
    plot_by_code_length,
    run_grid,
    select_variants,
    write_runs,
)
from .pipeline import RecommenderPipeline, make_recommender_pipeline
from .preprocessing import InteractionEncoder

# The option of `hashrec reproduce` that selects each setting of experiments.SETTINGS.
SETTING_FLAGS = {"defaults": "", "tuned": " --tune", "paper": " --paper-recipe"}


def cmd_reproduce(args) -> int:
    # Checked before the data is read: a typo fails at once, not after loading.
    try:
        variants = select_variants(args.models)
    except ValueError as exc:
        raise SystemExit(f"hashrec: {exc}") from None
    data, protocol = load_dataset(args.dataset, args.data_home,
                                  min_interactions=args.min_interactions)
    protocol = protocol.with_options(candidates=args.candidates)
    bits = args.bits or ([10] if args.quick else [5, 10, 20, 40])
    seeds = list(range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    setting = "tuned" if args.tune else "paper" if args.paper_recipe else "defaults"
    stem = args.dataset + ("" if setting == "defaults" else f"-{setting}")
    csv_path = out / f"{stem}.csv"
    quick = (lambda run: {"max_epochs": 2} if MODELS[run.family].has_codes else {}) \
        if args.quick else None
    rows = run_grid(data.data, protocol, plan_runs(variants, bits, seeds), device=args.device,
                    params=quick, setting=setting, dataset=args.dataset,
                    on_result=lambda rows: write_runs(csv_path, rows),
                    progress=not args.no_progress)
    core = f" --min-interactions {args.min_interactions}" if args.min_interactions else ""
    title = (f"`hashrec reproduce --dataset {args.dataset}{core}{SETTING_FLAGS[setting]}` "
             f"({len(seeds)} seed(s), "
             f"mean +- std; candidates: {args.candidates}; sklearn-hashrec {__version__})")
    metrics = ([f"NDCG@{c}" for c in protocol.ndcg_at]
               + [f"Recall@{c}" for c in protocol.recall_at]
               + (["tie-aware NDCG@10"] if any("tie-aware NDCG@10" in r for r in rows) else [])
               + ["fit_seconds"])
    table = markdown_table(rows, bits, title, metrics)
    (out / f"{stem}.md").write_text(table)
    written = ".csv"
    try:
        plot_by_code_length(rows, bits, out / f"{stem}.png",
                            f"NDCG@10 by code length, {args.dataset} ({setting})")
        written += " and .png"
    except ImportError as exc:
        print(f"hashrec: no plot ({exc})", file=sys.stderr)
    print(table)
    print(f"wrote {out / (stem + '.md')}, {written}")
    return 0


def _load_data(args):
    """``(bunch, protocol)``: the user's file (per-user split) or a named dataset."""
    if args.data:
        bunch = datasets.load_interactions(args.data, implicit=args.implicit)
        return bunch, Protocol(per_user=True,
                               relevance_threshold=getattr(args, "relevance_threshold", 0.0))
    return load_dataset(args.dataset, args.data_home)


def cmd_fit(args) -> int:
    # Here, not at the top: the other commands (and --version) start without torch.
    import torch

    from .training.distributed import init_from_environment, launched_by_torchrun

    data, _ = _load_data(args)
    model = build_estimator(args.model, params=json.loads(args.params))
    if args.checkpoint_dir is not None:
        if "checkpoint_dir" not in model.get_params():
            raise SystemExit(f"hashrec: {args.model} trains in one step and takes no "
                             "--checkpoint-dir; only the torch models (CCSR, AECF, DJSRH, "
                             "CF, CFCodeReg) write checkpoints.")
        model.set_params(checkpoint_dir=args.checkpoint_dir)
    # Under torchrun (WORLD_SIZE > 1) the processes train one model together;
    # rank 0 saves it, as an ordinary estimator that loads in one process.
    # A model without torch is refused before any process joins the group.
    if launched_by_torchrun() and "device" not in model.get_params():
        raise SystemExit(f"hashrec: {args.model} does not train with torch; run it "
                         "without torchrun.")
    group = init_from_environment(model.get_params().get("device", "cpu"))
    if group is not None and str(model.device).startswith("cuda"):
        model.set_params(device=f"cuda:{torch.cuda.current_device()}")
    # The saved file is a RecommenderPipeline that speaks the file's ids: an
    # InteractionEncoder in front of the model, fitted on the same table.
    pipeline = make_recommender_pipeline(InteractionEncoder(0, 1, 2), model)
    start = time.perf_counter()
    pipeline.fit(_interaction_table(data))
    if group is not None and group[0] != 0:
        return 0
    if getattr(model, "resumed_epochs_", 0):
        print(f"resumed from {args.checkpoint_dir} after epoch {model.resumed_epochs_}")
    if group is not None:
        model.set_params(device="cpu")  # the saved model is an ordinary, single-process one
    joblib.dump(pipeline, args.out)
    processes = f" with {group[1]} processes" if group is not None else ""
    print(f"fitted {args.model} on {data.data.shape[0]} users x {data.data.shape[1]} items "
          f"in {time.perf_counter() - start:.1f}s{processes}; saved to {args.out}")
    return 0


def _interaction_table(bunch) -> np.ndarray:
    """``(user id, item id, value)`` rows of a loaded dataset, one per stored entry."""
    matrix = bunch.data.tocoo()
    table = np.empty((matrix.nnz, 3), dtype=object)
    table[:, 0] = np.asarray(bunch.user_ids, dtype=object)[matrix.row]
    table[:, 1] = np.asarray(bunch.item_ids, dtype=object)[matrix.col]
    table[:, 2] = matrix.data
    return table


def _load_pipeline(path):
    """The RecommenderPipeline ``hashrec fit`` saved; files of earlier releases are refused."""
    saved = joblib.load(path)
    if isinstance(saved, dict) and "model" in saved:
        raise SystemExit(f"hashrec: {path} was saved by an earlier release of hashrec fit "
                         "(a dict); fit it again to get a file this release reads.")
    if not isinstance(saved, RecommenderPipeline):
        raise SystemExit(f"hashrec: {path} holds a {type(saved).__name__}, not the "
                         "RecommenderPipeline that hashrec fit saves.")
    return saved


def cmd_recommend(args) -> int:
    from .export import recommend_all

    pipeline = _load_pipeline(args.model)
    user_ids = pipeline.steps[0][1].user_ids_
    users = None
    if args.users:
        # Ids on the command line are text; the file's may be integers.
        by_text = {str(u): u for u in user_ids}
        missing = [u for u in args.users if u not in by_text]
        if missing:
            raise SystemExit(f"hashrec: unknown user id(s) {missing[:5]}.")
        users = np.array([by_text[u] for u in args.users], dtype=user_ids.dtype)
    to_stdout = args.out in (None, "-")
    try:
        report = recommend_all(pipeline, sys.stdout if to_stdout else args.out, k=args.k,
                               users=users, block_size=args.block_size,
                               overwrite=args.overwrite, verbose=int(args.progress))
    except (ValueError, FileExistsError, ImportError) as exc:
        # Writing CSV text into recs.parquet, or over a file of the user's, is refused.
        raise SystemExit(f"hashrec: {str(exc).replace('overwrite=True', '--overwrite')}") \
            from None
    if not to_stdout:
        resumed = (f" ({report.n_blocks - report.blocks_written} of {report.n_blocks} blocks "
                   "were already written)" if report.blocks_written < report.n_blocks else "")
        print(f"wrote top-{args.k} for {report.n_users} users to {args.out} in "
              f"{report.seconds:.1f} s{resumed}", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    data, protocol = _load_data(args)
    protocol = protocol.with_options(candidates=args.candidates)
    if args.k:
        protocol = protocol.with_options(ndcg_at=tuple(args.k), recall_at=tuple(args.k))
    n_items = data.data.shape[1]
    deepest = max(protocol.ndcg_at + protocol.recall_at)
    if deepest > n_items:
        # Checked before the fit, which may take long, not after it.
        raise SystemExit(f"hashrec: the cut-offs go up to {deepest} but the catalogue has "
                         f"{n_items} items; pass --k with values of at most {n_items}.")
    train, test = protocol.split(data.data, args.seed)
    model = build_estimator(args.model, params=json.loads(args.params))
    scores = protocol.fit_and_evaluate(model, train, test)
    seconds = scores.pop("fit_seconds")
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
                     help=f"families from {list(MODELS)} or single variants such as AECF-ST "
                          f"(all: {', '.join(all_variant_names())})")
    rep.add_argument("--min-interactions", type=int, default=0, metavar="K",
                     help="keep the K-core: users and items with at least K interactions")
    rep.add_argument("--quick", action="store_true", help="2 epochs, 1 seed, 10 bits")
    setting = rep.add_mutually_exclusive_group()
    setting.add_argument("--tune", action="store_true",
                         help="tune each model on a validation split of its training data "
                              f"({TUNING_BUDGET}-point grid per model, NDCG@10), refit the best "
                              "and score it on the test split; writes DATASET-tuned.csv")
    setting.add_argument("--paper-recipe", action="store_true",
                         help="the paper's stated hyperparameters where the defaults depart "
                              "from them; writes DATASET-paper.csv")
    rep.add_argument("--candidates", choices=["all", "test"], default="all",
                     help="rank all unseen items, or only the user's held-out items")
    rep.add_argument("--device", default="cpu")
    rep.add_argument("--out", default="results", help="output folder")
    rep.add_argument("--no-progress", action="store_true")
    rep.set_defaults(func=cmd_reproduce)

    fit = sub.add_parser("fit", help="train a model on a ratings file and save it")
    data_options(fit)
    fit.add_argument("--model", choices=list(MODELS), default="CCSR",
                     help="a family (its estimator with --params)")
    fit.add_argument("--params", default="{}", help="model parameters as JSON")
    fit.add_argument("--out", default="model.joblib")
    fit.add_argument("--checkpoint-dir", metavar="DIR",
                     help="write a checkpoint after every epoch and resume from it if "
                          "one is there (torch models)")
    fit.set_defaults(func=cmd_fit)

    rec = sub.add_parser("recommend", help="top-k per user from a saved model, to CSV or "
                                          "Parquet, block by block")
    rec.add_argument("--model", required=True, help="file written by hashrec fit")
    rec.add_argument("--k", type=int, default=10)
    rec.add_argument("--users", nargs="+", help="external user ids (default: all)")
    rec.add_argument("--out", default="-",
                     help="a .csv file, a .parquet directory (needs pyarrow), or '-', the "
                          "default, for CSV on standard output; a killed run resumes from "
                          "its last block when run again")
    rec.add_argument("--block-size", type=int, default=16_384, help="users per block")
    rec.add_argument("--overwrite", action="store_true",
                     help="replace what --out holds when it is not this job's export")
    rec.add_argument("--progress", action="store_true", help="a progress bar on stderr")
    rec.set_defaults(func=cmd_recommend)

    ev = sub.add_parser("evaluate", help="fit on an 80/20 split and print the metrics")
    data_options(ev, dataset_default="ml-1m")
    ev.add_argument("--model", choices=list(MODELS), default="CCSR")
    ev.add_argument("--params", default="{}")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--relevance-threshold", type=float, default=0.0,
                    help="for --data files: relevant = held-out value above this")
    ev.add_argument("--candidates", choices=["all", "test"], default="all")
    ev.add_argument("--k", type=int, nargs="+",
                    help="cut-offs of NDCG and Recall (default: the dataset's protocol, "
                         "2 6 10 for files)")
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
