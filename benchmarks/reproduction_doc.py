"""Write docs/reproduction.md from the committed runs in docs/results/reproduction/.

The prose lives in ``benchmarks/reproduction_template.md``; every table and
every verdict on a claim is computed here from the CSVs that ``hashrec
reproduce`` wrote (one file per dataset and setting:
``{dataset}-{defaults,tuned,paper}.csv``) and from the model registry (the
tuning grids and the paper's recipes). ``tests/test_docs_results.py``
regenerates the page and compares it with the committed file byte for byte.

    python benchmarks/reproduction_doc.py            # rewrite docs/reproduction.md
    python benchmarks/reproduction_doc.py --check    # exit 1 if it is out of date

Template directives, each alone on a line: ``{{ runs }}``, ``{{ grids }}``,
``{{ diagnosis }}``, ``{{ thresholds }}``, ``{{ tables DATASET SETTING }}``, ``{{ claims DATASET
SETTING }}``, ``{{ chosen DATASET }}`` and ``{{ learned DATASET SETTING }}``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paper_comparison import BITS, PAPER, claims, table  # noqa: E402

from sklearn_hashrec.cli import SETTING_FLAGS  # noqa: E402
from sklearn_hashrec.experiments import (  # noqa: E402
    MODELS,
    SETTINGS,
    aggregate_over_seeds,
    code_free_variants,
    parse_variant,
    read_runs,
)

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "results" / "reproduction"
TEMPLATE = Path(__file__).resolve().parent / "reproduction_template.md"
OUTPUT = REPO / "docs" / "reproduction.md"
DIAGNOSIS = REPO / "docs" / "results" / "baseline-diagnosis.jsonl"
# The paper's table that each dataset is set beside (None: no paper column).
PAPER_TABLE = {"ml-1m": "ml-1m", "amazon": "amazon", "citeulike": "ichiba", "lastfm": "ichiba"}
# The k-cores the paper's sparse sets are filtered to (as the earlier tables were).
CORE = {"amazon": 20, "citeulike": 10, "lastfm": 10}
DIRECTIVE = re.compile(r"^\{\{ (\w+)((?: [\w.-]+)*) \}\}$")


def csv_path(dataset: str, setting: str, results: Path = RESULTS) -> Path:
    return results / f"{dataset}-{setting}.csv"


def load(dataset, setting, results=RESULTS):
    path = csv_path(dataset, setting, results)
    return read_runs(path) if path.exists() else None


def command(dataset, setting, rows=None):
    """The command that ran ``rows`` (or that would run the full grid)."""
    core = f" --min-interactions {CORE[dataset]}" if dataset in CORE else ""
    span = " --seeds 3"
    if rows:
        bits = sorted({int(r["n_bits"]) for r in rows}, reverse=True)
        seeds = sorted({int(r["seed"]) for r in rows})
        span = "" if bits == sorted(BITS, reverse=True) else " --bits " + " ".join(
            map(str, sorted(bits)))
        span += f" --seeds {len(seeds)}" + (f" --first-seed {seeds[0]}" if seeds[0] else "")
    flag = SETTING_FLAGS[setting]
    return f"hashrec reproduce --dataset {dataset}{core}{span}{flag} --out results"


def not_run(dataset, setting):
    return f"Not run yet. Command: `{command(dataset, setting)}`."


def runs_section(results=RESULTS):
    lines = ["| dataset | setting | seeds | code lengths | fits | fit hours (sum) |",
             "|---|---|---|---|---|---|"]
    for path in sorted(results.glob("*.csv")):
        dataset, _, setting = path.stem.rpartition("-")
        rows = read_runs(path)
        seeds = sorted({int(r["seed"]) for r in rows})
        bits = sorted({int(r["n_bits"]) for r in rows})
        hours = sum(float(r["fit_seconds"]) for r in rows) / 3600
        lines.append(f"| {dataset} | {setting} | {', '.join(map(str, seeds))} | "
                     f"{', '.join(map(str, bits))} | {len(rows)} | {hours:.2f} |")
    return "\n".join(lines)


def grids_section(dataset="ml-1m"):
    lines = ["| family | `--tune` grid | `--paper-recipe` at 40 bits on MovieLens-1M |",
             "|---|---|---|"]
    for spec in MODELS.values():
        if not spec.in_paper:
            continue
        grid = ", ".join(f"`{k}` in {v}" for k, v in spec.tuning_grid.items()) or "(none)"
        recipe = spec.paper_recipe(40, dataset) if spec.paper_recipe else {}
        recipe = ", ".join(f"`{k}={v!r}`" for k, v in recipe.items()) or "(the defaults)"
        lines.append(f"| {spec.family} | {grid} | {recipe} |")
    return "\n".join(lines)


def diagnosis_section(path=DIAGNOSIS):
    lines = ["| data | model | parameters (against the defaults of its run) | NDCG@10 | "
             "tie-aware NDCG@10 | mean \\|mean code bit\\| (users / items) | "
             "distinct codes (users / items) |",
             "|---|---|---|---|---|---|---|"]
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if "NDCG@10" not in row:
            continue
        balance = ""
        if "user bit mean |.|" in row:
            items = row.get("item bit mean |.|")
            balance = (f"{row['user bit mean |.|']:.3f} / "
                       + ("" if items is None else f"{items:.3f}"))
        tie = row.get("tie-aware NDCG@10")
        distinct = ""
        if "distinct user codes" in row:
            distinct = (f"{row['distinct user codes']:,} of {row['n_users']:,} / "
                        f"{row['distinct item codes']:,} of {row['n_items']:,}")
        kw = row["kw"] + (f"; probe {row['probe']}" if "probe" in row else "")
        lines.append(f"| {row['ds']} | {row['model']} | {kw.replace('|', '/')} | "
                     f"{row['NDCG@10']:.4f} | {'' if tie is None else f'{tie:.4f}'} | "
                     f"{balance} | {distinct} |")
    return "\n".join(lines)


def thresholds_section(path=DIAGNOSIS):
    """The ``--thresholds`` rows: a continuous fit and the codes its features make."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows = [row for row in rows if row.get("thresholds")]
    names = [key.removeprefix("tie-aware NDCG@10, ") for key in rows[0]
             if key.startswith("tie-aware NDCG@10, ")] if rows else []
    lines = ["| data | model | parameters | continuous NDCG@10 | "
             + " | ".join(f"tie-aware NDCG@10, {name}" for name in names) + " |",
             "|---|---|---|---|" + "---|" * len(names)]
    for row in rows:
        lines.append(f"| {row['ds']} | {row['model']} | {row['kw']} | "
                     f"{row['continuous NDCG@10']:.4f} | " + " | ".join(
                         f"{row['tie-aware NDCG@10, ' + name]:.4f}" for name in names) + " |")
    return "\n".join(lines)


def tables_section(dataset, setting, results=RESULTS):
    rows = load(dataset, setting, results)
    if rows is None:
        return not_run(dataset, setting)
    paper = PAPER.get(PAPER_TABLE.get(dataset), {})
    parts = []
    for metric, label in [("NDCG@10", "NDCG@10"), ("Recall@6", "Recall@6"),
                          ("tie-aware NDCG@10", "tie-aware NDCG@10 (binary codes)")]:
        if not any(row.get(metric) for row in rows):
            continue
        # The paper reports NDCG and Recall, not the tie-aware metric.
        reported = paper.get(metric) if paper else None
        body = table(rows, metric, reported)
        parts.append(f"**{label}**\n\n{body}")
    parts.append(f"**fit seconds** (mean over seeds)\n\n{_fit_table(rows)}")
    parts.append(f"Command: `{command(dataset, setting, rows)}`")
    return "\n\n".join(parts)


def _fit_table(rows):
    agg = aggregate_over_seeds(rows, "fit_seconds", BITS)
    models = [m for m in dict.fromkeys(row["model"] for row in rows)
              if m not in code_free_variants()]
    bits = [b for b in BITS if any(k[1] == b for k in agg if k[0] in models)]
    lines = ["| model | " + " | ".join(f"{b} bits" for b in bits) + " |",
             "|---" * (len(bits) + 1) + "|"]
    for model in models:
        cells = [f"{agg[(model, b)][0]:.0f}" if (model, b) in agg else "" for b in bits]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def claims_section(dataset, setting, results=RESULTS):
    rows = load(dataset, setting, results)
    return not_run(dataset, setting) if rows is None else claims(rows)


def chosen_section(dataset, results=RESULTS):
    rows = load(dataset, "tuned", results)
    if rows is None:
        return not_run(dataset, "tuned")
    picks = {}
    for row in rows:
        if row.get("params") not in (None, "", "{}"):
            picks.setdefault((row["model"], int(row["n_bits"])), []).append(row["params"])
    lines = ["| model | bits | chosen point (seeds that chose it) | validation NDCG@10 (mean) |",
             "|---|---|---|---|"]
    for (model, bits), chosen in picks.items():
        counts = Counter(chosen).most_common()
        text = "; ".join(
            ", ".join(f"{k}={v}" for k, v in json.loads(p).items()) + f" ({n}/{len(chosen)})"
            for p, n in counts)
        scores = [float(r["validation NDCG@10"]) for r in rows
                  if r["model"] == model and int(r["n_bits"]) == bits]
        lines.append(f"| {model} | {bits} | {text} | {sum(scores) / len(scores):.4f} |")
    return "\n".join(lines)


def learned_section(dataset, setting, results=RESULTS):
    """Each family's best variant against Random and Top at the longest code length."""
    rows = load(dataset, setting, results)
    if rows is None:
        return not_run(dataset, setting)
    bits = max(int(r["n_bits"]) for r in rows)
    agg = aggregate_over_seeds(rows, "NDCG@10", BITS)
    if ("Random", bits) not in agg or ("Top", bits) not in agg:
        return "Random and Top did not run with these models."
    random, top = agg[("Random", bits)][0], agg[("Top", bits)][0]
    # Codes that tie many items rank them by index; the tie-aware score shows
    # what the codes themselves carry (none for continuous variants).
    tie_aware = aggregate_over_seeds(rows, "tie-aware NDCG@10", BITS)
    lines = [f"| family | best variant at {bits} bits | NDCG@10 | x Random ({random:.4f}) | "
             f"against Top ({top:.4f}) | tie-aware NDCG@10 (x Random) |",
             "|---|---|---|---|---|---|"]
    best = {}
    for (model, b), (mean, _, _) in agg.items():
        family = parse_variant(model)[0]
        if (b == bits and model not in code_free_variants()
                and mean > best.get(family, ("", -1))[1]):
            best[family] = (model, mean)
    for family, (model, mean) in best.items():
        tie = tie_aware.get((model, bits))
        tie = "" if tie is None else f"{tie[0]:.4f} ({tie[0] / random:.1f})"
        lines.append(f"| {family} | {model} | {mean:.4f} | {mean / random:.1f} | "
                     f"{'above' if mean > top else 'below'} ({mean - top:+.4f}) | {tie} |")
    return "\n".join(lines)


SECTIONS = {"runs": runs_section, "grids": grids_section, "diagnosis": diagnosis_section,
            "thresholds": thresholds_section,
            "tables": tables_section, "claims": claims_section, "chosen": chosen_section,
            "learned": learned_section}


def render(template: str = None, results: Path = RESULTS) -> str:
    """The page: the template with each directive line replaced by its section."""
    template = TEMPLATE.read_text() if template is None else template
    out = []
    for line in template.splitlines():
        match = DIRECTIVE.match(line.strip())
        if match is None:
            out.append(line)
            continue
        name, args = match.group(1), match.group(2).split()
        if name not in SECTIONS:
            raise ValueError(f"unknown directive {name!r} in the template: {line!r}")
        if name in ("tables", "claims", "learned") and args[1:] and args[1] not in SETTINGS:
            raise ValueError(f"unknown setting {args[1]!r}; choose from {SETTINGS}.")
        kwargs = ({"results": results}
                  if name not in ("grids", "diagnosis", "thresholds") else {})
        out.append(SECTIONS[name](*args, **kwargs))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/reproduction.md differs from a regeneration")
    args = parser.parse_args()
    page = render()
    if args.check:
        if OUTPUT.read_text() != page:
            print("docs/reproduction.md is out of date: run python benchmarks/reproduction_doc.py")
            return 1
        return 0
    OUTPUT.write_text(page)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
