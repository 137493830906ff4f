"""How long `grader similarity` takes on a large class, against the time just to read and tokenise it.

    python benchmarks/bench_similarity.py [--students 500] [--copies 20] [--runs 3]

Generates a class of independent homework 1 submissions (seeded, so the same every time): each
has the template's fifteen signatures, a few helpers, and bodies of random numpy statements
(assignments, loops, conditions, calls, `np.einsum`, attribute chains), about 3,000 tokens like a
real homework; most open with the idiom everyone writes (`x = np.asarray(x, dtype=np.float64)`);
one in ten is a notebook (a cell per function). `--copies` of them are copied by another student,
disguised: every name changed, functions in another order, comments rewritten.

It then times, best of `--runs`:

- the yardstick: reading every submission as grading does (load_submission) and running the
  standard `tokenize` over it, nothing more: the least any token-based comparison costs;
- `grader similarity hw1 CLASS --out DIR --quiet`, the whole command as a user runs it (a new
  Python process: start-up and imports included; one job process per CPU);
- inside it, compare_class (read, tokenise, fingerprint, ignore, count pairs, passages) in one
  process and in one job process per CPU, and writing the report's files;

and prints each time, its ratio to the yardstick, and whether the planted copies are the top
pairs.
"""

from __future__ import annotations

import argparse
import ast
import io
import random
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.classroom.batch import check_jobs  # noqa: E402
from grader.classroom.roster import read_roster  # noqa: E402
from grader.classroom.similarity import compare_class  # noqa: E402
from grader.grading.assignment import load_assignment  # noqa: E402
from grader.grading.submission import load_submission  # noqa: E402
from grader.model import SimilaritySettings  # noqa: E402
from grader.report.similarity import similarity_files  # noqa: E402
from grader.writing import write_atomic  # noqa: E402

NP_FUNCTIONS = ("exp", "log", "tanh", "maximum", "minimum", "where", "zeros", "ones", "zeros_like", "stack", "concatenate",
                "matmul", "broadcast_to", "expand_dims", "moveaxis", "sqrt", "abs", "argmax", "take_along_axis",
                "logaddexp", "isfinite", "sum", "max", "mean", "einsum", "outer", "triu", "tril", "clip", "swapaxes")
METHODS = ("sum", "max", "mean", "reshape", "transpose", "astype", "copy", "swapaxes", "cumsum", "min", "any", "all")
ATTRIBUTES = ("shape", "T", "ndim", "size", "dtype")
OPERATORS = ("+", "-", "*", "/", "@", "**")
COMPARISONS = ("<", ">", "==", "!=", "<=", ">=")
WORDS = ("h", "c", "x", "a", "W", "dh", "grad", "out", "acc", "prev", "state", "mask", "logits", "probs", "scores", "tmp",
         "total", "step", "buf", "res", "val", "row", "col", "q", "k", "v", "z", "y", "delta", "m", "s", "p", "e", "d")


def signatures() -> list[str]:
    """The `def ...:` line(s) of each function of homework 1's template, as students start from them."""
    source = (REPO / "student_template" / "hw1" / "hw1.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    return ["\n".join(lines[node.lineno - 1:node.body[0].lineno - 1]) for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef)]


class Program:
    """A random homework: its structure is drawn from `seed`, its names from `names_seed`."""

    def __init__(self, seed: int, names_seed: int):
        self.rng = random.Random(seed)
        self.names = random.Random(names_seed)
        self.spelling: dict[int, str] = {}

    def name(self, index: int) -> str:
        """The `index`-th variable: its structure is the seed's, its spelling the names seed's."""
        if index not in self.spelling:
            self.spelling[index] = f"{self.names.choice(WORDS)}_{self.names.randrange(1000)}"
        return self.spelling[index]

    def atom(self) -> str:
        rng = self.rng
        choice = rng.random()
        if choice < 0.45:
            return self.name(rng.randrange(12))
        if choice < 0.6:
            return repr(rng.choice((0, 1, 2, -1, 0.5, 1e-9, 2.0)))
        if choice < 0.8:
            return f"{self.name(rng.randrange(12))}.{rng.choice(ATTRIBUTES)}"
        index = rng.choice(("...", ":", "0", "-1", "..., t, :", "t", ":, None"))
        return f"{self.name(rng.randrange(12))}[{index}]"

    def expression(self, depth: int = 2) -> str:
        rng = self.rng
        choice = rng.random()
        if depth <= 0 or choice < 0.3:
            return self.atom()
        if choice < 0.55:
            return f"{self.expression(depth - 1)} {rng.choice(OPERATORS)} {self.expression(depth - 1)}"
        if choice < 0.8:
            arguments = [self.expression(depth - 1) for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.4:
                arguments.append(f"axis={rng.choice((-1, -2, 0))}")
            return f"np.{rng.choice(NP_FUNCTIONS)}({', '.join(arguments)})"
        if choice < 0.92:
            return f"{self.name(rng.randrange(12))}.{rng.choice(METHODS)}({self.atom() if rng.random() < 0.5 else ''})"
        return f"({self.expression(depth - 1)})"

    def statements(self, count: int, indent: str, depth: int = 0) -> list[str]:
        rng, lines = self.rng, []
        for _ in range(count):
            choice = rng.random()
            if choice < 0.55 or depth >= 2:
                lines.append(f"{indent}{self.name(rng.randrange(12))} = {self.expression()}")
            elif choice < 0.65:
                lines.append(f"{indent}{self.name(rng.randrange(12))} {rng.choice(OPERATORS)}= {self.expression(1)}")
            elif choice < 0.8:
                lines.append(f"{indent}for {self.name(12)} in range({self.atom()}):")
                lines += self.statements(rng.randint(1, 3), indent + "    ", depth + 1)
            elif choice < 0.93:
                lines.append(f"{indent}if {self.expression(1)} {rng.choice(COMPARISONS)} {self.atom()}:")
                lines += self.statements(rng.randint(1, 2), indent + "    ", depth + 1)
            else:
                lines.append(f"{indent}# {self.names.choice(WORDS)} {self.names.choice(WORDS)}")
        return lines

    def functions(self, signatures: list[str]) -> list[str]:
        """The module's functions, each a string: a few helpers, then the graded ones."""
        rng = self.rng
        chunks = []
        for number in range(rng.randint(1, 4)):
            body = self.statements(rng.randint(3, 8), "    ") + [f"    return {self.expression(1)}"]
            chunks.append("\n".join([f"def _helper_{number}({self.name(0)}, {self.name(1)}):", *body]))
        for signature in signatures:
            body = (["    x = np.asarray(x, dtype=np.float64)"] if rng.random() < 0.6 else [])
            body += self.statements(rng.randint(6, 12), "    ") + [f"    return {self.expression()}"]
            chunks.append("\n".join([signature, *body]))
        return chunks


def write_class(folder: Path, students: int, copies: int) -> list[tuple[str, str]]:
    """Write the class into `folder`; the planted pairs (original, copy)."""
    import nbformat

    folder.mkdir(parents=True)
    heads = signatures()
    planted = []
    for number in range(students):
        original = number - students + copies  # the last `copies` students copy one of the first ones
        structure = 7919 * (original * 31 % (students - copies)) if original >= 0 else 7919 * number
        program = Program(seed=structure, names_seed=number)
        functions = program.functions(heads)
        if original >= 0:
            random.Random(number).shuffle(functions)  # a copy: functions in another order, its own names
            planted.append((f"student{original * 31 % (students - copies):03d}", f"student{number:03d}"))
        header = f"# Homework 1, student {number}\nimport numpy as np\n"
        if number % 10 == 9:
            notebook = nbformat.v4.new_notebook()
            notebook.cells = [nbformat.v4.new_code_cell(header)] + [nbformat.v4.new_code_cell(f) for f in functions]
            for index, cell in enumerate(notebook.cells):
                cell["id"] = f"cell-{index}"
            (folder / f"student{number:03d}.ipynb").write_text(nbformat.writes(notebook), encoding="utf-8")
        else:
            (folder / f"student{number:03d}.py").write_text(header + "\n\n" + "\n\n\n".join(functions) + "\n",
                                                            encoding="utf-8")
    return planted


def yardstick(folder: Path, module: str) -> tuple[float, int]:
    """Seconds to read every submission as grading does and tokenize it; the tokens read."""
    started, count = time.perf_counter(), 0
    for student in read_roster(folder).students:
        for cell in load_submission(student.path, module, must_exist=False).cells:
            count += sum(1 for _ in tokenize.generate_tokens(io.StringIO(cell.source).readline))
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--copies", type=int, default=20, help="students who hand in a disguised copy")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs of each")
    args = parser.parse_args()
    assignment = load_assignment("hw1", REPO / "assignments")
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as scratch:
        folder, out = Path(scratch) / "class", Path(scratch) / "out"
        planted = write_class(folder, args.students, args.copies)
        roster = read_roster(folder)
        read_and_tokenize = min(yardstick(folder, assignment.module)[0] for _ in range(args.runs))
        tokens = yardstick(folder, assignment.module)[1]
        jobs = check_jobs(None)
        command = [sys.executable, "-m", "grader", "similarity", "hw1", str(folder), "--out", str(out), "--quiet"]
        cli_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(command, cwd=REPO, check=True)
            cli_times.append(time.perf_counter() - started)
        compare_times: dict[int, list[float]] = {1: [], jobs: []}
        write_times = []
        for _ in range(args.runs):
            for count in compare_times:
                started = time.perf_counter()
                report = compare_class(assignment, roster.students, SimilaritySettings(), count)
                compare_times[count].append(time.perf_counter() - started)
            started = time.perf_counter()
            for name, text in similarity_files(report).items():
                write_atomic(out / name, text)
            write_times.append(time.perf_counter() - started)
    cli, write = min(cli_times), min(write_times)
    alone, parallel = min(compare_times[1]), min(compare_times[jobs])
    print(f"class: {args.students} submissions ({args.students // 10} notebooks), {tokens / args.students:,.0f} "
          f"tokens each on average, {len(planted)} disguised copies planted")
    print(f"yardstick, read and tokenize every submission:   {read_and_tokenize:6.2f} s")
    print(f"grader similarity (the whole command, {jobs} jobs):  {cli:6.2f} s   x{cli / read_and_tokenize:.2f} the yardstick")
    print(f"  compare_class, in 1 process:                    {alone:6.2f} s   x{alone / read_and_tokenize:.2f}")
    print(f"  compare_class, in {jobs} job processes:            {parallel:6.2f} s   x{parallel / read_and_tokenize:.2f}")
    print(f"  writing the report ({len(report.pairs)} pair pages):           {write:6.2f} s")
    top = {frozenset((pair.a, pair.b)) for pair in report.pairs[:len(planted)]}
    others = [pair.score for pair in report.pairs if frozenset((pair.a, pair.b)) not in {frozenset(p) for p in planted}]
    print(f"planted copies among the top {len(planted)} pairs: {len(top & {frozenset(p) for p in planted})} of "
          f"{len(planted)} (lowest {min(p.score for p in report.pairs[:len(planted)]):.3f}); other pairs reported: "
          f"{len(others)}{f' (highest {max(others):.3f})' if others else ''}; fingerprints ignored as common: "
          f"{report.common_ignored}, as template: {report.template_ignored}")
    print(f"best of {args.runs} runs each; {Path('/proc/loadavg').read_text().split()[0]} load average now")


if __name__ == "__main__":
    main()
