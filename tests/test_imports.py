"""The ranking engine, the metrics and the torch-free models import and run without torch."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sklearn_hashrec

REPO = Path(__file__).resolve().parents[1]


def _run(script: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ranking_metrics_and_torch_free_models_never_load_torch():
    out = _run("""
        import io, sys
        import numpy as np, scipy.sparse as sp
        import sklearn_hashrec, sklearn_hashrec.ranking, sklearn_hashrec.metrics
        import sklearn_hashrec.pipeline, sklearn_hashrec.preprocessing
        import sklearn_hashrec.model_selection, sklearn_hashrec.datasets, sklearn_hashrec.serving
        import sklearn_hashrec.experiments, sklearn_hashrec.cli, sklearn_hashrec.export
        from sklearn_hashrec import (EASE, GraphFilter, PopularityRecommender,
                                     RandomRecommender, RerankRecommender)
        from sklearn_hashrec.metrics import make_ndcg_scorer, tie_aware_ndcg_at_k
        from sklearn_hashrec.ranking import hamming_topk
        X = sp.random(80, 50, density=0.2, random_state=0, format="csr")
        for model in [EASE(), GraphFilter(n_components=4, random_state=0),
                      PopularityRecommender(), RandomRecommender(random_state=0),
                      RerankRecommender(GraphFilter(n_components=4, random_state=0), EASE(),
                                        n_candidates=20)]:
            model.fit(X).recommend(np.arange(80), k=5)
            make_ndcg_scorer(k=5)(model, X)
        sklearn_hashrec.export.recommend_all(model, io.StringIO(), k=3)
        codes = np.where(np.random.default_rng(0).random((30, 16)) < 0.5, -1, 1)
        hamming_topk(codes, codes, 3)
        tie_aware_ndcg_at_k(X[:30, :30], codes, codes, k=3)
        print("torch" in sys.modules)
    """)
    assert out.split()[-1] == "False"


def test_version_does_not_load_torch():
    out = _run("""
        import sys
        from sklearn_hashrec.cli import main
        try:
            main(["--version"])
        except SystemExit:
            pass
        print("torch" in sys.modules)
    """)
    assert out.split() == [sklearn_hashrec.__version__, "False"]


def test_lazy_names_resolve_and_list():
    from sklearn_hashrec import models

    for name in models.__all__:
        assert getattr(sklearn_hashrec, name) is getattr(models, name)
        assert getattr(models, name).__name__ == name
    assert set(models.__all__) <= set(dir(sklearn_hashrec))
    with pytest.raises(AttributeError, match="no attribute 'NotAModel'"):
        sklearn_hashrec.NotAModel  # noqa: B018
    with pytest.raises(ImportError):
        exec("from sklearn_hashrec import NotAModel")
