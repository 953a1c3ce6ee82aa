"""Sphinx configuration of the sklearn-hashrec documentation site.

Build with warnings as errors (as CI does)::

    pip install -e ".[docs]"
    SKLEARN_HASHREC_DATA=../shared/data python -m sphinx -W -b html docs docs/_build/html

The gallery runs ``examples/gallery/plot_*.py`` on MovieLens-100k, so the data
home must hold ``ml-100k/``.
"""

import os
import sys
from pathlib import Path

import sklearn_hashrec

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The gallery runs each example from examples/gallery (and Sphinx reads this
# file from docs/): a data home given relative to where sphinx was started
# would point elsewhere there. The shell's $PWD is still that directory.
if os.environ.get("SKLEARN_HASHREC_DATA"):
    _started_in = Path(os.environ.get("PWD", os.getcwd()))
    os.environ["SKLEARN_HASHREC_DATA"] = str(
        (_started_in / os.environ["SKLEARN_HASHREC_DATA"]).resolve())

project = "sklearn-hashrec"
author = "sklearn-hashrec developers"
copyright = "2026, sklearn-hashrec developers"
release = version = sklearn_hashrec.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "results", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Markdown pages link each other by file name and use headings from level 2.
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing"]

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
# No network in CI: the inventories above are optional, their absence is not an error.
intersphinx_timeout = 5
if os.environ.get("HASHREC_DOCS_OFFLINE", "1") == "1":
    intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-hashrec {version}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
