"""The reports that matter most: on a crash, on termination, at a deadline, and while the program
leaves; and the program ends exactly as it would have without the library."""
import resource

from harness import *  # noqa: F401,F403

# The sanitizers' runtime takes SIGSEGV, SIGBUS and SIGFPE before main, and a handler installed
# before main is the program's: the library leaves it alone. These tests ask ASan to leave them at
# their default, bare and under the library alike, so that what they test is the library's.
SANITIZER_DEFAULTS = "handle_segv=0:handle_sigbus=0:handle_sigfpe=0"


def crash_env(options="", preload=True):
    env = preload_env(options, preload)
    if PRELOAD_FIRST:
        env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"), SANITIZER_DEFAULTS) if o)
    return env


def allow_cores():
    """In the child: core dumps as large as the system allows (the hard limit may say none)."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


class Outcome:
    """What a run of the crash scenario left: its raw wait status, output, reports and cores."""

    def __init__(self, status, out, err, reports, cores, seconds):
        self.status, self.out, self.err = status, out, err
        self.reports, self.cores, self.seconds = reports, cores, seconds

    def signal(self):
        return os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None

    def ending(self):
        """How the process ended: (signal or None, core dumped, exit status or None)."""
        if os.WIFSIGNALED(self.status):
            return (signal_module.Signals(os.WTERMSIG(self.status)).name, os.WCOREDUMP(self.status), None)
        return (None, False, os.WEXITSTATUS(self.status))

    def report(self, trigger):
        found = [r for r in self.reports if r["trigger"] == trigger]
        expect_eq(len(found), 1, f"one {trigger} report among {[r['trigger'] for r in self.reports]}; "
                                 f"stderr: {self.err}")
        return found[0]


def crash(mode, options="", preload=True, send=None, timeout=60, inspect=None):
    """Runs `crash MODE` in a new directory with cores allowed, json reports to files there. send:
    a function given the process once it has printed "ready PID"; inspect, one given the
    directory before it goes."""
    with tempfile.TemporaryDirectory() as d:
        env = crash_env(f"format=json:output={d}/r.%n.json" + (":" + options if options else ""), preload)
        with open(os.path.join(d, "out"), "w+") as out, open(os.path.join(d, "err"), "w+") as err:
            start = time.monotonic()
            p = start_program([os.path.join(SCENARIOS, "crash"), mode], cwd=d, env=env,
                                 stdout=out if not send else subprocess.PIPE, stderr=err,
                                 preexec_fn=allow_cores, text=True)
            if send:
                line = p.stdout.readline()
                expect(line.startswith("ready "), f"crash {mode} did not start: {line!r}")
                send(p)
            deadline = time.monotonic() + timeout
            while True:
                pid, status = os.waitpid(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    p.kill()
                    os.waitpid(p.pid, 0)
                    raise Failure(f"crash {mode} still runs after {timeout} s")
                time.sleep(0.01)
            seconds = time.monotonic() - start
            p.returncode = 0  # reaped above
            rest = p.stdout.read() if send else ""
            out.seek(0)
            err.seek(0)
            output, errors = (rest if send else out.read()), err.read()
        reports = []
        for name in sorted(os.listdir(d)):
            if name.startswith("r."):
                with open(os.path.join(d, name)) as f:
                    reports.append(json.load(f))
        cores = [n for n in os.listdir(d) if n.startswith("core")]
        if inspect:
            inspect(d, cores)
    return Outcome(status, output, errors, reports, cores, seconds)


def expect_as_bare(mode, outcome, signal):
    """The run under the library ended as the bare run did: the same signal, the same core flag,
    a core file in both or in neither."""
    bare = crash(mode, preload=False)
    expect_eq(bare.signal(), signal, f"bare crash {mode}: {bare.err}")
    expect_eq(outcome.ending(), bare.ending(), f"crash {mode}: how it ended, against the bare run")
    expect_eq(bool(outcome.cores), bool(bare.cores), f"crash {mode}: a core file, against the bare run")


def fatal_thread(rep):
    """The one thread that carries fatal_signal, and its group."""
    found = [(g, t) for g in rep["groups"] for t in g["threads"] if "fatal_signal" in t]
    expect_eq(len(found), 1, f"one thread with fatal_signal: {summary(rep)}")
    return found[0]


def expect_stuck_workers(rep):
    stuck = [g for g in rep["groups"] if g["state"] == "cond_wait"]
    expect_eq([(g["count"], g["verdict"]) for g in stuck], [(3, "blocked")], f"the stuck workers: {summary(rep)}")
    expect_eq(functions(stuck[0]["blocked_at"])[0], "stuck_worker", "where they wait")


def crashing_thread_in_core(d, cores):
    """The core, where the system writes one: its current thread is the one that faulted, at the
    faulting line, as without the library."""
    if not cores or not natively("the core's faulting thread",
                                 "the core is the emulator's, not the program's"):
        return
    p = subprocess.run(["gdb", "-batch", "-ex", "bt 1", os.path.join(SCENARIOS, "crash"), os.path.join(d, cores[0])],
                       capture_output=True, text=True, timeout=120)
    expect(re.search(rf"#0 .*crashing_worker .*crash\.c:{source_line('crash.c', 'segv-site')}", p.stdout),
           f"the core's faulting thread: {p.stdout}{p.stderr}")


@test
def segfault_in_a_worker_is_reported_then_kills_as_without_the_library():
    o = crash("segv", inspect=crashing_thread_in_core)
    rep = o.report("fatal")
    group, thread = fatal_thread(rep)
    expect_eq(thread["fatal_signal"], "SIGSEGV", "the signal")
    expect_eq(thread["fatal_cause"], "address 0x10 not mapped", "its cause")
    expect(thread["tid"] != rep["pid"], "a worker")
    expect_eq((group["count"], group["state"], group["verdict"]), (1, "running", "running"), "its group")
    frames = user_frames(group["blocked_at"])
    expect_eq((frames[0]["function"], frames[0].get("line")), ("crashing_worker", source_line("crash.c", "segv-site")),
              "the faulting line, from the signal frame")
    expect_eq(functions(group["created_at"])[:2], ["start", "main"], "who made it")
    expect_stuck_workers(rep)
    expect_eq((rep["threads_total"], rep["threads_leaked"]), (5, 3), "main, three stuck, the crashed one")
    expect_eq(len(o.reports), 1, "the fatal report only: no exit report")
    expect_as_bare("segv", o, signal_module.SIGSEGV)


@test
def abort_from_main_lists_main_with_its_stack():
    o = crash("abort")
    rep = o.report("fatal")
    group, thread = fatal_thread(rep)
    expect_eq((thread["tid"], thread["fatal_signal"]), (rep["pid"], "SIGABRT"), "main, with the signal")
    expect_eq(thread["fatal_cause"], "sent by the process itself", "abort raises it")
    names = functions(group["blocked_at"])
    expect("abort" in names and "main" in names, f"abort, called from main: {names}")
    main = user_frames(group["blocked_at"])[names.index("main")]
    expect_eq(main.get("line"), source_line("crash.c", "abort-site"), "main's line")
    expect_eq(group["created_at"], [], "main was created by no thread")
    expect_stuck_workers(rep)
    expect_as_bare("abort", o, signal_module.SIGABRT)


@test
def a_failed_assert_is_reported_with_its_message_kept():
    o = crash("assert")
    group, _ = fatal_thread(o.report("fatal"))
    names = functions(group["blocked_at"])
    expect(any(n.startswith("__assert_fail") for n in names) and "main" in names, f"the assert in main: {names}")
    expect(re.search(r"crash\.c:\d+: main: Assertion `workers == 0' failed", o.err), o.err)
    expect_as_bare("assert", o, signal_module.SIGABRT)


@test
def a_division_by_zero_is_reported():
    if ARCH == "aarch64":
        raise Skip("an aarch64 integer division by zero gives 0 and raises no SIGFPE")
    o = crash("fpe")
    group, thread = fatal_thread(o.report("fatal"))
    expect_eq(thread["fatal_signal"], "SIGFPE", "the signal")
    expect(thread["fatal_cause"].startswith("integer division by zero at 0x"), thread["fatal_cause"])
    expect_eq(user_frames(group["blocked_at"])[0].get("line"), source_line("crash.c", "fpe-site"), "the line")
    expect_as_bare("fpe", o, signal_module.SIGFPE)


@test
def a_stack_overflow_is_reported_from_the_alternate_stack():
    for mode in ("overflow", "overflow_main"):
        o = crash(mode)
        rep = o.report("fatal")
        group, thread = fatal_thread(rep)
        expect_eq(thread["fatal_signal"], "SIGSEGV", f"{mode}: the signal")
        expect(thread["fatal_cause"].endswith(": stack overflow"), f"{mode}: {thread['fatal_cause']}")
        expect_eq((thread["tid"] == rep["pid"]), mode == "overflow_main", f"{mode}: the thread")
        names = functions(group["blocked_at"])
        expect(len(names) >= 16 and set(names[:16]) == {"recurse"}, f"{mode}: the recursion: {names[:20]}")
        expect_as_bare(mode, o, signal_module.SIGSEGV)


@test
def a_program_that_never_started_a_thread_gets_one_line():
    o = crash("single")
    expect_eq(o.reports, [], "no report: there is no helper thread to write it")
    expect_eq(o.err, "threadleak: SIGSEGV in a process that has not started a thread: no report "
                     "(see `fatal` in threadleak's README)\n", "stderr")
    expect_as_bare("single", o, signal_module.SIGSEGV)


@test
def a_runtime_with_its_own_sigsegv_handler_keeps_it():
    # The JVM installs its SIGSEGV handler when it starts, saving the old action to chain to, and
    # faults on purpose (safepoint polls, null checks). It must see the default there, and every
    # fault must reach its handler; a constructor that does the same before main too.
    for mode in ("jvm", "jvm_early"):
        o = crash(mode)
        expect_eq((o.ending(), o.out), ((None, False, 0), "chained default, installed ours\nrecovered 3\n"),
                  f"{mode}: what the runtime saw")
        expect_eq([r["trigger"] for r in o.reports], ["exit"], f"{mode}: no fatal report")
    # A program that puts the default back gets the library's stand-in, and its report.
    o = crash("restore")
    expect_eq(fatal_thread(o.report("fatal"))[1]["fatal_signal"], "SIGSEGV", "restored default")
    expect_as_bare("restore", o, signal_module.SIGSEGV)


@test
def fatal_0_leaves_every_signal_alone():
    o = crash("segv", options="fatal=0")
    expect_eq(o.reports, [], "no report")
    expect_as_bare("segv", o, signal_module.SIGSEGV)


@test
def sigterm_with_terminate_is_reported_and_ends_as_without_the_library():
    def term(p):
        time.sleep(0.1)
        p.send_signal(signal_module.SIGTERM)
    o = crash("wait", options="terminate=1", send=term)
    expect_eq(o.ending(), ("SIGTERM", False, None), "killed by SIGTERM, as without the library")
    rep = o.report("terminate")
    group, thread = fatal_thread(rep)
    expect_eq((thread["tid"], thread["fatal_signal"]), (rep["pid"], "SIGTERM"), "main received it")
    expect(re.fullmatch(rf"sent by pid {os.getpid()}( \(.*\))?", thread["fatal_cause"]), thread["fatal_cause"])
    names = functions(group["blocked_at"])
    expect("pause" in names and "main" in names, f"where main was: {names}")
    expect_stuck_workers(rep)
    # Without terminate=1, SIGTERM is left alone.
    o = crash("wait", send=term)
    expect_eq((o.ending(), o.reports), (("SIGTERM", False, None), []), "terminate=0: no report")


@test
def a_deadlock_under_a_deadline_is_reported_and_exits_124():
    # Within 1.5 s on a machine with a core to spare; a busier one may delay any process, so the
    # time is asked of the best of three runs, and every run must end well before a hang would.
    times = []
    for _ in range(3):
        o = crash("deadlock", options="deadline=1s")
        expect_eq(o.ending(), (None, False, 124), f"exit status, as timeout(1) gives: {o.err}")
        expect(1.0 <= o.seconds < 10, f"ended {o.seconds:.2f} s after it started")
        times.append(o.seconds)
        if o.seconds < 1.5:
            break
    expect(min(times) < 1.5, f"ended {', '.join(f'{t:.2f}' for t in times)} s after it started")
    rep = o.report("deadline")
    cycle = [g for g in rep["groups"] if g["verdict"] == "deadlock"]
    expect_eq(sum(g["count"] for g in cycle), 2, f"both threads of the cycle: {summary(rep)}")
    for g in cycle:
        expect(re.fullmatch(r"wait-for cycle: tid \d+ -> tid \d+ -> tid \d+", g["evidence"]), g["evidence"])
        frames = user_frames(g["blocked_at"])
        expect_eq((frames[0]["function"], frames[0].get("line")),
                  ("lock_in_order", source_line("crash.c", "deadlock-site")), "where each waits")
    expect_eq(len(o.reports), 1, "no exit report after the deadline's")


@test
def a_deadline_ends_a_single_threaded_program_too():
    with tempfile.TemporaryDirectory() as d:
        start = time.monotonic()
        p = run_program([os.path.join(SCENARIOS, "crash"), "sleep"],
                        env=crash_env(f"deadline=500ms:format=json:output={d}/r.json"),
                        capture_output=True, text=True, timeout=60)
        seconds = time.monotonic() - start
        expect_eq(p.returncode, 124, f"status: {p.stderr}")
        expect(seconds < 10, f"ended after {seconds:.1f} s")
        with open(f"{d}/r.json") as f:
            rep = json.load(f)
    expect_eq((rep["trigger"], rep["threads_total"], rep["command"]), ("deadline", 1, [os.path.join(SCENARIOS, "crash"), "sleep"]), "report")


@test
def a_live_report_asked_just_before_main_returns_is_written():
    # The signal cuts main's sleep short (EINTR) and main returns at once: exit must not lose the
    # report that was asked for before it began.
    o = crash("sleep_return", send=lambda p: p.send_signal(signal_module.SIGUSR1))
    expect_eq(o.ending(), (None, False, 5), f"main's status: {o.err}")
    expect_eq([r["trigger"] for r in o.reports], ["signal", "exit"], "the live report, then the exit report")
    expect_stuck_workers(o.reports[0])


@test
def dump_during_exit_gets_a_report_or_a_clear_error_at_once():
    answers = []

    def dump(p):
        time.sleep(0.3)  # exit has begun: its handler sleeps 2 s
        start = time.monotonic()
        d = run_program([CLI, "dump", "-t", "20", str(p.pid)], capture_output=True, text=True, timeout=60)
        answers.append((d, time.monotonic() - start))
    o = crash("slow_exit", send=dump)
    expect_eq(o.ending(), (None, False, 6), f"the program's status: {o.err}")
    (d, seconds), = answers
    expect(seconds < 10, f"the tool answered after {seconds:.1f} s")
    if d.returncode == 0:
        expect(d.stdout.startswith("threadleak: "), d.stdout)
    else:
        expect_eq((d.returncode, d.stdout), (1, ""), f"an error: {d.stderr}")
        expect_eq(d.stderr, f"threadleak: process {o.reports[0]['pid']} exited before it answered\n", "the error")
