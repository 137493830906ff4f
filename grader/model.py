"""The records that flow between the grader's steps: what one layer makes and another reads
lives here, so that no layer imports another only for a type (tests/test_layering.py).

Frozen, but for the two that are filled in as things happen: the load report (by the sandbox,
as the worker reports) and a public test's result (by the pytest hooks of the self-check)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping, get_args

from grader import points as pts


@dataclass(frozen=True)
class Assignment:
    """An assignment as the instructor configured it in `assignments/<name>/assignment.json`.

    `points` maps each graded function, in handout order, to the points it is worth.
    Paths are absolute.
    """

    name: str
    title: str
    module: str
    directory: Path
    reference: Path
    public_tests: Path
    handout: Path
    template: Path
    points: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", MappingProxyType(dict(self.points)))

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))


@dataclass(frozen=True)
class Cause:
    """A misconception named as the likely cause of a failure (or another that fits as well):
    `label` ("Likely cause", "Or perhaps") and `text` (its title and explanation)."""

    label: str
    text: str


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: all or nothing of its points, and what the student should read.

    `message` is all of it; when the failure was diagnosed, its last lines are the `causes`,
    one line "label: text" each, after the failure's `detail`.
    """

    function: str
    name: str
    score: float
    max_score: float
    passed: bool
    message: str
    visibility: str
    seconds: float = 0.0
    misconceptions: tuple[str, ...] = ()  # the known mistake diagnosed as the failure's likely cause (none or one title)
    # Why no check of this function could grade it (the submission did not load, the function is
    # not defined, or not implemented): the same for all its checks, so reports say it once.
    function_problem: str = ""
    # A supporting check that held but pays nothing, since its function earned no evidence points
    # (grader.grading.scoring.count_supporting): `passed` is False, and yet the answer was not caught.
    uncounted: bool = False
    causes: tuple[Cause, ...] = ()

    @property
    def detail(self) -> str:
        """The message without its causes' lines: what failed, before why it may have."""
        lines = "".join(f"\n{cause.label}: {cause.text}" for cause in self.causes)
        return self.message[: len(self.message) - len(lines)] if lines and self.message.endswith(lines) else self.message


# How far the submission's code got before its checks ran: its top-level code ran to its end
# ("loaded"), or ran but raised or was stopped in a cell or line ("partial": some functions may
# be missing); it could not be run at all ("not_run": it hung, died or broke the channel while
# loading); or nothing could be graded ("unreadable": no file, not text, too large, not a notebook).
LoadStatus = Literal["loaded", "partial", "not_run", "unreadable"]
LOAD_STATUSES: tuple[LoadStatus, ...] = get_args(LoadStatus)


@dataclass(frozen=True)
class Report:
    """Everything known about one graded submission, ready for the writers.

    `load_status` is None when the submission was not graded (a fault of the grader).
    """

    assignment: str
    submission: str
    results: tuple[CheckResult, ...]
    notes: tuple[str, ...]
    student_output: str
    execution_time: float
    function_points: Mapping[str, float]
    grader_fault: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    function_hints: Mapping[str, str] = field(default_factory=dict)  # the template's TODO hint per function
    load_status: LoadStatus | None = None

    @property
    def score(self) -> float:
        """The sum of the checks' scores, in whole hundredths (grader/points.py)."""
        return pts.total(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return pts.total(self.function_points.values())

    def function_scores(self) -> dict[str, tuple[float, float]]:
        """(score, points) per function, in the assignment's order, in whole hundredths."""
        units = {name: 0 for name in self.function_points}
        for result in self.results:
            units[result.function] = units.get(result.function, 0) + pts.to_units(result.score)
        return {name: (pts.from_units(score), pts.exact(self.function_points.get(name, 0.0)))
                for name, score in units.items()}


# --- the submission's run in the sandbox ------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """Source code to run in the worker; `filename` is what tracebacks and feedback name.
    `in_notebook`: a code cell of the student's notebook (not a whole .py file, nor the
    grader's own prelude), so that its notes say "that cell", not "the file"."""

    source: str
    filename: str
    in_notebook: bool = False


# Why a load did not finish: it ran out of time ("time"), its worker died ("died"), or it wrote
# something to the grader's channel that is not what an honest worker sends ("invalid_message").
LoadFailure = Literal["time", "died", "invalid_message"]


@dataclass
class LoadReport:
    """What happened when the submission's cells ran: errors per cell, functions defined.

    Each error is {"type": str, "message": str, "cell": index into the cells, "where": None or
    {"file": a cell's file name, "line": int or None}}; a cell that could not be stopped and was
    skipped (type "CellSkipped") also has "cause", the LoadFailure of the run it ended.
    """

    errors: list[dict] = field(default_factory=list)
    defined: list[str] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)  # unavailable modules the submission imported
    not_functions: dict[str, str] = field(default_factory=dict)  # expected name -> type of the non-function bound to it
    failure: str | None = None  # the load itself did not finish (timeout, crash, an invalid report)
    failure_kind: LoadFailure | None = None  # why, when it did not


# --- known mistakes, named in feedback and in the self-check's hints --------------------

@dataclass(frozen=True)
class Misconception:
    """A known mistake; `function` None means it applies to every function. How each of
    `implementation`, `detect` and `error_pattern` recognises it: grader/authoring/diagnosis.py."""

    label: str
    title: str
    explanation: str
    function: str | None = None
    implementation: Callable[..., Any] | None = None
    error_pattern: str | None = None
    detect: Callable[[Any, Any, Any], bool] | None = None


# --- `grader check`, the self-check -----------------------------------------------------

@dataclass
class PublicTestResult:
    """One public test: its name, the function it tests, and why it failed (None if it passed)."""

    name: str
    function: str | None
    failure: str | None = None
    student_error: str | None = None  # "Type: message" when the student's code raised

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class CheckPlan:
    """What `grader check` will run: the student's file, the public tests, and what grader.json says."""

    submission: Path
    tests_file: Path
    module: str
    assignment: str
    points: dict[str, float]  # graded function -> points, in handout order
    hints: dict[str, str] = field(default_factory=dict)
    error_hints: tuple[Misconception, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SelfCheckReport:
    """The outcome of `grader check`: one result per public test, and notes on the run."""

    plan: CheckPlan
    results: tuple[PublicTestResult, ...]
    notes: tuple[str, ...]
    problems: tuple[str, ...] = ()  # why tests could not run or be collected
    printed: str = ""  # what the student's code printed (captured and bounded by the sandbox)

    @property
    def all_passed(self) -> bool:
        return bool(self.results) and not self.problems and all(result.passed for result in self.results)


# --- `grader similarity`: submissions whose code is alike ---------------------------------

@dataclass(frozen=True)
class SimilaritySettings:
    """How a class is compared (grader/classroom/similarity.py, which says why each default).

    `kgram` tokens make a k-gram; winnowing keeps one fingerprint per `window` k-grams at least;
    a fingerprint found in more than `common_share` of the class (and in more than two
    submissions) is ignored; a pair is reported when its score is at least `min_score` and it
    shares at least `min_shared` fingerprints, at most `max_pairs` pairs, highest first.
    """

    kgram: int = 20
    window: int = 10
    common_share: float = 0.5
    min_score: float = 0.3
    max_pairs: int = 100
    min_shared: int = 8


@dataclass(frozen=True)
class Passage:
    """A passage two submissions share: lines `a_lines` (first, last; 1-based, inclusive) of the
    first one's listing and `b_lines` of the second's, found by `fingerprints` shared fingerprints.
    `a_spans` and `b_spans` are the lines its shared k-grams cover, as disjoint (first, last)
    ranges in order: what differs inside the passage is in neither."""

    a_lines: tuple[int, int]
    b_lines: tuple[int, int]
    fingerprints: int
    a_spans: tuple[tuple[int, int], ...] = ()
    b_spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose code is alike: `a` comes before `b` in the class's order; `score` is
    `shared / min(a_fingerprints, b_fingerprints)`, the share of the smaller one's fingerprints
    (those not ignored) that the other has too."""

    a: str
    b: str
    score: float
    shared: int
    a_fingerprints: int
    b_fingerprints: int
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class CodeListing:
    """What was compared of one student's submission, as shown beside another: the file's lines
    (a notebook's code cells in order, each after a `# %% NAME cell N` line)."""

    student: str
    file: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class SimilarityReport:
    """The similarity of a class's submissions, ready for the writers (grader/report/similarity.py).

    `skipped` and `notes` are (student, one line) in the class's order: the submissions not
    compared and why, and what was left out of those compared (a notebook cell tokenize cannot
    read). `template` names the template files whose code was ignored (empty: none was found);
    `template_kgrams` is how many distinct k-grams they hold, `template_ignored` how many distinct
    fingerprints of the class were ignored as theirs; `common_limit` is the most submissions a
    fingerprint may be found in and still count, and `common_ignored` how many distinct
    fingerprints were found in more; `evidence` is how many distinct fingerprints were left.
    `no_own_code`: students compared whose every fingerprint was ignored (the template, untouched).
    `pairs` are the reported pairs, highest score first; `pairs_not_shown` met the thresholds but
    are beyond `settings.max_pairs`. `listings` holds the code of every student in `pairs`.
    """

    assignment: str
    title: str
    settings: SimilaritySettings
    compared: int
    skipped: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...]
    template: tuple[str, ...]
    template_kgrams: int
    template_ignored: int
    common_limit: int
    common_ignored: int
    evidence: int
    no_own_code: tuple[str, ...]
    pairs: tuple[SimilarPair, ...]
    pairs_not_shown: int
    listings: Mapping[str, CodeListing] = field(default_factory=dict)
