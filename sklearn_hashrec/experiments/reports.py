"""Reports of experiment runs: CSV files, aggregation over seeds, tables, plots.

A run is a row: ``model`` (a variant name), ``n_bits``, ``seed``,
``fit_seconds`` and the protocol's metrics.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .registry import MODELS, parse_variant, variant_name

__all__ = ["aggregate_over_seeds", "code_free_variants", "markdown_table", "plot_by_code_length",
           "read_runs", "write_runs"]


def code_free_variants() -> tuple[str, ...]:
    """Variants without a code length (Random, Top): one run serves every length."""
    return tuple(spec.family for spec in MODELS.values() if not spec.has_codes)


def write_runs(path, rows) -> None:
    """Write runs to a CSV file, with the union of the rows' columns."""
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def read_runs(paths) -> list[dict]:
    """Runs of several CSV files, merged; model names in today's scheme.

    A later file's run replaces an earlier one of the same model, code length
    and seed, so a rerun or a run with more seeds (``--first-seed``) merges
    with an earlier one. Names that are no variant of the registry (a
    benchmark's "CCSR-S + EASE top-200") are kept as they are.
    """
    merged = {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    row["model"] = variant_name(*parse_variant(row["model"]))
                except ValueError:
                    pass
                merged[(row["model"], int(row["n_bits"]), int(row["seed"]))] = row
    return list(merged.values())


def aggregate_over_seeds(rows, metric, bits):
    """``(model, n_bits) -> (mean, std, n_seeds)`` of ``metric`` over the runs' seeds.

    Models without a code length count each seed once, whatever code length a
    run wrote them under, and fill every length in ``bits``.
    """
    code_free = code_free_variants()
    groups, by_seed = {}, {}
    for row in rows:
        value = row.get(metric)
        if value is None or value == "":
            continue
        if row["model"] in code_free:
            by_seed.setdefault(row["model"], {})[int(row["seed"])] = float(value)
        else:
            groups.setdefault((row["model"], int(row["n_bits"])), []).append(float(value))
    for model, values in by_seed.items():
        groups.update({(model, b): list(values.values()) for b in bits})
    return {key: (float(np.mean(v)), float(np.std(v)), len(v)) for key, v in groups.items()}


def markdown_table(rows, bits, title: str, metrics) -> str:
    """One Markdown table per metric: a row per model, a column per code length."""
    names = list(dict.fromkeys(row["model"] for row in rows))
    lines = [title, ""]
    for metric in metrics:
        agg = aggregate_over_seeds(rows, metric, bits)
        lines += [f"**{metric}**", "",
                  "| model | " + " | ".join(f"{b} bits" for b in bits) + " |",
                  "|---" * (len(bits) + 1) + "|"]
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


def plot_by_code_length(rows, bits, path, title: str, metric: str = "NDCG@10") -> None:
    """A PNG of ``metric`` against code length, mean +- std over seeds, per model."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("Plots need matplotlib: pip install 'sklearn-hashrec[plot]' (or "
                          "pip install matplotlib).") from exc

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate_over_seeds(rows, metric, bits)
    code_free = code_free_variants()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in dict.fromkeys(row["model"] for row in rows):
        points = sorted((b, m, s) for (n, b), (m, s, _) in agg.items() if n == name)
        if not points:
            continue
        if name in code_free:  # no code length: a reference line
            ax.axhline(points[0][1], linestyle=":", label=name,
                       color="grey" if name == "Random" else "black")
            continue
        x, mean, std = map(np.array, zip(*points, strict=True))
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=name)
    ax.set_xticks(sorted(bits))
    ax.set_xlabel("code length (bits)")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
