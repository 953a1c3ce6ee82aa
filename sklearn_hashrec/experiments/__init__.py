"""Experiments: the models and protocols of the paper's comparison, run and reported.

* :mod:`~sklearn_hashrec.experiments.registry`: the model families, their
  variants and one naming scheme (``"CCSR-S"``, ``"CF-S"``, ``"Top"``);
* :mod:`~sklearn_hashrec.experiments.protocols`: split-and-score protocols
  (:class:`Protocol`) and the datasets they go with;
* :mod:`~sklearn_hashrec.experiments.runner`: a grid of variants x code
  lengths x seeds, with each model's defaults, tuned parameters or the
  paper's recipe;
* :mod:`~sklearn_hashrec.experiments.tuning`: the equal-budget grid search
  on a validation split;
* :mod:`~sklearn_hashrec.experiments.reports`: CSVs, aggregation over seeds,
  Markdown tables and plots.

The ``hashrec`` command line and the scripts of ``benchmarks/`` are thin
layers over these.
"""

from .protocols import DATASETS, Protocol, load_dataset
from .registry import (
    BINARIZE_SUFFIX,
    MODELS,
    TUNING_BUDGET,
    ModelSpec,
    all_variant_names,
    build_estimator,
    parse_variant,
    select_variants,
    variant_name,
)
from .reports import (
    aggregate_over_seeds,
    code_free_variants,
    markdown_table,
    plot_by_code_length,
    read_runs,
    write_runs,
)
from .runner import SETTINGS, Run, plan_runs, run_grid
from .tuning import tune_estimator

__all__ = [
    "BINARIZE_SUFFIX", "DATASETS", "MODELS", "SETTINGS", "TUNING_BUDGET", "ModelSpec",
    "Protocol", "Run",
    "all_variant_names",
    "aggregate_over_seeds", "build_estimator", "code_free_variants", "load_dataset",
    "markdown_table", "parse_variant", "plan_runs", "plot_by_code_length", "read_runs",
    "run_grid", "select_variants", "tune_estimator", "variant_name", "write_runs",
]
