"""The README's commands are the ones CI runs."""

import re
import subprocess
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
    assert f"{test_command} || exit $?" in ci_lines


def test_every_and_list_in_ci_fails_the_run():
    # Under `set -e` a failure before the last command of an `&&` list is
    # ignored: a failed install would skip the tests and CI would pass.
    lines = [line.split("#")[0].strip()
             for line in (REPO / ".ci" / "run").read_text().splitlines()]
    and_lists = [line for line in lines if "&&" in line]
    assert and_lists
    assert all(line.endswith("|| exit $?") for line in and_lists), and_lists


def test_a_failed_step_of_the_ci_test_line_fails_the_script(tmp_path):
    # The CI line's form, with the install replaced by a failing command.
    script = tmp_path / "run"
    script.write_text("set -euo pipefail\nfalse && true || exit $?\necho reached\n")
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert result.returncode != 0 and "reached" not in result.stdout


def test_ci_runs_ruff():
    assert "python -m ruff check ." in (REPO / ".ci" / "run").read_text().splitlines()


def test_the_default_run_collects_the_packages_doctests():
    text = (REPO / "pyproject.toml").read_text()  # no tomllib before Python 3.11
    assert 'testpaths = ["tests", "sklearn_hashrec"]' in text
    assert re.search(r"addopts = .*--doctest-modules", text)


def test_ci_runs_the_integration_tests_that_the_default_run_leaves_out():
    # Clusters and multi-process training are for CI, not for a user's first run.
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "python -m pytest -q -m integration" in ci_lines
    pyproject = (REPO / "pyproject.toml").read_text()
    assert "addopts = \"-m 'not slow and not integration'" in pyproject
    assert '"integration: ' in pyproject
