"""Calling the student's functions: send calls, receive the answers, and say what each one is.

A call's arguments cross as data (grader.sandbox.wire); its answer is read within the wire's
bounds and parsed by grader.sandbox.messages before anyone looks at it, so a message that is
not what an honest worker sends is the student's failure. An answer is a value (plain
ndarrays, Python scalars, tuples, dicts with str keys, or wire.Opaque for a non-numeric object),
StudentRaised when the student's code raised, or StudentAbort when there is no answer to be
had: a call that hangs or kills the worker costs only that call, and the next call runs in a
fresh worker with the submission loaded again (grader.sandbox.loader), while the budgets last.

Calls may be sent several at once (`send_calls`), and the worker answers each as soon as it
is done, so the caller checks one answer (`next_answer`) while the worker computes the next.
Calls may even be sent before anyone asks for them (`send_unclaimed`: the next check's first
calls, while this one's answers are checked): a later `send_calls` or `send_ahead` of the very
same message claims them instead of sending it, and any other call first reads and drops
their answers, so answers are always read in the order their calls were sent.
All calls share `calls_seconds` of waiting for answers, one function's calls `function_seconds`.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from grader.sandbox import messages, wire
from grader.sandbox.limits import SandboxLimits, TimeBudget
from grader.sandbox.loader import Loader
from grader.sandbox.worker_process import WorkerProcess, Workers


class StudentRaised(Exception):
    """The student's function raised an exception (data about the submission, not a fault)."""

    def __init__(self, type_name: str, message: str, where: dict | None):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.where = type_name, message, where

    @property
    def place(self) -> str:
        """" (hw1.ipynb cell 4, line 18)" where the student's code raised, or "" when unknown."""
        where = self.where or {}
        return f" ({where.get('file')}, line {where['line']})" if isinstance(where.get("line"), int) else ""


class StudentAbort(BaseException):
    """The call cannot give an answer (timeout, dead worker, missing function, broken load).

    A BaseException so that it stops a hypothesis run at once instead of being shrunk.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CallChannel:
    """The calls of one submission's functions, through the current worker of `workers`;
    `loader` runs the submission again when a call needs a fresh worker."""

    def __init__(self, module_name: str, limits: SandboxLimits, workers: Workers, loader: Loader):
        self.module_name, self.limits, self.workers, self.loader = module_name, limits, workers, loader
        self.calls = 0
        self.calls_per_function: dict[str, int] = {}
        self.calls_budget = TimeBudget(limits.calls_seconds)  # waiting for answers, every call
        self.function_budgets: dict[str, TimeBudget] = {}  # waiting for answers, per function
        self._pending: deque[str] = deque()  # the function of each call sent and not yet answered, oldest first
        # messages sent by send_unclaimed that no one has claimed yet, in the order sent (their
        # answers come after those of _pending): (message, function, number of calls)
        self._unclaimed: deque[tuple[bytes, str, int]] = deque()
        self._answering: WorkerProcess | None = None  # the worker those calls were sent to

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """One call of the student's `function`; see the module's docstring for what it returns or raises."""
        self.send_calls(function, [(args, kwargs)])
        return self.next_answer()

    def send_calls(self, function: str, calls: list[tuple[tuple, dict]], request: bytes | None = None) -> None:
        """Send several calls at once; answers not read from earlier calls are discarded first.
        `request`, when given, is the message `request_bytes(function, calls)` gives, made before.

        Raises:
            WireError: an argument cannot cross to the worker as it is (a fault of the assignment's cases).
        """
        self._discard_pending()
        data = request if request is not None else request_bytes(function, calls)
        if self._claim(function, data, len(calls)):
            return
        self._discard_unclaimed()
        if self.loader.broken:
            raise StudentAbort(self.loader.broken)
        if self.calls_budget.remaining <= 0:
            raise StudentAbort(self._out_of_call_time())
        if self._function_budget(function).remaining <= 0:
            raise StudentAbort(self._out_of_function_time(function))
        if self.workers.current is None:
            reason = self.loader.reload()
            if reason:
                raise StudentAbort(reason)
        worker = self.workers.current
        try:
            wire.write_all(worker.to_worker, data)
        except wire.WireClosed:
            ended = self._stop_worker()
            raise StudentAbort(f"the worker process died before running {function} ({ended})") from None
        self._sent(worker, function, len(calls))

    def send_ahead(self, function: str, calls: list[tuple[tuple, dict]], request: bytes | None = None) -> bool:
        """Send calls after those still in flight, whose answers come first, if that cannot block:
        the request must fit in the room the worker's channel has now (a write that waits for the
        worker to read, while the worker waits for its answers to be read, would never end).
        False if not sent: send them later with send_calls.

        Raises:
            WireError: as send_calls.
        """
        data = request if request is not None else request_bytes(function, calls)
        if self._claim(function, data, len(calls)):
            return True
        if self._unclaimed or not self._in_flight():
            return False
        if self._write_if_room(function, data):
            self._sent(self.workers.current, function, len(calls))
            return True
        return False

    def send_unclaimed(self, function: str, calls: list[tuple[tuple, dict]], request: bytes | None = None) -> bool:
        """Send calls no one has asked for yet, after every call in flight, if that cannot block
        (as send_ahead): a later send_calls or send_ahead of the same message claims them. False
        if not sent, or if `function` is slow (its calls have waited a quarter of a call's limit
        already). They count as calls made once claimed; the answers of a message never claimed
        are read and dropped before the next call is sent, their wait charged to the budgets as any.

        Raises:
            WireError: as send_calls.
        """
        if self.workers.current is None or self._answering not in (None, self.workers.current) \
                or self._function_budget(function).spent > self.limits.call_seconds / 4:
            return False
        data = request if request is not None else request_bytes(function, calls)
        if not self._write_if_room(function, data):
            return False
        self._answering = self.workers.current
        self._unclaimed.append((data, function, len(calls)))
        return True

    def _write_if_room(self, function: str, data: bytes) -> bool:
        """Write `data` to the current worker if it fits in the room its channel has now, and
        the budgets and loader allow a call of `function`; whether it was written."""
        worker = self.workers.current
        if worker is None or self.loader.broken or self.calls_budget.remaining <= 0 \
                or self._function_budget(function).remaining <= 0:
            return False
        room = wire.room_to_write(worker.to_worker)
        if room is None or len(data) > room // 2:  # half: a pipe's room is counted in pages, which writes fill partly
            return False
        try:
            wire.write_all(worker.to_worker, data)
        except wire.WireClosed:  # the next answer read finds out what happened to it
            pass
        return True

    def _claim(self, function: str, data: bytes, count: int) -> bool:
        """Whether the oldest message sent unclaimed is `data`, asking for `count` calls of
        `function`: if so, its calls are now the caller's, answered after those in flight."""
        if self._unclaimed and self._answering is not self.workers.current:
            self._unclaimed.clear()  # sent to a worker that is gone: nothing will answer them
        if not self._unclaimed or self._unclaimed[0] != (data, function, count):
            return False
        self._unclaimed.popleft()
        self._sent(self._answering, function, count)
        return True

    def _sent(self, worker, function: str, count: int) -> None:
        self._answering = worker
        self._pending.extend([function] * count)
        self.calls += count
        self.calls_per_function[function] = self.calls_per_function.get(function, 0) + count

    def next_answer(self) -> Any:
        """The answer to the oldest call sent and not yet answered."""
        if not self._in_flight():
            raise RuntimeError("next_answer() without a call in flight")
        function = self._pending.popleft()
        started = time.monotonic()
        function_budget = self._function_budget(function)
        wait = min(self.limits.call_seconds, self.calls_budget.remaining, function_budget.remaining)
        try:
            header, result_arrays = wire.receive_message(self._answering.answers, started + wait)
            answer = messages.parse_answer(header, result_arrays, self.loader.filenames)
        except wire.WireTimeout:
            self._stop_worker()
            if wait < self.limits.call_seconds:
                out_of_function_time = function_budget.remaining <= self.calls_budget.remaining
                raise StudentAbort(self._out_of_function_time(function) if out_of_function_time
                                   else self._out_of_call_time()) from None
            raise StudentAbort(f"{function} did not return within {self.limits.call_seconds:g} s") from None
        except wire.WireClosed:
            ended = self._stop_worker(grace=0.5)
            raise StudentAbort(f"the worker process died while running {function} ({ended})") from None
        except wire.WireError as error:
            self._stop_worker()
            raise StudentAbort(f"{function} returned something that cannot be graded ({error})") from None
        finally:
            self.calls_budget.spend(time.monotonic() - started)
            function_budget.spend(time.monotonic() - started)
        return self._answer(function, answer)

    def _in_flight(self) -> bool:
        """Whether an answer is due: a call was sent to the worker that is still running."""
        return bool(self._pending) and self._answering is not None and self._answering is self.workers.current

    def _discard_pending(self) -> None:
        while self._in_flight():
            try:
                self.next_answer()
            except (StudentRaised, StudentAbort):
                pass
        self._pending.clear()

    def _discard_unclaimed(self) -> None:
        """Read and drop the answers of every message sent unclaimed (before another call is
        sent, whose answer must not be taken for theirs). Not counted as calls made."""
        while self._unclaimed:
            _, function, count = self._unclaimed.popleft()
            if self._answering is not self.workers.current:
                continue
            self._pending.extend([function] * count)
            self._discard_pending()
        self._unclaimed.clear()

    def _answer(self, function: str, answer: messages.Answer) -> Any:
        """The value of a parsed answer, or the exception that says why there is none."""
        if answer.status == "ok":
            return answer.value
        if answer.status == "raised":
            if answer.type_name == "MemoryError":  # no retrying a memory hog: it costs seconds a call
                self._stop_worker()
                limit = self.limits.address_space_bytes / (1 << 30)
                raise StudentAbort(f"{function} ran out of memory (the limit is {limit:g} GiB)")
            raise StudentRaised(answer.type_name, answer.message, answer.where)
        if answer.status == "missing":
            raise StudentAbort(f"{self.module_name} does not define {function}")
        raise StudentAbort(f"{function} returned an object that cannot be read as numbers")

    def _stop_worker(self, grace: float = 0.0) -> str:
        """Stop the worker: the answers still due from it are lost."""
        self._pending.clear()
        self._unclaimed.clear()
        return self.workers.stop(grace)

    def _function_budget(self, function: str) -> TimeBudget:
        """The time all calls of `function` share: a slow function cannot use up the others' time."""
        return self.function_budgets.setdefault(function, TimeBudget(self.limits.function_seconds))

    def _out_of_function_time(self, function: str) -> str:
        return (f"the calls of {function} together took longer than {self.limits.function_seconds:g} s "
                "(a right answer takes milliseconds a call); no more calls of it are made")

    def _out_of_call_time(self) -> str:
        return (f"the calls of the submission's functions together took longer than {self.limits.calls_seconds:g} s; "
                "no more calls are made")


def request_bytes(function: str, calls: list[tuple[tuple, dict]]) -> bytes:
    """The message that asks the worker for `calls` of `function`, as it goes down the channel.

    Raises:
        WireError: an argument cannot cross to the worker as it is (a fault of the assignment's cases).
    """
    arrays: list = []
    try:
        packed = [{"args": wire.pack(list(args), arrays, strict=True),
                   "kwargs": {k: wire.pack(v, arrays, strict=True) for k, v in kwargs.items()}} for args, kwargs in calls]
    except wire.WireError as error:
        raise wire.WireError(f"the arguments of a call of {function} cannot be sent to the worker ({error}): an "
                             "assignment's cases may hold arrays, numbers, str, bool, None, and tuples, lists and dicts "
                             "with str keys of them, within the limits of grader/sandbox/wire.py") from None
    return wire.joined_frames(wire.encode_message({"op": "calls", "function": function, "calls": packed}, arrays))
