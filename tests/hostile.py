"""Hostile submissions: the reference with one attack added, at import or in one function.

`where` is "import" (code appended at the end of the module, so it runs after every function
is defined) or the name of the function the attack replaces. `honest` says which functions
must keep all their points: "all", "none" (the module never finishes loading), or "others"
(every function but the attacked one and its callers). Placeholders {port}, {marker} and
{cache} (the grading user's case cache, grader.grading.case_cache) are filled in by the test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    id: str
    where: str
    code: str
    honest: str


CASES = [
    Hostile("infinite-loop-at-import", "import", "while True:\n    pass\n", "all"),  # stopped: what came before counts
    Hostile("infinite-loop-ignoring-the-alarm-at-import", "import",
            "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n", "none"),
    Hostile("infinite-loop-in-function", "self_attention_backward",
            "def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):\n    while True:\n        pass\n", "others"),
    Hostile("sleep-in-function", "qkv", "def qkv(C, W_q, W_k, W_v):\n    import time\n    time.sleep(3600)\n", "others"),
    Hostile("memory-bomb-at-import", "import", "hog = bytearray(8 << 30)\n", "all"),
    Hostile("memory-bomb-in-function", "log_softmax",
            "def log_softmax(logits, axis=-1):\n    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n", "others"),
    Hostile("fork-bomb-at-import", "import",
            "import os, time\nfor _ in range(64):\n    try:\n        if os.fork() == 0:\n            time.sleep(120)\n            os._exit(0)\n"
            "    except OSError:\n        break\n", "all"),
    Hostile("sys-exit-at-import", "import", "import sys\nsys.exit(0)\n", "all"),
    Hostile("os-exit-in-function", "rnn_step", "def rnn_step(h_prev, c_t, W_h, W_c, nonlinearity='tanh'):\n    import os\n    os._exit(0)\n", "others"),
    Hostile("system-exit-in-function", "softmax_backward",
            "def softmax_backward(dA, A, axis=-1):\n    raise SystemExit(0)\n", "others"),
    Hostile("keyboard-interrupt-in-function", "nll_loss_backward",
            "def nll_loss_backward(logits, targets, mask=None):\n    raise KeyboardInterrupt\n", "others"),
    Hostile("base-exception-in-function", "lm_inputs_and_targets",
            "def lm_inputs_and_targets(token_ids, pad_id):\n    raise BaseException('stop')\n", "others"),
    Hostile("fake-results-everywhere", "import", """
import json, os, glob
fake = json.dumps({{"score": 100.0, "max_score": 100.0, "tests": [], "output": "{marker}"}})
print(fake)
targets = ["results.json", "/autograder/results/results.json", os.path.expanduser("~/results.json"), "/tmp/results.json"]
try:
    cmdline = open(f"/proc/{{os.getppid()}}/cmdline", "rb").read().split(b"\\0")
    targets += [part.decode() for part in cmdline if part.endswith(b".json") or part.endswith(b".md")]
except OSError:
    pass
for root in ("/work", "/tmp", os.getcwd(), "/"):
    targets += glob.glob(os.path.join(root, "**", "*results*.json"), recursive=False)
for path in targets:
    try:
        with open(path, "w") as handle:
            handle.write(fake)
    except OSError:
        pass
""", "all"),
    Hostile("monkeypatch-numpy-builtins-hypothesis", "softmax", """
import builtins, sys, types
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
builtins.isinstance = lambda *args: True
sys.modules["hypothesis"] = types.ModuleType("hypothesis")
def softmax(x, axis=-1):
    return np.zeros_like(x)
""", "others"),
    Hostile("search-for-reference-and-checks", "import", """
import os, time
started = time.monotonic()
found = []
for top in ("/work", "/root", "/home", "/tmp", "/opt", "/srv", os.path.expanduser("~"), "/"):
    for root, dirs, files in os.walk(top):
        if time.monotonic() - started > 4:
            break
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", ".git")]
        for name in files:
            if name in ("hw1.py", "checks.py", "cases.py", "misconceptions.py", "assignment.json"):
                found.append(os.path.join(root, name))
for path in found:
    try:
        print("FOUND", path)
        print(open(path).read())
    except OSError as error:
        print("unreadable", path, error)
import sys
print(sorted(name for name in sys.modules if "grader" in name or "reference" in name or "assignment" in name))
""", "all"),
    Hostile("lying-ndarray-subclass", "rnn_forward", """
import numpy as np
class Always(np.ndarray):
    def __eq__(self, other): return True
    def __array_finalize__(self, obj): pass
def rnn_forward(h0, C, W_h, W_c, nonlinearity="tanh"):
    return np.zeros(C.shape[:-1] + (W_h.shape[0],)).view(Always)
""", "others"),
    Hostile("array-protocol-object", "attention_weights", """
class Liar:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no")
    def __eq__(self, other): return True
def attention_weights(Q, K, causal=True):
    return Liar()
""", "others"),
    Hostile("float-subclass", "nll_loss", """
class Equal(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
def nll_loss(logits, targets, mask=None):
    return Equal(-1.0)
""", "others"),
    Hostile("object-and-structured-arrays", "self_attention", """
import numpy as np
def self_attention(C, W_q, W_k, W_v, causal=True):
    return np.array([object()] * 3), np.zeros(2, dtype=[("a", "<f8"), ("b", "<i8")])
""", "others"),
    Hostile("huge-shape-array", "self_attention_backward", """
import numpy as np
def self_attention_backward(dH, C, W_q, W_k, W_v, causal=True):
    huge = np.broadcast_to(np.float64(0), (100000, 100000))
    return huge, huge, huge, huge
""", "others"),
    Hostile("nan-and-inf", "rnn_step_backward", """
import numpy as np
def rnn_step_backward(dh_t, h_prev, c_t, W_h, W_c, nonlinearity="tanh"):
    return (np.full(h_prev.shape, np.nan), np.full(c_t.shape, np.inf), np.full(W_h.shape, np.nan), np.full(W_c.shape, -np.inf))
""", "others"),
    Hostile("setsid-double-fork-daemon", "import", """
import os, time
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(300)
        os._exit(0)
except OSError:
    pass
""", "all"),
    Hostile("kill-parent-and-every-pid", "import", """
import os, signal
me = os.getpid()
for pid in [os.getppid()] + list(range(1, 5000)):
    if pid != me:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
""", "all"),
    Hostile("ignore-sigterm", "import", """
import signal, threading, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
threading.Thread(target=lambda: time.sleep(3600)).start()
""", "all"),
    Hostile("stdout-flood-200mb", "import", """
import sys
line = '{{"score": 100, "output": "{marker}"}}' + " " * 960 + "\\n"
try:
    for _ in range(200 * 1024):
        sys.stdout.write(line)
except OSError:
    pass
""", "all"),
    Hostile("write-grader-files", "import", """
import os
here = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
candidates = []
for root in ("/work", here, os.getcwd(), "/root"):
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"][:50]
        candidates += [os.path.join(dirpath, name) for name in files if name.endswith((".py", ".json", ".md", ".toml"))]
        if len(candidates) > 2000:
            break
import grader, numpy
candidates += [grader.__file__, numpy.__file__]
for path in candidates:
    try:
        with open(path, "a") as handle:
            handle.write("\\n# {marker}\\n")
    except OSError:
        pass
""", "all"),
    Hostile("disk-and-tmpfs-fill", "import", """
import os, tempfile
chunk = b"x" * (1 << 20)
for directory in (tempfile.gettempdir(), "/dev/shm", os.getcwd(), os.path.expanduser("~")):
    try:
        with open(os.path.join(directory, "fill-{marker}"), "wb") as handle:
            for _ in range(2048):
                handle.write(chunk)
    except OSError:
        pass
""", "all"),
    Hostile("recursion-bomb", "rnn_lm_loss", """
import sys
sys.setrecursionlimit(10 ** 7)
def rnn_lm_loss(token_ids, E, h0, W_h, W_c, W_out, pad_id, nonlinearity="tanh"):
    def down(n):
        return down(n + 1) + 1
    return down(0)
""", "others"),
    Hostile("read-the-case-cache", "import", """
import glob, os
paths = glob.glob("{cache}/*") + glob.glob("{cache}")
for home in (os.path.expanduser("~"), "/root", "/home"):
    paths += glob.glob(os.path.join(home, "**", "nlp-grader", "**", "*"), recursive=True)
paths += glob.glob("/tmp/**/*case-cache*/**", recursive=True)
# the case cache the grader holds open, through this process's descriptors and its parents'
for pid in ("self", str(os.getppid()), "1"):
    for link in glob.glob(f"/proc/{{pid}}/fd/*"):
        try:
            if os.readlink(link).endswith(".cases"):
                paths.append(link)
        except OSError:
            pass
for path in paths:
    try:
        with open(path) as handle:
            print("CACHE-READ", path, handle.read(200))
    except OSError as error:
        print("unreadable", path, type(error).__name__)
""", "all"),
    Hostile("sockets", "import", """
import socket
for family, kind, address in ((socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", {port})),
                              (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", {port})),
                              (socket.AF_UNIX, socket.SOCK_STREAM, "\\0grader-test-{port}")):
    try:
        with socket.socket(family, kind) as connection:
            connection.settimeout(1)
            connection.connect(address)
            connection.send(b"{marker}")
            print("CONNECTED" if kind == socket.SOCK_STREAM else "sent (UDP needs no connection)", address)
    except OSError as error:
        print("blocked", type(error).__name__)
""", "all"),
]
