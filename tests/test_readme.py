"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (REPO / "README.md").read_text())


def test_readme_opens_with_two_commands():
    main_job, tests = readme_commands()[:2]
    assert main_job.startswith("pip install") and "examples/quickstart.py" in main_job
    assert tests.startswith("pip install") and "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = readme_commands()[1]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_the_default_run_collects_the_packages_doctests():
    text = (REPO / "pyproject.toml").read_text()  # no tomllib before Python 3.11
    assert 'testpaths = ["tests", "sklearn_hashrec"]' in text
    assert re.search(r"addopts = .*--doctest-modules", text)
