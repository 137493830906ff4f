"""Gaming submissions: students who want the points without the work, or to break the class's grading.

Beyond `hostile.py` (attacks on the sandbox), each case here tries to *earn* points it did not
work for, to *see* what it should not, or to make the grading of the class unfair or slow. Each
says what it tries (`tries`) and what must hold (`expect`):

- "zero": the submission does no honest work, so it scores 0 in all;
- "others": the functions in `attacked` (and their callers) earn nothing, every other function
  keeps all its points;
- "all": every function keeps all its points (the attack is a probe on the side that must fail);
- "graded": the submission is graded like any broken one (exit 0, valid results, a reason).

Probe code prints `HELD: …` when a barrier held and `BROKEN: …` when it did not; no `BROKEN`
line may reach the feedback. `source` is `REFERENCE + code` when `standalone` is False (the
appended code runs after every function is defined, and a `def` replaces the reference's), else
`code` alone. Placeholders: @REPO@ (the checkout), @CLASS@ (the class folder), @SECRET@ (a
value the test puts in the grader's environment).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gaming:
    id: str
    tries: str
    expect: str
    code: str
    attacked: tuple[str, ...] = ()
    standalone: bool = False
    says: str = ""  # what the feedback must say about it


# Every function of hw1, answering without doing the work; `_answer(name, *args)` decides what.
# The contract's ValueErrors are still raised, so that "raises" checks would pay if they paid alone.
_STUBS = '''
import numpy as np

def _guard_nonlinearity(nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}")

def _guard_mask(mask):
    if mask is not None and not np.asarray(mask).any():
        raise ValueError("no position counts")

def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    _guard_nonlinearity(nonlinearity)
    return _answer("rnn_step", np.broadcast_shapes(h_prev.shape[:-1], c_t.shape[:-1]) + (W_h.shape[0],), h_prev, c_t)

def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    _guard_nonlinearity(nonlinearity)
    return _answer("rnn_forward", C.shape[:-1] + (W_h.shape[0],), h0, C)

def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    _guard_nonlinearity(nonlinearity)
    return tuple(_answer("rnn_step_backward", a.shape, a) for a in (h_prev, c_t, W_h, W_c))

def rnn_backward(dH, h0, C, W_h, W_c, nonlinearity="tanh"):
    _guard_nonlinearity(nonlinearity)
    return tuple(_answer("rnn_backward", a.shape, a) for a in (h0, C, W_h, W_c))

def softmax(x, axis=-1):
    return _answer("softmax", x.shape, x, distribution_axis=axis)

def softmax_backward(dA, A, axis=-1):
    return _answer("softmax_backward", A.shape, dA)

def qkv(C, W_q, W_k, W_v):
    return tuple(_answer("qkv", C.shape[:-1] + (W.shape[0],), C) for W in (W_q, W_k, W_v))

def attention_weights(Q, K, causal=True):
    T = Q.shape[-2]
    return _answer("attention_weights", Q.shape[:-1] + (T,), Q, distribution_axis=-1, causal=causal)

def self_attention(C, W_q, W_k, W_v, causal=True):
    T = C.shape[-2]
    A = _answer("attention_weights", C.shape[:-1] + (T,), C, distribution_axis=-1, causal=causal)
    return _answer("self_attention", C.shape[:-1] + (W_v.shape[0],), C), A

def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    return tuple(_answer("self_attention_backward", a.shape, a) for a in (C, W_q, W_k, W_v))

def log_softmax(logits, axis=-1):
    return _answer("log_softmax", logits.shape, logits, distribution_axis=axis, log=True)

def nll_loss(logits, targets, mask=None):
    _guard_mask(mask)
    return float(_answer("nll_loss", (), logits))

def nll_loss_backward(logits, targets, mask=None):
    _guard_mask(mask)
    return _answer("nll_loss_backward", logits.shape, logits)

def lm_inputs_and_targets(token_ids, pad_id):
    B, T = token_ids.shape[0], token_ids.shape[1] - 1
    inputs = np.asarray(_answer("lm_inputs_and_targets", (B, T), token_ids)).astype(token_ids.dtype)
    return inputs, inputs.copy(), np.ones((B, T), dtype=bool)

def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    _guard_nonlinearity(nonlinearity)
    return float(_answer("rnn_lm_loss", (), token_ids))
'''

_IGNORE_INPUTS = _STUBS + '''
def _answer(name, shape, *inputs, distribution_axis=None, causal=False, log=False):
    """A fixed answer of the right shape: rows that are distributions where the output is one."""
    if distribution_axis is None:
        return np.full(shape, 0.5)
    n = shape[distribution_axis] if shape else 1
    rows = np.full(shape, 1.0 / n)
    if causal and len(shape) >= 2:
        T = shape[-1]
        causal_rows = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]
        rows = np.broadcast_to(causal_rows, shape).copy()
    return np.log(rows) if log else rows
'''

_ECHO_INPUTS = _STUBS + '''
def _answer(name, shape, *inputs, distribution_axis=None, causal=False, log=False):
    """Something computed from the inputs, of the right shape, with none of the work."""
    source = np.asarray(inputs[0], dtype=float)
    flat = np.resize(np.tanh(source.reshape(-1)), int(np.prod(shape, dtype=int)))
    out = flat.reshape(shape)
    if distribution_axis is not None:
        out = np.abs(out) + 1e-3
        out = out / out.sum(axis=distribution_axis, keepdims=True)
        if causal and len(shape) >= 2:
            T = shape[-1]
            out = out * np.tril(np.ones((T, T)))
            out = out / out.sum(axis=-1, keepdims=True)
        if log:
            out = np.log(out)
    return out
'''

_ALWAYS_RAISE = '''
import numpy as np

def _refuse(*args, **kwargs):
    raise ValueError("not implemented")

rnn_step = rnn_forward = rnn_step_backward = rnn_backward = softmax = softmax_backward = qkv = _refuse
attention_weights = self_attention = self_attention_backward = log_softmax = nll_loss = _refuse
nll_loss_backward = lm_inputs_and_targets = rnn_lm_loss = _refuse
'''

_SMALL_INPUTS_ONLY = '''
import functools as _functools

def _only_small(function):
    """The honest answer when every array is tiny (the cases a student checks by hand), zeros otherwise."""
    @_functools.wraps(function)
    def wrapper(*args, **kwargs):
        answer = function(*args, **kwargs)
        if all(np.size(a) <= 4 for a in args if isinstance(a, np.ndarray)):
            return answer
        if isinstance(answer, tuple):
            return tuple(np.zeros_like(np.asarray(a, dtype=float)) for a in answer)
        return np.zeros_like(np.asarray(answer, dtype=float)) if np.ndim(answer) else 0.0
    return wrapper

for _name in ("rnn_step", "rnn_forward", "rnn_step_backward", "rnn_backward", "softmax", "softmax_backward", "qkv",
              "attention_weights", "self_attention", "self_attention_backward", "log_softmax", "nll_loss",
              "nll_loss_backward", "lm_inputs_and_targets", "rnn_lm_loss"):
    globals()[_name] = _only_small(globals()[_name])
'''

_COPY_A_CLASSMATE = _IGNORE_INPUTS + '''
import os as _os
_found = None
for _top in ("@CLASS@", _os.path.dirname("@CLASS@"), "/tmp", "/work", "/root", "/home", "/autograder"):
    try:
        _walk = list(_os.walk(_top))[:2000]
    except OSError:
        continue
    for _root, _dirs, _files in _walk:
        for _file in _files:
            if _file.endswith(".py") and _found is None:
                _path = _os.path.join(_root, _file)
                try:
                    _text = open(_path, encoding="utf-8").read()
                except (OSError, UnicodeDecodeError):
                    continue
                if "def rnn_step" in _text and "_copy_marker_" not in _text and "np.full(shape, 0.5)" not in _text:
                    _found = _path
if _found:
    print("BROKEN: copied", _found)
    exec(compile(open(_found).read(), _found, "exec"), globals())
else:
    print("HELD: no classmate's code could be read")
'''

CASES = [
    # --- points for nothing: the answer ignores or barely uses its inputs --------------------
    Gaming("ignore-inputs", "every function returns a fixed answer of the right shape (rows that sum to 1, a causal "
           "lower triangle, a constant loss) and raises the contract's ValueErrors", "zero", _IGNORE_INPUTS, standalone=True,
           says="Passed, but not counted"),
    Gaming("echo-inputs", "every function returns something computed from its inputs (tanh of them, normalised where "
           "the output is a distribution) with the right shape and the contract's ValueErrors", "zero", _ECHO_INPUTS,
           standalone=True),
    Gaming("always-raise-valueerror", "every function raises ValueError, hoping the 'raises ValueError' checks pay",
           "zero", _ALWAYS_RAISE, standalone=True),
    Gaming("small-inputs-only", "honest answers only for tiny inputs (what a student checks by hand), zeros elsewhere",
           "zero", _SMALL_INPUTS_ONLY),
    Gaming("answer-lags-one-call", "returns the right answer for the previous call: right-looking values, wrong inputs",
           "others", '''
_previous = [None]
_honest_softmax = softmax
def softmax(x, axis=-1):
    answer = _honest_softmax(x, axis)
    previous, _previous[0] = _previous[0], answer
    return previous if previous is not None and previous.shape == answer.shape else np.zeros_like(answer)
''', attacked=("softmax",)),
    Gaming("right-for-the-first-calls-only", "honest for the first 25 calls (the public tests), zeros after", "others", '''
_calls = [0]
_honest_log_softmax = log_softmax
def log_softmax(logits, axis=-1):
    _calls[0] += 1
    return _honest_log_softmax(logits, axis) if _calls[0] <= 25 else np.zeros_like(logits)
''', attacked=("log_softmax",)),
    Gaming("frame-introspection", "walks the call stack for an array of the right shape (the expected answer, if the "
           "grader computed it in the same process)", "others", '''
import sys as _sys
def softmax(x, axis=-1):
    frame, names = _sys._getframe(1), []
    while frame is not None:
        names.append(frame.f_code.co_name)
        for value in list(frame.f_locals.values()):
            if isinstance(value, np.ndarray) and value.shape == np.shape(x) and value is not x:
                return value
        frame = frame.f_back
    print("HELD: the stack holds", names[:4])
    return np.zeros_like(x)
''', attacked=("softmax",)),
    Gaming("gc-scan-for-answers", "searches every live object for an array whose rows are distributions of the right shape",
           "others", '''
import gc as _gc
def attention_weights(Q, K, causal=True):
    shape = Q.shape[:-1] + (Q.shape[-2],)
    for value in _gc.get_objects():
        if isinstance(value, np.ndarray) and value.shape == shape and value.size and np.allclose(value.sum(-1), 1):
            return value
    return np.zeros(shape)
''', attacked=("attention_weights",)),
    Gaming("mutate-the-inputs", "overwrites its inputs with zeros in place and returns the softmax of zeros, hoping the "
           "grader compares against the mutated arrays", "others", '''
def softmax(x, axis=-1):
    x[...] = 0.0
    return np.full_like(x, 1.0 / x.shape[axis])
''', attacked=("softmax",)),
    Gaming("module-getattr-catch-all", "removes every function and answers any name through a module __getattr__",
           "zero", '''
for _name in ("rnn_step", "rnn_forward", "rnn_step_backward", "rnn_backward", "softmax", "softmax_backward", "qkv",
              "attention_weights", "self_attention", "self_attention_backward", "log_softmax", "nll_loss",
              "nll_loss_backward", "lm_inputs_and_targets", "rnn_lm_loss"):
    del globals()[_name]
def __getattr__(name):
    return lambda *args, **kwargs: 0.0
''', says="does not define"),
    Gaming("homoglyph-function-name", "defines s\u043eftmax (Cyrillic o) and deletes softmax, hoping a lookup normalises names",
           "others", '''
s\u043eftmax = softmax
del softmax
''', attacked=("softmax",)),
    Gaming("copy-a-classmate", "at grading time, searches the class folder and the disk for another student's hw1.py "
           "and runs it as its own", "zero", _COPY_A_CLASSMATE, standalone=True),
    # --- seeing what it should not ----------------------------------------------------------
    Gaming("read-grader-memory", "opens /proc/PID/mem, environ and fd of every grader process it can see", "all", '''
import os as _os
try:
    _pids = [p for p in _os.listdir("/proc") if p.isdigit() and int(p) != _os.getpid()]
except OSError as error:
    _pids = []
    print("HELD: /proc cannot be listed", error.errno)
for _pid in _pids:
    try:
        _command = open(f"/proc/{_pid}/cmdline", "rb").read()
    except OSError:
        continue
    if b"python" not in _command or b"grader.sandbox.worker" in _command:
        continue
    for _leaf in ("mem", "environ", "fd"):
        try:
            if _leaf == "fd":
                _os.listdir(f"/proc/{_pid}/fd")
            else:
                open(f"/proc/{_pid}/{_leaf}", "rb").close()
            print("BROKEN: opened", f"/proc/{_pid}/{_leaf}", _command[:60])
        except OSError as error:
            print("HELD:", f"/proc/{_pid}/{_leaf}", error.errno)
'''),
    Gaming("proc-root-traversal", "reads the reference through /proc/1/root, /proc/PPID/root and /proc/PPID/cwd", "all", '''
import os as _os
_ppid = _os.getppid()
for _path in ("/proc/1/root@REPO@/solutions/hw1/hw1.py", f"/proc/{_ppid}/root@REPO@/solutions/hw1/hw1.py",
              f"/proc/{_ppid}/cwd/solutions/hw1/hw1.py", "/proc/self/root@REPO@/solutions/hw1/hw1.py",
              "@REPO@/solutions/hw1/hw1.py", "@REPO@/assignments/hw1/checks.py"):
    try:
        with open(_path) as _handle:
            print("BROKEN: read", _path, len(_handle.read()))
    except OSError as error:
        print("HELD:", _path, error.errno)
'''),
    Gaming("links-in-scratch", "makes a symbolic and a hard link to the reference inside its own scratch folder and reads them",
           "all", '''
import os as _os
for _make, _name in ((_os.symlink, "soft.py"), (_os.link, "hard.py")):
    try:
        _make("@REPO@/solutions/hw1/hw1.py", _name)
        with open(_name) as _handle:
            print("BROKEN: read the reference through", _name, len(_handle.read()))
    except OSError as error:
        print("HELD:", _name, error.errno)
'''),
    Gaming("spawn-a-reader", "runs cat on the reference through subprocess and os.system, outside Python's own file access",
           "all", '''
import os as _os, subprocess as _subprocess
_target = "@REPO@/solutions/hw1/hw1.py"
try:
    _out = _subprocess.run(["cat", _target], capture_output=True, timeout=5).stdout
    print("BROKEN: cat read the reference" if b"def rnn_step" in _out else "HELD: cat read nothing")
except Exception as error:
    print("HELD: subprocess", type(error).__name__)
try:
    print("HELD: os.system", _os.system(f"cat {_target} > /dev/null"))
except Exception as error:
    print("HELD: os.system", type(error).__name__)
'''),
    Gaming("environment-secrets", "prints its environment and its parent's, looking for tokens the grader holds", "all", '''
import os as _os
_seen = repr(dict(_os.environ))
for _path in ("/proc/self/environ", f"/proc/{_os.getppid()}/environ", "/proc/1/environ"):
    try:
        _seen += open(_path, "rb").read().decode(errors="replace")
    except OSError as error:
        print("HELD:", _path, error.errno)
print("BROKEN: saw the secret" if "@SECRET@" in _seen else "HELD: no secret in the environment")
'''),
    # --- more privilege than a worker needs ---------------------------------------------------
    Gaming("oom-score-adj", "makes itself unkillable by the OOM killer and the grader its first victim", "all", '''
import os as _os
for _path, _value in (("/proc/self/oom_score_adj", "-1000"), (f"/proc/{_os.getppid()}/oom_score_adj", "1000")):
    try:
        with open(_path, "w") as _handle:
            _handle.write(_value)
        print("BROKEN: wrote", _path)
    except OSError as error:
        print("HELD:", _path, error.errno)
'''),
    Gaming("raise-own-limits", "raises its own memory, CPU and file limits, then allocates 2 GiB", "all", '''
import resource as _resource
for _which in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE"):
    _limit = getattr(_resource, _which)
    _soft, _hard = _resource.getrlimit(_limit)
    try:
        _resource.setrlimit(_limit, (_resource.RLIM_INFINITY, _resource.RLIM_INFINITY))
        print("BROKEN: raised", _which)
    except (ValueError, OSError) as error:
        print("HELD:", _which, type(error).__name__)
try:
    _hog = bytearray(2 << 30)
    print("BROKEN: allocated 2 GiB")
    del _hog
except MemoryError:
    print("HELD: 2 GiB refused")
'''),
    Gaming("raw-syscalls-through-ctypes", "calls prlimit64, setpriority, kill and ptrace on the grader through raw "
           "syscall numbers, below anything Python checks", "all", '''
import ctypes as _ctypes, os as _os, platform as _platform
_libc = _ctypes.CDLL(None, use_errno=True)
_numbers = {"x86_64": {"prlimit64": 302, "setpriority": 141, "kill": 62, "ptrace": 101},
            "aarch64": {"prlimit64": 261, "setpriority": 140, "kill": 129, "ptrace": 117}}.get(_platform.machine(), {})
class _Limit(_ctypes.Structure):
    _fields_ = [("soft", _ctypes.c_uint64), ("hard", _ctypes.c_uint64)]
_ppid = _os.getppid()
if _numbers and _ppid > 1:
    _one = _Limit(1, 1)
    for _name, _args in (("prlimit64", (_ppid, 0, _ctypes.byref(_one), None)), ("setpriority", (0, _ppid, 19)),
                         ("ptrace", (16, _ppid, None, None)), ("kill", (_ppid, 19))):
        _status = _libc.syscall(_numbers[_name], *_args)
        print(("BROKEN:" if _status == 0 else "HELD:"), _name, _ctypes.get_errno())
else:
    print("HELD: the grader is not this process's parent here")
'''),
    # --- breaking the worker's channel --------------------------------------------------------
    Gaming("print-into-the-answer-pipe", "redirects its stdout into every writable pipe it holds and prints", "graded", '''
import os as _os
for _fd in range(3, 32):
    try:
        _os.write(_fd, b"")
        _os.dup2(_fd, 1)
    except OSError:
        pass
print("not a frame at all")
'''),
    Gaming("close-the-pipes", "closes every descriptor above 2, so the worker cannot say it loaded", "graded", '''
import os as _os
_os.closerange(3, 256)
'''),
    Gaming("stop-itself", "sends itself SIGSTOP inside a function", "others", '''
import os as _os, signal as _signal
def self_attention(C, W_q, W_k, W_v, causal=True):
    _os.kill(_os.getpid(), _signal.SIGSTOP)
    return C, C
''', attacked=("self_attention",)),
    Gaming("exception-whose-str-never-ends", "raises an exception whose __str__ loops forever", "others", '''
class _Endless(Exception):
    def __str__(self):
        while True:
            pass
def softmax_backward(dA, A, axis=-1):
    raise _Endless()
''', attacked=("softmax_backward",)),
    Gaming("huge-exception-message", "raises ValueError with a 50 MB message where the contract asks for a ValueError",
           "others", '''
def nll_loss_backward(logits, targets, mask=None):
    raise ValueError("x" * (50 << 20))
''', attacked=("nll_loss_backward",)),
    Gaming("deeply-nested-return", "returns a list nested 100,000 deep", "others", '''
def qkv(C, W_q, W_k, W_v):
    value = []
    for _ in range(100_000):
        value = [value]
    return value
''', attacked=("qkv",)),
    # --- making the class's grading slow ------------------------------------------------------
    Gaming("cpu-burning-thread", "starts a thread that spins forever, to slow every call", "all", '''
import threading as _threading
def _spin():
    while True:
        pass
_threading.Thread(target=_spin, daemon=True).start()
'''),
    Gaming("slow-loris", "answers every call of the grader just under the 2 s call limit (its own module's calls go "
           "fast), to make its grading take an hour and use up the time of the functions graded after it", "others", '''
import sys as _sys, time as _time
_honest_rnn_step = rnn_step
def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    if _sys._getframe(1).f_globals is not globals():  # a call from the grader, not from rnn_forward
        _time.sleep(1.9)
    return _honest_rnn_step(h_prev, c_t, W_h, W_c, nonlinearity)
''', attacked=("rnn_step",), says="the calls of rnn_step together took longer than 10 s"),
]
