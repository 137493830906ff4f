"""The untrusted side: a child process that runs the student's code and answers calls.

Started by `grader.sandbox.worker_process` (see its BOOTSTRAP) with a JSON configuration. Before any student
code runs it drops every capability and, when started as root with a uid to use, changes to
that uid; then it applies its resource limits, restricts itself with Landlock and seccomp
where asked, and says "ready". Then it runs the submission's cells into a module and answers
one call at a time over the wire. It never sees the reference, the checks or hypothesis: it
only knows the names of functions and the arrays it is given.

Its stdout and stderr belong to the student (the parent captures them, bounded, and never
parses them); answers go over the separate descriptor OUT.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import signal
import struct
import sys
import time
import types

import numpy  # imported before any restriction, so all of it is loaded

from grader.sandbox import capabilities, landlock, process, seccomp, standins, wire

# The modules the worker's own code relies on. Student code may monkeypatch them; their
# original contents are put back after each piece of student code runs, so that a patch
# can only change the student's own answers, never how they are sent.
_PROTECTED = [builtins, json, struct, numpy, wire, types, os]
# Of numpy and os, only the names the worker's own code uses are put back: a patch of any other
# changes the student's own answers only, and restoring the whole of both would cost a third
# of the worker's time per call.
_USED = {numpy: ("asarray", "dtype", "frombuffer", "ndarray", "generic"), os: ("read", "write", "_exit", "close")}
_PRISTINE = [{name: vars(module)[name] for name in _USED[module]} if module in _USED else dict(vars(module))
             for module in _PROTECTED]


def restore_modules() -> None:
    for module, contents in zip(_PROTECTED, _PRISTINE):
        vars(module).update(contents)
    sys.modules.update({module.__name__: module for module in _PROTECTED})


def apply_limits(limits: dict) -> None:
    """Resource limits on this process, set before any student code runs."""
    table = {
        "cpu_seconds": resource.RLIMIT_CPU,
        "address_space_bytes": resource.RLIMIT_AS,
        "file_size_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "processes": resource.RLIMIT_NPROC,
    }
    if os.getuid() == 0:
        table.pop("processes")  # not enforced for root, and would count the grader's own processes
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, which in table.items():
        value = limits.get(key)
        if value is not None:
            soft = hard = int(value)
            if which == resource.RLIMIT_CPU:
                hard = soft + 1  # SIGXCPU first, SIGKILL a second later
            ceiling = resource.getrlimit(which)[1]  # without capabilities a limit can only be lowered
            if ceiling != resource.RLIM_INFINITY:
                soft, hard = min(soft, ceiling), min(hard, ceiling)
            resource.setrlimit(which, (soft, hard))


def _describe(error: BaseException, filenames: set[str]) -> dict:
    """Type, message and the student's line for an exception raised by student code."""
    try:
        message = str(error.msg) if isinstance(error, SyntaxError) else str(error)
    except BaseException:  # a student exception whose __str__ raises
        message = "<unprintable message>"
    where = None
    if isinstance(error, SyntaxError) and isinstance(error.filename, str) and error.filename in filenames:
        where = {"file": error.filename, "line": error.lineno if type(error.lineno) is int else None}
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename in filenames:
            where = {"file": traceback.tb_frame.f_code.co_filename, "line": traceback.tb_lineno}
        traceback = traceback.tb_next
    return {"type": type(error).__name__[:80], "message": message[:500], "where": where}


def _flush_student_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


class CellTimeout(BaseException):
    """Top-level code of one cell ran longer than its time limit."""


def _stop_cell(signum, frame):
    raise CellTimeout("ran longer than its time limit")


def run_cells(module: types.ModuleType, cells: list[dict], filenames: set[str], limits: dict, out_fd: int) -> list[dict]:
    """Execute the submission's cells in order into `module`; one error record per failing cell.

    A cell's top-level code (a training loop, a plot) gets `cell_seconds`, and all cells
    together `top_level_seconds`; once that is spent, each later cell gets `late_cell_seconds`,
    enough to define its functions. Then the cell is interrupted, and what it defined before
    that point, and the cells after it, still count. The alarm repeats, so a cell that catches
    the first interruption gets another. The grader is told which cell is running, so that a
    cell that cannot be stopped can be skipped on the next run.
    """
    errors = []
    budget = float(limits.get("top_level_seconds", 30.0))
    cell_seconds, late_seconds = float(limits.get("cell_seconds", 3.0)), float(limits.get("late_cell_seconds", 0.25))
    signal.signal(signal.SIGALRM, _stop_cell)
    for index, cell in enumerate(cells):
        wire.send_message(out_fd, {"op": "cell", "index": index})
        started = time.monotonic()
        try:
            code = compile(cell["source"], cell["filename"], "exec", dont_inherit=True)
            signal.setitimer(signal.ITIMER_REAL, min(cell_seconds, max(budget, late_seconds)), 0.25)
            try:
                exec(code, module.__dict__)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as error:  # SystemExit, KeyboardInterrupt, CellTimeout: the student's, not ours
            restore_modules()
            errors.append(dict(_describe(error, filenames), cell=index))
        finally:
            restore_modules()
            _flush_student_output()
        budget -= time.monotonic() - started
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    return errors


def confine(config: dict) -> list[str]:
    """Apply the configured layers to this process, before any student code; the layers applied."""
    applied = []
    uid = config.get("uid") if os.getuid() == 0 else None
    if config.get("capabilities"):
        capabilities.drop(uid)  # changes the uid too, after emptying the bounding set (which needs root)
    elif uid is not None:
        capabilities.change_uid(uid)
    if uid is not None:
        applied.append(f"uid {uid}")
    if config.get("capabilities"):
        applied.append(capabilities.LAYER)
    process.die_with_parent()  # after the uid change, which clears it
    apply_limits(config.get("limits", {}))
    applied.append("rlimits")
    if config.get("seccomp"):
        seccomp.available()  # load libseccomp while the library path is still readable
    if config.get("landlock"):
        abi = landlock.restrict(config["landlock"]["read"], config["landlock"]["write"])
        applied.append(f"landlock (ABI {abi})")
    if config.get("seccomp"):
        seccomp.install()
        applied.append("seccomp")
    return applied


def serve(in_fd: int, out_fd: int, applied: list[str]) -> None:
    wire.send_message(out_fd, {"op": "ready", "layers": applied})
    requests = wire.FrameReader(in_fd)
    # requests come from the trusted grader; the load request carries the whole submission
    request_limits = wire.Limits(max_arrays=4096, max_header_bytes=wire.MAX_REQUEST_HEADER_BYTES, check_depth=False)
    header, _ = wire.receive_message(requests, limits=request_limits)
    cells = header["cells"]
    filenames = {cell["filename"] for cell in cells}
    module = types.ModuleType(header["module"])
    module.__file__ = cells[0]["filename"] if cells else header["module"]
    sys.modules[header["module"]] = module
    standins.install(filenames)
    errors = run_cells(module, cells, filenames, header, out_fd)
    standins.set_loading(False)
    expected = header.get("expected", [])[:500]
    wire.send_message(out_fd, {"op": "loaded", "errors": errors, "defined": defined_functions(module, expected),
                               "standins": [name[:80] for name in standins.used()[:50]],
                               "not_functions": {name: type(vars(module)[name]).__name__[:80] for name in expected
                                                 if name in vars(module) and not callable(vars(module)[name])}})

    while True:
        try:
            request, arrays = wire.receive_message(requests, limits=request_limits)
        except wire.WireClosed:
            return
        for call in request["calls"]:
            wire.write_frames(out_fd, answer_call(module, request["function"], call, arrays, filenames))


def defined_functions(module: types.ModuleType, expected: list[str]) -> list[str]:
    """The names of the module's functions (callables), the expected ones first, so that the
    500 sent always include them; names over 200 characters are left out."""
    names = [name for name, value in vars(module).items()
             if isinstance(name, str) and callable(value) and not name.startswith("__") and len(name) <= 200]
    return sorted(names, key=lambda name: (name not in expected, name))[:500]


def answer_call(module: types.ModuleType, name: str, call: dict, arrays: list, filenames: set[str]) -> list[bytes]:
    """Call the student's function `name` with the call's arguments; the frames of the answer."""
    function = module.__dict__.get(name)
    if not callable(function):
        return wire.encode_message({"status": "missing"})
    try:
        args = wire.unpack(call["args"], arrays)
        kwargs = {key: wire.unpack(tree, arrays) for key, tree in call["kwargs"].items()}
        result = function(*args, **kwargs)
    except BaseException as error:  # the student's exception, whatever it is
        restore_modules()
        _flush_student_output()
        return wire.encode_message(dict(_describe(error, filenames), status="raised"))
    restore_modules()
    _flush_student_output()
    try:
        result_arrays: list = []
        return wire.encode_message({"status": "ok", "value": wire.pack(result, result_arrays)}, result_arrays)
    except BaseException as error:  # e.g. an __array__ that raises, or an array numpy cannot write
        return wire.encode_message({"status": "unserialisable", "type": type(error).__name__[:80]})


def main(config: dict) -> None:
    status = 0
    try:
        applied = confine(config)
        serve(*config["fds"], applied)
    except wire.WireClosed:  # the grader stopped listening: it is ending this worker
        pass
    except BaseException:  # a fault of the worker itself (the student's exceptions are caught in serve)
        import traceback

        traceback.print_exc()
        status = 70
    finally:
        os._exit(status)  # also ends any thread the student started


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
