"""The trusted handle on the untrusted worker: the student's module, as grading sees it.

`StudentModule` composes the sandbox's three jobs, each in its own module:
- grader.sandbox.worker_process: the worker as a process (isolation, limits, killing its
  process group), one at a time, and what outlives each (output, scratch folder, memory);
- grader.sandbox.loader: running the submission's top-level code in a worker, within its
  budgets, into a LoadReport;
- grader.sandbox.calls: calling its functions, one at a time or pipelined, into values,
  StudentRaised or StudentAbort; a call that needs a fresh worker has the loader reload it.
Their limits and budgets: grader.sandbox.limits.
"""

from __future__ import annotations

from typing import Any, Sequence

from grader.model import Cell, LoadReport
from grader.sandbox import isolation
from grader.sandbox.calls import CallChannel
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import SandboxLimits
from grader.sandbox.loader import Loader
from grader.sandbox.worker_process import SpareWorker, StudentOutput, Workers


class StudentModule:
    """The student's module `module_name`, made of `cells`, run in the sandbox.

    `start()` then `finish_load()` (or `load()`) run it; `call(name, *args, **kwargs)` returns
    the validated result (plain ndarrays, Python scalars, tuples, dicts with str keys, or
    wire.Opaque for non-numeric objects), raises StudentRaised when the student's code raised, and StudentAbort
    when there is no answer to be had (grader.sandbox.calls). `expected` names the functions
    that will be called, for the load report. `spare` (grader.sandbox.worker_process.SpareWorker),
    a worker started before, is its first worker if it fits. Use it as a context manager, or `close()` it.
    """

    def __init__(self, module_name: str, cells: Sequence[Cell], limits: SandboxLimits = SandboxLimits(),
                 confinement: Isolation | None = None, expected: Sequence[str] = (), spare: SpareWorker | None = None):
        self.module_name, self.limits = module_name, limits
        self.confinement = confinement or isolation.choose("auto")
        self.workers = Workers(limits, self.confinement, spare)
        self.loader = Loader(module_name, cells, limits, expected, self.workers)
        self.channel = CallChannel(module_name, limits, self.workers, self.loader)

    # --- loading: grader.sandbox.loader ---

    def start(self) -> None:
        """Start a worker and send it the submission, without waiting for it to run."""
        self.loader.start()

    def finish_load(self) -> LoadReport:
        """Wait for the submission sent by start() to run; its report."""
        return self.loader.finish_load()

    def load(self) -> LoadReport:
        """Start a worker and run the submission; its report."""
        return self.loader.load()

    # --- calls: grader.sandbox.calls ---

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """One call of the student's `function`; see the class docstring for what it returns or raises."""
        return self.channel.call(function, *args, **kwargs)

    def send_calls(self, function: str, calls: list[tuple[tuple, dict]], request: bytes | None = None) -> None:
        """Send several calls of `function` at once; read their answers in order with next_answer().
        `request`: the message, made before by grader.sandbox.calls.request_bytes."""
        self.channel.send_calls(function, calls, request)

    def send_ahead(self, function: str, calls: list[tuple[tuple, dict]], request: bytes | None = None) -> bool:
        """Send calls of `function` after those still in flight, if that cannot block; False if
        not sent (grader.sandbox.calls)."""
        return self.channel.send_ahead(function, calls, request)

    def send_unclaimed(self, function: str, calls: list[tuple[tuple, dict]], request: bytes | None = None) -> bool:
        """Send calls of `function` before anyone asks for them, if that cannot block; a later
        send_calls or send_ahead of the same calls claims them (grader.sandbox.calls). False if not sent."""
        return self.channel.send_unclaimed(function, calls, request)

    def next_answer(self) -> Any:
        """The answer to the oldest call sent and not yet answered."""
        return self.channel.next_answer()

    # --- what the run cost and showed, for the report ---

    @property
    def output(self) -> StudentOutput:
        """What the student's code printed, across every worker."""
        return self.workers.output

    @property
    def load_report(self) -> LoadReport | None:
        """The first load's report."""
        return self.loader.first_report

    @property
    def applied_layers(self) -> list[str]:
        """The isolation layers the last worker applied."""
        return self.loader.applied_layers

    @property
    def calls(self) -> int:
        return self.channel.calls

    @property
    def calls_per_function(self) -> dict[str, int]:
        return self.channel.calls_per_function

    @property
    def restarts(self) -> int:
        return self.loader.restarts

    @property
    def worker_peak_rss_kib(self) -> int:
        return self.workers.peak_rss_kib

    def close(self) -> None:
        """Stop the worker and remove the scratch folder."""
        self.workers.close()

    def __enter__(self) -> "StudentModule":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
