"""The models an experiment can run, and one naming scheme for their variants.

A *family* is a method of the paper ("CCSR", "AECF", "CF", ...), backed by
one estimator class. A *variant* is a family with one binarization, named
``"{family}-{suffix}"`` with the paper's suffixes: ``S`` (sign), ``ST``
(scaled tanh), ``SST`` (sign of the scaled tanh) and ``C`` (continuous).
Random and Top learn no codes: their variant is the family name alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import models

__all__ = ["BINARIZE_SUFFIX", "MODELS", "TUNING_BUDGET", "ModelSpec", "all_variant_names",
           "build_estimator", "parse_variant", "select_variants", "variant_name"]

BINARIZE_SUFFIX = {"sign": "S", "tanh": "ST", "sign_tanh": "SST", None: "C"}
_SUFFIX_BINARIZE = {suffix: binarize for binarize, suffix in BINARIZE_SUFFIX.items()}


@dataclass(frozen=True)
class ModelSpec:
    """One family: its estimator class and the variants the paper runs.

    Attributes
    ----------
    family : str
        The paper's name of the method.
    estimator_name : str
        The name of the estimator class in :mod:`sklearn_hashrec.models`;
        :attr:`estimator` is the class, imported on first use (the command
        line lists the families without loading torch).
    paper_variants : tuple
        The ``binarize`` values of the paper's tables, in its order; empty for
        models without codes.
    aliases : tuple of str
        Other names of the family (the class name), accepted when parsing.
    in_paper : bool
        Whether the paper's tables have it; the others (EASE) run only when named.
    tuning_grid : dict
        The family's own hyperparameters for ``hashrec reproduce --tune``, as
        a ``GridSearchCV`` grid. Every family that learns gets the same
        budget: :data:`TUNING_BUDGET` points, a learning rate (or EASE's
        ``l2_reg``) crossed with one regulariser of the method.
    paper_recipe : callable or None
        ``paper_recipe(n_bits, dataset) -> dict``: the parameters the paper
        states for the family where the package's defaults depart from them;
        ``None`` when the defaults are the paper's.
    """

    family: str
    estimator_name: str
    paper_variants: tuple = ()
    aliases: tuple = field(default=())
    in_paper: bool = True
    tuning_grid: dict = field(default_factory=dict)
    paper_recipe: object = None

    @property
    def estimator(self) -> type:
        """The estimator class."""
        return getattr(models, self.estimator_name)

    @property
    def has_codes(self) -> bool:
        return bool(self.paper_variants)


#: Grid points per family for ``--tune``: the same for every family that learns.
TUNING_BUDGET = 4


def _paper_dropout(n_bits: int) -> float:
    # Section 5.2: 0.6 for 5, 10 and 20 bits, 0.8 for 40 (cross-validated there).
    return 0.8 if n_bits >= 40 else 0.6


def _paper_lambda_ae(dataset: str) -> float:
    # Section 5.2: 0.1 on MovieLens-1M, 10 on Amazon and Ichiba (and, here, the other sets).
    return 0.1 if dataset.startswith("ml-") else 10.0


def _explicit(dataset: str) -> bool:
    # The rating datasets, where the paper's relevance is "rating > 3".
    return dataset.startswith("ml-") or dataset == "amazon"


def _mf_recipe(n_bits, dataset):
    # Eq. 9 sums over observed ratings only; lambda = 0.4 is already the default.
    return {"unobserved_weight": 0.0}


def _aecf_recipe(n_bits, dataset):
    return {"straight_through": False, "dropout": _paper_dropout(n_bits),
            "lambda_ae": _paper_lambda_ae(dataset)}


def _djsrh_recipe(n_bits, dataset):
    return {"affinity": "shifted"}


def _ccsr_recipe(n_bits, dataset):
    # docs/ccsr.md, "Departures from the paper's recipe".
    return {"straight_through": False, "pos_weight": 1.0, "logit_scale": 1.0,
            "dropout": _paper_dropout(n_bits), "hidden_layer_sizes": (128,),
            "lambda_ae": _paper_lambda_ae(dataset), "input": "ratings",
            "relevance_threshold": 3.0 if _explicit(dataset) else 0.0}


MODELS: dict[str, ModelSpec] = {spec.family: spec for spec in [
    ModelSpec("Random", "RandomRecommender", aliases=("RandomRecommender",)),
    ModelSpec("Top", "PopularityRecommender", aliases=("PopularityRecommender", "popularity")),
    ModelSpec("CF", "BinaryMF", ("sign",), aliases=("BinaryMF",),
              tuning_grid={"learning_rate": [3e-3, 1e-2], "l2_reg": [0.1, 0.4]},
              paper_recipe=_mf_recipe),
    ModelSpec("CFCodeReg", "CFCodeReg", ("sign",),
              tuning_grid={"learning_rate": [3e-3, 1e-2], "l2_reg": [0.1, 0.4]},
              paper_recipe=_mf_recipe),
    ModelSpec("AECF", "AECF", ("sign", "tanh", "sign_tanh", None),
              tuning_grid={"learning_rate": [1e-3, 3e-3], "dropout": [0.0, 0.3]},
              paper_recipe=_aecf_recipe),
    ModelSpec("DJSRH", "DJSRH", ("tanh", "sign_tanh"),
              tuning_grid={"learning_rate": [1e-3, 3e-3], "mu": [1.0, 1.5]},
              paper_recipe=_djsrh_recipe),
    ModelSpec("CCSR", "CCSR", ("sign", "tanh", "sign_tanh", None),
              tuning_grid={"learning_rate": [1e-3, 3e-3], "dropout": [0.0, 0.3]},
              paper_recipe=_ccsr_recipe),
    ModelSpec("EASE", "EASE", in_paper=False,
              tuning_grid={"l2_reg": [100.0, 300.0, 1000.0, 3000.0]}),
    # The sparse-catalogue models (docs/quality.md, "Sparse catalogues"): run when named.
    ModelSpec("GraphFilter", "GraphFilter", in_paper=False,
              tuning_grid={"n_components": [128, 256], "low_pass_weight": [0.3, 1.0]}),
    ModelSpec("GraphHash", "GraphHash", in_paper=False,
              tuning_grid={"learning_rate": [0.1, 0.3], "distill_items": [10, 20]}),
]}
_ALIASES = {alias: spec.family for spec in MODELS.values() for alias in spec.aliases}


def variant_name(family: str, binarize=None) -> str:
    """The variant's name: ``"CCSR-S"``, ``"CF-S"``; ``"Top"`` for a model without codes.

    Examples
    --------
    >>> from sklearn_hashrec.experiments import variant_name
    >>> variant_name("CCSR", "sign_tanh"), variant_name("CF", "sign"), variant_name("Top")
    ('CCSR-SST', 'CF-S', 'Top')
    """
    spec = MODELS[_ALIASES.get(family, family)]
    if not spec.has_codes:
        return spec.family
    return f"{spec.family}-{BINARIZE_SUFFIX[binarize]}"


def parse_variant(name: str) -> tuple[str, object]:
    """``(family, binarize)`` of a variant name.

    Also reads the class names (``"BinaryMF-S"``) and, for the families the
    paper runs in one variant only (CF, CFCodeReg), the bare family name, as
    earlier releases wrote them.

    Examples
    --------
    >>> from sklearn_hashrec.experiments import parse_variant
    >>> parse_variant("AECF-ST"), parse_variant("CF"), parse_variant("BinaryMF-C")
    (('AECF', 'tanh'), ('CF', 'sign'), ('CF', None))
    """
    family, _, suffix = name.rpartition("-") if "-" in name else (name, "", "")
    family = _ALIASES.get(family, family)
    spec = MODELS.get(family)
    if spec is not None and not suffix:
        if not spec.has_codes:
            return family, None
        if len(spec.paper_variants) == 1:
            return family, spec.paper_variants[0]
    if spec is not None and spec.has_codes and suffix in _SUFFIX_BINARIZE:
        return family, _SUFFIX_BINARIZE[suffix]
    raise ValueError(f"unknown model {name!r}; choose a family from {list(MODELS)} or a "
                     f"variant from {all_variant_names()}.")


def all_variant_names() -> list[str]:
    """Every variant of every family, the paper's and the others."""
    names = []
    for spec in MODELS.values():
        binarizations = list(BINARIZE_SUFFIX) if spec.has_codes else [None]
        names += [variant_name(spec.family, b) for b in binarizations]
    return names


def select_variants(names=None) -> list[tuple[str, object]]:
    """``(family, binarize)`` pairs for a list of families and variants, in order.

    A family stands for its paper variants; ``None`` or an empty list for
    the paper's table (every family of the paper, in its variants). Duplicates
    are dropped.

    Examples
    --------
    >>> from sklearn_hashrec.experiments import select_variants
    >>> select_variants(["Top", "DJSRH", "CCSR-S"])
    [('Top', None), ('DJSRH', 'tanh'), ('DJSRH', 'sign_tanh'), ('CCSR', 'sign')]
    """
    chosen = []
    for name in names or [spec.family for spec in MODELS.values() if spec.in_paper]:
        family = _ALIASES.get(name, name)
        if family in MODELS and MODELS[family].has_codes:
            picked = [(family, b) for b in MODELS[family].paper_variants]
        else:
            picked = [parse_variant(name)]
        chosen += [pair for pair in picked if pair not in chosen]
    return chosen


def build_estimator(family: str, binarize="default", *, n_bits: int | None = None,
                    random_state=None, device: str | None = None, params: dict | None = None):
    """An unfitted estimator of a variant, with the parameters it accepts.

    ``n_bits``, ``binarize``, ``device`` and ``random_state`` are passed only
    to models that have them; ``params`` are passed as they are (and a model
    that lacks one raises scikit-learn's usual error). ``binarize="default"``
    keeps the estimator's own default (None is the continuous variant).

    Examples
    --------
    >>> from sklearn_hashrec.experiments import build_estimator
    >>> build_estimator("CF", "sign", n_bits=20, random_state=0)
    BinaryMF(n_bits=20, random_state=0)
    >>> build_estimator("Top", n_bits=20)
    PopularityRecommender()
    """
    estimator = MODELS[_ALIASES.get(family, family)].estimator()
    accepted = estimator.get_params()
    settings = {"n_bits": n_bits, "random_state": random_state, "device": device}
    kwargs = {name: value for name, value in settings.items()
              if name in accepted and value is not None}
    if "binarize" in accepted and binarize != "default":
        kwargs["binarize"] = binarize
    kwargs.update(params or {})
    return estimator.set_params(**kwargs)
