"""Package an assignment for where students submit: a Gradescope autograder, a GitHub workflow.

Both carry the same private payload, laid out so that it grades with no other files:

    grader-package/    the grader itself (pyproject.toml and the `grader` package), pip-installable
    assignments/NAME/  assignment.json, the checks, and private/ (the reference, public tests, handout)

The Gradescope zip adds `setup.sh` and `run_autograder` at its root. The GitHub export writes
the workflow for the students' repositories and the payload to push to a private repository.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import grader
from grader.model import Assignment

DISTRIBUTION = "nlp-grader"
TEMPLATES = Path(grader.__file__).parent / "templates"


def payload(assignment: Assignment) -> dict[str, bytes]:
    """The private files, by path relative to the payload's root."""
    files: dict[str, bytes] = {}
    package = Path(grader.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".j2", ".sh", ".yml"):
            files[f"grader-package/grader/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    files["grader-package/pyproject.toml"] = _pyproject().encode("utf-8")
    base = f"assignments/{assignment.name}"
    for path in sorted(assignment.directory.iterdir()):
        if path.is_file() and path.name != "assignment.json" and path.suffix in (".py", ".json", ".md", ".txt"):
            files[f"{base}/{path.name}"] = path.read_bytes()
    config = json.loads((assignment.directory / "assignment.json").read_text(encoding="utf-8"))
    for key, source in (("reference", assignment.reference), ("public_tests", assignment.public_tests),
                        ("handout", assignment.handout)):
        if source.is_file():
            files[f"{base}/private/{source.name}"] = source.read_bytes()
            config[key] = f"private/{source.name}"
    config["template"] = "template"  # not shipped: students have it
    files[f"{base}/assignment.json"] = (json.dumps(config, indent=2) + "\n").encode("utf-8")
    return files


def _pyproject() -> str:
    """A pyproject.toml for the grader package, with the dependencies of the installed grader."""
    try:
        requirements = [r for r in importlib.metadata.requires(DISTRIBUTION) or [] if "extra ==" not in r]
    except importlib.metadata.PackageNotFoundError:
        requirements = ["numpy>=1.24", "hypothesis>=6.80", "nbformat>=5.7", "pytest>=7.4", "jinja2>=3.1", "tqdm>=4.60"]
    dependencies = ",\n".join(f"    {json.dumps(r)}" for r in requirements)
    return (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{DISTRIBUTION}"\nversion = "{grader.__version__}"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{dependencies},\n]\n\n"
        '[project.scripts]\ngrader = "grader.cli:main"\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["grader*"]\n\n'
        '[tool.setuptools.package-data]\ngrader = ["templates/*"]\n'
    )


def gradescope_zip(assignment: Assignment) -> bytes:
    """Gradescope's autograder.zip: setup.sh and run_autograder at the root, and the payload."""
    files = payload(assignment)
    scripts = {
        "setup.sh": (TEMPLATES / "gradescope_setup.sh").read_text(encoding="utf-8"),
        "run_autograder": (TEMPLATES / "gradescope_run_autograder.sh").read_text(encoding="utf-8").replace(
            "@ASSIGNMENT@", assignment.name),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            archive.writestr(info, text)
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def github_export(assignment: Assignment, out: Path) -> list[Path]:
    """Write `out/student-repo/.github/workflows/grade-NAME.yml` and `out/private-repo/` (the payload)."""
    workflow = (TEMPLATES / "github_workflow.yml").read_text(encoding="utf-8")
    workflow = workflow.replace("@ASSIGNMENT@", assignment.name).replace("@MODULE@", assignment.module)
    written = []
    target = out / "student-repo" / ".github" / "workflows" / f"grade-{assignment.name}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(workflow, encoding="utf-8")
    written.append(target)
    private = out / "private-repo"
    if private.exists():
        shutil.rmtree(private)
    for name, data in payload(assignment).items():
        path = private / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    written.append(private)
    return written
