"""Student code never runs with a capability and never reaches the grader's processes.

A submission made of the reference plus probes (tests/privilege_probes.py) is graded through
the real CLI in every setup this machine offers: each isolation level, as root and as an
unprivileged user, and with bubblewrap off the PATH (a machine without it: as root the worker
then keeps uid 0, because this interpreter lives under /root, which other users cannot read).
The probes read the worker's capabilities, try to make device nodes, read the kernel log,
change the host name, and lower the limits, priority and CPUs of the process that started the
worker. `grade-all` and the Gradescope entry point are attacked the same way.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import privilege_probes
import unprivileged
from conftest import REFERENCE_PATH, REPO
from grading_helpers import available_levels, grade_file, run_grader

from grader.sandbox import isolation, seccomp
from grader.errors import UsageError

USERS = ["root", "unprivileged"] if unprivileged.available() else ["current user"]
SETUPS = [(user, level, True) for user in USERS for level in available_levels()] + [(user, "auto", False) for user in USERS]
if unprivileged.available() and not isolation._readable_by_others(list(isolation.worker_paths())):
    SETUPS.append(("root readable python", "auto", False))  # root drops uid without bubblewrap: in the worker itself
ZERO_CAPABILITIES = {"eff": 0, "prm": 0, "inh": 0, "amb": 0, "nnp": 1}


def setup_id(setup) -> str:
    user, level, with_bwrap = setup
    return f"{user}-{level}{'' if with_bwrap else '-without-bwrap'}".replace(" ", "-")


class Wrapper:
    """Runs a command as `user` (root, unprivileged, or root where the interpreter is readable by
    other users), and with a PATH that holds no bubblewrap unless `with_bwrap` (picklable)."""

    def __init__(self, user: str, with_bwrap: bool, scratch: str):
        self.user, self.with_bwrap, self.scratch = user, with_bwrap, scratch

    def __call__(self, command: list[str]) -> list[str]:
        if not self.with_bwrap:
            command = ["/usr/bin/env", f"PATH={self.scratch}/empty-bin", *command]
        if self.user == "unprivileged":
            command = unprivileged.as_unprivileged(command, f"{self.scratch}/holds")
        elif self.user == "root readable python":  # root, where the interpreter is readable by other users
            command = unprivileged.as_unprivileged(command, f"{self.scratch}/holds", uid=0)
        return command


@pytest.fixture(scope="module")
def scratch():
    """A world-readable folder in /tmp (an unprivileged grader must reach it), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="privileges-", dir="/tmp"))
    for directory, mode in ((folder, 0o755), (folder / "holds", 0o755), (folder / "out", 0o777), (folder / "empty-bin", 0o755)):
        directory.mkdir(exist_ok=True)
        directory.chmod(mode)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def probed(scratch):
    """The probing submission graded once per setup (two at a time): setup -> grade_file's answer plus probes."""
    paths, wraps, extras = [], [], []
    for setup in SETUPS:
        path = scratch / f"{setup_id(setup)}.py"
        path.write_text(privilege_probes.submission(REFERENCE_PATH.read_text()))
        path.chmod(0o644)
        paths.append(path)
        wraps.append(Wrapper(setup[0], setup[2], str(scratch)))
        extras.append(("--isolation", setup[1]))
    with ProcessPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(grade_file, paths, [scratch / "out"] * len(paths), extras, wraps))
    return {setup: dict(run, probes=privilege_probes.parse(run["feedback"])) for setup, run in zip(SETUPS, runs)}


def test_without_bwrap_on_the_path_the_default_level_has_no_bubblewrap(scratch):
    assert shutil.which("bwrap", path=str(scratch / "empty-bin")) is None
    completed = run_grader("isolation", wrap=Wrapper(USERS[0], False, str(scratch)))
    assert completed.returncode == 0, completed.stderr
    layers = completed.stdout.splitlines()[0]
    assert "bwrap" not in layers and "bubblewrap is not installed" in completed.stdout
    if USERS[0] == "root" and not isolation._readable_by_others(list(isolation.worker_paths())):
        assert "uid " not in layers  # the setup item 2 is about: a root worker that keeps uid 0


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_the_probing_submission_is_graded_in_full(probed, setup):
    run = probed[setup]
    assert run["returncode"] == 0, run["stderr"][-2000:]
    assert run["results"]["score"] == 100.0
    assert "caps" in run["probes"] and "sigqueue parent" in run["probes"], run["feedback"][-3000:]


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_student_code_runs_without_any_capability(probed, setup):
    probes = probed[setup]["probes"]
    found = privilege_probes.capability_fields(probes["caps"])
    assert {name: found[name] for name in ZERO_CAPABILITIES} == ZERO_CAPABILITIES, probes["caps"]
    layers = probed[setup]["results"]["extra_data"]["isolation"]["layers"]
    if setup[0].startswith("root") or "bwrap" in layers:
        assert found["bnd"] == 0, probes["caps"]  # what an exec could regain: nothing
    else:
        assert found["uid"] != 0  # an unprivileged grader cannot empty its bounding set; no_new_privs makes it moot
    if not probes["status"].startswith("denied"):  # /proc/self/status is readable where Landlock is not used
        status = privilege_probes.capability_fields(probes["status"])
        assert status["CapEff"] == status["CapPrm"] == status["CapInh"] == status["CapAmb"] == status["CapBnd"] == 0
        assert status["NoNewPrivs"] == 1
    else:
        assert "landlock" in " ".join(layers)


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_no_device_node_no_kernel_log_no_host_name(probed, setup):
    probes = probed[setup]["probes"]
    for probe in ("mknod block", "mknod char", "kmsg", "syslog", "sethostname"):
        assert probes[probe].startswith("denied"), f"{probe}: {probes[probe]}"
    assert probes["own process"] == "allowed"  # its own limits, priority and CPUs stay the worker's to change


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_the_process_that_started_the_worker_is_out_of_reach(probed, setup):
    run = probed[setup]
    probes, layers = run["probes"], run["results"]["extra_data"]["isolation"]["layers"]
    aimed = ["setpriority parent", "setpriority user", "affinity parent", "sigqueue parent", "prlimit nofile parent",
             "prlimit cpu parent"]
    if "seccomp" in layers:
        assert {probe: probes[probe] for probe in aimed} == {probe: "denied EPERM" for probe in aimed}
    else:  # --isolation bwrap: the grader is outside the worker's PID namespace, where pid 1 is bubblewrap's
        assert "bwrap" in layers and probes["parent"] == "1"
    assert run["returncode"] == 0 and run["results"]["score"] == 100.0  # the grader lived to write it


@pytest.mark.parametrize("setup", SETUPS, ids=setup_id)
def test_results_record_the_capability_drop_and_the_uid(probed, setup):
    extra, probes = probed[setup]["results"]["extra_data"], probed[setup]["probes"]
    assert "no capabilities" in extra["isolation"]["layers"] and "no capabilities" in extra["worker_layers"]
    uid = privilege_probes.capability_fields(probes["caps"])["uid"]
    if any(layer.startswith("uid ") for layer in extra["worker_layers"]):
        assert f"uid {uid}" in extra["worker_layers"]
    if setup == ("root readable python", "auto", False):
        assert uid != 0 and "bwrap" not in extra["isolation"]["layers"]  # the worker changed uid itself


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(os.geteuid() != 0 or not isolation.landlock.abi_version(), reason="needs root (CAP_MKNOD) and Landlock")
def test_landlock_alone_refuses_device_nodes_even_to_root(tmp_path):
    completed = _run_python(
        "import os, stat, sys\n"
        "from grader.sandbox import landlock\n"
        f"landlock.restrict([], [{str(tmp_path)!r}])\n"
        f"os.mknod({str(tmp_path / 'fifo')!r}, 0o600 | stat.S_IFIFO)\n"
        "for kind in (stat.S_IFCHR, stat.S_IFBLK):\n"
        "    try:\n"
        f"        os.mknod({str(tmp_path / 'node')!r}, 0o600 | kind, os.makedev(1, 3))\n"
        "        print('made')\n"
        "    except PermissionError:\n"
        "        print('refused')\n")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["refused", "refused"]  # while a fifo (no device) is still allowed
    assert (tmp_path / "fifo").exists() and not (tmp_path / "node").exists()


@pytest.mark.skipif(os.geteuid() != 0 or not seccomp.available(), reason="needs root (every capability) and libseccomp")
def test_seccomp_alone_refuses_devices_and_calls_aimed_at_other_processes(tmp_path):
    completed = _run_python(
        "import os, resource, socket, stat\n"
        "from grader.sandbox import seccomp\n"
        "seccomp.install()\n"
        "def attempt(name, action):\n"
        "    try:\n"
        "        action()\n"
        "        print(name, 'allowed')\n"
        "    except OSError as error:\n"
        "        print(name, 'refused', error.errno)\n"
        "parent = os.getppid()\n"
        f"attempt('mknod-char', lambda: os.mknod({str(tmp_path / 'c')!r}, 0o600 | stat.S_IFCHR, os.makedev(1, 3)))\n"
        f"attempt('mknod-block', lambda: os.mknod({str(tmp_path / 'b')!r}, 0o600 | stat.S_IFBLK, os.makedev(7, 0)))\n"
        f"attempt('mknod-fifo', lambda: os.mknod({str(tmp_path / 'f')!r}, 0o600 | stat.S_IFIFO))\n"
        "attempt('prlimit-parent', lambda: resource.prlimit(parent, resource.RLIMIT_NOFILE))\n"
        "attempt('prlimit-pid-1', lambda: resource.prlimit(1, resource.RLIMIT_NOFILE))\n"
        "attempt('prlimit-self-0', lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))\n"
        "attempt('prlimit-self-pid', lambda: resource.prlimit(os.getpid(), resource.RLIMIT_CORE))\n"
        "attempt('setpriority-parent', lambda: os.setpriority(os.PRIO_PROCESS, parent, 0))\n"
        "attempt('setpriority-group', lambda: os.setpriority(os.PRIO_PGRP, 0, 0))\n"
        "attempt('setpriority-self', lambda: os.setpriority(os.PRIO_PROCESS, 0, 0))\n"
        "attempt('affinity-parent', lambda: os.sched_setaffinity(parent, os.sched_getaffinity(0)))\n"
        "attempt('affinity-self', lambda: os.sched_setaffinity(os.getpid(), os.sched_getaffinity(0)))\n"
        "attempt('scheduler-parent', lambda: os.sched_setscheduler(parent, os.SCHED_OTHER, os.sched_param(0)))\n"
        "attempt('sethostname', lambda: socket.sethostname(socket.gethostname()))\n")
    assert completed.returncode == 0, completed.stderr
    outcome = dict(line.split(" ", 1) for line in completed.stdout.splitlines())
    refused = {"mknod-char", "mknod-block", "prlimit-parent", "prlimit-pid-1", "setpriority-parent", "setpriority-group",
               "affinity-parent", "scheduler-parent", "sethostname"}
    assert {name for name, result in outcome.items() if result == "refused 1"} == refused, outcome
    assert {name for name, result in outcome.items() if result == "allowed"} == set(outcome) - refused, outcome


@pytest.mark.parametrize("own", [1, 2, 3, 4, 5, 1000, 32767, 32768, 4194303])
def test_the_foreign_pid_rules_match_every_pid_but_zero_and_our_own(own):
    blocks = seccomp.aligned_blocks(1, own - 1)
    assert len(blocks) <= 2 * own.bit_length()
    candidates = set(range(0, min(own + 3, 2000))) | {own - 1, own, own + 1, (1 << 32) + own, (1 << 64) - 1}
    for pid in candidates:
        matched = pid > own or any(pid & mask == value for mask, value in blocks)
        assert matched == (pid not in (0, own)), pid


def test_strict_as_root_refuses_a_worker_that_would_keep_its_capabilities(monkeypatch):
    monkeypatch.setattr(isolation.os, "geteuid", lambda: 0)
    monkeypatch.setattr(isolation, "_bwrap_works", lambda as_root: ("bubblewrap is not installed", ""))
    monkeypatch.setattr(isolation, "_readable_by_others", lambda paths: False)
    monkeypatch.setattr(isolation.capabilities, "available", lambda: False)
    monkeypatch.setattr(isolation.landlock, "abi_version", lambda: 6)
    with pytest.raises(UsageError, match="^--isolation strict: the worker would run as root with every capability"):
        isolation.choose("strict")
    assert "no capabilities" not in isolation.choose("auto").layers


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_strict_as_root_without_bwrap_grades_with_no_capabilities(scratch):
    completed = run_grader("isolation", "--isolation", "strict", wrap=Wrapper("root", False, str(scratch)))
    assert completed.returncode == 0, completed.stderr
    assert "no capabilities" in completed.stdout.split(";")[0]


# ---- grade-all and Gradescope, attacked through the process that started the worker ----------------

@pytest.mark.skipif(os.geteuid() != 0, reason="the job is the worker's parent only as root without bubblewrap")
def test_grade_all_an_attacker_does_not_spoil_the_students_after_it_and_a_fault_is_graded_again(scratch):
    """The first student lowers the open-file limit of its job (--jobs 1: the same job grades the
    next two). Every student is graded in full. A record left as a grader fault (what the attack
    used to cause) is graded again on a rerun, whose exit status is that of the new grading."""
    from grader.grading.assignment import load_assignment
    from grader.classroom.batch import fault_report, render_student, write_student_files

    folder, out = scratch / "class", scratch / "class-out"
    folder.mkdir()
    (folder / "a_attacker.py").write_text(privilege_probes.submission(REFERENCE_PATH.read_text(), aims=("nofile",)))
    for name in ("b_honest", "c_honest"):
        shutil.copy(REFERENCE_PATH, folder / f"{name}.py")
    wrap = Wrapper("root", False, str(scratch))
    completed = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "1", wrap=wrap)
    assert completed.returncode == 0, completed.stderr[-2000:]
    records = {name: json.loads((out / name / "record.json").read_text()) for name in ("a_attacker", "b_honest", "c_honest")}
    assert {name: (r["status"], r["score"]) for name, r in records.items()} == {
        name: ("graded", 100.0) for name in records}
    attack = privilege_probes.parse((out / "a_attacker" / "feedback.md").read_text())
    assert attack["prlimit nofile parent"] == "denied EPERM"
    assert len({r["pid"] for r in records.values()}) == 1  # one job graded all three

    honest = records["b_honest"]
    fault = fault_report(load_assignment("hw1", REPO / "assignments"), "b_honest.py", "OSError: Too many open files", 0.0)
    write_student_files(out / "b_honest", render_student(fault, "b_honest", folder / "b_honest.py", honest["key"], 0.0))
    assert json.loads((out / "b_honest" / "record.json").read_text())["status"] == "grader fault"
    again = run_grader("grade-all", "hw1", folder, "--out", out, "--jobs", "1", wrap=wrap)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "graded 1, reused 2" in again.stdout
    regraded = json.loads((out / "b_honest" / "record.json").read_text())
    assert (regraded["status"], regraded["score"]) == ("graded", 100.0)
    with open(out / "gradebook.csv", newline="") as file:
        assert {row["student"]: float(row["score"]) for row in csv.DictReader(file)} == {
            "a_attacker": 100.0, "b_honest": 100.0, "c_honest": 100.0}


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader is the worker's parent only as root without bubblewrap")
def test_the_gradescope_entry_point_survives_an_attack_on_its_limits(scratch):
    root = scratch / "autograder"
    shutil.copytree(REPO / "assignments" / "hw1", root / "source" / "assignments" / "hw1")
    shutil.copytree(REPO / "solutions" / "hw1", root / "source" / "solutions" / "hw1")
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "hw1.py").write_text(privilege_probes.submission(REFERENCE_PATH.read_text()))
    command = Wrapper("root", False, str(scratch))([sys.executable, "-m", "grader.distribute.gradescope", "hw1", str(root)])
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 100.0
    assert "no capabilities" in results["extra_data"]["isolation"]["layers"]
    probes = privilege_probes.parse((root / "results" / "feedback.md").read_text())
    assert probes["prlimit cpu parent"] == probes["prlimit nofile parent"] == "denied EPERM"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to a uid without a name")
def test_a_stale_scratch_folder_of_a_nameless_uid_does_not_stop_grading(scratch, tiny):
    """A grader killed mid-grading (what the attacks above did) leaves its scratch folder, owned by
    a uid without a user name (another user's, or a worker's); later graders still grade (here the
    small assignment of `grader new tiny`: the subject is the scratch folders, not hw1)."""
    tmp = scratch / "tmp"
    tmp.mkdir()
    stale = {uid: tmp / f"grader-worker-{4194305 + n}-stale" for n, uid in enumerate((70001, isolation.WORKER_UID_BASE + 7))}
    for uid, folder in stale.items():
        folder.mkdir()
        os.chown(folder, uid, uid)
    shutil.copy(tiny.reference, scratch / "stale.py")
    env = {**os.environ, "TMPDIR": str(tmp)}
    completed = run_grader(*tiny.option(), "grade", "tiny", scratch / "stale.py", "--results-json", scratch / "stale.json",
                           "--quiet", env=env)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads((scratch / "stale.json").read_text())["score"] == 10.0
    assert stale[70001].is_dir() and not stale[isolation.WORKER_UID_BASE + 7].exists()  # another user's stays; a worker's goes
