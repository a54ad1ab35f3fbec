"""Reports that read right on a healthy server: a live dump describes (no "leaked"), a thread
entering waits is never read as the kernel's bare `waiting`, known evidence is shown, and what a
process keeps open by design until exit is not reported as a leak in text."""
from harness import *  # noqa: F401,F403


def dump(pid, *args):
    p = run_program([CLI, "dump", *args, str(pid)], capture_output=True, text=True, timeout=60)
    expect_eq((p.returncode, p.stderr), (0, ""), f"threadleak dump {args}")
    return p.stdout


def server_dumps():
    """The server mode dumped once in json, then in text, and its pid."""
    with Running("healthy", "server", options="at_exit=0") as live:
        return json.loads(dump(live.pid, "-f", "json")), dump(live.pid), live.pid


def groups_blocked_in(rep, function):
    return [g for g in rep["groups"] if function in functions(g["blocked_at"])]


@test
def a_live_dump_says_threads_waiting_and_proven_stuck_not_leaked():
    rep, text, pid = server_dumps()
    m = re.match(r"threadleak: (\d+) threads waiting in (\d+) groups, 1 proven stuck, on signal "
                 rf"\(pid {pid}, \d+ threads\)\n", text)
    expect(m, f"header: {text[:300]!r}")
    expect("leaked" not in text, f"a live dump accuses no one: {text}")
    # the json keeps the contract's count: every thread in a group not running
    expect_eq(rep["threads_leaked"],
              sum(g["count"] for g in rep["groups"] if g["verdict"] != "running"), "threads_leaked")
    (orphan,) = [g for g in rep["groups"] if g["verdict"] == "orphaned"]
    expect_eq(orphan["state"], "mutex_lock", "the waiter on a mutex whose owner exited")


@test
def a_mutex_waiter_names_its_live_owner_and_what_it_does():
    rep, text, _ = server_dumps()
    (holder,) = groups_blocked_in(rep, "holder")
    owner = holder["threads"][0]["tid"]
    (waiter,) = [g for g in groups_blocked_in(rep, "lock_waiter") if g["verdict"] == "blocked"]
    expect_eq((waiter["state"], waiter.get("evidence")),
              ("mutex_lock", f"held by tid {owner}, sleep"), "the waiter's evidence")
    expect(f"  evidence: held by tid {owner}, sleep\n" in text, text)


@test
def a_group_whose_threads_differ_counts_their_objects_and_sums_up_their_evidence():
    rep, text, pid = server_dumps()
    (g,) = groups_blocked_in(rep, "cond_waiter")
    expect_eq((g["count"], g["object"]), (5, "(5 objects)"), "five conds, counted")
    expect_eq(g.get("evidence"), f"differs: 3 never signalled; 2 last signalled by tid {pid}",
              "the evidence of each part")
    expect(re.search(r"^5 threads: cond_wait, blocked, for .*, on 5 objects\n"
                     r"  evidence: differs: 3 never signalled; 2 last signalled by tid \d+\n",
                     text, re.M), text)
    expect("(several)" not in text, text)


def expect_tracked_waits(rep, what):
    """The busy workers: each in a recorded wait (with its stack) or running, never `waiting` in
    the kernel as if no wrapper had seen the wait. (Their dispatcher may be: it can sleep inside
    pthread_cond_broadcast, on the condition variable's internal lock, which is no wait of the
    contract's.)"""
    workers = [g for g in rep["groups"] if g["threads"][0]["name"] == "worker"]
    expect_eq(sum(g["count"] for g in workers), 48, f"{what}: the workers, {summary(rep)}")
    for g in workers:
        # under an emulator a worker may sit in the emulator's own futex, which /proc shows
        expect((g["state"] != "waiting" or not natively(f"{what}: no kernel wait", PROC_SYSCALL))
               and not g.get("untracked"),
               f"{what}: {g['count']} threads read as {g['state']} on {g['object']!r}, "
               f"untracked={g.get('untracked', False)}: {summary(rep)}")
        # a recorded wait has its stack; the emulator's own futex (allowed above) has none
        if g["state"] not in ("running", "waiting"):
            expect(g["blocked_at"], f"{what}: a {g['state']} group with no stack")


@test
def threads_entering_waits_during_a_report_are_never_read_as_untracked_waiting():
    with Running("healthy", "busy", "48", options="at_exit=0") as live:
        for i in range(12):
            rep = json.loads(dump(live.pid, "-f", "json"))
            expect_eq(rep["threads_total"], 50, "48 workers, the dispatcher and main")
            expect_tracked_waits(rep, f"dump {i}")


@test
def a_clean_exit_with_a_self_pipe_prints_nothing_and_the_json_still_lists_it():
    p = run("healthy", "selfpipe")
    expect_eq((p.returncode, p.stderr), (0, ""), "nothing printed at a clean exit")
    rep, _ = report("healthy", "selfpipe")
    expect_eq([(r["kind"], r["count"]) for r in rep["resources"]], [("pipe", 1)], "json resources")


@test
def resources_alone_open_the_text_report_with_what_they_are():
    p = run("healthy", "pipes")
    expect_eq(p.returncode, 0, p.stderr)
    expect(re.match(r"threadleak: 3 pipes never closed at exit \(pid \d+, 1 thread\)\n", p.stderr),
           p.stderr[:300])
    expect("0 leaked" not in p.stderr, p.stderr)
    site = source_line("healthy.c", "pipes-site")
    expect(re.search(r"^3 pipes never closed\n  created at:\n(.*\n)*?\s+#\d+\s+main\s+"
                     rf"\S*healthy\.c:{site}", p.stderr, re.M), p.stderr)
    expect(re.search(r"^1 more resource, from sites with one, or one for each thread .*"
                     r"format=json lists it$", p.stderr, re.M), p.stderr)
