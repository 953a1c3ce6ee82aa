"""The API reference (docs/api/index.rst) lists every public name of the package."""

import importlib
import re
from pathlib import Path

import sklearn_hashrec

REPO = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = ["", "base", "binarization", "datasets", "experiments", "interactions", "metrics",
                  "model_selection", "models.base", "nn", "pipeline", "preprocessing", "ranking",
                  "serving", "export", "training", "training.distributed"]


def test_every_public_name_is_in_the_api_reference():
    listed = set(re.findall(r"^   ([\w.]+)$", (REPO / "docs" / "api" / "index.rst").read_text(),
                            re.M))
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(f"sklearn_hashrec.{module_name}".rstrip("."))
        prefix = f"{module_name}." if module_name else ""
        missing += [prefix + name for name in module.__all__
                    if name != "__version__" and prefix + name not in listed]
    assert not missing, f"not in docs/api/index.rst: {missing}"
    assert set(sklearn_hashrec.models.__all__) <= listed
