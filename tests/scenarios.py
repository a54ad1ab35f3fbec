#!/usr/bin/env python3
"""Scenario tests: each runs a program under the library and checks its report by content.

Run one: scenarios.py NAME (ctest does, with TL_LIB, TL_SCENARIOS, TL_CLI and TL_SOURCE set).
Every test is a function named after the behaviour it proves.
"""
import gzip
import json
import os
import re
import signal as signal_module
import stat
import subprocess
import sys
import tempfile
import time

LIB = os.environ.get("TL_LIB", "")
SCENARIOS = os.environ.get("TL_SCENARIOS", "")
CLI = os.environ.get("TL_CLI", "")
SOURCE = os.environ.get("TL_SOURCE", "")
# Sanitizer builds put their runtime first, as the sanitizers require.
PRELOAD_FIRST = os.environ.get("TL_PRELOAD_FIRST", "")


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise Failure(f"{what}: expected {expected!r}, got {actual!r}")


def preload_env(options="", preload=True):
    env = dict(os.environ)
    env.pop("THREADLEAK_OPTIONS", None)
    if preload:
        env["LD_PRELOAD"] = ":".join(p for p in (PRELOAD_FIRST, LIB) if p)
    else:
        env.pop("LD_PRELOAD", None)
    if options:
        env["THREADLEAK_OPTIONS"] = options
    return env


TESTS = []


def test(fn):
    TESTS.append(fn.__name__)
    return fn


def run(prog, *args, options="", preload=True, timeout=120):
    cmd = [os.path.join(SCENARIOS, prog), *args]
    p = subprocess.run(cmd, env=preload_env(options, preload), capture_output=True, text=True,
                       timeout=timeout)
    return p


def report(prog, *args, options="", status=0, preload=True):
    """Runs prog with a json report written to a file; returns (report, process)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.json")
        opts = f"format=json:output={path}" + (":" + options if options else "")
        p = run(prog, *args, options=opts, preload=preload)
        expect_eq(p.returncode, status, f"{prog} exit status (stderr: {p.stderr.strip()})")
        expect(os.path.exists(path), f"{prog} wrote no report; stderr: {p.stderr}")
        with open(path) as f:
            return json.load(f), p


INTERCEPTOR = r"_*interceptor_[\w.]+"
EXITED = r"(has exited|exited [\d.]+ (ms|s|min|h) ago)"


def user_frames(frames):
    """Frames less those of sanitizer interceptors, which sit above ours in ASan runs."""
    frames = list(frames)
    while frames and re.fullmatch(INTERCEPTOR, frames[0]["function"]):
        frames.pop(0)
    return frames


def functions(frames):
    return [f["function"] for f in user_frames(frames)]


def group_by_state(rep, state):
    groups = [g for g in rep["groups"] if g["state"] == state]
    expect(groups, f"no group in state {state}: {summary(rep)}")
    return groups


def summary(rep):
    return [(g["count"], g["state"], g["verdict"], functions(g["created_at"])[:2]) for g in rep["groups"]]


def source_line(name, marker):
    with open(os.path.join(SOURCE, "tests", "scenarios", name)) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise Failure(f"no {marker} in {name}")


# ---- threads alive at exit ----

@test
def thread_alive_at_exit_is_reported_with_creator():
    rep, _ = report("alive", "3")
    expect_eq(rep["tool"], "threadleak", "tool")
    expect_eq(rep["trigger"], "exit", "trigger")
    expect_eq(rep["threads_leaked"], 3, "threads_leaked")
    expect_eq(rep["threads_total"], 4, "threads_total (3 workers and main)")
    (g,) = rep["groups"]
    expect_eq(g["count"], 3, "group count")
    expect_eq(g["state"], "cond_wait", "state")
    expect_eq(g["verdict"], "blocked", "verdict")
    expect(re.fullmatch(r"0x[0-9a-f]+", g["object"]), f"object: the condition variable: {g['object']}")
    expect(20 <= g["blocked_ms_min"] <= g["blocked_ms_max"] < 60000,
           f"blocked for {g['blocked_ms_min']}..{g['blocked_ms_max']} ms")
    blocked = user_frames(g["blocked_at"])
    expect_eq(blocked[0]["function"], "wait_forever", "blocked_at")
    expect_eq(blocked[0]["line"], source_line("alive.c", "wait-site"), "line of the wait")
    expect_eq(functions(g["created_at"])[:2], ["spawn_blocked", "main"], "created_at")
    expect_eq(len(g["threads"]), 3, "threads listed")
    main_tid = rep["pid"]
    for t in g["threads"]:
        expect_eq(t["creator_tid"], main_tid, "creator_tid")
        expect(t["tid"] != main_tid, "main thread reported")
    top = user_frames(g["created_at"])[0]
    expect_eq(top["line"], source_line("alive.c", "create-site"), "line of the create call")
    expect(top["file"].endswith("alive.c"), f"file {top['file']}")
    expect(top["module"].endswith("/alive"), f"module {top['module']}")
    expect(re.fullmatch(r"0x[0-9a-f]+", top["address"]), f"address {top['address']}")


@test
def text_report_names_function_and_line():
    p = run("alive", "2", options="format=text")
    expect_eq(p.returncode, 0, "exit status")
    line = source_line("alive.c", "create-site")
    expect("threadleak: 2 leaked threads in 1 group at exit" in p.stderr, p.stderr)
    expect(re.search(r"^2 threads: cond_wait, blocked, for \d+ ms( to \d+ ms)?, on 0x[0-9a-f]+$", p.stderr, re.M),
           p.stderr)
    wait_line = source_line("alive.c", "wait-site")
    expect(re.search(rf"blocked at:\n(\s+#\d\s+{INTERCEPTOR}\s.*\n)?\s+#\d\s+wait_forever\s+\S*alive\.c:{wait_line}",
                     p.stderr),
           p.stderr)
    expect(re.search(rf"#\d\s+spawn_blocked\s+\S*alive\.c:{line}\s+\(alive\+0x[0-9a-f]+\)", p.stderr),
           f"the create frame with file:line {line}:\n{p.stderr}")
    expect(re.search(r"#\d\s+main\s+\S*alive\.c:\d+", p.stderr), p.stderr)
    expect("threadleak" not in p.stdout, "report leaked onto stdout")


@test
def full_format_prints_each_thread():
    p = run("alive", "2", options="format=full")
    blocks = re.findall(r"^thread (\d+) \"alive\": cond_wait, blocked", p.stderr, re.M)
    expect_eq(len(blocks), 2, f"thread blocks in\n{p.stderr}")
    expect_eq(p.stderr.count("spawn_blocked"), 2, "a creation stack per thread")


@test
def folded_format_prints_a_line_per_group():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.folded")
        p = run("lifecycle", "unjoined", options=f"format=folded:output={path}")
        expect_eq(p.returncode, 0, "exit status")
        with open(path) as f:
            lines = f.read().splitlines()
    expect_eq(len(lines), 1, "one group")
    expect(re.fullmatch(rf"exited_unjoined;.*;main;start_unjoined(;{INTERCEPTOR})? 1", lines[0]), lines[0])


# ---- where threads wait ----

# mode of waits.c: (state, what the object looks like)
WAITS = {
    "cond_wait": ("cond_wait", "address"), "cond_timedwait": ("cond_wait", "address"),
    "mutex_lock": ("mutex_lock", "address"), "mutex_timedlock": ("mutex_lock", "address"),
    "rwlock_read": ("rwlock_read", "address"), "rwlock_write": ("rwlock_write", "address"),
    "sem_wait": ("sem_wait", "address"), "sem_clockwait": ("sem_wait", "address"),
    "barrier_wait": ("barrier_wait", "address"), "join": ("join", "thread"),
    "nanosleep": ("sleep", "none"), "sleep": ("sleep", "none"), "usleep": ("sleep", "none"),
    "clock_nanosleep": ("sleep", "none"),
}


def check_wait(mode, state, kind):
    rep, _ = report("waits", mode)
    (g,) = group_by_state(rep, state)
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    expect_eq(functions(g["blocked_at"])[0], f"block_in_{mode}", "blocked_at")
    expect_eq(functions(g["created_at"])[:2], ["start", "main"], "created_at")
    expect(20 <= g["blocked_ms_min"] < 60000, f"blocked for {g['blocked_ms_min']} ms")
    if kind == "address":
        expect(re.fullmatch(r"0x[0-9a-f]+", g["object"]), f"object {g['object']!r}")
    elif kind == "none":
        expect_eq(g["object"], "", "object")
    else:
        (target,) = [t for other in rep["groups"] if other is not g for t in other["threads"]]
        expect_eq(g["object"], f"tid {target['tid']}", "object: the joined thread")


for _mode, (_state, _kind) in WAITS.items():
    def _check(mode=_mode, state=_state, kind=_kind):
        check_wait(mode, state, kind)
    _check.__name__ = f"thread_blocked_in_{_mode}_is_reported_there"
    globals()[_check.__name__] = test(_check)


# mode of io.c: the state it must show
IO_WAITS = {
    "pipe_read": "pipe_read", "pipe_write": "pipe_write", "socket_read": "socket_read",
    "socket_read_via_read": "socket_read", "socket_write": "socket_write", "accept": "accept",
    "poll": "poll", "epoll_wait": "poll", "select": "poll", "mq_receive": "mq_receive",
    "mq_send": "mq_send",
}


def check_io_wait(mode, state):
    rep, _ = report("io", mode)
    (g,) = group_by_state(rep, state)
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    expect_eq(functions(g["blocked_at"])[0], f"block_in_{mode}", "blocked_at")
    expect_eq(functions(g["created_at"])[:2], ["start", "main"], "created_at")
    expect(20 <= g["blocked_ms_min"] < 60000, f"blocked for {g['blocked_ms_min']} ms")
    if mode == "select":
        expect_eq(g["object"], "", "select names no one descriptor")
    else:
        expect(re.fullmatch(r"fd \d+", g["object"]), f"object {g['object']!r}")


for _mode, _state in IO_WAITS.items():
    def _check(mode=_mode, state=_state):
        check_io_wait(mode, state)
    _check.__name__ = f"thread_blocked_in_{_mode}_is_reported_there"
    globals()[_check.__name__] = test(_check)


@test
def message_queue_never_closed_is_a_resource():
    rep, _ = report("io", "mq_receive")
    (res,) = [r for r in rep["resources"] if r["kind"] == "mqueue"]
    expect_eq(res["count"], 1, "count")
    expect_eq(functions(res["created_at"])[:2], ["open_queue", "main"], "created_at")


@test
def pipe_never_closed_is_a_resource_counted_once():
    rep, _ = report("io", "pipe_kept")
    expect_eq([(r["kind"], r["count"]) for r in rep["resources"]], [("pipe", 1)], "resources")
    expect_eq(functions(rep["resources"][0]["created_at"])[:2], ["make_pipe", "main"], "created_at")


@test
def closed_pipes_are_not_resources():
    rep, _ = report("io", "pipe_closed")
    expect_eq(rep["resources"], [], "after close, and dup2 over an end")


@test
def a_copied_pipe_end_keeps_the_pipe_a_resource():
    rep, _ = report("io", "pipe_copy_kept")
    expect_eq([(r["kind"], r["count"]) for r in rep["resources"]], [("pipe", 1)], "resources")


@test
def non_blocking_calls_stay_plain():
    bare = run("io", "nonblocking", preload=False)
    wrapped = run("io", "nonblocking")
    expected = ("pipe2 O_NONBLOCK read=-1 errno=EAGAIN\nF_SETFL O_NONBLOCK read=-1 errno=EAGAIN\n"
                "MSG_DONTWAIT recv=-1 errno=EAGAIN\n")
    expect_eq(bare.stdout, expected, "bare")
    expect_eq(wrapped.stdout, expected, "under the library")


@test
def pipe_read_restarts_after_sa_restart_signal():
    bare = run("io", "restart", preload=False)
    wrapped = run("io", "restart")
    expect_eq(bare.stdout, "read=1 errno=-\n", "bare")
    expect_eq(wrapped.stdout, bare.stdout, "under the library")


@test
def a_condition_never_signalled_says_so():
    rep, _ = report("waits", "cond_wait")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g.get("evidence"), "never signalled", "evidence")
    rep, _ = report("waits", "sem_wait")
    (g,) = group_by_state(rep, "sem_wait")
    expect_eq(g.get("evidence"), "never posted", "evidence")


@test
def a_condition_whose_signaller_exited_names_it():
    rep, p = report("waits", "signaller_exited")
    (g,) = group_by_state(rep, "cond_wait")
    m = re.fullmatch(rf"last signalled by tid (\d+), which {EXITED}", g.get("evidence", ""))
    expect(m, f"evidence {g.get('evidence')!r}")
    expect(int(m.group(1)) not in [t["tid"] for t in g["threads"]], "the signaller is not the waiter")
    text = run("waits", "signaller_exited").stderr
    expect(re.search(rf"^  evidence: last signalled by tid \d+, which {EXITED}$", text, re.M), text)


CANCELLABLE = {"waits": ["cond_wait", "cond_timedwait", "sem_wait", "sem_clockwait", "join",
                         "nanosleep", "sleep", "usleep", "clock_nanosleep"],
               "io": ["pipe_read", "pipe_write", "socket_read", "socket_write", "accept", "poll",
                      "epoll_wait", "select", "mq_receive", "mq_send"]}


@test
def cancellation_inside_each_wait_leaves_no_stale_state():
    for prog, modes in CANCELLABLE.items():
        for mode in modes:
            rep, _ = report(prog, f"cancel_{mode}")
            cancelled = [g for g in rep["groups"]
                         if "start_then_cancel" in functions(g["created_at"])]
            expect_eq([(g["count"], g["state"], g["object"]) for g in cancelled],
                      [(1, "waiting", "syscall:pause")],
                      f"{mode}: the cleanup handler's pause, not the cancelled wait")
            expect_eq(cancelled[0]["blocked_at"], [], f"{mode}: no stack of a finished wait")


@test
def timed_out_waits_leave_no_stale_state():
    rep, _ = report("waits", "timeout_then_pause")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["object"]), ("waiting", "syscall:pause"), "state after two timeouts")


@test
def blocked_at_is_the_latest_wait_after_thousands():
    rep, _ = report("waits", "many_then_block")
    (g,) = group_by_state(rep, "cond_wait")
    top = user_frames(g["blocked_at"])[0]
    expect_eq((top["function"], top["line"]),
              ("many_waits_then_block", source_line("waits.c", "final-site")), "blocked_at")


@test
def signals_interrupt_waits_with_eintr_as_without_the_library():
    bare = run("waits", "eintr", preload=False)
    wrapped = run("waits", "eintr")
    expected = "sem_wait rc=-1 errno=EINTR\nnanosleep rc=-1 errno=EINTR remaining=most\n"
    expect_eq(bare.stdout, expected, "bare")
    expect_eq(wrapped.stdout, expected, "under the library")


# ---- verdicts ----

def verdicts_of(rep):
    return sorted((g["state"], g["verdict"], g["count"]) for g in rep["groups"])


@test
def ab_ba_mutex_deadlock_is_a_deadlock():
    rep, _ = report("verdicts", "abba")
    # created from two lines of main: two groups
    expect_eq(verdicts_of(rep), [("mutex_lock", "deadlock", 1)] * 2, "groups")
    tids = sorted(t["tid"] for g in rep["groups"] for t in g["threads"])
    for g in rep["groups"]:
        expect(re.fullmatch(r"wait-for cycle: tid (\d+) -> tid (\d+) -> tid \1", g["evidence"]),
               g["evidence"])
        expect_eq(sorted(int(t) for t in re.findall(r"\d+", g["evidence"])[:2]), tids, "the cycle's tids")


@test
def three_thread_cycle_and_a_thread_behind_it_are_deadlocked():
    rep, _ = report("verdicts", "cycle3")
    expect_eq(verdicts_of(rep), [("mutex_lock", "deadlock", 1), ("mutex_lock", "deadlock", 3)], "groups")
    (behind,) = [g for g in rep["groups"] if g["count"] == 1]
    expect(re.fullmatch(r"waits for tid \d+, which is deadlocked", behind["evidence"]), behind["evidence"])


@test
def join_cycle_is_a_deadlock():
    rep, _ = report("verdicts", "join_cycle")
    expect_eq(verdicts_of(rep), [("join", "deadlock", 3)], "groups")


@test
def mutex_whose_owner_exited_is_orphaned_and_so_is_its_joiner():
    rep, _ = report("verdicts", "owner_exited")
    expect_eq(verdicts_of(rep), [("join", "orphaned", 1), ("mutex_lock", "orphaned", 1)], "groups")
    (lock,) = group_by_state(rep, "mutex_lock")
    expect(re.fullmatch(rf"owner tid \d+ {EXITED}", lock["evidence"]), lock["evidence"])
    expect("ago" in lock["evidence"], "we saw the owner end: when is known")


@test
def cond_whose_only_signaller_exited_is_orphaned():
    rep, _ = report("waits", "signaller_exited")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["verdict"], "orphaned", "verdict")


@test
def pipe_whose_only_writer_exited_is_orphaned():
    rep, _ = report("verdicts", "pipe_writer_exited")
    (g,) = group_by_state(rep, "pipe_read")
    expect_eq(g["verdict"], "orphaned", "verdict")
    expect(re.fullmatch(rf"last written by tid \d+, which {EXITED}", g["evidence"]), g["evidence"])


@test
def queue_with_no_sender_says_so_but_stays_blocked():
    rep, _ = report("verdicts", "mq_no_sender")
    (g,) = group_by_state(rep, "mq_receive")
    expect_eq((g["verdict"], g.get("evidence")), ("blocked", "never sent"), "verdict and evidence")


@test
def healthy_pool_server_and_sleeper_are_only_blocked():
    rep, _ = report("verdicts", "healthy")
    got = {(g["state"], g["verdict"]) for g in rep["groups"]}
    expect_eq(got, {("cond_wait", "blocked"), ("accept", "blocked"), ("sleep", "blocked")},
              f"no deadlock, no orphan: {verdicts_of(rep)}")
    evidence = sorted(g.get("evidence", "") for g in group_by_state(rep, "cond_wait"))
    expect(any(re.fullmatch(r"last signalled by tid \d+", e) for e in evidence), evidence)
    expect("never signalled" in evidence, evidence)


@test
def pileup_is_flagged_at_the_threshold():
    rep, _ = report("verdicts", "pileup", "5", options="pileup=5")
    (g,) = rep["groups"]
    expect_eq((g["count"], g.get("pileup")), (5, True), "at the threshold")
    rep, _ = report("verdicts", "pileup", "4", options="pileup=5")
    (g,) = rep["groups"]
    expect_eq((g["count"], g.get("pileup")), (4, None), "below it")
    p = run("verdicts", "pileup", "5", options="pileup=5")
    expect("pile-up: 5 threads wait at this one site" in p.stderr, p.stderr)


# ---- pprof ----

def _varint(data, i):
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def proto_fields(data):
    """A protobuf message as (field, value) pairs: an int for a varint, bytes for the rest."""
    i, fields = 0, []
    while i < len(data):
        key, i = _varint(data, i)
        if key & 7 == 0:
            value, i = _varint(data, i)
        elif key & 7 == 2:
            n, i = _varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise Failure(f"unexpected wire type {key & 7}")
        fields.append((key >> 3, value))
    return fields


def packed(data):
    values, i = [], 0
    while i < len(data):
        v, i = _varint(data, i)
        values.append(v)
    return values


def read_pprof(source):
    """The profile (a path, or its bytes) as {sample_type, samples: [(value, labels, stack functions)]}."""
    if isinstance(source, bytes):
        top = proto_fields(gzip.decompress(source))
    else:
        with gzip.open(source) as f:
            top = proto_fields(f.read())
    strings = [v.decode() for k, v in top if k == 6]
    expect_eq(strings[0], "", "string_table[0]")
    functions, locations = {}, {}
    for k, v in top:
        if k == 5:
            fn = dict(proto_fields(v))
            functions[fn[1]] = strings[fn[2]]
        elif k == 4:
            loc = proto_fields(v)
            lines = [dict(proto_fields(line)) for key, line in loc if key == 4]
            locations[dict(loc)[1]] = [functions_id[1] for functions_id in lines]
    sample_type = [dict(proto_fields(v)) for k, v in top if k == 1]
    samples = []
    for k, v in top:
        if k != 2:
            continue
        fields = proto_fields(v)
        ids = [i for key, val in fields if key == 1 for i in packed(val)]
        values = [i for key, val in fields if key == 2 for i in packed(val)]
        labels = {strings[dict(proto_fields(val))[1]]: strings[dict(proto_fields(val))[2]]
                  for key, val in fields if key == 3}
        stack = [functions[f] for i in ids for f in locations[i]]
        samples.append((values, labels, stack))
    return {"sample_type": [(strings[t[1]], strings[t[2]]) for t in sample_type], "samples": samples}


@test
def pprof_report_is_a_gzipped_profile_with_a_sample_per_group():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "threads.pb.gz")
        p = run("alive", "3", options=f"format=pprof:output={path}")
        expect_eq(p.returncode, 0, f"status: {p.stderr}")
        prof = read_pprof(path)
    expect_eq(prof["sample_type"], [("threads", "count")], "sample_type")
    (values, labels, stack), = prof["samples"]
    expect_eq(values, [3], "value: the thread count")
    expect_eq(labels, {"state": "cond_wait", "verdict": "blocked", "created_by": "spawn_blocked"},
              "labels")
    expect_eq([f for f in stack if not re.fullmatch(INTERCEPTOR, f)][:1], ["wait_forever"],
              "the stack of the wait, innermost first")


# ---- how threads end ----

@test
def unjoined_finished_thread_is_unjoined():
    rep, _ = report("lifecycle", "unjoined")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["verdict"], g["count"]), ("exited_unjoined", "unjoined", 1), "group")
    expect_eq(functions(g["created_at"])[:2], ["start_unjoined", "main"], "created_at")
    expect(g["blocked_ms_min"] >= 10, f"time since it finished: {g['blocked_ms_min']}")
    expect_eq(g["threads"][0]["name"], "lifecycle", "an unnamed thread has its process's name")
    expect_eq(rep["threads_leaked"], 1, "threads_leaked")


@test
def detached_threads_are_not_reported():
    rep, _ = report("lifecycle", "detached")
    expect_eq(rep["groups"], [], "groups")
    expect_eq(rep["threads_leaked"], 0, "threads_leaked")


@test
def joined_threads_are_not_reported():
    rep, _ = report("lifecycle", "joined")
    expect_eq(rep["groups"], [], "groups after join, tryjoin, timedjoin and clockjoin")


@test
def pthread_exit_is_seen_as_an_end():
    rep, _ = report("lifecycle", "pthread_exit")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["count"]), ("exited_unjoined", 1), "the unjoined one only")
    expect_eq(functions(g["created_at"])[0], "start_exiting", "created_at")


@test
def cancelled_and_joined_thread_is_forgotten_and_cleanups_run_in_order():
    rep, p = report("lifecycle", "cancel")
    expect_eq(p.stdout.strip(), "cancelled=1 cleanup order: 2 1", "program's cancellation handlers")
    expect_eq(rep["groups"], [], "groups")


@test
def main_leaving_through_pthread_exit_still_reports_at_exit():
    # Both threads main left behind are joinable and never joined; the process ends when the last
    # one does, as it does without the library (whose own thread does not keep it alive).
    rep, _ = report("lifecycle", "main_exits")
    expect_eq(sorted((g["state"], g["count"], functions(g["created_at"])[0]) for g in rep["groups"]),
              [("exited_unjoined", 1, "main_leaves_first"), ("exited_unjoined", 1, "start_unjoined")],
              f"groups: {summary(rep)}")
    tids = {t["tid"] for g in rep["groups"] for t in g["threads"]}
    expect(rep["pid"] not in tids, "main thread reported")


@test
def thread_started_by_another_library_constructor_is_tracked():
    rep, _ = report("early")
    (g,) = rep["groups"]
    expect_eq((g["count"], g["state"]), (1, "waiting"), f"groups: {summary(rep)}")
    expect(not g.get("untracked"), "seen created, though before our constructor ran")
    expect_eq(functions(g["created_at"])[0], "early_constructor", "created_at")


@test
def thread_names_are_reported():
    rep, _ = report("lifecycle", "named")
    names = sorted(t["name"] for g in rep["groups"] for t in g["threads"])
    expect_eq(names, ["by-prctl", "by-prctl", "db-poller", "main-renamed", "renamed"],
              "names from pthread_setname_np (of the thread itself, or of another), from prctl, "
              "and inherited from the creator")


@test
def undeleted_timer_is_a_resource_served_by_the_helper_thread():
    rep, _ = report("timer_helper", "kept")
    expect_eq(rep["groups"], [], "glibc's helper thread is not an unknown thread")
    (res,) = rep["resources"]
    expect_eq((res["kind"], res["count"]), ("timer", 1), "resource")
    expect_eq(functions(res["created_at"])[:2], ["start_heartbeat", "main"], "created_at")
    expect(res["helper_tid"] > rep["pid"], f"helper tid {res.get('helper_tid')}")


@test
def deleted_timer_is_not_reported():
    rep, _ = report("timer_helper", "deleted")
    expect_eq((rep["groups"], rep["resources"]), ([], []), "groups and resources")


@test
def untracked_thread_is_reported_from_proc():
    rep, _ = report("timer_helper", "stuck")
    untracked = [g for g in rep["groups"] if g.get("untracked")]
    expect_eq(len(untracked), 1, f"untracked groups: {summary(rep)}")
    g = untracked[0]
    expect_eq((g["count"], g["state"], g["verdict"]), (1, "waiting", "blocked"), "the callback's thread")
    expect_eq(g["object"], "syscall:pause", "what it waits in")
    expect_eq(g["created_at"], [], "no creation stack for a thread not seen created")
    expect_eq(g["threads"][0]["creator_tid"], 0, "unknown creator")


# ---- exit status ----

@test
def clean_program_keeps_its_status_with_exitcode():
    rep, _ = report("lifecycle", "joined", options="exitcode=66", status=0)
    expect_eq(rep["threads_leaked"], 0, "threads_leaked")
    p = run("lifecycle", "joined", options="exitcode=66")
    expect_eq((p.returncode, p.stderr), (0, ""), "a clean text run says nothing and keeps 0")


@test
def leaky_program_exits_with_exitcode():
    p = run("alive", "1", "0", options="exitcode=66")
    expect_eq(p.returncode, 66, "exit status with a leak")
    p = run("alive", "1", "3", options="exitcode=0")
    expect_eq(p.returncode, 3, "exitcode=0 leaves the program's status alone")


@test
def running_threads_and_the_timer_helper_do_not_change_exit_status():
    rep, _ = report("verdicts", "spinner", options="exitcode=66")
    expect_eq([(g["state"], g["verdict"], g["count"]) for g in rep["groups"]],
              [("running", "running", 1)], "a thread computing at exit")
    expect_eq(rep["threads_leaked"], 0, "threads_leaked")
    expect_eq(run("verdicts", "spinner", options="exitcode=66").returncode, 0, "status with a runner")
    p = run("timer_helper", "kept", options="exitcode=66")
    expect_eq(p.returncode, 0, f"status with glibc's timer thread and an undeleted timer: {p.stderr}")
    expect("1 timer never deleted" in p.stderr, "the timer is still reported")


# ---- options and output ----

@test
def bad_options_warn_and_keep_defaults():
    p = run("alive", "1", options="format=xml:bogus=1:max_frames=0:exitcode=300:grace_ms=-5:nonsense")
    warnings = [l for l in p.stderr.splitlines() if l.startswith("threadleak: THREADLEAK_OPTIONS")]
    expect_eq(len(warnings), 6, f"one warning per bad pair:\n{p.stderr}")
    expect(any("bad value 'xml' for format" in w for w in warnings), warnings)
    expect(any("unknown option 'bogus'" in w for w in warnings), warnings)
    expect(any("'nonsense' is not key=value" in w for w in warnings), warnings)
    expect_eq(p.returncode, 0, "status unchanged: exitcode kept its default 0")
    expect("1 thread: cond_wait, blocked" in p.stderr, "the report still comes, in text")


@test
def unwritable_output_falls_back_to_stderr():
    p = run("alive", "1", options="output=/nonexistent-dir/report.txt")
    expect_eq(p.returncode, 0, "status")
    expect(re.search(r"^threadleak: cannot create /nonexistent-dir/report.txt \(No such file",
                     p.stderr, re.M), p.stderr)
    expect("1 thread: cond_wait, blocked" in p.stderr, "report on stderr instead")


@test
def output_file_is_new_private_and_never_truncates():
    with tempfile.TemporaryDirectory() as d:
        pattern = os.path.join(d, "tl.%p.%n.json")
        p = run("alive", "1", options=f"format=json:output={pattern}")
        (name,) = os.listdir(d)
        expect(re.fullmatch(r"tl\.\d+\.1\.json", name), name)
        mode = stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode)
        expect_eq(oct(mode), oct(0o600), "file mode")
        # an existing file at the path is left alone, and so is a symbolic link's target
        victim = os.path.join(d, "victim")
        with open(victim, "w") as f:
            f.write("keep me")
        link = os.path.join(d, "link.json")
        os.symlink(victim, link)
        p = run("alive", "1", options=f"format=json:output={link}")
        with open(victim) as f:
            expect_eq(f.read(), "keep me", "symlink target untouched")
        expect("cannot create" in p.stderr and '"tool": "threadleak"' in p.stderr,
               f"falls back to stderr:\n{p.stderr}")


@test
def max_frames_limits_stacks():
    full, _ = report("alive", "1")
    cut, _ = report("alive", "1", options="max_frames=2")
    full_stack = [f["function"] for f in full["groups"][0]["created_at"]]
    cut_stack = [f["function"] for f in cut["groups"][0]["created_at"]]
    expect(len(full_stack) > 2, f"a deeper stack by default: {full_stack}")
    expect_eq(cut_stack, full_stack[:2], "the innermost two frames kept")


@test
def at_exit_0_disables_the_report():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        p = run("alive", "1", options=f"at_exit=0:format=json:output={path}:exitcode=66")
        expect_eq(p.returncode, 0, "status")
        expect(not os.path.exists(path), "no report written")
        expect_eq(p.stderr, "", "nothing said")


@test
def grace_lets_finishing_threads_end():
    # A detached thread sleeps 50 ms more after main returns: the grace period lets it end, and
    # ends as soon as it has (no fixed wait); without one it is judged while still asleep.
    rep, _ = report("lifecycle", "finishing", options="grace_ms=5000")
    expect_eq((rep["groups"], rep["threads_leaked"]), ([], 0), "with a grace period")
    rep, _ = report("lifecycle", "finishing", options="grace_ms=0")
    expect_eq([(g["state"], g["count"]) for g in rep["groups"]], [("sleep", 1)], "without one")
    expect_eq(functions(rep["groups"][0]["blocked_at"])[0], "finish_later", "blocked_at")


# ---- robustness ----

@test
def fork_child_holds_only_its_own_threads():
    with tempfile.TemporaryDirectory() as d:
        p = run("forking", options=f"format=json:output={d}/r.%p.json")
        expect_eq(p.returncode, 0, f"status; {p.stderr}")
        reports = []
        for name in os.listdir(d):
            with open(os.path.join(d, name)) as f:
                reports.append(json.load(f))
    expect_eq(len(reports), 2, "a report from the parent and one from the child")
    child, parent = sorted(reports, key=lambda r: r["threads_leaked"])
    expect_eq(parent["threads_leaked"], 3, "parent's pool")
    expect_eq(functions(parent["groups"][0]["created_at"])[0], "parent_pool", "parent's creator")
    expect_eq(child["threads_leaked"], 1, f"child: its own thread only: {summary(child)}")
    expect_eq(functions(child["groups"][0]["created_at"])[0], "child_work", "child's creator")
    expect_eq(child["threads_total"], 2, "child's threads: its main and its own worker")


@test
def churn_keeps_the_heap_flat():
    p = run("churn", "20000")
    expect_eq(p.returncode, 0, f"status; {p.stderr}")
    growth = int(re.search(r"growth=(-?\d+)", p.stdout).group(1))
    expect(growth < 16384, f"heap grew by {growth} bytes over 18000 create/join cycles")


@test
def concurrent_create_join_loses_nothing():
    rep, _ = report("stress")
    expect_eq(rep["threads_leaked"], 8, f"one unjoined thread per worker: {summary(rep)}")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["count"]), ("exited_unjoined", 8), "group")
    expect_eq(functions(g["created_at"])[:2], ["leave_one_behind", "worker"], "created_at")
    expect_eq(len({t["tid"] for t in g["threads"]}), 8, "distinct threads")


@test
def wrapped_functions_keep_return_values_errno_and_masks():
    bare = run("semantics", preload=False)
    wrapped = run("semantics")
    expect_eq(bare.returncode, 0, "bare run")
    expect_eq(wrapped.stdout, bare.stdout, "output under the library")
    lines = [" ".join(line.split()) for line in bare.stdout.splitlines()]
    for needle in ["tryjoin running rc=EBUSY errno=kept", "join self rc=EDEADLK errno=kept",
                   "create huge stack rc=EAGAIN errno=ENOMEM", "detach running again rc=EINVAL errno=kept",
                   "mask inherited yes", "create rc=0 errno=kept", "setname too long rc=ERANGE errno=kept"]:
        expect(needle in lines, f"{needle!r} in\n{bare.stdout}")


@test
def cxx_exceptions_and_cancellation_unwind_as_without_the_library():
    p = run("cxx_unwind")
    expect_eq((p.returncode, p.stdout.strip()), (0, "destructors run: 1002"), f"{p.stderr}")


@test
def linked_library_reports_at_exit():
    rep, _ = report("linked", preload=False)
    (g,) = rep["groups"]
    expect_eq(functions(g["created_at"])[0], "linked_leak", "created_at")


@test
def run_command_preloads_and_keeps_status():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        env = preload_env(preload=False)
        earlier = "libm.so.6"
        env["LD_PRELOAD"] = ":".join(p for p in (PRELOAD_FIRST, earlier) if p)  # kept, and first
        env["THREADLEAK_OPTIONS"] = "format=text"
        p = subprocess.run([CLI, "run", "-o", f"format=json:output={path}", "--",
                            os.path.join(SCENARIOS, "alive"), "2", "7"],
                           env=env, capture_output=True, text=True, timeout=60)
        expect_eq(p.returncode, 7, f"program's status; {p.stderr}")
        with open(path) as f:
            rep = json.load(f)
        expect_eq(rep["threads_leaked"], 2, "report through threadleak run")
        p = subprocess.run([CLI, "run", "-o", "at_exit=0", "--", "sh", "-c",
                            'printf "%s|%s" "$LD_PRELOAD" "$THREADLEAK_OPTIONS"'],
                           env=env, capture_output=True, text=True, timeout=60)
    preload, options = p.stdout.split("|")
    expect_eq(preload.split(":")[:-1], env["LD_PRELOAD"].split(":"), "the earlier preload stays first")
    expect(preload.split(":")[-1].endswith("/lib/libthreadleak.so"), preload)
    expect_eq(options, "format=text:at_exit=0", "-o options follow the caller's")


@test
def run_command_explains_bad_usage():
    p = subprocess.run([CLI, "run"], capture_output=True, text=True)
    expect_eq(p.returncode, 2, "usage status")
    expect(p.stderr.startswith("threadleak: "), p.stderr)
    p = subprocess.run([CLI, "run", "--", "/nonexistent/program"], capture_output=True, text=True)
    expect_eq(p.returncode, 127, "status when the program cannot be run")
    expect("/nonexistent/program" in p.stderr, p.stderr)
    p = subprocess.run([CLI, "--version"], capture_output=True, text=True)
    expect_eq(p.stdout.strip(), "threadleak 0.2.0", "--version")


# ---- the test API ----

def api(mode, *args):
    p = run("api", mode, *args, preload=False)
    expect_eq(p.returncode, 0, f"api {mode}: {p.stderr}")
    return p


@test
def verify_none_of_a_clean_test_returns_0_at_once():
    p = api("clean")
    m = re.fullmatch(r"rc=0 ms=([\d.]+)\n", p.stdout)
    expect(m, p.stdout)
    expect(float(m.group(1)) < 500, f"a clean check took {m.group(1)} ms")
    expect_eq(p.stderr, "", "no report")


@test
def verify_none_reports_a_leaked_thread_with_its_function_and_creator():
    p = api("leak")
    expect(p.stdout.startswith("rc=1 "), p.stdout)
    expect("threadleak: 1 leaked thread in 1 group on request" in p.stderr, p.stderr)
    expect(re.search(r"blocked at:\n(.*\n)?\s+#\d\s+wait_alpha\s", p.stderr), p.stderr)
    expect(re.search(rf"created by tid \d+ at:\n(\s+#0\s+{INTERCEPTOR}\s.*\n)?\s+#\d\s+spawn\s.*\n"
                     r"\s+#\d\s+make_alpha\s", p.stderr), p.stderr)


@test
def verify_none_works_the_same_when_also_preloaded():
    # one copy of the library: the preloaded object's soname satisfies the executable's NEEDED
    p = run("api", "leak", options="at_exit=0")
    expect_eq(p.returncode, 0, p.stderr)
    expect(p.stdout.startswith("rc=1 "), p.stdout)
    expect_eq(p.stderr.count("threadleak: 1 leaked thread in 1 group on request"), 1, p.stderr)
    expect(re.search(r"#\d\s+make_alpha\s", p.stderr), p.stderr)
    clean = run("api", "clean", options="at_exit=0")
    expect(clean.stdout.startswith("rc=0 "), clean.stdout)


@test
def a_thread_ending_within_the_timeout_is_not_a_leak():
    expect_eq(api("late").stdout, "rc=0\n", "a thread that ends 200 ms later")


@test
def a_baseline_hides_the_threads_that_were_there_before():
    p = api("baseline")
    expect_eq(p.stdout, "with baseline rc=0\none more rc=1\nwithout baseline rc=3\n", "results")


@test
def each_suppression_kind_hides_exactly_what_it_names():
    p = api("suppress")
    expect_eq(p.stdout, "none rc=3\nblocked rc=2\ncreated rc=2\nname rc=2\nall rc=0\n", "results")
    reports = p.stderr.split("threadleak: ")[1:]
    names = [sorted(re.findall(r'"(alpha|beta|gamma)"', r)) for r in reports]
    expect_eq(names, [["alpha", "beta", "gamma"], ["beta", "gamma"], ["alpha", "gamma"],
                      ["alpha", "beta"]], "who each report names")


@test
def a_malformed_suppression_is_reported_with_its_line():
    p = api("malformed")
    expect_eq(p.stdout, "rc=1\n", "the good rule still applies")
    expect(re.search(r"^threadleak: threadleak_opts.suppressions:2: 'bogus rule' is not", p.stderr, re.M),
           p.stderr)
    expect(re.search(r"^threadleak: threadleak_opts.suppressions:3: 'blocked:' is not", p.stderr, re.M),
           p.stderr)


@test
def suppressions_file_applies_at_exit():
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "rules")
        with open(rules, "w") as f:
            f.write("# the pool is known\nblocked:wait_for*\n")
        rep, _ = report("alive", "2", options=f"suppressions={rules}")
        expect_eq((rep["groups"], rep["threads_leaked"]), ([], 0), "suppressed")
        p = run("alive", "1", options=f"suppressions={d}/missing")
        expect(re.search(r"^threadleak: cannot read suppressions file .*/missing", p.stderr, re.M), p.stderr)
        expect("1 thread: cond_wait" in p.stderr, "nothing suppressed then")


@test
def two_threads_verifying_at_once_both_get_the_right_answer():
    expect_eq(api("concurrent").stdout, "a=1 b=1\n", "both see the one leaked thread, not each other")


@test
def verify_none_in_a_fork_child_sees_the_child_only():
    expect_eq(api("forked").stdout, "child clean=0 leaked=1\n", "child")


@test
def dump_writes_the_format_asked_to_the_file_given():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "dump.json")
        p = api("dump", path)
        expect_eq(p.stdout, "rc=0 bad format rc=-1\n", "results")
        expect("threadleak_opts.format: 'xml'" in p.stderr, p.stderr)
        with open(path) as f:
            rep = json.load(f)
    expect_eq(rep["trigger"], "api", "trigger")
    (g,) = rep["groups"]
    expect_eq((g["state"], functions(g["blocked_at"])[0]), ("cond_wait", "wait_alpha"), "group")


# ---- live dumps: a signal, and `threadleak dump` ----

class Live:
    """The live scenario, running until finish(): pid, and the report files it makes in dir."""

    def __init__(self, *args, options="", preload=True):
        self.dir = tempfile.mkdtemp()
        self.proc = subprocess.Popen([os.path.join(SCENARIOS, "live"), *args], cwd=self.dir,
                                     env=dict(preload_env(options, preload), TMPDIR=self.dir),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        expect(line.startswith("ready "), f"live did not start: {line!r}")
        self.pid = int(line.split()[1])

    def path(self, name):
        return os.path.join(self.dir, name)

    def signal(self, sig=signal_module.SIGUSR1):
        os.kill(self.pid, sig)

    def dump(self, *args, timeout=60):
        return subprocess.run([CLI, "dump", *args, str(self.pid)], capture_output=True, timeout=timeout)

    def wait_for_file(self, name, parse=json.loads):
        """The file once it holds a whole report (it is written after it is created)."""
        for _ in range(500):
            try:
                with open(self.path(name), "rb") as f:
                    return parse(f.read())
            except (OSError, ValueError, Failure):
                time.sleep(0.02)
        raise Failure(f"no whole report in {name}: {os.listdir(self.dir)}")

    def finish(self, line="go"):
        out, err = self.proc.communicate(line + "\n", timeout=120)
        return out, err, self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


def work_output(items):
    """What live prints after its work, computed here."""
    total = 0
    for i in range(1, items + 1):
        total = (total * 31 + i) % 2 ** 64
    return f"worked {items} items, sum {total}\n"


def helper_threads(pid):
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            names.append(f.read().strip())
    return [n for n in names if n.startswith("threadleak")]


def catches(pid, sig):
    with open(f"/proc/{pid}/status") as f:
        mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
    return bool(mask >> (sig - 1) & 1)


def expect_stuck_workers(rep, what):
    expect_eq(rep["trigger"], "signal", f"{what}: trigger")
    expect_eq((rep["threads_total"], rep["threads_leaked"]), (4, 3), f"{what}: threads (main and 3 stuck)")
    (g,) = rep["groups"]
    expect_eq((g["count"], g["state"], g["verdict"]), (3, "cond_wait", "blocked"), f"{what}: group")
    expect_eq(functions(g["blocked_at"])[0], "stuck_worker", f"{what}: blocked_at")
    expect_eq(user_frames(g["blocked_at"])[0]["line"], source_line("live.c", "stuck-site"), f"{what}: line")


@test
def signal_writes_a_report_file_and_the_program_finishes_its_work():
    with Live("work", options="format=json:at_exit=0:output=live.%p.%n.json") as live:
        expect_eq(helper_threads(live.pid), ["threadleak/2:10"], "the helper thread, named for its protocol and signal")
        expect(catches(live.pid, signal_module.SIGUSR1), "SIGUSR1 is caught")
        live.signal()
        rep = live.wait_for_file(f"live.{live.pid}.1.json")
        expect_stuck_workers(rep, "report on signal")
        mode = stat.S_IMODE(os.stat(live.path(f"live.{live.pid}.1.json")).st_mode)
        expect_eq(oct(mode), oct(0o600), "file mode")
        out, err, status = live.finish()
    expect_eq(out, work_output(20000), "the work after the dump")
    expect_eq(status, 3, "exit status")
    expect_eq(err, "", "stderr")


@test
def repeated_signals_give_whole_reports():
    with Live("work", options="format=json:at_exit=0:output=r.%n.json") as live:
        for _ in range(30):
            live.signal()
            time.sleep(0.002)
        time.sleep(0.5)
        live.signal()
        last = live.wait_for_file("r.1.json")
        time.sleep(0.5)
        names = sorted(os.listdir(live.dir), key=lambda n: int(n.split(".")[1]))
        expect(2 <= len(names) <= 31, f"one report per signal, or fewer when they overlap: {names}")
        expect_eq(names, [f"r.{i}.json" for i in range(1, len(names) + 1)], "numbered in order")
        for name in names:
            with open(live.path(name)) as f:
                expect_stuck_workers(json.load(f), name)
        out, err, status = live.finish()
    expect_eq((out, status), (work_output(20000), 3), "the work after the dumps")
    expect(last, "a report")


@test
def dump_prints_a_live_process_in_every_format():
    with Live("work", options="at_exit=0") as live:
        p = live.dump()
        expect_eq((p.returncode, p.stderr), (0, b""), "text dump")
        text = p.stdout.decode()
        expect(text.startswith(f"threadleak: 3 leaked threads in 1 group on signal (pid {live.pid}, 4 threads)\n"),
               text[:200])
        expect(re.search(r"^3 threads: cond_wait, blocked", text, re.M), text)
        expect(re.search(r"#0  stuck_worker  .*live\.c:\d+", text), text)

        full = live.dump("-f", "full").stdout.decode()
        blocks = re.findall(r'^thread (\d+) "live": cond_wait, blocked, for', full, re.M)
        expect_eq(len(blocks), 3, f"one block per thread: {full[:400]}")
        expect_eq(full.count(f"created by tid {live.pid} at:"), 3, "creator of each")

        rep = json.loads(live.dump("-f", "json").stdout)
        expect_stuck_workers(rep, "json dump")
        expect_eq(rep["pid"], live.pid, "pid")

        folded = live.dump("-f", "folded").stdout.decode()
        expect(re.fullmatch(r"cond_wait;(\S+;)*stuck_worker 3\n", folded), folded)

        prof = read_pprof(live.dump("-f", "pprof").stdout)
        (values, labels, stack), = prof["samples"]
        expect_eq((values, labels["state"], labels["verdict"]), ([3], "cond_wait", "blocked"), "pprof sample")
        expect_eq([f for f in stack if not re.fullmatch(INTERCEPTOR, f)][0], "stuck_worker", "pprof stack")

        expect_eq(os.listdir(live.dir), [], "files left behind (cwd and TMPDIR)")
        out, err, status = live.finish()
    expect_eq((out, status, err), (work_output(20000), 3, ""), "the work after the dumps")


@test
def pprof_dump_opens_in_go_tool_pprof():
    with Live("work") as live:
        path = live.path("threads.pb.gz")
        with open(path, "wb") as f:
            f.write(live.dump("-f", "pprof").stdout)
        env = dict(os.environ, HOME=live.dir, GOFLAGS="-mod=mod", PPROF_TMPDIR=live.dir)
        top = subprocess.run(["go", "tool", "pprof", "-symbolize=none", "-top", path],
                             capture_output=True, text=True, env=env, timeout=120)
        expect_eq(top.returncode, 0, f"go tool pprof -top: {top.stderr}")
        expect(re.search(r"Type: threads", top.stdout), top.stdout)
        expect(re.search(r"^\s*3\s+100%\s+100%\s+3\s+100%\s+stuck_worker$", top.stdout, re.M), top.stdout)
        traces = subprocess.run(["go", "tool", "pprof", "-symbolize=none", "-traces", path],
                                capture_output=True, text=True, env=env, timeout=120)
        expect_eq(traces.returncode, 0, f"go tool pprof -traces: {traces.stderr}")
        expect(re.search(r"^\s*state:\s+cond_wait$", traces.stdout, re.M), traces.stdout)
        expect(re.search(r"^\s+3\s+stuck_worker$", traces.stdout, re.M), traces.stdout)
        live.finish()


def expect_one_error(p, pattern, what):
    err = p.stderr.decode()
    expect_eq(p.returncode, 1, f"{what}: status ({err})")
    expect_eq(p.stdout, b"", f"{what}: stdout")
    expect(re.fullmatch(r"threadleak: [^\n]+\n", err), f"{what}: one line: {err!r}")
    expect(re.search(pattern, err), f"{what}: {err!r}")


@test
def dump_errors_are_one_line_and_status_1():
    gone = subprocess.Popen(["true"])
    gone.wait()
    p = subprocess.run([CLI, "dump", str(gone.pid)], capture_output=True)
    expect_one_error(p, rf"no process {gone.pid}$", "no such process")

    bare = subprocess.Popen(["sleep", "30"])
    try:
        p = subprocess.run([CLI, "dump", str(bare.pid)], capture_output=True)
        expect_one_error(p, r"does not have libthreadleak loaded", "library not loaded")
    finally:
        bare.kill()
        bare.wait()

    with Live("work") as live:
        if os.getuid() == 0:
            p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                CLI, "dump", str(live.pid)], capture_output=True)
        else:
            p = subprocess.run([CLI, "dump", "1"], capture_output=True)
        expect_one_error(p, r"no permission to signal process \d+", "no permission")

        live.signal(signal_module.SIGSTOP)
        p = live.dump("-t", "0.5")
        expect_one_error(p, rf"process {live.pid} did not answer within 0.5 s", "no answer in time")
        live.signal(signal_module.SIGCONT)
        out, _, status = live.finish()
        expect_eq((out, status), (work_output(20000), 3), "the program after a stop")

    p = subprocess.run([CLI, "dump", "-f", "xml", "1"], capture_output=True)
    expect_eq(p.returncode, 2, "a usage error")


@test
def a_symbolic_link_or_a_file_at_the_output_path_is_left_untouched():
    with Live("work", options="format=json:at_exit=0:output=out.%n.json") as live:
        target = live.path("precious")
        with open(target, "w") as f:
            f.write("precious\n")
        os.symlink(target, live.path("out.1.json"))
        with open(live.path("out.2.json"), "w") as f:
            f.write("mine\n")
        live.signal()
        time.sleep(0.5)
        live.signal()
        time.sleep(0.5)
        out, err, status = live.finish()
        expect(os.path.islink(live.path("out.1.json")), "the link is still a link")
        with open(target) as f:
            expect_eq(f.read(), "precious\n", "the link's target")
        with open(live.path("out.2.json")) as f:
            expect_eq(f.read(), "mine\n", "the existing file")
    for n in (1, 2):
        expect(re.search(rf"^threadleak: cannot create out\.{n}\.json \(File exists\); writing the report to stderr$",
                         err, re.M), err)
    expect_eq(err.count('"trigger": "signal"'), 2, f"both reports on stderr: {err[:300]}")
    expect_eq(status, 3, "exit status")


@test
def signal_none_installs_no_handler_and_no_thread():
    with Live("work", options="signal=none:at_exit=0") as live:
        expect_eq(helper_threads(live.pid), [], "helper threads")
        expect(not catches(live.pid, signal_module.SIGUSR1), "SIGUSR1 keeps its default action")
        p = live.dump()
        expect_one_error(p, r"loaded but answers no signal", "dump with signal=none")
        out, err, status = live.finish()
    expect_eq((out, err, status), (work_output(20000), "", 3), "the program")


@test
def a_single_threaded_program_gets_no_helper_thread_and_survives_the_signal():
    # glibc and libstdc++ take faster paths while a process has one thread: the helper waits for
    # the program's first thread. Until then the signal is answered with one line.
    with Live("single", options="format=json:at_exit=0:output=r.json") as live:
        expect_eq(helper_threads(live.pid), [], "helper threads")
        expect_eq(len(os.listdir(f"/proc/{live.pid}/task")), 1, "threads")
        expect(catches(live.pid, signal_module.SIGUSR1), "SIGUSR1 is caught")
        live.signal()
        time.sleep(0.2)
        p = live.dump()
        expect_one_error(p, r"has libthreadleak loaded but answers no signal \(signal=none, or it has "
                            r"not started a thread yet", "dump of a single-threaded process")
        out, err, status = live.finish()
        expect_eq(os.listdir(live.dir), [], "no report written")
    expect_eq((out, status), ("alone\n", 3), "the program")
    expect_eq(err, "threadleak: no thread but main yet, so no report\n", "stderr")


@test
def other_signals_can_be_chosen():
    for name, number in (("SIGUSR2", 12), ("SIGRTMIN+3", signal_module.SIGRTMIN + 3)):
        with Live("work", options=f"signal={name}:format=json:at_exit=0:output=r.json") as live:
            expect_eq(helper_threads(live.pid), [f"threadleak/2:{number}"], f"{name}: helper")
            expect(not catches(live.pid, signal_module.SIGUSR1), f"{name}: SIGUSR1 left alone")
            live.signal(number)
            expect_stuck_workers(live.wait_for_file("r.json"), name)
            expect_stuck_workers(json.loads(live.dump("-f", "json").stdout), f"{name}: dump")
            live.finish()


@test
def a_program_with_its_own_sigusr1_handler_keeps_it():
    with Live("own_handler", options="format=json:at_exit=0:output=r.%n.json") as live:
        for _ in range(3):
            live.signal()
            time.sleep(0.1)
        p = live.dump()
        expect_one_error(p, r"has taken threadleak's signal for itself", "dump of a program that took the signal")
        expect_eq(helper_threads(live.pid), ["threadleak/2:-"], "the helper says so")
        out, err, status = live.finish()
        expect_eq(os.listdir(live.dir), [], "no report written")
    expect_eq((out, status), ("handled 3\n", 3), "the program's handler saw every signal")
    expect_eq(err, "threadleak: the program takes signal 10 for itself; live dumps by signal are off "
                   "(choose another with THREADLEAK_OPTIONS=signal=SIGUSR2 or SIGRTMIN+N)\n", "stderr")


@test
def a_program_reading_sigusr1_from_a_signalfd_gets_it():
    with Live("signalfd", options="format=json:at_exit=0:output=r.%n.json") as live:
        time.sleep(0.1)
        live.signal()
        out, err, status = live.finish("1")
        expect_eq(os.listdir(live.dir), [], "no report written")
    expect_eq((out, status), ("read 1\n", 3), "the program read its signal")
    expect("takes signal 10 for itself" in err, err)


@test
def dumps_every_10_ms_change_nothing():
    items = 100000
    bare = subprocess.run([os.path.join(SCENARIOS, "live"), "work", str(items)], input="go\n",
                          capture_output=True, text=True, env=preload_env(preload=False), timeout=120)
    with Live("work", str(items), options="at_exit=0:output=r.%n.txt") as live:
        live.proc.stdin.write("go\n")
        live.proc.stdin.flush()
        sent = 0
        while live.proc.poll() is None and sent < 100:
            live.signal()
            sent += 1
            time.sleep(0.01)
        out, err, status = live.finish()
        reports = os.listdir(live.dir)
        for name in reports:
            with open(live.path(name)) as f:
                text = f.read()
            expect(text.startswith("threadleak: ") and "stuck_worker" in text, f"{name}: {text[:200]}")
    bare_out = bare.stdout.split("\n", 1)[1]  # after "ready PID"
    expect_eq((out, status), (bare_out, bare.returncode), f"output and status, after {sent} signals")
    expect_eq(err, "", "stderr")
    expect(reports, "reports were written")


@test
def a_module_loaded_between_reports_gets_its_names():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "dump.json")
        p = api("dlopen", os.path.join(SCENARIOS, "libearly_lib.so"), path)
        expect_eq(p.stdout, "rc=0\n", "result")
        with open(path) as f:
            rep = json.load(f)
    created = [functions(g["created_at"])[:1] for g in rep["groups"]]
    expect(["early_constructor"] in created, f"the new module's frames are named: {created}")


def build_example(d, name):
    """Installs threadleak under d and builds examples/testing/NAME against it; returns its build dir."""
    prefix, build = os.path.join(d, "prefix"), os.path.join(d, name)
    subprocess.run(["cmake", "--install", os.environ["TL_BUILD"], "--prefix", prefix], check=True,
                   capture_output=True)
    env = preload_env(preload=False)
    for step in [["cmake", "-S", os.path.join(SOURCE, "examples", "testing", name), "-B", build,
                  f"-DCMAKE_PREFIX_PATH={prefix}"], ["cmake", "--build", build]]:
        p = subprocess.run(step, env=env, capture_output=True, text=True)
        expect_eq(p.returncode, 0, f"{' '.join(step)}: {p.stdout}{p.stderr}")
    return build


def run_example(build, *cmd, at_exit=False):
    env = preload_env(preload=False)
    if not at_exit:  # the test executables check for themselves
        env["THREADLEAK_OPTIONS"] = "at_exit=0"
    if PRELOAD_FIRST:
        env["LD_PRELOAD"] = PRELOAD_FIRST
    return subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True, timeout=120)


def failing_example(name, *cmd, at_exit=False):
    """Builds examples/testing/NAME, runs cmd there; the suite must fail. Returns all it printed."""
    with tempfile.TemporaryDirectory() as d:
        p = run_example(build_example(d, name), *cmd, at_exit=at_exit)
    out = p.stdout + p.stderr
    expect(p.returncode != 0, f"the {name} suite fails:\n{out}")
    return out


def names_the_leak(text):
    expect(re.search(r"#\d+\s+pool_worker\s", text), f"the blocked-at function:\n{text}")
    expect(re.search(r"#\d+\s+pool_start\s.*\n\s+#\d+\s+test_leaky|ForgetsToStop", text),
           f"the creating function and the leaky test:\n{text}")


@test
def example_plain_c_test_fails_only_the_leaky_test():
    with tempfile.TemporaryDirectory() as d:
        p = run_example(build_example(d, "c"), "./test_pool")
    expect_eq((p.returncode, p.stdout), (1, "PASS test_clean\nFAIL test_leaky\n"), "results")
    names_the_leak(p.stderr)


@test
def example_cmocka_test_fails_only_the_leaky_test():
    out = failing_example("cmocka", "./test_pool")
    expect(re.search(r"\[\s+OK\s+\] test_clean", out), out)
    # cmocka calls a failed teardown an error of its test
    expect(re.search(r"\[\s+(FAILED|ERROR)\s+\] test_leaky", out), out)
    expect(not re.search(r"\[\s+(FAILED|ERROR)\s+\] test_clean", out), out)
    names_the_leak(out)


@test
def example_check_test_fails_only_the_leaky_test():
    out = failing_example("check", "./test_pool")
    expect("Checks: 2, Failures: 1, Errors: 0" in out, out)
    expect(re.search(r":F:threads:test_leaky:", out), out)
    names_the_leak(out)


@test
def example_gtest_listener_fails_only_the_leaky_test():
    out = failing_example("gtest", "./test_pool")
    expect("[       OK ] Pool.StopsItsWorkers" in out, out)
    expect("[  FAILED  ] Pool.ForgetsToStop" in out, out)
    expect("1 FAILED TEST" in out, out)
    names_the_leak(out)


@test
def example_ctest_suite_fails_only_the_leaky_test():
    out = failing_example("ctest", "ctest", "--output-on-failure", at_exit=True)
    expect(re.search(r"pool_clean \.+\s+Passed", out), out)
    expect(re.search(r"pool_leaky \.+\*+Failed", out), out)
    expect(re.search(r"#\d+\s+pool_start\s.*\n\s+#\d+\s+main\s", out), out)


@test
def installed_package_works_with_find_package_and_pkg_config():
    build = os.environ["TL_BUILD"]
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "prefix")
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                       capture_output=True)
        for path in ["lib/libthreadleak.so", "bin/threadleak", "include/threadleak.h",
                     "lib/pkgconfig/threadleak.pc", "lib/cmake/threadleak/threadleakConfig.cmake"]:
            expect(os.path.exists(os.path.join(prefix, path)), f"installed {path}")
        consumer = os.path.join(SOURCE, "tests", "consumer")
        env = preload_env(preload=False)
        env["PKG_CONFIG_PATH"] = f"{prefix}/lib/pkgconfig"
        run_env = dict(env)
        if PRELOAD_FIRST:  # an ASan-built library needs its runtime first, even when linked
            run_env["LD_PRELOAD"] = PRELOAD_FIRST
        steps = [["cmake", "-S", consumer, "-B", f"{d}/cm", f"-DCMAKE_PREFIX_PATH={prefix}",
                  "-DCMAKE_BUILD_TYPE=Debug"],
                 ["cmake", "--build", f"{d}/cm"]]
        for step in steps:
            p = subprocess.run(step, env=env, capture_output=True, text=True)
            expect_eq(p.returncode, 0, f"{' '.join(step)}: {p.stdout}{p.stderr}")
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "threadleak"], env=env,
                               capture_output=True, text=True, check=True).stdout.split()
        p = subprocess.run(["cc", os.path.join(consumer, "consumer.c"), "-o", f"{d}/pc", "-g", "-pthread",
                            *flags], env=env, capture_output=True, text=True)
        expect_eq(p.returncode, 0, f"build with pkg-config: {p.stderr}")
        # an installed tool finds the installed library
        p = subprocess.run([f"{prefix}/bin/threadleak", "run", "--", "sh", "-c", 'printf %s "$LD_PRELOAD"'],
                           env=run_env, capture_output=True, text=True)
        expect_eq(p.stdout.split(":")[-1], f"{os.path.realpath(prefix)}/lib/libthreadleak.so",
                  "run's preload")
        for exe in [f"{d}/cm/consumer", f"{d}/pc"]:
            p = subprocess.run([exe], env=run_env, capture_output=True, text=True, timeout=60)
            expect_eq(p.returncode, 0, f"{exe} status")
            expect("built against threadleak 0.2.0" in p.stdout, p.stdout)
            expect(re.search(r"#\d\s+installed_leak\s+\S*consumer\.c:\d+", p.stderr),
                   f"{exe} report:\n{p.stderr}")


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(TESTS))
        return
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        sys.exit(f"usage: {sys.argv[0]} --list | TEST_NAME")
    try:
        globals()[sys.argv[1]]()
    except Failure as e:
        print(f"FAIL {sys.argv[1]}: {e}")
        sys.exit(1)
    print(f"ok {sys.argv[1]}")


if __name__ == "__main__":
    main()
