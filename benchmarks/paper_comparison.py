"""Our reproduction beside the paper's tables, and the paper's claims checked.

Reads the CSVs that ``hashrec reproduce`` writes (several may be given; a later
file's row replaces an earlier one for the same model, code length and seed)
and prints Markdown: NDCG@10 and Recall@6 per model and code length, ours
(mean over seeds) beside the paper's, then each of the paper's claims with
the numbers that decide it.

    python benchmarks/paper_comparison.py --dataset ml-1m --paper ml-1m results/ml-1m.csv
    python benchmarks/paper_comparison.py --dataset lastfm --paper ichiba results/lastfm.csv

``--paper`` picks the paper's table to set beside ours: ``ml-1m`` (Tables 3
and 6), ``amazon`` (Table 4 and 6, the 20-core Amazon Books set) or
``ichiba`` (Table 5 and 6, Rakuten Ichiba purchases, implicit).
"""

from __future__ import annotations

import argparse

from sklearn_hashrec.experiments import (
    aggregate_over_seeds,
    code_free_variants,
    parse_variant,
    read_runs,
    select_variants,
    variant_name,
)

BITS = (5, 10, 20, 40)
# The paper's Tables 3-6 (NDCG@10 and Recall@6 at 5, 10, 20, 40 bits; one
# value for Random and Top, which have no code length).
PAPER = {
    'ml-1m': {
        'NDCG@10': {
            'Random': 0.0083,
            'Top': 0.3196,
            'AECF-C': [0.742, 0.7603, 0.7424, 0.7393],
            'CCSR-C': [0.7538, 0.7605, 0.7516, 0.7885],
            'AECF-ST': [0.7095, 0.7495, 0.7458, 0.7518],
            'DJSRH-ST': [0.6673, 0.6886, 0.6845, 0.6787],
            'CCSR-ST': [0.747, 0.7542, 0.7115, 0.7291],
            'AECF-SST': [0.6663, 0.7478, 0.7526, 0.6445],
            'DJSRH-SST': [0.6703, 0.6776, 0.6835, 0.6814],
            'CCSR-SST': [0.7238, 0.7384, 0.7438, 0.7486],
            'CF': [0.6593, 0.6613, 0.6698, 0.684],
            'CFCodeReg': [0.6712, 0.6701, 0.6724, 0.6711],
            'AECF-S': [0.6311, 0.6534, 0.6423, 0.6175],
            'CCSR-S': [0.7371, 0.7475, 0.7529, 0.7897],
        },
        'Recall@6': {
            'Random': 0.026,
            'Top': 0.0282,
            'AECF-ST': [0.4384, 0.4497, 0.4511, 0.4561],
            'DJSRH-ST': [0.4184, 0.426, 0.4233, 0.4183],
            'CCSR-ST': [0.4671, 0.466, 0.456, 0.4599],
            'AECF-SST': [0.4181, 0.4522, 0.4552, 0.4121],
            'DJSRH-SST': [0.4187, 0.4244, 0.4275, 0.4275],
            'CCSR-SST': [0.4524, 0.4593, 0.4588, 0.4579],
            'CF': [0.4159, 0.4173, 0.4209, 0.4268],
            'CFCodeReg': [0.42, 0.4206, 0.4215, 0.4191],
            'AECF-S': [0.4015, 0.4226, 0.4201, 0.404],
            'CCSR-S': [0.4544, 0.4515, 0.4522, 0.4697],
        },
    },
    'amazon': {
        'NDCG@10': {
            'Random': 0.0001,
            'Top': 0.0485,
            'AECF-C': [0.8822, 0.8816, 0.8834, 0.8824],
            'CCSR-C': [0.8791, 0.8791, 0.8792, 0.8801],
            'AECF-ST': [0.8748, 0.8705, 0.8752, 0.8765],
            'DJSRH-ST': [0.8579, 0.8673, 0.8701, 0.8744],
            'CCSR-ST': [0.8762, 0.8786, 0.877, 0.8792],
            'AECF-SST': [0.867, 0.8599, 0.8759, 0.8714],
            'DJSRH-SST': [0.8654, 0.8668, 0.8676, 0.8709],
            'CCSR-SST': [0.8657, 0.8658, 0.8598, 0.8614],
            'CF': [0.8692, 0.87, 0.8711, 0.8716],
            'CFCodeReg': [0.8692, 0.8693, 0.8698, 0.8704],
            'AECF-S': [0.8697, 0.8726, 0.8756, 0.875],
            'CCSR-S': [0.8705, 0.8697, 0.8676, 0.8725],
        },
        'Recall@6': {
            'Random': 0.0001,
            'Top': 0.0045,
            'AECF-ST': [0.7363, 0.7364, 0.7367, 0.7355],
            'DJSRH-ST': [0.735, 0.736, 0.7364, 0.7375],
            'CCSR-ST': [0.7367, 0.7369, 0.7367, 0.7375],
            'AECF-SST': [0.7348, 0.7343, 0.7365, 0.7358],
            'DJSRH-SST': [0.7352, 0.7357, 0.7361, 0.737],
            'CCSR-SST': [0.7347, 0.7351, 0.7344, 0.7349],
            'CF': [0.7359, 0.7361, 0.736, 0.736],
            'CFCodeReg': [0.7357, 0.7357, 0.7358, 0.7358],
            'AECF-S': [0.7349, 0.7357, 0.7363, 0.736],
            'CCSR-S': [0.7357, 0.736, 0.7359, 0.7361],
        },
    },
    'ichiba': {
        'NDCG@10': {
            'Random': 0.0009,
            'Top': 0.155,
            'AECF-C': [0.9606, 0.9628, 0.9604, 0.9581],
            'CCSR-C': [0.9593, 0.9607, 0.9677, 0.9625],
            'AECF-ST': [0.9512, 0.9574, 0.9513, 0.9578],
            'DJSRH-ST': [0.9385, 0.9597, 0.9674, 0.9784],
            'CCSR-ST': [0.9551, 0.9588, 0.9572, 0.9617],
            'AECF-SST': [0.951, 0.9511, 0.95, 0.9523],
            'DJSRH-SST': [0.95, 0.9577, 0.9602, 0.9705],
            'CCSR-SST': [0.9562, 0.9512, 0.9464, 0.9369],
            'CF': [0.9475, 0.9482, 0.9483, 0.9494],
            'CFCodeReg': [0.9475, 0.947, 0.9457, 0.9452],
            'AECF-S': [0.9566, 0.9532, 0.9547, 0.9542],
            'CCSR-S': [0.9576, 0.9548, 0.9513, 0.9583],
        },
        'Recall@6': {
            'Random': 0.0007,
            'Top': 0.0167,
            'AECF-ST': [0.8012, 0.8103, 0.8058, 0.812],
            'DJSRH-ST': [0.789, 0.8107, 0.8165, 0.8249],
            'CCSR-ST': [0.8012, 0.8107, 0.8093, 0.8146],
            'AECF-SST': [0.7951, 0.7972, 0.7887, 0.7957],
            'DJSRH-SST': [0.7948, 0.8057, 0.8089, 0.819],
            'CCSR-SST': [0.7951, 0.8, 0.8027, 0.8086],
            'CF': [0.7949, 0.7999, 0.7983, 0.7996],
            'CFCodeReg': [0.7943, 0.7953, 0.7958, 0.7963],
            'AECF-S': [0.7859, 0.7889, 0.7866, 0.7889],
            'CCSR-S': [0.7998, 0.8012, 0.7997, 0.808],
        },
    },
}
# The paper names CF and CFCodeReg without a suffix: the package's names are CF-S, CFCodeReg-S.
PAPER = {name: {metric: {variant_name(*parse_variant(model)): values
                         for model, values in table.items()}
                for metric, table in tables.items()}
         for name, tables in PAPER.items()}
# The baselines the paper's first claim sets CCSR-S against.
BASELINES = ("CF-S", "CFCodeReg-S", "AECF-S")
ORDER = [variant_name(*pair) for pair in select_variants()]
CODE_FREE = code_free_variants()


def aggregate(rows, metric):
    """(model, n_bits) -> (mean, std, n_seeds) at the paper's code lengths."""
    return aggregate_over_seeds(rows, metric, BITS)


def table(rows, metric, paper=None):
    """Markdown: ours (mean +- std over seeds) per model and code length, the paper's beside.

    ``paper=None`` leaves out the paper's columns (a dataset or metric it did not report).
    """
    ours = aggregate(rows, metric)
    # Random and Top fill every code length; show the lengths some other model ran.
    bits = [b for b in BITS if any(key[1] == b and key[0] not in CODE_FREE
                                   for key in ours)] or list(BITS)
    per_bits = 1 if paper is None else 2
    head = " | ".join(f"{b} bits" if paper is None else f"{b} bits: ours | paper" for b in bits)
    lines = [f"| model | {head} |", "|---" * (per_bits * len(bits) + 1) + "|"]
    for model in ORDER:
        if not any((model, b) in ours for b in bits):
            continue
        cells = []
        for b in bits:
            mine = ours.get((model, b))
            text = "" if mine is None else f"{mine[0]:.4f}"
            if mine is not None and mine[2] > 1:
                text += f" +- {mine[1]:.4f}"
            cells.append(text)
            if paper is not None:
                theirs = paper.get(model)
                if not isinstance(theirs, (float, type(None))):
                    theirs = theirs[BITS.index(b)]
                cells.append("" if theirs is None else f"{theirs:.4f}")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired_wins(rows, metric, n_bits, model, others):
    """' (beats each in x of n seeds)' over the seeds every model ran, when there are several."""
    by_seed = {}
    for row in rows:
        if int(row["n_bits"]) == n_bits and row.get(metric):
            by_seed.setdefault(row["model"], {})[int(row["seed"])] = float(row[metric])
    if model not in by_seed:
        return ""
    parts = []
    for other in others:
        common = sorted(set(by_seed[model]) & set(by_seed.get(other, {})))
        if len(common) > 1:
            wins = sum(by_seed[model][s] > by_seed[other][s] for s in common)
            parts.append(f"{other} {wins}/{len(common)}")
    return f" (seeds won: {', '.join(parts)})" if parts else ""


def _beats_baselines(rows, metric):
    """The first claim under ``metric``: (detail, verdict), or None if it cannot be decided."""
    ours = {key: value[0] for key, value in aggregate(rows, metric).items()}
    per_bit = []
    for b in sorted({b for (_, b) in ours}):
        if ("CCSR-S", b) in ours and all((m, b) in ours for m in BASELINES):
            wins = [ours[("CCSR-S", b)] > ours[(m, b)] for m in BASELINES]
            per_bit.append((b, all(wins), ", ".join(
                f"{m} {ours[(m, b)]:.4f}" for m in BASELINES), ours[("CCSR-S", b)]))
    if not per_bit:
        return None
    detail = "; ".join(
        f"{b} bits: CCSR-S {s:.4f} vs {others}"
        + paired_wins(rows, metric, b, "CCSR-S", BASELINES) for b, _, others, s in per_bit)
    verdict = "yes" if all(ok for _, ok, _, _ in per_bit) else "no at " + ", ".join(
        f"{b} bits" for b, ok, _, _ in per_bit if not ok)
    return detail, verdict + f" (code lengths run: {', '.join(str(b) for b, *_ in per_bit)})"


def claims(rows, metric="NDCG@10"):
    ours = {key: value[0] for key, value in aggregate(rows, metric).items()}
    bits = sorted({b for (_, b) in ours})
    out = []
    first = _beats_baselines(rows, metric)
    if first is not None:
        out.append(("CCSR-S beats CF, CFCodeReg and AECF-S at every code length", *first))
    # The same with ties in random order: codes that collapse onto a few
    # patterns rank their ties by item index, which can follow popularity.
    first = _beats_baselines(rows, "tie-aware NDCG@10")
    if first is not None:
        out.append(("the same, judged on tie-aware NDCG@10", *first))
    drops = []
    for model in ("CCSR", "AECF", "DJSRH"):
        for b in bits:
            st, sst = ours.get((f"{model}-ST", b)), ours.get((f"{model}-SST", b))
            if st is not None and sst is not None:
                drops.append((model, b, st, sst))
    if drops:
        detail = "; ".join(f"{m} {b} bits {st:.4f} -> {sst:.4f}" for m, b, st, sst in drops)
        relative = [(st - sst) / st > 0.01 if st > 0 else False for _, _, st, sst in drops]
        out.append(("SST loses more than 1% (relative) against ST", detail,
                    f"{sum(relative)} of {len(relative)} cases"))
    changes = []
    for model in ("CCSR-S", "CCSR-ST", "CCSR-SST", "CCSR-C", "AECF-S", "AECF-ST", "AECF-SST",
                  "AECF-C"):
        if (model, 20) in ours and (model, 40) in ours:
            changes.append((model, ours[(model, 20)], ours[(model, 40)]))
    if changes:
        detail = "; ".join(f"{m} {a:.4f} -> {b:.4f}" for m, a, b in changes)
        ccsr_up = [b > a for m, a, b in changes if m.startswith("CCSR")]
        aecf_down = [b < a for m, a, b in changes if m.startswith("AECF")]
        out.append(("CCSR improves from 20 to 40 bits while AECF drops", detail,
                    f"CCSR improves in {sum(ccsr_up)} of {len(ccsr_up)} variants, AECF drops "
                    f"in {sum(aecf_down)} of {len(aecf_down)}"))
    if not out:
        return ("No claim can be decided from these runs (a claim needs its models at "
                "one code length).")
    lines = ["| claim | ours (NDCG@10, or as the claim says) | holds? |", "|---|---|---|"]
    lines += [f"| {c} | {d} | {v} |" for c, d, v in out]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--dataset", required=True, help="name shown in the headings")
    parser.add_argument("--paper", choices=sorted(PAPER), required=True)
    args = parser.parse_args()
    rows = read_runs(args.csv)
    seeds = sorted({int(row["seed"]) for row in rows})
    print(f"### {args.dataset}: NDCG@10 (seeds {seeds}; paper: {args.paper})\n")
    print(table(rows, "NDCG@10", PAPER[args.paper]["NDCG@10"]))
    print(f"\n### {args.dataset}: Recall@6\n")
    print(table(rows, "Recall@6", PAPER[args.paper]["Recall@6"]))
    if any(row.get("tie-aware NDCG@10") for row in rows):
        print(f"\n### {args.dataset}: tie-aware NDCG@10 (binary codes)\n")
        print(table(rows, "tie-aware NDCG@10", {}))
    print(f"\n### {args.dataset}: the paper's claims\n")
    print(claims(rows))


if __name__ == "__main__":
    main()
