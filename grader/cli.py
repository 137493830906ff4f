"""The `grader` command line: parse arguments, run a step, print, choose the exit code.

Exit status: 0 when the command did its job (whatever a submission scored), 2 for a usage
error (one line on stderr), 1 only for a fault of the grader itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import __version__
from grader.assignment import load_assignment
from grader.errors import UsageError

EXIT_OK, EXIT_GRADER_FAULT, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grader", description="Grade numpy homework against hidden property checks.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    parser.add_argument(
        "--assignments",
        type=Path,
        default=Path("assignments"),
        metavar="DIR",
        help="folder holding the assignments (default: ./assignments)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    release = commands.add_parser("release", help="write the student template from the reference solution")
    release.add_argument("assignment", help="assignment name, e.g. hw1")
    release.add_argument("--out", type=Path, metavar="DIR", help="where to write (default: the assignment's template folder)")
    release.set_defaults(run=_run_release)
    return parser


def _run_release(args: argparse.Namespace) -> int:
    from grader.release import write_template

    assignment = load_assignment(args.assignment, args.assignments)
    for path in write_template(assignment, args.out):
        print(f"wrote {path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(f"grader: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
