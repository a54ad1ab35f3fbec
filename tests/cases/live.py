"""Live dumps: a signal, and `threadleak dump`."""
from harness import *  # noqa: F401,F403


# ---- live dumps: a signal, and `threadleak dump` ----

class Live(Running):
    """The live scenario, running until finish(): pid, and the report files it makes in dir."""

    def __init__(self, *args, options="", preload=True):
        super().__init__("live", *args, options=options, preload=preload,
                         env={"TMPDIR": "{dir}"})

    def signal(self, sig=signal_module.SIGUSR1):
        os.kill(self.pid, sig)

    def dump(self, *args, timeout=60):
        return run_program([CLI, "dump", *args, str(self.pid)], capture_output=True, timeout=timeout)


def work_output(items):
    """What live prints after its work, computed here."""
    total = 0
    for i in range(1, items + 1):
        total = (total * 31 + i) % 2 ** 64
    return f"worked {items} items, sum {total}\n"


def helper_threads(pid):
    return [n for n in thread_names(pid) if n.startswith("threadleak")]


def expect_caught(pid, sig, caught, what):
    """Whether the process catches sig, as /proc says."""
    if natively(what, HOST_SIGNALS):
        with open(f"/proc/{pid}/status") as f:
            mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
        expect_eq(bool(mask >> (sig - 1) & 1), caught, what)


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
        expect_caught(live.pid, signal_module.SIGUSR1, True, "SIGUSR1 is caught")
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
        # a live dump describes: the threads of a running program are not called leaked
        expect(text.startswith(f"threadleak: 3 threads waiting in 1 group, 0 proven stuck, on "
                               f"signal (pid {live.pid}, 4 threads)\n"), text[:200])
        expect("leaked" not in text, text[:400])
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
    p = run_program([CLI, "dump", str(gone.pid)], capture_output=True)
    expect_one_error(p, rf"no process {gone.pid}$", "no such process")

    bare = subprocess.Popen(["sleep", "30"])
    try:
        p = run_program([CLI, "dump", str(bare.pid)], capture_output=True)
        expect_one_error(p, r"does not have libthreadleak loaded", "library not loaded")
    finally:
        bare.kill()
        bare.wait()

    with Live("work") as live:
        if os.getuid() != 0:
            p = run_program([CLI, "dump", "1"], capture_output=True)
            expect_one_error(p, r"no permission to signal process \d+", "no permission")
        elif natively("no permission, as another user", "the emulator's own files are root's"):
            p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                *exec_argv([CLI, "dump", str(live.pid)])], capture_output=True,
                               timeout=seconds(60))
            expect_one_error(p, r"no permission to signal process \d+", "no permission")

        live.signal(signal_module.SIGSTOP)
        p = live.dump("-t", "0.5")
        expect_one_error(p, rf"process {live.pid} did not answer within 0.5 s", "no answer in time")
        live.signal(signal_module.SIGCONT)
        out, _, status = live.finish()
        expect_eq((out, status), (work_output(20000), 3), "the program after a stop")

    p = run_program([CLI, "dump", "-f", "xml", "1"], capture_output=True)
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
    # With fatal=0 too, nothing needs the helper thread; with fatal on (the default) it starts, for
    # crash reports, under a name `threadleak dump` does not take for a live-dump helper.
    for options, helpers in (("signal=none:fatal=0", []), ("signal=none", ["threadleak"])):
        with Live("work", options=options + ":at_exit=0") as live:
            expect_eq(helper_threads(live.pid), helpers, f"{options}: helper threads")
            expect_caught(live.pid, signal_module.SIGUSR1, False, "SIGUSR1 keeps its default action")
            p = live.dump()
            expect_one_error(p, r"loaded but answers no signal", f"dump with {options}")
            out, err, status = live.finish()
        expect_eq((out, err, status), (work_output(20000), "", 3), f"{options}: the program")


@test
def a_single_threaded_program_gets_no_helper_thread_and_survives_the_signal():
    # glibc and libstdc++ take faster paths while a process has one thread: the helper waits for
    # the program's first thread. Until then the signal is answered with one line.
    with Live("single", options="format=json:at_exit=0:output=r.json") as live:
        expect_eq(helper_threads(live.pid), [], "helper threads")
        if natively("the process's thread count", EMULATOR_THREADS):
            expect_eq(len(os.listdir(f"/proc/{live.pid}/task")), 1, "threads")
        expect_caught(live.pid, signal_module.SIGUSR1, True, "SIGUSR1 is caught")
        live.signal()
        time.sleep(0.2)
        p = live.dump()
        expect_one_error(p, r"has libthreadleak loaded but answers no signal \(signal=none, or it has "
                            r"not started a thread yet", "dump of a single-threaded process")
        out, err, status = live.finish()
        expect_eq(os.listdir(live.dir), [], "no report written")
    expect_eq((out, status), ("alone\n", 3), "the program")
    expect_eq(err, "threadleak: SIGUSR1: no thread but main yet, so no report\n", "stderr")


@test
def other_signals_can_be_chosen():
    for name, number in (("SIGUSR2", 12), ("SIGRTMIN+3", signal_module.SIGRTMIN + 3)):
        with Live("work", options=f"signal={name}:format=json:at_exit=0:output=r.json") as live:
            expect_eq(helper_threads(live.pid), [f"threadleak/2:{number}"], f"{name}: helper")
            expect_caught(live.pid, signal_module.SIGUSR1, False, f"{name}: SIGUSR1 left alone")
            if number < signal_module.SIGRTMIN or natively(f"{name} sent by the test", RT_SIGNALS):
                live.signal(number)
                expect_stuck_workers(live.wait_for_file("r.json"), name)
            expect_stuck_workers(json.loads(live.dump("-f", "json").stdout), f"{name}: dump")
            live.finish()


def moved_signal(pid):
    """The real-time signal the helper answers after the program took SIGUSR1."""
    (name,) = helper_threads(pid)
    m = re.fullmatch(r"threadleak/2:(\d+)", name)
    expect(m and signal_module.SIGRTMIN <= int(m.group(1)) <= signal_module.SIGRTMAX,
           f"the helper answers a real-time signal now: {name}")
    return int(m.group(1))


def expect_dump_works(live):
    if not natively("threadleak dump through the moved signal", HIGH_RT_SIGNALS):
        return
    p = live.dump("-f", "json")
    expect_eq(p.returncode, 0, f"threadleak dump: {p.stderr}")
    expect_stuck_workers(json.loads(p.stdout), "the dump")


@test
def a_program_with_its_own_sigusr1_handler_keeps_it_and_dumps_still_work():
    with Live("own_handler", options="format=json:at_exit=0:output=r.%n.json") as live:
        for _ in range(3):
            live.signal()
            time.sleep(0.1)
        moved_signal(live.pid)
        expect_dump_works(live)
        out, err, status = live.finish()
        expect_eq(os.listdir(live.dir), [], "no report written for the program's own signals")
    expect_eq((out, status), ("handled 3\n", 3), "the program's handler saw every signal")
    expect_eq(err, "", "not a word on the program's stderr")


@test
def a_program_reading_sigusr1_from_a_signalfd_gets_it_and_dumps_still_work():
    with Live("signalfd", options="format=json:at_exit=0:output=r.%n.json") as live:
        time.sleep(0.1)
        live.signal()
        time.sleep(0.1)
        moved_signal(live.pid)
        expect_dump_works(live)
        out, err, status = live.finish("1")
        expect_eq(os.listdir(live.dir), [], "no report written")
    expect_eq((out, status, err), ("read 1\n", 3, ""), "the program read its signal, silence")


@test
def a_signal_the_user_chose_says_where_dumps_went_when_the_program_takes_it():
    with Live("own_handler", options="signal=SIGUSR1:format=json:at_exit=0:output=r.%n.json") as live:
        live.signal()
        time.sleep(0.1)
        to = moved_signal(live.pid)
        out, err, status = live.finish()
    expect_eq(err, f"threadleak: the program takes SIGUSR1 for itself; live dumps answer "
                   f"SIGRTMIN+{to - signal_module.SIGRTMIN} instead\n", "one line, signals by name")


@test
def dumps_every_10_ms_change_nothing():
    items = 100000
    bare = run_program([os.path.join(SCENARIOS, "live"), "work", str(items)], input="go\n",
                       capture_output=True, text=True, env=preload_env(preload=False))
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
