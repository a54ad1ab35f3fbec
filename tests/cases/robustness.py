"""The program is unchanged: fork, churn, concurrency, semantics, C++, the CLI."""
from harness import *  # noqa: F401,F403


# ---- robustness ----

def skip_unless_fork_safe_allocator():
    if PRELOAD_FIRST:
        raise Skip("GCC 12's AddressSanitizer does not lock its allocator around fork: a child of "
                   "threads that allocate hangs in its first malloc, with or without threadleak")


@test
def fork_child_holds_only_its_own_threads():
    skip_unless_fork_safe_allocator()
    skip_unless_emulator_runs("forking", why=FORK_THEN_THREAD)
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
def fork_racing_thread_creation_gives_every_child_its_own_report():
    # Two threads create threads without pause while main forks: a fork may copy a pthread_create
    # in flight, or a lock held by another thread. Every child must still report its own leaked
    # thread, at once, and only it.
    skip_unless_fork_safe_allocator()
    skip_unless_emulator_runs("forking", why=FORK_THEN_THREAD)
    rounds = 40
    with tempfile.TemporaryDirectory() as d:
        start = time.monotonic()
        p = run("forking", "race", str(rounds), options=f"format=json:output={d}/r.%p.json",
                timeout=120)
        took = time.monotonic() - start
        expect_eq((p.returncode, p.stdout), (0, f"children {rounds}\n"), f"stderr: {p.stderr}")
        reports = [json.load(open(os.path.join(d, f))) for f in os.listdir(d)]
    children = [r for r in reports
                if any("child_work" in functions(g["created_at"]) for g in r["groups"])]
    expect_eq(len(children), rounds, "a report from every child")
    for r in children:
        expect_eq([(g["count"], functions(g["created_at"])[0]) for g in r["groups"]],
                  [(1, "child_work")], f"child {r['pid']}: its own thread only")
    expect(took < seconds(60), f"{rounds} forks took {took:.1f} s: a child waited on something")


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
                   "mask inherited yes", "create rc=0 errno=kept", "setname too long rc=ERANGE errno=kept",
                   "sem_wait cancelled ended, count 1", "sem_wait with a count rc=0 errno=kept"]:
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
    skip_unless_exec_of_built_programs("threadleak run execs the program")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        env = preload_env(preload=False)
        earlier = "libm.so.6"
        env["LD_PRELOAD"] = ":".join(p for p in (PRELOAD_FIRST, earlier) if p)  # kept, and first
        env["THREADLEAK_OPTIONS"] = "format=text"
        p = run_program([CLI, "run", "-o", f"format=json:output={path}", "--",
                         os.path.join(SCENARIOS, "alive"), "2", "7"],
                        env=env, capture_output=True, text=True, timeout=60)
        expect_eq(p.returncode, 7, f"program's status; {p.stderr}")
        with open(path) as f:
            rep = json.load(f)
        expect_eq(rep["threads_leaked"], 2, "report through threadleak run")
        if not natively("the preload and options a program run gets", HOST_PROGRAM):
            return
        p = run_program([CLI, "run", "-o", "at_exit=0", "--", "sh", "-c",
                         'printf "%s|%s" "$LD_PRELOAD" "$THREADLEAK_OPTIONS"'],
                        env=env, capture_output=True, text=True, timeout=60)
    preload, options = p.stdout.split("|")
    expect_eq(preload.split(":")[:-1], env["LD_PRELOAD"].split(":"), "the earlier preload stays first")
    expect(preload.split(":")[-1].endswith("/lib/libthreadleak.so"), preload)
    expect_eq(options, "format=text:at_exit=0", "-o options follow the caller's")


@test
def run_command_explains_bad_usage():
    p = run_program([CLI, "run"], capture_output=True, text=True)
    expect_eq(p.returncode, 125, "usage status, as env(1) and timeout(1) give for their own errors")
    expect_eq(p.stderr, "threadleak run: no program given (see `threadleak help run`)\n", "usage error")
    p = run_program([CLI, "run", "--", "/nonexistent/program"], capture_output=True, text=True)
    expect_eq(p.returncode, 127, "status when the program cannot be run")
    expect("/nonexistent/program" in p.stderr, p.stderr)
    p = run_program([CLI, "--version"], capture_output=True, text=True)
    expect_eq(p.stdout.strip(), "threadleak 0.2.0", "--version")
