"""Every model x binarization on MovieLens-1M at one code length (docs/models.md).

Protocol (``experiments.DATASETS["ml-1m"]``): per-user 80/20 split (seed 0),
relevance = held-out rating > 3, ranking over all items minus the user's
training items; default parameters of each model, ``random_state=0``.

    SKLEARN_HASHREC_DATA=../shared/data python benchmarks/models_table.py --n-bits 40
"""

import argparse

from sklearn_hashrec.experiments import (
    BINARIZE_SUFFIX,
    MODELS,
    build_estimator,
    load_dataset,
    variant_name,
)


def variants(only):
    """Every binarization of every model (not only the paper's); ``only`` keeps the
    families (``CF``: all four) and variants (``CCSR-S``) it names."""
    for spec in MODELS.values():
        for binarize in (BINARIZE_SUFFIX if spec.has_codes else [None]):
            name = variant_name(spec.family, binarize)
            if not only or spec.family in only or name in only:
                yield spec.family, binarize, name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-bits", type=int, default=40)
    parser.add_argument("--only", nargs="*", help="families (CF) or variants (CCSR-S) to run")
    args = parser.parse_args()
    data, protocol = load_dataset("ml-1m")
    protocol = protocol.with_options(ndcg_at=(10,), recall_at=(10,), tie_aware=False)
    train, test = protocol.split(data.data, 0)
    print(f"| model ({args.n_bits} bits) | NDCG@10 | Recall@10 | fit s |")
    print("|---|---|---|---|")
    for family, binarize, name in variants(args.only):
        model = build_estimator(family, binarize, n_bits=args.n_bits, random_state=0)
        scores = protocol.fit_and_evaluate(model, train, test)
        print(f"| {name} | {scores['NDCG@10']:.4f} | {scores['Recall@10']:.4f} | "
              f"{scores['fit_seconds']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
