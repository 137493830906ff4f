"""Item 10: the always-visible summary tells nothing about checks shown later. Real CLI runs.

The submission is the reference with an `nll_loss` that overflows for logits of magnitude 1e3
(softmax without the max subtracted, `log(p + eps)`): it fails only the after-due-date check
of nll_loss. Gradescope shows results.json's top-level `output` at once, so it must not say
where those points went, nor the total, nor what the code printed during the hidden calls.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import REFERENCE_PATH
from grading_helpers import run_grader

NAIVE_NLL = '''

def nll_loss(logits, targets, mask=None):
    targets = np.asarray(targets)
    mask = np.ones(targets.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("no position counts")
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    p_target = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]
    return float(np.where(mask, -np.log(p_target + 1e-300), 0.0).sum() / mask.sum())
'''


def unstable_at_large_magnitudes(path: Path) -> Path:
    source = REFERENCE_PATH.read_text()
    source = source.replace("def nll_loss(", "def _stable_nll_loss(", 1)
    source = source.replace("return nll_loss(logits, targets, mask)", "return _stable_nll_loss(logits, targets, mask)")
    path.write_text(source + NAIVE_NLL)
    return path


def test_failing_only_an_after_due_date_check_leaks_nothing_in_the_visible_summary(tmp_path):
    submission = unstable_at_large_magnitudes(tmp_path / "hw1.py")
    results, feedback, junit = tmp_path / "results.json", tmp_path / "feedback.md", tmp_path / "junit.xml"
    completed = run_grader("grade", "hw1", submission, "--results-json", results, "--feedback", feedback,
                           "--junit-xml", junit, "--quiet")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(results.read_text())
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert [(t["tags"], t["visibility"]) for t in failed] == [(["nll_loss"], "after_due_date")]
    assert data["score"] < data["max_score"]  # the true total, for the gradebook; Gradescope hides it while tests are

    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    later = [t for t in data["tests"] if t["visibility"] != "visible"]
    shown, worth = sum(t["score"] for t in visible), sum(t["max_score"] for t in visible)
    output = data["output"]
    assert output.startswith(f"Score on the checks shown now: {round(shown, 4):g} / {round(worth, 4):g}\n")
    assert shown == worth
    assert f"{len(later)} more checks, worth {round(sum(t['max_score'] for t in later), 4):g} points" in output
    assert "Every check shown now passed." in output
    assert "nll_loss" not in output and "lost" not in output
    assert f"{data['score']:g}" not in output and f"{round(data['score'], 2):g}" not in output
    assert "RuntimeWarning" not in output and "overflow" not in output  # printed during the hidden calls
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"

    # feedback.md is the report after grading (handed out by the instructor; on Gradescope students
    # do not see it): it gives every outcome, the hidden check marked, without its inputs.
    text = feedback.read_text()
    assert "(hidden check)" in text and "This check is hidden: its inputs and results are not shown." in text
    assert re.search(r"\| `nll_loss` \| 7\.\d+ \| 8 \| partly \|", text)
