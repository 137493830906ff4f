"""The README and SECURITY.md: they refer only to files of this repository, their two commands
install into a virtual environment (a system pip that refuses to install is never used), CI runs
exactly those commands, and SECURITY.md opens with what an instructor must do."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import REPO

DOCS = ["README.md", "SECURITY.md"]
TOP_LEVEL = {path.name for path in REPO.iterdir() if not path.name.startswith(".")} | {".ci"}


def _code_spans(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


@pytest.mark.parametrize("doc", DOCS)
def test_a_doc_names_only_files_that_are_in_the_repository(doc):
    text = (REPO / doc).read_text()
    assert "../" not in text, "a path outside the repository"
    assert not re.search(r"\bcontract\b", text, re.IGNORECASE), "the contract is not a file of this repository"
    for target in re.findall(r"\]\(([^)#\s]+)\)", text):  # Markdown links
        if not target.startswith(("http://", "https://")):
            assert (REPO / target).exists(), target
    named = [span for span in _code_spans(text)
             if re.fullmatch(r"[\w.\-/]+", span) and "/" in span and span.split("/")[0] in TOP_LEVEL]
    assert len(named) > 10
    for path in named:
        assert (REPO / path.rstrip("/")).exists(), f"{doc} names {path}, which is not in the repository"


def _readme_command(name: str) -> str:
    completed = subprocess.run(["bash", "-c", f'source <(sed -n "/^readme_command()/,/^}}/p" .ci/run); readme_command {name}'],
                               cwd=REPO, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


@pytest.mark.parametrize("name", ["main-command", "test-command"])
def test_the_readme_commands_install_into_a_virtual_environment(name):
    command = _readme_command(name)
    steps = [step.strip() for step in command.split("&&")]
    assert steps[0].startswith("sh scripts/install-system-packages")
    venv = steps.index("python3 -m venv .venv")
    activate = steps.index(". .venv/bin/activate")
    first_pip = next(i for i, step in enumerate(steps) if step.startswith("pip "))
    assert venv < activate < first_pip, steps  # pip is the environment's, never the system's


def test_ci_runs_exactly_the_readme_commands_and_installs_nothing_itself():
    script = (REPO / ".ci" / "run").read_text()
    code = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert not any(re.search(r"\b(pip|venv|apt-get)\b", line) for line in code), "CI must install only through the README's commands"
    assert 'bash -c "$main_command"' in script and 'bash -c "$test_command"' in script
    assert _readme_command("main-command").endswith(
        "grader grade-all hw1 examples/hw1 --out out/hw1 && grader grade-all hw2 examples/hw2 --out out/hw2")
    assert _readme_command("test-command").endswith("pytest")


def test_the_system_packages_script_rejects_an_unknown_option_in_one_line():
    completed = subprocess.run(["sh", "scripts/install-system-packages", "--bogus"], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1 and "usage" in completed.stderr


def test_security_md_opens_with_what_to_install_and_run_as_in_three_lines():
    lines = (REPO / "SECURITY.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("**In practice**"))
    assert start < 5  # right under the title
    answer = lines[start + 1:start + 4]
    assert [line[:3] for line in answer] == ["1. ", "2. ", "3. "] and lines[start + 4] == ""
    text = "\n".join(answer)
    assert "apt-get install bubblewrap" in text and "as root" in text and "--isolation strict" in text
