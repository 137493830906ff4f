"""grader/ is generic: a second, unrelated assignment grades with no change to the package."""

from __future__ import annotations

import json

from grading_helpers import run_grader

HW0_CHECKS = '''
from hypothesis import strategies as st

from grader.authoring.checks import Case, agreement, raises, shape_and_dtype
from grader.authoring.strategies import batch_shapes, recipe, seeds
from grader.model import Misconception


@recipe
def vectors(draw):
    import numpy as np
    shape, seed = draw(batch_shapes()) + (draw(st.integers(1, 5)),), draw(seeds())
    x = np.random.default_rng(seed).standard_normal(shape)
    return Case((x,), {}, f"shape {shape}")


@recipe
def negative_scales(draw):
    import numpy as np
    x = np.random.default_rng(draw(seeds())).standard_normal(3)  # a recipe draws a seed: its variants differ
    return Case((x,), {"scale": -float(draw(st.integers(1, 9)))}, "scale < 0")


def build(ref):
    checks = [
        shape_and_dtype("square", vectors(), ref.square, ("y",)),
        agreement("square", "matches x * x", vectors(), ref.square, ("y",), weight=3),
        raises("square", "rejects a negative scale", negative_scales(), max_examples=3),
    ]
    misconceptions = [Misconception("doubled", "doubled instead of squared", "x**2 is x * x, not 2 * x.",
                                    "square", lambda x, scale=1.0: 2 * x)]
    return checks, misconceptions
'''

HW0_REFERENCE = '''
def square(x, scale=1.0):
    """y = scale * x * x."""
    # BEGIN SOLUTION
    if scale < 0:
        raise ValueError("scale must be non-negative")
    return scale * x * x
    # END SOLUTION
'''


def make_hw0(root):
    assignment = root / "assignments" / "hw0"
    assignment.mkdir(parents=True)
    solutions = root / "solutions" / "hw0"
    solutions.mkdir(parents=True)
    (assignment / "__init__.py").write_text("")
    (assignment / "checks.py").write_text(HW0_CHECKS)
    (assignment / "assignment.json").write_text(json.dumps({
        "name": "hw0", "title": "Homework 0", "module": "hw0", "reference": "../../solutions/hw0/hw0.py",
        "public_tests": "../../solutions/hw0/test_public.py", "handout": "../../solutions/hw0/handout.md",
        "template": "../../student_template/hw0", "points": {"square": 10},
    }))
    (solutions / "hw0.py").write_text(HW0_REFERENCE)
    (solutions / "test_public.py").write_text("import hw0\n\ndef test_square():\n    assert hw0.square(3.0) == 9.0\n")
    (solutions / "handout.md").write_text("# {{title}}\n\n{{function_table}}\n")
    return root / "assignments"


def test_a_second_assignment_grades_and_releases_without_changes_to_the_grader(tmp_path):
    assignments = make_hw0(tmp_path)
    right, wrong = tmp_path / "right.py", tmp_path / "wrong.py"
    right.write_text("def square(x, scale=1.0):\n    if scale < 0:\n        raise ValueError('no')\n    return scale * x ** 2\n")
    wrong.write_text("def square(x, scale=1.0):\n    return 2 * x\n")
    for path, expected in ((right, 10.0), (wrong, 0.0)):  # wrong's right shape pays only with agreement (none)
        results = tmp_path / f"{path.stem}.json"
        completed = run_grader("--assignments", assignments, "grade", "hw0", path, "--results-json", results)
        assert completed.returncode == 0, completed.stderr
        data = json.loads(results.read_text())
        assert data["score"] == expected and data["max_score"] == 10.0
    failed = [t["output"] for t in json.loads((tmp_path / "wrong.json").read_text())["tests"] if t["status"] == "failed"]
    assert any("Likely cause: doubled instead of squared" in message for message in failed)

    released = run_grader("--assignments", assignments, "release", "hw0", "--out", tmp_path / "template")
    assert released.returncode == 0, released.stderr
    stub = (tmp_path / "template" / "hw0.py").read_text()
    assert "raise NotImplementedError" in stub and "return scale * x * x" not in stub
    assert "| `square` | 10 |" in (tmp_path / "template" / "README.md").read_text()
