"""The `grader` command line: parse arguments, run a step, print, choose the exit code.

Exit status: 0 when the command did its job (whatever a submission scored), 2 for a usage
error (one line on stderr), 1 only for a fault of the grader itself.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import json
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import NoReturn

from grader import __version__
from grader.errors import UsageError
from grader.grading.assignment import load_assignment
from grader.report.escaping import plain_text
from grader.report.lms_gradebook import FORMAT_NAMES as LMS_FORMATS, MISSING_CHOICES, MOODLE_FIELDS
from grader.writing import write_atomic

EXIT_OK, EXIT_GRADER_FAULT, EXIT_USAGE = 0, 1, 2
EXIT_TESTS_FAILED = 1  # grader check: a public test failed
EXIT_BELOW_THRESHOLD = 1  # grader grade --fail-under: the score is below the threshold
EXIT_AUDIT_FAILED = 1  # grader audit: the assignment failed its self-test
_ASSIGNMENTS_HELP = "folder holding the assignments (default: ./assignments)"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """As argparse, but an unrecognised argument points to the help of the command it was given to,
        and an option of the command given before the command's name says where it goes."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command_parser", self)
            if extras[0] in command._option_string_actions:
                command.error(f"{extras[0]} is an option of '{command.prog}': put it after '{command.prog}'")
            command.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def _add_command(commands, name: str, run, *, reads_assignments: bool = True, **kwargs) -> argparse.ArgumentParser:
    """A subcommand; one that reads the assignments also takes --assignments after its name.

    That copy of the option defaults to SUPPRESS: a default there would overwrite a value given
    before the command name.
    """
    command = commands.add_parser(name, allow_abbrev=False, **kwargs)
    if reads_assignments:
        command.add_argument("--assignments", type=Path, default=argparse.SUPPRESS, metavar="DIR", help=_ASSIGNMENTS_HELP)
    command.set_defaults(run=run, command_parser=command)
    return command


def build_parser() -> argparse.ArgumentParser:
    """The `grader` parser. Every option goes anywhere after its command's name (before, between or
    after the positionals); --assignments also goes before the command name."""
    parser = _Parser(prog="grader", description="Grade numpy homework against hidden property checks.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    parser.add_argument("--assignments", type=Path, default=Path("assignments"), metavar="DIR", help=_ASSIGNMENTS_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    release = _add_command(commands, "release", _run_release, help="write the student template from the reference solution")
    release.add_argument("assignment", help="assignment name, e.g. hw1")
    release.add_argument("--out", type=Path, metavar="DIR", help="where to write (default: the assignment's template folder)")

    new = _add_command(commands, "new", _run_new,
                       help="start an assignment: a small working example to make your own (docs/authoring.md)")
    new.add_argument("assignment", help="the new assignment's name, also its module's, e.g. hw3")

    checks = _add_command(commands, "checks", _run_checks, help="list an assignment's checks with their points (instructors only)")
    checks.add_argument("assignment", help="assignment name, e.g. hw1")

    probe = _add_command(commands, "isolation", _run_isolation, reads_assignments=False,
                         help="show the sandbox layers a level gets on this machine, and what each missing one means")
    probe.add_argument("--isolation", default="auto", metavar="LEVEL", help="auto, strict, landlock or bwrap")

    grade = _add_command(commands, "grade", _run_grade, help="grade one submission (.py, .ipynb, or a folder holding one)")
    grade.add_argument("assignment", help="assignment name, e.g. hw1")
    grade.add_argument("submission", type=Path, help="the student's hw1.py or hw1.ipynb, or a folder holding one")
    grade.add_argument("--results-json", type=Path, metavar="FILE", help="write Gradescope's results.json here")
    grade.add_argument("--feedback", type=Path, metavar="FILE", help="write the student's feedback (Markdown) here")
    grade.add_argument("--quiet", action="store_true", help="print nothing but errors")
    grade.add_argument("--isolation", default="auto", metavar="LEVEL",
                       help="auto (default: every layer available here), strict (refuse without a filesystem "
                            "barrier), or one barrier alone, for testing: landlock, bwrap")
    grade.add_argument("--junit-xml", type=Path, metavar="FILE", help="write JUnit XML (one test case per check) here")
    grade.add_argument("--fail-under", type=float, metavar="SCORE",
                       help="exit with status 1 when the score is below SCORE (every report is still written)")

    export = _add_command(commands, "export", None,
                          help="package an assignment for Gradescope or GitHub Classroom, or a class's grades for an LMS")
    targets = export.add_subparsers(dest="target", metavar="TARGET", parser_class=_Parser)
    targets.required = True
    gradescope = _add_command(targets, "gradescope", _run_export_gradescope, help="build Gradescope's autograder.zip")
    gradescope.add_argument("assignment", help="assignment name, e.g. hw1")
    gradescope.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"), metavar="ZIP",
                            help="the zip to write (default: autograder.zip)")
    github = _add_command(targets, "github", _run_export_github,
                          help="write the GitHub Actions workflow for students' repositories and the private payload")
    github.add_argument("assignment", help="assignment name, e.g. hw1")
    github.add_argument("-o", "--output", type=Path, default=Path("github-export"), metavar="DIR",
                        help="the folder to write (default: github-export)")
    lms = _add_command(targets, "gradebook", _run_export_gradebook,
                       help="a class's grades, from the records grade-all wrote into OUT, as the CSV file an LMS "
                            "imports (Canvas, Moodle, Blackboard Learn, or a plain csv)")
    lms.add_argument("assignment", help="assignment name, e.g. hw1")
    lms.add_argument("out", type=Path, metavar="OUT", help="the folder grade-all wrote (its --out)")
    lms.add_argument("--format", required=True, choices=LMS_FORMATS,
                     help="the LMS whose import format to write (csv: student,id,score,max_score for any other)")
    lms.add_argument("--roster", type=Path, required=True, metavar="ROSTER.csv",
                     help="a CSV with a header: 'student' (the name grade-all gives: the file's stem) and the "
                          "student's ids in the LMS: canvas needs id, sis_id or login; moodle email (or what "
                          "--identify-by says); blackboard username; csv id (the README lists every column)")
    lms.add_argument("-o", "--output", type=Path, metavar="FILE",
                     help="the file to write (default: OUT/gradebook-FORMAT.csv); who is left out or has no grade "
                          "is also listed in FILE's .unmatched.csv beside it (gradebook-FORMAT.unmatched.csv)")
    lms.add_argument("--column", metavar="HEADER",
                     help="the grade column's header (default: the assignment's name); to fill a column the LMS "
                          "has, copy its header from the LMS's own export: Canvas 'Homework 1 (12345)', Blackboard "
                          "'Homework 1 [Total Pts: 10 Score] |12345'")
    lms.add_argument("--identify-by", choices=tuple(MOODLE_FIELDS), metavar="FIELD",
                     help="moodle only: the user field rows are matched on: email (default; roster column email), "
                          "idnumber (roster column sis_id) or username")
    lms.add_argument("--missing", choices=MISSING_CHOICES, default="blank",
                     help="the grade of a roster student with no graded submission: blank (default: no grade, as the "
                          "LMS shows an ungraded student) or zero")

    batch = _add_command(commands, "grade-all", _run_grade_all,
                         help="grade a whole class: every file or sub-folder of FOLDER is one student")
    batch.add_argument("assignment", help="assignment name, e.g. hw1")
    batch.add_argument("folder", type=Path, help="a folder holding one .py, .ipynb or folder per student")
    batch.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="where to write gradebook.csv, summary.html and a folder per student")
    batch.add_argument("--jobs", type=int, metavar="N", help="grading processes (default: one per CPU)")
    batch.add_argument("--cluster", metavar="ADDRESS",
                       help="grade on a Dask cluster: a scheduler's address (tcp://host:8786), or local:N to start "
                            "N worker processes here (needs: pip install 'nlp-grader[cluster]')")
    batch.add_argument("--force", action="store_true", help="regrade every student, even those graded before and unchanged")
    batch.add_argument("--quiet", action="store_true", help="no progress bar or summary; errors only")
    batch.add_argument("--isolation", default="auto", metavar="LEVEL", help="as for grade (default: auto)")
    batch.add_argument("--similarity", action="store_true",
                       help="also compare the submissions (as `grader similarity` does, with its defaults) into "
                            "DIR/similarity/, and add a section to summary.html")
    _add_similarity_command(commands)

    worker = _add_command(commands, "worker", _run_worker, reads_assignments=False,
                          help="start a Dask worker for grade-all --cluster: the sandbox probe, then "
                               "`dask worker ADDRESS --nthreads 1` (needs the cluster extra)")
    worker.add_argument("address", help="the scheduler's address, e.g. tcp://scheduler:8786")
    worker.add_argument("dask_args", nargs="*", metavar="-- DASK-WORKER-ARGS",
                        help="more options for `dask worker`, after --, e.g. -- --memory-limit 4GB")
    worker.add_argument("--isolation", default="auto", metavar="LEVEL",
                        help="the level to probe: strict refuses to start without a filesystem barrier (default: auto)")

    audit = _add_command(commands, "audit", _run_audit,
                         help="instructors: self-test an assignment (reference, stubs, input-ignoring answers, mutants)")
    audit.add_argument("assignment", help="assignment name, e.g. hw1")
    audit.add_argument("--jobs", type=int, metavar="N", help="grading processes (default: one per CPU)")

    check = _add_command(commands, "check", _run_check, reads_assignments=False,
                         help="students: run the public tests on your file, in the grader's sandbox")
    check.add_argument("submission", type=Path, nargs="?",
                       help="your hw1.py or hw1.ipynb (default: the one in this folder; the newer if both are)")
    check.add_argument("--isolation", default="auto", metavar="LEVEL", help="as for grade (default: auto)")
    return parser


def _run_release(args: argparse.Namespace) -> int:
    from grader.distribute.release import write_template

    assignment = load_assignment(args.assignment, args.assignments)
    for path in write_template(assignment, args.out):
        print(f"wrote {path}")
    return EXIT_OK


def _run_new(args: argparse.Namespace) -> int:
    from grader.distribute.release import write_template
    from grader.distribute.scaffold import plan_scaffold, shown, write_scaffold

    scaffold = plan_scaffold(args.assignment, args.assignments)
    written = write_scaffold(scaffold)
    released = write_template(load_assignment(scaffold.name, args.assignments))
    name = scaffold.name
    where = "" if args.assignments == Path("assignments") else f" --assignments {shown(args.assignments)}"
    folders = [(f"{shown(folder)}/", ", ".join(path.name for path in paths if path.parent == folder))
               for folder, paths in ((scaffold.assignment, written), (scaffold.solutions, written),
                                     (scaffold.template, released))]
    tries = [(f"grader{where} checks {name}", "the hidden checks"),
             (f"grader{where} grade {name} {shown(scaffold.solutions / f'{name}.py')}", "the reference: full marks"),
             (f"grader{where} grade {name} {shown(scaffold.template / f'{name}.py')}", "the stubs: 0")]
    print(f"created {name}, a working example to make your own:")
    _print_columns(folders, "  ", "  ")
    print("try it:")
    _print_columns(tries, "  ", "  # ")
    print(f"then make it yours (docs/authoring.md): edit the reference and the checks, and run grader{where} release "
          f"{name} again")
    return EXIT_OK


def _print_columns(rows: list[tuple[str, str]], indent: str, between: str) -> None:
    width = max(len(left) for left, _ in rows)
    for left, right in rows:
        print(f"{indent}{left:<{width}}{between}{right}")


def _run_isolation(args: argparse.Namespace) -> int:
    from grader.sandbox.isolation import choose

    print(choose(args.isolation).describe())
    return EXIT_OK


def _run_checks(args: argparse.Namespace) -> int:
    from grader.grading.assignment import load_checks, load_reference
    from grader.grading.scoring import check_points

    assignment = load_assignment(args.assignment, args.assignments)
    checks, misconceptions = load_checks(assignment, load_reference(assignment))
    print("| function | check | kind | points | cases (at least) | visibility |")
    print("|---|---|---|---:|---:|---|")
    for check, points in zip(checks, check_points(checks, assignment.points)):
        kind = "evidence" if check.evidence else "supporting"
        print(f"| {check.function} | {check.description} | {kind} | {points:g} | {check.max_examples} | {check.visibility} |")
    print("\nevidence: compares with the reference; supporting: pays only once an evidence check of its function passed")
    print(f"\n{len(checks)} checks, {assignment.max_score:g} points, {len(misconceptions)} known misconceptions")
    return EXIT_OK


def _confinement(level: str, quiet: bool):
    """The isolation for `level`; unless `quiet`, one warning on stderr per layer this machine lacks
    (called once per command: grade-all's jobs choose the same layers without a word)."""
    from grader.sandbox.isolation import choose

    confinement = choose(level)
    if confinement.warnings and not quiet:
        print(confinement.warning_text(), file=sys.stderr)
    return confinement


def _run_export_gradescope(args: argparse.Namespace) -> int:
    from grader.distribute.export import gradescope_zip

    assignment = load_assignment(args.assignment, args.assignments)
    if args.output.is_dir():
        raise UsageError(f"-o {args.output} is a folder; name the zip to write, e.g. -o autograder.zip")
    data = gradescope_zip(assignment)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data) / 1024:.0f} KiB): upload it as the assignment's autograder on Gradescope "
          "(Configure Autograder > Zip file upload)")
    return EXIT_OK


def _run_export_github(args: argparse.Namespace) -> int:
    from grader.distribute.export import github_export

    assignment = load_assignment(args.assignment, args.assignments)
    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"-o {args.output} is a file, not a folder")
    workflow, private = github_export(assignment, args.output)
    print(f"wrote {workflow}: copy it into the starter repository at .github/workflows/")
    print(f"wrote {private}/: push its contents to a private repository, then set the organization secrets "
          "GRADER_PRIVATE_REPO and GRADER_PRIVATE_TOKEN (see the README, \"GitHub Classroom\")")
    return EXIT_OK


def _run_export_gradebook(args: argparse.Namespace) -> int:
    """Write the LMS file and the listing beside it; say on stderr who is left out or has no grade."""
    from grader.classroom.class_records import read_class_records
    from grader.classroom.lms_export import match_grades
    from grader.classroom.lms_roster import check_identifiers, read_lms_roster
    from grader.grading.submission_finding import listing
    from grader.points import format_points
    from grader.report.lms_gradebook import (FAULTED, NO_SUBMISSION, NOT_IN_ROSTER, UNREADABLE, default_export_name,
                                             lms_format, unmatched_csv, unmatched_name)
    from grader.report.terminal import terminal_note

    if args.identify_by is not None and args.format != "moodle":
        raise UsageError(f"--identify-by is for --format moodle (not {args.format})")
    lms = lms_format(args.format, args.identify_by or "email")
    assignment = load_assignment(args.assignment, args.assignments)
    column = assignment.name if args.column is None else args.column.strip()
    if args.column is not None and lms.name == "csv":
        raise UsageError("--column does not apply to --format csv: its header is fixed (student,id,score,max_score)")
    if not column or any(char in column for char in "\r\n"):
        raise UsageError("--column must be one line of text: the grade column's header")
    if column in lms.fixed_headers:
        raise UsageError(f"--column {column!r} is the name of one of the {lms.lms} file's own columns")
    output = args.output if args.output is not None else args.out / default_export_name(lms.name)
    listing_path = output.with_name(unmatched_name(output.name))
    if output.is_dir():
        raise UsageError(f"{output} is a folder: give the file to write with -o FILE")
    if args.roster.resolve() in (output.resolve(), listing_path.resolve()):
        raise UsageError(f"{output} would overwrite the roster: give another file with -o FILE")
    roster = read_lms_roster(args.roster)
    check_identifiers(roster, lms.identifiers, lms.name)
    export = match_grades(roster, read_class_records(args.out, assignment), assignment.max_score, args.missing)
    write_atomic(output, lms.write(export.rows, column, assignment.max_score))
    write_atomic(listing_path, unmatched_csv(export.unmatched))

    def say(problem: str, prefix: str, what: str) -> None:
        names = [entry.student for entry in export.listed(problem)]
        if names:
            print(terminal_note(f"{_count(len(names), 'student')} {what}: {listing(names)}", prefix), file=sys.stderr)

    zero = args.missing == "zero"
    say(NOT_IN_ROSTER, "grader: warning: ", "graded but not in the roster, so not in the export")
    say(FAULTED, "grader: warning: ", "with a fault of the grader, exported with an empty grade (run grade-all again)")
    say(UNREADABLE, "grader: warning: ", "whose record.json could not be read (no grade exported)")
    say(NO_SUBMISSION, "grader: note: ", f"in the roster with no graded submission, exported with "
                                         f"{'0' if zero else 'an empty grade'}")
    if lms.name == "blackboard" and not re.search(r"\|\s*\w+\s*$", column):
        print(terminal_note(f"Blackboard creates a new column for the header {column!r} (it has no '|<column id>'): a "
                            "text column worth 0 points in the Original view, to edit after the upload; to fill an "
                            "existing column, give --column its header from a Grade Center download",
                            "grader: note: "), file=sys.stderr)
    graded = sum(1 for row in export.rows if row.score is not None)
    where = "" if lms.name == "csv" else f" in the column {column!r}"
    print(f"wrote {output}: {_count(len(export.rows), 'roster student')}, {graded} with a grade{where} (out of "
          f"{format_points(assignment.max_score)} points): {lms.import_hint}")
    print(f"wrote {listing_path}: {_count(len(export.unmatched), 'student')} left out or without a grade")
    return EXIT_OK


def _run_grade(args: argparse.Namespace) -> int:
    from grader.grading.student_run import start_student_run
    from grader.grading.submission_finding import require_submission
    from grader.model import Report
    from grader.sandbox.limits import SandboxLimits

    assignment = load_assignment(args.assignment, args.assignments)
    require_submission(args.submission, assignment.module, "the student's")
    if args.fail_under is not None and not 0 <= args.fail_under <= assignment.max_score:
        raise UsageError(f"--fail-under must be between 0 and {assignment.max_score:g} (got {args.fail_under:g})")
    confinement = _confinement(args.isolation, args.quiet)
    started = time.perf_counter()
    status = EXIT_OK
    run = None
    try:
        # the worker starts (and runs the submission) on the other core while the checks load
        run = start_student_run(assignment, args.submission, SandboxLimits(), confinement)
        from grader.grading.pipeline import grade_submission

        report = grade_submission(assignment, args.submission, confinement=confinement, run=run)
    except UsageError:
        raise
    except Exception as error:  # a fault of the grader: still write a valid results.json that says so
        status = EXIT_GRADER_FAULT
        fault = f"{type(error).__name__}: {error}"
        print(plain_text(f"grader: internal error while grading {args.submission}: {fault}"), file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        report = Report(assignment=assignment.name, submission=args.submission.name, results=(), notes=(),
                        student_output="", execution_time=time.perf_counter() - started,
                        function_points=dict(assignment.points), grader_fault=fault,
                        extra={"isolation": confinement.as_dict()})
    finally:
        if run is not None:
            run.close()
    from grader.points import format_points
    from grader.report.feedback import feedback_markdown
    from grader.report.results_json import results_json
    from grader.report.terminal import terminal_table

    if args.results_json:
        write_atomic(args.results_json, json.dumps(results_json(report), indent=2) + "\n")
    if args.feedback:
        write_atomic(args.feedback, feedback_markdown(report))
    if args.junit_xml:
        from grader.report.junit import junit_xml

        write_atomic(args.junit_xml, junit_xml(report))
    if not args.quiet:
        print(terminal_table(report))
        print(confinement.summary)
    if status == EXIT_OK and args.fail_under is not None and report.score < args.fail_under:
        print(f"grader: score {format_points(report.score)} is below --fail-under {args.fail_under:g}", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    return status


def _run_grade_all(args: argparse.Namespace) -> int:
    """Exit 0 when every student has a row (whatever they scored), 1 if the grader failed on some."""
    from tqdm import tqdm

    from grader.classroom.batch import check_jobs, grade_all, plan, skipped_note
    from grader.report.class_summary import summarise
    from grader.report.gradebook import gradebook_csv
    from grader.report.html import summary_html
    from grader.report.terminal import terminal_note

    assignment = load_assignment(args.assignment, args.assignments)
    cluster, ClusterSession = None, None
    if args.cluster is not None:
        from grader.classroom.cluster import ClusterSession, import_distributed, parse_cluster

        if args.jobs is not None:
            raise UsageError("--jobs and --cluster: choose one (a cluster's workers are its own processes)")
        cluster = parse_cluster(args.cluster)
        import_distributed()
    jobs = check_jobs(args.jobs)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder")
    if args.out.resolve() == args.folder.resolve():
        raise UsageError("--out must not be the submissions folder itself: its student folders would be taken for students")
    batch_plan = plan(assignment, args.folder, args.out, args.force)
    # a usage error (unknown level, strict without a barrier) stops here; else the warnings, once for the class.
    # On a cluster each worker probes its own sandbox (grader.classroom.cluster): this machine grades nothing,
    # unless the cluster is local:N, whose workers are this machine's.
    if cluster is None or cluster.local_workers:
        _confinement(args.isolation, args.quiet)
    skipped = skipped_note(batch_plan.skipped)
    run_notes = ([skipped] if skipped else []) + list(batch_plan.warnings)
    if not args.quiet:  # before grading, so that a file or a name to fix is seen at once
        if skipped:
            print(terminal_note(skipped, "grader: note: "), file=sys.stderr)
        for warning in batch_plan.warnings:
            print(terminal_note(warning, "grader: warning: "), file=sys.stderr)
    # a cluster is reached (and its workers given the assignment) before the bar: a usage error stops here too
    session = (ClusterSession(cluster, assignment, args.isolation) if cluster is not None and batch_plan.keys
               else contextlib.nullcontext())
    with session as opened:
        # only those to grade count; with none (every student reused), no bar at all: the summary line says so
        bar = tqdm(total=len(batch_plan.keys), unit="student", disable=args.quiet or not batch_plan.keys, file=sys.stderr,
                   dynamic_ncols=True,
                   desc=f"grading {len(batch_plan.keys)} of {len(batch_plan.students)}",
                   bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed} elapsed, ETA {remaining}]")
        try:
            result = grade_all(assignment, batch_plan, args.out, jobs, args.isolation, bar.update, opened)
        except KeyboardInterrupt:
            bar.close()
            print(f"grader: interrupted; every student finished so far is saved in {args.out}: "
                  "run the same command again to grade the rest", file=sys.stderr)
            return 130
    bar.close()
    functions = dict(assignment.points)
    write_atomic(args.out / "gradebook.csv", gradebook_csv(result.records, functions))
    run = {"graded": len(result.graded), "reused": len(result.reused), "faults": len(result.faults),
           "seconds": result.seconds, "jobs": jobs, "notes": run_notes,
           **({"cluster": cluster.label} if cluster else {})}
    similarity = _similarity_section(assignment, batch_plan.students, args.out, jobs, args.quiet) if args.similarity else None
    write_atomic(args.out / "summary.html",
                 summary_html(summarise(assignment.name, assignment.title, result.records, functions, run, similarity)))
    if not args.quiet:
        mean = sum(r["score"] for r in result.records) / max(1, len(result.records))
        faults = f", {_count(len(result.faults), 'grader fault')}" if result.faults else ""
        print(f"{_count(len(result.records), 'student')}: graded {len(result.graded)}, reused {len(result.reused)} "
              f"unchanged since the last run{faults}; mean score {mean:.2f} / {assignment.max_score:g}")
        print(f"wrote {args.out / 'gradebook.csv'}, {args.out / 'summary.html'} and a folder per student")
    return EXIT_GRADER_FAULT if result.faults else EXIT_OK


# --- grader similarity, and grade-all --similarity -----------------------------------------

def _add_similarity_command(commands) -> None:
    from grader.model import SimilaritySettings

    default = SimilaritySettings()
    similarity = _add_command(commands, "similarity", _run_similarity,
                              help="pairs of submissions whose code is alike, ranked, side by side (a reason to look, "
                                   "not a verdict)")
    similarity.add_argument("assignment", help="assignment name, e.g. hw1")
    similarity.add_argument("folder", type=Path, help="a folder holding one .py, .ipynb or folder per student")
    similarity.add_argument("--out", type=Path, required=True, metavar="DIR",
                            help="where to write similarity.html, pairs.csv and pairs/, a page per pair")
    similarity.add_argument("--kgram", type=int, default=default.kgram, metavar="TOKENS",
                            help=f"tokens per hashed k-gram (default: {default.kgram})")
    similarity.add_argument("--window", type=int, default=default.window, metavar="N",
                            help=f"winnowing window, in k-grams (default: {default.window})")
    similarity.add_argument("--common", type=float, default=default.common_share, metavar="SHARE",
                            help="ignore code found in more than this share of the submissions "
                                 f"(default: {default.common_share:g})")
    similarity.add_argument("--min-score", type=float, default=default.min_score, metavar="SCORE",
                            help=f"report pairs scoring at least this, from 0 to 1 (default: {default.min_score:g})")
    similarity.add_argument("--max-pairs", type=int, default=default.max_pairs, metavar="N",
                            help=f"report at most N pairs, highest first (default: {default.max_pairs})")
    similarity.add_argument("--jobs", type=int, metavar="N",
                            help="processes reading the submissions of a large class (default: one per CPU)")
    similarity.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _run_similarity(args: argparse.Namespace) -> int:
    from grader.classroom.roster import read_roster
    from grader.classroom.similarity import PARALLEL_FROM, check_settings, compare_class
    from grader.model import SimilaritySettings
    from grader.report.terminal import terminal_note

    settings = SimilaritySettings(kgram=args.kgram, window=args.window, common_share=args.common,
                                  min_score=args.min_score, max_pairs=args.max_pairs)
    check_settings(settings)
    assignment = load_assignment(args.assignment, args.assignments)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder")
    if args.folder.exists() and args.out.resolve() == args.folder.resolve():
        raise UsageError("--out must not be the submissions folder itself: choose a folder of its own")
    roster = read_roster(args.folder, exclude=args.out)
    jobs = 1
    if args.jobs is not None or len(roster.students) >= PARALLEL_FROM or roster.skipped:
        # only then: grader.classroom.batch imports what grading needs (hypothesis), a fifth of a second
        from grader.classroom.batch import check_jobs, skipped_note

        jobs = check_jobs(args.jobs)
        if roster.skipped and not args.quiet:
            print(terminal_note(skipped_note(roster.skipped), "grader: note: "), file=sys.stderr)
    report = compare_class(assignment, roster.students, settings, jobs)
    written = _write_similarity(report, args.out, args.quiet)
    if not args.quiet:
        print(f"compared {_count(report.compared, 'submission')}, skipped {len(report.skipped)}; "
              f"{_count(len(report.pairs), 'pair')} reported (score at least {settings.min_score:g})"
              + (f", {report.pairs_not_shown} more not shown (--max-pairs)" if report.pairs_not_shown else ""))
        for rank, pair in enumerate(report.pairs[:5], start=1):
            print(plain_text(f"  {rank}. {pair.a} and {pair.b}: {pair.score:.3f}"))
        print(f"wrote {args.out / 'similarity.html'}, {args.out / 'pairs.csv'} and {_count(written, 'pair page')}: "
              "a high score is a reason to look, not a verdict")
    return EXIT_OK


def _write_similarity(report, out: Path, quiet: bool) -> int:
    """Write the report's files into `out` (removing pair pages of an earlier run that this one
    does not write), print each skipped submission with its reason; the number of pair pages."""
    import re

    from grader.report.similarity import PAIR_FOLDER, similarity_files
    from grader.report.terminal import terminal_note

    if not quiet:
        for student, reason in report.skipped:
            print(terminal_note(f"similarity: skipped {student}: {reason}", "grader: note: "), file=sys.stderr)
    files = similarity_files(report)
    for name, text in files.items():
        write_atomic(out / name, text)
    pages = out / PAIR_FOLDER
    for stale in sorted(pages.glob("pair-*.html")) if pages.is_dir() else ():
        if re.fullmatch(r"pair-\d+\.html", stale.name) and f"{PAIR_FOLDER}/{stale.name}" not in files:
            stale.unlink()
    return len(report.pairs)


def _similarity_section(assignment, students, out: Path, jobs: int, quiet: bool) -> dict:
    """grade-all --similarity: the report into OUT/similarity/, and summary.html's section."""
    from grader.classroom.batch import SIMILARITY_FOLDER
    from grader.classroom.similarity import compare_class
    from grader.model import SimilaritySettings
    from grader.report.similarity import summary_section

    report = compare_class(assignment, students, SimilaritySettings(), jobs)
    _write_similarity(report, out / SIMILARITY_FOLDER, quiet)
    if not quiet:
        print(f"similarity: {_count(len(report.pairs), 'pair')} reported, in {out / SIMILARITY_FOLDER / 'similarity.html'}")
    return summary_section(report, SIMILARITY_FOLDER)


def _count(n: int, noun: str) -> str:
    """`1 student`, `4 students`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _run_audit(args: argparse.Namespace) -> int:
    """Exit 0 when the assignment passes its self-test, 1 when any finding fails (grader/audit/)."""
    from tqdm import tqdm

    from grader.audit.run import plan_audit, run_audit
    from grader.audit.text import audit_text
    from grader.classroom.batch import check_jobs

    assignment = load_assignment(args.assignment, args.assignments)
    jobs = check_jobs(args.jobs)
    plan = plan_audit(assignment)
    bar = tqdm(total=len(plan.candidates), unit="grading", disable=not sys.stderr.isatty(), file=sys.stderr,
               dynamic_ncols=True, desc=f"grader audit {assignment.name}")
    try:
        report = run_audit(plan, jobs, bar.update)
    finally:
        bar.close()
    print(audit_text(report), end="")
    return EXIT_OK if report.passed else EXIT_AUDIT_FAILED


def _run_worker(args: argparse.Namespace) -> int:
    """Probe the sandbox (a usage error, exit 2, when --isolation cannot be met), say its layers,
    then become `dask worker ADDRESS --nthreads 1 ...`: one grading at a time per worker process,
    as the sandbox's limits assume."""
    from grader.classroom.cluster import RESOURCE, import_distributed, parse_cluster

    import_distributed()
    spec = parse_cluster(args.address)
    if spec.local_workers:
        raise UsageError(f"grader worker {args.address}: give the scheduler's address (tcp://host:8786); "
                         "local:N is for grade-all --cluster")
    if any(arg.split("=")[0] in ("--nthreads", "--resources") for arg in args.dask_args):
        raise UsageError("grader worker sets --nthreads 1 (one grading at a time per worker process: start more "
                         "workers, or --nworkers N) and --resources itself")
    confinement = _confinement(args.isolation, quiet=False)
    print(f"grader worker: {confinement.describe()}", flush=True)
    # the resource every grading task needs: only a worker whose sandbox passed this probe offers it
    command = [sys.executable, "-m", "distributed.cli.dask_worker", spec.address, "--nthreads", "1",
               "--resources", f"{RESOURCE}=1", *args.dask_args]
    sys.stderr.flush()
    # Dask's sampling profiler slows grading by about a tenth; a worker started by hand may still turn it on
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED", "False")
    os.execv(sys.executable, command)
    return EXIT_OK  # not reached


def _run_check(args: argparse.Namespace) -> int:
    """Exit 0 when every public test passes, 1 otherwise (the student's code, not a fault)."""
    from grader.selfcheck.check import plan_self_check, run_self_check

    plan = plan_self_check(args.submission, Path.cwd())
    report = run_self_check(plan, confinement=_confinement(args.isolation, quiet=False))
    from grader.report.self_check import self_check_text

    print(self_check_text(report))
    return EXIT_OK if report.all_passed else EXIT_TESTS_FAILED


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(plain_text(f"grader: error: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The `grader` command (and `python -m grader`): main(), then the process ends.

    Once the command is done (its files written whole and synced, the sandbox's workers and
    folders gone), the process ends without tearing down the interpreter: freeing every object
    of numpy and hypothesis one by one took longer than a student's self-check runs its tests.
    The exit functions still run, and the output is flushed. A command that left a thread
    running (a Dask client's) ends the usual way, which waits for it.
    """
    status = main()
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can be said on it
            pass
    os._exit(status)


if __name__ == "__main__":
    run()
